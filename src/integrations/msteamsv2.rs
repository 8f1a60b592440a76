//! Microsoft Teams through a Workflows (Power Automate) webhook
//! (`msteamsv2_configs`): one adaptive card with a heading and a text.
//! Answers are read as for the connector webhook (`msteams`).

use std::sync::Arc;

use serde::Serialize;

use super::http::{HttpClient, Request, secret_or_file};
use super::msteams::check_teams_answer;
use super::{AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body};
use crate::config::MsTeamsV2Config;
use crate::http_client::HttpClientError;
use crate::template::{Data, Flavor, Templates};

const ANSWER_LIMIT: usize = 16 * 1024;

pub struct MsTeamsV2 {
    config: MsTeamsV2Config,
    client: HttpClient,
    templates: Arc<Templates>,
}

/// The message, in Alertmanager's field order and `omitempty` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    #[serde(rename = "contentType")]
    pub content_type: &'static str,
    /// Always `null`, as Alertmanager sends it.
    #[serde(rename = "contentUrl")]
    pub content_url: Option<String>,
    pub content: Card,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub body: Vec<TextBlock>,
    pub msteams: Width,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextBlock {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub weight: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub size: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wrap: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub style: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub color: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Width {
    pub width: &'static str,
}

impl MsTeamsV2 {
    pub fn new(
        config: MsTeamsV2Config,
        templates: Arc<Templates>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(MsTeamsV2 {
            config,
            client,
            templates,
        })
    }

    pub fn message(&self, msg: &Notification) -> Message {
        let data = Data::new(msg);
        let render = |field: &str, value: &Option<String>| {
            let default = format!("{{{{ template \"msteamsv2.default.{field}\" . }}}}");
            let text = value.as_deref().unwrap_or(&default);
            self.templates
                .render_or_default(field, text, &default, Flavor::Text, &data)
        };
        let color = match msg.status() {
            AlertStatus::Firing => "Attention",
            AlertStatus::Resolved => "Good",
        };
        let heading = TextBlock {
            kind: "TextBlock",
            text: render("title", &self.config.title),
            weight: "Bolder",
            size: "Medium",
            wrap: true,
            style: "heading",
            color,
        };
        let text = TextBlock {
            kind: "TextBlock",
            text: render("text", &self.config.text),
            weight: "",
            size: "",
            wrap: true,
            style: "",
            color: "",
        };
        Message {
            kind: "message",
            attachments: vec![Attachment {
                content_type: "application/vnd.microsoft.card.adaptive",
                content_url: None,
                content: Card {
                    schema: "http://adaptivecards.io/schemas/adaptive-card.json",
                    kind: "AdaptiveCard",
                    version: "1.2",
                    body: vec![heading, text],
                    msteams: Width { width: "full" },
                },
            }],
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = encode_body(&self.message(msg))?;
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

impl Notifier for MsTeamsV2 {
    fn name(&self) -> &'static str {
        "msteamsv2"
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
