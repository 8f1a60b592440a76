//! Real peers against klaxon: `amtool` drives the v2 API as operators do, and
//! Prometheus delivers firing alerts on its own clock. Each test skips (with a
//! printed reason) when its peer is not installed, unless
//! `KLAXON_REQUIRE_PEERS=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{PLAIN_CONFIG, TestServer, eventually, find_alert, free_port, peer};

/// Output of one finished peer command.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self, what: &str) -> String {
        assert_eq!(
            self.code,
            Some(0),
            "{what} failed\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self.stdout
    }
}

/// Runs `amtool` against `base` with a private `$HOME` (so no operator's
/// `amtool.yml` leaks in) and a bounded wait.
async fn amtool(program: &Path, home: &Path, base: &str, args: &[&str]) -> Run {
    let url = format!("--alertmanager.url={base}/");
    let mut all = vec![url.as_str(), "--timeout=10s"];
    all.extend_from_slice(args);
    let out =
        crate::harness::run_tool(program, &all, home, &[], b"", Duration::from_secs(30)).await;
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn parse_json(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

#[tokio::test]
async fn amtool_manages_silences_and_queries_alerts_against_klaxon() {
    let Some(amtool_bin) = peer("amtool") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    let home = tempfile::tempdir().expect("home dir");
    let (bin, home_path, base) = (amtool_bin.as_path(), home.path(), s.base.as_str());
    let run = move |args: &'static [&'static str]| amtool(bin, home_path, base, args);

    let resp = s
        .post_alerts(json!([
            {"labels": {"alertname": "AmtoolSilenced", "instance": "a"},
             "annotations": {"summary": "to be silenced"}},
            {"labels": {"alertname": "AmtoolLoud", "instance": "b"},
             "annotations": {"summary": "stays loud"}}
        ]))
        .await;
    assert_eq!(resp.status(), 200);

    // `silence add` prints only the new ID.
    let out = run(&[
        "silence",
        "add",
        "alertname=AmtoolSilenced",
        "-c",
        "maintenance window",
        "-a",
        "e2e-operator",
        "-d",
        "1h",
    ])
    .await
    .ok("amtool silence add");
    let id = out.trim().to_owned();
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "silence add printed {out:?}, not a silence ID"
    );

    let table = run(&["silence", "query"]).await.ok("amtool silence query");
    assert!(table.contains(&id), "silence query lacks {id}:\n{table}");
    assert!(
        table.contains("alertname=\"AmtoolSilenced\"")
            || table.contains("alertname=AmtoolSilenced"),
        "silence query lacks the matcher:\n{table}"
    );
    assert!(table.contains("e2e-operator"), "{table}");
    assert!(table.contains("maintenance window"), "{table}");

    let quiet = run(&["silence", "query", "-q"])
        .await
        .ok("amtool silence query -q");
    assert_eq!(quiet.trim(), id);

    let listed = parse_json(
        &run(&["silence", "query", "-o", "json"])
            .await
            .ok("silence query -o json"),
        "silence query -o json",
    );
    let silences = listed.as_array().expect("silence list");
    assert_eq!(silences.len(), 1, "{listed}");
    let sil = &silences[0];
    assert_eq!(sil["id"], id.as_str());
    assert_eq!(sil["status"]["state"], "active");
    assert_eq!(sil["createdBy"], "e2e-operator");
    assert_eq!(sil["comment"], "maintenance window");
    assert_eq!(
        sil["matchers"],
        json!([{"name": "alertname", "value": "AmtoolSilenced", "isRegex": false, "isEqual": true}])
    );

    // The default `alert query` shows active alerts only: the loud one, not
    // the silenced one.
    let alerts_table = run(&["alert", "query"]).await.ok("amtool alert query");
    assert!(alerts_table.contains("AmtoolLoud"), "{alerts_table}");
    assert!(alerts_table.contains("stays loud"), "{alerts_table}");
    assert!(!alerts_table.contains("AmtoolSilenced"), "{alerts_table}");

    let alerts = parse_json(
        &run(&["alert", "query", "-o", "json"])
            .await
            .ok("alert query -o json"),
        "alert query -o json",
    );
    let names: Vec<&str> = alerts
        .as_array()
        .expect("alert list")
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["AmtoolLoud"], "{alerts}");
    assert_eq!(alerts[0]["status"]["state"], "active");

    let silenced = parse_json(
        &run(&[
            "alert",
            "query",
            "--silenced",
            "-o",
            "json",
            "alertname=AmtoolSilenced",
        ])
        .await
        .ok("alert query --silenced"),
        "alert query --silenced -o json",
    );
    assert_eq!(silenced.as_array().map(Vec::len), Some(1), "{silenced}");
    assert_eq!(silenced[0]["status"]["state"], "suppressed");
    assert_eq!(silenced[0]["status"]["silencedBy"], json!([id]));

    // Matcher arguments filter on the server side.
    let filtered = parse_json(
        &run(&["alert", "query", "-o", "json", "instance=b"])
            .await
            .ok("alert query instance=b"),
        "alert query instance=b",
    );
    assert_eq!(filtered.as_array().map(Vec::len), Some(1), "{filtered}");

    // Expire, then the silence moves to the expired list.
    let expire_args: Vec<&str> = vec!["silence", "expire", id.as_str()];
    let expired_run = amtool(&amtool_bin, home.path(), &s.base, &expire_args).await;
    expired_run.ok("amtool silence expire");
    let active_after = run(&["silence", "query", "-q"])
        .await
        .ok("silence query after expire");
    assert_eq!(active_after.trim(), "", "still active after expire");
    let expired = run(&["silence", "query", "--expired"])
        .await
        .ok("silence query --expired");
    assert!(
        expired.contains(&id),
        "silence query --expired lacks {id}:\n{expired}"
    );
    let expired_json = parse_json(
        &run(&["silence", "query", "--expired", "-o", "json"])
            .await
            .ok("expired json"),
        "silence query --expired -o json",
    );
    assert_eq!(
        expired_json[0]["status"]["state"], "expired",
        "{expired_json}"
    );

    // The silenced alert is loud again.
    let loud = parse_json(
        &run(&["alert", "query", "-o", "json", "alertname=AmtoolSilenced"])
            .await
            .ok("alert query after expire"),
        "alert query after expire",
    );
    assert_eq!(loud.as_array().map(Vec::len), Some(1), "{loud}");

    // Expiring an unknown silence fails (non-zero exit).
    let unknown = amtool(
        &amtool_bin,
        home.path(),
        &s.base,
        &["silence", "expire", "5d0e1f5c-2c7e-4a51-9d8e-0f7d5d0c0a11"],
    )
    .await;
    assert_ne!(
        unknown.code,
        Some(0),
        "expiring an unknown silence succeeded: {}",
        unknown.stdout
    );

    // Status-based commands.
    let config = run(&["config", "show"]).await.ok("amtool config show");
    assert!(config.contains("receiver: default"), "{config}");
    run(&["cluster", "show"]).await.ok("amtool cluster show");
    let routes = run(&["config", "routes", "show"])
        .await
        .ok("amtool config routes show");
    assert!(
        routes.contains("default") && routes.contains("second"),
        "{routes}"
    );
    let tested = run(&["config", "routes", "test", "team=b"])
        .await
        .ok("config routes test");
    assert_eq!(tested.trim(), "second");

    // `alert add` posts through the v2 API too.
    run(&[
        "alert",
        "add",
        "alertname=AmtoolAdded",
        "severity=info",
        "--annotation=summary=from amtool",
    ])
    .await
    .ok("amtool alert add");
    let listed = s
        .get_json("/api/v2/alerts?filter=alertname%3D%22AmtoolAdded%22")
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["annotations"]["summary"], "from amtool");

    s.stop().await;
}

/// A Prometheus child process in its own temp dir; killed on drop.
pub(crate) struct Prometheus {
    child: tokio::process::Child,
    log: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start(program: &Path, alertmanager: &str) -> Prometheus {
        Self::start_with(program, alertmanager, "").await
    }

    /// `entry` is added to the `alertmanagers` entry (scheme, auth, TLS),
    /// indented as one of its keys.
    pub(crate) async fn start_with(program: &Path, alertmanager: &str, entry: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("prometheus dir");
        let port = free_port();
        std::fs::write(
            dir.path().join("prometheus.yml"),
            format!(
                "global:\n  evaluation_interval: 1s\n  scrape_interval: 1m\n\
                 rule_files: [rules.yml]\n\
                 alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n{entry}"
            ),
        )
        .expect("write prometheus.yml");
        std::fs::write(
            dir.path().join("rules.yml"),
            "groups:\n  - name: klaxon-e2e\n    interval: 1s\n    rules:\n      - alert: KlaxonE2E\n        expr: vector(1)\n        labels:\n          severity: info\n        annotations:\n          summary: e2e\n",
        )
        .expect("write rules.yml");
        let log = dir.path().join("prometheus.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = tokio::process::Command::new(program)
            .current_dir(dir.path())
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--web.external-url=http://127.0.0.1:{port}/"))
            .arg("--rules.alert.resend-delay=1s")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn prometheus");
        Prometheus {
            child,
            log,
            port,
            _dir: dir,
        }
    }

    /// Panics with Prometheus' log if it has exited (a bad flag or config).
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "prometheus exited ({status}):\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[tokio::test]
async fn prometheus_posts_firing_alerts_to_klaxon() {
    let Some(prometheus_bin) = peer("prometheus") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    let target = s.base.trim_start_matches("http://").to_owned();
    let mut prom = Prometheus::start(&prometheus_bin, &target).await;
    let generator_prefix = format!("http://127.0.0.1:{}/", prom.port);

    let alert = eventually(
        Duration::from_secs(60),
        "Prometheus to post KlaxonE2E",
        || {
            prom.assert_running();
            let s = &s;
            async move { find_alert(&s.get_json("/api/v2/alerts").await, "KlaxonE2E") }
        },
    )
    .await;
    assert_eq!(alert["labels"]["severity"], "info", "{alert}");
    assert_eq!(alert["annotations"]["summary"], "e2e", "{alert}");
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert_eq!(alert["receivers"], json!([{"name": "default"}]));
    let generator = alert["generatorURL"].as_str().unwrap_or_default();
    assert!(
        generator.starts_with(&generator_prefix),
        "generatorURL {generator:?} does not point at Prometheus ({generator_prefix})"
    );
    // Prometheus sends endsAt = now + 4 × resend delay (at least 3 × interval):
    // the alert stays firing, not resolved.
    let ends = chrono::DateTime::parse_from_rfc3339(alert["endsAt"].as_str().unwrap()).unwrap();
    assert!(ends > chrono::Utc::now(), "alert already ended: {alert}");

    prom.stop().await;
    s.stop().await;
}

/// `examples/prometheus/` is a valid Prometheus setup, as Debian's
/// promtool checks it.
#[tokio::test]
async fn the_prometheus_example_passes_promtool() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    for args in [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "rules.yml"],
    ] {
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::new(&promtool)
                .args(args)
                .current_dir(&dir)
                .output(),
        )
        .await
        .expect("promtool finishes")
        .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `/metrics` passes `promtool check metrics` with no complaint after some
/// traffic (counters named `…_total` in their metadata, as Prometheus'
/// 0.0.4 text format needs), and answers OpenMetrics when asked for it.
#[tokio::test]
async fn metrics_pass_promtool_and_speak_openmetrics_on_request() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "Scraped"}}]))
        .await;
    s.add_silence(
        json!([{"name": "alertname", "value": "Scraped", "isRegex": false}]),
        5,
    )
    .await;
    let answer = s.get("/metrics").await;
    assert_eq!(
        answer.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.text().await.unwrap();
    assert!(
        text.contains("# TYPE alertmanager_alerts_received_total counter"),
        "{text}"
    );
    let mut child = tokio::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("promtool runs");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("promtool finishes")
        .expect("promtool output");
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && complaints.trim().is_empty(),
        "promtool check metrics: {complaints}"
    );

    let om = reqwest::Client::new()
        .get(s.url("/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        om.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.text().await.unwrap().ends_with("# EOF\n"));
}
