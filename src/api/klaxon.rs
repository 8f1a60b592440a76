//! klaxon's own endpoints, under `/api/klaxon/` so that `/api/v2` stays
//! exactly Alertmanager's.

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{delete, get, post};
use serde::Serialize;

use super::ApiError;
use super::models::ReceiverTestResult;
use crate::app::AppState;
use crate::history::{Attempt, Query as HistoryQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/klaxon/notifications", get(get_notifications))
        .route("/api/klaxon/store", get(get_store))
        .route("/api/klaxon/cluster", get(get_cluster))
        .route("/api/klaxon/cluster/members", post(add_member))
        .route("/api/klaxon/cluster/members/{who}", delete(remove_member))
        .route(
            "/api/klaxon/receivers/{name}/test",
            post(post_receiver_test),
        )
}

/// The alert a receiver test sends; its name and annotations say it is a test.
pub const TEST_ALERTNAME: &str = "KlaxonTestNotification";

/// A clearly marked test notification for `receiver`, firing, at `now`.
fn test_notification(
    receiver: &str,
    external_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::integrations::Notification {
    // The alert carries one label beyond the group's `alertname`, so the
    // default title (`__subject`: group label values, then the other
    // common labels in parentheses) reads `[FIRING:1]
    // KlaxonTestNotification (receiver NAME)`; with `alertname` alone it
    // ends in the space before that empty part, as Alertmanager's would.
    let test = format!("receiver {receiver}");
    let alert_labels: crate::labels::LabelSet =
        [("alertname", TEST_ALERTNAME), ("test", test.as_str())]
            .into_iter()
            .collect();
    let labels: crate::labels::LabelSet = [("alertname", TEST_ALERTNAME)].into_iter().collect();
    let annotations: crate::labels::LabelSet = [
        (
            "summary",
            "Test notification from klaxon: ignore it, no action needed",
        ),
        (
            "description",
            "Sent on request (amctl receiver test) to check that this receiver's integrations deliver. It is not a real alert.",
        ),
    ]
    .into_iter()
    .collect();
    let alert = crate::alert::Alert {
        labels: alert_labels,
        annotations,
        starts_at: now,
        // Go's zero time: firing, as a real notification shows it.
        ends_at: crate::alert::go_zero_time(),
        generator_url: external_url.into(),
        updated_at: now,
        timeout: false,
        fingerprint_cache: Default::default(),
    };
    crate::integrations::Notification {
        receiver: receiver.to_owned(),
        group_key: format!("klaxon-test:{labels}"),
        group_labels: labels,
        alerts: vec![std::sync::Arc::new(alert)],
        external_url: external_url.to_owned(),
        now,
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

/// Sends a test notification through every integration of the receiver
/// now and answers each one's result; 404 for an unknown receiver.
async fn post_receiver_test(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<ReceiverTestResult>>, ApiError> {
    let external_url = state.options.external_url.to_string();
    let msg = test_notification(&name, external_url.trim_end_matches('/'), state.now());
    let pipeline = state.runtime().pipeline.clone();
    let outcomes = pipeline
        .send_test(&msg)
        .await
        .ok_or_else(|| ApiError::NotFound(format!("receiver {name:?} not found")))?;
    Ok(Json(
        outcomes
            .into_iter()
            .map(|o| ReceiverTestResult {
                integration: o.integration.to_owned(),
                index: o.index,
                ok: o.result.is_ok(),
                error: o.result.err().map(|e| e.to_string()),
            })
            .collect(),
    ))
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
    let (want, offset) = (q.limit, q.offset);
    q.limit = want + 1;
    // A filter that matches little scans the whole history, and every
    // record read is a store call: off the async workers.
    let mut notifications = super::off_the_workers(move || state.history.list(&q))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    let next_offset = (notifications.len() > want).then(|| offset + want);
    notifications.truncate(want);
    Ok(Json(NotificationPage {
        notifications,
        next_offset,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreStatus {
    /// `--storage.path`.
    path: String,
    size_on_disk_bytes: u64,
    /// Alerts held, resolved ones included until garbage collection.
    alerts: usize,
}

/// What the store holds, for the status page.
async fn get_store(State(state): State<AppState>) -> Result<Json<StoreStatus>, ApiError> {
    let storage = state.storage.clone();
    let size = super::off_the_workers(move || storage.size_on_disk())
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(StoreStatus {
        path: state.options.storage_path.display().to_string(),
        size_on_disk_bytes: size,
        alerts: state.alerts.len(),
    }))
}

fn cluster_of(state: &AppState) -> Result<&std::sync::Arc<crate::cluster::Cluster>, ApiError> {
    state
        .cluster
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this klaxon runs as a single instance".into()))
}

/// What `amctl cluster add` sends.
#[derive(serde::Deserialize)]
struct AddMember {
    address: String,
}

/// Adds the replica at a cluster address (through the leader; it joins as
/// a learner and votes once caught up).
async fn add_member(
    State(state): State<AppState>,
    body: Result<Json<AddMember>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<String>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::Malformed(e.body_text()))?;
    let cluster = cluster_of(&state)?;
    cluster
        .add_member(&body.address)
        .await
        .map(Json)
        .map_err(|e| ApiError::Status(e.status(), e.to_string()))
}

/// Removes a member (ID, name or address) for good.
async fn remove_member(
    State(state): State<AppState>,
    axum::extract::Path(who): axum::extract::Path<String>,
) -> Result<Json<String>, ApiError> {
    let cluster = cluster_of(&state)?;
    cluster
        .remove_member(&who)
        .await
        .map(Json)
        .map_err(|e| ApiError::Status(e.status(), e.to_string()))
}

/// The cluster as this replica sees it (404 for a single instance).
async fn get_cluster(
    State(state): State<AppState>,
) -> Result<Json<crate::cluster::ClusterDetail>, ApiError> {
    Ok(Json(cluster_of(&state)?.detail()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Data, Flavor, Templates};

    #[test]
    fn the_test_notification_title_has_no_trailing_space() {
        let now = "2026-05-01T10:00:00Z".parse().unwrap();
        let msg = test_notification("team", "http://klaxon.example", now);
        let templates = Templates::builtin();
        let data = Data::new(&msg);
        for text in [
            r#"{{ template "__subject" . }}"#,
            crate::template::DISCORD_TITLE,
            crate::template::EMAIL_SUBJECT,
            r#"{{ template "slack.default.title" . }}"#,
            r#"{{ template "telegram.default.message" . }}"#,
        ] {
            let rendered = templates.render(text, Flavor::Text, &data).unwrap();
            let title = rendered.lines().next().unwrap_or_default();
            assert_eq!(title, title.trim_end(), "{text}: {rendered:?}");
        }
        let subject = templates
            .render(r#"{{ template "__subject" . }}"#, Flavor::Text, &data)
            .unwrap();
        assert_eq!(subject, "[FIRING:1] KlaxonTestNotification (receiver team)");
    }
}
