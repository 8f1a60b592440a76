//! `msteams_configs` (Office 365 connector webhooks, message cards) and
//! `msteamsv2_configs` (Workflows / Power Automate webhooks, adaptive
//! cards): a webhook URL and templated texts.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_secret_url, one_of};
use crate::config::{ConfigError, Secret};

/// `msteams_configs` entry. Exactly one of `webhook_url` /
/// `webhook_url_file`; texts left out are `msteams.default.*`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `msteamsv2_configs` entry; texts left out are `msteamsv2.default.*`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsV2Config {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn check_webhook(
    at: &str,
    url: Option<&Secret>,
    file: Option<&String>,
    http: &HttpConfig,
) -> Result<(), ConfigError> {
    one_of(at, ("webhook_url", url), ("webhook_url_file", file))?;
    check_secret_url(at, "webhook_url", url)?;
    check_http(&format!("{at}.http_config"), http)
}

impl IntegrationConfig for MsTeamsConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        check_webhook(
            at,
            self.webhook_url.as_ref(),
            self.webhook_url_file.as_ref(),
            &self.http_config,
        )
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
        out.text("summary", self.summary.as_ref());
        out.text("text", self.text.as_ref());
    }
}

impl IntegrationConfig for MsTeamsV2Config {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        check_webhook(
            at,
            self.webhook_url.as_ref(),
            self.webhook_url_file.as_ref(),
            &self.http_config,
        )
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
        out.text("text", self.text.as_ref());
    }
}
