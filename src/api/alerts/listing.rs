//! `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.

use std::ops::Range;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::alert_status::{alert_status, receivers};
use crate::alert::Alert;
use crate::api::models::{AlertState, AlertStatus, GettableAlert, ReceiverRef};
use crate::api::query::Query;
use crate::api::streamed::{self, RenderParts};
use crate::api::{ApiError, alert_json, off_the_workers};
use crate::app::{AppState, Runtime};
use crate::dispatch::group::AggregationGroup;
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

/// When a listing's answer must be done: the request's time limit counts
/// its body too, so a reader that never finishes lets go of what the
/// listing holds.
fn deadline(state: &AppState) -> tokio::time::Instant {
    let limit = state
        .options
        .tuning
        .web_timeout
        .unwrap_or(crate::api::REQUEST_TIMEOUT);
    tokio::time::Instant::now() + limit
}

/// Alerts of the list per part of its answer (about 100 KiB of JSON): a
/// few parts are in flight per reader.
const ALERTS_PER_PART: usize = 128;

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
    let parts = streamed::parts(job.l.snapshot.len(), ALERTS_PER_PART);
    Ok(streamed::json_array(
        job,
        parts,
        ALERTS_PER_PART * ALERT_JSON_BYTES,
        deadline,
    ))
}

/// The alert list, sorted by fingerprint.
struct AlertList {
    state: AppState,
    l: Listing,
}

impl RenderParts for AlertList {
    fn render(&self, part: Range<usize>, out: &mut Vec<u8>) -> serde_json::Result<usize> {
        let l = &self.l;
        let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
        let silences = self.state.silences.reader();
        let mut listed = 0;
        for alert in &l.snapshot[part] {
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
            alert_json::write_alert(out, &to_gettable(alert, status, recv))?;
            listed += 1;
        }
        Ok(listed)
    }
}

/// The dispatcher's live aggregation groups, as Alertmanager lists them:
/// each group's unresolved alerts that pass the filters, empty groups left
/// out.
pub(super) async fn get_alert_groups(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let deadline = deadline(&state);
    let job = off_the_workers(move || {
        let l = Listing::new(&state, raw.as_deref())?;
        let groups = listed_groups(&state, &l);
        Ok::<_, ApiError>(GroupList { state, l, groups })
    })
    .await??;
    // Parts of whole groups, about `ALERTS_PER_PART` alerts each (counted
    // before the filters, which each part applies).
    let mut parts = Vec::new();
    let (mut start, mut alerts) = (0, 0);
    for (i, g) in job.groups.iter().enumerate() {
        alerts += g.alert_count();
        if alerts >= ALERTS_PER_PART {
            parts.push(start..i + 1);
            (start, alerts) = (i + 1, 0);
        }
    }
    if start < job.groups.len() {
        parts.push(start..job.groups.len());
    }
    Ok(streamed::json_array(
        job,
        parts,
        ALERTS_PER_PART * ALERT_JSON_BYTES,
        deadline,
    ))
}

/// The live groups of receivers the filter keeps, sorted as Alertmanager
/// sorts them (labels, then receiver). Their alerts are read, filtered and
/// sorted by the part that writes them: on the part's thread, in parallel
/// with the other parts and while the alerts are still in its cache (done
/// for every group before the first byte, it was a fifth of the answer).
fn listed_groups(state: &AppState, l: &Listing) -> Vec<Arc<AggregationGroup>> {
    let mut groups = state.live_groups();
    groups.retain(|g| l.filter.keep_receiver(&l.runtime, &g.opts.receiver));
    groups.sort_by(|a, b| {
        if a.labels == b.labels {
            a.opts.receiver.cmp(&b.opts.receiver)
        } else {
            a.labels.before(&b.labels)
        }
    });
    groups
}

/// A group's unresolved alerts that pass the label filter, in
/// Alertmanager's order, and its route's labels rendered over them; `None`
/// when no alert passes.
fn shown_alerts(l: &Listing, group: &AggregationGroup) -> Option<(Vec<Arc<Alert>>, LabelSet)> {
    let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
    let mut alerts: Vec<Arc<Alert>> = group
        .alerts()
        .into_iter()
        .filter(|a| !a.resolved_at(now) && filter.keep_labels(a))
        .collect();
    if alerts.is_empty() {
        return None;
    }
    crate::dispatch::sort_alerts(&mut alerts);
    // Rendered over the alerts the filters keep (Alertmanager renders over
    // the group's current alerts; they differ only when filtered).
    let route_labels = runtime.pipeline.group_route_labels(group, &alerts, now);
    Some((alerts, route_labels))
}

struct GroupList {
    state: AppState,
    l: Listing,
    groups: Vec<Arc<AggregationGroup>>,
}

impl RenderParts for GroupList {
    /// A group none of whose alerts passes the status filters is left out.
    fn render(&self, part: Range<usize>, out: &mut Vec<u8>) -> serde_json::Result<usize> {
        let l = &self.l;
        let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
        let silences = self.state.silences.reader();
        let mut listed = 0;
        for g in &self.groups[part] {
            let Some((alerts, route_labels)) = shown_alerts(l, g) else {
                continue;
            };
            let start = out.len();
            out.push(b',');
            alert_json::open_group(out);
            let mut shown = 0;
            for alert in &alerts {
                let routes = runtime.route.matches(&alert.labels);
                let status = alert_status(&silences, runtime, &routes, &l.inhibitions, alert, now);
                if !filter.keep_status(&status) {
                    continue;
                }
                if shown > 0 {
                    out.push(b',');
                }
                alert_json::write_alert(out, &to_gettable(alert, status, receivers(&routes)))?;
                shown += 1;
            }
            if shown == 0 {
                out.truncate(start);
                continue;
            }
            alert_json::close_group(out, &g.labels, &g.opts.receiver, &route_labels)?;
            listed += 1;
        }
        Ok(listed)
    }
}
