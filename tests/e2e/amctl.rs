//! amctl as users run it: the built binary as a subprocess against a
//! klaxon on loopback (and against Debian's Alertmanager, and beside real
//! amtool), checking its output and exit codes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use klaxon::config::Config;
use serde_json::{Value, json};

use crate::differential::Alertmanager;
use crate::harness::{PLAIN_CONFIG, TestServer, WebhookSink, free_port, peer, run_tool};

/// One finished amctl run.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    fn ok(&self, what: &str) -> &str {
        assert_eq!(self.code, Some(0), "{what}: {self:?}");
        &self.stdout
    }

    /// A failure with exit `code` and one stderr line containing `text`.
    fn fails(&self, code: i32, text: &str) {
        assert_eq!(self.code, Some(code), "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "one line: {self:?}");
        assert!(self.stderr.contains(text), "{text:?} not in {self:?}");
    }
}

/// Runs amctl with a private `$HOME` (no operator settings leak in), a
/// bounded wait and no `ALERTMANAGER_URL` from the test's environment.
async fn amctl_env(home: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let mut all_env = vec![("USER", "e2e-user")];
    all_env.extend(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let amctl = Path::new(env!("CARGO_BIN_EXE_amctl"));
    run_tool(amctl, args, home, &all_env, b"", Duration::from_secs(60))
        .await
        .into()
}

/// Runs amctl against `base`.
async fn amctl(home: &Path, base: &str, args: &[&str]) -> Run {
    let url = format!("--alertmanager.url={base}");
    let mut all = vec![url.as_str(), "--timeout=10s"];
    all.extend_from_slice(args);
    amctl_env(home, &all, &[]).await
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The user name of this process' uid (what Go's `user.Current()` and so
/// amtool take as the default author).
fn login_name() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id runs");
    assert!(out.status.success(), "id -un: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs real amtool (`program`) with a private `$HOME`, as `amctl_env`
/// runs amctl, so both read the same (absent) settings.
async fn amtool_env(program: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_tool(program, args, home, env, b"", Duration::from_secs(60))
        .await
        .into()
}

#[tokio::test]
async fn silence_commands_manage_silences_on_klaxon() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.as_str());

    // A bare first word is the alertname; the ID is all that is printed.
    let run = amctl(
        h,
        base,
        &["silence", "add", "HighLoad", "team=~a|b", "-c", "deploy"],
    )
    .await;
    let id = run.ok("silence add").trim().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{run:?}");
    let api = s.get_json("/api/v2/silences").await;
    // The passwd name of the uid, as amtool's, not amctl_env's $USER.
    assert_eq!(api[0]["createdBy"], login_name());
    assert_eq!(
        api[0]["matchers"],
        json!([
            {"name": "alertname", "value": "HighLoad", "isRegex": false, "isEqual": true},
            {"name": "team", "value": "a|b", "isRegex": true, "isEqual": true}
        ])
    );

    let table = amctl(h, base, &["silence"]).await;
    let table = table.ok("silence");
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("ID "), "{table}");
    assert!(
        header.contains("Matchers") && header.contains("Ends At"),
        "{table}"
    );
    let row = table.lines().nth(1).unwrap();
    assert!(row.starts_with(&id), "{table}");
    assert!(
        row.contains(r#"alertname="HighLoad" team=~"a|b""#),
        "{table}"
    );
    assert!(row.contains("(ends in 1h)"), "{table}");
    assert!(row.contains(" UTC "), "{table}");
    // Columns are aligned: every line's "Matchers" column starts at one place.
    let col = header.find("Matchers").unwrap();
    assert_eq!(&row[col..col + 9], "alertname", "{table}");

    let quiet = amctl(h, base, &["silence", "query", "-q"]).await;
    assert_eq!(quiet.ok("query -q").trim(), id);
    let listed = amctl(h, base, &["silence", "query", "-o", "json", "HighLoad"]).await;
    assert_eq!(
        json_of(listed.ok("query -o json")),
        api,
        "JSON is the API's, unchanged"
    );
    let none = amctl(h, base, &["silence", "query", "-q", "alertname=Other"]).await;
    assert_eq!(none.ok("filtered query"), "");
    let by = amctl(h, base, &["silence", "-q", "--created-by", "someone-else"]).await;
    assert_eq!(by.ok("created-by"), "");
    let within = amctl(h, base, &["silence", "-q", "--within", "30m"]).await;
    assert_eq!(within.ok("within"), "", "ends in 1h, not within 30m");

    let updated = amctl(
        h,
        base,
        &["silence", "update", &id, "-c", "longer", "-d", "3h"],
    )
    .await;
    assert_eq!(
        updated.ok("update").trim(),
        id,
        "active silence updated in place"
    );
    let sil = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(sil["comment"], "longer");

    // Export, expire, then import as new silences.
    let export = amctl(h, base, &["silence", "query", "-o", "json"]).await;
    let file = home.path().join("silences.json");
    std::fs::write(&file, export.ok("export")).unwrap();
    amctl(h, base, &["silence", "expire", &id])
        .await
        .ok("expire");
    let expired = amctl(h, base, &["silence", "query", "--expired", "-q"]).await;
    assert_eq!(expired.ok("expired").trim(), id);
    assert_eq!(amctl(h, base, &["silence", "-q"]).await.ok("active"), "");
    let file_arg = file.to_string_lossy().into_owned();
    let imported = amctl(h, base, &["silence", "import", "-f", "-c", "2", &file_arg]).await;
    let new_id = imported.ok("import -f").trim().to_owned();
    assert_ne!(new_id, id);
    let active = s
        .get_json("/api/v2/silences?active=true&expired=false")
        .await;
    assert_eq!(ids(&active), [new_id.as_str()]);
    assert_eq!(active[0]["comment"], "longer");

    // Unknown IDs, bad matchers, missing comments.
    let unknown = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let run = amctl(h, base, &["silence", "expire", unknown]).await;
    run.fails(1, &format!("amctl: silence {unknown} not found"));
    let run = amctl(h, base, &["silence", "update", "not-an-id", "-c", "x"]).await;
    run.fails(1, "amctl: silence not-an-id not found");
    let run = amctl(h, base, &["silence", "add", "team=~(", "-c", "x"]).await;
    run.fails(
        2,
        r#"amctl: bad matcher "team=~(": invalid regular expression "(": unclosed group"#,
    );
    let run = amctl(h, base, &["silence", "add", "HighLoad", "nonsense"]).await;
    run.fails(2, r#"amctl: bad matcher "nonsense""#);
    let run = amctl(h, base, &["silence", "add", "HighLoad"]).await;
    run.fails(2, "amctl: a comment is required: pass -c/--comment");
    let run = amctl(
        h,
        base,
        &["silence", "add", "HighLoad", "-d", "1.5h", "-c", "x"],
    )
    .await;
    run.fails(2, "amctl: invalid --duration \"1.5h\"");
    let run = amctl(h, base, &["frobnicate"]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let run = amctl(h, base, &["silence", "add", "--bogus-flag"]).await;
    run.fails(
        2,
        "amctl: unexpected argument '--bogus-flag' found (see amctl --help)",
    );
    let after = s
        .get_json("/api/v2/silences?active=true&expired=false")
        .await;
    assert_eq!(ids(&after), [new_id], "failed commands changed nothing");
}

#[tokio::test]
async fn settings_file_gives_url_author_and_comment_policy() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    // amtool's file is the fallback when amctl has none.
    let dir = home.path().join(".config/amtool");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.yml"),
        format!(
            "alertmanager.url: {}\nauthor: settings-author\nrequire-comment: false\noutput: json\ndate.format: ignored\n",
            s.base
        ),
    )
    .unwrap();
    let run = amctl_env(home.path(), &["silence", "add", "Quiet"], &[]).await;
    let id = run.ok("add without comment").trim().to_owned();
    let listed = amctl_env(home.path(), &["silence"], &[]).await;
    let list = json_of(listed.ok("query, json from settings"));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["createdBy"], "settings-author");
    assert_eq!(list[0]["comment"], "");

    // amctl's own file wins over amtool's; the flag wins over both.
    let own = home.path().join(".config/amctl");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("config.yml"),
        format!("alertmanager.url: {}\n", s.base),
    )
    .unwrap();
    let run = amctl_env(home.path(), &["silence", "add", "Loud"], &[]).await;
    run.fails(2, "a comment is required");
    let run = amctl_env(
        home.path(),
        &["silence", "add", "Loud", "--require-comment=false"],
        &[],
    )
    .await;
    run.ok("--require-comment=false");
    // ALERTMANAGER_URL beats the file.
    let port = free_port();
    let env = [(
        "ALERTMANAGER_URL".to_owned(),
        format!("http://127.0.0.1:{port}"),
    )];
    let run = amctl_env(home.path(), &["silence"], &env).await;
    run.fails(
        1,
        &format!("amctl: cannot reach http://127.0.0.1:{port}: connection refused"),
    );
}

#[tokio::test]
async fn unreachable_server_is_one_clear_line() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    for args in [
        &["silence", "query"][..],
        &["alert"],
        &["config", "show"],
        &["receiver", "test", "x"],
    ] {
        let run = amctl(home.path(), &base, args).await;
        assert_eq!(
            run.stderr,
            format!("amctl: cannot reach {base}: connection refused\n"),
            "{args:?}"
        );
        assert_eq!(run.code, Some(1));
    }
    let run = amctl(home.path(), "ftp://x", &["silence"]).await;
    run.fails(1, "invalid Alertmanager URL");
}

#[tokio::test]
async fn alert_commands_add_and_query_alerts_on_klaxon() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.as_str());
    let run = amctl(
        h,
        base,
        &[
            "alert",
            "add",
            "DiskFull",
            "team=b",
            "--annotation",
            "summary=disk is full",
            "--generator-url",
            "http://prometheus/graph",
        ],
    )
    .await;
    run.ok("alert add");
    amctl(h, base, &["alert", "add", "alertname=Muted"])
        .await
        .ok("alert add 2");
    amctl(h, base, &["silence", "add", "Muted", "-c", "quiet"])
        .await
        .ok("silence");

    let table = amctl(h, base, &["alert"]).await;
    let table = table.ok("alert");
    assert!(table.starts_with("Alertname "), "{table}");
    assert!(
        table.contains("DiskFull") && table.contains("disk is full"),
        "{table}"
    );
    assert!(table.contains("(started "), "{table}");
    assert!(
        !table.contains("Muted"),
        "silenced alerts are hidden by default: {table}"
    );
    let silenced = amctl(h, base, &["alert", "query", "-s"]).await;
    let silenced = silenced.ok("alert -s");
    assert!(
        silenced.contains("Muted") && !silenced.contains("DiskFull"),
        "{silenced}"
    );
    let extended = amctl(h, base, &["alert", "query", "-o", "extended", "DiskFull"]).await;
    let extended = extended.ok("extended");
    assert!(
        extended.contains(r#"alertname="DiskFull" team="b""#),
        "{extended}"
    );
    assert!(extended.contains("http://prometheus/graph"), "{extended}");
    assert!(extended.contains("second"), "the receiver: {extended}");

    let json = amctl(
        h,
        base,
        &["alert", "query", "-o", "json", "-a", "-s", "-i", "-u"],
    )
    .await;
    let api = s.get_json("/api/v2/alerts").await;
    assert_eq!(json_of(json.ok("alert -o json")), api);
    let by_receiver = amctl(h, base, &["alert", "-o", "json", "-r", "sec.*"]).await;
    let list = json_of(by_receiver.ok("alert -r"));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    let run = amctl(h, base, &["alert", "add", "X", "severity=~crit"]).await;
    run.fails(2, "labels are name=value");
    let run = amctl(h, base, &["alert", "query", "a=~["]).await;
    run.fails(2, "bad matcher");
}

const ROUTES: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: crit
      matchers: ['severity="critical"']
      continue: true
    - receiver: team-b
      matchers: [team=b]
receivers:
  - name: default
  - name: crit
  - name: team-b
"#;

#[tokio::test]
async fn config_commands_show_and_test_the_routing_tree() {
    let s = TestServer::start(ROUTES).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.as_str());
    let tree = "Routing tree:\n\
                └── default-route  receiver: default\n    \
                ├── {severity=\"critical\"}  continue: true  receiver: crit\n    \
                └── {team=\"b\"}  receiver: team-b\n";
    assert_eq!(
        amctl(h, base, &["config", "routes"]).await.ok("routes"),
        tree
    );
    let file = s.config_path().to_string_lossy().into_owned();
    let offline = amctl_env(
        h,
        &["config", "routes", "show", "--config.file", &file],
        &[],
    )
    .await;
    assert_eq!(offline.ok("routes from file"), tree);

    let shown = amctl(h, base, &["config", "show"]).await;
    assert!(
        shown.ok("config show").contains("receiver: team-b"),
        "{shown:?}"
    );

    for (from_file, labels, want) in [
        (false, &["severity=critical", "team=b"][..], "crit,team-b"),
        (true, &["severity=critical", "team=b"], "crit,team-b"),
        (false, &["Foo"], "default"),
        (true, &["team=b"], "team-b"),
    ] {
        let mut args = vec!["config", "routes", "test"];
        if from_file {
            args.extend(["--config.file", &file]);
        }
        args.extend_from_slice(labels);
        let verify = format!("--verify.receivers={want}");
        args.push(&verify);
        let run = if from_file {
            amctl_env(h, &args, &[]).await
        } else {
            amctl(h, base, &args).await
        };
        assert_eq!(run.ok("routes test"), format!("{want}\n"), "{labels:?}");
    }
    let run = amctl(
        h,
        base,
        &[
            "config",
            "routes",
            "test",
            "team=b",
            "--verify.receivers=crit",
        ],
    )
    .await;
    assert_eq!(run.stdout, "team-b\n");
    run.fails(
        1,
        "amctl: expected receivers crit but the labels reach team-b",
    );
    let run = amctl(h, base, &["config", "routes", "test", "--tree", "team=b"]).await;
    assert!(
        run.ok("--tree")
            .contains("└── {team=\"b\"}  receiver: team-b  <- matched"),
        "{run:?}"
    );
    let run = amctl_env(
        h,
        &["config", "routes", "--config.file", "/nonexistent.yml"],
        &[],
    )
    .await;
    run.fails(1, "amctl: /nonexistent.yml: cannot read config file");
}

#[tokio::test]
async fn receiver_test_sends_a_marked_notification_through_each_integration() {
    let sink = WebhookSink::start(vec![]).await;
    let failing = WebhookSink::start(vec![500]).await;
    let config = format!(
        r#"
route:
  receiver: hooks
receivers:
  - name: hooks
    webhook_configs:
      - url: {ok}
  - name: mixed
    webhook_configs:
      - url: {ok}
      - url: {bad}
  - name: nothing
"#,
        ok = sink.url,
        bad = failing.url
    );
    let s = TestServer::start(&config).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.as_str());

    let run = amctl(h, base, &["receiver", "test", "hooks"]).await;
    let out = run.ok("receiver test");
    assert!(out.contains("webhook[0]") && out.contains("ok"), "{out}");
    let body = sink.next(Duration::from_secs(10)).await;
    assert_eq!(body["receiver"], "hooks");
    assert_eq!(body["status"], "firing");
    assert_eq!(
        body["alerts"][0]["labels"],
        json!({"alertname": "KlaxonTestNotification", "test": "receiver hooks"})
    );
    assert_eq!(
        body["groupLabels"],
        json!({"alertname": "KlaxonTestNotification"})
    );
    let summary = body["alerts"][0]["annotations"]["summary"]
        .as_str()
        .unwrap();
    assert!(summary.contains("Test notification"), "{summary}");
    // A test is not a real notification: no alert exists, history says "test".
    assert_eq!(s.get_json("/api/v2/alerts").await, json!([]));
    let history = s.get_json("/api/klaxon/notifications?receiver=hooks").await;
    assert_eq!(history["notifications"][0]["reason"], "test");

    let run = amctl(h, base, &["receiver", "test", "mixed", "-o", "json"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let results = json_of(&run.stdout);
    assert_eq!(
        results[0],
        json!({"integration": "webhook", "index": 0, "ok": true})
    );
    assert_eq!(results[1]["ok"], false);
    assert!(
        results[1]["error"].as_str().unwrap().contains("500"),
        "{results}"
    );
    assert!(run.stderr.contains("1 of 2 integrations"), "{run:?}");
    sink.next(Duration::from_secs(10)).await;

    let run = amctl(h, base, &["receiver", "test", "nope"]).await;
    run.fails(1, r#"amctl: receiver "nope" not found"#);
    let run = amctl(h, base, &["receiver", "test", "nothing"]).await;
    run.fails(1, "has no integrations");
    // Straight to the endpoint: 404 for an unknown receiver.
    let resp = s
        .post_json("/api/klaxon/receivers/nope/test", &json!({}))
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn check_config_passes_every_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let home = tempfile::tempdir().unwrap();
    // The examples take their secrets from the environment, as users do.
    let var = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)").unwrap();
    for file in files {
        let f = file.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let secrets: Vec<(String, String)> = var
            .captures_iter(&text)
            .map(|c| (c[1].to_owned(), crate::examples::stand_in(&c[1])))
            .collect();
        let run = amctl_env(home.path(), &["check-config", &f], &secrets).await;
        let out = run.ok(&f);
        assert!(
            out.starts_with(&format!("Checking {f}  SUCCESS\nFound:\n")),
            "{out}"
        );
        assert!(out.contains(" receivers: "), "{out}");
    }
}

#[tokio::test]
async fn check_config_reports_broken_configs_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown-receiver.yml",
            "route:\n  receiver: nope\nreceivers:\n  - name: default\n",
            &[
                r#"unknown-receiver.yml:2:3: route.receiver: undefined receiver "nope" used in route"#,
            ],
        ),
        (
            "bad-duration.yml",
            "route:\n  receiver: default\n  group_wait: 5x\nreceivers:\n  - name: default\n",
            &[
                r#"bad-duration.yml:3:15: route.group_wait: not a valid duration string: "5x" (expected e.g. 30s, 5m, 1h30m, 1d)"#,
            ],
        ),
        (
            "typo.yml",
            "route:\n  receiver: default\nrecievers:\n  - name: default\n",
            &[
                "typo.yml:3:1: recievers: unknown field `recievers`, expected one of global, route, receivers, inhibit_rules, time_intervals, mute_time_intervals, templates, tracing, event_recorder (Alertmanager's config is strict: remove or fix the key)",
            ],
        ),
        (
            "unset.yml",
            "route:\n  receiver: default\nreceivers:\n  - name: default\n    webhook_configs:\n      - url: ${AMCTL_E2E_UNSET_HOOK}\n        http_config:\n          bearer_token: ${AMCTL_E2E_UNSET_TOKEN}\n",
            &[
                "unset.yml:6:14: receivers[0].webhook_configs[0].url: environment variable AMCTL_E2E_UNSET_HOOK is not set (write ${AMCTL_E2E_UNSET_HOOK:-default} to give a default)",
                "  unset environment variables: AMCTL_E2E_UNSET_HOOK, AMCTL_E2E_UNSET_TOKEN",
            ],
        ),
        (
            "bad-matcher.yml",
            "route:\n  receiver: default\n  routes:\n    - receiver: default\n      matchers: ['severity=~\"(\"']\nreceivers:\n  - name: default\n",
            &[
                r#"bad-matcher.yml:5:18: route.routes[0].matchers[0]: invalid regular expression "(": unclosed group"#,
            ],
        ),
        (
            "bad-yaml.yml",
            "route:\n  receiver: default\nreceivers: [\n",
            &["bad-yaml.yml:3:12: receivers: unclosed bracket '['"],
        ),
    ];
    let home = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for (name, text, lines) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let p = path.to_string_lossy().into_owned();
        let run = amctl_env(home.path(), &["check-config", &p], &[]).await;
        run.fails(1, "amctl: 1 of 1 config files failed the check");
        let mut want = format!(
            "Checking {p}  FAILED: {}/{}\n",
            dir.path().display(),
            lines[0]
        );
        for l in &lines[1..] {
            want.push_str(l);
            want.push('\n');
        }
        assert_eq!(run.stdout, want, "{name}");
        all.push(p);
    }
    // Several files: each reported, the good one too, exit 1.
    let good = dir.path().join("good.yml");
    std::fs::write(&good, PLAIN_CONFIG).unwrap();
    all.push(good.to_string_lossy().into_owned());
    let args: Vec<&str> = ["check-config"]
        .into_iter()
        .chain(all.iter().map(String::as_str))
        .collect();
    let run = amctl_env(home.path(), &args, &[]).await;
    run.fails(1, "amctl: 6 of 7 config files failed the check");
    assert!(
        run.stdout.contains(&format!(
            "Checking {}  SUCCESS\nFound:\n - global config\n - route with 1 child routes\n - 2 receivers: default (no integrations), second (no integrations)\n",
            good.display()
        )),
        "{}",
        run.stdout
    );
    let run = amctl_env(home.path(), &["check-config"], &[]).await;
    assert_eq!(run.code, Some(2), "no file is a usage error: {run:?}");
}

/// check-config agrees with the server's loader on every corpus file.
#[tokio::test]
async fn check_config_agrees_with_the_server_on_the_corpus() {
    use crate::corpus::{corpus_dir, dummy, files, name, sed_placeholders};
    let Some(dir) = corpus_dir() else { return };
    let var = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)").unwrap();
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let (mut passed, mut failed) = (0, 0);
    for folder in ["supported", "other-receivers"] {
        for path in files(&dir.join(folder)) {
            let file = name(&path);
            let text = sed_placeholders(&std::fs::read_to_string(&path).unwrap());
            let copy = work.path().join(format!("{folder}-{file}"));
            std::fs::write(&copy, &text).unwrap();
            // The same values the server's corpus test gives every ${VAR}.
            let env: Vec<(String, String)> = var
                .captures_iter(&text)
                .map(|c| (c[1].to_owned(), dummy(&c[1])))
                .collect();
            let expected = Config::load_str(&text, &copy, &|n| Some(dummy(n)));
            let c = copy.to_string_lossy().into_owned();
            let run = amctl_env(home.path(), &["check-config", &c], &env).await;
            match expected {
                Ok(_) => {
                    assert_eq!(run.code, Some(0), "{folder}/{file}: {run:?}");
                    assert!(run.stdout.contains("SUCCESS"), "{folder}/{file}");
                    passed += 1;
                }
                Err(e) => {
                    assert_eq!(run.code, Some(1), "{folder}/{file}: {run:?}");
                    let first = e.to_string().lines().next().unwrap().to_owned();
                    assert!(
                        run.stdout.contains(&format!("FAILED: {first}")),
                        "{folder}/{file}: server says {e}\namctl: {}",
                        run.stdout
                    );
                    failed += 1;
                }
            }
        }
    }
    eprintln!("corpus: {passed} configs pass, {failed} fail, as the server decides");
    assert!(
        passed + failed == 40 && passed >= 29,
        "{passed} passed, {failed} failed"
    );
}

/// Alertmanager's own config, for the peer tests.
const AM_CONFIG: &str =
    "route:\n  receiver: default\n  group_by: [alertname]\nreceivers:\n  - name: default\n";

#[tokio::test]
async fn silence_and_alert_commands_work_against_alertmanager() {
    let Some(program) = peer("prometheus-alertmanager") else {
        return;
    };
    let am = Alertmanager::start(&program, AM_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), am.base.as_str());
    let client = crate::harness::client();
    let get = |path: &str| {
        let req = client.get(format!("{base}{path}"));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    let run = amctl(
        h,
        base,
        &[
            "alert",
            "add",
            "AmFoo",
            "severity=page",
            "--annotation",
            "summary=from amctl",
        ],
    )
    .await;
    run.ok("alert add");
    let alerts = get("/api/v2/alerts").await;
    assert_eq!(
        alerts[0]["labels"],
        json!({"alertname": "AmFoo", "severity": "page"})
    );
    let listed = amctl(h, base, &["alert", "query", "-o", "json"]).await;
    assert_eq!(json_of(listed.ok("alert query")), alerts);
    let table = amctl(h, base, &["alert"]).await;
    assert!(table.ok("alert table").contains("from amctl"), "{table:?}");

    let id = amctl(
        h,
        base,
        &["silence", "add", "AmFoo", "-c", "on alertmanager"],
    )
    .await;
    let id = id.ok("silence add").trim().to_owned();
    let silences = get("/api/v2/silences").await;
    assert_eq!(ids(&silences), [id.as_str()]);
    assert_eq!(silences[0]["comment"], "on alertmanager");
    let listed = amctl(h, base, &["silence", "query", "-o", "json"]).await;
    assert_eq!(ids(&json_of(listed.ok("silence query"))), [id.as_str()]);
    let table = amctl(h, base, &["silence"]).await;
    assert!(
        table.ok("silence table").contains(r#"alertname="AmFoo""#),
        "{table:?}"
    );
    let silenced = amctl(h, base, &["alert", "-s", "-q"]).await;
    // `-q` is not an alert flag: a usage error, exit 2.
    assert_eq!(silenced.code, Some(2), "{silenced:?}");
    let silenced = amctl(h, base, &["alert", "-s", "-o", "json"]).await;
    let silenced = json_of(silenced.ok("alert -s"));
    assert_eq!(silenced[0]["status"]["silencedBy"], json!([id.clone()]));

    let updated = amctl(h, base, &["silence", "update", &id, "-c", "changed"]).await;
    let new_id = updated.ok("update").trim().to_owned();
    let after = get(&format!("/api/v2/silence/{new_id}")).await;
    assert_eq!(after["comment"], "changed");
    amctl(h, base, &["silence", "expire", &new_id])
        .await
        .ok("expire");
    let expired = amctl(h, base, &["silence", "--expired", "-q"]).await;
    assert!(expired.ok("expired").contains(&new_id), "{expired:?}");
    let unknown = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let run = amctl(h, base, &["silence", "update", unknown, "-c", "x"]).await;
    run.fails(1, &format!("silence {unknown} not found"));
    am.stop().await;
}

#[tokio::test]
async fn amtool_and_amctl_see_each_others_silences_on_klaxon() {
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let amtool_run = |args: &'static [&'static str]| {
        let base = s.base.clone();
        let (program, home) = (amtool.clone(), home.path().to_owned());
        async move {
            let out = tokio::process::Command::new(program)
                .arg(format!("--alertmanager.url={base}/"))
                .args(args)
                .env("HOME", home)
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output();
            let out = tokio::time::timeout(Duration::from_secs(30), out)
                .await
                .expect("amtool in time")
                .expect("amtool runs");
            assert!(out.status.success(), "amtool {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let by_amtool = amtool_run(&[
        "silence",
        "add",
        "alertname=FromAmtool",
        "-c",
        "amtool made it",
    ])
    .await
    .trim()
    .to_owned();
    let (h, base) = (home.path(), s.base.as_str());
    let by_amctl = amctl(
        h,
        base,
        &["silence", "add", "FromAmctl", "-c", "amctl made it"],
    )
    .await;
    let by_amctl = by_amctl.ok("amctl add").trim().to_owned();

    let amctl_sees = amctl(h, base, &["silence", "query"]).await;
    let amctl_sees = amctl_sees.ok("amctl query");
    assert!(
        amctl_sees.contains(&by_amtool) && amctl_sees.contains("amtool made it"),
        "{amctl_sees}"
    );
    let amtool_sees = amtool_run(&["silence", "query"]).await;
    assert!(
        amtool_sees.contains(&by_amctl) && amtool_sees.contains("amctl made it"),
        "{amtool_sees}"
    );
    // amtool's JSON imports with amctl (a new ID each with -f).
    let export = amtool_run(&["silence", "query", "-o", "json"]).await;
    let file = home.path().join("from-amtool.json");
    std::fs::write(&file, export).unwrap();
    let f = file.to_string_lossy().into_owned();
    let imported = amctl(h, base, &["silence", "import", "--force", &f]).await;
    assert_eq!(imported.ok("import").lines().count(), 2);
    let quiet = amtool_run(&["silence", "query", "-q"]).await;
    assert_eq!(quiet.lines().count(), 4, "{quiet}");
}

#[tokio::test]
async fn completion_and_version() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = amctl_env(home.path(), &["completion", shell], &[]).await;
        let script = run.ok(shell);
        assert!(
            script.contains("amctl") && script.contains("silence"),
            "{shell}"
        );
    }
    let run = amctl_env(home.path(), &["--version"], &[]).await;
    assert_eq!(
        run.ok("--version"),
        format!("amctl {}\n", env!("CARGO_PKG_VERSION"))
    );
    let run = amctl_env(home.path(), &["completion", "tcsh"], &[]).await;
    assert_eq!(run.code, Some(2));
}

#[tokio::test]
async fn template_render_shows_what_each_integration_would_send() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        r#"
route:
  receiver: team
  group_by: [alertname]
receivers:
  - name: team
    discord_configs:
      - webhook_url: https://discord.example/api/webhooks/1/secret-token
        title: '{{ .Status | toUpper }}: {{ .CommonLabels.alertname }}'
    email_configs:
      - to: oncall@example.com
        from: klaxon@example.com
        smarthost: smtp.example.com:587
    webhook_configs:
      - url: http://hooks.example/alerts
"#,
    )
    .unwrap();
    let alerts = dir.path().join("alerts.json");
    std::fs::write(
        &alerts,
        r#"[{"labels": {"alertname": "DiskFull", "instance": "db1", "severity": "critical"},
             "annotations": {"summary": "Disk full on db1"}}]"#,
    )
    .unwrap();
    let c = config.to_string_lossy().into_owned();
    let a = alerts.to_string_lossy().into_owned();
    let run = amctl_env(
        home.path(),
        &[
            "template",
            "render",
            "--receiver",
            "team",
            "--config.file",
            &c,
            "--alerts",
            &a,
        ],
        &[],
    )
    .await;
    let out = run.ok("template render");
    assert!(out.contains("== discord[0] =="), "{out}");
    assert!(out.contains(r#""title": "FIRING: DiskFull""#), "{out}");
    assert!(out.contains("== email[0] =="), "{out}");
    // Alertmanager's default subject, from klaxon's layout.
    assert!(
        out.contains("Subject: [FIRING:1] DiskFull (db1 critical)"),
        "{out}"
    );
    assert!(out.contains("To: oncall@example.com"), "{out}");
    // The email's parts decoded from quoted-printable, under their types;
    // the MIME structure is left out.
    let email = out
        .split("== ")
        .find(|part| part.starts_with("email[0]"))
        .unwrap();
    assert!(
        email.contains("\n-- text/html --\n<!DOCTYPE html>\n"),
        "{email}"
    );
    assert!(email.contains(r#"<html lang="en">"#), "{email}");
    assert!(email.contains("\n-- text/plain --\n"), "{email}");
    assert!(
        !email.contains("=3D") && !email.contains("boundary=") && !email.contains('\r'),
        "{email}"
    );
    assert!(out.contains("== webhook[0] =="), "{out}");
    // JSON bodies indented, in the order the receiver gets the keys.
    assert!(
        out.contains("{\n  \"receiver\": \"team\",\n  \"status\": \"firing\",\n"),
        "{out}"
    );
    assert!(
        out.contains(r#""groupKey": "{}:{alertname=\"DiskFull\"}""#),
        "{out}"
    );
    // The render sends nothing and shows no secret.
    assert!(!out.contains("secret-token"), "{out}");

    let run = amctl_env(
        home.path(),
        &[
            "template",
            "render",
            "--receiver",
            "nobody",
            "--config.file",
            &c,
        ],
        &[],
    )
    .await;
    run.fails(1, "no receiver named \"nobody\"");

    std::fs::write(&alerts, "{not json").unwrap();
    let run = amctl_env(
        home.path(),
        &[
            "template",
            "render",
            "--receiver",
            "team",
            "--config.file",
            &c,
            "--alerts",
            &a,
        ],
        &[],
    )
    .await;
    run.fails(1, "not a JSON list of alerts");

    // Neither mode: one line naming both flags.
    let run = amctl_env(home.path(), &["template", "render"], &[]).await;
    run.fails(2, "--receiver <RECEIVER>|--template.text <TEXT>");
}

/// A stand-in API that insists on credentials, and never answers alerts.
async fn guarded_api(expected_auth: &'static str) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new()
        .route(
            "/api/v2/silences",
            axum::routing::get(move |headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                if auth == Some(expected_auth) {
                    (StatusCode::OK, "[]")
                } else {
                    (StatusCode::UNAUTHORIZED, "\"unauthorized\"")
                }
            }),
        )
        .route(
            "/api/v2/alerts",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "[]"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

#[tokio::test]
async fn http_config_file_sends_credentials_and_timeout_is_enforced() {
    // "amctl:s3cret" in base64.
    let base = guarded_api("Basic YW1jdGw6czNjcmV0").await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = amctl(h, &base, &["silence", "-q"]).await;
    run.fails(1, "amctl: listing silences: 401: unauthorized");

    let basic = h.join("basic.yml");
    let secret = h.join("password");
    std::fs::write(&secret, "s3cret\n").unwrap();
    std::fs::write(
        &basic,
        format!(
            "basic_auth:\n  username: amctl\n  password_file: {}\n",
            secret.display()
        ),
    )
    .unwrap();
    let flag = format!("--http.config.file={}", basic.display());
    assert_eq!(
        amctl(h, &base, &[&flag, "silence", "-q"])
            .await
            .ok("basic auth"),
        ""
    );

    let bearer_base = guarded_api("Bearer t0ken").await;
    let bearer = h.join("bearer.yml");
    std::fs::write(&bearer, "authorization:\n  credentials: t0ken\n").unwrap();
    let flag = format!("--http.config.file={}", bearer.display());
    assert_eq!(
        amctl(h, &bearer_base, &[&flag, "silence", "-q"])
            .await
            .ok("bearer"),
        ""
    );

    let broken = h.join("broken.yml");
    std::fs::write(&broken, "basic_auth:\n  user: x\n").unwrap();
    let flag = format!("--http.config.file={}", broken.display());
    let run = amctl(h, &base, &[&flag, "silence"]).await;
    run.fails(1, "broken.yml:2");

    let url = format!("--alertmanager.url={base}");
    let run = amctl_env(h, &[&url, "--timeout=1s", "alert"], &[]).await;
    run.fails(
        1,
        &format!("amctl: cannot reach {base}: no answer in time (see --timeout)"),
    );
}

#[tokio::test]
async fn silence_annotations_are_stored_shown_and_kept_across_a_restart() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.clone());
    let id = amctl(
        h,
        &base,
        &[
            "silence",
            "add",
            "alertname=Noisy",
            "-c",
            "maintenance",
            "--annotation",
            "ticket=OPS-1",
            "--annotation",
            "runbook=\"https://wiki/r\"",
        ],
    )
    .await;
    let id = id.ok("silence add").trim().to_owned();
    let got = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(
        got["annotations"],
        json!({"ticket": "OPS-1", "runbook": "https://wiki/r"}),
        "{got}"
    );
    // The comment is not where they went.
    assert_eq!(got["comment"], "maintenance");
    // A silence without annotations has none in its JSON (omitempty).
    let plain = s
        .post_silence(&crate::harness::silence_json("Other", "no notes"))
        .await;
    let plain = s.get_json(&format!("/api/v2/silence/{plain}")).await;
    assert!(plain.get("annotations").is_none(), "{plain}");
    // Malformed: not key=value.
    amctl(
        h,
        &base,
        &["silence", "add", "a=b", "-c", "x", "--annotation", "nope"],
    )
    .await
    .fails(2, "key=value");
    let s = s.restart().await;
    let got = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(got["annotations"]["ticket"], "OPS-1", "{got}");
}

/// `amctl receiver test` and `amctl template render` cover every
/// integration: each one sends (or renders) and no secret is printed.
#[tokio::test]
async fn receiver_test_and_template_render_cover_every_integration() {
    let service = crate::receivers_differential::Capture::start(
        200,
        "application/json",
        json!({"ok": true, "success": true, "status": 1, "errcode": 0, "access_token": "T", "issues": []})
            .to_string(),
    )
    .await;
    let config = crate::receivers::every_integration(&service.base);
    let s = TestServer::start(&config).await;
    let home = tempfile::tempdir().unwrap();
    let kinds = [
        "webhook",
        "discord",
        "slack",
        "telegram",
        "pagerduty",
        "opsgenie",
        "pushover",
        "victorops",
        "wechat",
        "sns",
        "webex",
        "msteams",
        "msteamsv2",
        "jira",
        "rocketchat",
        "incidentio",
        "mattermost",
    ];

    let run = amctl(home.path(), &s.base, &["receiver", "test", "all"]).await;
    let out = run.ok("receiver test");
    for kind in kinds {
        assert!(out.contains(&format!("{kind}[0]")), "{kind}: {out}");
    }
    assert!(!out.contains("SECRET-"), "{out}");
    assert!(!out.to_lowercase().contains("fail"), "{out}");
    // Every integration has sent by the time the answer came. No title
    // ends in a space (it did when the test alert had only its alertname):
    // in JSON a space before the closing quote or an escaped newline, in a
    // form a value's trailing space.
    let mut titled = 0;
    for n in 0..kinds.len() {
        let sent = service.nth(n, "a test notification").await;
        let body = String::from_utf8_lossy(&sent.body).into_owned();
        let values: Vec<String> = std::iter::once(body.clone())
            .chain(sent.form().into_iter().map(|(_, v)| v))
            .collect();
        for v in values {
            for bad in ["KlaxonTestNotification \"", "KlaxonTestNotification \\n"] {
                assert!(!v.contains(bad), "{}: {v}", sent.target);
            }
            assert!(
                !v.ends_with("KlaxonTestNotification "),
                "{}: {v}",
                sent.target
            );
            if v.contains("[FIRING:1] KlaxonTestNotification (receiver all)") {
                titled += 1;
            }
        }
    }
    assert!(titled > 0, "no default title seen");

    let file = home.path().join("all.yml");
    std::fs::write(&file, &config).unwrap();
    let f = file.to_string_lossy().into_owned();
    let run = amctl_env(
        home.path(),
        &[
            "template",
            "render",
            "--receiver",
            "all",
            "--config.file",
            &f,
        ],
        &[],
    )
    .await;
    let out = run.ok("template render");
    for kind in kinds {
        assert!(out.contains(&format!("== {kind}[0] ==")), "{kind}: {out}");
    }
    assert!(!out.contains("SECRET-"), "{out}");
    s.stop().await;
}

/// `amctl template render` in amtool's mode prints what real amtool
/// prints, byte for byte and with the same exit code, on the same flags:
/// amtool's example data or a `--template.data` file, text or html.
/// (Debian's amtool loads no default templates in this mode, so the
/// templates here are the test's own.)
#[tokio::test]
async fn template_render_prints_what_amtool_prints_on_the_same_input() {
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("t")).unwrap();
    std::fs::write(
        dir.path().join("t/list.tmpl"),
        r#"{{ define "t.list" }}{{ range .Alerts }}{{ .Status }}: {{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
{{ range .Annotations.SortedPairs }}  {{ .Name | title }}: {{ .Value | reReplaceAll "value" "V" }}
{{ end }}{{ end }}{{ end }}
{{ define "t.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} ({{ .CommonLabels.Names | join "," }}){{ end }}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t/page.tmpl"),
        r#"{{ define "t.page" }}<b>{{ .CommonLabels.alertname }}</b> & <a href="{{ .ExternalURL }}?r={{ .Receiver }}">{{ .Receiver }}</a>{{ end }}"#,
    )
    .unwrap();
    let data = dir.path().join("data.json");
    std::fs::write(
        &data,
        json!({
            "receiver": "team <x>",
            "status": "firing",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "Disk<Full>", "instance": "db1"},
                 "annotations": {"summary": "disk & value"},
                 "startsAt": "2024-03-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "http://prometheus/graph?g0.expr=up", "fingerprint": "a1"},
                {"status": "resolved", "labels": {"alertname": "Disk<Full>", "instance": "db2"},
                 "annotations": {}, "startsAt": "2024-03-01T09:00:00.5+02:00",
                 "endsAt": "2024-03-01T11:00:00Z", "generatorURL": "", "fingerprint": "b2"}
            ],
            "groupLabels": {"alertname": "Disk<Full>"},
            "commonLabels": {"alertname": "Disk<Full>"},
            "commonAnnotations": {},
            "externalURL": "http://am.example",
            // A webhook body's other keys are ignored by both.
            "version": "4",
        })
        .to_string(),
    )
    .unwrap();
    let glob = format!("--template.glob={}/t/*.tmpl", dir.path().display());
    let data_flag = format!("--template.data={}", data.display());
    let times = r#"{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }}|{{ .StartsAt.Format "2006-01-02T15:04:05Z07:00" }}|{{ .StartsAt.Unix }}
{{ end }}{{ .Alerts.Firing | len }}/{{ .Alerts.Resolved | len }}"#;
    let cases: Vec<Vec<&str>> = vec![
        // amtool's example data.
        vec![&glob, r#"--template.text={{ template "t.list" . }}"#],
        vec![&glob, r#"--template.text={{ template "t.title" . }}"#],
        vec![
            &glob,
            "--template.text={{ .Receiver }} {{ .Status }} {{ .ExternalURL }} {{ range .Alerts }}{{ .Fingerprint }} {{ .GeneratorURL }} {{ end }}",
        ],
        vec![
            &glob,
            r#"--template.text={{ template "t.page" . }}"#,
            "--template.type=html",
        ],
        // A data file.
        vec![
            &glob,
            &data_flag,
            r#"--template.text={{ template "t.list" . }}"#,
        ],
        vec![
            &glob,
            &data_flag,
            r#"--template.text={{ template "t.title" . }}"#,
        ],
        vec![
            &glob,
            &data_flag,
            r#"--template.text={{ template "t.page" . }}"#,
        ],
        vec![
            &glob,
            &data_flag,
            r#"--template.text={{ template "t.page" . }}"#,
            "--template.type=html",
        ],
        vec![&glob, &data_flag, "--template.text", times],
        // Nothing to render; a glob that matches nothing is no error.
        vec![&glob, "--template.text="],
        vec![
            "--template.glob=/nonexistent/*.tmpl",
            "--template.text={{ .Receiver }}",
        ],
        // A template that fails fails both.
        vec![&glob, r#"--template.text={{ template "t.missing" . }}"#],
    ];
    for case in cases {
        let mut args = vec!["template", "render"];
        args.extend(case.iter().copied());
        // UTC for both: amtool's example times are in the local zone.
        let theirs = amtool_env(&amtool, home.path(), &args, &[("TZ", "UTC")]).await;
        let ours = amctl_env(home.path(), &args, &[("TZ".into(), "UTC".into())]).await;
        assert_eq!(
            ours.code, theirs.code,
            "{case:?}\namtool: {theirs:?}\namctl: {ours:?}"
        );
        assert_eq!(ours.stdout, theirs.stdout, "{case:?}");
        if theirs.code != Some(0) {
            assert!(ours.stderr.starts_with("amctl: "), "{ours:?}");
        }
    }
}

/// Alerts in a klaxon, started in an order that is not the API's: amctl's
/// tables list them in amtool's order (by start), and its JSON in the
/// API's, as amtool's; silences by end in tables, as the API has them in
/// JSON and with `-q`.
#[tokio::test]
async fn alert_and_silence_queries_list_in_amtools_order() {
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let (h, base) = (home.path(), s.base.as_str());
    let now = chrono::Utc::now();
    let names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"];
    let started = [3, 50, 10, 40, 20, 30];
    let alerts: Vec<Value> = names
        .iter()
        .zip(started)
        .map(|(name, minutes_ago)| {
            json!({
                "labels": {"alertname": name, "job": "order"},
                "annotations": {"summary": format!("{name} summary")},
                "startsAt": (now - chrono::Duration::minutes(minutes_ago)).to_rfc3339(),
                "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
            })
        })
        .collect();
    let resp = s.post_json("/api/v2/alerts", &Value::from(alerts)).await;
    assert_eq!(resp.status(), 200);
    let mut by_start: Vec<(i64, &str)> = started.iter().map(|m| -m).zip(names).collect();
    by_start.sort();
    let by_start: Vec<&str> = by_start.iter().map(|(_, n)| *n).collect();
    let api_order: Vec<String> = s
        .get_json("/api/v2/alerts")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned())
        .collect();
    assert_ne!(
        api_order, by_start,
        "the test needs the API's order to differ"
    );

    let url = format!("--alertmanager.url={base}/");
    let names_in = |table: &str| -> Vec<String> {
        table
            .lines()
            .filter_map(|l| names.iter().find(|n| l.contains(*n)))
            .map(|n| (*n).to_owned())
            .collect()
    };
    for output in ["simple", "extended"] {
        let args = [url.as_str(), "alert", "query", "-o", output];
        let theirs = amtool_env(&amtool, h, &args, &[]).await;
        let ours = amctl_env(h, &args, &[]).await;
        let theirs = names_in(theirs.ok("amtool alert query"));
        assert_eq!(theirs, by_start, "amtool -o {output}");
        assert_eq!(
            names_in(ours.ok("amctl alert query")),
            theirs,
            "-o {output}"
        );
    }
    let args = [url.as_str(), "alert", "query", "-o", "json"];
    let theirs = json_of(amtool_env(&amtool, h, &args, &[]).await.ok("amtool json"));
    let ours = json_of(amctl_env(h, &args, &[]).await.ok("amctl json"));
    let json_names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(json_names(&theirs), api_order);
    assert_eq!(json_names(&ours), api_order);

    // Silences ending in an order that is not the order they were made in.
    let mut ids = Vec::new();
    for (name, hours) in [
        ("Alpha", "5h"),
        ("Bravo", "1h"),
        ("Charlie", "3h"),
        ("Delta", "2h"),
    ] {
        let run = amctl(
            h,
            base,
            &["silence", "add", name, "-c", "order", "-d", hours],
        )
        .await;
        ids.push((hours, run.ok("silence add").trim().to_owned()));
    }
    ids.sort();
    let by_end: Vec<String> = ids.into_iter().map(|(_, id)| id).collect();
    let ids_in = |table: &str| -> Vec<String> {
        table
            .lines()
            .filter_map(|l| by_end.iter().find(|id| l.contains(id.as_str())))
            .cloned()
            .collect()
    };
    for output in ["simple", "extended"] {
        let args = [url.as_str(), "silence", "query", "-o", output];
        let theirs = ids_in(
            amtool_env(&amtool, h, &args, &[])
                .await
                .ok("amtool silences"),
        );
        assert_eq!(theirs, by_end, "amtool -o {output}");
        let ours = ids_in(amctl_env(h, &args, &[]).await.ok("amctl silences"));
        assert_eq!(ours, theirs, "-o {output}");
    }
    for args in [
        vec![url.as_str(), "silence", "query", "-q"],
        vec![url.as_str(), "silence", "query", "-o", "json"],
    ] {
        let theirs = ids_in(amtool_env(&amtool, h, &args, &[]).await.ok("amtool"));
        let ours = ids_in(amctl_env(h, &args, &[]).await.ok("amctl"));
        assert_eq!(ours, theirs, "{args:?}");
    }
    s.stop().await;
}

/// Without `--author` or a settings file, amtool and amctl put the same
/// name in `createdBy`: the passwd name of the uid, whatever `$USER` says.
#[tokio::test]
async fn the_default_author_is_amtools() {
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let url = format!("--alertmanager.url={}/", s.base);
    let add = |who: &'static str| {
        [
            url.clone(),
            "silence".into(),
            "add".into(),
            format!("By{who}"),
            "-c".into(),
            who.into(),
        ]
    };
    let args = add("Amtool");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("USER", "not-the-uid")];
    amtool_env(&amtool, home.path(), &args, &env)
        .await
        .ok("amtool add");
    let args = add("Amctl");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("USER".to_owned(), "not-the-uid".to_owned())];
    amctl_env(home.path(), &args, &env).await.ok("amctl add");
    let silences = s.get_json("/api/v2/silences").await;
    let by = |comment: &str| {
        silences
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["comment"] == comment)
            .map(|s| s["createdBy"].clone())
            .unwrap()
    };
    assert_eq!(by("Amtool"), json!(login_name()));
    assert_eq!(by("Amctl"), by("Amtool"));
    s.stop().await;
}

/// The README's migration step: silences made on Debian's Alertmanager
/// with amtool, exported as amtool's JSON and piped into `amctl silence
/// import -f -` against klaxon, arrive with the same matchers, author,
/// comment and end.
#[tokio::test]
async fn silences_move_from_alertmanager_to_klaxon_as_the_readme_says() {
    let (Some(program), Some(amtool)) = (peer("prometheus-alertmanager"), peer("amtool")) else {
        return;
    };
    let am = Alertmanager::start(&program, AM_CONFIG).await;
    let k = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().unwrap();
    let on_am = format!("--alertmanager.url={}/", am.base);
    for args in [
        &[
            "silence",
            "add",
            "alertname=DiskFull",
            "instance=~db.*",
            "-c",
            "db maintenance",
            "-a",
            "jane",
            "-d",
            "2h",
        ][..],
        &[
            "silence",
            "add",
            "severity!=info",
            "team=web",
            "-c",
            "web deploy",
            "-a",
            "joe",
            "-d",
            "30m",
        ][..],
    ] {
        let mut all = vec![on_am.as_str()];
        all.extend_from_slice(args);
        amtool_env(&amtool, home.path(), &all, &[])
            .await
            .ok("amtool silence add");
    }
    let export = amtool_env(
        &amtool,
        home.path(),
        &[on_am.as_str(), "silence", "query", "-o", "json"],
        &[],
    )
    .await;
    let export = export.ok("amtool silence query").to_owned();

    let on_klaxon = format!("--alertmanager.url={}", k.base);
    let out = run_tool(
        Path::new(env!("CARGO_BIN_EXE_amctl")),
        &[on_klaxon.as_str(), "silence", "import", "-f", "-"],
        home.path(),
        &[],
        export.as_bytes(),
        Duration::from_secs(60),
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);

    // The same silences, field for field but their IDs, update times and
    // starts: a start already past when a silence is created becomes the
    // time of creation, on klaxon as on Alertmanager.
    let comparable = |list: &Value| {
        let mut v: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                json!({
                    "matchers": s["matchers"],
                    "createdBy": s["createdBy"],
                    "comment": s["comment"],
                    "endsAt": s["endsAt"],
                    "state": s["status"]["state"],
                })
            })
            .collect();
        v.sort_by_key(|s| s["comment"].as_str().unwrap_or("").to_owned());
        v
    };
    let client = crate::harness::client();
    let from_am: Value = client
        .get(format!("{}/api/v2/silences", am.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let in_klaxon = k.get_json("/api/v2/silences").await;
    let (from_am, in_klaxon) = (comparable(&from_am), comparable(&in_klaxon));
    assert_eq!(from_am.len(), 2);
    assert_eq!(in_klaxon, from_am);
    am.stop().await;
}
