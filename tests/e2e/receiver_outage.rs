//! A receiver that is down across several flush deadlines, then back:
//! every group is delivered exactly once, soon after it returns, and the
//! retries meanwhile stay bounded by the backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{BinaryServer, client};

/// The outage: longer than a flush's delivery deadline (10 s), so it
/// spans failed flushes and the retries of the next ones.
const OUTAGE: Duration = Duration::from_secs(13);
const GROUPS: usize = 6;

struct Receiver {
    down: AtomicBool,
    refused: AtomicUsize,
    delivered: Mutex<HashMap<String, usize>>,
}

async fn start_receiver() -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver {
        down: AtomicBool::new(true),
        refused: AtomicUsize::new(0),
        delivered: Mutex::new(HashMap::new()),
    });
    let state = rx.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let rx = state.clone();
            async move {
                if rx.down.load(Ordering::SeqCst) {
                    rx.refused.fetch_add(1, Ordering::SeqCst);
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let group = v["groupLabels"]["g"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                *rx.delivered.lock().unwrap().entry(group).or_default() += 1;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (rx, url)
}

#[tokio::test]
async fn a_receiver_down_across_flushes_gets_each_group_once_when_back() {
    let (receiver, url) = start_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        format!(
            r#"
route:
  receiver: hook
  group_by: [g]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
"#
        ),
    )
    .unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    let alerts: Vec<Value> = (0..GROUPS)
        .map(|g| json!({"labels": {"alertname": "Outage", "g": g.to_string()}}))
        .collect();
    let r = client()
        .post(server.url("/api/v2/alerts"))
        .json(&alerts)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(OUTAGE).await;
    let refused = receiver.refused.load(Ordering::SeqCst);
    receiver.down.store(false, Ordering::SeqCst);
    let back = Instant::now();
    loop {
        let delivered = receiver.delivered.lock().unwrap().len();
        if delivered == GROUPS {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "only {delivered} of {GROUPS} groups delivered 20 s after the receiver returned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = back.elapsed();
    // Three more group intervals: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let delivered = receiver.delivered.lock().unwrap().clone();
    eprintln!(
        "receiver down {OUTAGE:?}: {refused} attempts refused ({} per group); \
         every group delivered {took:?} after it returned: {delivered:?}",
        refused / GROUPS
    );
    assert!(delivered.values().all(|n| *n == 1), "{delivered:?}");
    // Backoff doubles from 100 ms to 10 s: a group makes a handful of
    // attempts per flush deadline, not hundreds.
    assert!(refused / GROUPS <= 40, "{refused} attempts refused");
    server.kill9().await;
}
