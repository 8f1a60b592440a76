//! WeChat tests: the body against Alertmanager's shape, the token fetched
//! once and reused, errcode handling, status rules, secrets kept out.

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

const SECRET: &str = "corp-SECRET-value";
const TOKEN: &str = "ACCESS-TOKEN-123";

fn config(api_url: &str) -> WechatConfig {
    WechatConfig {
        send_resolved: false,
        http_config: Default::default(),
        api_secret: Some(Secret::new(SECRET)),
        api_secret_file: None,
        corp_id: Some("corp1".into()),
        message: None,
        api_url: Some(format!("{api_url}/cgi-bin/")),
        to_user: Some("@all".into()),
        to_party: None,
        to_tag: None,
        agent_id: Some("1000002".into()),
        message_type: None,
    }
}

fn wechat(c: WechatConfig) -> Wechat {
    install_crypto();
    Wechat::new(c, Arc::new(Templates::builtin())).unwrap()
}

fn token_answer() -> (u16, Vec<(&'static str, String)>, String) {
    (
        200,
        vec![],
        json!({"errcode": 0, "errmsg": "ok", "access_token": TOKEN, "expires_in": 7200})
            .to_string(),
    )
}

fn ok_answer() -> (u16, Vec<(&'static str, String)>, String) {
    (200, vec![], r#"{"errcode":0,"errmsg":"ok"}"#.into())
}

#[test]
fn the_message_is_alertmanagers() {
    let w = wechat(config("http://x"));
    let body = encode_json_like_go(&w.message(&notification())).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({
            "text": {"content": "[FIRING:1] DiskFull (db1)\ndisk is full\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource: \n\n\nAlertmanagerUrl:\nhttp://am:9093/#/alerts?receiver=ops"},
            "touser": "@all",
            "agentid": "1000002",
            "safe": "0",
            "msgtype": "text",
            "markdown": {"content": ""}
        })
    );
    // Field order is Alertmanager's struct order.
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with("{\"text\":"), "{text}");
    let mut c = config("http://x");
    c.message_type = Some("markdown".into());
    c.message = Some("**{{ .Status }}**".into());
    let v = serde_json::to_value(wechat(c).message(&notification())).unwrap();
    assert_eq!(v["markdown"]["content"], "**firing**");
    assert_eq!(v["text"]["content"], "");
}

#[tokio::test]
async fn the_token_is_fetched_once_and_reused() {
    let svc =
        LocalService::start(vec![token_answer(), ok_answer(), ok_answer()], ok_answer()).await;
    let w = wechat(config(&svc.base));
    w.notify(&notification()).await.unwrap();
    w.notify(&notification()).await.unwrap();
    let got = svc.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].method, "GET");
    assert!(
        got[0]
            .target
            .starts_with("/cgi-bin/gettoken?corpid=corp1&corpsecret=corp-SECRET-value"),
        "{}",
        got[0].target
    );
    for r in &got[1..] {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.target,
            format!("/cgi-bin/message/send?access_token={TOKEN}")
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn errcodes_decide_the_outcome() {
    // 42001: the token expired; it is dropped and fetched again next time.
    let svc = LocalService::start(
        vec![
            token_answer(),
            (
                200,
                vec![],
                r#"{"errcode":42001,"errmsg":"access_token expired"}"#.into(),
            ),
            token_answer(),
            (
                200,
                vec![],
                r#"{"errcode":60020,"errmsg":"not allow to access from your ip"}"#.into(),
            ),
            (500, vec![], "busy".into()),
            (404, vec![], "nope".into()),
            (200, vec![], "<html>gateway</html>".into()),
        ],
        ok_answer(),
    )
    .await;
    let w = wechat(config(&svc.base));
    let e = w.notify(&notification()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("access_token expired"));
    let e = w.notify(&notification()).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(
        e.to_string().contains("not allow to access from your ip"),
        "{e}"
    );
    // Every status but 200 is retryable, 404 included (Alertmanager's rule).
    for status in [500, 404] {
        let e = w.notify(&notification()).await.unwrap_err();
        assert!(e.is_retryable(), "{status}: {e}");
        assert_eq!(e.status(), Some(status));
    }
    let e = w.notify(&notification()).await.unwrap_err();
    assert!(e.is_retryable(), "garbage: {e}");
    let gets = svc.received().iter().filter(|r| r.method == "GET").count();
    assert_eq!(gets, 2, "a new token after 42001 only");
    let e = e.to_string();
    assert!(!e.contains(TOKEN) && !e.contains(SECRET), "{e}");
}

#[tokio::test]
async fn a_bad_secret_is_a_permanent_failure_naming_the_corp() {
    let svc = LocalService::start(
        vec![(
            200,
            vec![],
            r#"{"errcode":40001,"errmsg":"invalid credential"}"#.into(),
        )],
        ok_answer(),
    )
    .await;
    let w = wechat(config(&svc.base));
    let e = w.notify(&notification()).await.unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(e.to_string(), "invalid APISecret for CorpID: corp1");
}

#[test]
fn config_takes_globals_and_alertmanagers_checks() {
    use crate::config::Config;
    let load = |global: &str, wechat: &str| {
        Config::load_str(
            &format!(
                "global:\n{global}route:\n  receiver: a\nreceivers:\n- name: a\n  wechat_configs:\n  - {wechat}\n"
            ),
            std::path::Path::new("am.yml"),
            &|_| None,
        )
    };
    let c = load(
        "  wechat_api_secret: s\n  wechat_api_corp_id: corp\n",
        "to_user: '@all'",
    )
    .unwrap();
    let w = &c.receivers[0].wechat_configs[0];
    assert_eq!(
        w.api_url.as_deref(),
        Some("https://qyapi.weixin.qq.com/cgi-bin/")
    );
    assert_eq!(w.corp_id.as_deref(), Some("corp"));
    assert!(!w.send_resolved);
    assert!(!c.original().contains(": s\n"));
    let c = load(
        "  resolve_timeout: 5m\n",
        "{api_secret: x, corp_id: c, api_url: 'http://w.example/api'}",
    )
    .unwrap();
    assert_eq!(
        c.receivers[0].wechat_configs[0].api_url.as_deref(),
        Some("http://w.example/api/")
    );
    for (global, yaml, field, text) in [
        (
            "  resolve_timeout: 5m\n",
            "corp_id: c",
            "receivers[0].wechat_configs[0].api_secret",
            "no global Wechat Api Secret set either inline or in a file",
        ),
        (
            "  wechat_api_secret: s\n",
            "to_user: x",
            "receivers[0].wechat_configs[0].corp_id",
            "no global Wechat CorpID set",
        ),
        (
            "  resolve_timeout: 5m\n",
            "{api_secret: x, api_secret_file: f, corp_id: c}",
            "receivers[0].wechat_configs[0]",
            "at most one of api_secret & api_secret_file must be configured",
        ),
        (
            "  resolve_timeout: 5m\n",
            "{api_secret: x, corp_id: c, message_type: html}",
            "receivers[0].wechat_configs[0].message_type",
            "weChat message type \"html\" does not match valid options ^(text|markdown)$",
        ),
    ] {
        let err = load(global, yaml).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{yaml}: {err}");
        assert!(err.message.contains(text), "{yaml}: {err}");
    }
}
