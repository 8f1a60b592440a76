//! One alert's status as the API shows it: what mutes it, and the
//! receivers it is routed to.

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::api::models::{AlertState, AlertStatus, ReceiverRef, ReceiverRefs};
use crate::app::Runtime;
use crate::dispatch::route::Route;
use crate::inhibit::Inhibitions;
use crate::silence::SilenceReader;

/// One alert's mute state as the API shows it; `inhibitions` is indexed
/// once per request from the same snapshot, and `routes` are the routes
/// whose time intervals decide `mutedBy`: those the alert matches for an
/// alert group, none for the flat alert list, where Alertmanager (0.28 and
/// 0.34 alike) never shows a time-interval mute, only silences and
/// inhibitions.
pub(in crate::api) fn alert_status<'s>(
    silences: &'s SilenceReader<'_>,
    runtime: &Runtime,
    routes: &[&Route],
    inhibitions: &Inhibitions,
    alert: &Alert,
    now: DateTime<Utc>,
) -> AlertStatus<'s> {
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
        state: if suppressed {
            AlertState::Suppressed
        } else {
            AlertState::Active
        },
    }
}

pub(super) fn receivers<'a>(routes: &[&'a Route]) -> ReceiverRefs<'a> {
    routes
        .iter()
        .map(|r| ReceiverRef {
            name: &r.opts.receiver,
        })
        .collect()
}
