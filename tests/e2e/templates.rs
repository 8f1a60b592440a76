//! Templates against the real thing: Debian's `default.tmpl` and
//! `email.tmpl` rendered by klaxon and by Alertmanager's own `amtool`
//! byte for byte, the corpus configs' templated fields, every file in
//! `templates/`, and template errors as config errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use klaxon::config::Config;
use klaxon::integrations::AlertStatus;
use klaxon::labels::LabelSet;
use klaxon::template::{self, AlertData, Data, Flavor, LAYOUTS, Templates};
use serde_json::json;

use crate::corpus;
use crate::harness::peer;

const DEBIAN_TEMPLATES: &str = "/usr/share/prometheus/alertmanager";

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    let mut l = LabelSet::new();
    for (k, v) in pairs {
        l.insert(*k, *v);
    }
    l
}

fn alert(
    status: AlertStatus,
    l: &[(&str, &str)],
    annotations: &[(&str, &str)],
    minute: u32,
) -> AlertData {
    AlertData {
        status,
        labels: labels(l),
        annotations: labels(annotations),
        starts_at: Utc.with_ymd_and_hms(2024, 3, 1, 10, minute, 7).unwrap()
            + chrono::Duration::microseconds(123_456),
        ends_at: (status == AlertStatus::Resolved)
            .then(|| Utc.with_ymd_and_hms(2024, 3, 1, 11, minute, 0).unwrap()),
        generator_url: format!("http://prometheus.example:9090/graph?g0.expr=up&m={minute}"),
        fingerprint: format!("{minute:016x}"),
    }
}

/// Common labels and annotations as Alertmanager computes them.
fn data(receiver: &str, group_by: &[&str], alerts: Vec<AlertData>) -> Data {
    let common = |get: fn(&AlertData) -> &LabelSet| {
        let first = get(&alerts[0]);
        let names: Vec<&str> = first
            .iter()
            .filter(|(k, v)| alerts.iter().all(|a| get(a).get(k) == Some(*v)))
            .map(|(k, _)| k)
            .collect();
        first.subset(names)
    };
    let common_labels = common(|a| &a.labels);
    let common_annotations = common(|a| &a.annotations);
    Data {
        receiver: receiver.into(),
        status: if alerts.iter().any(|a| a.status == AlertStatus::Firing) {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        },
        group_labels: common_labels.subset(group_by.iter().copied()),
        common_labels,
        common_annotations,
        alerts,
        external_url: "http://klaxon.example:9093".into(),
        group_key: "{}:{alertname=\"DiscordTest\"}".into(),
        notification_reason: "first notification",
        route_labels: Default::default(),
    }
}

/// Groups covering firing, resolved, mixed, odd characters, and group
/// labels equal to the common labels.
fn datasets() -> Vec<(&'static str, Data)> {
    use AlertStatus::{Firing, Resolved};
    fn db(n: &str) -> [(&str, &str); 3] {
        [
            ("alertname", "DiscordTest"),
            ("instance", n),
            ("severity", "critical"),
        ]
    }
    let notes = [
        ("summary", "Database down"),
        ("description", "db is not answering"),
    ];
    vec![
        (
            "firing",
            data(
                "discord",
                &["alertname"],
                vec![alert(Firing, &db("db1"), &notes, 1)],
            ),
        ),
        (
            "resolved",
            data(
                "discord",
                &["alertname"],
                vec![alert(Resolved, &db("db1"), &notes, 2)],
            ),
        ),
        (
            "mixed",
            data(
                "team x/ops",
                &["alertname"],
                vec![
                    alert(Firing, &db("db1"), &notes, 3),
                    alert(Resolved, &db("db2"), &[("summary", "Database down")], 4),
                    alert(Firing, &db("db3"), &[], 5),
                ],
            ),
        ),
        (
            "odd characters",
            data(
                "mail",
                &["alertname", "team"],
                vec![alert(
                    Firing,
                    &[
                        ("alertname", "Disk <Full> & \"quoted\""),
                        ("team", "ünïcødé"),
                        ("zone", "a'b"),
                    ],
                    &[
                        ("summary", "<script>alert(1)</script> 100% used"),
                        ("runbook", "http://wiki/x?a=1&b=2"),
                    ],
                    6,
                )],
            ),
        ),
        (
            "no group labels",
            data("x", &[], vec![alert(Firing, &db("db9"), &notes, 7)]),
        ),
    ]
}

/// Alertmanager's `template.Data` JSON, as `amtool --template.data` reads it.
fn am_json(d: &Data) -> serde_json::Value {
    let kv = |l: &LabelSet| {
        l.iter()
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
    };
    json!({
        "receiver": d.receiver,
        "status": d.status.as_str(),
        "alerts": d.alerts.iter().map(|a| json!({
            "status": a.status.as_str(),
            "labels": kv(&a.labels),
            "annotations": kv(&a.annotations),
            "startsAt": a.starts_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "endsAt": a.ends_at.map_or("0001-01-01T00:00:00Z".into(), |e| e.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            "generatorURL": a.generator_url,
            "fingerprint": a.fingerprint,
        })).collect::<Vec<_>>(),
        "groupLabels": kv(&d.group_labels),
        "commonLabels": kv(&d.common_labels),
        "commonAnnotations": kv(&d.common_annotations),
        "externalURL": d.external_url,
    })
}

/// Template texts run through both; each is rendered on its own line of
/// one big template so amtool starts once per dataset and flavor.
fn text_cases() -> Vec<String> {
    let mut cases: Vec<String> = [
        "__subject",
        "__alertmanagerURL",
        "__alertmanager",
        "__description",
        "discord.default.title",
        "discord.default.message",
        "slack.default.title",
        "slack.default.username",
        "slack.default.fallback",
        "slack.default.titlelink",
        "slack.default.text",
        "pagerduty.default.description",
        "pagerduty.default.client",
        "pagerduty.default.clientURL",
        "opsgenie.default.message",
        "opsgenie.default.description",
        "opsgenie.default.source",
        "wechat.default.message",
        "victorops.default.state_message",
        "victorops.default.entity_display_name",
        "pushover.default.title",
        "pushover.default.message",
        "pushover.default.url",
        "sns.default.subject",
        "sns.default.message",
        "telegram.default.message",
        "webex.default.message",
        "email.default.subject",
    ]
    .iter()
    .map(|name| format!("{{{{ template {name:?} . }}}}"))
    .collect();
    cases.extend(
        [
            r#"{{ template "__text_alert_list" .Alerts }}"#,
            r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#,
            r#"{{ template "__text_alert_list" .Alerts.Resolved }}"#,
            r#"{{ .Status | toUpper }} {{ .Receiver | toLower }} {{ .Receiver | title }} {{ .Receiver | urlquery }}"#,
            r#"{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }}|{{ .StartsAt.Format "Mon Jan _2 15:04:05.000 MST 2006" }}|{{ .StartsAt.Unix }}|{{ .EndsAt.IsZero }};{{ end }}"#,
            r#"{{ range .Alerts }}{{ .Labels }}{{ .Annotations }}{{ .Labels.SortedPairs.Names }}{{ .Annotations.Values }};{{ end }}"#,
            r#"{{ .CommonLabels.Remove .GroupLabels.Names }} {{ .GroupLabels.Names }} {{ .CommonAnnotations.SortedPairs.Values | join ", " }}"#,
            r#"{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }},{{ end }} {{ index .CommonLabels "nope" }}|{{ .CommonLabels.nope }}|"#,
            r#"{{ match "^Disk" .CommonLabels.alertname }} {{ reReplaceAll "[aeiou]" "_" .Receiver }} {{ stringSlice "a" "b" | join "+" }}"#,
            r#"{{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }} {{ printf "%q" .Status }} {{ if gt (len .Alerts) 1 }}many{{ else }}one{{ end }}"#,
            r#"{{ with .Alerts.Firing }}{{ (index . 0).Labels.alertname }}{{ end }}{{ range $i, $a := .Alerts }} {{ $i }}:{{ $a.Status }}{{ end }} {{ $.ExternalURL }}"#,
            r#"{{ safeHtml "<b>x</b>" }} {{ "a  b\tc" }}"#,
        ]
        .map(str::to_owned),
    );
    cases
}

fn html_cases() -> Vec<String> {
    [
        r#"{{ template "email.default.html" . }}"#,
        r#"<p>{{ .CommonAnnotations.summary }}</p><a href="{{ .ExternalURL }}/x?r={{ .Receiver }}">{{ .CommonLabels.alertname }}</a>{{ safeHtml "<i>ok</i>" }}"#,
        r#"<ul>{{ range .Alerts }}<li title="{{ .Labels.alertname }}">{{ .Annotations.summary }} {{ .StartsAt }}</li>{{ end }}</ul>"#,
    ]
    .map(str::to_owned)
    .to_vec()
}

const SEPARATOR: &str = "\n=====klaxon-case=====\n";

fn amtool_render(amtool: &Path, globs: &[PathBuf], text: &str, html: bool, data: &Path) -> String {
    let mut cmd = Command::new(amtool);
    cmd.args(["template", "render"]);
    for g in globs {
        cmd.arg(format!("--template.glob={}", g.display()));
    }
    cmd.arg(format!("--template.text={text}"))
        .arg(format!("--template.data={}", data.display()));
    if html {
        cmd.arg("--template.type=html");
    }
    let out = cmd.output().expect("run amtool");
    assert!(
        out.status.success(),
        "amtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 from amtool")
}

#[test]
fn debian_default_templates_render_byte_for_byte_like_alertmanager() {
    let Some(amtool) = peer("amtool") else { return };
    let dir = Path::new(DEBIAN_TEMPLATES);
    let files = [dir.join("default.tmpl"), dir.join("email.tmpl")];
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        let required = std::env::var("KLAXON_REQUIRE_PEERS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{} is required (KLAXON_REQUIRE_PEERS=1)",
            missing.display()
        );
        eprintln!(
            "SKIPPED: {} not installed (apt-get install prometheus-alertmanager)",
            missing.display()
        );
        return;
    }
    let globs: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let klaxon = Templates::load(&globs, Path::new("/")).expect("Debian's templates load");
    let tmp = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for (name, data) in datasets() {
        let data_file = tmp.path().join("data.json");
        std::fs::write(&data_file, am_json(&data).to_string()).unwrap();
        for (cases, flavor) in [(text_cases(), Flavor::Text), (html_cases(), Flavor::Html)] {
            let joined = cases.join(SEPARATOR);
            let want = amtool_render(&amtool, &files, &joined, flavor == Flavor::Html, &data_file);
            let want: Vec<&str> = want.split(SEPARATOR).collect();
            assert_eq!(
                want.len(),
                cases.len(),
                "{name}: separator inside a rendering"
            );
            for (case, want) in cases.iter().zip(want) {
                let got = klaxon
                    .render(case, flavor, &data)
                    .unwrap_or_else(|e| panic!("{name}: {case}: {e}"));
                if got != want {
                    panic!(
                        "{name} {flavor:?}: {case}\n--- amtool\n{want}\n--- klaxon\n{got}\n---\nfirst difference at byte {}",
                        got.bytes()
                            .zip(want.bytes())
                            .take_while(|(a, b)| a == b)
                            .count()
                    );
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 5 * 40, "{compared}");
}

#[test]
fn klaxon_default_titles_equal_alertmanagers_without_any_templates_file() {
    let Some(amtool) = peer("amtool") else { return };
    let default = Path::new(DEBIAN_TEMPLATES).join("default.tmpl");
    if !default.is_file() {
        eprintln!("SKIPPED: {} not installed", default.display());
        return;
    }
    let klaxon = Templates::builtin();
    let tmp = tempfile::tempdir().unwrap();
    for (name, data) in datasets() {
        let data_file = tmp.path().join("data.json");
        std::fs::write(&data_file, am_json(&data).to_string()).unwrap();
        let want = amtool_render(
            &amtool,
            std::slice::from_ref(&default),
            template::DISCORD_TITLE,
            false,
            &data_file,
        );
        for text in [template::DISCORD_TITLE, template::EMAIL_SUBJECT] {
            assert_eq!(
                klaxon.render(text, Flavor::Text, &data).unwrap(),
                want,
                "{name}: {text}"
            );
        }
    }
}

/// A sample group for rendering fields.
fn sample() -> Data {
    datasets().swap_remove(2).1
}

#[test]
fn every_file_in_templates_loads_and_renders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut hbs = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file == "README.md" {
            continue;
        }
        if path.is_dir() {
            // Alertmanager's default texts, one file per integration: each
            // loads as a user's `templates:` file too.
            for entry in std::fs::read_dir(&path).unwrap() {
                let tmpl = entry.unwrap().path();
                Templates::load(&[tmpl.display().to_string()], Path::new("/"))
                    .unwrap_or_else(|e| panic!("{}: {e}", tmpl.display()));
            }
            continue;
        }
        // Loading the file as a user's override of itself must work too.
        let t = Templates::load(&[path.display().to_string()], Path::new("/"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        if let Some(stem) = file.strip_suffix(".hbs") {
            assert!(
                LAYOUTS.iter().any(|(n, ..)| *n == stem),
                "{file} is not a layout"
            );
            let (_, embedded, _) = LAYOUTS.iter().find(|(n, ..)| *n == stem).unwrap();
            assert_eq!(
                *embedded,
                std::fs::read_to_string(&path).unwrap(),
                "{file} is embedded"
            );
            for (name, data) in datasets() {
                let out = t
                    .render_layout(stem, &data)
                    .unwrap_or_else(|e| panic!("{file} {name}: {e}"));
                assert!(!out.trim().is_empty(), "{file} {name}");
            }
            hbs += 1;
        } else {
            assert_eq!(file, "defaults.tmpl");
            let out = t
                .render(r#"{{ template "__subject" . }}"#, Flavor::Text, &sample())
                .unwrap();
            assert_eq!(out, "[FIRING:2] DiscordTest (critical)");
        }
    }
    assert_eq!(hbs, LAYOUTS.len());
}

#[test]
fn corpus_configs_templated_fields_render_for_sample_alerts() {
    let Some(dir) = corpus::corpus_dir() else {
        eprintln!("SKIPPED: the shared corpus is not here");
        return;
    };
    let (mut rendered, mut missing) = (0, 0);
    for path in corpus::files(&dir.join("supported")) {
        let file = corpus::name(&path);
        if file.starts_with("07-") || file.starts_with("29-") {
            continue; // genuinely invalid configs
        }
        let mut text = corpus::sed_placeholders(&std::fs::read_to_string(&path).unwrap());
        let tmp = tempfile::tempdir().unwrap();
        for (i, r) in corpus::file_refs(&text).iter().enumerate() {
            let secret = tmp.path().join(format!("secret{i}"));
            std::fs::write(&secret, "https://discord.com/api/webhooks/1/x").unwrap();
            text = text.replace(r.as_str(), &secret.to_string_lossy());
        }
        let config =
            Config::load_str(&text, &path, &corpus::env).unwrap_or_else(|e| panic!("{file}: {e}"));
        let templates = config.template_set();
        let data = sample();
        for (field, text, flavor) in config.templated_fields() {
            match templates.render(text, flavor, &data) {
                Ok(_) => rendered += 1,
                // The corpus does not hold the `templates:` files these
                // configs load from /etc: a `define`d name they call is
                // missing, and the default layout goes out instead.
                Err(e) if !config.templates.is_empty() && e.to_string().contains("template") => {
                    let default = if flavor == Flavor::Html {
                        template::EMAIL_HTML
                    } else {
                        template::DISCORD_MESSAGE
                    };
                    let out = templates.render_or_default(&field, text, default, flavor, &data);
                    assert!(!out.trim().is_empty(), "{file}: {field}: {e}");
                    missing += 1;
                }
                Err(e) => panic!("{file}: {field}: {e}"),
            }
        }
        for (text, flavor) in [
            (template::DISCORD_TITLE, Flavor::Text),
            (template::DISCORD_MESSAGE, Flavor::Text),
            (template::EMAIL_SUBJECT, Flavor::Text),
            (template::EMAIL_HTML, Flavor::Html),
            (template::EMAIL_TEXT, Flavor::Text),
        ] {
            templates
                .render(text, flavor, &data)
                .unwrap_or_else(|e| panic!("{file}: default {text}: {e}"));
        }
    }
    eprintln!(
        "corpus: {rendered} templated fields rendered, {missing} call templates from files not in the corpus"
    );
    assert!(
        rendered >= 10,
        "only {rendered} templated fields in the corpus"
    );
}

const CONFIG: &str = r#"
route:
  receiver: team
receivers:
- name: team
  discord_configs:
  - webhook_url: https://discord.com/api/webhooks/1/x
    title: '{{ template "discord.default.title" . }}'
    message: |
      {{ range .Alerts }}
      {{ .Labels.alertname }}
      {{ end }
  email_configs:
  - to: a@example.com
    from: b@example.com
    smarthost: smtp.example.com:587
    headers:
      Subject: '{{ .Status | shout }}'
"#;

#[test]
fn a_template_syntax_error_in_a_field_is_a_config_error_with_field_and_line() {
    let path = Path::new("/etc/klaxon/alertmanager.yml");
    let err = Config::load_str(CONFIG, path, &|_| None).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].discord_configs[0].message")
    );
    // The template's third line, inside the block scalar.
    assert_eq!(err.line, Some(12), "{err}");
    assert!(err.message.contains("line 3 of the template"), "{err}");
    assert!(
        err.to_string()
            .starts_with("/etc/klaxon/alertmanager.yml:12:"),
        "{err}"
    );

    let fixed = CONFIG.replace("{{ end }\n", "{{ end }}\n");
    let err = Config::load_str(&fixed, path, &|_| None).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].email_configs[0].headers.Subject")
    );
    assert_eq!(err.line, Some(18), "{err}");
    assert!(
        err.message.contains("function \"shout\" not defined"),
        "{err}"
    );

    let good = fixed.replace("shout", "toUpper");
    let config = Config::load_str(&good, path, &|_| None).unwrap();
    let out = config
        .template_set()
        .render("{{ .Status | toUpper }}", Flavor::Text, &sample())
        .unwrap();
    assert_eq!(out, "FIRING");
}

#[test]
fn a_template_syntax_error_in_a_templates_file_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tmpl")).unwrap();
    let bad = dir.path().join("tmpl/bad.tmpl");
    std::fs::write(&bad, "{{ define \"x\" }}\nfine\n{{ if .Status }}\n").unwrap();
    let config_path = dir.path().join("alertmanager.yml");
    let text = "route:\n  receiver: r\nreceivers:\n- name: r\ntemplates:\n- tmpl/*.tmpl\n";
    let err = Config::load_str(text, &config_path, &|_| None).unwrap_err();
    assert_eq!(
        err.file, bad,
        "relative globs resolve from the config's directory: {err}"
    );
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("bad.tmpl:3:"), "{err}");

    std::fs::write(&bad, "{{ define \"x\" }}{{ .Status | toUpper }}{{ end }}").unwrap();
    let config = Config::load_str(text, &config_path, &|_| None).unwrap();
    let out = config
        .template_set()
        .render(r#"{{ template "x" . }}"#, Flavor::Text, &sample())
        .unwrap();
    assert_eq!(out, "FIRING");
}

/// Every integration default that Alertmanager 0.25 and 0.28.1 define
/// (`slack.default.*`, `pagerduty.default.*`, `msteams.default.*`, …)
/// renders in klaxon, with no templates file, exactly as that
/// Alertmanager's own `default.tmpl` renders it through its amtool.
/// Discord and email are left out: klaxon's own layouts are their default.
#[test]
fn builtin_integration_defaults_render_like_each_alertmanagers_default_tmpl() {
    let mut references = Vec::new();
    if let Some(amtool) = peer("amtool") {
        references.push((amtool, Path::new(DEBIAN_TEMPLATES).join("default.tmpl")));
    }
    if let Some(am028) = crate::harness::alertmanager_028() {
        let root = am028.parent().unwrap().parent().unwrap().to_path_buf();
        references.push((
            am028.with_file_name("amtool"),
            root.join("share/prometheus/alertmanager/default.tmpl"),
        ));
    }
    let define = regex::Regex::new(r#"define "([a-z0-9]+\.default\.[A-Za-z_]+)""#).unwrap();
    let klaxon = Templates::builtin();
    let tmp = tempfile::tempdir().unwrap();
    for (amtool, default) in references {
        let text = std::fs::read_to_string(&default).unwrap();
        let names: Vec<String> = define
            .captures_iter(&text)
            .map(|c| c[1].to_owned())
            .filter(|n| !n.starts_with("discord.") && !n.starts_with("email."))
            .collect();
        assert!(names.len() >= 30, "{}: {names:?}", default.display());
        let cases: Vec<String> = names
            .iter()
            .map(|n| {
                // PagerDuty's instance list takes alerts, not the group.
                let dot = if n.ends_with(".instances") {
                    ".Alerts"
                } else {
                    "."
                };
                format!("{{{{ template {n:?} {dot} }}}}")
            })
            .collect();
        let joined = cases.join(SEPARATOR);
        for (dataset, data) in datasets() {
            let data_file = tmp.path().join("data.json");
            std::fs::write(&data_file, am_json(&data).to_string()).unwrap();
            let want = amtool_render(
                &amtool,
                std::slice::from_ref(&default),
                &joined,
                false,
                &data_file,
            );
            let want: Vec<&str> = want.split(SEPARATOR).collect();
            assert_eq!(want.len(), cases.len());
            for (case, want) in cases.iter().zip(want) {
                let got = klaxon
                    .render(case, Flavor::Text, &data)
                    .unwrap_or_else(|e| panic!("{dataset}: {case}: {e}"));
                assert_eq!(got, want, "{}: {dataset}: {case}", amtool.display());
            }
        }
    }
}

/// `templates: [klaxon:alertmanager-defaults]` gives Discord and email
/// subjects Alertmanager's own default texts instead of klaxon's layouts,
/// the same as Alertmanager's `default.tmpl` renders them.
#[test]
fn the_alertmanager_defaults_entry_brings_back_alertmanagers_discord_and_email_texts() {
    let Some(amtool) = peer("amtool") else { return };
    let default = Path::new(DEBIAN_TEMPLATES).join("default.tmpl");
    if !default.is_file() {
        eprintln!("SKIPPED: {} not installed", default.display());
        return;
    }
    let klaxon = Templates::load(
        &[template::ALERTMANAGER_DEFAULTS_ENTRY.to_owned()],
        Path::new("/nonexistent"),
    )
    .unwrap();
    let builtin = Templates::builtin();
    let tmp = tempfile::tempdir().unwrap();
    for (name, data) in datasets() {
        let data_file = tmp.path().join("data.json");
        std::fs::write(&data_file, am_json(&data).to_string()).unwrap();
        for case in [
            r#"{{ template "discord.default.title" . }}"#,
            r#"{{ template "discord.default.message" . }}"#,
            r#"{{ template "email.default.subject" . }}"#,
        ] {
            let files = [
                default.clone(),
                Path::new(DEBIAN_TEMPLATES).join("email.tmpl"),
            ];
            let want = amtool_render(&amtool, &files, case, false, &data_file);
            assert_eq!(
                klaxon.render(case, Flavor::Text, &data).unwrap(),
                want,
                "{name}: {case}"
            );
        }
        // Without the entry, Discord's message is klaxon's layout.
        let layout = builtin
            .render(
                r#"{{ template "discord.default.message" . }}"#,
                Flavor::Text,
                &data,
            )
            .unwrap();
        let am = klaxon
            .render(
                r#"{{ template "discord.default.message" . }}"#,
                Flavor::Text,
                &data,
            )
            .unwrap();
        assert_ne!(layout, am, "{name}");
    }
}
