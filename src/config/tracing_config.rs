//! The top-level `tracing:` block (Alertmanager 0.30): its keys, defaults
//! and checks. Parsing and validation only; see the README for what klaxon
//! does with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::check_host_port;
use super::{ConfigError, Duration, TlsConfig};

/// `tracing:`. Alertmanager rejects the block without an `endpoint`, and
/// defaults `client_type` to `grpc`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfig {
    #[serde(default)]
    pub client_type: TracingClientType,
    /// `host:port` of the OTLP collector, without a scheme (the OTLP
    /// exporters' `WithEndpoint`).
    #[serde(default)]
    pub endpoint: String,
    /// 0 (the default) samples nothing, 1 everything.
    #[serde(default)]
    pub sampling_fraction: f64,
    /// Plain HTTP / gRPC without TLS.
    #[serde(default)]
    pub insecure: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// prometheus/common's `Headers`: per name, values, secrets and files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, TracingHeader>,
    /// Empty or `gzip`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub compression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TracingClientType {
    #[default]
    Grpc,
    Http,
}

/// One header of `tracing.headers`: prometheus/common's header type.
pub type TracingHeader = super::HeaderConfig;

/// Alertmanager's checks, plus the ones its exporter would fail on later
/// (an endpoint that is not `host:port`, a fraction outside 0..=1).
pub(super) fn check(t: &TracingConfig) -> Result<(), ConfigError> {
    if t.endpoint.is_empty() {
        return Err(ConfigError::at(
            "tracing.endpoint",
            "tracing endpoint must be set",
        ));
    }
    check_host_port(&t.endpoint).map_err(|m| {
        ConfigError::at(
            "tracing.endpoint",
            format!("tracing endpoint must be host:port without a scheme: {m}"),
        )
    })?;
    if !(0.0..=1.0).contains(&t.sampling_fraction) {
        return Err(ConfigError::at(
            "tracing.sampling_fraction",
            format!(
                "sampling_fraction must be between 0 and 1, got {}",
                t.sampling_fraction
            ),
        ));
    }
    if !t.compression.is_empty() && t.compression != "gzip" {
        return Err(ConfigError::at(
            "tracing.compression",
            format!(
                "invalid compression type {} provided, valid options: gzip",
                t.compression
            ),
        ));
    }
    for (name, h) in &t.headers {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(ConfigError::at(
                "tracing.headers",
                format!("invalid header name {name:?}"),
            ));
        }
        if h.values.is_empty() && h.secrets.is_empty() && h.files.is_empty() {
            return Err(ConfigError::at(
                format!("tracing.headers.{name}"),
                "a header needs values, secrets or files",
            ));
        }
    }
    Ok(())
}
