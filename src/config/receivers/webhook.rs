//! `webhook_configs`: Alertmanager's generic webhook (payload version 4).

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_secret_url, one_of};
use crate::config::{ConfigError, Duration, Secret};
use crate::template::Flavor;

/// `webhook_configs` entry. Exactly one of `url` / `url_file`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// Maximum alerts per message; 0 means all.
    #[serde(default)]
    pub max_alerts: u64,
    /// Per-request timeout; 0s or absent means none beyond the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Alertmanager 0.32: a custom body replacing the payload. Every string
    /// (keys too) is a template; a rendered string that reads as YAML
    /// structure (a number, a list, `toJson` output) becomes that value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

impl IntegrationConfig for WebhookConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        one_of(
            at,
            ("url", self.url.as_ref()),
            ("url_file", self.url_file.as_ref()),
        )?;
        // Alertmanager 0.31: a templated url is checked once rendered.
        if !self.templated_url() {
            check_secret_url(at, "url", self.url.as_ref())?;
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("url_file", &mut self.url_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        if let Some(payload) = &self.payload {
            out.json("payload", payload);
        }
        if self.templated_url()
            && let Some(url) = &self.url
        {
            out.raw("url".to_owned(), url.expose(), Flavor::Text);
        }
    }
}

impl WebhookConfig {
    fn templated_url(&self) -> bool {
        self.url.as_ref().is_some_and(|u| u.expose().contains("{{"))
    }
}
