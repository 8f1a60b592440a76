//! VictorOps tests against a local REST endpoint: the payload, message
//! types, limits, answers, the key kept out.

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

const KEY: &str = "VO-API-KEY-0001";

fn victorops(base: &str, extra: &str) -> VictorOps {
    install_crypto();
    let mut c: VictorOpsConfig = serde_saphyr::from_str(&format!(
        "api_url: '{base}/alert'\napi_key: {KEY}\nrouting_key: ops\n{extra}"
    ))
    .unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    VictorOps::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

#[test]
fn the_payload_is_alertmanagers() {
    let v = victorops(
        "http://x",
        "custom_fields:\n  team: '{{ .CommonLabels.instance }}'\n",
    );
    let p = serde_json::to_value(v.payload(&notification(false)).unwrap()).unwrap();
    assert_eq!(
        p,
        json!({
            "entity_display_name": "[FIRING:1] DiskFull (db1)",
            "entity_id": group_key_hash("{}:{alertname=\"DiskFull\"}"),
            "message_type": "CRITICAL",
            "monitoring_tool": "Alertmanager",
            "state_message": "disk is full\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource: \n\n",
            "team": "db1"
        })
    );
    assert_eq!(
        v.payload(&notification(true)).unwrap()["message_type"],
        "RECOVERY"
    );
    let info = victorops("http://x", "message_type: INFO\n");
    assert_eq!(
        info.payload(&notification(false)).unwrap()["message_type"],
        "INFO"
    );
    let odd = victorops("http://x", "message_type: PAGE\n");
    assert_eq!(
        odd.payload(&notification(false)).unwrap()["message_type"],
        "CRITICAL"
    );
}

#[tokio::test]
async fn posts_to_key_and_routing_key_and_classifies_answers() {
    for (status, retryable) in [
        (200, None),
        (400, Some(false)),
        (404, Some(false)),
        (429, Some(true)),
        (500, Some(true)),
    ] {
        let svc = LocalService::start(
            vec![],
            (status, vec![], format!("no such key /alert/{KEY}/ops")),
        )
        .await;
        let r = victorops(&svc.base, "").notify(&notification(false)).await;
        assert_eq!(svc.received()[0].target, format!("/alert/{KEY}/ops"));
        match retryable {
            None => r.unwrap(),
            Some(retryable) => {
                let e = r.unwrap_err();
                assert_eq!(e.is_retryable(), retryable, "{status}");
                assert!(!e.to_string().contains(KEY), "{e}");
            }
        }
    }
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: VictorOpsConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.victorops_configs[0]")
            .unwrap_err()
            .to_string()
    };
    assert!(err("api_key: k\n").contains("missing Routing key in VictorOps config"));
    assert!(err("routing_key: r\n").contains("no global VictorOps API Key set"));
    assert!(
        err("api_key: k\nrouting_key: r\ncustom_fields:\n  entity_state: x\n")
            .contains("custom field entity_state which cannot be used")
    );
    let s: Value = serde_json::to_value(parse_default()).unwrap();
    assert_eq!(
        s["api_url"],
        "https://alert.victorops.com/integrations/generic/20131114/alert/"
    );
}

fn parse_default() -> VictorOpsConfig {
    let mut c: VictorOpsConfig = serde_saphyr::from_str("routing_key: r\napi_key: k\n").unwrap();
    c.apply_globals(&Default::default());
    c
}
