//! `victorops_configs`: Splunk On-Call (VictorOps) REST endpoint, with
//! `global.victorops_api_key(_file)` and `global.victorops_api_url`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_required_url};
use crate::config::{ConfigError, GlobalConfig, Secret};

/// Payload fields a custom field may not replace (Alertmanager's list).
const RESERVED_FIELDS: [&str; 7] = [
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
];

/// `victorops_configs` entry. Texts left out are `victorops.default.*`;
/// `message_type` defaults to `CRITICAL`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VictorOpsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_tool: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
}

impl IntegrationConfig for VictorOpsConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.victorops_api_url.clone());
        }
        if let Some(url) = self.api_url.as_mut()
            && !url.ends_with('/')
        {
            url.push('/');
        }
        if self.api_key.is_none() && self.api_key_file.is_none() {
            self.api_key = g.victorops_api_key.clone();
            self.api_key_file = g.victorops_api_key_file.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.routing_key.is_empty() {
            return Err(ConfigError::at(
                format!("{at}.routing_key"),
                "missing Routing key in VictorOps config",
            ));
        }
        at_most_one(
            at,
            ("api_key", self.api_key.as_ref()),
            ("api_key_file", self.api_key_file.as_ref()),
        )?;
        for field in RESERVED_FIELDS {
            if self.custom_fields.contains_key(field) {
                return Err(ConfigError::at(
                    format!("{at}.custom_fields.{field}"),
                    format!(
                        "victorOps config contains custom field {field} which cannot be used as it conflicts with the fixed/static fields"
                    ),
                ));
            }
        }
        if self.api_key.is_none() && self.api_key_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.api_key"),
                "no global VictorOps API Key set",
            ));
        }
        check_required_url(
            at,
            "api_url",
            self.api_url.as_ref(),
            "no global VictorOps URL set",
        )?;
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("api_key_file", &mut self.api_key_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        out.text("routing_key", Some(&self.routing_key));
        for (name, value) in [
            ("message_type", &self.message_type),
            ("state_message", &self.state_message),
            ("entity_display_name", &self.entity_display_name),
            ("monitoring_tool", &self.monitoring_tool),
        ] {
            out.text(name, value.as_ref());
        }
        out.map("custom_fields", &self.custom_fields);
    }
}
