//! `mattermost_configs`: an incoming webhook, with
//! `global.mattermost_webhook_url(_file)`.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_secret_url};
use crate::config::{ConfigError, GlobalConfig, Secret};

/// `mattermost_configs` entry. Texts left out are Alertmanager's
/// `mattermost.default.*` (username, color, text, title, title_link,
/// fallback) or empty.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer_icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
    /// Attachments written out; when set, the top-level attachment fields
    /// are not used and `text` is the message's own text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MattermostAttachment>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<MattermostProps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<MattermostPriority>,
}

/// One entry of `attachments` (the same fields are also written at the
/// top level of the config, for the one attachment sent without a list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostAttachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<MattermostField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer_icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostField {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostProps {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub card: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostPriority {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub priority: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requested_ack: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub persistent_notifications: bool,
}

impl MattermostConfig {
    /// The attachment the top-level fields describe, `text` included.
    pub fn top_attachment(&self) -> MattermostAttachment {
        MattermostAttachment {
            fallback: self.fallback.clone(),
            color: self.color.clone(),
            pretext: self.pretext.clone(),
            text: self.text.clone(),
            author_name: self.author_name.clone(),
            author_link: self.author_link.clone(),
            author_icon: self.author_icon.clone(),
            title: self.title.clone(),
            title_link: self.title_link.clone(),
            fields: self.fields.clone(),
            thumb_url: self.thumb_url.clone(),
            footer: self.footer.clone(),
            footer_icon: self.footer_icon.clone(),
            image_url: self.image_url.clone(),
        }
    }
}

impl IntegrationConfig for MattermostConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.webhook_url.is_none() && self.webhook_url_file.is_none() {
            self.webhook_url = g.mattermost_webhook_url.clone();
            self.webhook_url_file = g.mattermost_webhook_url_file.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        at_most_one(
            at,
            ("webhook_url", self.webhook_url.as_ref()),
            ("webhook_url_file", self.webhook_url_file.as_ref()),
        )?;
        if self.webhook_url.is_none() && self.webhook_url_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.webhook_url"),
                "missing webhook_url or webhook_url_file on mattermost_config",
            ));
        }
        check_secret_url(at, "webhook_url", self.webhook_url.as_ref())?;
        let top = std::iter::once((String::new(), &self.fields));
        let listed = self
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| (format!(".attachments[{i}]"), &a.fields));
        for (path, fields) in top.chain(listed) {
            for (i, f) in fields.iter().enumerate() {
                let at = format!("{at}{path}.fields[{i}]");
                if f.title.is_empty() {
                    return Err(ConfigError::at(
                        format!("{at}.title"),
                        "missing title in Mattermost field configuration",
                    ));
                }
                if f.value.is_empty() {
                    return Err(ConfigError::at(
                        format!("{at}.value"),
                        "missing value in Mattermost field configuration",
                    ));
                }
            }
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("webhook_url_file", &mut self.webhook_url_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        for (name, value) in [
            ("channel", &self.channel),
            ("username", &self.username),
            ("icon_url", &self.icon_url),
            ("icon_emoji", &self.icon_emoji),
            ("type", &self.kind),
        ] {
            out.text(name, value.as_ref());
        }
        let top = [
            ("fallback", &self.fallback),
            ("color", &self.color),
            ("pretext", &self.pretext),
            ("text", &self.text),
            ("author_name", &self.author_name),
            ("author_link", &self.author_link),
            ("author_icon", &self.author_icon),
            ("title", &self.title),
            ("title_link", &self.title_link),
            ("thumb_url", &self.thumb_url),
            ("footer", &self.footer),
            ("footer_icon", &self.footer_icon),
            ("image_url", &self.image_url),
        ];
        templated_attachment(out, "", top, &self.fields);
        for (i, a) in self.attachments.iter().enumerate() {
            let texts = [
                ("fallback", &a.fallback),
                ("color", &a.color),
                ("pretext", &a.pretext),
                ("text", &a.text),
                ("author_name", &a.author_name),
                ("author_link", &a.author_link),
                ("author_icon", &a.author_icon),
                ("title", &a.title),
                ("title_link", &a.title_link),
                ("thumb_url", &a.thumb_url),
                ("footer", &a.footer),
                ("footer_icon", &a.footer_icon),
                ("image_url", &a.image_url),
            ];
            templated_attachment(out, &format!("attachments[{i}]."), texts, &a.fields);
        }
        if let Some(p) = &self.props {
            out.text("props.card", Some(&p.card));
        }
        if let Some(p) = &self.priority {
            out.text("priority.priority", Some(&p.priority));
        }
    }
}

fn templated_attachment<'a>(
    out: &mut TemplatedFields<'a>,
    path: &str,
    texts: [(&str, &'a Option<String>); 13],
    fields: &'a [MattermostField],
) {
    for (name, value) in texts {
        out.text(&format!("{path}{name}"), value.as_ref());
    }
    for (i, f) in fields.iter().enumerate() {
        out.text(&format!("{path}fields[{i}].title"), Some(&f.title));
        out.text(&format!("{path}fields[{i}].value"), Some(&f.value));
    }
}
