//! Slack (`slack_configs`): one message with one attachment, posted to an
//! incoming webhook or, with a bot token, to the Web API's
//! `chat.postMessage` — or, with `update_message`, `chat.update` of the
//! group's earlier message.
//!
//! Answers as Alertmanager 0.34 reads them, plus rate limits: a 2xx answer
//! is read for Slack's own verdict (a webhook says `ok` in plain text, the
//! Web API `{"ok":true}` in JSON; anything else is a permanent failure with
//! Slack's error), 5xx and 429 are retried (after `Retry-After`), other
//! statuses are permanent. The URL and the token never reach an error.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::http::{HttpClient, Request, body_excerpt, read_secret_file};
use super::{
    Notification, Notifier, NotifyError, NotifyFuture, NotifyState, encode_body, truncate,
};
use crate::config::{Authorization, SlackConfig};
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Slack's limit for an attachment title (runes, as Alertmanager counts).
pub const MAX_TITLE_RUNES: usize = 1024;
/// The most of an answer read.
const ANSWER_LIMIT: usize = 64 * 1024;
/// Where the group's message id lives in the notification log, under
/// Alertmanager's names.
const STATE_TS: &str = "threadTs";
const STATE_CHANNEL: &str = "channelId";
/// Alertmanager's fixed update endpoint, used when the post URL is not a
/// `chat.postMessage` URL to derive one from.
const SLACK_UPDATE_URL: &str = "https://slack.com/api/chat.update";

pub struct Slack {
    config: SlackConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The request body, in Alertmanager's field order and `omitempty` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ts: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub link_names: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    pub text: String,
    pub fallback: String,
    pub callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    pub footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    pub short: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Confirm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirm {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dismiss_text: String,
}

/// The Web API's answer.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    error: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    ts: String,
}

impl Slack {
    pub fn new(
        config: SlackConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        // A bot token is a bearer credential (read from its file at each
        // request, like any `credentials_file`).
        let mut http = config.http_config.clone();
        if config.uses_app_token() {
            http.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: config.app_token.clone(),
                credentials_file: config.app_token_file.clone(),
                credentials_ref: None,
            });
        }
        let timeout = config.timeout.map(|t| t.as_std()).filter(|t| !t.is_zero());
        let client = HttpClient::new(&http, timeout)?;
        Ok(Slack {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn render(&self, field: &str, text: Option<&str>, default: &str, data: &Data) -> String {
        let text = text.unwrap_or(default);
        self.templates
            .render_or_default(field, text, default, Flavor::Text, data)
    }

    /// A field whose default is Alertmanager's `slack.default.<name>`.
    fn field(&self, field: &str, value: Option<&str>, default: &str, data: &Data) -> String {
        let default = format!("{{{{ template \"slack.default.{default}\" . }}}}");
        self.render(field, value, &default, data)
    }

    /// The body for `msg`, before `update_message` points it at an
    /// earlier message.
    pub fn message(&self, msg: &Notification) -> Message {
        let c = &self.config;
        let data = Data::new(msg);
        let plain = |field: &str, value: &str| self.render(field, Some(value), "", &data);
        let title = self.field("title", c.title.as_deref(), "title", &data);
        let title = truncate::field(
            &self.metrics,
            "slack",
            "title",
            title,
            MAX_TITLE_RUNES,
            truncate::in_runes,
        );
        let fields = c
            .fields
            .iter()
            .map(|f| Field {
                title: plain("fields.title", &f.title),
                value: plain("fields.value", &f.value),
                short: f.short.unwrap_or(c.short_fields),
            })
            .collect();
        let actions = c
            .actions
            .iter()
            .map(|a| Action {
                kind: plain("actions.type", &a.kind),
                text: plain("actions.text", &a.text),
                url: plain("actions.url", &a.url),
                style: plain("actions.style", &a.style),
                name: plain("actions.name", &a.name),
                value: plain("actions.value", &a.value),
                confirm: a.confirm.as_ref().map(|cf| Confirm {
                    text: plain("actions.confirm.text", &cf.text),
                    title: plain("actions.confirm.title", &cf.title),
                    ok_text: plain("actions.confirm.ok_text", &cf.ok_text),
                    dismiss_text: plain("actions.confirm.dismiss_text", &cf.dismiss_text),
                }),
            })
            .collect();
        let mrkdwn_in = if c.mrkdwn_in.is_empty() {
            ["fallback", "pretext", "text"].map(str::to_owned).to_vec()
        } else {
            c.mrkdwn_in.clone()
        };
        let attachment = Attachment {
            title,
            title_link: self.field("title_link", c.title_link.as_deref(), "titlelink", &data),
            pretext: self.field("pretext", c.pretext.as_deref(), "pretext", &data),
            text: self.field("text", c.text.as_deref(), "text", &data),
            fallback: self.field("fallback", c.fallback.as_deref(), "fallback", &data),
            callback_id: self.field("callback_id", c.callback_id.as_deref(), "callbackid", &data),
            fields,
            actions,
            image_url: self.render("image_url", c.image_url.as_deref(), "", &data),
            thumb_url: self.render("thumb_url", c.thumb_url.as_deref(), "", &data),
            footer: self.field("footer", c.footer.as_deref(), "footer", &data),
            color: self.field("color", c.color.as_deref(), "color", &data),
            mrkdwn_in,
        };
        Message {
            channel: self.render("channel", c.channel.as_deref(), "", &data),
            ts: String::new(),
            username: self.field("username", c.username.as_deref(), "username", &data),
            icon_emoji: self.field("icon_emoji", c.icon_emoji.as_deref(), "iconemoji", &data),
            icon_url: self.field("icon_url", c.icon_url.as_deref(), "iconurl", &data),
            link_names: c.link_names,
            text: self.render("message_text", c.message_text.as_deref(), "", &data),
            attachments: vec![attachment],
        }
    }

    /// Where to post: the app URL with a token, else the webhook URL.
    async fn url(&self) -> Result<String, NotifyError> {
        let c = &self.config;
        if c.uses_app_token() {
            return Ok(c.app_url.clone().unwrap_or_default());
        }
        match (&c.api_url, &c.api_url_file) {
            (Some(url), _) => Ok(url.expose().to_owned()),
            (None, Some(file)) => read_secret_file("api_url_file", file).await,
            (None, None) => Err(NotifyError::permanent(
                "no Slack API URL nor App token configured",
            )),
        }
    }

    async fn send(&self, msg: &Notification, state: &NotifyState) -> Result<(), NotifyError> {
        let mut message = self.message(msg);
        let mut url = self.url().await?;
        if self.config.update_message {
            let earlier = {
                let state = state.lock().expect("not poisoned");
                (
                    state.get(STATE_TS).cloned().unwrap_or_default(),
                    state.get(STATE_CHANNEL).cloned().unwrap_or_default(),
                )
            };
            if let (ts, channel) = earlier
                && !ts.is_empty()
                && !channel.is_empty()
            {
                url = update_url(&url);
                message.ts = ts;
                message.channel = channel;
            }
        }
        let body = encode_body(&message)?;
        let answer = self
            .client
            .request(Request::post(&url, "application/json", body), ANSWER_LIMIT)
            .await
            .map_err(|e| in_channel(&message.channel, e))?;
        answer
            .classify()
            .map_err(|e| in_channel(&message.channel, e))?;
        let json = answer
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            // An incoming webhook answers `ok` in plain text.
            if answer.body == b"ok" {
                return Ok(());
            }
            return Err(in_channel(
                &message.channel,
                answer.redact(NotifyError::permanent(format!(
                    "received an error response from Slack: {}",
                    body_excerpt(&answer.body)
                ))),
            ));
        }
        let Ok(outcome) = serde_json::from_slice::<Answer>(&answer.body) else {
            // Alertmanager retries an unreadable JSON answer.
            return Err(in_channel(
                &message.channel,
                answer.redact(NotifyError::retryable(format!(
                    "could not unmarshal JSON response {:?}",
                    body_excerpt(&answer.body)
                ))),
            ));
        };
        if !outcome.ok {
            return Err(in_channel(
                &message.channel,
                answer.redact(NotifyError::permanent(format!(
                    "error response from Slack: {}",
                    outcome.error
                ))),
            ));
        }
        if self.config.update_message && !outcome.ts.is_empty() && !outcome.channel.is_empty() {
            let mut state = state.lock().expect("not poisoned");
            state.insert(STATE_TS.into(), outcome.ts);
            state.insert(STATE_CHANNEL.into(), outcome.channel);
        }
        Ok(())
    }
}

/// `chat.update` beside the configured `chat.postMessage` (so a proxy or
/// a test service sees both), or Slack's own.
fn update_url(post_url: &str) -> String {
    match post_url.strip_suffix("chat.postMessage") {
        Some(base) => format!("{base}chat.update"),
        None => SLACK_UPDATE_URL.to_owned(),
    }
}

/// Alertmanager names the channel in every Slack error.
fn in_channel(channel: &str, e: NotifyError) -> NotifyError {
    e.map_reason(|r| format!("channel {channel:?}: {r}"))
}

impl Notifier for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(async move { self.send(msg, &NotifyState::default()).await })
    }

    fn notify_with_state<'a>(
        &'a self,
        msg: &'a Notification,
        state: &'a NotifyState,
    ) -> NotifyFuture<'a> {
        Box::pin(self.send(msg, state))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.message(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "slack_tests.rs"]
mod tests;
