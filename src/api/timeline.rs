//! `GET /api/klaxon/timeline?hours=24&buckets=48`: alerts firing per
//! severity and notifications sent/failed per receiver over the last
//! hours, for the timelines the UI draws above the alerts and
//! notifications views.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ApiError;
use crate::app::AppState;
use crate::timeline::{Deliveries, Window, deliveries_by_receiver, firing_by_severity};

const DEFAULT_HOURS: i64 = 24;
const MAX_HOURS: i64 = 7 * 24;
const DEFAULT_BUCKETS: usize = 48;
const MAX_BUCKETS: usize = 288;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/klaxon/timeline", get(get_timeline))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Timeline {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step_seconds: i64,
    alerts: Vec<SeverityLine>,
    notifications: Vec<ReceiverLine>,
}

#[derive(Serialize)]
struct SeverityLine {
    /// The `severity` label's value; empty for alerts without one.
    severity: String,
    firing: Vec<u32>,
}

#[derive(Serialize)]
struct ReceiverLine {
    receiver: String,
    #[serde(flatten)]
    counts: Deliveries,
}

async fn get_timeline(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Timeline>, ApiError> {
    let (mut hours, mut buckets) = (DEFAULT_HOURS, DEFAULT_BUCKETS);
    for (k, v) in url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let bad = || ApiError::BadRequest(format!("{k}: {v:?} is not a number in range"));
        match k.as_ref() {
            "hours" => {
                hours = v.parse().map_err(|_| bad())?;
                if !(1..=MAX_HOURS).contains(&hours) {
                    return Err(bad());
                }
            }
            "buckets" => {
                buckets = v.parse().map_err(|_| bad())?;
                if !(1..=MAX_BUCKETS).contains(&buckets) {
                    return Err(bad());
                }
            }
            _ => {}
        }
    }
    let end = state.now();
    let window = Window {
        end,
        step: chrono::Duration::hours(hours) / buckets as i32,
        buckets,
    };
    // Every stored alert and up to a day of history: off the async workers.
    let timeline = super::off_the_workers(move || {
        let alerts = state.alerts.snapshot();
        let firing = firing_by_severity(alerts.iter().map(|a| &**a), window);
        let deliveries = deliveries_by_receiver(state.history.newest_first(), window)?;
        Ok::<_, crate::storage::StorageError>(Timeline {
            start: window.start(),
            end,
            step_seconds: window.step.num_seconds(),
            alerts: firing
                .into_iter()
                .map(|(severity, firing)| SeverityLine { severity, firing })
                .collect(),
            notifications: deliveries
                .into_iter()
                .map(|(receiver, counts)| ReceiverLine { receiver, counts })
                .collect(),
        })
    })
    .await?
    .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(timeline))
}
