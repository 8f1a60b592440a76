//! A webhook receiver for the pipeline benchmarks: records when each
//! notification arrived and what it carried, and wakes whoever waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};

/// What one webhook POST carried, as far as the benchmarks care.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    group_labels: HashMap<String, String>,
    alerts: Vec<PayloadAlert>,
}

#[derive(Deserialize)]
struct PayloadAlert {
    labels: HashMap<String, String>,
}

#[derive(Default)]
struct Tally {
    notifications: usize,
    /// Per group (its group labels, joined), the most alerts one
    /// notification carried: a group is complete when it reached its size.
    largest: HashMap<String, usize>,
    delivered: usize,
    /// Arrival of the first and of the latest notification.
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Shared {
    arrivals: mpsc::UnboundedSender<(Instant, String)>,
    tally: Mutex<Tally>,
    changed: Notify,
}

pub struct Sink {
    pub url: String,
    shared: Arc<Shared>,
    /// Arrival time and first alert name of every notification.
    pub arrivals: mpsc::UnboundedReceiver<(Instant, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    pub async fn start() -> anyhow::Result<Sink> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            arrivals: tx,
            tally: Mutex::new(Tally::default()),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/", post(receive))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Sink {
            url,
            shared,
            arrivals: rx,
            task,
        })
    }

    /// Notifications received so far.
    pub fn notifications(&self) -> usize {
        self.shared.tally.lock().expect("tally").notifications
    }

    /// Time from the first notification's arrival to the latest one's.
    pub fn delivery_window(&self) -> std::time::Duration {
        let t = self.shared.tally.lock().expect("tally");
        match (t.first, t.last) {
            (Some(first), Some(last)) => last - first,
            _ => std::time::Duration::ZERO,
        }
    }

    /// Waits until the largest notification of every group adds up to
    /// `alerts` alerts, or `limit` passes. Returns whether it did.
    pub async fn wait_delivered(&self, alerts: usize, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            if self.shared.tally.lock().expect("tally").delivered >= alerts {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Arc<Shared>>, body: Bytes) -> &'static str {
    let arrived = Instant::now();
    let Ok(payload) = serde_json::from_slice::<Payload>(&body) else {
        return "unreadable";
    };
    let first = payload
        .alerts
        .first()
        .and_then(|a| a.labels.get("alertname"))
        .cloned()
        .unwrap_or_default();
    let _ = shared.arrivals.send((arrived, first));
    let mut group: Vec<_> = payload.group_labels.into_iter().collect();
    group.sort();
    let key = format!("{group:?}");
    {
        let mut t = shared.tally.lock().expect("tally");
        t.notifications += 1;
        t.first.get_or_insert(arrived);
        t.last = Some(arrived);
        let largest = t.largest.entry(key).or_default();
        let grown = payload.alerts.len().saturating_sub(*largest);
        *largest += grown;
        t.delivered += grown;
    }
    shared.changed.notify_waiters();
    "ok"
}
