//! Opsgenie tests against a local Alert API: create, close, update,
//! responders, limits, answers, the key kept out.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::IntegrationConfig;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification(resolved: bool) -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("summary", "disk is full")],
            t(0),
            if resolved { t(50) } else { t(600) },
        )],
        external_url: "http://am:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

const KEY: &str = "eb243592-faa2-4ba2-a551q-1afdf565c889";

fn opsgenie(base: &str, extra: &str) -> Opsgenie {
    install_crypto();
    let mut c: OpsgenieConfig =
        serde_saphyr::from_str(&format!("api_url: '{base}'\napi_key: {KEY}\n{extra}")).unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    Opsgenie::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

fn alias() -> String {
    group_key_hash("{}:{alertname=\"DiskFull\"}")
}

#[test]
fn a_firing_group_creates_alertmanagers_alert() {
    let o = opsgenie(
        "http://x",
        "responders:\n- name: 'a, b'\n  type: teams\n- id: '{{ .CommonLabels.none }}'\n  type: '{{ .CommonLabels.none }}'\n- username: jane\n  type: user\n",
    );
    let calls = o.calls(&notification(false)).unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].method.clone(), calls[0].path.as_str()),
        (Method::POST, "v2/alerts")
    );
    let v: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(
        v,
        json!({
            "alias": alias(),
            "message": "[FIRING:1] DiskFull (db1)",
            "description": "disk is full\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource: \n\n",
            "details": {"alertname": "DiskFull", "instance": "db1"},
            "source": "http://am:9093/#/alerts?receiver=ops",
            "responders": [
                {"name": "a", "type": "team"},
                {"name": " b", "type": "team"},
                {"username": "jane", "type": "user"}
            ]
        })
    );
}

#[tokio::test]
async fn resolve_closes_and_update_alerts_updates() {
    let svc = LocalService::start(vec![], (202, vec![], "{}".into())).await;
    let o = opsgenie(&svc.base, "update_alerts: true\nmessage: '{{ \"x\" }}'\n");
    o.notify(&notification(false)).await.unwrap();
    o.notify(&notification(true)).await.unwrap();
    let got = svc.received();
    let calls: Vec<(String, String)> = got
        .iter()
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    let a = alias();
    assert_eq!(
        calls,
        [
            ("POST".into(), "/v2/alerts".into()),
            (
                "PUT".into(),
                format!("/v2/alerts/{a}/message?identifierType=alias")
            ),
            (
                "PUT".into(),
                format!("/v2/alerts/{a}/description?identifierType=alias")
            ),
            (
                "POST".into(),
                format!("/v2/alerts/{a}/close?identifierType=alias")
            ),
        ]
    );
    for r in &got {
        assert_eq!(
            r.header("authorization"),
            Some(format!("GenieKey {KEY}").as_str())
        );
    }
    assert_eq!(
        serde_json::from_slice::<Value>(&got[1].body).unwrap(),
        json!({"message": "x"})
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&got[3].body).unwrap(),
        json!({"source": "http://am:9093/#/alerts?receiver=ops"})
    );
}

#[test]
fn the_message_is_cut_to_130_runes() {
    let o = opsgenie("http://x", &format!("message: '{}'\n", "é".repeat(200)));
    let v: Value = serde_json::from_slice(&o.calls(&notification(false)).unwrap()[0].body).unwrap();
    assert_eq!(
        v["message"].as_str().unwrap().chars().count(),
        MAX_MESSAGE_RUNES
    );
}

#[tokio::test]
async fn answers_are_classified_and_the_key_never_shows() {
    for (status, retryable) in [
        (400, false),
        (401, false),
        (422, false),
        (429, true),
        (503, true),
    ] {
        let svc = LocalService::start(
            vec![],
            (
                status,
                vec![],
                format!(r#"{{"message":"Key format is not valid: {KEY}"}}"#),
            ),
        )
        .await;
        let e = opsgenie(&svc.base, "")
            .notify(&notification(false))
            .await
            .unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{status}");
        assert!(!e.to_string().contains(KEY), "{e}");
    }
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: OpsgenieConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.opsgenie_configs[0]").unwrap_err().to_string()
    };
    assert!(err("message: x\n").contains("no global OpsGenie API Key set"));
    assert!(err("api_key: a\napi_key_file: b\n").contains("at most one of api_key"));
    assert!(
        err("api_key: a\nresponders:\n- type: team\n")
            .contains("at least one of id, username or name")
    );
    assert!(
        err("api_key: a\nresponders:\n- name: x\n  type: squad\n")
            .contains("does not match valid options")
    );
    let mut c: OpsgenieConfig =
        serde_saphyr::from_str("responders:\n- name: x\n  type: Team\n").unwrap();
    c.apply_globals(&crate::config::GlobalConfig {
        opsgenie_api_key: Some(crate::config::Secret::new("k")),
        ..Default::default()
    });
    c.validate("x").unwrap();
    assert_eq!(c.api_url.as_deref(), Some("https://api.opsgenie.com/"));
}
