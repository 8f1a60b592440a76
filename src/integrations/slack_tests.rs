//! Slack tests: Alertmanager's body, webhook and Web API answers, rate
//! limits, `update_message`, truncation, secrets kept out of errors.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::Secret;
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

const HOOK_SECRET: &str = "T000/B000/XXXXsecretXXXX";
const TOKEN: &str = "xoxb-bot-token-SECRET";

fn parse(yaml: &str) -> SlackConfig {
    let mut c: SlackConfig = serde_saphyr::from_str(yaml).unwrap();
    crate::config::IntegrationConfig::apply_globals(&mut c, &Default::default());
    c
}

fn webhook_config(base: &str) -> SlackConfig {
    parse(&format!(
        "api_url: '{base}/services/{HOOK_SECRET}'\nchannel: '#alerts'\n"
    ))
}

fn app_config(base: &str) -> SlackConfig {
    parse(&format!(
        "app_token: {TOKEN}\napp_url: '{base}/api/chat.postMessage'\nchannel: '#alerts'\nupdate_message: true\n"
    ))
}

fn slack(c: SlackConfig) -> Slack {
    install_crypto();
    Slack::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

type Answer = (u16, Vec<(&'static str, String)>, String);

fn text(status: u16, body: &str) -> Answer {
    (
        status,
        vec![("content-type", "text/html".into())],
        body.into(),
    )
}

fn api(body: Value) -> Answer {
    (
        200,
        vec![("content-type", "application/json; charset=utf-8".into())],
        body.to_string(),
    )
}

#[test]
fn the_message_is_alertmanagers() {
    let s = slack(webhook_config("http://x"));
    let body = encode_json_like_go(&s.message(&notification())).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({
            "channel": "#alerts",
            "username": "Alertmanager",
            "attachments": [{
                "title": "[FIRING:1] DiskFull (db1)",
                "title_link": "http://am:9093/#/alerts?receiver=ops",
                "text": "",
                "fallback": "[FIRING:1] DiskFull (db1) | http://am:9093/#/alerts?receiver=ops",
                "callback_id": "",
                "footer": "",
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"]
            }]
        })
    );
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with("{\"channel\":\"#alerts\",\"username\""),
        "{text}"
    );
}

#[test]
fn fields_and_actions_are_rendered_with_short_falling_back_to_short_fields() {
    let c = parse(
        "api_url: http://x/\nshort_fields: true\nfields:\n- title: Status\n  value: '{{ .Status }}'\n- title: Count\n  value: '{{ len .Alerts }}'\n  short: false\nactions:\n- type: button\n  text: Runbook\n  url: 'http://wiki/{{ .CommonLabels.alertname }}'\n  name: dropped\n- type: button\n  text: Ack\n  name: ack\n  value: '{{ .GroupLabels.alertname }}'\n  confirm:\n    text: Sure?\n",
    );
    let v = serde_json::to_value(slack(c).message(&notification())).unwrap();
    let att = &v["attachments"][0];
    assert_eq!(
        att["fields"],
        json!([
            {"title": "Status", "value": "firing", "short": true},
            {"title": "Count", "value": "1", "short": false}
        ])
    );
    assert_eq!(
        att["actions"],
        json!([
            {"type": "button", "text": "Runbook", "url": "http://wiki/DiskFull"},
            {"type": "button", "text": "Ack", "name": "ack", "value": "DiskFull", "confirm": {"text": "Sure?"}}
        ])
    );
}

#[test]
fn a_long_title_is_cut_to_1024_runes_and_counted() {
    let mut c = webhook_config("http://x");
    c.title = Some("é".repeat(2000));
    let s = slack(c);
    let title = s.message(&notification()).attachments[0].title.clone();
    assert_eq!(title.chars().count(), MAX_TITLE_RUNES);
    assert!(title.ends_with('…'));
    assert!(s.metrics.encode().contains(
        "klaxon_notification_truncations_total{integration=\"slack\",field=\"title\"} 1"
    ));
}

#[tokio::test]
async fn an_incoming_webhook_answering_ok_is_success() {
    let svc = LocalService::start(vec![], text(200, "ok")).await;
    slack(webhook_config(&svc.base))
        .notify(&notification())
        .await
        .unwrap();
    let got = svc.received();
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].target, format!("/services/{HOOK_SECRET}"));
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].header("authorization"), None);
}

#[tokio::test]
async fn webhook_errors_are_classified_and_never_show_the_url() {
    let echo = format!("no_service for /services/{HOOK_SECRET}");
    let cases: Vec<(Answer, bool, &str)> = vec![
        (text(400, "invalid_payload"), false, "invalid_payload"),
        (text(404, &echo), false, "no_service"),
        (
            text(200, &echo),
            false,
            "received an error response from Slack",
        ),
        (text(500, "rollup_error"), true, "rollup_error"),
        (text(503, "busy"), true, "busy"),
    ];
    for (answer, retryable, says) in cases {
        let svc = LocalService::start(vec![], answer).await;
        let e = slack(webhook_config(&svc.base))
            .notify(&notification())
            .await
            .unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.is_retryable(), retryable, "{shown}");
        assert!(shown.contains(says), "{shown}");
        assert!(
            shown.starts_with("channel \"#alerts\": ") || shown.contains(": channel \"#alerts\": "),
            "{shown}"
        );
        for secret in ["XXXXsecretXXXX", "T000/B000", HOOK_SECRET] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_slacks_retry_after() {
    let svc = LocalService::start(
        vec![],
        (
            429,
            vec![("retry-after", "7".into())],
            "rate_limited".into(),
        ),
    )
    .await;
    let e = slack(webhook_config(&svc.base))
        .notify(&notification())
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(7)));
}

#[tokio::test]
async fn the_web_api_gets_the_bot_token_and_its_ok_false_is_a_failure() {
    let svc = LocalService::start(
        vec![api(json!({"ok": false, "error": "channel_not_found"}))],
        (
            200,
            vec![("content-type", "application/json".into())],
            "{not json".into(),
        ),
    )
    .await;
    let s = slack(app_config(&svc.base));
    let e = s.notify(&notification()).await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(
        e.to_string()
            .contains("error response from Slack: channel_not_found"),
        "{e}"
    );
    let got = svc.received();
    assert_eq!(got[0].target, "/api/chat.postMessage");
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    // Garbage labelled JSON is retried, as Alertmanager does.
    let e = s.notify(&notification()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!e.to_string().contains(TOKEN));
}

#[tokio::test]
async fn update_message_edits_the_groups_first_message() {
    let svc = LocalService::start(
        vec![api(
            json!({"ok": true, "channel": "C123", "ts": "1700000000.000100"}),
        )],
        api(json!({"ok": true, "channel": "C123", "ts": "1700000000.000100"})),
    )
    .await;
    let s = slack(app_config(&svc.base));
    let state = NotifyState::default();
    s.notify_with_state(&notification(), &state).await.unwrap();
    {
        let kept = state.lock().unwrap();
        assert_eq!(
            kept.get("threadTs").map(String::as_str),
            Some("1700000000.000100")
        );
        assert_eq!(kept.get("channelId").map(String::as_str), Some("C123"));
    }
    s.notify_with_state(&notification(), &state).await.unwrap();
    let got = svc.received();
    assert_eq!(got[0].target, "/api/chat.postMessage");
    assert_eq!(got[1].target, "/api/chat.update");
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["channel"], "C123");
    assert_eq!(body["ts"], "1700000000.000100");
    assert!(serde_json::from_slice::<Value>(&got[0].body).unwrap()["ts"].is_null());
}

#[tokio::test]
async fn files_are_read_when_sending() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let url = dir.path().join("url");
    let svc = LocalService::start(vec![], api(json!({"ok": true}))).await;
    let c = parse(&format!(
        "app_token_file: {}\napp_url: '{}/api/chat.postMessage'\n",
        token.display(),
        svc.base
    ));
    let s = slack(c);
    let e = s.notify(&notification()).await.unwrap_err();
    assert!(e.to_string().contains("token"), "{e}");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    s.notify(&notification()).await.unwrap();
    assert_eq!(
        svc.received()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    let c = parse(&format!("api_url_file: {}\n", url.display()));
    std::fs::write(&url, format!("{}/services/{HOOK_SECRET}\n", svc.base)).unwrap();
    slack(c).notify(&notification()).await.unwrap();
    assert!(
        svc.received()
            .iter()
            .any(|r| r.target == format!("/services/{HOOK_SECRET}"))
    );
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    use crate::config::IntegrationConfig;
    let err = |yaml: &str| {
        parse(yaml)
            .validate("receivers[0].slack_configs[0]")
            .unwrap_err()
            .to_string()
    };
    assert!(err("channel: x\n").contains("no Slack API URL nor App token set"));
    assert!(
        err("api_url: http://x/\napp_token: t\n")
            .contains("at most one of api_url/api_url_file & app_token/app_token_file")
    );
    assert!(err("api_url: http://x/\napi_url_file: /f\n").contains("at most one of api_url"));
    assert!(
        err("api_url: https://hooks.slack.com/services/x\nupdate_message: true\n")
            .contains("update_message can only be used with bot tokens")
    );
    assert!(
        err("app_token: t\nhttp_config:\n  authorization:\n    credentials: c\n")
            .contains("http authorization can't be set when using Slack App tokens")
    );
    assert!(
        err("api_url: http://x/\nfields:\n- title: a\n").contains("missing value in Slack field")
    );
    assert!(
        err("api_url: http://x/\nactions:\n- type: button\n  text: t\n")
            .contains("missing name or url")
    );
    assert!(err("api_url: not-a-url\n").contains("slack_configs[0].api_url"));
    // The global webhook URL fills in, the global token too.
    let mut c: SlackConfig = serde_saphyr::from_str("channel: x\n").unwrap();
    let g = crate::config::GlobalConfig {
        slack_app_token: Some(Secret::new("tok")),
        ..Default::default()
    };
    c.apply_globals(&g);
    assert!(c.uses_app_token());
    assert_eq!(
        c.app_url.as_deref(),
        Some(crate::config::SLACK_POST_MESSAGE_URL)
    );
    c.validate("x").unwrap();
}
