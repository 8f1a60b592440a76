//! `/api/v2/alerts` and `/api/v2/alerts/groups`: [`ingest`] takes posted
//! alerts, [`listing`] writes the alert list and [`group_list`] the group
//! list, [`alert_status`] says what mutes one alert.

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::routing::get;

use crate::app::AppState;

pub(super) mod alert_status;
mod group_list;
mod ingest;
mod listing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v2/alerts",
            get(listing::get_alerts).post(ingest::post_alerts),
        )
        .route("/api/v2/alerts/groups", get(group_list::get_alert_groups))
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}
