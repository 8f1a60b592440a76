//! Alertmanager 0.33's event recorder (`--enable-feature=event-recorder`):
//! the significant things that happen (start and stop, alerts created,
//! grouped and resolved, notifications delivered, silences made, alerts
//! muted) as structured JSON events, sent to the `event_recorder:` outputs.
//!
//! Recording never waits: an event goes into a bounded queue (dropped and
//! counted when it is full) and one writer thread serializes it once and
//! hands it to every output. The thread is a plain one, so a slow disk
//! under a file output never stalls the async runtime.

pub mod events;
mod file_output;
mod webhook_output;

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::config::EventRecorderConfig;
use crate::metrics::EventMetrics;
pub use events::{Event, EventData};

/// Events waiting for the writer before new ones are dropped (as
/// Alertmanager: at ~500 bytes an event, a few MB).
const QUEUE_SIZE: usize = 8192;

/// A handle to the recorder; cheap to clone. Without the feature it
/// records nothing and costs one branch per call.
#[derive(Clone, Default)]
pub struct EventRecorder(Option<Arc<Running>>);

struct Running {
    instance: String,
    queue: SyncSender<Message>,
    metrics: EventMetrics,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

enum Message {
    Event(Box<Event>),
    Apply(EventRecorderConfig, std::sync::mpsc::Sender<()>),
    Close,
}

/// Where events go; each kind is one file.
trait Output: Send {
    /// The `output` label: `file:<path>`, `stdout`, `webhook:<origin>`.
    fn name(&self) -> &str;
    /// Delivers one event's JSON; the bytes written, or why not.
    fn send(&mut self, json: &[u8]) -> Result<usize, String>;
    /// Flushes what is pending; webhooks finish their queue (bounded).
    fn close(self: Box<Self>);
}

impl EventRecorder {
    /// A recorder that records nothing (the feature is off).
    pub fn off() -> Self {
        EventRecorder(None)
    }

    /// Starts the writer on `config`'s outputs. `instance` names this
    /// klaxon in every event (the host name, as Alertmanager).
    pub fn start(config: &EventRecorderConfig, instance: String, metrics: EventMetrics) -> Self {
        let (queue, rx) = std::sync::mpsc::sync_channel(QUEUE_SIZE);
        let runtime = tokio::runtime::Handle::try_current().ok();
        let outputs = build(config, runtime.as_ref(), &metrics);
        let writer_metrics = metrics.clone();
        let initial = config.clone();
        let writer = std::thread::Builder::new()
            .name("event-recorder".into())
            .spawn(move || write_loop(rx, outputs, initial, runtime, writer_metrics))
            .expect("spawning the event recorder thread");
        EventRecorder(Some(Arc::new(Running {
            instance,
            queue,
            metrics,
            writer: Mutex::new(Some(writer)),
        })))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Records the event `build` makes; `build` runs only when recording.
    pub fn record(&self, build: impl FnOnce() -> EventData) {
        let Some(r) = &self.0 else {
            return;
        };
        let data = build();
        let kind = data.kind();
        let event = Event {
            timestamp: events::ProtoTime(Utc::now()),
            instance: r.instance.clone(),
            data,
            cluster_position: 0,
        };
        // Counted before the send so the writer never takes it below zero.
        r.metrics.queue_length.inc();
        if let Err(e) = r.queue.try_send(Message::Event(Box::new(event))) {
            r.metrics.queue_length.dec();
            // Disconnected: klaxon is stopping; nothing is left to write to.
            if let TrySendError::Full(_) = e {
                r.metrics.dropped(kind);
            }
        }
    }

    /// Switches to a reloaded config's outputs (when they changed). If one
    /// of the new outputs cannot be made, the running ones stay.
    pub async fn apply(&self, config: &EventRecorderConfig) {
        let Some(r) = &self.0 else {
            return;
        };
        let (ack, done) = std::sync::mpsc::channel();
        let queue = r.queue.clone();
        let config = config.clone();
        // `send` waits for room in the queue; off the async threads.
        let _ = tokio::task::spawn_blocking(move || {
            if queue.send(Message::Apply(config, ack)).is_ok() {
                let _ = done.recv();
            }
        })
        .await;
    }

    /// Writes what is queued, closes the outputs and stops the writer.
    pub async fn close(&self) {
        let Some(r) = &self.0 else {
            return;
        };
        let writer = r.writer.lock().expect("writer lock").take();
        let queue = r.queue.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _ = queue.send(Message::Close);
            if let Some(w) = writer {
                let _ = w.join();
            }
        })
        .await;
    }
}

fn write_loop(
    rx: Receiver<Message>,
    mut outputs: Vec<Box<dyn Output>>,
    mut current: EventRecorderConfig,
    runtime: Option<tokio::runtime::Handle>,
    metrics: EventMetrics,
) {
    while let Ok(message) = rx.recv() {
        match message {
            Message::Event(event) => {
                metrics.queue_length.dec();
                write(&event, &mut outputs, &metrics);
            }
            Message::Apply(config, ack) => {
                if config != current {
                    let fresh = build(&config, runtime.as_ref(), &metrics);
                    if fresh.len() == total_outputs(&config) {
                        for old in std::mem::replace(&mut outputs, fresh) {
                            old.close();
                        }
                        current = config;
                        tracing::info!(
                            outputs = outputs.len(),
                            "event recorder configuration reloaded"
                        );
                    } else {
                        tracing::error!(
                            "failed to reload event recorder outputs; keeping the running ones"
                        );
                        fresh.into_iter().for_each(|o| o.close());
                    }
                }
                let _ = ack.send(());
            }
            Message::Close => {
                while let Ok(Message::Event(event)) = rx.try_recv() {
                    metrics.queue_length.dec();
                    write(&event, &mut outputs, &metrics);
                }
                break;
            }
        }
    }
    for output in outputs {
        output.close();
    }
}

fn write(event: &Event, outputs: &mut [Box<dyn Output>], metrics: &EventMetrics) {
    let kind = event.data.kind();
    let json = match serde_json::to_vec(event) {
        Ok(json) => json,
        Err(e) => {
            metrics
                .serialize_errors
                .get_or_create(&vec![("event_type", kind.to_owned())])
                .inc();
            tracing::error!(event_type = kind, error = %e, "failed to serialize an event");
            return;
        }
    };
    for output in outputs {
        let sent = output.send(&json);
        if let Err(e) = &sent {
            tracing::error!(event_type = kind, output = output.name(), error = %e, "failed to write event");
        }
        metrics.written(kind, output.name(), sent.ok());
    }
}

fn total_outputs(c: &EventRecorderConfig) -> usize {
    c.file_outputs.len() + c.webhook_outputs.len() + c.kafka_outputs.len() + c.stdout_outputs.len()
}

/// The outputs `config` describes; one that cannot be made is logged and
/// left out, as Alertmanager does.
fn build(
    config: &EventRecorderConfig,
    runtime: Option<&tokio::runtime::Handle>,
    metrics: &EventMetrics,
) -> Vec<Box<dyn Output>> {
    let mut outputs: Vec<Box<dyn Output>> = Vec::new();
    for f in &config.file_outputs {
        match file_output::FileOutput::open(&f.path) {
            Ok(o) => outputs.push(Box::new(o)),
            Err(e) => {
                tracing::error!(path = %f.path, error = %e, "failed to create file event recorder output")
            }
        }
    }
    for w in &config.webhook_outputs {
        let made = runtime
            .ok_or_else(|| "no async runtime to send from".to_owned())
            .and_then(|rt| webhook_output::WebhookOutput::start(w, rt, metrics.clone()));
        match made {
            Ok(o) => outputs.push(Box::new(o)),
            Err(e) => tracing::error!(error = %e, "failed to create webhook event recorder output"),
        }
    }
    for k in &config.kafka_outputs {
        tracing::error!(
            brokers = %k.brokers.join(","),
            topic = %k.topic,
            error = "klaxon has no Kafka producer",
            "failed to create kafka event recorder output"
        );
    }
    for _ in &config.stdout_outputs {
        outputs.push(Box::new(StdoutOutput));
    }
    outputs
}

/// Events as JSON lines on standard output.
struct StdoutOutput;

impl Output for StdoutOutput {
    fn name(&self) -> &str {
        "stdout"
    }

    fn send(&mut self, json: &[u8]) -> Result<usize, String> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(json)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map(|()| json.len() + 1)
            .map_err(|e| e.to_string())
    }

    fn close(self: Box<Self>) {}
}
