//! Mattermost (`mattermost_configs`): an incoming webhook post with one
//! attachment made of the top-level fields, or the `attachments` listed.
//!
//! Answers as Alertmanager reads them (2xx success, 5xx retried, other
//! statuses permanent), plus 429 retried after `Retry-After`. The message
//! text is cut to Mattermost's 16383 characters; a `priority` Mattermost
//! does not know is `standard`, as in Alertmanager.

use std::sync::Arc;

use serde::Serialize;

use super::http::{HttpClient, Request, secret_or_file};
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body, truncate};
use crate::config::{MattermostAttachment, MattermostConfig};
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Mattermost's limit for a post's text, in runes.
pub const MAX_TEXT_RUNES: usize = 16383;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Mattermost {
    config: MattermostConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The post, in Alertmanager's field order and `omitempty` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Post {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon_emoji: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub props: Option<Props>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fallback: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub color: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author_icon: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub footer_icon: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Props {
    pub card: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priority {
    pub priority: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub requested_ack: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub persistent_notifications: bool,
}

impl Mattermost {
    pub fn new(
        config: MattermostConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Mattermost {
            config,
            client,
            templates,
            metrics,
        })
    }

    pub fn post(&self, msg: &Notification) -> Post {
        let c = &self.config;
        let data = Data::new(msg);
        let render = |field: &str, value: Option<&String>, default: Option<&str>| {
            let default = default
                .map(|d| format!("{{{{ template \"mattermost.default.{d}\" . }}}}"))
                .unwrap_or_default();
            let text = value.map_or(default.as_str(), String::as_str);
            self.templates
                .render_or_default(field, text, &default, Flavor::Text, &data)
        };
        let attachment = |a: &MattermostAttachment, defaults: bool| {
            let d = |name: &'static str| defaults.then_some(name);
            Attachment {
                fallback: render("fallback", a.fallback.as_ref(), d("fallback")),
                color: render("color", a.color.as_ref(), d("color")),
                pretext: render("pretext", a.pretext.as_ref(), None),
                text: render("text", a.text.as_ref(), d("text")),
                author_name: render("author_name", a.author_name.as_ref(), None),
                author_link: render("author_link", a.author_link.as_ref(), None),
                author_icon: render("author_icon", a.author_icon.as_ref(), None),
                title: render("title", a.title.as_ref(), d("title")),
                title_link: render("title_link", a.title_link.as_ref(), d("titlelink")),
                fields: a
                    .fields
                    .iter()
                    .map(|f| Field {
                        title: render("fields.title", Some(&f.title), None),
                        value: render("fields.value", Some(&f.value), None),
                        short: f.short,
                    })
                    .collect(),
                thumb_url: render("thumb_url", a.thumb_url.as_ref(), None),
                footer: render("footer", a.footer.as_ref(), None),
                footer_icon: render("footer_icon", a.footer_icon.as_ref(), None),
                image_url: render("image_url", a.image_url.as_ref(), None),
            }
        };
        // Listed attachments replace the top-level one, and the text moves
        // to the post itself (Alertmanager's layout).
        let (text, attachments) = if c.attachments.is_empty() {
            (String::new(), vec![attachment(&c.top_attachment(), true)])
        } else {
            let text = render("text", c.text.as_ref(), Some("text"));
            let text = truncate::field(
                &self.metrics,
                "mattermost",
                "text",
                text,
                MAX_TEXT_RUNES,
                truncate::in_runes,
            );
            (
                text,
                c.attachments.iter().map(|a| attachment(a, false)).collect(),
            )
        };
        Post {
            text,
            channel: render("channel", c.channel.as_ref(), None),
            username: render("username", c.username.as_ref(), Some("username")),
            icon_url: render("icon_url", c.icon_url.as_ref(), None),
            icon_emoji: render("icon_emoji", c.icon_emoji.as_ref(), None),
            attachments,
            kind: render("type", c.kind.as_ref(), None),
            props: c
                .props
                .as_ref()
                .filter(|p| !p.card.is_empty())
                .map(|p| Props {
                    card: render("props.card", Some(&p.card), None),
                }),
            priority: c
                .priority
                .as_ref()
                .filter(|p| !p.priority.is_empty())
                .map(|p| {
                    let mut level = render("priority.priority", Some(&p.priority), None)
                        .to_lowercase();
                    if !["urgent", "important", "standard"].contains(&level.as_str()) {
                        tracing::warn!(
                            priority = %level,
                            "mattermost priority is not urgent, important or standard; sending standard"
                        );
                        level = "standard".into();
                    }
                    Priority {
                        requested_ack: p.requested_ack && level != "standard",
                        persistent_notifications: p.persistent_notifications && level == "urgent",
                        priority: level,
                    }
                }),
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let post = self.post(msg);
        let body = encode_body(&post)?;
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
        answer
            .classify()
            .map_err(|e| e.map_reason(|r| format!("channel {:?}: {r}", post.channel)))
    }
}

impl Notifier for Mattermost {
    fn name(&self) -> &'static str {
        "mattermost"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.post(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "mattermost_tests.rs"]
mod tests;
