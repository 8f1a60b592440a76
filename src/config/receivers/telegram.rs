//! `telegram_configs`: a bot's `sendMessage`, with `global.telegram_*`
//! defaults.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_url};
use crate::config::{ConfigError, GlobalConfig, Secret};
use crate::template::Flavor;

/// `telegram_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chat_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id_file: Option<String>,
    /// A forum topic of the chat.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub message_thread_id: i64,
    /// Go template; `None` means `telegram.default.message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_notifications: bool,
    /// `HTML` (the default), `Markdown`, `MarkdownV2`, or empty for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl TelegramConfig {
    pub fn parse_mode(&self) -> &str {
        self.parse_mode.as_deref().unwrap_or("HTML")
    }
}

impl IntegrationConfig for TelegramConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.telegram_api_url.clone());
        }
        if self.bot_token.is_none() && self.bot_token_file.is_none() {
            self.bot_token = g.telegram_bot_token.clone();
            self.bot_token_file = g.telegram_bot_token_file.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        at_most_one(
            at,
            ("bot_token", self.bot_token.as_ref()),
            ("bot_token_file", self.bot_token_file.as_ref()),
        )?;
        if self.chat_id == 0 && self.chat_id_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.chat_id"),
                "missing chat_id or chat_id_file on telegram_config",
            ));
        }
        if self.chat_id != 0 && self.chat_id_file.is_some() {
            return Err(ConfigError::at(
                at,
                "at most one of chat_id & chat_id_file must be configured",
            ));
        }
        if !["", "Markdown", "MarkdownV2", "HTML"].contains(&self.parse_mode()) {
            return Err(ConfigError::at(
                format!("{at}.parse_mode"),
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string",
            ));
        }
        if self.bot_token.is_none() && self.bot_token_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.bot_token"),
                "missing bot_token or bot_token_file on telegram_config",
            ));
        }
        if let Some(url) = &self.api_url {
            check_url(url).map_err(|m| ConfigError::at(format!("{at}.api_url"), m))?;
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("bot_token_file", &mut self.bot_token_file);
        out.push("chat_id_file", &mut self.chat_id_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        // HTML mode escapes what the template inserts, as Alertmanager's
        // html/template does.
        let flavor = if self.parse_mode() == "HTML" {
            Flavor::Html
        } else {
            Flavor::Text
        };
        out.push("message", self.message.as_ref(), flavor);
    }
}
