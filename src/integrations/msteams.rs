//! Microsoft Teams through an Office 365 connector webhook
//! (`msteams_configs`): one message card.
//!
//! Answers as Alertmanager reads them (2xx success, 5xx retried, other
//! statuses permanent), plus two things Teams documents: 429 is retried
//! after `Retry-After`, and a connector that could not deliver answers 200
//! with "Webhook message delivery failed…" in the body, which is a
//! retryable failure rather than a success.

use std::sync::Arc;

use serde::Serialize;

use super::http::{HttpAnswer, HttpClient, Request, body_excerpt, secret_or_file};
use super::{AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body};
use crate::config::MsTeamsConfig;
use crate::http_client::HttpClientError;
use crate::template::{Data, Flavor, Templates};

/// The most of an answer read.
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct MsTeams {
    config: MsTeamsConfig,
    client: HttpClient,
    templates: Arc<Templates>,
}

/// A message card, in Alertmanager's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageCard {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub summary: String,
    pub text: String,
    #[serde(rename = "themeColor")]
    pub theme_color: &'static str,
}

impl MsTeams {
    pub fn new(config: MsTeamsConfig, templates: Arc<Templates>) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(MsTeams {
            config,
            client,
            templates,
        })
    }

    pub fn card(&self, msg: &Notification) -> MessageCard {
        let data = Data::new(msg);
        let render = |field: &str, value: &Option<String>, default: &str| {
            let default = format!("{{{{ template \"msteams.default.{default}\" . }}}}");
            let text = value.as_deref().unwrap_or(&default);
            self.templates
                .render_or_default(field, text, &default, Flavor::Text, &data)
        };
        MessageCard {
            context: "http://schema.org/extensions",
            kind: "MessageCard",
            title: render("title", &self.config.title, "title"),
            summary: render("summary", &self.config.summary, "summary"),
            text: render("text", &self.config.text, "text"),
            theme_color: match msg.status() {
                AlertStatus::Firing => "8C1A1A",
                AlertStatus::Resolved => "2DC72D",
            },
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = encode_body(&self.card(msg))?;
        let url = secret_or_file(
            self.config.webhook_url.as_ref(),
            self.config.webhook_url_file.as_ref(),
            "webhook_url_file",
        )
        .await?;
        let answer = self
            .client
            .request(Request::post(&url, "application/json", body), ANSWER_LIMIT)
            .await?;
        check_teams_answer(&answer)
    }
}

/// Shared by both Teams integrations: the status, then Teams' "200 with
/// an error inside".
pub(super) fn check_teams_answer(answer: &HttpAnswer) -> Result<(), NotifyError> {
    answer.classify()?;
    let text = String::from_utf8_lossy(&answer.body);
    if text.contains("delivery failed") {
        let rate_limited = text.contains("HTTP error 429");
        return Err(answer.redact(NotifyError::Retryable {
            status: Some(if rate_limited {
                429
            } else {
                answer.status.as_u16()
            }),
            reason: body_excerpt(&answer.body),
            retry_after: None,
        }));
    }
    Ok(())
}

impl Notifier for MsTeams {
    fn name(&self) -> &'static str {
        "msteams"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.card(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "msteams_tests.rs"]
mod tests;
