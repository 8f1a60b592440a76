//! Webex (`webex_configs`): one Markdown message to a room through the
//! Messages API, authorized by `http_config.authorization` (a bot token).
//!
//! As in Alertmanager: the message is cut to Webex's 7439 bytes; 5xx is
//! retried (here 429 too, after `Retry-After`); other statuses are
//! permanent.

use std::sync::Arc;

use serde::Serialize;

use super::http::{HttpClient, Request};
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body, truncate};
use crate::config::WebexConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Webex's limit for a message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 7439;
const DEFAULT_MESSAGE: &str = r#"{{ template "webex.default.message" . }}"#;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Webex {
    config: WebexConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub markdown: String,
    #[serde(rename = "roomId", skip_serializing_if = "String::is_empty")]
    pub room_id: String,
}

impl Webex {
    pub fn new(
        config: WebexConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Webex {
            config,
            client,
            templates,
            metrics,
        })
    }

    pub fn message(&self, msg: &Notification) -> Result<Message, NotifyError> {
        let data = Data::new(msg);
        let render = |text: &str| {
            self.templates
                .render(text, Flavor::Text, &data)
                .map_err(|e| NotifyError::permanent(format!("templating error: {e}")))
        };
        let markdown = render(self.config.message.as_deref().unwrap_or(DEFAULT_MESSAGE))?;
        Ok(Message {
            markdown: truncate::field(
                &self.metrics,
                "webex",
                "message",
                markdown,
                MAX_MESSAGE_BYTES,
                truncate::in_bytes,
            ),
            room_id: render(&self.config.room_id)?,
        })
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = encode_body(&self.message(msg)?)?;
        let url = self.config.api_url.as_deref().unwrap_or_default();
        let answer = self
            .client
            .request(Request::post(url, "application/json", body), ANSWER_LIMIT)
            .await?;
        answer.classify()
    }
}

impl Notifier for Webex {
    fn name(&self) -> &'static str {
        "webex"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.message(msg)?)?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "webex_tests.rs"]
mod tests;
