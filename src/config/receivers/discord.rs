//! `discord_configs`: Discord webhooks.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_secret_url, one_of};
use crate::config::{ConfigError, Secret};

/// `discord_configs` entry. Exactly one of `webhook_url` / `webhook_url_file`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    /// Go templates; `None` means Alertmanager's default template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

impl IntegrationConfig for DiscordConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        one_of(
            at,
            ("webhook_url", self.webhook_url.as_ref()),
            ("webhook_url_file", self.webhook_url_file.as_ref()),
        )?;
        check_secret_url(at, "webhook_url", self.webhook_url.as_ref())?;
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
        out.text("title", self.title.as_ref());
        out.text("message", self.message.as_ref());
        out.text("content", self.content.as_ref());
    }
}
