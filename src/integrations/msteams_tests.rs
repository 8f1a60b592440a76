//! Microsoft Teams tests (connector and Workflows webhooks): Alertmanager's
//! bodies, Teams' answers, secrets kept out.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
#[allow(unused_imports)]
use crate::integrations::encode_json_like_go;
use crate::integrations::msteamsv2::MsTeamsV2;
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

const SECRET_PATH: &str = "/webhookb2/abc@def/IncomingWebhook/SECRETPART/xyz";

fn v1(yaml: &str) -> MsTeams {
    install_crypto();
    let c: MsTeamsConfig = serde_saphyr::from_str(yaml).unwrap();
    MsTeams::new(c, Arc::new(Templates::builtin())).unwrap()
}

fn v2(yaml: &str) -> MsTeamsV2 {
    install_crypto();
    let c: crate::config::MsTeamsV2Config = serde_saphyr::from_str(yaml).unwrap();
    MsTeamsV2::new(c, Arc::new(Templates::builtin())).unwrap()
}

const TEXT: &str = "\n\n# Alerts Firing:\n\nLabels:\n  - alertname = DiskFull\n  - instance = db1\n\nAnnotations:\n  - summary = disk is full\n\nSource: \n\n\n\n\n";

#[test]
fn the_message_card_is_alertmanagers() {
    let body =
        encode_json_like_go(&v1("webhook_url: http://x/\n").card(&notification(false))).unwrap();
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with(
            "{\"@context\":\"http://schema.org/extensions\",\"type\":\"MessageCard\",\"title\""
        ),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({
            "@context": "http://schema.org/extensions",
            "type": "MessageCard",
            "title": "[FIRING:1] DiskFull (db1)",
            "summary": "[FIRING:1] DiskFull (db1)",
            "text": TEXT,
            "themeColor": "8C1A1A"
        })
    );
    let resolved = v1("webhook_url: http://x/\ntitle: '{{ .Status }}'\n").card(&notification(true));
    assert_eq!(resolved.theme_color, "2DC72D");
    assert_eq!(resolved.title, "resolved");
}

#[test]
fn the_adaptive_card_is_alertmanagers() {
    let v =
        serde_json::to_value(v2("webhook_url: http://x/\n").message(&notification(false))).unwrap();
    assert_eq!(
        v,
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {"type": "TextBlock", "text": "[FIRING:1] DiskFull (db1)", "weight": "Bolder", "size": "Medium", "wrap": true, "style": "heading", "color": "Attention"},
                        {"type": "TextBlock", "text": TEXT, "wrap": true}
                    ],
                    "msteams": {"width": "full"}
                }
            }]
        })
    );
}

#[tokio::test]
async fn teams_answers_are_classified_and_never_show_the_url() {
    let echo = format!("bad request for {SECRET_PATH}");
    let failed = "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0";
    let cases: Vec<(crate::integrations::test_support::Answer, Option<bool>)> = vec![
        ((200, vec![], "1".into()), None),
        ((202, vec![], "".into()), None),
        ((400, vec![], echo.clone()), Some(false)),
        (
            (429, vec![("retry-after", "3".into())], "slow down".into()),
            Some(true),
        ),
        ((502, vec![], "bad gateway".into()), Some(true)),
        ((200, vec![], failed.into()), Some(true)),
    ];
    for (answer, outcome) in cases {
        let svc = LocalService::start(vec![], answer.clone()).await;
        let url = format!("webhook_url: '{}{SECRET_PATH}'\n", svc.base);
        for result in [
            v1(&url).notify(&notification(false)).await,
            v2(&url).notify(&notification(false)).await,
        ] {
            match (outcome, result) {
                (None, r) => r.unwrap(),
                (Some(retryable), r) => {
                    let e = r.unwrap_err();
                    assert_eq!(e.is_retryable(), retryable, "{answer:?}: {e}");
                    assert!(!e.to_string().contains("SECRETPART"), "{e}");
                }
            }
        }
        let got = svc.received();
        assert_eq!(got[0].target, SECRET_PATH);
        assert_eq!(got[0].header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn the_url_file_is_read_when_sending() {
    let svc = LocalService::start(vec![], (200, vec![], "1".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    let teams = v1(&format!("webhook_url_file: {}\n", file.display()));
    let e = teams.notify(&notification(false)).await.unwrap_err();
    assert!(e.to_string().contains("webhook_url_file"), "{e}");
    std::fs::write(&file, format!("{}/hook\n", svc.base)).unwrap();
    teams.notify(&notification(false)).await.unwrap();
    assert_eq!(svc.received()[0].target, "/hook");
}

#[test]
fn exactly_one_url_is_required() {
    use crate::config::IntegrationConfig;
    let c: MsTeamsConfig = serde_saphyr::from_str("title: x\n").unwrap();
    let e = c.validate("r.msteams_configs[0]").unwrap_err().to_string();
    assert!(e.contains("one of webhook_url or webhook_url_file"), "{e}");
    assert!(
        c.send_resolved,
        "Alertmanager sends resolved to Teams by default"
    );
}
