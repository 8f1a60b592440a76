//! `tracing:` against a local OTLP/HTTP collector: each notification
//! attempt is a span with the integration, receiver and group, exported
//! with the block's headers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::json;

use crate::harness::{TestServer, eventually};
use crate::receivers_differential::Capture;

/// Export requests as a collector received them, with the tenant header.
type Exports = Arc<Mutex<Vec<(ExportTraceServiceRequest, Option<String>)>>>;

/// Records every export request it receives, decoded.
async fn collector() -> (
    String,
    Arc<Mutex<Vec<(ExportTraceServiceRequest, Option<String>)>>>,
) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let rec = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let rec = rec.clone();
                async move {
                    let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                    let team = headers
                        .get("x-scope-orgid")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    rec.lock().unwrap().push((request, team));
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_attempts_are_exported_as_otlp_spans() {
    let (endpoint, exports) = collector().await;
    let hook = Capture::start(500, "text/plain", "down".into()).await;
    let config = format!(
        "tracing:\n  client_type: http\n  endpoint: '{endpoint}'\n  insecure: true\n  sampling_fraction: 1.0\n  headers:\n    X-Scope-OrgID:\n      values: [team-a]\nroute:\n  receiver: ops\n  group_wait: 0s\n  group_interval: 2s\nreceivers:\n- name: ops\n  webhook_configs:\n  - url: '{}/hook'\n",
        hook.base
    );
    let server = TestServer::start(&config).await;
    let r = server
        .post_alerts(json!([{"labels": {"alertname": "DiskFull"}}]))
        .await;
    assert_eq!(r.status(), 200);
    hook.nth(0, "a notification attempt").await;
    let spans = eventually(
        Duration::from_secs(15),
        "spans at the collector",
        || async {
            let got = exports.lock().unwrap();
            let spans: Vec<_> = got
                .iter()
                .flat_map(|(req, team)| {
                    req.resource_spans.iter().flat_map(move |rs| {
                        rs.scope_spans
                            .iter()
                            .flat_map(|ss| ss.spans.iter().cloned())
                            .map(move |s| (s, team.clone()))
                    })
                })
                .collect();
            (!spans.is_empty()).then_some(spans)
        },
    )
    .await;
    let (span, team) = &spans[0];
    assert_eq!(span.name, "notify webhook");
    assert_eq!(team.as_deref(), Some("team-a"));
    let attr = |key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone())
            .map(|v| format!("{:?}", v.value))
            .unwrap_or_default()
    };
    assert!(attr("alerting.receiver.name").contains("ops"));
    assert!(attr("alerting.aggregation_group.key").contains("{}:{}"));
    // The webhook answered 500: the attempt's span is an error.
    let status = span.status.clone().unwrap_or_default();
    assert_eq!(status.code, 2, "{status:?}");
    server.stop().await;
}

/// A local OTLP/gRPC collector (Alertmanager's default `client_type`).
#[derive(Clone, Default)]
struct GrpcCollector {
    got: Exports,
}

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService
    for GrpcCollector
{
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<
        tonic::Response<
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse,
        >,
        tonic::Status,
    > {
        let team = request
            .metadata()
            .get("x-scope-orgid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.got.lock().unwrap().push((request.into_inner(), team));
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_go_over_grpc_by_default() {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
    let collector = GrpcCollector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let service = TraceServiceServer::new(collector.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await;
    });
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let config = format!(
        "tracing:\n  endpoint: '{endpoint}'\n  insecure: true\n  sampling_fraction: 1\n  headers:\n    X-Scope-OrgID:\n      values: [team-b]\nroute:\n  receiver: ops\n  group_wait: 0s\nreceivers:\n- name: ops\n  webhook_configs:\n  - url: '{}/hook'\n",
        hook.base
    );
    let server = TestServer::start(&config).await;
    let r = server
        .post_alerts(json!([{"labels": {"alertname": "DiskFull"}}]))
        .await;
    assert_eq!(r.status(), 200);
    hook.nth(0, "the notification").await;
    let (name, team, code) = eventually(Duration::from_secs(15), "a span over gRPC", || async {
        let got = collector.got.lock().unwrap();
        got.iter().find_map(|(req, team)| {
            let span = req
                .resource_spans
                .first()?
                .scope_spans
                .first()?
                .spans
                .first()?;
            Some((
                span.name.clone(),
                team.clone(),
                span.status.clone().unwrap_or_default().code,
            ))
        })
    })
    .await;
    assert_eq!(name, "notify webhook");
    assert_eq!(team.as_deref(), Some("team-b"));
    assert_eq!(code, 1, "an attempt that succeeded is Ok");
    server.stop().await;
}
