//! Pushover (`pushover_configs`): one message per notification, its
//! parameters in the query string of an empty POST, as Alertmanager sends
//! it.
//!
//! As in Alertmanager: title, message and URL are cut to Pushover's 250,
//! 1024 and 512 characters; an empty message is `(no details)`; 5xx is
//! retried (here 429 too); other statuses are permanent, and so is a 200
//! whose JSON says `"status":0`. The token and user key ride in the query
//! and never reach an error.

use std::sync::Arc;

use serde::Deserialize;

use super::http::{HttpClient, Request, secret_or_file};
use super::{Notification, Notifier, NotifyError, NotifyFuture, truncate};
use crate::config::{PUSHOVER_API_URL, PushoverConfig};
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Pushover's limits, in runes.
pub const MAX_TITLE_RUNES: usize = 250;
pub const MAX_MESSAGE_RUNES: usize = 1024;
pub const MAX_URL_RUNES: usize = 512;
const DEFAULT_PRIORITY: &str = r#"{{ if eq .Status "firing" }}2{{ else }}0{{ end }}"#;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Pushover {
    config: PushoverConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default = "one")]
    status: i64,
    #[serde(default)]
    errors: Vec<String>,
}

fn one() -> i64 {
    1
}

impl Pushover {
    pub fn new(
        config: PushoverConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Pushover {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn render(&self, text: &str, flavor: Flavor, data: &Data) -> Result<String, NotifyError> {
        self.templates
            .render(text, flavor, data)
            .map_err(|e| NotifyError::permanent(format!("templating error: {e}")))
    }

    fn field(
        &self,
        value: Option<&String>,
        default: &str,
        data: &Data,
    ) -> Result<String, NotifyError> {
        self.render(value.map_or(default, String::as_str), Flavor::Text, data)
    }

    fn cut(&self, field: &'static str, text: String, max: usize) -> String {
        truncate::field(
            &self.metrics,
            "pushover",
            field,
            text,
            max,
            truncate::in_runes,
        )
    }

    /// The query parameters, sorted by name as Go's `url.Values` encodes
    /// them; `token` and `user` are the given (secret) values.
    pub fn params(
        &self,
        msg: &Notification,
        token: &str,
        user: &str,
    ) -> Result<Vec<(&'static str, String)>, NotifyError> {
        let c = &self.config;
        let data = Data::new(msg);
        let named = |name: &str| format!("{{{{ template \"pushover.default.{name}\" . }}}}");
        let mut params = vec![
            ("token", self.render(token, Flavor::Text, &data)?),
            ("user", self.render(user, Flavor::Text, &data)?),
        ];
        let title = self.field(c.title.as_ref(), &named("title"), &data)?;
        params.push(("title", self.cut("title", title, MAX_TITLE_RUNES)));
        let message_template = c.message.clone().unwrap_or_else(|| named("message"));
        let message = if c.html {
            params.push(("html", "1".into()));
            self.render(&message_template, Flavor::Html, &data)?
        } else {
            self.render(&message_template, Flavor::Text, &data)?
        };
        if c.monospace {
            params.push(("monospace", "1".into()));
        }
        let message = self.cut("message", message, MAX_MESSAGE_RUNES);
        let message = match message.trim() {
            "" => "(no details)".to_owned(),
            m => m.to_owned(),
        };
        params.push(("message", message));
        let url = self.field(c.url.as_ref(), &named("url"), &data)?;
        params.push(("url", self.cut("url", url, MAX_URL_RUNES)));
        params.push(("url_title", self.field(c.url_title.as_ref(), "", &data)?));
        params.push((
            "priority",
            self.field(c.priority.as_ref(), DEFAULT_PRIORITY, &data)?,
        ));
        params.push(("retry", c.retry().as_std().as_secs().to_string()));
        params.push(("expire", c.expire().as_std().as_secs().to_string()));
        params.push(("device", self.field(c.device.as_ref(), "", &data)?));
        params.push(("sound", self.field(c.sound.as_ref(), "", &data)?));
        let ttl = c.ttl.map_or(0, |t| t.as_std().as_secs());
        if ttl > 0 {
            params.push(("ttl", ttl.to_string()));
        }
        params.sort_by_key(|(k, _)| *k);
        Ok(params)
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let token = secret_or_file(c.token.as_ref(), c.token_file.as_ref(), "token_file").await?;
        let user = secret_or_file(
            c.user_key.as_ref(),
            c.user_key_file.as_ref(),
            "user_key_file",
        )
        .await?;
        let hide = |e: NotifyError| e.without(&token).without(&user);
        let params = self.params(msg, &token, &user).map_err(hide)?;
        let mut url = reqwest::Url::parse(c.api_url.as_deref().unwrap_or(PUSHOVER_API_URL))
            .map_err(|e| NotifyError::permanent(format!("invalid api_url: {e}")))?;
        url.query_pairs_mut().extend_pairs(params);
        let answer = self
            .client
            .request(
                Request::post(url.as_str(), "text/plain", Vec::new()),
                ANSWER_LIMIT,
            )
            .await
            .map_err(hide)?;
        answer.classify().map_err(hide)?;
        if let Ok(a) = serde_json::from_slice::<Answer>(&answer.body)
            && a.status != 1
        {
            return Err(hide(answer.redact(NotifyError::Permanent {
                status: Some(answer.status.as_u16()),
                reason: format!("pushover: {}", a.errors.join("; ")),
            })));
        }
        Ok(())
    }
}

impl Notifier for Pushover {
    fn name(&self) -> &'static str {
        "pushover"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let params = self.params(msg, "<token>", "<user key>")?;
        Ok(params
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

#[cfg(test)]
#[path = "pushover_tests.rs"]
mod tests;
