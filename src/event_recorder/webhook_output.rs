//! `webhook_outputs`: each event POSTed as a JSON object, or, with
//! `batch: true`, events POSTed together as a JSON array. A bounded queue
//! feeds `workers` senders; each request is tried `max_retries` times with
//! exponential backoff (capped at 30 s), then dropped and logged. Defaults
//! are Alertmanager 0.34's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::Output;
use crate::config::WebhookOutputConfig;
use crate::integrations::http::HttpClient;
use crate::metrics::EventMetrics;

const QUEUE_SIZE: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long closing waits for the queue to drain before giving up on
/// retries still waiting.
const CLOSE_GRACE: Duration = Duration::from_secs(30);

pub struct WebhookOutput {
    name: String,
    queue: Option<mpsc::Sender<Vec<u8>>>,
    tasks: tokio_util::task::TaskTracker,
    /// Cancelled when closing has waited long enough: retry backoffs end.
    give_up: CancellationToken,
    runtime: tokio::runtime::Handle,
    metrics: EventMetrics,
}

struct Sender {
    client: HttpClient,
    url: String,
    name: String,
    max_retries: u32,
    backoff: Duration,
    give_up: CancellationToken,
}

#[derive(Clone, Copy)]
struct Batching {
    max_events: usize,
    max_bytes: usize,
    flush_interval: Duration,
}

impl WebhookOutput {
    pub fn start(
        config: &WebhookOutputConfig,
        runtime: &tokio::runtime::Handle,
        metrics: EventMetrics,
    ) -> Result<Self, String> {
        let url = config
            .url
            .as_ref()
            .ok_or("event_recorder webhook output requires a url")?
            .expose()
            .to_owned();
        let timeout = config
            .timeout
            .map_or(Duration::from_secs(10), |t| t.0)
            .max(Duration::from_millis(1));
        let http = config.http_config.clone().unwrap_or_default();
        let client = HttpClient::new(&http, Some(timeout)).map_err(|e| e.to_string())?;
        let name = format!("webhook:{}", origin(&url));
        let give_up = CancellationToken::new();
        let sender = Arc::new(Sender {
            client,
            url,
            name: name.clone(),
            max_retries: positive(config.max_retries, 3) as u32,
            backoff: config
                .retry_backoff
                .map_or(Duration::from_millis(500), |d| d.0),
            give_up: give_up.clone(),
        });
        let workers = positive(config.workers, 4);
        let (queue, rx) = mpsc::channel::<Vec<u8>>(QUEUE_SIZE);
        let tasks = tokio_util::task::TaskTracker::new();
        if config.batch {
            let batching = Batching {
                max_events: positive(config.batch_max_events, 100),
                max_bytes: positive(config.batch_max_bytes, 1 << 20),
                flush_interval: config
                    .batch_flush_interval
                    .map_or(Duration::from_millis(100), |d| d.0),
            };
            let (batches, batch_rx) = mpsc::channel::<Vec<u8>>(workers);
            tasks.spawn_on(batch_loop(rx, batches, batching), runtime);
            let batch_rx = Arc::new(Mutex::new(batch_rx));
            for _ in 0..workers {
                tasks.spawn_on(deliver_loop(batch_rx.clone(), sender.clone()), runtime);
            }
        } else {
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..workers {
                tasks.spawn_on(deliver_loop(rx.clone(), sender.clone()), runtime);
            }
        }
        tasks.close();
        Ok(WebhookOutput {
            name,
            queue: Some(queue),
            tasks,
            give_up,
            runtime: runtime.clone(),
            metrics,
        })
    }
}

fn positive(value: i64, default: usize) -> usize {
    if value > 0 { value as usize } else { default }
}

/// The URL's scheme, host and port: the path and query of a webhook URL
/// often hold its token, so they never reach a label or a log.
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "<invalid>".into(),
    }
}

impl Output for WebhookOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, json: &[u8]) -> Result<usize, String> {
        let Some(queue) = &self.queue else {
            return Err("output closed".into());
        };
        match queue.try_send(json.to_vec()) {
            Ok(()) => {}
            Err(_) => {
                self.metrics.output_dropped(&self.name);
                tracing::warn!(output = %self.name, "event recorder webhook queue full, dropping event");
            }
        }
        Ok(json.len())
    }

    fn close(mut self: Box<Self>) {
        // Closing the queue lets the workers drain it and stop.
        self.queue = None;
        let tasks = self.tasks.clone();
        let give_up = self.give_up.clone();
        self.runtime.block_on(async move {
            if tokio::time::timeout(CLOSE_GRACE, tasks.wait())
                .await
                .is_err()
            {
                give_up.cancel();
                tasks.wait().await;
            }
        });
    }
}

async fn deliver_loop(rx: Arc<Mutex<mpsc::Receiver<Vec<u8>>>>, sender: Arc<Sender>) {
    loop {
        let next = rx.lock().await.recv().await;
        let Some(body) = next else {
            return;
        };
        sender.post_with_retries(body).await;
    }
}

impl Sender {
    async fn post_with_retries(&self, body: Vec<u8>) {
        for attempt in 0..self.max_retries {
            let Err(e) = self.client.post_json(&self.url, body.clone()).await else {
                return;
            };
            tracing::warn!(output = %self.name, attempt = attempt + 1, error = %e.without(&self.url), "event recorder webhook POST failed");
            if attempt + 1 < self.max_retries {
                let backoff = self
                    .backoff
                    .saturating_mul(1 << attempt.min(20))
                    .min(MAX_BACKOFF);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = self.give_up.cancelled() => {
                        tracing::warn!(output = %self.name, "event recorder webhook closing during retry backoff, dropping event");
                        return;
                    }
                }
            }
        }
        tracing::error!(output = %self.name, retries = self.max_retries, "event recorder webhook POST failed after retries, dropping event");
    }
}

/// Gathers events into JSON arrays of at most `max_events` events and
/// (softly) `max_bytes` bytes, sent when full or `flush_interval` after
/// their first event.
async fn batch_loop(mut rx: mpsc::Receiver<Vec<u8>>, out: mpsc::Sender<Vec<u8>>, b: Batching) {
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut size = 2; // the brackets
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let next = match deadline {
            Some(at) => tokio::select! {
                next = rx.recv() => next.map(Some),
                _ = tokio::time::sleep_until(at) => Some(None),
            },
            None => rx.recv().await.map(Some),
        };
        match next {
            // The queue closed: send what is left and stop.
            None => {
                if !batch.is_empty() {
                    let _ = out.send(json_array(&batch, size)).await;
                }
                return;
            }
            // The interval ran out.
            Some(None) => {
                let _ = out.send(json_array(&batch, size)).await;
                batch.clear();
                size = 2;
                deadline = None;
            }
            Some(Some(event)) => {
                let extra = event.len() + usize::from(!batch.is_empty());
                if !batch.is_empty() && (batch.len() >= b.max_events || size + extra > b.max_bytes)
                {
                    let _ = out.send(json_array(&batch, size)).await;
                    batch.clear();
                    size = 2;
                    deadline = None;
                }
                size += event.len() + usize::from(!batch.is_empty());
                batch.push(event);
                if batch.len() == 1 {
                    deadline = Some(tokio::time::Instant::now() + b.flush_interval);
                }
                if batch.len() >= b.max_events || size >= b.max_bytes {
                    let _ = out.send(json_array(&batch, size)).await;
                    batch.clear();
                    size = 2;
                    deadline = None;
                }
            }
        }
    }
}

fn json_array(events: &[Vec<u8>], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_logs_name_the_origin_only() {
        assert_eq!(
            origin("https://user:pw@hooks.example.com:8443/T0/B1/secret?token=x"),
            "https://hooks.example.com:8443"
        );
        assert_eq!(origin("not a url"), "<invalid>");
    }

    #[test]
    fn a_batch_is_a_json_array_of_the_events() {
        let events = vec![br#"{"a":1}"#.to_vec(), br#"{"b":2}"#.to_vec()];
        assert_eq!(json_array(&events, 0), br#"[{"a":1},{"b":2}]"#.to_vec());
    }
}
