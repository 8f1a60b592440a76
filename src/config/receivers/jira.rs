//! `jira_configs`: one Jira issue per alert group, found again by a label
//! derived from the group key, with `global.jira_api_url`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{check_http, check_required_url};
use crate::config::{ConfigError, Duration, GlobalConfig};

/// `jira_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    /// The REST API root, e.g. `https://x.atlassian.net/rest/api/2/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// `auto` (the default), `cloud` or `datacenter`: which search
    /// endpoint is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_type: Option<String>,
    #[serde(default)]
    pub project: String,
    #[serde(default, skip_serializing_if = "JiraField::is_default")]
    pub summary: JiraField,
    #[serde(default, skip_serializing_if = "JiraField::is_default")]
    pub description: JiraField,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default)]
    pub issue_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopen_transition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_transition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wont_fix_resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopen_duration: Option<Duration>,
    /// Other issue fields (custom fields by ID); every string is a template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// `summary` / `description`: a template, written alone or with
/// `enable_update: false` to leave the field alone on existing issues.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(from = "JiraFieldInput")]
pub struct JiraField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_update: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JiraFieldInput {
    Template(String),
    Full {
        #[serde(default)]
        template: Option<String>,
        #[serde(default)]
        enable_update: Option<bool>,
    },
}

impl From<JiraFieldInput> for JiraField {
    fn from(input: JiraFieldInput) -> Self {
        match input {
            JiraFieldInput::Template(t) => JiraField {
                template: Some(t),
                enable_update: None,
            },
            JiraFieldInput::Full {
                template,
                enable_update,
            } => JiraField {
                template,
                enable_update,
            },
        }
    }
}

impl JiraField {
    fn is_default(&self) -> bool {
        *self == JiraField::default()
    }

    /// Whether an existing issue gets this field too (the default).
    pub fn updates(&self) -> bool {
        self.enable_update.unwrap_or(true)
    }
}

impl JiraConfig {
    pub fn api_type(&self) -> &str {
        self.api_type.as_deref().unwrap_or("auto")
    }
}

impl IntegrationConfig for JiraConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = g.jira_api_url.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.project.is_empty() {
            return Err(ConfigError::at(
                format!("{at}.project"),
                "missing project in jira_config",
            ));
        }
        if self.issue_type.is_empty() {
            return Err(ConfigError::at(
                format!("{at}.issue_type"),
                "missing issue_type in jira_config",
            ));
        }
        if !["auto", "cloud", "datacenter"].contains(&self.api_type()) {
            return Err(ConfigError::at(
                format!("{at}.api_type"),
                "unknown api_type on jira_config, must be auto, cloud or datacenter",
            ));
        }
        check_required_url(
            at,
            "api_url",
            self.api_url.as_ref(),
            "no global Jira Cloud URL set",
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
        out.text("project", Some(&self.project));
        out.text("issue_type", Some(&self.issue_type));
        out.text("summary", self.summary.template.as_ref());
        out.text("description", self.description.template.as_ref());
        out.text("priority", self.priority.as_ref());
        for (i, l) in self.labels.iter().enumerate() {
            out.text(&format!("labels[{i}]"), Some(l));
        }
        for (name, value) in &self.fields {
            out.json(&format!("fields.{name}"), value);
        }
    }
}
