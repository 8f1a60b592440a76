//! The generic webhook: Alertmanager's version 4 JSON payload, field for
//! field, POSTed to `url` (or the URL read from `url_file` at send time).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::http::{HttpClient, HttpClientError, read_secret_file};
use super::{
    AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, common_annotations,
    common_labels, encode_body,
};
use crate::alert::Alert;
use crate::config::WebhookConfig;
use crate::labels::LabelSet;
use crate::nflog::Reason;
use crate::template::{Data, Flavor, Templates};

/// What Go prints for its zero `time.Time`.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The webhook body (Alertmanager's `webhook.Message`: template data plus
/// `version`, `groupKey`, `truncatedAlerts`), in Go's field order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub receiver: String,
    pub status: AlertStatus,
    pub alerts: Vec<MessageAlert>,
    /// Why this notification was sent, in Alertmanager 0.34's words
    /// (`first notification`, `new alerts added`, `some alerts resolved`,
    /// `all alerts resolved`, `repeat interval elapsed`); absent for a
    /// receiver test. Where 0.34 puts it: right after the alerts.
    #[serde(
        rename = "notification_reason",
        skip_serializing_if = "Option::is_none"
    )]
    pub notification_reason: Option<&'static str>,
    pub group_labels: LabelSet,
    pub common_labels: LabelSet,
    pub common_annotations: LabelSet,
    /// The route's rendered `labels` (Alertmanager 0.34), `{}` without.
    pub route_labels: LabelSet,
    #[serde(rename = "externalURL")]
    pub external_url: String,
    pub version: &'static str,
    pub group_key: String,
    /// How many alerts `max_alerts` left out.
    pub truncated_alerts: u64,
}

/// One alert in the payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAlert {
    pub status: AlertStatus,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    /// Go's RFC3339Nano.
    pub starts_at: String,
    /// Go's zero time while the alert is firing, whatever its end.
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: crate::intern::SharedStr,
    pub fingerprint: String,
}

impl Message {
    /// Builds the payload as Alertmanager does: truncate to the first
    /// `max_alerts` (0: no limit) first, then compute status and common
    /// labels over the alerts kept.
    pub fn new(msg: &Notification, max_alerts: u64) -> Self {
        let (kept, truncated) = truncate(&msg.alerts, max_alerts);
        Message {
            receiver: msg.receiver.clone(),
            status: AlertStatus::of_group(kept, msg.now),
            alerts: kept.iter().map(|a| MessageAlert::new(a, msg.now)).collect(),
            notification_reason: msg.reason.map(Reason::as_str),
            group_labels: msg.group_labels.clone(),
            common_labels: common_labels(kept),
            common_annotations: common_annotations(kept),
            route_labels: msg.route_labels.clone(),
            external_url: msg.external_url.clone(),
            version: "4",
            group_key: msg.group_key.clone(),
            truncated_alerts: truncated,
        }
    }
}

impl MessageAlert {
    fn new(alert: &Alert, now: DateTime<Utc>) -> Self {
        let status = AlertStatus::of(alert, now);
        // Alertmanager's `types.Alerts` hides an end time not reached yet:
        // a firing alert shows Go's zero time, whether its end came from
        // the sender or from resolve_timeout.
        let ends_at = match status {
            AlertStatus::Firing => GO_ZERO_TIME.to_owned(),
            AlertStatus::Resolved => go_rfc3339_nano(alert.ends_at),
        };
        MessageAlert {
            status,
            labels: alert.labels.clone(),
            annotations: alert.annotations.clone(),
            starts_at: go_rfc3339_nano(alert.starts_at),
            ends_at,
            generator_url: alert.generator_url.clone(),
            fingerprint: alert.fingerprint().to_string(),
        }
    }
}

fn truncate(alerts: &[Arc<Alert>], max_alerts: u64) -> (&[Arc<Alert>], u64) {
    match usize::try_from(max_alerts) {
        Ok(max) if max != 0 && alerts.len() > max => (&alerts[..max], (alerts.len() - max) as u64),
        _ => (alerts, 0),
    }
}

/// Go's `time.RFC3339Nano` for a UTC time: fractional seconds with
/// trailing zeros trimmed (none when whole), and `Z`.
pub fn go_rfc3339_nano(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let nanos = t.nanosecond();
    // Written with integer formatting rather than chrono's format strings,
    // which were a tenth of the cost of a webhook payload. Years beyond
    // four digits and leap seconds take chrono's general path.
    let year = t.year();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        let mut out = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
        out.push('Z');
        return out;
    }
    let mut out = String::with_capacity(30);
    let _ = write!(
        out,
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if nanos != 0 {
        let _ = write!(out, ".{nanos:09}");
        let trimmed = out.trim_end_matches('0').len();
        out.truncate(trimmed);
    }
    out.push('Z');
    out
}

/// Alertmanager's `DeepCopyWithTemplate`: every string and map key is
/// rendered; a rendered string that parses as YAML into something other
/// than a string (a number, bool, list, map or null) is replaced by that
/// value, taken as final (0.34 keeps the strings inside it verbatim); other
/// values are copied.
pub(crate) fn render_payload<E>(
    value: &serde_json::Value,
    render: &dyn Fn(&str) -> Result<String, E>,
) -> Result<serde_json::Value, E> {
    use serde_json::Value;
    Ok(match value {
        Value::String(t) => {
            let s = render(t)?;
            match serde_saphyr::from_str::<Value>(&s) {
                Ok(Value::String(_)) | Err(_) => Value::String(s),
                Ok(structured) => structured,
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_payload(v, render))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(render(k)?, render_payload(v, render)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// A `webhook_configs` entry, ready to send.
#[derive(Debug)]
pub struct Webhook {
    config: WebhookConfig,
    client: HttpClient,
    templates: Arc<Templates>,
}

impl Webhook {
    pub fn new(config: WebhookConfig, templates: Arc<Templates>) -> Result<Self, HttpClientError> {
        let timeout = config.timeout.map(|t| t.as_std());
        let client = HttpClient::new(&config.http_config, timeout)?;
        Ok(Webhook {
            config,
            client,
            templates,
        })
    }

    /// `url`, or `url_file`'s content, rendered as a template against the
    /// group (Alertmanager 0.31). Errors never quote the URL: it is a secret.
    async fn url(&self, msg: &Notification) -> Result<String, NotifyError> {
        let raw = match (&self.config.url, &self.config.url_file) {
            (Some(url), _) => url.expose().to_owned(),
            (None, Some(file)) => read_secret_file("url_file", file).await?.trim().to_owned(),
            (None, None) => return Err(NotifyError::permanent("no url or url_file configured")),
        };
        if !raw.contains("{{") {
            return Ok(raw);
        }
        let data = Data::new(msg);
        let url = self
            .templates
            .render(&raw, Flavor::Text, &data)
            .map_err(|_| NotifyError::permanent("failed to template webhook URL"))?;
        if url.is_empty() {
            return Err(NotifyError::permanent(
                "webhook URL is empty after templating",
            ));
        }
        Ok(url)
    }

    fn body(&self, msg: &Notification) -> Result<Vec<u8>, NotifyError> {
        if let Some(payload) = &self.config.payload {
            let data = Data::new(msg);
            let rendered =
                render_payload(payload, &|t| self.templates.render(t, Flavor::Text, &data))
                    .map_err(|e| {
                        NotifyError::permanent(format!("failed to render custom payload: {e}"))
                    })?;
            return encode_body(&rendered);
        }
        encode_body(&Message::new(msg, self.config.max_alerts))
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = self.body(msg)?;
        let url = self.url(msg).await?;
        let Some(token) = msg.fencing_token else {
            return self.client.post_json(&url, body).await;
        };
        // In a cluster: the claim's token, the same on every retry, so a
        // receiver can drop a repeat.
        let key = (
            reqwest::header::HeaderName::from_static("idempotency-key"),
            reqwest::header::HeaderValue::from(token),
        );
        self.client.post_json_with(&url, body, vec![key]).await
    }
}

impl Notifier for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        Ok(String::from_utf8_lossy(&self.body(msg)?).into_owned())
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
