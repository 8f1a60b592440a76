//! `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::alert_status::{alert_status, receivers};
use crate::alert::Alert;
use crate::api::ApiError;
use crate::api::models::{
    AlertGroup, AlertState, AlertStatus, GettableAlert, Receiver, ReceiverRef,
};
use crate::api::query::Query;
use crate::app::{AppState, Runtime};
use crate::inhibit::Inhibitions;
use crate::labels::{Fingerprint, LabelSet};
use crate::silence::filter_labels;

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
        !((!self.active && st.state == AlertState::Active)
            || (!self.unprocessed && st.state == AlertState::Unprocessed)
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

pub(super) async fn get_alerts(
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
        crate::api::alert_json::write_alert(&mut out, &to_gettable(alert, status, recv))?;
        listed += 1;
    }
    Ok((out, listed))
}

/// The dispatcher's live aggregation groups, as Alertmanager lists them:
/// each group's unresolved alerts that pass the filters, empty groups left
/// out.
pub(super) async fn get_alert_groups(
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
    Ok(crate::api::large_json(&out, alerts * ALERT_JSON_BYTES))
}
