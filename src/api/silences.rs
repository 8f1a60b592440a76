//! `/api/v2/silences` and `/api/v2/silence/{id}`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::ApiError;
use super::models::{GettableSilence, PostSilenceOk, PostableSilence};
use super::query::Query;
use crate::app::AppState;
use crate::silence::{Silence, SilenceError, SilenceState, matches_filter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/silences", get(get_silences).post(post_silences))
        .route(
            "/api/v2/silence/{id}",
            get(get_silence).delete(delete_silence),
        )
}

fn state_order(s: SilenceState) -> u8 {
    match s {
        SilenceState::Active => 1,
        SilenceState::Pending => 2,
        SilenceState::Expired => 3,
    }
}

/// Active first (soonest end first), then pending (soonest start first),
/// then expired (latest end first), as Alertmanager sorts them.
fn sort_silences(list: &mut [(SilenceState, Silence)]) {
    list.sort_by(|(sa, a), (sb, b)| {
        state_order(*sa)
            .cmp(&state_order(*sb))
            .then_with(|| match sa {
                SilenceState::Active => a.ends_at.cmp(&b.ends_at),
                SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
                SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
            })
    });
}

async fn get_silences(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<GettableSilence>>, ApiError> {
    let q = Query::parse(raw.as_deref(), state.name_mode());
    let filter = q.filter()?;
    // Alertmanager 0.34: `active`, `pending`, `expired` (each default true)
    // pick the states listed; `filter` then narrows within them.
    let wanted = [
        (SilenceState::Active, q.flag("active", true)?),
        (SilenceState::Pending, q.flag("pending", true)?),
        (SilenceState::Expired, q.flag("expired", true)?),
    ];
    let now = state.now();
    let mut list: Vec<(SilenceState, Silence)> = state
        .silences
        .list()
        .into_iter()
        .map(|s| (s.state(now), s))
        .filter(|(st, s)| wanted.iter().any(|(w, on)| w == st && *on) && matches_filter(s, &filter))
        .collect();
    sort_silences(&mut list);
    Ok(Json(
        list.iter()
            .map(|(st, s)| GettableSilence::new(s, *st))
            .collect(),
    ))
}

fn parse_id(id: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(|_| id.to_owned())
        .map_err(|_| ApiError::format("silenceID in path", "uuid", id))
}

async fn get_silence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let Some(sil) = state.silences.get(&id) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let st = sil.state(state.now());
    Ok(Json(GettableSilence::new(&sil, st)).into_response())
}

async fn delete_silence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    match state.silences.expire(&id, state.now()).await {
        Ok(()) => Ok(StatusCode::OK),
        // Alertmanager 0.34 answers an unknown ID with a bare 404, no body.
        Err(SilenceError::NotFound) => Ok(StatusCode::NOT_FOUND),
        Err(e) => Err(silence_error(e)),
    }
}

fn silence_error(e: SilenceError) -> ApiError {
    match e {
        SilenceError::NotFound => ApiError::NotFound(e.to_string()),
        SilenceError::Invalid(m) => ApiError::BadRequest(format!("silence invalid: {m}")),
        // Alertmanager answers a limit with 400 and its message.
        SilenceError::Limit(e) => ApiError::BadRequest(e.to_string()),
        // The store cannot write: the silence is refused, not lost, and a
        // retry succeeds once it recovers.
        SilenceError::Storage(e) => ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("silence not stored: {e}"),
        ),
    }
}

async fn post_silences(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PostSilenceOk>, ApiError> {
    if !super::alerts::is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::required("silence"));
    }
    let posted: PostableSilence = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Malformed(format!("parsing silence body failed, because {e}")))?;
    // Checked in the order Alertmanager's schema lists the fields.
    let comment = posted
        .comment
        .ok_or_else(|| ApiError::required("comment"))?;
    let created_by = posted
        .created_by
        .ok_or_else(|| ApiError::required("createdBy"))?;
    let ends_at = posted.ends_at.ok_or_else(|| ApiError::required("endsAt"))?;
    let matchers = posted
        .matchers
        .ok_or_else(|| ApiError::required("matchers"))?;
    let matchers = matchers
        .into_iter()
        .enumerate()
        .map(|(i, m)| m.into_matcher(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|field| ApiError::required(&field))?;
    let starts_at = posted
        .starts_at
        .ok_or_else(|| ApiError::required("startsAt"))?;
    if matchers.is_empty() {
        return Err(ApiError::Unprocessable {
            code: 612,
            message: "matchers in body should have at least 1 items".into(),
        });
    }
    if starts_at >= ends_at {
        return Err(ApiError::BadRequest(
            "Failed to create silence: start time must be before end time".into(),
        ));
    }
    let now = state.now();
    if ends_at < now {
        return Err(ApiError::BadRequest(
            "Failed to create silence: end time can't be in the past".into(),
        ));
    }
    let asked_id = posted.id.clone().unwrap_or_default();
    let silence = Silence {
        id: posted.id.unwrap_or_default(),
        matchers,
        starts_at,
        ends_at,
        updated_at: now,
        created_by,
        comment,
        annotations: posted.annotations.unwrap_or_default(),
    };
    let id = state
        .silences
        .set(silence, now)
        .await
        .map_err(silence_error)?;
    if let Some(stored) = state
        .events
        .is_on()
        .then(|| state.silences.get(&id))
        .flatten()
    {
        use crate::event_recorder::{EventData, events::SilenceEvent, events::SilenceInfo};
        let event = SilenceEvent {
            silence: SilenceInfo::of(&stored),
        };
        // Alertmanager updates in place when it can, keeping the ID; any
        // other change makes a new silence.
        state.events.record(|| {
            if id == asked_id {
                EventData::SilenceUpdated(event)
            } else {
                EventData::SilenceCreated(event)
            }
        });
    }
    Ok(Json(PostSilenceOk { silence_id: id }))
}
