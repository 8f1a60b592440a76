//! Discord tests: the payload against Alertmanager's captures, truncation,
//! rate-limit parsing and bucket bookkeeping, and sends against a local
//! server that answers as Discord does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::rate_limits::MAX_RATE_LIMIT_WAIT;
use super::*;
use crate::config::Secret;
#[allow(unused_imports)]
use crate::integrations::encode_json_like_go;
use crate::integrations::test_support::{alert, install_crypto, labels};
use crate::notify::retry::retry;
use reqwest::header::HeaderMap;

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

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn texts(title: &str, description: &str) -> Texts {
    Texts {
        title: title.into(),
        description: description.into(),
        ..Texts::default()
    }
}

fn encoded(p: &Payload) -> Value {
    serde_json::from_slice(&encode_json_like_go(p).unwrap()).unwrap()
}

// ---------------------------------------------------------------- payload

#[test]
fn payload_is_alertmanagers_for_the_same_texts() {
    for (name, status) in [
        ("discord_firing.json", AlertStatus::Firing),
        ("discord_resolved.json", AlertStatus::Resolved),
    ] {
        let Some(want) = reference(name) else {
            continue;
        };
        let embed = &want["embeds"][0];
        let (p, cut) = Payload::build(
            texts(
                embed["title"].as_str().unwrap(),
                embed["description"].as_str().unwrap(),
            ),
            status,
            &DISCORD_LIMITS,
        );
        assert!(cut.is_empty());
        assert_eq!(encoded(&p), want, "{name}");
    }
}

#[test]
fn colors_say_firing_or_resolved() {
    let cases = [
        (AlertStatus::Firing, 0x992D22, 10038562),
        (AlertStatus::Resolved, 0x2ECC71, 3066993),
    ];
    for (status, hex, decimal) in cases {
        let (p, _) = Payload::build(texts("t", "d"), status, &DISCORD_LIMITS);
        assert_eq!(p.embeds[0].color, hex);
        assert_eq!(encoded(&p)["embeds"][0]["color"], decimal);
    }
}

#[test]
fn username_and_avatar_are_sent_only_when_set_in_go_field_order() {
    let (bare, _) = Payload::build(texts("t", "d"), AlertStatus::Firing, &DISCORD_LIMITS);
    let text = String::from_utf8(encode_json_like_go(&bare).unwrap()).unwrap();
    assert_eq!(
        text,
        "{\"content\":\"\",\"embeds\":[{\"title\":\"t\",\"description\":\"d\",\"color\":10038562}]}\n"
    );
    let full = Texts {
        content: "<@&123> look".into(),
        username: "klaxon".into(),
        avatar_url: "https://example.com/a.png".into(),
        ..texts("t", "d")
    };
    let (p, _) = Payload::build(full, AlertStatus::Firing, &DISCORD_LIMITS);
    let text = String::from_utf8(encode_json_like_go(&p).unwrap()).unwrap();
    let order = [
        "\"content\"",
        "\"embeds\"",
        "\"username\"",
        "\"avatar_url\"",
    ];
    let positions: Vec<_> = order.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    // Go's encoder escapes `<` and `>`; Discord reads them back the same.
    assert!(text.contains("\\u003c@\\u0026123\\u003e look"), "{text}");
}

// ------------------------------------------------------------- truncation

#[test]
fn truncation_counts_characters_not_bytes() {
    // (text, max, expected)
    let cases: &[(&str, usize, Option<&str>)] = &[
        ("", 0, None),
        ("", 3, None),
        ("abc", 3, None),
        ("abcd", 3, Some("ab…")),
        ("abcd", 1, Some("…")),
        ("abcd", 0, Some("")),
        ("ééé", 3, None),
        ("éééé", 3, Some("éé…")),
        ("🔥🔥🔥🔥", 2, Some("🔥…")),
        ("日本語テキスト", 4, Some("日本語…")),
    ];
    for &(text, max, want) in cases {
        assert_eq!(
            truncate_chars(text, max).as_deref(),
            want,
            "{text:?} to {max}"
        );
    }
}

/// One field over its limit by one multi-byte character.
fn over(limit: usize, c: char) -> String {
    std::iter::repeat_n(c, limit + 1).collect()
}

#[test]
fn each_field_is_cut_to_discords_limit_with_an_ellipsis() {
    let l = DISCORD_LIMITS;
    type Pick = fn(&Payload) -> &str;
    let cases: &[(&str, usize, Texts, Pick)] = &[
        (
            "title",
            l.title,
            Texts {
                title: over(l.title, 'é'),
                ..Texts::default()
            },
            |p| &p.embeds[0].title,
        ),
        (
            "description",
            l.description,
            Texts {
                description: over(l.description, '🔥'),
                ..Texts::default()
            },
            |p| &p.embeds[0].description,
        ),
        (
            "content",
            l.content,
            Texts {
                content: over(l.content, 'ü'),
                ..Texts::default()
            },
            |p| &p.content,
        ),
        (
            "username",
            l.username,
            Texts {
                username: over(l.username, '名'),
                ..Texts::default()
            },
            |p| &p.username,
        ),
    ];
    for (field, limit, input, pick) in cases {
        let (p, cut) = Payload::build(input.clone(), AlertStatus::Firing, &l);
        let got = pick(&p);
        assert_eq!(got.chars().count(), *limit, "{field}");
        assert!(got.ends_with('…'), "{field}");
        assert_eq!(cut, [(*field, limit + 1)], "{field}");
    }
}

#[test]
fn fields_at_their_limit_are_left_alone() {
    let l = DISCORD_LIMITS;
    let at = |n: usize| -> String { std::iter::repeat_n('é', n).collect() };
    let input = Texts {
        title: at(l.title),
        description: at(l.description),
        content: at(l.content),
        username: at(l.username),
        avatar_url: String::new(),
    };
    let (p, cut) = Payload::build(input.clone(), AlertStatus::Firing, &l);
    assert!(cut.is_empty(), "{cut:?}");
    assert_eq!(p.embeds[0].title, input.title);
    assert_eq!(p.embeds[0].description, input.description);
}

#[test]
fn the_embed_total_is_kept_by_cutting_the_description() {
    let small = Limits {
        title: 10,
        description: 20,
        content: 5,
        embed_total: 25,
        username: 5,
    };
    let (p, cut) = Payload::build(
        texts("tttttttttt", "dddddddddddddddddddd"),
        AlertStatus::Firing,
        &small,
    );
    assert_eq!(p.embeds[0].title, "tttttttttt");
    assert_eq!(p.embeds[0].description, "dddddddddddddd…");
    assert_eq!(
        p.embeds[0].title.chars().count() + p.embeds[0].description.chars().count(),
        25
    );
    assert_eq!(cut, [("embed_total", 30)]);
}

// ------------------------------------------------------------ rate limits

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn rate_limit_waits_are_read_from_body_or_headers() {
    let ms = Duration::from_millis;
    /// Headers, body, the wait read, global or not.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<Duration>, bool);
    let cases: &[Case] = &[
        (
            &[],
            r#"{"message":"You are being rate limited.","retry_after":0.2,"global":false}"#,
            Some(ms(200)),
            false,
        ),
        (
            &[("retry-after", "1"), ("x-ratelimit-reset-after", "0.35")],
            r#"{"message":"You are being rate limited.","retry_after":0.35,"global":false}"#,
            Some(ms(350)),
            false,
        ),
        // The unversioned API counts milliseconds in the body.
        (
            &[("retry-after", "2")],
            r#"{"message":"You are being rate limited.","retry_after":1534,"global":false}"#,
            Some(ms(1534)),
            false,
        ),
        (
            &[("x-ratelimit-reset-after", "1.25")],
            "",
            Some(ms(1250)),
            false,
        ),
        (&[("retry-after", "3")], "not json", Some(ms(3000)), false),
        (&[], "", None, false),
        (
            &[("retry-after", "1")],
            r#"{"message":"You are being rate limited.","retry_after":0.5,"global":true}"#,
            Some(ms(500)),
            true,
        ),
        (
            &[("x-ratelimit-global", "true"), ("retry-after", "1")],
            "",
            Some(ms(1000)),
            true,
        ),
        (
            &[("retry-after", "-1")],
            r#"{"retry_after":"soon"}"#,
            None,
            false,
        ),
    ];
    for (h, body, wait, global) in cases {
        let got = parse_rate_limit(&headers(h), body.as_bytes());
        assert_eq!(got.wait, *wait, "{h:?} {body}");
        assert_eq!(got.global, *global, "{h:?} {body}");
    }
}

#[test]
fn rate_limit_message_comes_from_discords_body() {
    let got = parse_rate_limit(
        &HeaderMap::new(),
        br#"{"message":"You are being rate limited.","retry_after":0.2,"global":false}"#,
    );
    assert_eq!(got.message, "You are being rate limited.");
    let got = parse_rate_limit(&HeaderMap::new(), b"slow down");
    assert_eq!(got.message, "slow down");
}

#[test]
fn an_absurd_wait_is_capped() {
    let got = parse_rate_limit(&headers(&[("retry-after", "99999999")]), b"");
    assert_eq!(got.wait, Some(MAX_RATE_LIMIT_WAIT));
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_bucket_holds_sends_until_its_reset() {
    let now = Instant::now();
    let mut b = Bucket::default();
    assert_eq!(b.ready_at(now), None, "an unknown bucket does not wait");
    b.update(
        &headers(&[
            ("x-ratelimit-remaining", "1"),
            ("x-ratelimit-reset-after", "2"),
        ]),
        now,
    );
    assert_eq!(b.ready_at(now), None, "one request left");
    b.update(
        &headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "1.5"),
        ]),
        now,
    );
    assert_eq!(b.ready_at(now), Some(now + Duration::from_millis(1500)));
    assert_eq!(b.ready_at(now + Duration::from_secs(2)), None);
    // A 429's wait counts even when the headers said nothing.
    b.update(&HeaderMap::new(), now);
    b.block_until(now + Duration::from_secs(3));
    assert_eq!(b.ready_at(now), Some(now + Duration::from_secs(3)));
}

#[test]
fn other_client_errors_carry_discords_message() {
    let body = br#"{"message": "Invalid Form Body", "code": 50035, "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}}"#;
    let text = error_message(body);
    assert!(
        text.starts_with("Invalid Form Body (code 50035): "),
        "{text}"
    );
    assert!(text.contains("Must be 256 or fewer in length."), "{text}");
    assert_eq!(
        error_message(br#"{"message": "Unknown Webhook", "code": 10015}"#),
        "Unknown Webhook (code 10015)"
    );
    assert_eq!(error_message(b"<html>nope</html>"), "<html>nope</html>");
}

// -------------------------------------------------------- last-resort text

fn reference_alert_notification(resolved: bool) -> Notification {
    let end = if resolved { t(50) } else { t(600) };
    Notification {
        receiver: "discord".into(),
        group_key: "{}:{alertname=\"DiscordTest\"}".into(),
        group_labels: labels(&[("alertname", "DiscordTest")]),
        alerts: vec![alert(
            &[
                ("alertname", "DiscordTest"),
                ("instance", "db1"),
                ("severity", "critical"),
            ],
            &[
                ("description", "db1 is not answering"),
                ("summary", "Database down"),
            ],
            t(0),
            end,
        )],
        external_url: "http://klaxon.example:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

#[test]
fn the_last_resort_title_is_alertmanagers_subject() {
    for (resolved, name) in [
        (false, "discord_firing.json"),
        (true, "discord_resolved.json"),
    ] {
        let Some(want) = reference(name) else {
            continue;
        };
        let data = Data::new(&reference_alert_notification(resolved));
        assert_eq!(
            fallback_title(&data),
            want["embeds"][0]["title"].as_str().unwrap()
        );
    }
    let mut msg = reference_alert_notification(false);
    msg.group_labels = labels(&[
        ("alertname", "DiscordTest"),
        ("instance", "db1"),
        ("severity", "critical"),
    ]);
    // Alertmanager leaves the space before an absent "(…)".
    assert_eq!(
        fallback_title(&Data::new(&msg)),
        "[FIRING:1] DiscordTest db1 critical "
    );
}

#[test]
fn the_last_resort_message_lists_every_alert() {
    let text = fallback_message(&Data::new(&reference_alert_notification(false)));
    assert!(text.starts_with("Alerts Firing:\nLabels:\n - alertname = DiscordTest\n"));
    assert!(text.contains(" - summary = Database down\n"), "{text}");
}

// ---------------------------------------------- sends to a local "Discord"

/// What the local server answers, in order; 204 once the script is done.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn ok() -> Answer {
    Answer {
        status: 204,
        headers: vec![],
        body: String::new(),
    }
}

fn rate_limited(secs: f64) -> Answer {
    Answer {
        status: 429,
        headers: vec![
            ("retry-after", format!("{}", secs.ceil() as u64)),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset-after", format!("{secs}")),
        ],
        body:
            json!({"message": "You are being rate limited.", "retry_after": secs, "global": false})
                .to_string(),
    }
}

#[derive(Clone, Default)]
struct Server {
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<(Instant, String, Value)>>>,
}

async fn answer(
    State(s): State<Server>,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> Response {
    let a = s.script.lock().unwrap().pop_front().unwrap_or_else(ok);
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.received
        .lock()
        .unwrap()
        .push((Instant::now(), uri.path().to_owned(), v));
    let mut resp = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    for (k, v) in a.headers {
        resp.headers_mut()
            .insert(k, HeaderValue::from_str(&v).unwrap());
    }
    resp
}

impl Server {
    /// Serves on loopback; returns the webhook URL (with a token in it).
    async fn start(script: Vec<Answer>) -> (Server, String) {
        let s = Server {
            script: Arc::new(Mutex::new(script.into())),
            ..Server::default()
        };
        let app = axum::Router::new()
            .route("/api/webhooks/{id}/{token}", axum::routing::post(answer))
            .with_state(s.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/api/webhooks/1234/tok-SECRET-5678",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (s, url)
    }

    fn times(&self) -> Vec<Instant> {
        self.received.lock().unwrap().iter().map(|r| r.0).collect()
    }

    fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.2.clone())
            .collect()
    }
}

fn config(url: &str) -> DiscordConfig {
    DiscordConfig {
        send_resolved: true,
        http_config: Default::default(),
        webhook_url: Some(Secret::new(url)),
        webhook_url_file: None,
        title: Some("plain title".into()),
        message: Some("plain message".into()),
        content: None,
        username: None,
        avatar_url: None,
    }
}

fn discord(config: DiscordConfig, limits: &Arc<RateLimits>) -> Discord {
    install_crypto();
    Discord::new(
        config,
        Arc::new(Templates::builtin()),
        limits.clone(),
        Arc::new(Metrics::new()),
    )
    .unwrap()
}

#[tokio::test]
async fn sends_the_rendered_embed() {
    let (server, url) = Server::start(vec![]).await;
    let d = discord(config(&url), &Arc::new(RateLimits::new()));
    d.notify(&reference_alert_notification(false))
        .await
        .unwrap();
    assert_eq!(
        server.bodies(),
        [
            json!({"content": "", "embeds": [{"title": "plain title", "description": "plain message", "color": COLOR_FIRING}]})
        ]
    );
}

#[tokio::test]
async fn retries_after_discords_wait_on_rate_limit() {
    let (server, url) = Server::start(vec![rate_limited(0.2), rate_limited(0.2)]).await;
    let d = discord(config(&url), &Arc::new(RateLimits::new()));
    let msg = reference_alert_notification(false);
    let attempts = retry(Duration::from_secs(10), || d.notify(&msg)).await;
    assert_eq!(attempts, Ok(3));
    let times = server.times();
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(200),
            "retried after {:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn retries_server_errors_and_fails_other_client_errors_at_once() {
    let server_error = Answer {
        status: 502,
        headers: vec![],
        body: "bad gateway".into(),
    };
    let (server, url) = Server::start(vec![server_error]).await;
    let d = discord(config(&url), &Arc::new(RateLimits::new()));
    let msg = reference_alert_notification(false);
    assert_eq!(
        retry(Duration::from_secs(10), || d.notify(&msg)).await,
        Ok(2)
    );
    assert_eq!(server.times().len(), 2);

    let unknown = Answer {
        status: 404,
        headers: vec![],
        body: r#"{"message": "Unknown Webhook", "code": 10015}"#.into(),
    };
    let (server, url) = Server::start(vec![unknown]).await;
    let d = discord(config(&url), &Arc::new(RateLimits::new()));
    let err = retry(Duration::from_secs(10), || d.notify(&msg))
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "unexpected status code 404: Unknown Webhook (code 10015)"
    );
    assert_eq!(server.times().len(), 1);
}

#[tokio::test]
async fn an_exhausted_bucket_is_waited_out_instead_of_drawing_a_429() {
    let exhausted = Answer {
        status: 204,
        headers: vec![
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset-after", "0.3".into()),
        ],
        body: String::new(),
    };
    let (server, url) = Server::start(vec![exhausted]).await;
    let limits = Arc::new(RateLimits::new());
    // Two notifiers posting to one webhook share its bucket.
    let (a, b) = (
        discord(config(&url), &limits),
        discord(config(&url), &limits),
    );
    let msg = reference_alert_notification(false);
    a.notify(&msg).await.unwrap();
    b.notify(&msg).await.unwrap();
    let times = server.times();
    assert!(
        times[1] - times[0] >= Duration::from_millis(300),
        "{:?}",
        times[1] - times[0]
    );
}

#[tokio::test]
async fn errors_never_hold_the_webhook_token() {
    let echo = Answer {
        status: 400,
        headers: vec![],
        body: r#"{"message": "bad /api/webhooks/1234/tok-SECRET-5678", "code": 50035}"#.into(),
    };
    let (_server, url) = Server::start(vec![echo, rate_limited(0.1)]).await;
    let d = discord(config(&url), &Arc::new(RateLimits::new()));
    let msg = reference_alert_notification(false);
    let first = d.notify(&msg).await.unwrap_err();
    let second = d.notify(&msg).await.unwrap_err();
    // And a connection failure: nothing listens on port 9 of loopback.
    let unreachable = discord(
        config("http://127.0.0.1:9/api/webhooks/1234/tok-SECRET-5678"),
        &Arc::new(RateLimits::new()),
    );
    let third = unreachable.notify(&msg).await.unwrap_err();
    for e in [first, second, third] {
        let text = format!("{e} {e:?}");
        assert!(!text.contains("tok-SECRET"), "{text}");
    }
}

#[tokio::test]
async fn a_template_that_cannot_render_falls_back_to_the_default_text() {
    let (server, url) = Server::start(vec![]).await;
    let mut c = config(&url);
    // The engine in this tree renders no `{{`: every template fails here,
    // the field's default too, so the last-resort text goes out.
    c.title = Some("{{ .Broken".into());
    c.message = None;
    let d = discord(c, &Arc::new(RateLimits::new()));
    d.notify(&reference_alert_notification(false))
        .await
        .unwrap();
    let body = &server.bodies()[0];
    let title = body["embeds"][0]["title"].as_str().unwrap();
    let description = body["embeds"][0]["description"].as_str().unwrap();
    assert!(!title.is_empty() && !title.contains("{{"), "{title}");
    assert!(
        !description.is_empty() && !description.contains("{{"),
        "{description}"
    );
}

#[tokio::test]
async fn a_global_rate_limit_holds_every_webhook() {
    let mut global = rate_limited(0.3);
    global.body =
        json!({"message": "You are being rate limited.", "retry_after": 0.3, "global": true})
            .to_string();
    let (first, url_a) = Server::start(vec![global]).await;
    let (second, url_b) = Server::start(vec![]).await;
    let limits = Arc::new(RateLimits::new());
    let (a, b) = (
        discord(config(&url_a), &limits),
        discord(config(&url_b), &limits),
    );
    let msg = reference_alert_notification(false);
    let err = a.notify(&msg).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_millis(300)));
    b.notify(&msg).await.unwrap();
    let waited = second.times()[0] - first.times()[0];
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}
