//! `POST /api/klaxon/sink`: a webhook receiver built into klaxon, so that
//! the example config delivers somewhere visible before any real receiver
//! is set up. Each notification (Alertmanager's webhook payload, version 4)
//! becomes one INFO log line; the delivery itself shows in the history
//! (`#/notifications`). Nothing is stored.

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use serde::Deserialize;

use super::ApiError;
use crate::app::AppState;

/// A notification of thousands of alerts fits; the sink is for looking at
/// deliveries, not for holding the API's 32 MiB bodies in memory.
const MAX_BODY_BYTES: usize = 4 << 20;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/klaxon/sink",
        post(post_sink).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

/// The parts of a webhook payload a person reading the log wants.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    receiver: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    alerts: Vec<SinkAlert>,
    #[serde(default)]
    group_labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    truncated_alerts: u64,
}

#[derive(Deserialize)]
struct SinkAlert {
    #[serde(default)]
    status: String,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

async fn post_sink(body: Bytes) -> Result<(), ApiError> {
    let p: Payload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not an Alertmanager webhook payload: {e}")))?;
    let firing = p.alerts.iter().filter(|a| a.status == "firing").count();
    let mut names: Vec<&str> = p
        .alerts
        .iter()
        .filter_map(|a| a.labels.get("alertname").map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let group = p
        .group_labels
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    tracing::info!(
        receiver = %p.receiver,
        status = %p.status,
        alerts = (p.alerts.len() as u64).saturating_add(p.truncated_alerts),
        firing,
        group = %format!("{{{group}}}"),
        alertnames = %names.join(", "),
        "notification received by the sink"
    );
    Ok(())
}
