//! `webex_configs`: a Webex room message through the Messages API, with
//! `global.webex_api_url`; the bot token is `http_config.authorization`.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_required_url};
use crate::config::{ConfigError, GlobalConfig};

/// `webex_configs` entry; `message` left out is `webex.default.message`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebexConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub room_id: String,
}

impl IntegrationConfig for WebexConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.webex_api_url.clone());
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.room_id.is_empty() {
            return Err(ConfigError::at(
                format!("{at}.room_id"),
                "missing room_id on webex_config",
            ));
        }
        if self.http_config.authorization.is_none() {
            return Err(ConfigError::at(
                format!("{at}.http_config.authorization"),
                "missing webex_configs.http_config.authorization",
            ));
        }
        check_required_url(
            at,
            "api_url",
            self.api_url.as_ref(),
            "no global Webex URL set",
        )?;
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        out.text("message", self.message.as_ref());
        out.text("room_id", Some(&self.room_id));
    }
}
