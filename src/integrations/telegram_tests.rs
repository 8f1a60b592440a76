//! Telegram tests against a local Bot API: the sendMessage body, HTML
//! escaping and limits, `ok:false` answers and `retry_after`, files read
//! at send time, the token kept out of errors.

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

const TOKEN: &str = "123456:ABC-secret-token";

fn telegram(base: &str, extra: &str) -> Telegram {
    install_crypto();
    let mut c: TelegramConfig = serde_saphyr::from_str(&format!(
        "api_url: '{base}'\nbot_token: '{TOKEN}'\nchat_id: -1001234567890\n{extra}"
    ))
    .unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    Telegram::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

fn ok() -> (u16, Vec<(&'static str, String)>, String) {
    (
        200,
        vec![],
        json!({"ok": true, "result": {"message_id": 1, "chat": {"id": 1}}}).to_string(),
    )
}

#[tokio::test]
async fn sends_alertmanagers_message_escaped_for_html() {
    let svc = LocalService::start(vec![], ok()).await;
    telegram(
        &svc.base,
        "message_thread_id: 42\ndisable_notifications: true\n",
    )
    .notify(&notification("disk <b>full</b> & more"))
    .await
    .unwrap();
    let got = svc.received();
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].target, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        v,
        json!({
            "chat_id": "-1001234567890",
            "disable_notification": "true",
            "disable_web_page_preview": "true",
            "message_thread_id": "42",
            "parse_mode": "HTML",
            "text": "\n\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk &lt;b&gt;full&lt;/b&gt; &amp; more\nSource: \n\n\n\n"
        })
    );
}

#[test]
fn long_messages_follow_alertmanagers_rules() {
    let long = "é".repeat(5000);
    let html = telegram("http://x", "");
    assert_eq!(html.text(&notification(&long)), TOO_LONG);
    let plain = telegram(
        "http://x",
        "parse_mode: MarkdownV2\nmessage: '{{ .CommonAnnotations.summary }}'\n",
    );
    let text = plain.text(&notification(&long));
    assert_eq!(text.chars().count(), MAX_MESSAGE_RUNES);
    assert!(text.ends_with('…'));
    let none = telegram("http://x", "parse_mode: ''\n");
    assert!(
        !none
            .params(&notification("x"), 1)
            .contains_key("parse_mode")
    );
}

#[tokio::test]
async fn failures_carry_telegrams_description_and_retry_after() {
    let svc = LocalService::start(
        vec![
            (400, vec![], json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}).to_string()),
            (429, vec![], json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 17", "parameters": {"retry_after": 17}}).to_string()),
            (502, vec![], "<html>bad gateway</html>".into()),
            (401, vec![], json!({"ok": false, "error_code": 401, "description": format!("Unauthorized {TOKEN}")}).to_string()),
        ],
        ok(),
    )
    .await;
    let tg = telegram(&svc.base, "");
    let e = tg.notify(&notification("x")).await.unwrap_err();
    assert!(
        e.is_retryable(),
        "Alertmanager retries every Telegram failure"
    );
    assert!(e.to_string().contains("chat not found"), "{e}");
    let e = tg.notify(&notification("x")).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
    assert_eq!(e.status(), Some(429));
    let e = tg.notify(&notification("x")).await.unwrap_err();
    assert!(e.is_retryable());
    let e = tg.notify(&notification("x")).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert!(!e.to_string().contains("ABC-secret-token"), "{e}");
    tg.notify(&notification("x")).await.unwrap();
}

#[tokio::test]
async fn token_and_chat_id_files_are_read_when_sending() {
    let svc = LocalService::start(vec![], ok()).await;
    let dir = tempfile::tempdir().unwrap();
    let (token, chat) = (dir.path().join("token"), dir.path().join("chat"));
    install_crypto();
    let mut c: TelegramConfig = serde_saphyr::from_str(&format!(
        "api_url: '{}'\nbot_token_file: {}\nchat_id_file: {}\n",
        svc.base,
        token.display(),
        chat.display()
    ))
    .unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    let tg = Telegram::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap();
    assert!(tg.notify(&notification("x")).await.is_err());
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    std::fs::write(&chat, "-42\n").unwrap();
    tg.notify(&notification("x")).await.unwrap();
    let got = svc.received();
    assert_eq!(got[0].target, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(
        serde_json::from_slice::<Value>(&got[0].body).unwrap()["chat_id"],
        "-42"
    );
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: TelegramConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.telegram_configs[0]").unwrap_err().to_string()
    };
    assert!(err("bot_token: t\n").contains("missing chat_id or chat_id_file"));
    assert!(
        err("bot_token: t\nchat_id: 1\nchat_id_file: /f\n")
            .contains("at most one of chat_id & chat_id_file")
    );
    assert!(err("bot_token: t\nchat_id: 1\nparse_mode: html\n").contains("unknown parse_mode"));
    assert!(err("chat_id: 1\n").contains("missing bot_token or bot_token_file"));
    let mut c: TelegramConfig = serde_saphyr::from_str("chat_id: 1\n").unwrap();
    c.apply_globals(&crate::config::GlobalConfig {
        telegram_bot_token: Some(crate::config::Secret::new("g")),
        ..Default::default()
    });
    c.validate("x").unwrap();
    assert_eq!(c.api_url.as_deref(), Some("https://api.telegram.org"));
    assert!(c.send_resolved);
}
