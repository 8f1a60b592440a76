//! No cross-site writes: every endpoint that changes state refuses the
//! bodies a web page can send cross-origin without a preflight (form,
//! multipart, `text/plain`: 415) and an `Origin` that is not klaxon's own
//! (403); nothing changes when it refuses. Tools (no `Origin`, JSON) and
//! klaxon's own pages (its own origin) pass.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, WebhookSink, silence_json};

const EVIL: &str = "http://evil.example";

/// What one state-changing endpoint takes, and how to see it did nothing.
struct Endpoint {
    method: Method,
    path: String,
    body: Option<String>,
}

async fn send(
    server: &TestServer,
    e: &Endpoint,
    content_type: Option<&str>,
    origin: Option<&str>,
) -> u16 {
    let mut req = server.client.request(e.method.clone(), server.url(&e.path));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(b) = &e.body {
        req = req.body(b.clone());
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn state_changing_endpoints_refuse_what_a_page_can_send_cross_site() {
    let sink = WebhookSink::start(vec![]).await;
    let config = format!(
        "route:\n  receiver: hook\n  group_wait: 1h\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: '{}'\n",
        sink.url
    );
    let server = TestServer::start(&config).await;
    let kept = server
        .client
        .post(server.url("/api/v2/silences"))
        .json(&silence_json(
            "Kept",
            "deleted only by a same-origin request",
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["silenceID"]
        .as_str()
        .unwrap()
        .to_owned();
    let alerts = json!([{"labels": {"alertname": "CrossSite"}}]).to_string();
    let silence = silence_json("CrossSite", "from another site").to_string();
    let endpoints = [
        Endpoint {
            method: Method::POST,
            path: "/api/v2/alerts".into(),
            body: Some(alerts),
        },
        Endpoint {
            method: Method::POST,
            path: "/api/v2/silences".into(),
            body: Some(silence),
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("/api/v2/silence/{kept}"),
            body: None,
        },
        Endpoint {
            method: Method::POST,
            path: "/-/reload".into(),
            body: None,
        },
        Endpoint {
            method: Method::PUT,
            path: "/-/reload".into(),
            body: None,
        },
        Endpoint {
            method: Method::POST,
            path: "/api/klaxon/receivers/hook/test".into(),
            body: None,
        },
        Endpoint {
            method: Method::POST,
            path: "/api/klaxon/cluster/members".into(),
            body: Some(r#"{"address":"127.0.0.1:1"}"#.into()),
        },
    ];
    let own = server.url("");
    for e in &endpoints {
        let what = format!("{} {}", e.method, e.path);
        for ct in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain;charset=UTF-8",
        ] {
            assert_eq!(
                send(&server, e, Some(ct), None).await,
                415,
                "{what} as {ct}"
            );
            assert_eq!(
                send(&server, e, Some(ct), Some(&own)).await,
                415,
                "{what} as {ct}, own origin"
            );
        }
        let json_ct = e.body.as_ref().map(|_| "application/json");
        assert_eq!(
            send(&server, e, json_ct, Some(EVIL)).await,
            403,
            "{what} from {EVIL}"
        );
        assert_eq!(
            send(&server, e, json_ct, Some("null")).await,
            403,
            "{what} from a null origin"
        );
    }

    // Nothing changed: no alert, no new silence, the kept one still active,
    // no test notification sent.
    let listed: Value = server
        .client
        .get(server.url("/api/v2/alerts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let silences: Value = server
        .client
        .get(server.url("/api/v2/silences"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(silences.as_array().map(Vec::len), Some(1), "{silences}");
    assert_eq!(silences[0]["status"]["state"], "active");
    assert!(
        sink.try_next(Duration::from_millis(300)).await.is_none(),
        "a test notification went out"
    );

    // klaxon's own pages (its origin) and tools (no origin) still work.
    let ok = |status: u16| (200..300).contains(&status);
    let test_send = &endpoints[5];
    assert!(ok(send(&server, test_send, None, Some(&own)).await));
    sink.next(Duration::from_secs(5)).await;
    assert!(ok(send(
        &server,
        &endpoints[0],
        Some("application/json"),
        Some(&own)
    )
    .await));
    assert!(
        ok(send(&server, &endpoints[2], None, None).await),
        "DELETE from a tool"
    );
}
