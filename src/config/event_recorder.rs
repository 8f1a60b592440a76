//! The top-level `event_recorder:` block (Alertmanager 0.33): where the
//! structured events go when `--enable-feature=event-recorder` is on. Keys,
//! defaults and checks are Alertmanager 0.34's; the recorder itself is
//! `crate::event_recorder`.

use serde::{Deserialize, Serialize};

use super::validate::{check_http, check_tls, check_url};
use super::{ConfigError, Duration, HttpConfig, Secret, TlsConfig};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRecorderConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_outputs: Vec<FileOutputConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_outputs: Vec<WebhookOutputConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kafka_outputs: Vec<KafkaOutputConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stdout_outputs: Vec<StdoutOutputConfig>,
}

impl EventRecorderConfig {
    pub fn is_empty(&self) -> bool {
        *self == EventRecorderConfig::default()
    }
}

/// A JSON-lines file, appended to; relative paths are relative to the
/// config file's directory.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutputConfig {
    #[serde(default)]
    pub path: String,
}

/// Every event POSTed as JSON (or a JSON array of events when `batch`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookOutputConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpConfig>,
    /// Per request; 10 s when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Concurrent deliveries; 4 when unset or not positive.
    #[serde(default)]
    pub workers: i64,
    /// Attempts per event or batch; 3 when unset or not positive.
    #[serde(default)]
    pub max_retries: i64,
    /// Base of the exponential backoff between attempts; 500 ms when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff: Option<Duration>,
    #[serde(default)]
    pub batch: bool,
    #[serde(default)]
    pub batch_max_events: i64,
    #[serde(default)]
    pub batch_max_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_flush_interval: Option<Duration>,
}

/// A Kafka topic. Parsed and checked as Alertmanager does; klaxon has no
/// Kafka producer, so with the feature on such an output is reported as
/// not created (as Alertmanager reports an output it cannot create) and
/// the other outputs run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOutputConfig {
    #[serde(default)]
    pub brokers: Vec<String>,
    #[serde(default)]
    pub topic: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub format: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acks: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(default)]
    pub buffer_size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

/// Events as JSON lines on standard output; the block has no keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutOutputConfig {}

/// Alertmanager's checks, with its messages.
pub(super) fn check(c: &EventRecorderConfig) -> Result<(), ConfigError> {
    for (i, f) in c.file_outputs.iter().enumerate() {
        if f.path.is_empty() {
            return Err(ConfigError::at(
                format!("event_recorder.file_outputs[{i}].path"),
                "event_recorder file output requires a path",
            ));
        }
    }
    for (i, w) in c.webhook_outputs.iter().enumerate() {
        check_webhook(&format!("event_recorder.webhook_outputs[{i}]"), w)?;
    }
    for (i, k) in c.kafka_outputs.iter().enumerate() {
        check_kafka(&format!("event_recorder.kafka_outputs[{i}]"), k)?;
    }
    Ok(())
}

fn check_webhook(at: &str, w: &WebhookOutputConfig) -> Result<(), ConfigError> {
    let Some(url) = &w.url else {
        return Err(ConfigError::at(
            format!("{at}.url"),
            "event_recorder webhook output requires a url",
        ));
    };
    check_url(url.expose()).map_err(|m| {
        ConfigError::at(
            format!("{at}.url"),
            format!("event_recorder webhook output requires an absolute http(s) url: {m}"),
        )
    })?;
    if w.batch_max_events < 0 || w.batch_max_bytes < 0 {
        return Err(ConfigError::at(
            format!("{at}.batch"),
            "event_recorder webhook batch settings cannot be negative",
        ));
    }
    let batch_tuned =
        w.batch_max_events != 0 || w.batch_max_bytes != 0 || w.batch_flush_interval.is_some();
    if !w.batch && batch_tuned {
        return Err(ConfigError::at(
            format!("{at}.batch"),
            "event_recorder webhook batch settings require batch: true",
        ));
    }
    if let Some(h) = &w.http_config {
        check_http(&format!("{at}.http_config"), h)?;
    }
    Ok(())
}

fn check_kafka(at: &str, k: &KafkaOutputConfig) -> Result<(), ConfigError> {
    let fail =
        |field: &str, message: String| Err(ConfigError::at(format!("{at}.{field}"), message));
    if k.brokers.is_empty() {
        return fail(
            "brokers",
            "event_recorder kafka: at least one broker is required".into(),
        );
    }
    if k.brokers.iter().any(String::is_empty) {
        return fail(
            "brokers",
            "event_recorder kafka: broker entries must be non-empty".into(),
        );
    }
    if !["", "none", "leader", "all"].contains(&k.acks.as_str()) {
        return fail(
            "acks",
            format!(
                "event_recorder kafka: unknown acks {:?}, must be \"none\", \"leader\", or \"all\"",
                k.acks
            ),
        );
    }
    if !["", "none", "gzip", "snappy", "lz4", "zstd"].contains(&k.compression.as_str()) {
        return fail(
            "compression",
            format!(
                "event_recorder kafka: unknown compression {:?}",
                k.compression
            ),
        );
    }
    if k.topic.is_empty() {
        return fail(
            "topic",
            "event_recorder kafka output requires a topic".into(),
        );
    }
    if !["", "json", "protobuf"].contains(&k.format.as_str()) {
        return fail(
            "format",
            format!(
                "event_recorder kafka: unknown format {:?}, must be \"json\" or \"protobuf\"",
                k.format
            ),
        );
    }
    if let Some(tls) = &k.tls_config {
        check_tls(&format!("{at}.tls_config"), tls)?;
    }
    Ok(())
}
