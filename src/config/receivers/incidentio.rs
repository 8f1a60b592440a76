//! `incidentio_configs`: incident.io's Alertmanager alert source (the
//! webhook payload, version 1), authenticated with the source's token.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_secret_url, one_of};
use crate::config::{ConfigError, Duration, Secret};

/// `incidentio_configs` entry. Exactly one of `url` / `url_file`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentioConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    /// Secret: incident.io's alert source URLs carry the source's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_source_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_source_token_file: Option<String>,
    /// Most alerts per message; 0 means all.
    #[serde(default)]
    pub max_alerts: u64,
    /// Per-request timeout; 0s or absent means none beyond the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl IncidentioConfig {
    pub fn has_token(&self) -> bool {
        self.alert_source_token.is_some() || self.alert_source_token_file.is_some()
    }
}

impl IntegrationConfig for IncidentioConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.url.is_some() && self.url_file.is_some() {
            return Err(ConfigError::at(
                at,
                "at most one of url & url_file must be configured",
            ));
        }
        one_of(
            at,
            ("url", self.url.as_ref()),
            ("url_file", self.url_file.as_ref()),
        )?;
        at_most_one(
            at,
            ("alert_source_token", self.alert_source_token.as_ref()),
            (
                "alert_source_token_file",
                self.alert_source_token_file.as_ref(),
            ),
        )?;
        if self.has_token() && self.http_config.authorization.is_some() {
            return Err(ConfigError::at(
                format!("{at}.http_config.authorization"),
                "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization",
            ));
        }
        check_secret_url(at, "url", self.url.as_ref())?;
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("url_file", &mut self.url_file);
        out.push("alert_source_token_file", &mut self.alert_source_token_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, _out: &mut TemplatedFields<'a>) {}
}
