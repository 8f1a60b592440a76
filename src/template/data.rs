//! The one template data model: Alertmanager's `template.Data`, built once
//! per notification and fed to both the Go engine (config fields and
//! `templates:` files) and handlebars (klaxon's own layouts).

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::labels::LabelSet;
use crate::notification::{AlertStatus, Notification};

/// What every template sees as `.` (Go) or the root context (handlebars).
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// `.Receiver`: the receiver's name.
    pub receiver: String,
    /// `.Status`: `firing` unless every alert is resolved.
    pub status: AlertStatus,
    /// `.Alerts`, in the dispatcher's order.
    pub alerts: Vec<AlertData>,
    /// `.GroupLabels`
    pub group_labels: LabelSet,
    /// `.CommonLabels`
    pub common_labels: LabelSet,
    /// `.CommonAnnotations`
    pub common_annotations: LabelSet,
    /// `.ExternalURL`: `--web.external-url`.
    pub external_url: String,
    /// `.GroupKey` (newer Alertmanager has it; 0.25 does not).
    pub group_key: String,
    /// `.NotificationReason` (Alertmanager 0.32+): why the dedup step sends
    /// it, e.g. `first notification`; empty outside the pipeline (a test).
    pub notification_reason: &'static str,
    /// `.RouteLabels` (Alertmanager 0.34): the route's `labels`, rendered;
    /// what the `routeLabels "name"` function reads.
    pub route_labels: LabelSet,
}

/// One element of `.Alerts` (Alertmanager's `template.Alert`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertData {
    pub status: AlertStatus,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: DateTime<Utc>,
    /// `None` while firing: Alertmanager hides an end not reached yet and
    /// templates see Go's zero time (`0001-01-01 00:00:00 +0000 UTC`).
    pub ends_at: Option<DateTime<Utc>>,
    pub generator_url: String,
    /// 16 lowercase hex digits, as in the API.
    pub fingerprint: String,
}

impl Data {
    /// The data for a whole notification, at its flush time.
    pub fn new(msg: &Notification) -> Self {
        Data::for_alerts(msg, &msg.alerts)
    }

    /// The data for some of a notification's alerts (an integration that
    /// truncates computes status and common labels over the ones it keeps,
    /// as Alertmanager does).
    pub fn for_alerts(msg: &Notification, alerts: &[std::sync::Arc<Alert>]) -> Self {
        Data {
            receiver: msg.receiver.clone(),
            status: AlertStatus::of_group(alerts, msg.now),
            alerts: alerts.iter().map(|a| AlertData::new(a, msg.now)).collect(),
            group_labels: msg.group_labels.clone(),
            common_labels: crate::notification::common_labels(alerts),
            common_annotations: crate::notification::common_annotations(alerts),
            external_url: msg.external_url.clone(),
            group_key: msg.group_key.clone(),
            notification_reason: msg.reason.map_or("", crate::nflog::Reason::as_str),
            route_labels: msg.route_labels.clone(),
        }
    }

    /// The alerts with the given status (`.Alerts.Firing`, `.Alerts.Resolved`).
    pub fn alerts_with(&self, status: AlertStatus) -> impl Iterator<Item = &AlertData> {
        self.alerts.iter().filter(move |a| a.status == status)
    }
}

impl AlertData {
    pub fn new(alert: &Alert, now: DateTime<Utc>) -> Self {
        let status = AlertStatus::of(alert, now);
        AlertData {
            status,
            labels: alert.labels.clone(),
            annotations: alert.annotations.clone(),
            starts_at: alert.starts_at,
            ends_at: match status {
                AlertStatus::Firing => None,
                AlertStatus::Resolved => Some(alert.ends_at),
            },
            generator_url: alert.generator_url.to_string(),
            fingerprint: alert.fingerprint().to_string(),
        }
    }
}
