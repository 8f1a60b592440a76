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
