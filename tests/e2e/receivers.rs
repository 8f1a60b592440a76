//! Receivers through the whole server: what an integration keeps between
//! notifications survives a restart.

use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::receivers_differential::Capture;

fn alert(instance: &str) -> Value {
    json!([{
        "labels": {"alertname": "DiskFull", "instance": instance},
        "annotations": {"summary": format!("{instance} is full")}
    }])
}

/// `update_message`: the first notification of a group posts, the next
/// ones edit that message (its channel and `ts` kept in the notification
/// log), also after a restart.
#[tokio::test]
async fn slack_update_message_edits_one_message_per_group_across_a_restart() {
    let slack = Capture::start(
        200,
        "application/json",
        json!({"ok": true, "channel": "C024BE91L", "ts": "1700000000.000200"}).to_string(),
    )
    .await;
    let config = format!(
        "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: r\n  slack_configs:\n  - app_token: xoxb-secret-token\n    app_url: '{}/api/chat.postMessage'\n    channel: '#alerts'\n    update_message: true\n",
        slack.base
    );
    let server = TestServer::start(&config).await;
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    let first = slack.nth(0, "the first post").await;
    assert_eq!(first.target, "/api/chat.postMessage");
    assert_eq!(
        first.header("authorization"),
        Some("Bearer xoxb-secret-token")
    );

    assert_eq!(server.post_alerts(alert("db2")).await.status(), 200);
    let second = slack.nth(1, "the update").await;
    assert_eq!(second.target, "/api/chat.update");
    let body: Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(body["ts"], "1700000000.000200");
    assert_eq!(body["channel"], "C024BE91L");
    assert!(
        body["attachments"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING:2]")
    );

    let server = server.restart().await;
    assert_eq!(server.post_alerts(alert("db3")).await.status(), 200);
    let third = slack.nth(2, "the update after a restart").await;
    assert_eq!(third.target, "/api/chat.update");
    let body: Value = serde_json::from_slice(&third.body).unwrap();
    assert_eq!(body["ts"], "1700000000.000200");
    server.stop().await;
}
