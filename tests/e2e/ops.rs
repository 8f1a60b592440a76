//! Operations endpoints: health, readiness, reload, metrics, status, the
//! route prefix and the retired API v1.

use std::time::Duration;

use serde_json::json;

use crate::harness::{BinaryServer, PLAIN_CONFIG, TestServer, client};

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    for p in ["/-/healthy", "/-/ready"] {
        let r = s.get(p).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "OK");
    }
}

#[tokio::test]
async fn api_v1_is_gone() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    for p in ["/api/v1/alerts", "/api/v1/silences", "/api/v1/status"] {
        assert_eq!(s.get(p).await.status(), 410, "{p}");
    }
}

#[tokio::test]
async fn metrics_use_alertmanager_names() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "M"}}, {"labels": {}}]))
        .await;
    let text = s.get("/metrics").await.text().await.unwrap();
    for needle in [
        "alertmanager_alerts{state=\"active\"} 1",
        "alertmanager_alerts_received_total{status=\"firing\"} 2",
        "alertmanager_alerts_invalid_total 1",
        "alertmanager_silences{state=\"active\"} 0",
        "alertmanager_config_last_reload_successful 1",
        "alertmanager_config_hash ",
        "alertmanager_build_info{",
        "alertmanager_receivers 2",
        "alertmanager_http_request_duration_seconds_count{handler=\"/api/v2/alerts\",method=\"POST\"}",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[tokio::test]
async fn status_has_alertmanagers_shape() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let st = s.get_json("/api/v2/status").await;
    assert_eq!(st["cluster"], json!({"peers": [], "status": "disabled"}));
    assert!(
        st["config"]["original"]
            .as_str()
            .unwrap()
            .contains("receiver: default")
    );
    assert!(st["uptime"].as_str().unwrap().ends_with('Z'));
    for k in [
        "branch",
        "buildDate",
        "buildUser",
        "goVersion",
        "revision",
        "version",
    ] {
        assert!(st["versionInfo"].get(k).is_some(), "versionInfo.{k}");
    }
}

#[tokio::test]
async fn reload_applies_a_good_config_and_keeps_the_old_one_on_error() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let reload = || async { s.client.post(s.url("/-/reload")).send().await.unwrap() };
    std::fs::write(
        s.config_path(),
        "route:\n  receiver: other\nreceivers:\n  - name: other\n",
    )
    .unwrap();
    assert_eq!(reload().await.status(), 200);
    assert_eq!(
        s.get_json("/api/v2/receivers").await,
        json!([{"name": "other", "labels": {"name": "other"}}])
    );

    std::fs::write(
        s.config_path(),
        "route:\n  receiver: missing\nreceivers: [{name: x}]\nbogus: 1\n",
    )
    .unwrap();
    let failed = reload().await;
    assert_eq!(failed.status(), 500);
    assert!(!failed.text().await.unwrap().is_empty());
    assert_eq!(
        s.get_json("/api/v2/receivers").await,
        json!([{"name": "other", "labels": {"name": "other"}}])
    );
    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("alertmanager_config_last_reload_successful 0"));
}

#[tokio::test]
async fn route_prefix_moves_every_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start_prefixed(dir.path(), "/am").await;
    let c = client();
    assert_eq!(
        c.get(server.url("/am/api/v2/status"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(server.url("/api/v2/status"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    server.kill9().await;
}

#[tokio::test]
async fn sighup_reloads_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        "route:\n  receiver: hup\nreceivers:\n  - name: hup\n",
    )
    .unwrap();
    let pid = server.child.id().unwrap() as i32;
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let c = client();
    crate::harness::eventually(Duration::from_secs(10), "the reloaded receivers", || {
        let c = c.clone();
        let url = server.url("/api/v2/receivers");
        async move {
            let v: serde_json::Value = c.get(url).send().await.ok()?.json().await.ok()?;
            (v == json!([{"name": "hup", "labels": {"name": "hup"}}])).then_some(())
        }
    })
    .await;
    server.kill9().await;
}

/// Runs the binary on `config` expecting it to refuse to start; returns
/// what it printed on stderr.
fn failed_start(config: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg(format!(
            "--config.file={}",
            dir.path().join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .args(extra)
        .env_remove("KLAXON_TEST_SURELY_UNSET_URL")
        .output()
        .unwrap();
    assert!(!out.status.success(), "klaxon started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn an_unreadable_web_config_file_stops_startup() {
    let err = failed_start(PLAIN_CONFIG, &["--web.config.file=/nonexistent/web.yml"]);
    assert!(
        err.contains("web.config.file") && err.contains("/nonexistent/web.yml"),
        "{err}"
    );
}

#[tokio::test]
async fn version_and_help_work() {
    for flag in ["--version", "--help"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
            .arg(flag)
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag}");
    }
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for f in [
        "--config.file",
        "--storage.path",
        "--web.listen-address",
        "--web.external-url",
        "--web.route-prefix",
        "--data.retention",
        "--alerts.gc-interval",
        "--log.level",
        "--log.format",
        "--cluster.listen-address",
        "--web.config.file",
    ] {
        assert!(help.contains(f), "{f} missing from --help");
    }
}

#[tokio::test]
async fn an_unset_variable_stops_startup_naming_the_variable_and_field() {
    let cfg = "route:\n  receiver: hook\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${KLAXON_TEST_SURELY_UNSET_URL}\n";
    let err = failed_start(cfg, &[]);
    assert!(err.contains("KLAXON_TEST_SURELY_UNSET_URL"), "{err}");
    assert!(err.contains("receivers[0].webhook_configs[0].url"), "{err}");
    assert!(err.contains(":6:"), "line missing: {err}");
}

#[tokio::test]
async fn a_reload_with_an_unset_variable_keeps_the_running_config() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    std::fs::write(
        s.config_path(),
        "route:\n  receiver: ${KLAXON_TEST_SURELY_UNSET_RECEIVER}\nreceivers:\n  - name: x\n",
    )
    .unwrap();
    let resp = s.client.post(s.url("/-/reload")).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("KLAXON_TEST_SURELY_UNSET_RECEIVER")
    );
    assert_eq!(
        s.get_json("/api/v2/receivers").await,
        json!([
            {"name": "default", "labels": {"name": "default"}},
            {"name": "second", "labels": {"name": "second"}}
        ])
    );
}

#[tokio::test]
async fn secrets_are_redacted_in_status() {
    let s = TestServer::start(
        "route:\n  receiver: hook\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: https://hooks.example/secret-token-123\n",
    )
    .await;
    let st = s.get_json("/api/v2/status").await;
    let original = st["config"]["original"].as_str().unwrap();
    assert!(!original.contains("secret-token-123"), "{original}");
    assert!(original.contains("<secret>"), "{original}");
}

#[tokio::test]
async fn notification_history_answers_pages_and_refuses_bad_numbers() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let page = s
        .get_json("/api/klaxon/notifications?receiver=default&limit=10")
        .await;
    assert_eq!(page, json!({"notifications": []}));
    let bad = s.get("/api/klaxon/notifications?limit=ten").await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_store_reports_its_size_on_disk() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "Sized"}}]))
        .await;
    let store = s.get_json("/api/klaxon/store").await;
    assert!(store["sizeOnDiskBytes"].as_u64().unwrap() > 0, "{store}");
    assert_eq!(store["alerts"], 1);
    assert!(store["path"].as_str().unwrap().ends_with("data"), "{store}");
}

/// `--enable-feature=group-key-in-metrics`: `alertmanager_alerts` has one
/// series per aggregation group and state, as Alertmanager 0.34.
#[tokio::test]
async fn group_keys_in_metrics_split_alert_counts_by_group() {
    let config =
        "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 1h\nreceivers:\n- name: r\n";
    let features = klaxon::features::Features::parse("group-key-in-metrics").unwrap();
    let s = crate::harness::TestServer::start_with_features(config, features).await;
    let r = s
        .post_alerts(serde_json::json!([
            {"labels": {"alertname": "A", "i": "1"}},
            {"labels": {"alertname": "A", "i": "2"}},
            {"labels": {"alertname": "B"}}
        ]))
        .await;
    assert_eq!(r.status(), 200);
    let metrics = crate::harness::eventually(
        std::time::Duration::from_secs(10),
        "both groups in the metrics",
        || async {
            let m = s.get("/metrics").await.text().await.unwrap();
            m.contains(r#"alertmanager_alerts{state="active",group_key="{}:{alertname=\"B\"}"} 1"#)
                .then_some(m)
        },
    )
    .await;
    assert!(
        metrics
            .contains(r#"alertmanager_alerts{state="active",group_key="{}:{alertname=\"A\"}"} 2"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains("alertmanager_alerts{state=\"active\"} "),
        "{metrics}"
    );
    s.stop().await;
}
