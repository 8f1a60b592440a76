//! `GET /api/v2/alerts/groups`: the dispatcher's live aggregation groups,
//! as Alertmanager lists them — each group's unresolved alerts that pass
//! the filters, empty groups left out — written part by part, each part a
//! run of whole groups of about [`ALERTS_PER_PART`] alerts in all.
//!
//! (Cutting a group of thousands into parts of the usual size was tried:
//! the second part of a group then waits for the first to read and sort
//! the group's alerts, and the listing took 15–25% longer.)

use std::ops::Range;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::alert_status::{alert_status, receivers};
use super::listing::{ALERT_JSON_BYTES, ALERTS_PER_PART, Listing, deadline, to_gettable};
use crate::alert::Alert;
use crate::api::streamed::{self, Output, Part, RenderParts};
use crate::api::{ApiError, alert_json, off_the_workers};
use crate::app::AppState;
use crate::dispatch::group::AggregationGroup;
use crate::labels::LabelSet;

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
    // Counted before the filters, which each part applies.
    let mut parts = Vec::new();
    let (mut start, mut alerts) = (0, 0);
    for (i, g) in job.groups.iter().enumerate() {
        alerts += g.alert_count();
        if alerts >= ALERTS_PER_PART || i + 1 == job.groups.len() {
            let bytes = alerts * ALERT_JSON_BYTES;
            parts.push(Part {
                range: start..i + 1,
                bytes,
            });
            (start, alerts) = (i + 1, 0);
        }
    }
    Ok(streamed::json_array(job, parts, deadline))
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
fn shown_alerts(l: &Listing, group: &AggregationGroup) -> Option<(Arc<[Arc<Alert>]>, LabelSet)> {
    let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
    let sorted = group.sorted_alerts();
    let keep = |a: &Arc<Alert>| !a.resolved_at(now) && filter.keep_labels(a);
    // Usually every alert is listed: the group's own sorted list is used
    // as it is, without a copy.
    let alerts: Arc<[Arc<Alert>]> = if sorted.iter().all(keep) {
        sorted
    } else {
        sorted.iter().filter(|a| keep(a)).cloned().collect()
    };
    if alerts.is_empty() {
        return None;
    }
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
    fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize> {
        let l = &self.l;
        let (filter, now, runtime) = (&l.filter, l.now, &l.runtime);
        let silences = self.state.silences.reader();
        let mut times = alert_json::TimeText::default();
        let mut listed = 0;
        for g in &self.groups[part] {
            let Some((alerts, route_labels)) = shown_alerts(l, g) else {
                continue;
            };
            let start = out.len();
            out.push(b',');
            alert_json::open_group(out);
            let mut shown = 0;
            for (i, alert) in alerts.iter().enumerate() {
                crate::prefetch::ahead(&alerts, i);
                let routes = runtime.route.matches(&alert.labels);
                let status = alert_status(&silences, runtime, &routes, &l.inhibitions, alert, now);
                if !filter.keep_status(&status) {
                    continue;
                }
                if shown > 0 {
                    out.push(b',');
                }
                alert_json::write_alert(
                    out,
                    &to_gettable(alert, status, receivers(&routes)),
                    &mut times,
                )?;
                shown += 1;
                // Cut into pieces only after an alert, so that a group none
                // of whose alerts is shown is still taken back whole.
                out.element_written();
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
