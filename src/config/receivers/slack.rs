//! `slack_configs`: an incoming webhook (`api_url`) or the Web API with a
//! bot token (`app_token`, posting to `app_url`), with `global.slack_*`
//! defaults.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, is_false};
use crate::config::validate::{at_most_one, check_http, check_secret_url, check_url};
use crate::config::{ConfigError, Duration, GlobalConfig, Secret};

/// The Web API endpoint `update_message` needs (Alertmanager's check).
pub const SLACK_POST_MESSAGE_URL: &str = "https://slack.com/api/chat.postMessage";

/// `slack_configs` entry. Template fields left out are Alertmanager's
/// default templates (`slack.default.*`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The message's own text, outside the attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SlackField>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub short_fields: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub link_names: bool,
    /// Empty means Alertmanager's `[fallback, pretext, text]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<SlackAction>,
    /// Edit the group's earlier message (`chat.update`) instead of posting
    /// a new one; its channel and `ts` are kept in the notification log.
    #[serde(default, skip_serializing_if = "is_false")]
    pub update_message: bool,
    /// Per-request timeout; 0s or absent means none beyond the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// An attachment field; `short` left out is `short_fields`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackField {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
}

/// A button: a link (`url`) or a message action (`name`/`value`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackAction {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<SlackConfirm>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfirm {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ok_text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dismiss_text: String,
}

impl SlackConfig {
    /// Whether the Web API with a bot token is used (then `app_url` is the
    /// endpoint and the token a bearer credential).
    pub fn uses_app_token(&self) -> bool {
        self.app_token.is_some() || self.app_token_file.is_some()
    }
}

impl IntegrationConfig for SlackConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.app_url.is_none() {
            self.app_url = Some(g.slack_app_url.clone());
        }
        // The global token only where nothing local says how to post.
        if !self.uses_app_token()
            && self.http_config.authorization.is_none()
            && self.api_url.is_none()
            && self.api_url_file.is_none()
        {
            self.app_token = g.slack_app_token.clone();
            self.app_token_file = g.slack_app_token_file.clone();
        }
        // With a token the app URL is the endpoint: a global webhook URL
        // is not used.
        if self.api_url.is_none() && self.api_url_file.is_none() && !self.uses_app_token() {
            self.api_url = g.slack_api_url.clone();
            self.api_url_file = g.slack_api_url_file.clone();
        }
        // A message action drops link fields and the reverse, as in
        // Alertmanager.
        for a in &mut self.actions {
            if !a.url.is_empty() {
                a.name.clear();
                a.value.clear();
                a.confirm = None;
            }
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        at_most_one(
            at,
            ("api_url", self.api_url.as_ref()),
            ("api_url_file", self.api_url_file.as_ref()),
        )?;
        at_most_one(
            at,
            ("app_token", self.app_token.as_ref()),
            ("app_token_file", self.app_token_file.as_ref()),
        )?;
        let webhook = self.api_url.is_some() || self.api_url_file.is_some();
        if self.uses_app_token() && webhook {
            // A global webhook URL equal to the app URL is the Web API
            // endpoint written twice, which Alertmanager allows.
            let same = self
                .api_url
                .as_ref()
                .is_some_and(|u| Some(u.expose()) == self.app_url.as_deref());
            if !same {
                return Err(ConfigError::at(
                    at,
                    "at most one of api_url/api_url_file & app_token/app_token_file must be configured",
                ));
            }
        }
        if !webhook && !self.uses_app_token() {
            return Err(ConfigError::at(
                format!("{at}.api_url"),
                "no Slack API URL nor App token set either inline or in a file",
            ));
        }
        if self.uses_app_token() && self.http_config.authorization.is_some() {
            return Err(ConfigError::at(
                format!("{at}.http_config.authorization"),
                "http authorization can't be set when using Slack App tokens",
            ));
        }
        if self.update_message
            && !self.uses_app_token()
            && self
                .api_url
                .as_ref()
                .is_some_and(|u| u.expose() != SLACK_POST_MESSAGE_URL)
        {
            return Err(ConfigError::at(
                format!("{at}.update_message"),
                format!(
                    "update_message can only be used with bot tokens. api_url must be set to {SLACK_POST_MESSAGE_URL}"
                ),
            ));
        }
        check_secret_url(at, "api_url", self.api_url.as_ref())?;
        if let Some(url) = &self.app_url {
            check_url(url).map_err(|m| ConfigError::at(format!("{at}.app_url"), m))?;
        }
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("{at}.fields[{i}]");
            if f.title.is_empty() {
                return Err(ConfigError::at(
                    format!("{at}.title"),
                    "missing title in Slack field configuration",
                ));
            }
            if f.value.is_empty() {
                return Err(ConfigError::at(
                    format!("{at}.value"),
                    "missing value in Slack field configuration",
                ));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            let at = format!("{at}.actions[{i}]");
            let missing = |field: &str, what: &str| {
                Err(ConfigError::at(
                    format!("{at}.{field}"),
                    format!("missing {what} in Slack action configuration"),
                ))
            };
            if a.kind.is_empty() {
                return missing("type", "type");
            }
            if a.text.is_empty() {
                return missing("text", "text");
            }
            if a.url.is_empty() && a.name.is_empty() {
                return missing("name", "name or url");
            }
            if let Some(c) = &a.confirm
                && c.text.is_empty()
            {
                return Err(ConfigError::at(
                    format!("{at}.confirm.text"),
                    "missing text in Slack confirmation configuration",
                ));
            }
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("api_url_file", &mut self.api_url_file);
        out.push("app_token_file", &mut self.app_token_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        for (name, value) in [
            ("channel", &self.channel),
            ("username", &self.username),
            ("color", &self.color),
            ("title", &self.title),
            ("title_link", &self.title_link),
            ("pretext", &self.pretext),
            ("text", &self.text),
            ("message_text", &self.message_text),
            ("footer", &self.footer),
            ("fallback", &self.fallback),
            ("callback_id", &self.callback_id),
            ("icon_emoji", &self.icon_emoji),
            ("icon_url", &self.icon_url),
            ("image_url", &self.image_url),
            ("thumb_url", &self.thumb_url),
        ] {
            out.text(name, value.as_ref());
        }
        for (i, f) in self.fields.iter().enumerate() {
            out.text(&format!("fields[{i}].title"), Some(&f.title));
            out.text(&format!("fields[{i}].value"), Some(&f.value));
        }
        for (i, a) in self.actions.iter().enumerate() {
            for (name, value) in [
                ("type", &a.kind),
                ("text", &a.text),
                ("url", &a.url),
                ("style", &a.style),
                ("name", &a.name),
                ("value", &a.value),
            ] {
                out.text(&format!("actions[{i}].{name}"), Some(value));
            }
            if let Some(c) = &a.confirm {
                for (name, value) in [
                    ("title", &c.title),
                    ("text", &c.text),
                    ("ok_text", &c.ok_text),
                    ("dismiss_text", &c.dismiss_text),
                ] {
                    out.text(&format!("actions[{i}].confirm.{name}"), Some(value));
                }
            }
        }
    }
}
