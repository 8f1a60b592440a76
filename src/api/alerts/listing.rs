//! `GET /api/v2/alerts`, and what it shares with the group list
//! (`group_list`): the filters and one consistent view to list from.

use std::ops::Range;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::alert_status::{alert_status, receivers};
use crate::alert::Alert;
use crate::api::models::{AlertState, AlertStatus, GettableAlert, ReceiverRefs};
use crate::api::query::Query;
use crate::api::streamed::{self, Output, RenderParts};
use crate::api::{ApiError, alert_json, off_the_workers};
use crate::app::{AppState, Runtime};
use crate::inhibit::Inhibitions;
use crate::labels::Fingerprint;
use crate::silence::filter_labels;

/// About what one listed alert takes in JSON (Prometheus' alerts with a
/// summary and a description: 600–700 bytes), to size a small part's
/// buffer once (see `streamed::Output` for large ones).
pub(super) const ALERT_JSON_BYTES: usize = 768;

/// The filters shared by the alert list and the group list.
pub(super) struct AlertFilter {
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
    pub(super) fn keep_receiver(&self, runtime: &Runtime, name: &str) -> bool {
        self.receiver.as_ref().is_none_or(|re| re.is_match(name))
            && (self.receiver_matchers.is_empty()
                || runtime
                    .receiver_labels
                    .get(name)
                    .is_some_and(|labels| self.receiver_matchers.matches(labels)))
    }

    pub(super) fn keep_status(&self, st: &AlertStatus) -> bool {
        !((!self.active && st.state == AlertState::Active)
            || (!self.unprocessed && st.state == AlertState::Unprocessed)
            || (!self.silenced && !st.silenced_by.is_empty())
            || (!self.inhibited && !st.inhibited_by.is_empty())
            || (!self.muted && !st.muted_by.is_empty()))
    }

    pub(super) fn keep_labels(&self, alert: &Alert) -> bool {
        filter_labels(&self.matchers, |n| alert.labels.get(n))
    }
}

pub(super) fn to_gettable<'a>(
    alert: &'a Alert,
    status: AlertStatus<'a>,
    receivers: ReceiverRefs<'a>,
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
pub(super) struct Listing {
    pub(super) filter: AlertFilter,
    pub(super) now: DateTime<Utc>,
    pub(super) runtime: Arc<Runtime>,
    snapshot: Vec<Arc<Alert>>,
    pub(super) inhibitions: Inhibitions,
}

impl Listing {
    pub(super) fn new(state: &AppState, raw_query: Option<&str>) -> Result<Self, ApiError> {
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

/// When a listing's answer must be done: the request's time limit counts
/// its body too, so a reader that never finishes lets go of what the
/// listing holds.
pub(super) fn deadline(state: &AppState) -> tokio::time::Instant {
    let limit = state
        .options
        .tuning
        .web_timeout
        .unwrap_or(crate::api::REQUEST_TIMEOUT);
    tokio::time::Instant::now() + limit
}

/// Alerts of the list per part of its answer (about 100 KiB of JSON): a
/// few parts are in flight per reader.
pub(super) const ALERTS_PER_PART: usize = 128;

pub(super) async fn get_alerts(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let deadline = deadline(&state);
    // Both lists are prepared and written on the blocking threads.
    let job = off_the_workers(move || {
        let mut l = Listing::new(&state, raw.as_deref())?;
        // Zero-padded hex sorts like the number. Keys are read once, not
        // at every comparison (each read is a miss on another alert).
        let mut keyed: Vec<(Fingerprint, Arc<Alert>)> = std::mem::take(&mut l.snapshot)
            .into_iter()
            .map(|a| (a.fingerprint(), a))
            .collect();
        keyed.sort_unstable_by_key(|(fp, _)| *fp);
        l.snapshot = keyed.into_iter().map(|(_, a)| a).collect();
        Ok::<_, ApiError>(AlertList { state, l })
    })
    .await??;
    let parts = streamed::parts(job.l.snapshot.len(), ALERTS_PER_PART, ALERT_JSON_BYTES);
    Ok(streamed::json_array(job, parts, deadline))
}

/// The alert list, sorted by fingerprint.
struct AlertList {
    state: AppState,
    l: Listing,
}

impl RenderParts for AlertList {
    fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize> {
        let l = &self.l;
        let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
        let silences = self.state.silences.reader();
        let mut times = alert_json::TimeText::default();
        let mut listed = 0;
        let alerts = &l.snapshot[part];
        for (i, alert) in alerts.iter().enumerate() {
            crate::prefetch::ahead(alerts, i);
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
            out.push(b',');
            alert_json::write_alert(out, &to_gettable(alert, status, recv), &mut times)?;
            out.element_written();
            listed += 1;
        }
        Ok(listed)
    }
}
