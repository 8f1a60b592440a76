//! `opsgenie_configs`: Opsgenie's Alert API v2, with
//! `global.opsgenie_api_key(_file)` and `global.opsgenie_api_url`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_required_url};
use crate::config::{ConfigError, GlobalConfig, Secret};

/// Responder types Alertmanager accepts (a templated type is checked by
/// Opsgenie when sent).
const RESPONDER_TYPES: [&str; 5] = ["team", "teams", "user", "escalation", "schedule"];

/// `opsgenie_configs` entry. Texts left out are `opsgenie.default.*`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieConfig {
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsgenieResponder>,
    /// Comma-separated, after templating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
    /// Comma-separated, after templating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Also update the message and description of an alert Opsgenie
    /// already has for the group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update_alerts: bool,
}

/// One responder: at least one of `id`, `name`, `username`; `type`
/// `teams` takes a comma-separated list of team names.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieResponder {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl IntegrationConfig for OpsgenieConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.opsgenie_api_url.clone());
        }
        if let Some(url) = self.api_url.as_mut()
            && !url.ends_with('/')
        {
            url.push('/');
        }
        if self.api_key.is_none() && self.api_key_file.is_none() {
            self.api_key = g.opsgenie_api_key.clone();
            self.api_key_file = g.opsgenie_api_key_file.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        at_most_one(
            at,
            ("api_key", self.api_key.as_ref()),
            ("api_key_file", self.api_key_file.as_ref()),
        )?;
        for (i, r) in self.responders.iter().enumerate() {
            let at = format!("{at}.responders[{i}]");
            if r.id.is_empty() && r.username.is_empty() && r.name.is_empty() {
                return Err(ConfigError::at(
                    at,
                    "opsGenieConfig responder has to have at least one of id, username or name specified",
                ));
            }
            if !r.kind.contains("{{") && !RESPONDER_TYPES.contains(&r.kind.to_lowercase().as_str())
            {
                return Err(ConfigError::at(
                    format!("{at}.type"),
                    format!(
                        "opsGenieConfig responder type {:?} does not match valid options ^(team|teams|user|escalation|schedule)$",
                        r.kind
                    ),
                ));
            }
        }
        if self.api_key.is_none() && self.api_key_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.api_key"),
                "no global OpsGenie API Key set either inline or in a file",
            ));
        }
        check_required_url(
            at,
            "api_url",
            self.api_url.as_ref(),
            "no global OpsGenie URL set",
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
        for (name, value) in [
            ("message", &self.message),
            ("description", &self.description),
            ("source", &self.source),
            ("entity", &self.entity),
            ("actions", &self.actions),
            ("tags", &self.tags),
            ("note", &self.note),
            ("priority", &self.priority),
        ] {
            out.text(name, value.as_ref());
        }
        out.map("details", &self.details);
        for (i, r) in self.responders.iter().enumerate() {
            for (name, value) in [
                ("id", &r.id),
                ("name", &r.name),
                ("username", &r.username),
                ("type", &r.kind),
            ] {
                out.text(&format!("responders[{i}].{name}"), Some(value));
            }
        }
    }
}
