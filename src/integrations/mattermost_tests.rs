//! Mattermost tests: Alertmanager's post (one attachment or the listed
//! ones), priority rules, answers, secrets kept out.

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

fn parse(yaml: &str) -> MattermostConfig {
    let mut c: MattermostConfig = serde_saphyr::from_str(yaml).unwrap();
    c.apply_globals(&Default::default());
    c
}

fn mattermost(yaml: &str) -> Mattermost {
    install_crypto();
    Mattermost::new(
        parse(yaml),
        Arc::new(Templates::builtin()),
        Arc::new(Metrics::new()),
    )
    .unwrap()
}

const TEXT: &str = "\n\n# Alerts Firing:\n\nLabels:\n  - alertname = DiskFull\n  - instance = db1\n\nAnnotations:\n  - summary = disk is full\n\nSource: \n\n\n\n\n";

#[test]
fn the_post_is_alertmanagers() {
    let m = mattermost("webhook_url: http://x/hooks/abc\nchannel: alerts\n");
    let body = encode_json_like_go(&m.post(&notification())).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({
            "channel": "alerts",
            "username": "Alertmanager",
            "attachments": [{
                "fallback": "[FIRING:1] DiskFull (db1) | http://am:9093/#/alerts?receiver=ops",
                "color": "danger",
                "text": TEXT,
                "title": "[FIRING:1] DiskFull (db1)",
                "title_link": "http://am:9093/#/alerts?receiver=ops"
            }]
        })
    );
}

#[test]
fn listed_attachments_replace_the_top_one_and_the_text_moves_up() {
    let m = mattermost(
        "webhook_url: http://x/\ntext: 'T {{ .Status }}'\nattachments:\n- title: 'A {{ .CommonLabels.instance }}'\n  fields:\n  - title: f\n    value: '{{ len .Alerts }}'\n    short: true\n- text: second\n",
    );
    let v = serde_json::to_value(m.post(&notification())).unwrap();
    assert_eq!(v["text"], "T firing");
    assert_eq!(
        v["attachments"],
        json!([
            {"title": "A db1", "fields": [{"title": "f", "value": "1", "short": true}]},
            {"text": "second"}
        ])
    );
}

#[test]
fn priority_is_normalised_as_alertmanager_does() {
    let cases = [
        (
            "Urgent",
            true,
            true,
            json!({"priority": "urgent", "requested_ack": true, "persistent_notifications": true}),
        ),
        (
            "important",
            true,
            true,
            json!({"priority": "important", "requested_ack": true}),
        ),
        ("whatever", true, true, json!({"priority": "standard"})),
    ];
    for (level, ack, persistent, want) in cases {
        let m = mattermost(&format!(
            "webhook_url: http://x/\npriority:\n  priority: {level}\n  requested_ack: {ack}\n  persistent_notifications: {persistent}\nprops:\n  card: 'card {{{{ .Status }}}}'\n"
        ));
        let v = serde_json::to_value(m.post(&notification())).unwrap();
        assert_eq!(v["priority"], want, "{level}");
        assert_eq!(v["props"], json!({"card": "card firing"}));
    }
}

#[tokio::test]
async fn answers_are_classified_and_never_show_the_url() {
    for (status, retryable) in [
        (200, None),
        (400, Some(false)),
        (429, Some(true)),
        (500, Some(true)),
    ] {
        let svc =
            LocalService::start(vec![], (status, vec![], "echo /hooks/SECRETKEY".into())).await;
        let m = mattermost(&format!("webhook_url: '{}/hooks/SECRETKEY'\n", svc.base));
        let r = m.notify(&notification()).await;
        match retryable {
            None => r.unwrap(),
            Some(retryable) => {
                let e = r.unwrap_err();
                assert_eq!(e.is_retryable(), retryable, "{status}");
                assert!(!e.to_string().contains("SECRETKEY"), "{e}");
            }
        }
        assert_eq!(svc.received()[0].target, "/hooks/SECRETKEY");
    }
}

#[test]
fn the_url_comes_from_here_or_global() {
    let c = parse("channel: x\n");
    let e = c
        .validate("r.mattermost_configs[0]")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing webhook_url or webhook_url_file on mattermost_config"),
        "{e}"
    );
    let mut c: MattermostConfig = serde_saphyr::from_str("channel: x\n").unwrap();
    let g = crate::config::GlobalConfig {
        mattermost_webhook_url_file: Some("/run/secrets/mm".into()),
        ..Default::default()
    };
    c.apply_globals(&g);
    c.validate("x").unwrap();
    assert_eq!(c.webhook_url_file.as_deref(), Some("/run/secrets/mm"));
    let e = parse("webhook_url: http://x/\nfields:\n- title: t\n")
        .validate("x")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing value in Mattermost field configuration"),
        "{e}"
    );
}
