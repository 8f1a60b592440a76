//! `email_configs`: SMTP, with `global.smtp_*` defaults.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{FileFields, IntegrationConfig, TemplatedFields, is_false};
use crate::config::validate::{at_most_one, check_host_port, check_tls};
use crate::config::{ConfigError, GlobalConfig, Secret, TlsConfig};
use crate::template::Flavor;

/// `email_configs` entry. `None` fields are filled from `global.smtp_*` by
/// validation, as Alertmanager does.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smarthost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_identity: Option<String>,
    /// Header names are case-normalised at send time (Alertmanager
    /// title-cases them: `subject` and `Subject` are the same header).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// Implicit TLS (port 465 style) even on other ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_implicit_tls: Option<bool>,
    /// Alertmanager 0.30's phantom threading: every mail of one group
    /// refers to the same made-up root message, so clients thread them.
    #[serde(default, skip_serializing_if = "ThreadingConfig::is_off")]
    pub threading: ThreadingConfig,
}

/// `email_configs[].threading`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadingConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub enabled: bool,
    /// `daily` starts a new thread each day; `none` keeps one thread per
    /// group forever. Alertmanager requires one of them when enabled.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thread_by_date: String,
}

impl ThreadingConfig {
    fn is_off(&self) -> bool {
        *self == Self::default()
    }
}

impl IntegrationConfig for EmailConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        apply_smtp_globals(self, g);
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        check_email(at, self)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("auth_password_file", &mut self.auth_password_file);
        out.push("auth_secret_file", &mut self.auth_secret_file);
        out.tls("tls_config", self.tls_config.as_mut());
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        out.text("to", self.to.as_ref());
        out.text("from", self.from.as_ref());
        out.text("text", self.text.as_ref());
        out.push("html", self.html.as_ref(), Flavor::Html);
        out.map("headers", &self.headers);
    }
}

/// Alertmanager fills unset email fields from `global.smtp_*`.
fn apply_smtp_globals(e: &mut EmailConfig, g: &GlobalConfig) {
    if e.from.is_none() {
        e.from = g.smtp_from.clone();
    }
    if e.hello.is_none() {
        e.hello = Some(g.smtp_hello.clone());
    }
    if e.smarthost.is_none() {
        e.smarthost = g.smtp_smarthost.clone();
    }
    if e.auth_username.is_none() {
        e.auth_username = g.smtp_auth_username.clone();
    }
    if e.auth_password.is_none() && e.auth_password_file.is_none() {
        e.auth_password = g.smtp_auth_password.clone();
        e.auth_password_file = g.smtp_auth_password_file.clone();
    }
    if e.auth_secret.is_none() && e.auth_secret_file.is_none() {
        e.auth_secret = g.smtp_auth_secret.clone();
        e.auth_secret_file = g.smtp_auth_secret_file.clone();
    }
    if e.auth_identity.is_none() {
        e.auth_identity = g.smtp_auth_identity.clone();
    }
    if e.require_tls.is_none() {
        e.require_tls = Some(g.smtp_require_tls);
    }
    if e.tls_config.is_none() {
        e.tls_config = g.smtp_tls_config.clone();
    }
    if e.force_implicit_tls.is_none() {
        e.force_implicit_tls = g.smtp_force_implicit_tls;
    }
}

fn check_email(at: &str, e: &EmailConfig) -> Result<(), ConfigError> {
    if e.to.as_deref().unwrap_or("").is_empty() {
        return Err(ConfigError::at(
            format!("{at}.to"),
            "missing to address in email config",
        ));
    }
    if e.from.as_deref().unwrap_or("").is_empty() {
        return Err(ConfigError::at(
            format!("{at}.from"),
            "no from address: set from here or global.smtp_from",
        ));
    }
    let Some(host) = e.smarthost.as_deref().filter(|h| !h.is_empty()) else {
        return Err(ConfigError::at(
            format!("{at}.smarthost"),
            "no SMTP smarthost: set smarthost here or global.smtp_smarthost",
        ));
    };
    check_host_port(host).map_err(|m| ConfigError::at(format!("{at}.smarthost"), m))?;
    at_most_one(
        at,
        ("auth_password", e.auth_password.as_ref()),
        ("auth_password_file", e.auth_password_file.as_ref()),
    )?;
    at_most_one(
        at,
        ("auth_secret", e.auth_secret.as_ref()),
        ("auth_secret_file", e.auth_secret_file.as_ref()),
    )?;
    let mut seen = HashSet::new();
    for name in e.headers.keys() {
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(ConfigError::at(
                format!("{at}.headers"),
                format!(
                    "duplicate header {name:?} in email config (header names are case-insensitive)"
                ),
            ));
        }
    }
    if e.threading.enabled {
        // Alertmanager 0.34's checks and messages.
        for header in ["References", "In-Reply-To"] {
            if seen.contains(&header.to_ascii_lowercase()) {
                return Err(ConfigError::at(
                    format!("{at}.threading.enabled"),
                    format!(
                        "conflicting configuration: threading.enabled conflicts with custom {header} header"
                    ),
                ));
            }
        }
        if !["none", "daily"].contains(&e.threading.thread_by_date.as_str()) {
            return Err(ConfigError::at(
                format!("{at}.threading.thread_by_date"),
                "threading.thread_by_date must be either 'none' or 'daily'",
            ));
        }
    }
    if let Some(tls) = &e.tls_config {
        check_tls(&format!("{at}.tls_config"), tls)?;
    }
    Ok(())
}
