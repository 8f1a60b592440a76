//! PagerDuty tests against a local Events API: v2 and v1 events,
//! Alertmanager 0.34's default details, limits, status rules, keys kept out.

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

const KEY: &str = "R0UTINGKEY0000000000000000000000";

fn pagerduty(yaml: &str) -> Pagerduty {
    install_crypto();
    let mut c: PagerdutyConfig = serde_saphyr::from_str(yaml).unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    Pagerduty::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

fn hash() -> String {
    group_key_hash("{}:{alertname=\"DiskFull\"}")
}

#[test]
fn a_v2_event_is_alertmanager_0_34s() {
    let p = pagerduty(&format!("routing_key: {KEY}\n"));
    let v = serde_json::to_value(p.event(&notification(false), KEY).unwrap()).unwrap();
    let firing = &v["payload"]["custom_details"]["firing"];
    assert_eq!(
        firing[0]["labels"],
        json!({"alertname": "DiskFull", "instance": "db1"})
    );
    assert_eq!(firing[0]["status"], "firing");
    assert_eq!(v["payload"]["custom_details"]["num_firing"], 1);
    assert_eq!(v["payload"]["custom_details"]["resolved"], json!([]));
    let mut v = v;
    v["payload"]["custom_details"] = json!(null);
    assert_eq!(
        v,
        json!({
            "routing_key": KEY,
            "dedup_key": hash(),
            "event_action": "trigger",
            "payload": {
                "summary": "[FIRING:1] DiskFull (db1)",
                "source": "Alertmanager",
                "severity": "error",
                "custom_details": null
            },
            "client": "Alertmanager",
            "client_url": "http://am:9093/#/alerts?receiver=ops"
        })
    );
    let resolved = p.event(&notification(true), KEY).unwrap();
    assert_eq!(resolved.event_action, "resolve");
}

#[test]
fn a_v1_event_is_alertmanagers() {
    let p = pagerduty("service_key: SVC\n");
    let body = encode_json_like_go(&p.event(&notification(true), "SVC").unwrap()).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["service_key"], "SVC");
    assert_eq!(v["incident_key"], hash());
    assert_eq!(v["event_type"], "resolve");
    assert_eq!(v["event_action"], "");
    assert_eq!(v["payload"], Value::Null);
    assert!(v.get("client").is_none(), "no client on a v1 resolve");
    assert_eq!(v["details"]["num_firing"], 0);
    assert_eq!(p.url(), V1_URL);
}

#[test]
fn limits_are_alertmanagers() {
    let long = "x".repeat(300_000);
    let p = pagerduty(&format!(
        "routing_key: {KEY}\ndescription: '{}'\ndetails:\n  big: '{{{{ .CommonAnnotations.summary }}}}{long}{long}'\n",
        "é".repeat(2000)
    ));
    let event = p.event(&notification(false), KEY).unwrap();
    assert_eq!(
        event.payload.as_ref().unwrap().summary.chars().count(),
        MAX_SUMMARY_RUNES
    );
    let body = p.encode(event).unwrap();
    assert!(body.len() < MAX_EVENT_BYTES);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["payload"]["custom_details"], json!({"error": TOO_BIG}));
}

#[tokio::test]
async fn answers_follow_alertmanagers_rules_per_api_version() {
    let problem = json!({"status": "invalid event", "message": "Event object is invalid", "errors": ["Length of 'routing_key' is incorrect"]}).to_string();
    let cases: Vec<(&str, u16, Option<bool>)> = vec![
        ("routing_key", 202, None),
        ("routing_key", 400, Some(false)),
        ("routing_key", 403, Some(false)),
        ("routing_key", 429, Some(true)),
        ("routing_key", 500, Some(true)),
        ("service_key", 200, None),
        ("service_key", 403, Some(true)),
        ("service_key", 400, Some(false)),
    ];
    for (kind, status, retryable) in cases {
        let svc = LocalService::start(
            vec![],
            (status, vec![], problem.replace("routing_key", KEY)),
        )
        .await;
        let p = pagerduty(&format!("{kind}: {KEY}\nurl: '{}/enqueue'\n", svc.base));
        let r = p.notify(&notification(false)).await;
        match retryable {
            None => r.unwrap(),
            Some(retryable) => {
                let e = r.unwrap_err();
                assert_eq!(e.is_retryable(), retryable, "{kind} {status}: {e}");
                assert!(!e.to_string().contains(KEY), "{e}");
                if status == 400 {
                    assert!(
                        e.to_string().contains("Event object is invalid: Length of"),
                        "{e}"
                    );
                }
            }
        }
        let got = svc.received();
        assert_eq!(got[0].target, "/enqueue");
        assert_eq!(got[0].header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn the_routing_key_file_is_read_when_sending() {
    let svc = LocalService::start(vec![], (202, vec![], "{}".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    let p = pagerduty(&format!(
        "routing_key_file: {}\nurl: '{}/e'\n",
        file.display(),
        svc.base
    ));
    assert!(p.notify(&notification(false)).await.is_err());
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    p.notify(&notification(false)).await.unwrap();
    let v: Value = serde_json::from_slice(&svc.received()[0].body).unwrap();
    assert_eq!(v["routing_key"], KEY);
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: PagerdutyConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.pagerduty_configs[0]")
            .unwrap_err()
            .to_string()
    };
    assert!(err("severity: x\n").contains("missing service or routing key in PagerDuty config"));
    assert!(err("routing_key: a\nrouting_key_file: b\n").contains("at most one of routing_key"));
    let mut c: PagerdutyConfig =
        serde_saphyr::from_str("routing_key: k\nclient: '{{ .Receiver }}'\n").unwrap();
    c.apply_globals(&Default::default());
    assert_eq!(
        c.source.as_deref(),
        Some("{{ .Receiver }}"),
        "source defaults to client"
    );
    assert_eq!(
        c.url.as_deref(),
        Some("https://events.pagerduty.com/v2/enqueue")
    );
    assert_eq!(c.details.len(), 4);
}
