//! Telegram (`telegram_configs`): the Bot API's `sendMessage`, as
//! Alertmanager's Telegram client sends it (a JSON object of strings).
//!
//! Telegram says how a call went in its JSON answer: `{"ok":false,
//! "error_code":…, "description":…}` is a failure with Telegram's
//! description, and a 429's `parameters.retry_after` is the wait before
//! the next try. Alertmanager retries every Telegram failure; so does
//! klaxon, within the flush. The bot token rides in the URL path and never
//! reaches an error text.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::http::{HttpClient, Request, body_excerpt, read_secret_file, secret_or_file};
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body, truncate};
use crate::config::TelegramConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Telegram's limit for a message, in runes.
pub const MAX_MESSAGE_RUNES: usize = 4096;
const DEFAULT_MESSAGE: &str = r#"{{ template "telegram.default.message" . }}"#;
/// What Alertmanager sends instead of an HTML message over the limit (an
/// HTML message cannot be cut without breaking its tags).
const TOO_LONG: &str = "Alertmanager notification could not be sent: message length exceeds Telegram limits.\n\t\t\tPlease check the template used for producing the message content.";
const ANSWER_LIMIT: usize = 64 * 1024;

pub struct Telegram {
    config: TelegramConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    error_code: u16,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

impl Telegram {
    pub fn new(
        config: TelegramConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Telegram {
            config,
            client,
            templates,
            metrics,
        })
    }

    /// The message text: HTML-escaped in HTML mode (and replaced by
    /// Alertmanager's notice when too long), cut to the limit otherwise.
    pub fn text(&self, msg: &Notification) -> String {
        let data = Data::new(msg);
        let template = self.config.message.as_deref().unwrap_or(DEFAULT_MESSAGE);
        if self.config.parse_mode() == "HTML" {
            let text = self.templates.render_or_default(
                "message",
                template,
                DEFAULT_MESSAGE,
                Flavor::Html,
                &data,
            );
            if text.chars().count() > MAX_MESSAGE_RUNES {
                tracing::warn!(
                    integration = "telegram",
                    max_runes = MAX_MESSAGE_RUNES,
                    "message over Telegram's limit; sending Alertmanager's notice instead"
                );
                self.metrics.truncated("telegram", "message");
                return TOO_LONG.to_owned();
            }
            return text;
        }
        let text = self.templates.render_or_default(
            "message",
            template,
            DEFAULT_MESSAGE,
            Flavor::Text,
            &data,
        );
        truncate::field(
            &self.metrics,
            "telegram",
            "message",
            text,
            MAX_MESSAGE_RUNES,
            truncate::in_runes,
        )
    }

    /// The `sendMessage` parameters (Go marshals the map with sorted keys).
    pub fn params(&self, msg: &Notification, chat_id: i64) -> BTreeMap<&'static str, String> {
        let c = &self.config;
        let mut params = BTreeMap::from([
            ("chat_id", chat_id.to_string()),
            ("text", self.text(msg)),
            ("disable_web_page_preview", "true".to_owned()),
        ]);
        if !c.parse_mode().is_empty() {
            params.insert("parse_mode", c.parse_mode().to_owned());
        }
        if c.disable_notifications {
            params.insert("disable_notification", "true".to_owned());
        }
        if c.message_thread_id != 0 {
            params.insert("message_thread_id", c.message_thread_id.to_string());
        }
        params
    }

    async fn chat_id(&self) -> Result<i64, NotifyError> {
        match &self.config.chat_id_file {
            Some(file) => {
                let text = read_secret_file("chat_id_file", file).await?;
                text.trim().parse().map_err(|e| {
                    NotifyError::permanent(format!("could not parse chat_id from {file}: {e}"))
                })
            }
            None => Ok(self.config.chat_id),
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let token = secret_or_file(
            c.bot_token.as_ref(),
            c.bot_token_file.as_ref(),
            "bot_token_file",
        )
        .await
        .map_err(retryable)?;
        self.post(msg, &token).await.map_err(|e| e.without(&token))
    }

    async fn post(&self, msg: &Notification, token: &str) -> Result<(), NotifyError> {
        let c = &self.config;
        let chat_id = self.chat_id().await.map_err(retryable)?;
        let body = encode_body(&self.params(msg, chat_id))?;
        // Alertmanager's client joins the URL as written.
        let url = format!(
            "{}/bot{token}/sendMessage",
            c.api_url.as_deref().unwrap_or_default()
        );
        let answer = self
            .client
            .request(Request::post(&url, "application/json", body), ANSWER_LIMIT)
            .await?;
        let status = answer.status.as_u16();
        let outcome: Answer = match serde_json::from_slice(&answer.body) {
            Ok(a) => a,
            Err(_) => {
                answer.classify()?;
                return Err(answer.redact(NotifyError::Retryable {
                    status: Some(status),
                    reason: format!(
                        "unreadable answer from Telegram: {:?}",
                        body_excerpt(&answer.body)
                    ),
                    retry_after: None,
                }));
            }
        };
        if outcome.ok {
            return Ok(());
        }
        let code = if outcome.error_code != 0 {
            outcome.error_code
        } else {
            status
        };
        Err(answer.redact(NotifyError::Retryable {
            status: Some(code),
            reason: format!("telegram: {} ({code})", outcome.description),
            retry_after: outcome
                .parameters
                .and_then(|p| p.retry_after)
                .map(Duration::from_secs),
        }))
    }
}

/// Alertmanager retries every Telegram failure, unreadable files included.
fn retryable(e: NotifyError) -> NotifyError {
    match e {
        NotifyError::Permanent { status, reason } => NotifyError::Retryable {
            status,
            reason,
            retry_after: None,
        },
        other => other,
    }
}

impl Notifier for Telegram {
    fn name(&self) -> &'static str {
        "telegram"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.params(msg, self.config.chat_id))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "telegram_tests.rs"]
mod tests;
