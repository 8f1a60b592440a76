//! The HTTP surface: Alertmanager's API v2, its operations endpoints
//! (`/-/healthy`, `/-/ready`, `/-/reload`, `/metrics`) and the 410 that
//! newer Alertmanagers answer for API v1.

mod alert_json;
mod alerts;
mod error;
mod klaxon;
mod limits;
pub mod models;
mod query;
mod routes;
mod same_origin;
mod silences;
mod sink;
mod status;
mod streamed;
mod timeline;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

pub use error::ApiError;

use crate::app::AppState;
use crate::metrics::HttpLabels;

/// Alertmanager accepts large bodies (an 8 MiB batch of garbage is a 400,
/// not a 413); beyond this, 413.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// No request may hold a connection longer than this (without
/// `--web.timeout`, which replaces it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole router, under `--web.route-prefix`.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(alerts::router())
        .merge(silences::router())
        .merge(status::router())
        .merge(klaxon::router())
        .merge(routes::router())
        .merge(timeline::router())
        .merge(sink::router())
        .route("/api/v1/{*rest}", any(api_v1_gone))
        .route("/-/healthy", get(ok).head(ok))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin::refuse_cross_site,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), track_http))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let tuning = &state.options.tuning;
    let routes = if tuning.web_timeout.is_none() {
        routes.layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
    } else {
        routes
    };
    let routes = routes.with_state(state.clone());
    let prefix = state.options.route_prefix.trim_end_matches('/');
    let routes = if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    };
    // As Alertmanager, the limits cover every endpoint, the UI included.
    limits::RequestLimits::new(
        tuning.get_concurrency,
        tuning.web_timeout,
        state.metrics.limits.clone(),
    )
    .wrap(routes.merge(crate::ui::router(prefix)))
}

async fn ok() -> &'static str {
    "OK"
}

/// Ready while the store can write: a load balancer should send new
/// silences elsewhere while it cannot (alerts are still taken, from
/// memory).
async fn ready(State(state): State<AppState>) -> Response {
    let health = state.storage.health();
    if health.healthy {
        return "OK".into_response();
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "not ready: the store cannot write ({}); klaxon retries\n",
            health.error.unwrap_or_default()
        ),
    )
        .into_response()
}

/// Alertmanager 0.27 removed API v1 and answers 410 Gone.
async fn api_v1_gone() -> Response {
    (
        StatusCode::GONE,
        axum::Json(serde_json::json!({
            "status": "deprecated",
            "error": "The Alertmanager v1 API was deprecated in version 0.16.0 and is removed as of version 0.27.0 - please use the equivalent route in the v2 API",
        })),
    )
        .into_response()
}

async fn reload(State(state): State<AppState>) -> Response {
    match state.reload().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

/// 0.0.4 text unless the scraper asks for OpenMetrics, as Alertmanager's
/// client library negotiates.
///
/// The gauges are recomputed over every alert and the exposition grows
/// with the groups: both off the async workers.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    use crate::metrics::exposition;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let openmetrics = exposition::wants_openmetrics(accept);
    let encoded = off_the_workers(move || {
        status::refresh_gauges(&state);
        if openmetrics {
            (exposition::OPENMETRICS, state.metrics.encode_openmetrics())
        } else {
            (exposition::TEXT_0_0_4, state.metrics.encode())
        }
    })
    .await;
    match encoded {
        Ok((content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs work that grows with the data (every alert, the whole history) on
/// the blocking threads, so the async workers keep serving other requests.
pub(crate) async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.into()))
}

/// Records request durations by route pattern (never by raw path, whose
/// cardinality a client controls).
async fn track_http(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .http_request_duration
        .get_or_create(&HttpLabels { handler, method })
        .observe(start.elapsed().as_secs_f64());
    resp
}
