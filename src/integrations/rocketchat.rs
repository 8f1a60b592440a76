//! Rocket.Chat (`rocketchat_configs`): `api/v1/chat.postMessage` under
//! `api_url`, authenticated with `X-Auth-Token` / `X-User-Id`.
//!
//! Answers as Alertmanager reads them: a non-2xx status is a failure (5xx
//! and, here, 429 retried), and a 2xx answer is Rocket.Chat's JSON verdict
//! (`success: false` is a permanent failure with its `error`; an
//! unreadable answer is retried). Tokens never reach an error text.

use std::sync::Arc;

use reqwest::header::HeaderName;
use serde::{Deserialize, Serialize};

use super::http::{HttpClient, Request, body_excerpt, secret_or_file};
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body, truncate};
use crate::config::RocketchatConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Rocket.Chat's limit for an attachment title (runes).
pub const MAX_TITLE_RUNES: usize = 1024;
const ANSWER_LIMIT: usize = 16 * 1024;
/// Alertmanager's color default (not a named template).
const DEFAULT_COLOR: &str = r#"{{ if eq .Status "firing" }}red{{ else }}green{{ end }}"#;

pub struct Rocketchat {
    config: RocketchatConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The message, in Alertmanager's field order and `omitempty` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostMessage {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub avatar: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub short: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    pub is_webview: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub msg: String,
    pub msg_in_chat_window: bool,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    error: String,
}

impl Rocketchat {
    pub fn new(
        config: RocketchatConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Rocketchat {
            config,
            client,
            templates,
            metrics,
        })
    }

    pub fn message(&self, msg: &Notification) -> PostMessage {
        let c = &self.config;
        let data = Data::new(msg);
        let render = |field: &str, value: Option<&String>, default: &str| {
            let text = value.map_or(default, String::as_str);
            self.templates
                .render_or_default(field, text, default, Flavor::Text, &data)
        };
        let named = |name: &str| format!("{{{{ template \"rocketchat.default.{name}\" . }}}}");
        let title = render("title", c.title.as_ref(), &named("title"));
        let title = truncate::field(
            &self.metrics,
            "rocketchat",
            "title",
            title,
            MAX_TITLE_RUNES,
            truncate::in_runes,
        );
        let attachment = Attachment {
            title,
            title_link: render("title_link", c.title_link.as_ref(), &named("titlelink")),
            text: render("text", c.text.as_ref(), &named("text")),
            image_url: render("image_url", c.image_url.as_ref(), ""),
            thumb_url: render("thumb_url", c.thumb_url.as_ref(), ""),
            color: render("color", c.color.as_ref(), DEFAULT_COLOR),
            fields: c
                .fields
                .iter()
                .map(|f| Field {
                    short: f.short.unwrap_or(c.short_fields),
                    title: render("fields.title", Some(&f.title), ""),
                    value: render("fields.value", Some(&f.value), ""),
                })
                .collect(),
            actions: c
                .actions
                .iter()
                .map(|a| Action {
                    kind: "button",
                    text: render("actions.text", Some(&a.text), ""),
                    url: render("actions.url", Some(&a.url), ""),
                    is_webview: false,
                    msg: render("actions.msg", Some(&a.msg), ""),
                    msg_in_chat_window: false,
                })
                .collect(),
        };
        PostMessage {
            channel: render("channel", c.channel.as_ref(), ""),
            emoji: render("emoji", c.emoji.as_ref(), &named("emoji")),
            avatar: render("icon_url", c.icon_url.as_ref(), &named("iconurl")),
            attachments: vec![attachment],
        }
    }

    fn url(&self) -> Result<String, NotifyError> {
        let base = self.config.api_url.as_deref().unwrap_or_default();
        let mut url = reqwest::Url::parse(base)
            .map_err(|e| NotifyError::permanent(format!("invalid api_url: {e}")))?;
        // Go's URL.JoinPath: the path is appended after one slash.
        let path = format!(
            "{}/api/v1/chat.postMessage",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        Ok(url.into())
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let message = self.message(msg);
        let body = encode_body(&message)?;
        let token = secret_or_file(c.token.as_ref(), c.token_file.as_ref(), "token_file").await?;
        let token_id = secret_or_file(
            c.token_id.as_ref(),
            c.token_id_file.as_ref(),
            "token_id_file",
        )
        .await?;
        let header = |v: String| {
            reqwest::header::HeaderValue::from_str(&v).map_err(|_| {
                NotifyError::permanent("a Rocket.Chat token is not a valid header value")
            })
        };
        let hide = |e: NotifyError| e.without(&token).without(&token_id);
        let url = self.url()?;
        let request = Request::post(&url, "application/json", body)
            .header(
                HeaderName::from_static("x-auth-token"),
                header(token.clone())?,
            )
            .header(
                HeaderName::from_static("x-user-id"),
                header(token_id.clone())?,
            );
        let in_channel =
            |e: NotifyError| hide(e).map_reason(|r| format!("channel {:?}: {r}", message.channel));
        let answer = self
            .client
            .request(request, ANSWER_LIMIT)
            .await
            .map_err(in_channel)?;
        answer.classify().map_err(in_channel)?;
        let Ok(outcome) = serde_json::from_slice::<Answer>(&answer.body) else {
            return Err(in_channel(answer.redact(NotifyError::retryable(format!(
                "could not unmarshal JSON response {:?}",
                body_excerpt(&answer.body)
            )))));
        };
        if !outcome.success {
            return Err(in_channel(answer.redact(NotifyError::permanent(format!(
                "error response from Rocketchat: {}",
                outcome.error
            )))));
        }
        Ok(())
    }
}

impl Notifier for Rocketchat {
    fn name(&self) -> &'static str {
        "rocketchat"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.message(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "rocketchat_tests.rs"]
mod tests;
