//! `POST /api/v2/alerts`, the ingest hot path: the body is split into raw
//! elements once, each element is decoded on its own so one bad alert
//! cannot take its valid neighbours down, and the store is locked once for
//! the whole batch.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use super::is_json;
use crate::alert::Alert;
use crate::api::ApiError;
use crate::api::models::{PostableAlert, non_zero};
use crate::app::AppState;
use crate::metrics::StatusLabel;
use generator_urls::BatchUrls;
use json_text::{explain_escape, replace_lone_surrogates};

mod generator_urls;
mod json_text;

/// Why one element of a batch was refused; the first kind found decides
/// the status code, as Alertmanager's schema check runs before validation.
enum Rejection {
    Schema(ApiError),
    Invalid(String),
}

pub(super) async fn post_alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::required("alerts"));
    }
    // Go's decoder turns invalid UTF-8 into U+FFFD instead of failing.
    let text = match std::str::from_utf8(&body) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&body),
    };
    let text = replace_lone_surrogates(text);
    let posted = parse_batch(&text)?;

    let now = state.now();
    let resolve_timeout = state.runtime().config.global.resolve_timeout.as_std();
    let resolve_timeout = chrono::Duration::from_std(resolve_timeout).unwrap_or_default();
    let mut urls = BatchUrls::new(state.alerts.urls());
    let mut valid = Vec::with_capacity(posted.len());
    let mut rejected: Vec<(usize, Rejection)> = Vec::new();
    let (mut firing, mut resolved) = (0u64, 0u64);

    for (i, posted) in posted.into_iter().enumerate() {
        match posted.and_then(|p| decode(i, p, now, resolve_timeout, &mut urls)) {
            Ok(alert) => {
                if alert.ends_at > now {
                    firing += 1;
                } else {
                    resolved += 1;
                }
                match alert.validate(state.name_mode()) {
                    Ok(()) => valid.push(alert),
                    Err(e) => rejected.push((i, Rejection::Invalid(e.to_string()))),
                }
            }
            Err(r) => rejected.push((i, r)),
        }
    }

    let m = &state.metrics;
    m.alerts_received
        .get_or_create(&StatusLabel {
            status: "firing".into(),
        })
        .inc_by(firing);
    m.alerts_received
        .get_or_create(&StatusLabel {
            status: "resolved".into(),
        })
        .inc_by(resolved);
    m.alerts_invalid.inc_by(rejected.len() as u64);

    // Valid alerts are kept even when others in the batch are refused;
    // those over --alerts.per-alertname-limit are dropped, still with 200.
    let events = &state.events;
    let limited = state.alerts.put_noting_new(valid, now, &mut |a| {
        events.record(|| {
            crate::event_recorder::EventData::AlertCreated(
                crate::event_recorder::events::AlertEvent {
                    alert: crate::event_recorder::events::AlertInfo::of(a, now),
                },
            )
        })
    });
    m.limits.limited(&limited);

    if rejected.is_empty() {
        return Ok(StatusCode::OK);
    }
    let unprocessable = rejected.iter().find_map(|(_, r)| match r {
        Rejection::Schema(ApiError::Unprocessable { code, .. }) => Some(*code),
        _ => None,
    });
    let undecodable = rejected
        .iter()
        .any(|(_, r)| matches!(r, Rejection::Schema(_)));
    let summary = rejected
        .iter()
        .map(|(i, r)| match r {
            Rejection::Schema(e) => format!("alert {i}: {e}"),
            Rejection::Invalid(e) => format!("alert {i}: {e}"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    tracing::debug!(rejected = rejected.len(), reason = %summary, "refused alerts");
    Err(match unprocessable {
        Some(code) => ApiError::Unprocessable {
            code,
            message: summary,
        },
        None if undecodable => ApiError::Malformed(summary),
        None => ApiError::BadRequest(summary),
    })
}

/// Decodes the batch's elements, each on its own when needed: a
/// well-formed batch (the usual case) is parsed in one pass; one with an
/// element that does not decode is parsed again element by element, so
/// that the others are kept and the bad one is named.
fn parse_batch(text: &str) -> Result<Vec<Result<PostableAlert<'_>, Rejection>>, ApiError> {
    if let Ok(all) = serde_json::from_str::<Option<Posted>>(text) {
        return Ok(all
            .map(|p| p.0)
            .unwrap_or_default()
            .into_iter()
            .map(Ok)
            .collect());
    }
    let elements: Option<Vec<&RawValue>> = serde_json::from_str(text)
        .map_err(|e| ApiError::Malformed(format!("parsing alerts body failed, because {e}")))?;
    Ok(elements
        .unwrap_or_default()
        .into_iter()
        .map(|raw| {
            serde_json::from_str(raw.get()).map_err(|e| {
                let why = explain_escape(e.to_string());
                Rejection::Schema(ApiError::Malformed(format!("cannot decode: {why}")))
            })
        })
        .collect())
}

/// A well-formed body's alerts. JSON gives no length up front, and serde's
/// own vector starts empty and doubles, copying its large elements each
/// time; Prometheus sends up to 64 alerts a body.
struct Posted<'a>(Vec<PostableAlert<'a>>);

impl<'de> serde::Deserialize<'de> for Posted<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Posted<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of alerts")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Posted<'de>, A::Error> {
                let mut alerts = Vec::with_capacity(seq.size_hint().unwrap_or(64).min(64));
                while let Some(alert) = seq.next_element()? {
                    alerts.push(alert);
                }
                Ok(Posted(alerts))
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// Applies Alertmanager's defaults for missing times to one element.
fn decode<'a>(
    i: usize,
    posted: PostableAlert<'a>,
    now: DateTime<Utc>,
    resolve_timeout: chrono::Duration,
    urls: &mut BatchUrls<'a, '_>,
) -> Result<Alert, Rejection> {
    let mut labels = posted
        .labels
        .ok_or_else(|| Rejection::Schema(ApiError::required(&format!("{i}.labels"))))?;
    let generator_url = urls
        .resolve(posted.generator_url.unwrap_or_default())
        .map_err(|bad| {
            Rejection::Schema(ApiError::format(
                &format!("{i}.generatorURL in body"),
                "uri",
                &bad,
            ))
        })?;
    labels.remove_empty_values();
    let starts = non_zero(posted.starts_at);
    let ends = non_zero(posted.ends_at);
    let starts_at = starts.or(ends).unwrap_or(now);
    let (ends_at, timeout) = match ends {
        Some(e) => (e, false),
        None => (crate::alert::add_saturating(now, resolve_timeout), true),
    };
    Ok(Alert {
        labels,
        annotations: posted.annotations.unwrap_or_default(),
        starts_at,
        ends_at,
        generator_url,
        updated_at: now,
        timeout,
        fingerprint_cache: Default::default(),
    })
}
