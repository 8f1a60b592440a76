//! Rocket.Chat tests: Alertmanager's message, tokens as headers, the JSON
//! verdict, answers, secrets kept out.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::IntegrationConfig;
#[allow(unused_imports)]
use crate::integrations::encode_json_like_go;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification() -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("summary", "disk is full")],
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

const TOKEN: &str = "TOKEN-secret-value";
const TOKEN_ID: &str = "USERID-secret-value";

fn parse(yaml: &str) -> RocketchatConfig {
    let mut c: RocketchatConfig = serde_saphyr::from_str(yaml).unwrap();
    c.apply_globals(&Default::default());
    c
}

fn rocketchat(yaml: &str) -> Rocketchat {
    install_crypto();
    Rocketchat::new(
        parse(yaml),
        Arc::new(Templates::builtin()),
        Arc::new(Metrics::new()),
    )
    .unwrap()
}

fn config(base: &str) -> String {
    format!("api_url: '{base}/chat'\ntoken: {TOKEN}\ntoken_id: {TOKEN_ID}\nchannel: '#alerts'\n")
}

#[test]
fn the_message_is_alertmanagers() {
    let r = rocketchat(&format!(
        "{}short_fields: true\nfields:\n- title: S\n  value: '{{{{ .Status }}}}'\nactions:\n- text: Ack\n  url: http://x/\n",
        config("http://x")
    ));
    let body = encode_json_like_go(&r.message(&notification())).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({
            "channel": "#alerts",
            "attachments": [{
                "title": "[FIRING:1] DiskFull (db1)",
                "title_link": "http://am:9093/#/alerts?receiver=ops",
                "color": "red",
                "fields": [{"short": true, "title": "S", "value": "firing"}],
                "actions": [{"type": "button", "text": "Ack", "url": "http://x/", "is_webview": false, "msg_in_chat_window": false}]
            }]
        })
    );
}

#[tokio::test]
async fn posts_with_the_tokens_and_reads_the_verdict() {
    let ok = (200, vec![], r#"{"success":true}"#.to_owned());
    let svc = LocalService::start(
        vec![
            ok.clone(),
            (
                200,
                vec![],
                r#"{"success":false,"error":"error-room-not-found"}"#.into(),
            ),
            (200, vec![], "<html>".into()),
            (401, vec![], format!("bad token {TOKEN}")),
            (429, vec![("retry-after", "4".into())], "{}".into()),
        ],
        ok,
    )
    .await;
    let r = rocketchat(&config(&svc.base));
    r.notify(&notification()).await.unwrap();
    let got = svc.received();
    assert_eq!(got[0].target, "/chat/api/v1/chat.postMessage");
    assert_eq!(got[0].header("x-auth-token"), Some(TOKEN));
    assert_eq!(got[0].header("x-user-id"), Some(TOKEN_ID));

    let e = r.notify(&notification()).await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(
        e.to_string()
            .contains("error response from Rocketchat: error-room-not-found"),
        "{e}"
    );
    let e = r.notify(&notification()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let e = r.notify(&notification()).await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains(TOKEN), "{e}");
    let e = r.notify(&notification()).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(4)));
}

#[test]
fn tokens_come_from_here_or_global_and_are_required() {
    let e = parse("channel: x\n")
        .validate("r.rocketchat_configs[0]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no global Rocketchat TokenID set"), "{e}");
    let mut c: RocketchatConfig = serde_saphyr::from_str("token_id: i\n").unwrap();
    let g = crate::config::GlobalConfig {
        rocketchat_token_file: Some("/run/secrets/rc".into()),
        ..Default::default()
    };
    c.apply_globals(&g);
    c.validate("x").unwrap();
    assert_eq!(c.api_url.as_deref(), Some("https://open.rocket.chat/"));
    let e = parse("token: a\ntoken_file: b\ntoken_id: i\n")
        .validate("x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most one of token and token_file"), "{e}");
}
