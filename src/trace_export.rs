//! `tracing:` — a span for each notification attempt, exported over
//! OTLP/HTTP (protobuf) with klaxon's own HTTP client (so the block's
//! `tls_config`, `headers` and `timeout` mean what they mean elsewhere).
//!
//! The SDK's batch processor exports from a thread of its own; the client
//! runs each export on the server's tokio runtime and waits for it there.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use crate::config::{HttpConfig, TracingClientType, TracingConfig};

/// Why the exporter could not be built (a config error at load).
#[derive(Debug, thiserror::Error)]
pub enum TraceExportError {
    #[error(transparent)]
    Client(#[from] crate::http_client::HttpClientError),
    #[error("the OTLP exporter: {0}")]
    Exporter(String),
}

/// The exporter of the running config; dropping it flushes and stops it
/// off the caller's thread.
pub struct TraceExport {
    provider: Option<SdkTracerProvider>,
    tracer: opentelemetry_sdk::trace::SdkTracer,
}

impl std::fmt::Debug for TraceExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceExport")
    }
}

impl TraceExport {
    /// The exporter `config` describes: OTLP over gRPC (Alertmanager's
    /// default) or HTTP/protobuf.
    pub fn new(config: &TracingConfig) -> Result<Option<TraceExport>, TraceExportError> {
        let timeout = config.timeout.map(|t| t.as_std()).filter(|t| !t.is_zero());
        let scheme = if config.insecure { "http" } else { "https" };
        let exporter = match config.client_type {
            TracingClientType::Grpc => grpc_exporter(config, scheme, timeout)?,
            TracingClientType::Http => http_exporter(config, scheme, timeout)?,
        };
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("klaxon")
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        // Exported every 2 s (the SDK's default is 5 s): an alerting
        // system's spans are few, and fresh ones are what an operator
        // looks for.
        let batch = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                opentelemetry_sdk::trace::BatchConfigBuilder::default()
                    .with_scheduled_delay(std::time::Duration::from_secs(2))
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batch)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sampling_fraction,
            ))))
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("klaxon/notify");
        Ok(Some(TraceExport {
            provider: Some(provider),
            tracer,
        }))
    }

    /// A span for one attempt of `integration` for `receiver`'s group.
    pub fn attempt(
        &self,
        integration: &str,
        receiver: &str,
        group_key: &str,
        alerts: usize,
    ) -> Attempt {
        let span = self
            .tracer
            .span_builder(format!("notify {integration}"))
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("alerting.notify.integration.name", integration.to_owned()),
                KeyValue::new("alerting.receiver.name", receiver.to_owned()),
                KeyValue::new("alerting.aggregation_group.key", group_key.to_owned()),
                KeyValue::new("alerting.alerts.count", alerts as i64),
            ])
            .start(&self.tracer);
        Attempt(span)
    }
}

/// One attempt's span; [`Attempt::end`] records the outcome.
pub struct Attempt(opentelemetry_sdk::trace::Span);

impl Attempt {
    /// `error` is the failed attempt's text (already free of secrets).
    pub fn end(mut self, error: Option<String>) {
        if let Some(e) = error {
            self.0.set_status(Status::error(e));
        } else {
            self.0.set_status(Status::Ok);
        }
        self.0.end();
    }
}

impl Drop for TraceExport {
    fn drop(&mut self) {
        // Shutting down flushes the batch, which waits for an export that
        // runs on the runtime: never on a runtime thread.
        if let Some(provider) = self.provider.take() {
            std::thread::spawn(move || {
                let _ = provider.shutdown();
            });
        }
    }
}

fn http_exporter(
    config: &TracingConfig,
    scheme: &str,
    timeout: Option<std::time::Duration>,
) -> Result<opentelemetry_otlp::SpanExporter, TraceExportError> {
    let http = HttpConfig {
        tls_config: config.tls_config.clone(),
        http_headers: config.headers.clone(),
        ..HttpConfig::default()
    };
    let client = crate::http_client::client(&http, "klaxon", timeout)?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| TraceExportError::Exporter("no async runtime to export from".into()))?;
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{scheme}://{}/v1/traces", config.endpoint))
        .with_headers(HashMap::new())
        .with_http_client(OtlpClient { client, runtime });
    if let Some(t) = timeout {
        builder = builder.with_timeout(t);
    }
    if config.compression == "gzip" {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    builder
        .build()
        .map_err(|e| TraceExportError::Exporter(e.to_string()))
}

fn grpc_exporter(
    config: &TracingConfig,
    scheme: &str,
    timeout: Option<std::time::Duration>,
) -> Result<opentelemetry_otlp::SpanExporter, TraceExportError> {
    use opentelemetry_otlp::WithTonicConfig;
    use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
    use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
    let bad = |what: &str| TraceExportError::Exporter(format!("header {what}"));
    let mut metadata = MetadataMap::new();
    for (name, h) in &config.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(name.to_lowercase().as_bytes())
            .map_err(|_| bad(name))?;
        let values = h.values.iter().map(String::as_str);
        for value in values.chain(h.secrets.iter().map(|s| s.expose())) {
            metadata.append(key.clone(), value.parse().map_err(|_| bad(name))?);
        }
    }
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("{scheme}://{}", config.endpoint))
        .with_metadata(metadata);
    if let Some(t) = timeout {
        builder = builder.with_timeout(t);
    }
    if config.compression == "gzip" {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    if !config.insecure {
        let tls = config.tls_config.clone().unwrap_or_default();
        let domain = tls.server_name.clone().unwrap_or_else(|| {
            config
                .endpoint
                .rsplit_once(':')
                .map_or(config.endpoint.clone(), |(h, _)| h.to_owned())
        });
        let mut client_tls = ClientTlsConfig::new().domain_name(domain);
        let tls_error = |(field, reason): (&'static str, String)| {
            TraceExportError::Client(crate::http_client::HttpClientError::Tls { field, reason })
        };
        match tls.ca_pem().map_err(tls_error)? {
            Some(pem) => client_tls = client_tls.ca_certificate(Certificate::from_pem(pem)),
            None => client_tls = client_tls.with_native_roots(),
        }
        if let Some((cert, key)) = tls.client_pems().map_err(tls_error)? {
            client_tls = client_tls.identity(Identity::from_pem(cert, key));
        }
        builder = builder.with_tls_config(client_tls);
    }
    builder
        .build()
        .map_err(|e| TraceExportError::Exporter(e.to_string()))
}

/// opentelemetry's HTTP client, as klaxon's reqwest client on the server's
/// runtime.
#[derive(Debug, Clone)]
struct OtlpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtlpClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.runtime.spawn(async move {
            let answer = async {
                let resp = client.execute(request).await?;
                let mut out = http::Response::builder().status(resp.status());
                for (k, v) in resp.headers() {
                    out = out.header(k, v);
                }
                let body = resp.bytes().await?;
                Ok::<_, reqwest::Error>(out.body(body))
            }
            .await;
            let _ = tx.send(answer);
        });
        let answer = rx
            .await
            .map_err(|e| Box::new(e) as opentelemetry_http::HttpError)?;
        // The URL (with its credentials, if any) stays out of the error.
        let resp =
            answer.map_err(|e| Box::new(e.without_url()) as opentelemetry_http::HttpError)?;
        Ok(resp?)
    }
}

/// Shared so a reload can keep exporting while the new pipeline starts.
pub type SharedTraceExport = Option<Arc<TraceExport>>;
