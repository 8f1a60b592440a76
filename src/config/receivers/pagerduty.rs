//! `pagerduty_configs`: PagerDuty's Events API v2 (`routing_key`) or v1
//! (`service_key`), with `global.pagerduty_url`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, yes};
use crate::config::validate::{at_most_one, check_http, check_required_url};
use crate::config::{ConfigError, Duration, GlobalConfig, Secret};

/// Alertmanager 0.34's default `details`: strings rendered as templates,
/// whose output is read back as YAML (so the lists are lists).
pub const DEFAULT_DETAILS: [(&str, &str); 4] = [
    ("firing", "{{ .Alerts.Firing | toJson }}"),
    ("resolved", "{{ .Alerts.Resolved | toJson }}"),
    ("num_firing", "{{ .Alerts.Firing | len }}"),
    ("num_resolved", "{{ .Alerts.Resolved | len }}"),
];
/// `client`'s default, which `source` also takes when left out.
pub const DEFAULT_CLIENT: &str = r#"{{ template "pagerduty.default.client" . }}"#;

/// `pagerduty_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every string (and key) is a template; the defaults above are added
    /// for keys left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<PagerdutyImage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PagerdutyLink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Per-request timeout; 0s or absent means none beyond the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyImage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alt: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub href: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyLink {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub href: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl PagerdutyConfig {
    /// Events API v1 when a service key is configured.
    pub fn is_v1(&self) -> bool {
        self.service_key.is_some() || self.service_key_file.is_some()
    }
}

impl IntegrationConfig for PagerdutyConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.url.is_none() {
            self.url = Some(g.pagerduty_url.clone());
        }
        if self.source.is_none() {
            self.source = Some(self.client.clone().unwrap_or_else(|| DEFAULT_CLIENT.into()));
        }
        for (k, v) in DEFAULT_DETAILS {
            self.details
                .entry(k.to_owned())
                .or_insert_with(|| serde_json::Value::String(v.to_owned()));
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.routing_key.is_none()
            && self.service_key.is_none()
            && self.routing_key_file.is_none()
            && self.service_key_file.is_none()
        {
            return Err(ConfigError::at(
                format!("{at}.routing_key"),
                "missing service or routing key in PagerDuty config",
            ));
        }
        at_most_one(
            at,
            ("routing_key", self.routing_key.as_ref()),
            ("routing_key_file", self.routing_key_file.as_ref()),
        )?;
        at_most_one(
            at,
            ("service_key", self.service_key.as_ref()),
            ("service_key_file", self.service_key_file.as_ref()),
        )?;
        check_required_url(at, "url", self.url.as_ref(), "no global PagerDuty URL set")?;
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("service_key_file", &mut self.service_key_file);
        out.push("routing_key_file", &mut self.routing_key_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        for (name, value) in [
            ("client", &self.client),
            ("client_url", &self.client_url),
            ("description", &self.description),
            ("source", &self.source),
            ("severity", &self.severity),
            ("class", &self.class),
            ("component", &self.component),
            ("group", &self.group),
        ] {
            out.text(name, value.as_ref());
        }
        for (i, img) in self.images.iter().enumerate() {
            out.text(&format!("images[{i}].src"), Some(&img.src));
            out.text(&format!("images[{i}].alt"), Some(&img.alt));
            out.text(&format!("images[{i}].href"), Some(&img.href));
        }
        for (i, l) in self.links.iter().enumerate() {
            out.text(&format!("links[{i}].href"), Some(&l.href));
            out.text(&format!("links[{i}].text"), Some(&l.text));
        }
        for (name, value) in &self.details {
            out.json(&format!("details.{name}"), value);
        }
    }
}
