//! Webhook tests: the payload against Alertmanager's captures, and delivery
//! against a local server that records what it receives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::config::{BasicAuth, HttpConfig, Secret, WebhookConfig};
use crate::integrations::test_support::{alert, install_crypto, labels};
use crate::notify::retry::retry;

// ---------------------------------------------------------------- payload

const REFERENCE_DIR: &str = "/work/shared/reference";

fn reference(name: &str) -> Option<Value> {
    let dir = std::env::var("KLAXON_REFERENCE_DIR").unwrap_or_else(|_| REFERENCE_DIR.into());
    let path = std::path::Path::new(&dir).join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("reference is JSON")),
        Err(_) => {
            eprintln!("skipping: reference {} not found", path.display());
            None
        }
    }
}

fn label_set(v: &Value) -> LabelSet {
    let mut out = LabelSet::new();
    for (k, v) in v.as_object().expect("object") {
        out.insert(k.as_str(), v.as_str().expect("string value"));
    }
    out
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Rebuilds the notification Alertmanager rendered into `reference`: the
/// same alerts (firing ones with an end from resolve_timeout), plus
/// `truncatedAlerts` more that `max_alerts` must drop again. Returns it
/// with the `max_alerts` to use.
fn notification_for(reference: &Value) -> (Notification, u64) {
    let shown = reference["alerts"].as_array().unwrap();
    let resolved_ends = shown
        .iter()
        .filter(|a| a["status"] == "resolved")
        .map(|a| time(&a["endsAt"]));
    let starts = shown.iter().map(|a| time(&a["startsAt"]));
    let now = resolved_ends.chain(starts).max().unwrap() + chrono::Duration::seconds(1);
    let mut alerts: Vec<Arc<Alert>> = shown
        .iter()
        .map(|a| {
            let resolved = a["status"] == "resolved";
            Arc::new(Alert {
                labels: label_set(&a["labels"]),
                annotations: label_set(&a["annotations"]),
                starts_at: time(&a["startsAt"]),
                ends_at: if resolved {
                    time(&a["endsAt"])
                } else {
                    now + chrono::Duration::minutes(5)
                },
                generator_url: a["generatorURL"].as_str().unwrap().into(),
                updated_at: now,
                timeout: !resolved,
                fingerprint_cache: Default::default(),
            })
        })
        .collect();
    let truncated = reference["truncatedAlerts"].as_u64().unwrap();
    for i in 0..truncated {
        let mut extra = (*alerts[0]).clone();
        extra.labels.insert("extra", i.to_string());
        alerts.push(Arc::new(extra));
    }
    let max_alerts = if truncated > 0 { shown.len() as u64 } else { 0 };
    let msg = Notification {
        receiver: reference["receiver"].as_str().unwrap().to_owned(),
        group_key: reference["groupKey"].as_str().unwrap().to_owned(),
        group_labels: label_set(&reference["groupLabels"]),
        alerts,
        external_url: reference["externalURL"].as_str().unwrap().to_owned(),
        now,
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    };
    (msg, max_alerts)
}

#[test]
fn payload_matches_alertmanager_field_for_field() {
    for name in [
        "webhook_payload.json",
        "webhook_payload_partly_resolved.json",
        "webhook_payload_truncated.json",
        "webhook_resolved.json",
        "webhook_group_by_all.json",
        "webhook_from_prometheus.json",
    ] {
        let Some(want) = reference(name) else {
            continue;
        };
        let (msg, max_alerts) = notification_for(&want);
        let mut got = serde_json::to_value(Message::new(&msg, max_alerts)).unwrap();
        // The references come from Alertmanager 0.25; 0.34 adds `routeLabels`
        // (`{}` for a route without labels).
        let route_labels = got.as_object_mut().unwrap().remove("routeLabels");
        assert_eq!(route_labels, Some(serde_json::json!({})), "{name}");
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn payload_key_order_is_go_struct_order() {
    let msg = simple_notification(vec![alert(&[("a", "1")], &[], t(0), t(600))]);
    let text = serde_json::to_string(&Message::new(&msg, 0)).unwrap();
    let order = [
        "\"receiver\"",
        "\"status\"",
        "\"alerts\"",
        "\"groupLabels\"",
        "\"commonLabels\"",
        "\"commonAnnotations\"",
        "\"externalURL\"",
        "\"version\"",
        "\"groupKey\"",
        "\"truncatedAlerts\"",
    ];
    let positions: Vec<_> = order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let alert_order = [
        "\"labels\"",
        "\"annotations\"",
        "\"startsAt\"",
        "\"endsAt\"",
        "\"generatorURL\"",
        "\"fingerprint\"",
    ];
    let positions: Vec<_> = alert_order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn simple_notification(alerts: Vec<Arc<Alert>>) -> Notification {
    Notification {
        receiver: "team".into(),
        group_key: "{}:{alertname=\"Foo\"}".into(),
        group_labels: labels(&[("alertname", "Foo")]),
        alerts,
        external_url: "http://klaxon.example:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

#[test]
fn timestamps_are_go_rfc3339_nano() {
    let cases = [
        ((0, 0), "1970-01-01T00:00:00Z"),
        ((1, 91_450_448), "1970-01-01T00:00:01.091450448Z"),
        ((1, 627_000_000), "1970-01-01T00:00:01.627Z"),
        ((1, 500), "1970-01-01T00:00:01.0000005Z"),
    ];
    for ((secs, nanos), want) in cases {
        assert_eq!(
            go_rfc3339_nano(Utc.timestamp_opt(secs, nanos).unwrap()),
            want
        );
    }
}

#[test]
fn firing_alerts_hide_their_end_and_resolved_ones_show_it() {
    let firing_explicit = alert(&[("a", "1")], &[], t(0), t(600));
    let mut by_timeout = (*alert(&[("a", "2")], &[], t(0), t(300))).clone();
    by_timeout.timeout = true;
    let resolved = alert(&[("a", "3")], &[], t(0), t(50));
    let msg = simple_notification(vec![firing_explicit, Arc::new(by_timeout), resolved]);
    let m = Message::new(&msg, 0);
    let ends: Vec<_> = m.alerts.iter().map(|a| a.ends_at.as_str()).collect();
    assert_eq!(ends, [GO_ZERO_TIME, GO_ZERO_TIME, "2023-11-14T22:14:10Z"]);
    let statuses: Vec<_> = m.alerts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AlertStatus::Firing,
            AlertStatus::Firing,
            AlertStatus::Resolved
        ]
    );
    assert_eq!(m.status, AlertStatus::Firing);
}

#[test]
fn group_is_resolved_when_all_alerts_are() {
    let msg = simple_notification(vec![
        alert(&[("a", "1")], &[], t(0), t(10)),
        alert(&[("a", "2")], &[], t(0), t(20)),
    ]);
    assert_eq!(Message::new(&msg, 0).status, AlertStatus::Resolved);
}

#[test]
fn max_alerts_keeps_the_first_and_counts_the_rest() {
    let alerts: Vec<_> = (0..5)
        .map(|i| {
            alert(
                &[("alertname", "Foo"), ("i", &i.to_string())],
                &[],
                t(0),
                t(600),
            )
        })
        .collect();
    let msg = simple_notification(alerts);
    let m = Message::new(&msg, 2);
    assert_eq!(m.alerts.len(), 2);
    assert_eq!(m.truncated_alerts, 3);
    assert_eq!(m.alerts[1].labels.get("i"), Some("1"));
    for max in [0, 5, 9] {
        let m = Message::new(&msg, max);
        assert_eq!((m.alerts.len(), m.truncated_alerts), (5, 0), "max {max}");
    }
}

#[test]
fn status_and_common_labels_cover_only_the_alerts_kept() {
    // As Alertmanager: truncation happens before the template data.
    let msg = simple_notification(vec![
        alert(&[("alertname", "Foo"), ("x", "1")], &[], t(0), t(10)),
        alert(&[("alertname", "Foo"), ("x", "2")], &[], t(0), t(600)),
    ]);
    let m = Message::new(&msg, 1);
    assert_eq!(m.status, AlertStatus::Resolved);
    assert_eq!(m.common_labels.get("x"), Some("1"));
}

// --------------------------------------------------------------- delivery

/// One scripted answer of the sink.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn answer(status: u16) -> Answer {
    Answer {
        status,
        headers: vec![],
        body: String::new(),
    }
}

#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
    at: tokio::time::Instant,
}

#[derive(Default)]
struct SinkState {
    answers: Mutex<VecDeque<Answer>>,
    received: Mutex<Vec<Received>>,
}

/// A local webhook receiver on `127.0.0.1:0` that answers from a script
/// (then 200) and records every request.
struct Sink {
    base: String,
    state: Arc<SinkState>,
}

impl Sink {
    async fn start(answers: Vec<Answer>) -> Sink {
        let state = Arc::new(SinkState {
            answers: Mutex::new(answers.into()),
            received: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Sink {
            base: format!("http://{addr}"),
            state,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<Arc<SinkState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    state.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        at: tokio::time::Instant::now(),
    });
    let a = state
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| answer(200));
    let mut resp = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    for (k, v) in a.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

const SECRET_PATH: &str = "/hook/s3cr3t-T0KEN";

fn webhook(url: String, http_config: HttpConfig) -> Webhook {
    install_crypto();
    Webhook::new(
        WebhookConfig {
            send_resolved: true,
            http_config,
            url: Some(Secret::new(url)),
            url_file: None,
            max_alerts: 0,
            payload: None,
            timeout: None,
        },
        Arc::new(crate::template::Templates::builtin()),
    )
    .unwrap()
}

fn firing() -> Notification {
    let mut a = (*alert(
        &[("alertname", "Foo"), ("instance", "a:1")],
        &[("summary", "it broke")],
        t(0),
        t(600),
    ))
    .clone();
    a.generator_url = "http://prom:9090/graph?g0.expr=up&g0.tab=1".into();
    simple_notification(vec![Arc::new(a)])
}

const DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn delivers_the_payload_as_json_with_our_user_agent() {
    let sink = Sink::start(vec![]).await;
    let hook = webhook(format!("{}{SECRET_PATH}", sink.base), HttpConfig::default());
    assert_eq!(hook.name(), "webhook");
    assert!(hook.send_resolved());
    hook.notify(&firing()).await.unwrap();
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, SECRET_PATH);
    assert_eq!(got[0].headers["content-type"], "application/json");
    assert_eq!(
        got[0].headers["user-agent"],
        concat!("klaxon/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(got[0].body["version"], "4");
    assert_eq!(
        got[0].body["alerts"][0]["annotations"]["summary"],
        "it broke"
    );
    assert_eq!(got[0].body["commonLabels"]["instance"], "a:1");
    // Byte for byte as Go's encoder: HTML characters escaped, final newline.
    let raw = String::from_utf8(got[0].raw.clone()).unwrap();
    assert!(
        raw.contains(r#""generatorURL":"http://prom:9090/graph?g0.expr=up\u0026g0.tab=1""#),
        "{raw}"
    );
    assert!(raw.ends_with("}\n"));
}

#[tokio::test]
async fn goes_through_the_configured_proxy() {
    let proxy = Sink::start(vec![]).await;
    let config = HttpConfig {
        proxy_url: Some(proxy.base.clone()),
        ..HttpConfig::default()
    };
    webhook("http://hooks.invalid/via-proxy".into(), config)
        .notify(&firing())
        .await
        .unwrap();
    let got = proxy.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/via-proxy");
    assert_eq!(got[0].headers["host"], "hooks.invalid");
}

#[tokio::test]
async fn does_not_follow_redirects_when_told_not_to() {
    let moved = Answer {
        status: 307,
        headers: vec![("location", "/elsewhere")],
        body: String::new(),
    };
    let sink = Sink::start(vec![moved.clone(), moved]).await;
    let config = HttpConfig {
        follow_redirects: false,
        ..HttpConfig::default()
    };
    let err = webhook(format!("{}/x", sink.base), config)
        .notify(&firing())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert!(!err.is_retryable());
    // Followed by default.
    webhook(format!("{}/x", sink.base), HttpConfig::default())
        .notify(&firing())
        .await
        .unwrap();
    let paths: Vec<_> = sink.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/x", "/x", "/elsewhere"]);
}

#[test]
fn unreadable_ca_file_is_a_build_error_naming_the_field() {
    install_crypto();
    let config = HttpConfig {
        tls_config: Some(crate::config::TlsConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        }),
        ..HttpConfig::default()
    };
    let err = crate::integrations::http::HttpClient::new(&config, None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("tls_config.ca_file: cannot read"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_server_errors_until_delivered() {
    let sink = Sink::start(vec![answer(500), answer(500), answer(204)]).await;
    let hook = webhook(format!("{}{SECRET_PATH}", sink.base), HttpConfig::default());
    let msg = firing();
    let attempts = retry(DEADLINE, || hook.notify(&msg)).await.unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn honours_retry_after_on_rate_limit() {
    let limited = Answer {
        status: 429,
        headers: vec![("retry-after", "2")],
        body: "slow down".into(),
    };
    let sink = Sink::start(vec![limited]).await;
    let hook = webhook(format!("{}{SECRET_PATH}", sink.base), HttpConfig::default());
    let msg = firing();
    assert_eq!(retry(DEADLINE, || hook.notify(&msg)).await, Ok(2));
    let got = sink.received();
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_secs(2) && gap < Duration::from_millis(2100),
        "{gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn fails_on_bad_request_without_retrying() {
    let bad = Answer {
        status: 400,
        headers: vec![],
        body: "unknown field \"foo\"".into(),
    };
    let sink = Sink::start(vec![bad]).await;
    let hook = webhook(format!("{}{SECRET_PATH}", sink.base), HttpConfig::default());
    let msg = firing();
    let err = retry(DEADLINE, || hook.notify(&msg)).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("unknown field"), "{err}");
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn sends_basic_auth_with_the_username_and_password_read_from_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "hunter2\n").unwrap();
    let user = dir.path().join("username");
    std::fs::write(&user, "am\n").unwrap();
    let sink = Sink::start(vec![]).await;
    let config = HttpConfig {
        basic_auth: Some(BasicAuth {
            username: String::new(),
            username_file: Some(user.to_str().unwrap().into()),
            password: None,
            password_file: Some(file.to_str().unwrap().into()),
            username_ref: None,
            password_ref: None,
        }),
        ..HttpConfig::default()
    };
    webhook(format!("{}/x", sink.base), config)
        .notify(&firing())
        .await
        .unwrap();
    // base64("am:hunter2")
    assert_eq!(
        sink.received()[0].headers["authorization"],
        "Basic YW06aHVudGVyMg=="
    );
}

#[tokio::test]
async fn sends_bearer_token_and_extra_headers() {
    let sink = Sink::start(vec![]).await;
    let config = HttpConfig {
        bearer_token: Some(Secret::new("tok-123")),
        headers: [("X-Team".to_owned(), "ops".to_owned())].into(),
        ..HttpConfig::default()
    };
    webhook(format!("{}/x", sink.base), config)
        .notify(&firing())
        .await
        .unwrap();
    let got = &sink.received()[0];
    assert_eq!(got.headers["authorization"], "Bearer tok-123");
    assert_eq!(got.headers["x-team"], "ops");
}

#[tokio::test]
async fn reads_the_url_from_url_file_at_send_time() {
    install_crypto();
    let sink = Sink::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    std::fs::write(&file, "http://127.0.0.1:1/not-yet").unwrap();
    let hook = Webhook::new(
        WebhookConfig {
            send_resolved: false,
            http_config: HttpConfig::default(),
            url: None,
            url_file: Some(file.to_str().unwrap().into()),
            max_alerts: 0,
            payload: None,
            timeout: None,
        },
        Arc::new(crate::template::Templates::builtin()),
    )
    .unwrap();
    assert!(!hook.send_resolved());
    // Rewritten after the notifier was built: the new URL is used.
    std::fs::write(&file, format!("{}{SECRET_PATH}\n", sink.base)).unwrap();
    hook.notify(&firing()).await.unwrap();
    assert_eq!(sink.received()[0].path, SECRET_PATH);
}

#[tokio::test]
async fn error_text_never_contains_the_url_secret() {
    // The server echoes the path back, as many 404 pages do.
    let echo = Answer {
        status: 404,
        headers: vec![],
        body: format!("no hook at {SECRET_PATH}"),
    };
    let sink = Sink::start(vec![echo, answer(503)]).await;
    let hook = webhook(
        format!("{}{SECRET_PATH}?key=qu3ry", sink.base),
        HttpConfig::default(),
    );
    let answered = hook.notify(&firing()).await.unwrap_err();
    let unavailable = hook.notify(&firing()).await.unwrap_err();

    // Nothing listens on port 1: a connection error.
    let refused = webhook(
        format!("http://127.0.0.1:1{SECRET_PATH}"),
        HttpConfig::default(),
    )
    .notify(&firing())
    .await
    .unwrap_err();
    assert!(refused.is_retryable(), "{refused}");

    // A timeout: a server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    install_crypto();
    let slow = Webhook::new(
        WebhookConfig {
            send_resolved: true,
            http_config: HttpConfig::default(),
            url: Some(Secret::new(format!("http://{silent_addr}{SECRET_PATH}"))),
            url_file: None,
            max_alerts: 0,
            payload: None,
            timeout: Some(crate::config::Duration(Duration::from_millis(50))),
        },
        Arc::new(crate::template::Templates::builtin()),
    )
    .unwrap();
    let timed_out = slow.notify(&firing()).await.unwrap_err();
    assert!(timed_out.is_retryable(), "{timed_out}");
    assert!(timed_out.to_string().contains("timed out"), "{timed_out}");

    for e in [answered, unavailable, refused, timed_out] {
        eprintln!("{e}");
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(
                !text.contains("s3cr3t") && !text.contains("qu3ry"),
                "leaks the URL: {text}"
            );
        }
    }
}

#[test]
fn a_custom_payload_is_rendered_like_alertmanagers_deep_copy() {
    let payload: serde_json::Value = serde_json::json!({
        "text": "{{ .Status }} {{ .GroupLabels.alertname }}",
        "pair": "{{ .Status }}: {{ .GroupLabels.alertname }}",
        "count": "{{ len .Alerts }}",
        "fixed": 7,
        "labels": "{{ .CommonLabels | toJson }}",
        "colon": "value1:",
        "{{ .Receiver }}": ["a", "{{ .Status }}"]
    });
    let render = |t: &str| -> Result<String, String> {
        Ok(t.replace("{{ .Status }}", "firing")
            .replace("{{ .GroupLabels.alertname }}", "Disk")
            .replace("{{ len .Alerts }}", "2")
            .replace("{{ .CommonLabels | toJson }}", r#"{"team":"a: b"}"#)
            .replace("{{ .Receiver }}", "hook"))
    };
    let got = super::render_payload(&payload, &render).unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "text": "firing Disk",
            // YAML reads `firing: Disk` as a map, and so does Alertmanager.
            "pair": {"firing": "Disk"},
            "count": 2,
            "fixed": 7,
            "labels": {"team": "a: b"},
            // #5302: a rendered string is only structure when it parses to
            // something other than a string; `value1:` is a one-key map in
            // YAML, so Alertmanager sends {"value1": null}.
            "colon": {"value1": null},
            "hook": ["a", "firing"]
        })
    );
    let failing = |_: &str| -> Result<String, String> { Err("boom".into()) };
    assert!(super::render_payload(&payload, &failing).is_err());
}

#[tokio::test]
async fn sends_http_headers_values_and_secrets() {
    let sink = Sink::start(vec![]).await;
    let mut config = HttpConfig::default();
    config.http_headers.insert(
        "X-Tenant".into(),
        crate::config::HeaderConfig {
            values: vec!["team-a".into()],
            secrets: vec![],
            files: vec![],
        },
    );
    config.http_headers.insert(
        "X-Token".into(),
        crate::config::HeaderConfig {
            values: vec![],
            secrets: vec![crate::config::Secret::new("s3cret")],
            files: vec![],
        },
    );
    webhook(format!("{}/hook", sink.base), config)
        .notify(&firing())
        .await
        .unwrap();
    let got = sink.received();
    assert_eq!(got[0].headers["x-tenant"], "team-a");
    assert_eq!(got[0].headers["x-token"], "s3cret");
}

#[tokio::test]
async fn header_files_are_read_at_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant");
    std::fs::write(&file, "team-a\n").unwrap();
    let sink = Sink::start(vec![]).await;
    let mut config = HttpConfig::default();
    config.http_headers.insert(
        "X-Scope-OrgID".into(),
        crate::config::HeaderConfig {
            files: vec![file.to_str().unwrap().into()],
            ..Default::default()
        },
    );
    let hook = webhook(format!("{}/x", sink.base), config);
    hook.notify(&firing()).await.unwrap();
    std::fs::write(&file, "team-b\n").unwrap();
    hook.notify(&firing()).await.unwrap();
    let got = sink.received();
    assert_eq!(got[0].headers["x-scope-orgid"], "team-a");
    assert_eq!(got[1].headers["x-scope-orgid"], "team-b");
}
