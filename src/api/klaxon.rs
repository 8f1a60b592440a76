//! klaxon's own endpoints, under `/api/klaxon/` so that `/api/v2` stays
//! exactly Alertmanager's.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde::Serialize;

use super::ApiError;
use crate::app::AppState;
use crate::history::{Attempt, Query as HistoryQuery};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/klaxon/notifications", get(get_notifications))
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPage {
    notifications: Vec<Attempt>,
    /// Pass as `offset` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_offset: Option<usize>,
}

/// Delivery attempts, newest first: `receiver=`, `groupKey=`, `offset=`, `limit=`.
async fn get_notifications(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<NotificationPage>, ApiError> {
    let mut q = HistoryQuery {
        limit: DEFAULT_LIMIT,
        ..HistoryQuery::default()
    };
    for (k, v) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| ApiError::BadRequest(format!("{k}: {v:?} is not a number")))
        };
        match k.as_ref() {
            "receiver" => q.receiver = Some(v.into_owned()),
            "groupKey" => q.group_key = Some(v.into_owned()),
            "offset" => q.offset = number(&v)?,
            "limit" => q.limit = number(&v)?.clamp(1, MAX_LIMIT),
            _ => {}
        }
    }
    // One more than asked tells whether another page exists.
    let want = q.limit;
    q.limit = want + 1;
    let mut notifications = state
        .history
        .list(&q)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let next_offset = (notifications.len() > want).then(|| q.offset + want);
    notifications.truncate(want);
    Ok(Json(NotificationPage {
        notifications,
        next_offset,
    }))
}
