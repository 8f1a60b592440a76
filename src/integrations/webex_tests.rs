//! Webex tests against a local Messages API: the body, the byte limit,
//! the bot token, answers.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::IntegrationConfig;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification(summary: &str) -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("summary", summary)],
            t(0),
            t(600),
        )],
        external_url: "http://am:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

const TOKEN: &str = "WEBEX-BOT-TOKEN";

fn webex(base: &str, extra: &str) -> Webex {
    install_crypto();
    let mut c: WebexConfig = serde_saphyr::from_str(&format!(
        "api_url: '{base}/v1/messages'\nroom_id: 'Y2lzY29zcGFyazovL3Vz'\nhttp_config:\n  authorization:\n    credentials: {TOKEN}\n{extra}"
    ))
    .unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    Webex::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

#[tokio::test]
async fn posts_alertmanagers_message_with_the_bot_token() {
    let svc = LocalService::start(vec![], (200, vec![], r#"{"id":"m1"}"#.into())).await;
    webex(&svc.base, "")
        .notify(&notification("disk is full"))
        .await
        .unwrap();
    let got = svc.received();
    assert_eq!(
        (got[0].method.as_str(), got[0].target.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let v: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        v,
        json!({
            "markdown": "disk is full\n\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource: \n\n\n\n",
            "roomId": "Y2lzY29zcGFyazovL3Vz"
        })
    );
}

#[test]
fn the_message_is_cut_to_7439_bytes() {
    let m = webex("http://x", "")
        .message(&notification(&"é".repeat(5000)))
        .unwrap();
    assert!(m.markdown.len() <= MAX_MESSAGE_BYTES);
    assert!(m.markdown.ends_with('…'));
}

#[tokio::test]
async fn answers_are_classified() {
    for (status, retryable) in [
        (400, false),
        (401, false),
        (404, false),
        (429, true),
        (503, true),
    ] {
        let svc =
            LocalService::start(vec![], (status, vec![], r#"{"message":"nope"}"#.into())).await;
        let e = webex(&svc.base, "")
            .notify(&notification("x"))
            .await
            .unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{status}");
    }
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: WebexConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.webex_configs[0]").unwrap_err().to_string()
    };
    assert!(
        err("http_config:\n  authorization:\n    credentials: t\n")
            .contains("missing room_id on webex_config")
    );
    assert!(err("room_id: r\n").contains("missing webex_configs.http_config.authorization"));
}
