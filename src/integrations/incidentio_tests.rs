//! incident.io tests: the version-1 webhook payload, the source token,
//! the size limit, answers, secrets kept out.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::config::IntegrationConfig;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification(alerts: usize, annotation: &str) -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: (0..alerts)
            .map(|i| {
                alert(
                    &[("alertname", "DiskFull"), ("instance", &format!("db{i}"))],
                    &[("summary", annotation)],
                    t(0),
                    t(600),
                )
            })
            .collect(),
        external_url: "http://am:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

const TOKEN: &str = "inc-source-TOKEN";

fn incidentio(yaml: &str) -> Incidentio {
    install_crypto();
    let c: IncidentioConfig = serde_saphyr::from_str(yaml).unwrap();
    c.validate("x").unwrap();
    Incidentio::new(c, Arc::new(Metrics::new())).unwrap()
}

#[tokio::test]
async fn posts_the_webhook_payload_as_version_1_with_the_token() {
    let svc = LocalService::start(vec![], (202, vec![], "{}".into())).await;
    let i = incidentio(&format!(
        "url: '{}/v2/alert_events/alertmanager/01ABC'\nalert_source_token: {TOKEN}\nmax_alerts: 2\n",
        svc.base
    ));
    i.notify(&notification(3, "full")).await.unwrap();
    let got = svc.received();
    assert_eq!(got[0].target, "/v2/alert_events/alertmanager/01ABC");
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let v: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(v["version"], "1");
    assert_eq!(v["groupKey"], "{}:{alertname=\"DiskFull\"}");
    assert_eq!(v["truncatedAlerts"], 1); // 3 alerts, max_alerts 2
    assert_eq!(v["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(v["receiver"], "ops");
}

#[test]
fn a_payload_over_512_kib_keeps_its_first_alert() {
    let i = incidentio("url: http://x/\nalert_source_token: t\n");
    let body = i.body(&notification(40, &"x".repeat(20_000))).unwrap();
    assert!(body.len() <= MAX_PAYLOAD_BYTES);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["alerts"].as_array().unwrap().len(), 1);
    assert!(i.metrics.encode().contains(
        r#"klaxon_notification_truncations_total{integration="incidentio",field="alerts"} 1"#
    ));
}

#[tokio::test]
async fn answers_are_classified_and_never_show_the_url_or_token() {
    for (status, retryable) in [(400, false), (401, false), (429, true), (503, true)] {
        let svc = LocalService::start(
            vec![],
            (
                status,
                vec![],
                format!(r#"{{"message":"nope","errors":["/v2/alert_events/SRCID {TOKEN}"]}}"#),
            ),
        )
        .await;
        let i = incidentio(&format!(
            "url: '{}/v2/alert_events/SRCID'\nalert_source_token: {TOKEN}\n",
            svc.base
        ));
        let e = i.notify(&notification(1, "x")).await.unwrap_err();
        assert_eq!(e.is_retryable(), retryable, "{status}");
        let shown = e.to_string();
        assert!(shown.contains("nope"), "{shown}");
        assert!(!shown.contains("SRCID"), "{shown}");
    }
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        serde_saphyr::from_str::<IncidentioConfig>(yaml)
            .unwrap()
            .validate("r.incidentio_configs[0]")
            .unwrap_err()
            .to_string()
    };
    assert!(err("alert_source_token: t\n").contains("one of url or url_file"));
    assert!(err("url: http://x/\nurl_file: /f\n").contains("at most one of url & url_file"));
    assert!(
        err("url: http://x/\nalert_source_token: t\nhttp_config:\n  authorization:\n    credentials: c\n")
            .contains("cannot specify alert_source_token")
    );
}
