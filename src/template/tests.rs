//! Unit tests of both engines: every function and method, the defaults,
//! the layouts, errors and fallbacks.

use chrono::{TimeZone, Utc};

use super::*;
use crate::labels::LabelSet;
use crate::notification::AlertStatus;

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    let mut l = LabelSet::new();
    for (k, v) in pairs {
        l.insert(*k, *v);
    }
    l
}

fn alert(name: &str, instance: &str, status: AlertStatus) -> AlertData {
    let starts =
        Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(123);
    AlertData {
        status,
        labels: labels(&[
            ("alertname", name),
            ("instance", instance),
            ("severity", "critical"),
        ]),
        annotations: labels(&[
            ("summary", "Database down"),
            ("description", "<b>db</b> & co"),
        ]),
        starts_at: starts,
        ends_at: (status == AlertStatus::Resolved)
            .then(|| Utc.with_ymd_and_hms(2024, 3, 1, 11, 0, 0).unwrap()),
        generator_url: "http://prometheus.example:9090/graph?g0.expr=up".into(),
        fingerprint: "308a0a6e5bc19c4a".into(),
    }
}

/// A group by `alertname` with one alert per status given.
pub(super) fn group(statuses: &[AlertStatus]) -> Data {
    let alerts: Vec<AlertData> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| alert("DiscordTest", &format!("db{}", i + 1), *s))
        .collect();
    let mut common = alerts[0].labels.clone();
    let mut common_annotations = alerts[0].annotations.clone();
    for a in &alerts[1..] {
        common = common.subset(
            a.labels
                .iter()
                .filter(|(k, v)| common.get(k) == Some(*v))
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
        );
        common_annotations = common_annotations.subset(
            a.annotations
                .iter()
                .filter(|(k, v)| common_annotations.get(k) == Some(*v))
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
        );
    }
    Data {
        receiver: "team x".into(),
        status: if statuses.contains(&AlertStatus::Firing) {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        },
        alerts,
        group_labels: labels(&[("alertname", "DiscordTest")]),
        common_labels: common,
        common_annotations,
        external_url: "http://klaxon.example:9093".into(),
        group_key: "{}:{alertname=\"DiscordTest\"}".into(),
        notification_reason: "first notification",
        route_labels: Default::default(),
    }
}

pub(super) fn firing() -> Data {
    group(&[AlertStatus::Firing])
}

fn render(text: &str) -> String {
    Templates::builtin()
        .render(text, Flavor::Text, &firing())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn every_function_renders_like_alertmanager() {
    let cases = [
        (r#"{{ "hello" | toUpper }}"#, "HELLO"),
        (r#"{{ "HeLLo" | toLower }}"#, "hello"),
        (
            r#"{{ "a-b c.d e_f g'h 1st x1y foo:bar hELLO" | title }}"#,
            "A-B C.d E_f G'h 1St X1y Foo:bar Hello",
        ),
        (r#"{{ "  x y \n" | trimSpace }}"#, "x y"),
        (r#"{{ stringSlice "a" "b" | join ", " }}"#, "a, b"),
        (r#"{{ stringSlice "a" "b" }}"#, "[a b]"),
        (
            r#"{{ match "^d" "db1" }} {{ match "^x" "db1" }}"#,
            "true false",
        ),
        (r#"{{ reReplaceAll "(a+)" "<$1>" "baaac" }}"#, "b<aaa>c"),
        (r#"{{ safeHtml "<b>" }}"#, "<b>"),
        (r#"{{ safeUrl "http://x/?a=b" }}"#, "http://x/?a=b"),
        (r#"{{ urlUnescape "a%20b+c%2F" }}"#, "a b c/"),
        (r#"{{ humanizeDuration 3723 }}"#, "1h 2m 3s"),
        (r#"{{ humanizeDuration "0.012" }}"#, "12ms"),
        (r#"{{ humanizeDuration "90s" }}"#, "1m 30s"),
        (
            r#"{{ range .Alerts }}{{ date "2006-01-02 15:04" .StartsAt }}{{ end }}"#,
            "2024-03-01 10:00",
        ),
        (
            r#"{{ range .Alerts }}{{ .StartsAt | tz "Europe/Paris" }}{{ end }}"#,
            "2024-03-01 11:00:00.123 +0100 CET",
        ),
        (
            r#"{{ range .Alerts }}{{ .StartsAt | tz "Asia/Tokyo" | date "15:04 MST" }}{{ end }}"#,
            "19:00 JST",
        ),
        (
            r#"{{ range .Alerts }}{{ gt (len (since .StartsAt | printf "%s")) 3 }}{{ end }}"#,
            "true",
        ),
        (
            r#"{{ .CommonLabels | toJson }}"#,
            r#"{"alertname":"DiscordTest","instance":"db1","severity":"critical"}"#,
        ),
        (
            r#"{{ .CommonAnnotations.description | toJson }}"#,
            r#""\u003cb\u003edb\u003c/b\u003e \u0026 co""#,
        ),
        (
            r#"{{ index .Alerts 0 | toJson }}"#,
            concat!(
                r#"{"status":"firing","labels":{"alertname":"DiscordTest","instance":"db1","severity":"critical"},"#,
                r#""annotations":{"description":"\u003cb\u003edb\u003c/b\u003e \u0026 co","summary":"Database down"},"#,
                r#""startsAt":"2024-03-01T10:00:00.123Z","endsAt":"0001-01-01T00:00:00Z","#,
                r#""generatorURL":"http://prometheus.example:9090/graph?g0.expr=up","fingerprint":"308a0a6e5bc19c4a"}"#
            ),
        ),
        (r#"{{ index .CommonLabels "missing" }}|"#, "|"),
        (r#"{{ index .CommonLabels "instance" }}"#, "db1"),
        (r#"{{ "a b" | urlquery }}"#, "a+b"),
        (r#"{{ printf "%s-%d" "x" 3 }}"#, "x-3"),
    ];
    for (text, want) in cases {
        assert_eq!(render(text), want, "{text}");
    }
}

#[test]
fn every_method_and_field_renders_like_alertmanager() {
    let cases = [
        (
            "{{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}|{{ .GroupKey }}",
            "team x|firing|http://klaxon.example:9093|{}:{alertname=\"DiscordTest\"}",
        ),
        ("{{ .GroupLabels }}", "map[alertname:DiscordTest]"),
        ("{{ .NotificationReason }}", "first notification"),
        (
            "{{ .CommonLabels.SortedPairs.Names }}",
            "[alertname instance severity]",
        ),
        (
            "{{ .CommonLabels.Names }} {{ .CommonLabels.Values }}",
            "[alertname instance severity] [DiscordTest db1 critical]",
        ),
        (
            "{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}",
            "alertname=DiscordTest;instance=db1;severity=critical;",
        ),
        (
            "{{ (.CommonLabels.Remove .GroupLabels.Names).Values }}",
            "[db1 critical]",
        ),
        (
            "{{ .CommonLabels.Remove (stringSlice \"instance\") }}",
            "map[alertname:DiscordTest severity:critical]",
        ),
        (
            "{{ .CommonLabels.missing }}|{{ .CommonAnnotations.summary }}",
            "|Database down",
        ),
        ("{{ len .Alerts.Firing }} {{ len .Alerts.Resolved }}", "1 0"),
        (
            "{{ range .Alerts }}{{ .Status }} {{ .Labels.alertname }} {{ .Annotations.summary }} {{ .GeneratorURL }} {{ .Fingerprint }}{{ end }}",
            "firing DiscordTest Database down http://prometheus.example:9090/graph?g0.expr=up 308a0a6e5bc19c4a",
        ),
        (
            "{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }}{{ end }}",
            "2024-03-01 10:00:00.123 +0000 UTC|0001-01-01 00:00:00 +0000 UTC",
        ),
        (
            "{{ range .Alerts }}{{ .StartsAt.Format \"Mon Jan _2 15:04:05.000 MST 2006\" }}{{ end }}",
            "Fri Mar  1 10:00:00.123 UTC 2024",
        ),
        (
            "{{ range .Alerts }}{{ .StartsAt.Unix }} {{ .StartsAt.UnixMilli }} {{ .EndsAt.IsZero }} {{ .StartsAt.IsZero }}{{ end }}",
            "1709287200 1709287200123 true false",
        ),
        (
            "{{ range .Alerts }}{{ .StartsAt.UTC.Year }} {{ .StartsAt.Month }} {{ .StartsAt.Day }} {{ .StartsAt.Hour }} {{ .StartsAt.Weekday }}{{ end }}",
            "2024 March 1 10 Friday",
        ),
        (
            "{{ range .Alerts }}{{ (.StartsAt.Add 3600000000000).Format \"15:04\" }} {{ .StartsAt.In \"America/New_York\" }}{{ end }}",
            "11:00 2024-03-01 05:00:00.123 -0500 EST",
        ),
        (
            "{{ range .Alerts }}{{ (.StartsAt.Add \"90m\").Sub .StartsAt }} {{ ((.StartsAt.Add \"90m\").Sub .StartsAt).Minutes }}{{ end }}",
            "1h30m0s 90",
        ),
        (
            "{{ range .Alerts }}{{ .StartsAt.Before .EndsAt }} {{ .StartsAt.After .EndsAt }} {{ .StartsAt.Equal .StartsAt }}{{ end }}",
            "false true true",
        ),
        (
            "{{ with index .Alerts 0 }}{{ .Labels.instance }}{{ end }}",
            "db1",
        ),
        (
            "{{ $a := index .Alerts 0 }}{{ $a.Labels.severity }} {{ $.Receiver }}",
            "critical team x",
        ),
        (
            "{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Labels.instance }}{{ end }}",
            "0:db1",
        ),
        ("{{ if eq .Status \"firing\" }}F{{ else }}R{{ end }}", "F"),
        (
            "{{ template \"__alertmanager\" . }} {{ template \"__alertmanagerURL\" . }}",
            "Alertmanager http://klaxon.example:9093/#/alerts?receiver=team+x",
        ),
        (
            "{{ define \"x\" }}<{{ .Status }}>{{ end }}{{ template \"x\" . }}",
            "<firing>",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(render(text), want, "{text}");
    }
}

#[test]
fn a_missing_field_of_a_go_struct_fails_to_render_as_in_alertmanager() {
    let t = Templates::builtin();
    let err = t
        .render("{{ .Labels }}", Flavor::Text, &firing())
        .unwrap_err();
    assert!(
        err.to_string().contains("can't evaluate field Labels"),
        "{err}"
    );
    let err = t
        .render("{{ .Alerts.Nope }}", Flavor::Text, &firing())
        .unwrap_err();
    assert!(err.to_string().contains("Nope"), "{err}");
}

#[test]
fn subject_and_titles_equal_alertmanagers() {
    let cases = [
        (
            vec![AlertStatus::Firing],
            "[FIRING:1] DiscordTest (db1 critical)",
        ),
        (
            vec![AlertStatus::Resolved],
            "[RESOLVED] DiscordTest (db1 critical)",
        ),
        (
            vec![
                AlertStatus::Firing,
                AlertStatus::Resolved,
                AlertStatus::Firing,
            ],
            "[FIRING:2] DiscordTest (critical)",
        ),
    ];
    let t = Templates::builtin();
    for (statuses, want) in cases {
        let data = group(&statuses);
        for text in [
            r#"{{ template "__subject" . }}"#,
            DISCORD_TITLE,
            EMAIL_SUBJECT,
        ] {
            assert_eq!(t.render(text, Flavor::Text, &data).unwrap(), want, "{text}");
        }
        assert_eq!(t.render_layout("discord.title", &data).unwrap(), want);
        assert_eq!(t.render_defined("__subject", &data).unwrap(), want);
    }
    // No common labels beyond the group's: AM leaves a trailing space.
    let mut data = firing();
    data.common_labels = data.group_labels.clone();
    assert_eq!(
        t.render(DISCORD_TITLE, Flavor::Text, &data).unwrap(),
        "[FIRING:1] DiscordTest "
    );
}

#[test]
fn text_alert_list_matches_alertmanagers_layout() {
    let out = render(r#"{{ template "__text_alert_list" .Alerts.Firing }}"#);
    assert_eq!(
        out,
        "Labels:\n - alertname = DiscordTest\n - instance = db1\n - severity = critical\n\
         Annotations:\n - description = <b>db</b> & co\n - summary = Database down\n\
         Source: http://prometheus.example:9090/graph?g0.expr=up\n"
    );
}

#[test]
fn every_default_layout_renders_for_firing_resolved_and_mixed_groups() {
    let t = Templates::builtin();
    let groups = [
        ("firing", group(&[AlertStatus::Firing])),
        ("resolved", group(&[AlertStatus::Resolved])),
        (
            "mixed",
            group(&[AlertStatus::Firing, AlertStatus::Resolved]),
        ),
    ];
    for (kind, data) in &groups {
        for (name, _, _) in LAYOUTS {
            let out = t
                .render_layout(name, data)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!out.trim().is_empty(), "{name} {kind}");
            assert!(!out.contains("{{"), "{name} {kind}: {out}");
        }
        let message = t.render(DISCORD_MESSAGE, Flavor::Text, data).unwrap();
        let html = t.render(EMAIL_HTML, Flavor::Html, data).unwrap();
        let text = t.render(EMAIL_TEXT, Flavor::Text, data).unwrap();
        let firing = data.alerts_with(AlertStatus::Firing).count();
        let resolved = data.alerts_with(AlertStatus::Resolved).count();
        assert_eq!(
            message.contains("Firing: "),
            firing > 0,
            "{kind}: {message}"
        );
        assert_eq!(
            message.contains("Resolved: "),
            resolved > 0,
            "{kind}: {message}"
        );
        assert_eq!(text.contains("FIRING ("), firing > 0, "{kind}: {text}");
        assert!(message.contains("`instance=db1`"), "{message}");
        assert!(text.contains("    instance = db1"), "{text}");
        // The layout's own escaping, not Go's on top of it.
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("&lt;b&gt;db&lt;/b&gt; &amp; co"), "{html}");
        assert!(!html.contains("&amp;lt;"), "{html}");
        assert!(
            html.contains(&format!(">{}</td>", data_subject(&t, data))),
            "{html}"
        );
        assert!(
            !html.contains("<link") && !html.contains("<img"),
            "no external assets"
        );
    }
}

fn data_subject(t: &Templates, data: &Data) -> String {
    t.render(EMAIL_SUBJECT, Flavor::Text, data).unwrap()
}

#[test]
fn html_flavor_escapes_like_html_template() {
    let t = Templates::builtin();
    let data = firing();
    let out = t
        .render(
            r#"<p>{{ .CommonAnnotations.description }}</p>{{ safeHtml "<i>ok</i>" }}<a href="{{ .ExternalURL }}/x?a={{ .Receiver }}">"#,
            Flavor::Html,
            &data,
        )
        .unwrap();
    assert_eq!(
        out,
        r#"<p>&lt;b&gt;db&lt;/b&gt; &amp; co</p><i>ok</i><a href="http://klaxon.example:9093/x?a=team%20x">"#
    );
    let text = t
        .render("{{ .CommonAnnotations.description }}", Flavor::Text, &data)
        .unwrap();
    assert_eq!(text, "<b>db</b> & co");
}

/// Alertmanager 0.32–0.33's `list`, `append`, `dict`, URL-safe base64 and
/// `now`, with the outputs Go's text/template gives for the same calls.
#[test]
fn newer_functions_render_like_alertmanager_0_34() {
    let cases = [
        (
            r#"{{ range append (list "a" "b") "c" }}{{ . }}{{ end }}"#,
            "abc",
        ),
        (r#"{{ list }}|{{ len (list 1 2) }}"#, "[]|2"),
        (
            r#"{{ $d := dict "k" "v" "n" "1" }}{{ $d.k }}-{{ index $d "n" }}"#,
            "v-1",
        ),
        (
            r#"{{ dict "b" "2" "a" "1" | toJson }}"#,
            r#"{"a":"1","b":"2"}"#,
        ),
        (r#"{{ base64encode "a?b>" }}"#, "YT9iPg=="),
        (r#"{{ base64decode "YT9iPg==" }}"#, "a?b>"),
        (r#"{{ if lt (since now).Seconds 5.0 }}{{ end }}ok"#, "ok"),
        (
            r#"{{ toDate "2006-01-02" "2024-03-05" }}"#,
            "2024-03-05 00:00:00 +0000 UTC",
        ),
        (
            r#"{{ (toDate "2006-01-02" "2024-03-05").Unix }}"#,
            "1709596800",
        ),
        (
            r#"{{ toDate "2006-01-02" "nope" }}"#,
            "0001-01-01 00:00:00 +0000 UTC",
        ),
        (
            r#"{{ mustToDate "2006-01-02T15:04:05Z07:00" "2024-03-05T10:00:00+01:00" | date "15:04 MST" }}"#,
            "10:00 +0100",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(render(text), want, "{text}");
    }
}

#[test]
fn newer_functions_fail_as_alertmanagers_do() {
    let t = Templates::builtin();
    for (text, want) in [
        (
            r#"{{ dict "a" }}"#,
            "dict requires an even number of arguments",
        ),
        (r#"{{ dict 1 "a" }}"#, "dict keys must be strings"),
        (r#"{{ base64decode "%%%" }}"#, "base64decode"),
        (r#"{{ append "x" "y" }}"#, "append"),
        (
            r#"{{ mustToDate "2006-01-02" "nope" }}"#,
            r#"parsing time "nope" as "2006-01-02": cannot parse "nope" as "2006""#,
        ),
    ] {
        let err = t.render(text, Flavor::Text, &firing()).unwrap_err();
        assert!(err.to_string().contains(want), "{text}: {err}");
    }
}
