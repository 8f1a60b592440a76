//! The web config file's fields, checked into [`WebSettings`].

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::WebSettings;
use super::basic_auth::BasicAuth;
use super::tls::{ClientAuth, TlsVersion, server_config};
use crate::config::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfigFile {
    #[serde(default)]
    tls_server_config: Option<TlsServerConfig>,
    #[serde(default)]
    http_server_config: Option<HttpServerConfig>,
    /// User name → bcrypt hash of the password.
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

/// exporter-toolkit's `tls_server_config` (also the server half of
/// Alertmanager's `--cluster.tls-config`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsServerConfig {
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    max_version: Option<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    /// Ignored by Go itself since 1.18; accepted so such files load.
    #[serde(default)]
    #[allow(dead_code)]
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpServerConfig {
    /// Whether HTTP/2 may be offered. klaxon serves HTTP/1.1 only, which
    /// every client of Alertmanager's API speaks, so either value is met.
    #[serde(default)]
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The headers exporter-toolkit lets a web config set.
const SETTABLE_HEADERS: [&str; 5] = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
];

impl WebConfigFile {
    /// Relative file names are taken from `dir`, the web config's own
    /// directory, as exporter-toolkit does.
    pub fn settings(self, dir: &Path) -> Result<WebSettings, ConfigError> {
        let tls = match self.tls_server_config {
            Some(t) if !t.is_empty() => Some(t.checked(dir)?),
            _ => None,
        };
        let auth = if self.basic_auth_users.is_empty() {
            None
        } else {
            Some(BasicAuth::new(self.basic_auth_users)?)
        };
        let headers = match self.http_server_config {
            Some(h) => checked_headers(h.headers)?,
            None => Vec::new(),
        };
        Ok(WebSettings { tls, auth, headers })
    }
}

impl TlsServerConfig {
    /// An empty block (all defaults) leaves TLS off, as in exporter-toolkit.
    fn is_empty(&self) -> bool {
        self.cert_file.is_empty()
            && self.key_file.is_empty()
            && self.client_auth_type.is_empty()
            && self.client_ca_file.is_empty()
    }

    pub(crate) fn checked(
        self,
        dir: &Path,
    ) -> Result<std::sync::Arc<rustls::ServerConfig>, ConfigError> {
        let field = |name: &str| format!("tls_server_config.{name}");
        if self.cert_file.is_empty() {
            return Err(ConfigError::at(field("cert_file"), "missing cert_file"));
        }
        if self.key_file.is_empty() {
            return Err(ConfigError::at(field("key_file"), "missing key_file"));
        }
        // These narrow what a client may use; ignoring them would serve
        // more than the file allows.
        for (name, set) in [
            ("cipher_suites", !self.cipher_suites.is_empty()),
            ("curve_preferences", !self.curve_preferences.is_empty()),
            ("client_allowed_sans", !self.client_allowed_sans.is_empty()),
        ] {
            if set {
                return Err(ConfigError::at(
                    field(name),
                    format!(
                        "{name} is not supported by klaxon yet; remove it to use rustls' defaults"
                    ),
                ));
            }
        }
        let client_auth = ClientAuth::parse(&self.client_auth_type)
            .map_err(|m| ConfigError::at(field("client_auth_type"), m))?;
        if !self.client_ca_file.is_empty() && !client_auth.verifies() {
            return Err(ConfigError::at(
                field("client_ca_file"),
                "client CAs are configured without a client_auth_type that verifies them",
            ));
        }
        if client_auth.verifies() && self.client_ca_file.is_empty() {
            return Err(ConfigError::at(
                field("client_ca_file"),
                format!(
                    "client_auth_type {} needs client_ca_file",
                    self.client_auth_type
                ),
            ));
        }
        let version = |name: &str, v: &Option<String>| {
            v.as_deref()
                .map(TlsVersion::parse)
                .transpose()
                .map_err(|m| ConfigError::at(field(name), m))
        };
        let min = version("min_version", &self.min_version)?;
        let max = version("max_version", &self.max_version)?;
        let file = |name: &str| dir.join(name);
        server_config(
            &file(&self.cert_file),
            &file(&self.key_file),
            client_auth,
            &file(&self.client_ca_file),
            min,
            max,
        )
        .map_err(|(name, m)| ConfigError::at(field(name), m))
    }
}

fn checked_headers(
    headers: BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let field = format!("http_server_config.headers.{name}");
            let Some(known) = SETTABLE_HEADERS
                .iter()
                .find(|h| h.eq_ignore_ascii_case(&name))
            else {
                return Err(ConfigError::at(
                    field,
                    format!(
                        "header {name:?} cannot be set; allowed: {}",
                        SETTABLE_HEADERS.join(", ")
                    ),
                ));
            };
            // The values exporter-toolkit allows for these two.
            let allowed: &[&str] = match *known {
                "X-Frame-Options" => &["deny", "sameorigin"],
                "X-Content-Type-Options" => &["nosniff"],
                _ => &[],
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                return Err(ConfigError::at(
                    field,
                    format!("{known} must be one of: {}", allowed.join(", ")),
                ));
            }
            let value = HeaderValue::from_str(&value)
                .map_err(|_| ConfigError::at(&field, "not a valid header value"))?;
            let name = HeaderName::from_bytes(known.as_bytes()).expect("a valid header name");
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::WebSettings;

    fn load(text: &str) -> Result<WebSettings, crate::config::ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        std::fs::write(&path, text).unwrap();
        WebSettings::load(&path)
    }

    fn error(text: &str) -> (Option<u64>, Option<String>, String) {
        let e = load(text).expect_err("refused");
        (e.line, e.field, e.message)
    }

    #[test]
    fn an_empty_file_or_empty_tls_block_serves_plain_http() {
        let s = load("").unwrap();
        assert!(s.tls.is_none() && s.auth.is_none() && s.headers.is_empty());
        let s = load("tls_server_config: {}\n").unwrap();
        assert!(s.tls.is_none());
    }

    #[test]
    fn unknown_fields_are_refused_with_their_line() {
        let (line, _, message) = error("tls_server_config:\n  cert_fil: a.pem\n");
        assert_eq!(line, Some(2));
        assert!(message.contains("cert_fil"), "{message}");
    }

    #[test]
    fn tls_needs_both_files_and_a_coherent_client_policy() {
        let (line, field, _) = error("tls_server_config:\n  cert_file: a.pem\n");
        assert_eq!(field.as_deref(), Some("tls_server_config.key_file"));
        assert_eq!(line, Some(1));
        let (line, field, _) = error(
            "tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n  client_ca_file: ca.pem\n",
        );
        assert_eq!(field.as_deref(), Some("tls_server_config.client_ca_file"));
        assert_eq!(line, Some(4));
        let (_, field, message) = error(
            "tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n  client_auth_type: RequireAnyClientCert\n",
        );
        assert_eq!(field.as_deref(), Some("tls_server_config.client_auth_type"));
        assert!(message.contains("not supported"), "{message}");
        let (_, field, _) = error(
            "tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
        );
        assert_eq!(field.as_deref(), Some("tls_server_config.cipher_suites"));
        let (_, field, _) = error(
            "tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n  max_version: TLS11\n",
        );
        assert_eq!(field.as_deref(), Some("tls_server_config.max_version"));
    }

    #[test]
    fn a_missing_certificate_file_is_named() {
        let (_, field, message) = error(
            "tls_server_config:\n  cert_file: /nonexistent/a.pem\n  key_file: /nonexistent/a.key\n",
        );
        assert_eq!(field.as_deref(), Some("tls_server_config.cert_file"));
        assert!(message.contains("/nonexistent/a.pem"), "{message}");
    }

    #[test]
    fn only_exporter_toolkits_headers_may_be_set() {
        let s = load("http_server_config:\n  headers:\n    x-frame-options: deny\n").unwrap();
        assert_eq!(s.headers[0].0.as_str(), "x-frame-options");
        let (line, field, _) = error("http_server_config:\n  headers:\n    Server: klaxon\n");
        assert_eq!(field.as_deref(), Some("http_server_config.headers.Server"));
        assert_eq!(line, Some(3));
        let (_, field, message) =
            error("http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n");
        assert_eq!(
            field.as_deref(),
            Some("http_server_config.headers.X-Frame-Options")
        );
        assert!(message.contains("deny, sameorigin"), "{message}");
    }
}
