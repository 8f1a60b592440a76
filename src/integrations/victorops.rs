//! Splunk On-Call, formerly VictorOps (`victorops_configs`): the REST
//! endpoint `<api_url><api_key>/<routing_key>` with one flat JSON object.
//! A firing group is its `message_type` (`CRITICAL`, `WARNING` or `INFO`,
//! else `CRITICAL`), a resolved one `RECOVERY`; the entity ID is the
//! SHA-256 of the group key.
//!
//! As in Alertmanager: 5xx is retried (here 429 too, after
//! `Retry-After`); other statuses are permanent; the state message is cut
//! to 20480 characters. The API key rides in the URL path and never
//! reaches an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::http::{HttpClient, Request, secret_or_file};
use super::{
    AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body, group_key_hash,
    truncate,
};
use crate::config::VictorOpsConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// VictorOps' limit for `state_message`, in runes.
pub const MAX_STATE_MESSAGE_RUNES: usize = 20480;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct VictorOps {
    config: VictorOpsConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

impl VictorOps {
    pub fn new(
        config: VictorOpsConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(VictorOps {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn render(&self, text: &str, data: &Data) -> Result<String, NotifyError> {
        self.templates
            .render(text, Flavor::Text, data)
            .map_err(|e| NotifyError::permanent(format!("templating error: {e}")))
    }

    fn field(
        &self,
        value: Option<&String>,
        name: &str,
        data: &Data,
    ) -> Result<String, NotifyError> {
        let default = format!("{{{{ template \"victorops.default.{name}\" . }}}}");
        self.render(value.map_or(default.as_str(), String::as_str), data)
    }

    /// The payload (Go marshals Alertmanager's map with sorted keys).
    pub fn payload(&self, msg: &Notification) -> Result<BTreeMap<String, String>, NotifyError> {
        let c = &self.config;
        let data = Data::new(msg);
        let message_type = self.render(c.message_type.as_deref().unwrap_or("CRITICAL"), &data)?;
        let message_type = match msg.status() {
            AlertStatus::Resolved => "RECOVERY".to_owned(),
            AlertStatus::Firing
                if ["INFO", "WARNING", "CRITICAL"].contains(&message_type.as_str()) =>
            {
                message_type
            }
            AlertStatus::Firing => "CRITICAL".to_owned(),
        };
        let state_message = truncate::field(
            &self.metrics,
            "victorops",
            "state_message",
            self.field(c.state_message.as_ref(), "state_message", &data)?,
            MAX_STATE_MESSAGE_RUNES,
            truncate::in_runes,
        );
        let mut payload = BTreeMap::from([
            ("message_type".to_owned(), message_type),
            ("entity_id".to_owned(), group_key_hash(&msg.group_key)),
            (
                "entity_display_name".to_owned(),
                self.field(c.entity_display_name.as_ref(), "entity_display_name", &data)?,
            ),
            ("state_message".to_owned(), state_message),
            (
                "monitoring_tool".to_owned(),
                self.field(c.monitoring_tool.as_ref(), "monitoring_tool", &data)?,
            ),
        ]);
        for (k, v) in &c.custom_fields {
            payload.insert(k.clone(), self.render(v, &data)?);
        }
        Ok(payload)
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let key =
            secret_or_file(c.api_key.as_ref(), c.api_key_file.as_ref(), "api_key_file").await?;
        let hide = |e: NotifyError| e.without(&key);
        let routing_key = self.render(&c.routing_key, &Data::new(msg))?;
        let url = format!(
            "{}{key}/{routing_key}",
            c.api_url.as_deref().unwrap_or_default()
        );
        let body = encode_body(&self.payload(msg)?)?;
        let answer = self
            .client
            .request(Request::post(&url, "application/json", body), ANSWER_LIMIT)
            .await
            .map_err(hide)?;
        answer.classify().map_err(hide)
    }
}

impl Notifier for VictorOps {
    fn name(&self) -> &'static str {
        "victorops"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.payload(msg)?)?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "victorops_tests.rs"]
mod tests;
