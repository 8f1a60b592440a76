//! Pushover tests against a local message API: the query Alertmanager
//! sends, limits, answers, secrets kept out.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::IntegrationConfig;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification(resolved: bool, summary: &str) -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("summary", summary)],
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

const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

fn pushover(base: &str, extra: &str) -> Pushover {
    install_crypto();
    let c: PushoverConfig = serde_saphyr::from_str(&format!(
        "api_url: '{base}/1/messages.json'\ntoken: {TOKEN}\nuser_key: {USER}\n{extra}"
    ))
    .unwrap();
    c.validate("x").unwrap();
    Pushover::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

fn query(target: &str) -> Vec<(String, String)> {
    let q = target.split_once('?').unwrap().1;
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn sends_alertmanagers_parameters_in_the_query() {
    let svc = LocalService::start(
        vec![],
        (200, vec![], r#"{"status":1,"request":"x"}"#.into()),
    )
    .await;
    pushover(&svc.base, "sound: siren\nttl: 1h\n")
        .notify(&notification(false, "disk is full"))
        .await
        .unwrap();
    let got = svc.received();
    assert_eq!(got[0].method, "POST");
    assert!(
        got[0].target.starts_with("/1/messages.json?"),
        "{}",
        got[0].target
    );
    assert!(got[0].body.is_empty());
    let q = query(&got[0].target);
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "device",
            "expire",
            "message",
            "priority",
            "retry",
            "sound",
            "title",
            "token",
            "ttl",
            "url",
            "url_title",
            "user"
        ],
        "sorted, as Go's url.Values encodes them"
    );
    let get = |k: &str| q.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("title"), "[FIRING:1] DiskFull (db1)");
    assert_eq!(
        get("message"),
        "disk is full\n\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource:"
    );
    assert_eq!(get("priority"), "2");
    assert_eq!(
        (get("retry"), get("expire"), get("ttl")),
        ("60".into(), "3600".into(), "3600".into())
    );
    assert_eq!(get("url"), "http://am:9093/#/alerts?receiver=ops");
    assert_eq!((get("token"), get("user")), (TOKEN.into(), USER.into()));
}

#[test]
fn limits_html_and_empty_messages_are_alertmanagers() {
    let p = pushover(
        "http://x",
        &format!(
            "title: '{}'\nmessage: '{{{{ .CommonAnnotations.summary }}}}'\nhtml: true\n",
            "t".repeat(300)
        ),
    );
    let params = p
        .params(
            &notification(true, &format!("<b>{}</b>", "m".repeat(2000))),
            "t",
            "u",
        )
        .unwrap();
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    assert_eq!(get("title").unwrap().chars().count(), MAX_TITLE_RUNES);
    assert_eq!(get("html").as_deref(), Some("1"));
    let message = get("message").unwrap();
    assert!(message.starts_with("&lt;b&gt;mmm"), "{message}");
    assert_eq!(message.chars().count(), MAX_MESSAGE_RUNES);
    assert_eq!(get("priority").as_deref(), Some("0"), "resolved");
    let empty = pushover("http://x", "message: '  '\n");
    let params = empty.params(&notification(false, "x"), "t", "u").unwrap();
    assert!(params.contains(&("message", "(no details)".to_owned())));
}

#[tokio::test]
async fn answers_are_classified_and_keys_never_show() {
    let cases = [
        (
            400,
            r#"{"user":"invalid","errors":["user identifier is invalid: SECRETS"],"status":0}"#,
            Some(false),
        ),
        (
            200,
            r#"{"errors":["application token is invalid: SECRETS"],"status":0}"#,
            Some(false),
        ),
        (429, "slow down SECRETS", Some(true)),
        (500, "oops SECRETS", Some(true)),
    ];
    for (status, body, retryable) in cases {
        let svc = LocalService::start(
            vec![],
            (
                status,
                vec![],
                body.replace("SECRETS", &format!("{TOKEN} {USER}")),
            ),
        )
        .await;
        let r = pushover(&svc.base, "")
            .notify(&notification(false, "x"))
            .await;
        let e = r.unwrap_err();
        assert_eq!(Some(e.is_retryable()), retryable, "{status}");
        let shown = e.to_string();
        assert!(!shown.contains(TOKEN) && !shown.contains(USER), "{shown}");
    }
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        serde_saphyr::from_str::<PushoverConfig>(yaml)
            .unwrap()
            .validate("r.pushover_configs[0]")
            .unwrap_err()
            .to_string()
    };
    assert!(err("token: t\n").contains("one of user_key or user_key_file"));
    assert!(err("user_key: u\n").contains("one of token or token_file"));
    assert!(
        err("user_key: u\ntoken: t\nhtml: true\nmonospace: true\n")
            .contains("at most one of monospace & html")
    );
}
