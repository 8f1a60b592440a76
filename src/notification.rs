//! The notification data model: what a flush hands to every integration
//! and what the templates render. It lives apart from `integrations/` so
//! that templates and integrations both use it without depending on each
//! other.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::alert::Alert;
use crate::labels::LabelSet;
use crate::nflog::Reason;

/// `firing` or `resolved`, for one alert or a whole group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// An alert's status at `now`.
    pub fn of(alert: &Alert, now: DateTime<Utc>) -> Self {
        if alert.resolved_at(now) {
            AlertStatus::Resolved
        } else {
            AlertStatus::Firing
        }
    }

    /// A group's status: `resolved` only when every alert is resolved
    /// (Alertmanager's `model.Alerts.Status`).
    pub fn of_group(alerts: &[Arc<Alert>], now: DateTime<Utc>) -> Self {
        if alerts.iter().any(|a| !a.resolved_at(now)) {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a flush hands to every integration of a receiver: the typed
/// counterpart of Alertmanager's template data, read by the webhook payload
/// now and by templates later.
///
/// The group status is not stored: it follows from `alerts` and `now`
/// (see [`Notification::status`]), and an integration that truncates the
/// alerts computes it over the ones it keeps, as Alertmanager does.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The receiver's name from the config.
    pub receiver: String,
    /// The aggregation group's key, e.g. `{}:{alertname="Foo"}`.
    pub group_key: String,
    /// The labels the route groups by, with this group's values.
    pub group_labels: LabelSet,
    /// The group's alerts, in the dispatcher's order.
    pub alerts: Vec<Arc<Alert>>,
    /// `--web.external-url`, for links back to klaxon.
    pub external_url: String,
    /// The flush time: alert and group status are computed at this instant
    /// so every integration of a flush sees the same thing.
    pub now: DateTime<Utc>,
    /// Why the dedup step sends it; `None` for a notification outside the
    /// pipeline (a receiver test).
    pub reason: Option<Reason>,
    /// The route's `labels`, rendered against the group (Alertmanager 0.34's
    /// `routeLabels`); empty when the route has none.
    pub route_labels: LabelSet,
    /// In a cluster, the claim this notification is sent under (its Raft
    /// log index): the webhook's `Idempotency-Key`, and part of the
    /// email's `Message-ID`, so a receiver can tell a retry or a second
    /// sender apart.
    pub fencing_token: Option<u64>,
}

impl Notification {
    /// `resolved` only when every alert is resolved at `now`.
    pub fn status(&self) -> AlertStatus {
        AlertStatus::of_group(&self.alerts, self.now)
    }

    pub fn common_labels(&self) -> LabelSet {
        common_labels(&self.alerts)
    }

    pub fn common_annotations(&self) -> LabelSet {
        common_annotations(&self.alerts)
    }
}

/// Labels present with the same value in every alert.
pub fn common_labels(alerts: &[Arc<Alert>]) -> LabelSet {
    common(alerts, |a| &a.labels)
}

/// Annotations present with the same value in every alert.
pub fn common_annotations(alerts: &[Arc<Alert>]) -> LabelSet {
    common(alerts, |a| &a.annotations)
}

fn common(alerts: &[Arc<Alert>], set: impl Fn(&Alert) -> &LabelSet) -> LabelSet {
    let mut out = LabelSet::new();
    let Some((first, rest)) = alerts.split_first() else {
        return out;
    };
    for (name, value) in set(first).iter() {
        // Go compares map lookups, where a missing entry reads as "".
        if rest.iter().all(|a| set(a).get(name).unwrap_or("") == value) {
            out.insert(name, value);
        }
    }
    out
}

/// Alertmanager's `notify.Key.Hash`: the SHA-256 of the group key, in hex
/// (PagerDuty's dedup key, Opsgenie's alias, Jira's label, SNS's FIFO IDs).
pub fn group_key_hash(group_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, group_key.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::integrations::test_support::alert;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn common_labels_keep_only_equal_values_present_everywhere() {
        let alerts = vec![
            alert(
                &[("a", "1"), ("b", "x"), ("c", "1")],
                &[("s", "same")],
                t(0),
                t(100),
            ),
            alert(
                &[("a", "1"), ("b", "y")],
                &[("s", "same"), ("d", "2")],
                t(0),
                t(100),
            ),
        ];
        let labels: Vec<_> = common_labels(&alerts)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(labels, ["a=1"]);
        let ann: Vec<_> = common_annotations(&alerts)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(ann, ["s=same"]);
        assert!(common_labels(&[]).is_empty());
    }

    #[test]
    fn group_is_resolved_only_when_every_alert_is() {
        let firing = alert(&[("a", "1")], &[], t(0), t(100));
        let resolved = alert(&[("a", "2")], &[], t(0), t(10));
        let now = t(50);
        assert_eq!(
            AlertStatus::of_group(std::slice::from_ref(&resolved), now),
            AlertStatus::Resolved
        );
        assert_eq!(
            AlertStatus::of_group(&[resolved, firing], now),
            AlertStatus::Firing
        );
    }
}
