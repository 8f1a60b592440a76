//! incident.io (`incidentio_configs`): the webhook payload (version `1`)
//! POSTed to an alert source URL with its token as a bearer credential.
//!
//! As in Alertmanager 0.34: 429 and 5xx are retried (after
//! `Retry-After`), other statuses are permanent; a payload over
//! incident.io's 512 KiB keeps only its first alert.

use std::sync::Arc;

use super::http::{HttpClient, Request, secret_or_file};
use super::webhook::Message;
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body};
use crate::config::{Authorization, IncidentioConfig};
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;

/// incident.io's limit for one payload.
pub const MAX_PAYLOAD_BYTES: usize = 512 * 1024;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Incidentio {
    config: IncidentioConfig,
    client: HttpClient,
    metrics: Arc<Metrics>,
}

impl Incidentio {
    pub fn new(config: IncidentioConfig, metrics: Arc<Metrics>) -> Result<Self, HttpClientError> {
        // The source token replaces `http_config` credentials (read from
        // its file at each request).
        let mut http = config.http_config.clone();
        if config.has_token() {
            http.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: config.alert_source_token.clone(),
                credentials_file: config.alert_source_token_file.clone(),
                credentials_ref: None,
            });
        }
        let timeout = config.timeout.map(|t| t.as_std()).filter(|t| !t.is_zero());
        let client = HttpClient::new(&http, timeout)?;
        Ok(Incidentio {
            config,
            client,
            metrics,
        })
    }

    /// The body: the webhook message as version 1, cut to its first alert
    /// when it is over incident.io's limit.
    pub fn body(&self, msg: &Notification) -> Result<Vec<u8>, NotifyError> {
        let encode = |m: &Message| encode_body(m);
        let mut message = Message::new(msg, self.config.max_alerts);
        message.version = "1";
        let body = encode(&message)?;
        if body.len() <= MAX_PAYLOAD_BYTES {
            return Ok(body);
        }
        let original = body.len();
        message.alerts.truncate(1);
        let body = encode(&message)?;
        tracing::warn!(
            integration = "incidentio",
            original_size = original,
            final_size = body.len(),
            max_size = MAX_PAYLOAD_BYTES,
            "payload over incident.io's limit: only the first alert is sent"
        );
        self.metrics.truncated("incidentio", "alerts");
        Ok(body)
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = self.body(msg)?;
        let url = secret_or_file(
            self.config.url.as_ref(),
            self.config.url_file.as_ref(),
            "url_file",
        )
        .await?;
        let answer = self
            .client
            .request(Request::post(&url, "application/json", body), ANSWER_LIMIT)
            .await?;
        answer.classify()
    }
}

impl Notifier for Incidentio {
    fn name(&self) -> &'static str {
        "incidentio"
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
#[path = "incidentio_tests.rs"]
mod tests;
