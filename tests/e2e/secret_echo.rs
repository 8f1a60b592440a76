//! A receiver that echoes its request back in its error answer — the path
//! (where a webhook's token lives) as is, JSON-escaped and percent-encoded,
//! the `Authorization` header with its base64 `user:password`, and a
//! fragment of the token — must not get any of it into the receiver-test
//! answer or the notification history.

use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use serde_json::Value;

use crate::harness::TestServer;

const TOKEN: &str = "T0KEN-q8w7e6r5t4y3u2i1";
const USER: &str = "hookuser";
const PASSWORD: &str = "pa55-w0rd-hunter2";

async fn echo(uri: Uri, headers: HeaderMap) -> (StatusCode, String) {
    let path = uri.path().to_owned();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let decoded = auth
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default();
    let body = format!(
        "no route for {path}; json {}; encoded {}; auth {auth}; as text {decoded}; tail {}",
        serde_json::to_string(&path).unwrap().replace('/', "\\/"),
        path.replace('/', "%2F"),
        &TOKEN[TOKEN.len() - 10..],
    );
    (StatusCode::BAD_REQUEST, body)
}

#[tokio::test]
async fn an_echoing_receiver_gets_no_secret_into_answers_or_history() {
    let app = axum::Router::new().fallback(echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let config = format!(
        "route:\n  receiver: hook\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: 'http://{addr}/hooks/{TOKEN}'\n    http_config:\n      basic_auth:\n        username: {USER}\n        password: {PASSWORD}\n"
    );
    let server = TestServer::start(&config).await;
    let answer: Value = server
        .client
        .post(server.url("/api/klaxon/receivers/hook/test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let history: Value = server
        .client
        .get(server.url("/api/klaxon/notifications?receiver=hook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = format!("{answer} {history}");
    assert!(
        shown.contains("no route for"),
        "the error is shown: {shown}"
    );
    let pair = format!("{USER}:{PASSWORD}");
    let leaks = [
        TOKEN.to_owned(),
        TOKEN[TOKEN.len() - 10..].to_owned(),
        PASSWORD.to_owned(),
        PASSWORD[3..12].to_owned(),
        base64::engine::general_purpose::STANDARD.encode(&pair),
        pair.clone(),
    ];
    for leak in &leaks {
        assert!(!shown.contains(leak.as_str()), "{leak:?} leaked: {shown}");
    }
}

/// Every secret of the all-integrations config, replaced by a random-looking
/// token of its own (a real token shares no word with the service's name,
/// so a fragment check cannot trip on "telegram").
fn with_tokens(config: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut secrets = Vec::new();
    let mut rest = config;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    while let Some(at) = rest.find("SECRET-") {
        out.push_str(&rest[..at]);
        let len = rest[at + 7..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len() - at - 7);
        let token: String = (0..22)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
                alphabet[(seed % alphabet.len() as u64) as usize] as char
            })
            .collect();
        out.push_str(&token);
        secrets.push(token);
        rest = &rest[at + 7 + len..];
    }
    out.push_str(rest);
    (out, secrets)
}

/// The whole request back, as a failing service might: path and query as
/// is, JSON-escaped and percent-encoded, every header, basic auth decoded,
/// and the body.
async fn echo_all(uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> (StatusCode, String) {
    let target = uri.to_string();
    let mut text = format!(
        "rejected {target}; json {}; encoded {};",
        serde_json::to_string(&target).unwrap().replace('/', "\\/"),
        target.replace('/', "%2F").replace(':', "%3A"),
    );
    for (name, value) in &headers {
        let value = value.to_str().unwrap_or_default();
        text.push_str(&format!(" {name}: {value};"));
        if let Some(b) = value.strip_prefix("Basic ")
            && let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b)
        {
            text.push_str(&format!(" as text {};", String::from_utf8_lossy(&d)));
        }
    }
    text.push_str(&format!(" body {}", String::from_utf8_lossy(&body)));
    (StatusCode::BAD_REQUEST, text)
}

/// Each of the 17 HTTP integrations against a service that echoes its
/// whole request in its error: no secret, nor any 8-character fragment of
/// one, nor its base64, reaches the history, the receiver-test answer,
/// `/api/v2/status`, or the log at debug level.
#[tokio::test]
async fn every_integration_against_an_echoing_service_leaks_no_secret() {
    let app = axum::Router::new().fallback(echo_all);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (config, secrets) = with_tokens(&crate::receivers::every_integration(&base));
    assert_eq!(secrets.len(), 20, "every secret of the config replaced");
    let jira_password = config
        .split("password: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), &config).unwrap();
    // The most a user can ask for with Alertmanager's flag.
    let server =
        crate::harness::BinaryServer::start_logged(dir.path(), &["--log.level=debug"]).await;
    let base_url = server.base.clone();
    let c = crate::harness::client();
    let r = c
        .post(format!("{base_url}/api/v2/alerts"))
        .json(&serde_json::json!([{"labels": {"alertname": "Echo", "instance": "db1"}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let history = crate::harness::eventually(
        std::time::Duration::from_secs(30),
        "a failed attempt of each integration",
        || {
            let (c, url) = (
                c.clone(),
                format!("{base_url}/api/klaxon/notifications?limit=200"),
            );
            async move {
                let h: Value = c.get(url).send().await.ok()?.json().await.ok()?;
                let mut kinds: Vec<&str> = h["notifications"]
                    .as_array()?
                    .iter()
                    .filter_map(|n| n["integration"].as_str())
                    .collect();
                kinds.sort();
                kinds.dedup();
                (kinds.len() >= 17).then(|| h.to_string())
            }
        },
    )
    .await;
    let test_answer = c
        .post(format!("{base_url}/api/klaxon/receivers/all/test"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status = c
        .get(format!("{base_url}/api/v2/status"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    server.kill9().await;
    let log = std::fs::read_to_string(dir.path().join("klaxon.log")).unwrap();
    assert!(
        history.contains("rejected"),
        "the services' errors are shown: {history}"
    );
    assert!(log.contains("rejected"), "and logged");
    assert!(
        test_answer.contains("rejected"),
        "and answered: {test_answer}"
    );
    let jira_pair =
        base64::engine::general_purpose::STANDARD.encode(format!("bot:{jira_password}"));
    for (place, text) in [
        ("history", &history),
        ("receiver test", &test_answer),
        ("status", &status),
        ("log", &log),
    ] {
        assert!(
            !text.contains(&jira_pair),
            "the base64 basic-auth pair leaked into the {place}"
        );
        for secret in &secrets {
            let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
            assert!(
                !text.contains(&b64),
                "base64 of a secret leaked into the {place}"
            );
            for i in 0..=secret.len() - 8 {
                let fragment = &secret[i..i + 8];
                if let Some(at) = text.find(fragment) {
                    let around = &text[at.saturating_sub(80)..(at + 88).min(text.len())];
                    panic!(
                        "a fragment of a secret ({fragment}) leaked into the {place}: …{around}…"
                    );
                }
            }
        }
    }
}
