//! Restarts lose nothing: silences and alerts come back after a graceful
//! stop and after `kill -9`, and an unreadable store stops startup.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BinaryServer, PLAIN_CONFIG, TestServer, client, eventually, silence_json};

#[tokio::test]
async fn alerts_and_silences_survive_a_restart() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Kept1"}, "annotations": {"a": "1"}},
        {"labels": {"alertname": "Kept2"}}
    ]))
    .await;
    let id = s
        .add_silence(
            json!([{"name": "alertname", "value": "Kept2", "isRegex": false}]),
            60,
        )
        .await;
    let before = s.get_json("/api/v2/alerts").await;
    let s = s.restart().await;
    let after = s.get_json("/api/v2/alerts").await;
    assert_eq!(before, after);
    let sil = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(sil["status"]["state"], "active");
}

#[tokio::test]
async fn kill_9_loses_neither_acknowledged_silences_nor_committed_alerts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    let c = client();
    let batch: Vec<Value> = (0..200)
        .map(|i| json!({"labels": {"alertname": "Crash", "i": i.to_string()}}))
        .collect();
    let r = c
        .post(server.url("/api/v2/alerts"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = server
        .post_json("/api/v2/silences", &silence_json("Crash", "durable"))
        .await;
    // Alerts are group-committed; wait until klaxon reports them on disk.
    let metrics_url = server.url("/metrics");
    eventually(Duration::from_secs(10), "alerts persisted", || {
        let c = c.clone();
        let url = metrics_url.clone();
        async move {
            let text = c.get(url).send().await.ok()?.text().await.ok()?;
            let line = text
                .lines()
                .find(|l| l.starts_with("klaxon_alerts_persisted "))?;
            let n: f64 = line.split(' ').nth(1)?.parse().ok()?;
            (n >= 200.0).then_some(())
        }
    })
    .await;
    // The silence is acknowledged, so it must be on disk already.
    server.kill9().await;

    let server = BinaryServer::start(dir.path(), &[]).await;
    let alerts: Value = server.get_json("/api/v2/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 200);
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"]["state"] == "suppressed")
    );
    let sid = id["silenceID"].as_str().unwrap();
    let sil: Value = c
        .get(server.url(&format!("/api/v2/silence/{sid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sil["comment"], "durable");
    server.kill9().await;
}

#[tokio::test]
async fn a_silence_is_durable_the_moment_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    let id = server
        .post_json("/api/v2/silences", &silence_json("Instant", "no wait"))
        .await;
    server.kill9().await;
    let server = BinaryServer::start(dir.path(), &[]).await;
    let list: Value = server.get_json("/api/v2/silences").await;
    assert_eq!(list[0]["id"], id["silenceID"]);
    server.kill9().await;
}

#[tokio::test]
async fn an_unusable_storage_path_stops_startup_with_a_clear_error() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let dir = s.stop().await;
    std::fs::remove_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data"), "not a directory").unwrap();
    let err = TestServer::try_start_in(dir)
        .await
        .err()
        .expect("startup must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("storage path"), "{msg}");
}

#[tokio::test]
async fn resolved_alerts_are_removed_after_retention() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(
        dir.path(),
        &["--data.retention=1s", "--alerts.gc-interval=200ms"],
    )
    .await;
    let c = client();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let body = json!([{"labels": {"alertname": "Old"}, "startsAt": past, "endsAt": past}]);
    assert_eq!(
        c.post(server.url("/api/v2/alerts"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    eventually(Duration::from_secs(10), "GC of the resolved alert", || {
        let c = c.clone();
        let url = server.url("/metrics");
        async move {
            let text = c.get(url).send().await.ok()?.text().await.ok()?;
            text.contains("klaxon_alerts_stored 0").then_some(())
        }
    })
    .await;
    server.kill9().await;
}
