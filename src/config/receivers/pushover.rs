//! `pushover_configs`: Pushover's message API.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_url, one_of};
use crate::config::{ConfigError, Duration, Secret};
use crate::template::Flavor;

/// Pushover's endpoint.
pub const PUSHOVER_API_URL: &str = "https://api.pushover.net/1/messages.json";

/// `pushover_configs` entry. Texts left out are `pushover.default.*`;
/// priority is 2 (emergency) while firing and 0 when resolved.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The supplementary URL shown with the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// How often an emergency message is repeated (default 1m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Duration>,
    /// How long an emergency message is repeated (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub html: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub monospace: bool,
    /// klaxon's addition: another endpoint (a proxy, a test service);
    /// Pushover's own by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

impl PushoverConfig {
    pub fn retry(&self) -> Duration {
        self.retry.unwrap_or(Duration::from_secs(60))
    }

    pub fn expire(&self) -> Duration {
        self.expire.unwrap_or(Duration::from_secs(3600))
    }
}

impl IntegrationConfig for PushoverConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        one_of(
            at,
            ("user_key", self.user_key.as_ref()),
            ("user_key_file", self.user_key_file.as_ref()),
        )?;
        one_of(
            at,
            ("token", self.token.as_ref()),
            ("token_file", self.token_file.as_ref()),
        )?;
        if self.html && self.monospace {
            return Err(ConfigError::at(
                at,
                "at most one of monospace & html must be configured",
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
        out.push("user_key_file", &mut self.user_key_file);
        out.push("token_file", &mut self.token_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        for (name, value) in [
            ("title", &self.title),
            ("url", &self.url),
            ("url_title", &self.url_title),
            ("device", &self.device),
            ("sound", &self.sound),
            ("priority", &self.priority),
        ] {
            out.text(name, value.as_ref());
        }
        let flavor = if self.html {
            Flavor::Html
        } else {
            Flavor::Text
        };
        out.push("message", self.message.as_ref(), flavor);
    }
}
