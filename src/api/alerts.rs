//! `/api/v2/alerts` and `/api/v2/alerts/groups`.
//!
//! `post_alerts` is the ingest hot path: the body is split into raw
//! elements once, each element is decoded on its own so one bad alert
//! cannot take its valid neighbours down, and the store is locked once for
//! the whole batch.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use super::ApiError;
use super::models::{
    AlertGroup, AlertStatus, GettableAlert, PostableAlert, Receiver, ReceiverRef, non_zero,
};
use super::query::Query;
use crate::alert::Alert;
use crate::app::{AppState, Runtime};
use crate::dispatch::route::Route;
use crate::inhibit::Inhibitions;
use crate::intern::{Interner, SharedStr};
use crate::labels::{Fingerprint, LabelSet};
use crate::metrics::StatusLabel;
use crate::silence::{SilenceReader, filter_labels};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/alerts", get(get_alerts).post(post_alerts))
        .route("/api/v2/alerts/groups", get(get_alert_groups))
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Why one element of a batch was refused; the first kind found decides
/// the status code, as Alertmanager's schema check runs before validation.
enum Rejection {
    Schema(ApiError),
    Invalid(String),
}

async fn post_alerts(
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

/// Go's decoder reads a `\u` escape of a lone UTF-16 surrogate (`"\ud800"`,
/// which has no UTF-8 form) as U+FFFD; serde_json refuses it. The escape
/// is rewritten as `\ufffd` first, so such an alert is kept as in
/// Alertmanager. A body without `\u` is not copied.
fn replace_lone_surrogates(text: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    fn hex4(b: &[u8]) -> Option<u16> {
        let s = std::str::from_utf8(b.get(..4)?).ok()?;
        u16::from_str_radix(s, 16).ok()
    }
    if !text.contains("\\u") {
        return text;
    }
    let bytes = text.as_bytes();
    let mut lone = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2; // another escape, `\\` included
            continue;
        }
        let Some(unit) = hex4(&bytes[i + 2..]) else {
            i += 2;
            continue;
        };
        match unit {
            0xD800..=0xDBFF => {
                let low = (bytes.get(i + 6..i + 8) == Some(b"\\u".as_slice()))
                    .then(|| hex4(&bytes[i + 8..]))
                    .flatten();
                if low.is_some_and(|l| (0xDC00..=0xDFFF).contains(&l)) {
                    i += 12;
                } else {
                    lone.push(i);
                    i += 6;
                }
            }
            0xDC00..=0xDFFF => {
                lone.push(i);
                i += 6;
            }
            _ => i += 6,
        }
    }
    if lone.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for at in lone {
        out.push_str(&text[from..at]);
        out.push_str("\\ufffd");
        from = at + 6;
    }
    out.push_str(&text[from..]);
    std::borrow::Cow::Owned(out)
}

/// serde_json names a lone surrogate (`"\ud800"`, which has no UTF-8
/// form) by what it expected next; say what is wrong instead.
fn explain_escape(message: String) -> String {
    if message.contains("surrogate") || message.contains("hex escape") {
        format!("{message} (a \\u escape of a lone UTF-16 surrogate is not valid UTF-8)")
    } else {
        message
    }
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

/// A batch's generator URLs, each looked up in the shared interner once: a
/// batch repeats a few URLs (one per rule), and the interner's lock is
/// shared with every other ingest thread.
struct BatchUrls<'a, 'i> {
    shared: &'i Interner,
    seen: hashbrown::HashMap<&'a str, SharedStr>,
}

impl<'a, 'i> BatchUrls<'a, 'i> {
    fn new(shared: &'i Interner) -> Self {
        Self {
            shared,
            seen: hashbrown::HashMap::new(),
        }
    }

    /// The shared copy of a valid URL; an invalid one is handed back.
    fn resolve(&mut self, url: Cow<'a, str>) -> Result<SharedStr, Cow<'a, str>> {
        if let Cow::Borrowed(s) = url
            && let Some(known) = self.seen.get(s)
        {
            return Ok(known.clone());
        }
        // Only valid URLs are interned, so a known one needs no second check.
        let shared = match self.shared.get(&url) {
            Some(shared) => shared,
            None if url.is_empty() || is_request_uri(&url) => self.shared.intern(&url),
            None => return Err(url),
        };
        if let Cow::Borrowed(s) = url {
            self.seen.insert(s, shared.clone());
        }
        Ok(shared)
    }
}

/// Go's `url.ParseRequestURI`, which Alertmanager's `uri` format uses: an
/// absolute URL or an absolute path, no control characters, valid escapes.
fn is_request_uri(s: &str) -> bool {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f || b == b' ') {
        return false;
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
            if !(hex(bytes.get(i + 1)) && hex(bytes.get(i + 2))) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    s.starts_with('/') || url::Url::parse(s).is_ok()
}

/// One alert's mute state as the API shows it; `inhibitions` is indexed
/// once per request from the same snapshot, and `routes` are the routes
/// whose time intervals decide `mutedBy`: those the alert matches for an
/// alert group, none for the flat alert list, where Alertmanager (0.28 and
/// 0.34 alike) never shows a time-interval mute, only silences and
/// inhibitions.
pub(super) fn alert_status(
    silences: &SilenceReader<'_>,
    runtime: &Runtime,
    routes: &[&Route],
    inhibitions: &Inhibitions,
    alert: &Alert,
    now: DateTime<Utc>,
) -> AlertStatus {
    let silenced_by = silences.mutes(&alert.labels, now);
    let inhibited_by: Vec<String> = inhibitions
        .inhibited_by(alert)
        .map(|fp| fp.to_string())
        .into_iter()
        .collect();
    let mut muted_by: Vec<String> = routes
        .iter()
        .flat_map(|r| runtime.pipeline.muted_by(&r.opts, now))
        .collect();
    muted_by.sort_unstable();
    muted_by.dedup();
    let suppressed = !silenced_by.is_empty() || !inhibited_by.is_empty() || !muted_by.is_empty();
    AlertStatus {
        inhibited_by,
        muted_by,
        silenced_by,
        state: if suppressed { "suppressed" } else { "active" },
    }
}

fn receivers<'a>(routes: &[&'a Route]) -> Vec<ReceiverRef<'a>> {
    routes
        .iter()
        .map(|r| ReceiverRef {
            name: &r.opts.receiver,
        })
        .collect()
}

/// About what one listed alert takes in JSON, to size the answer's buffer
/// once: growing a buffer of tens of MiB by doubling copied it each time.
/// Overestimating costs nothing resident, as untouched pages stay unmapped.
const ALERT_JSON_BYTES: usize = 1024;

/// The filters shared by the alert list and the group list.
struct AlertFilter {
    matchers: crate::matcher::Matchers,
    active: bool,
    silenced: bool,
    inhibited: bool,
    unprocessed: bool,
    muted: bool,
    receiver: Option<regex::Regex>,
    receiver_matchers: crate::matcher::Matchers,
}

impl AlertFilter {
    fn from_query(q: &Query) -> Result<Self, ApiError> {
        Ok(Self {
            matchers: q.filter()?,
            active: q.flag("active", true)?,
            silenced: q.flag("silenced", true)?,
            inhibited: q.flag("inhibited", true)?,
            unprocessed: q.flag("unprocessed", true)?,
            muted: q.flag("muted", true)?,
            receiver: q.receiver()?,
            receiver_matchers: q.receiver_matchers()?,
        })
    }

    /// `receiver=` (a regex over the name) and `receiver_matchers=` (over
    /// the receiver's labels) both accept this receiver.
    fn keep_receiver(&self, runtime: &Runtime, name: &str) -> bool {
        self.receiver.as_ref().is_none_or(|re| re.is_match(name))
            && (self.receiver_matchers.is_empty()
                || runtime
                    .receiver_labels
                    .get(name)
                    .is_some_and(|labels| self.receiver_matchers.matches(labels)))
    }

    fn keep_status(&self, st: &AlertStatus) -> bool {
        !((!self.active && st.state == "active")
            || (!self.unprocessed && st.state == "unprocessed")
            || (!self.silenced && !st.silenced_by.is_empty())
            || (!self.inhibited && !st.inhibited_by.is_empty())
            || (!self.muted && !st.muted_by.is_empty()))
    }

    fn keep_labels(&self, alert: &Alert) -> bool {
        filter_labels(&self.matchers, |n| alert.labels.get(n))
    }
}

fn to_gettable<'a>(
    alert: &'a Alert,
    status: AlertStatus,
    receivers: Vec<ReceiverRef<'a>>,
) -> GettableAlert<'a> {
    GettableAlert {
        annotations: &alert.annotations,
        ends_at: alert.ends_at,
        fingerprint: alert.fingerprint(),
        receivers,
        starts_at: alert.starts_at,
        status,
        updated_at: alert.updated_at,
        generator_url: &alert.generator_url,
        labels: &alert.labels,
    }
}

/// What both list endpoints start from: the parsed filter and one
/// consistent view of alerts, config and inhibitions at `now`.
struct Listing {
    filter: AlertFilter,
    now: DateTime<Utc>,
    runtime: Arc<Runtime>,
    snapshot: Vec<Arc<Alert>>,
    inhibitions: Inhibitions,
}

impl Listing {
    fn new(state: &AppState, raw_query: Option<&str>) -> Result<Self, ApiError> {
        let filter = AlertFilter::from_query(&Query::parse(raw_query, state.name_mode()))?;
        let now = state.now();
        let runtime = state.runtime();
        let snapshot = state.alerts.snapshot();
        let inhibitions = Inhibitions::index(&runtime.inhibit_rules, &snapshot, now);
        Ok(Self {
            filter,
            now,
            runtime,
            snapshot,
            inhibitions,
        })
    }
}

async fn get_alerts(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let l = Listing::new(&state, raw.as_deref())?;
    // Tens of thousands of alerts take tens of milliseconds: off the async
    // workers, so other requests are not held up meanwhile.
    tokio::task::spawn_blocking(move || list_alerts(&state, l))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
}

/// Below this many alerts a listing is not split across threads.
const PARALLEL_MIN_ALERTS: usize = 2000;

/// The alert list, sorted by fingerprint. The sorted snapshot is cut into
/// one part per core, each filtered and written on its own thread, and the
/// parts joined in order: a large answer comes back in a fraction of the
/// time one thread takes.
fn list_alerts(state: &AppState, mut l: Listing) -> Result<Response, ApiError> {
    // Zero-padded hex sorts like the number. Keys are read once, not at
    // every comparison (each read is a miss on another alert).
    let mut keyed: Vec<(Fingerprint, Arc<Alert>)> = std::mem::take(&mut l.snapshot)
        .into_iter()
        .map(|a| (a.fingerprint(), a))
        .collect();
    keyed.sort_unstable_by_key(|(fp, _)| *fp);
    l.snapshot = keyed.into_iter().map(|(_, a)| a).collect();
    let threads = if l.snapshot.len() < PARALLEL_MIN_ALERTS {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let per_part = l.snapshot.len().div_ceil(threads).max(1);
    let mut parts = std::thread::scope(|scope| {
        let workers: Vec<_> = l
            .snapshot
            .chunks(per_part)
            .enumerate()
            .map(|(i, part)| {
                // The first part opens the array, so the joined answer is
                // never shifted to make room for it.
                let prefix: &[u8] = if i == 0 { b"[" } else { b"" };
                scope.spawn(|| list_part(state, &l, part, prefix))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("listing thread"))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| ApiError::Internal(e.into()))?
    .into_iter();
    // The parts go out as they are, one chunk each, instead of being copied
    // into one buffer: an answer of tens of MiB is sent sooner.
    let (first, mut listed) = parts.next().unwrap_or_else(|| (b"[".to_vec(), 0));
    let mut chunks = vec![Bytes::from(first)];
    for (part, n) in parts.filter(|(_, n)| *n > 0) {
        if listed > 0 {
            chunks.push(Bytes::from_static(b","));
        }
        chunks.push(Bytes::from(part));
        listed += n;
    }
    chunks.push(Bytes::from_static(b"]"));
    let body = axum::body::Body::from_stream(futures_util::stream::iter(
        chunks.into_iter().map(Ok::<_, std::convert::Infallible>),
    ));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The listed alerts of one part, after `prefix`, as JSON array elements
/// joined by commas; and how many there are.
fn list_part(
    state: &AppState,
    l: &Listing,
    alerts: &[Arc<Alert>],
    prefix: &[u8],
) -> Result<(Vec<u8>, usize), serde_json::Error> {
    let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
    let mut out = Vec::with_capacity(alerts.len() * ALERT_JSON_BYTES + prefix.len());
    out.extend_from_slice(prefix);
    let mut listed = 0;
    let silences = state.silences.reader();
    for alert in alerts {
        // Resolved alerts stay stored until GC but are not listed.
        if alert.resolved_at(now) || !filter.keep_labels(alert) {
            continue;
        }
        let routes = runtime.route.matches(&alert.labels);
        let recv = receivers(&routes);
        if !recv.iter().any(|r| filter.keep_receiver(runtime, r.name)) {
            continue;
        }
        let status = alert_status(&silences, runtime, &[], &l.inhibitions, alert, now);
        if !filter.keep_status(&status) {
            continue;
        }
        if listed > 0 {
            out.push(b',');
        }
        super::alert_json::write_alert(&mut out, &to_gettable(alert, status, recv))?;
        listed += 1;
    }
    Ok((out, listed))
}

/// The dispatcher's live aggregation groups, as Alertmanager lists them:
/// each group's unresolved alerts that pass the filters, empty groups left
/// out.
async fn get_alert_groups(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let l = Listing::new(&state, raw.as_deref())?;
    let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
    let mut groups: Vec<(String, LabelSet, Vec<Arc<Alert>>, LabelSet)> = Vec::new();
    for group in state.live_groups() {
        if !filter.keep_receiver(runtime, &group.opts.receiver) {
            continue;
        }
        let mut alerts: Vec<Arc<Alert>> = group
            .alerts()
            .into_iter()
            .filter(|a| !a.resolved_at(now) && filter.keep_labels(a))
            .collect();
        if alerts.is_empty() {
            continue;
        }
        alerts.sort_by(|a, b| crate::dispatch::alert_order(&a.labels, &b.labels));
        // Rendered over the alerts the filters keep (Alertmanager renders
        // over the group's current alerts; they differ only when filtered).
        let route_labels = runtime.pipeline.group_route_labels(&group, &alerts, now);
        groups.push((
            group.opts.receiver.clone(),
            group.labels.clone(),
            alerts,
            route_labels,
        ));
    }
    let mut out: Vec<AlertGroup> = Vec::with_capacity(groups.len());
    let silences = state.silences.reader();
    for (receiver, labels, alerts, route_labels) in &groups {
        let mut shown = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let routes = runtime.route.matches(&alert.labels);
            let status = alert_status(&silences, runtime, &routes, &l.inhibitions, alert, now);
            if filter.keep_status(&status) {
                let recv = receivers(&routes);
                shown.push(to_gettable(alert, status, recv));
            }
        }
        if !shown.is_empty() {
            out.push(AlertGroup {
                alerts: shown,
                labels: labels.clone(),
                receiver: Receiver {
                    name: receiver.clone(),
                },
                route_labels: route_labels.clone(),
            });
        }
    }
    out.sort_by(|a, b| {
        if a.labels == b.labels {
            a.receiver.name.cmp(&b.receiver.name)
        } else {
            a.labels.before(&b.labels)
        }
    });
    let alerts: usize = out.iter().map(|g| g.alerts.len()).sum();
    Ok(super::large_json(&out, alerts * ALERT_JSON_BYTES))
}

#[cfg(test)]
mod tests {
    use super::{BatchUrls, is_request_uri};
    use crate::intern::{Interner, SharedStr};
    use std::borrow::Cow;

    /// A batch's URLs share one copy, whether seen in this batch, in an
    /// earlier one, or written with escapes (an owned string); an invalid
    /// one is refused every time and never interned.
    #[test]
    fn batch_urls_share_valid_copies_and_refuse_invalid_ones() {
        let interner = Interner::default();
        let earlier = interner.intern("http://prom/graph?g0.expr=up");
        let mut urls = BatchUrls::new(&interner);
        let a = urls
            .resolve(Cow::Borrowed("http://prom/graph?g0.expr=up"))
            .unwrap();
        let b = urls
            .resolve(Cow::Borrowed("http://prom/graph?g0.expr=up"))
            .unwrap();
        let c = urls
            .resolve(Cow::Owned("http://prom/graph?g0.expr=up".into()))
            .unwrap();
        assert!(
            SharedStr::ptr_eq(&a, &earlier)
                && SharedStr::ptr_eq(&b, &a)
                && SharedStr::ptr_eq(&c, &a)
        );
        for _ in 0..2 {
            assert_eq!(
                urls.resolve(Cow::Borrowed("not a uri")).unwrap_err(),
                "not a uri"
            );
        }
        let fresh = urls.resolve(Cow::Borrowed("/graph")).unwrap();
        assert_eq!(&*fresh, "/graph");
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn generator_urls_follow_parse_request_uri() {
        for ok in [
            "/relative",
            "mailto:x",
            "http://prometheus:9090/graph?g0.expr=up",
        ] {
            assert!(is_request_uri(ok), "{ok}");
        }
        for bad in [
            "not a uri",
            "foo",
            "http://x/%zz",
            "::",
            ":foo",
            "http://x/\u{1}",
        ] {
            assert!(!is_request_uri(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod surrogate_tests {
    use super::replace_lone_surrogates;

    fn fix(s: &str) -> String {
        replace_lone_surrogates(s.into()).into_owned()
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(fix(r#"{"a":"\ud800"}"#), r#"{"a":"\ufffd"}"#);
        assert_eq!(
            fix(r#"{"a":"x\udc00y\ud83d"}"#),
            r#"{"a":"x\ufffdy\ufffd"}"#
        );
        // A pair, an escaped backslash and other escapes stay.
        let kept = r#"{"a":"\ud83d\ude00 \\ud800 \u00e9 \n"}"#;
        assert_eq!(fix(kept), kept);
        let v: serde_json::Value = serde_json::from_str(&fix(r#"{"\ud800":"v"}"#)).unwrap();
        assert_eq!(v["\u{fffd}"], "v");
    }
}
