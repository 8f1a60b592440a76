//! Prometheus' `http_config` (and its TLS, auth and header parts), shared
//! by every HTTP integration and by amctl's API client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{is_false, yes};
use crate::config::Secret;

/// Prometheus' `http_config` (prometheus/common `HTTPClientConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// OAuth 2.0 client credentials: a token fetched from `token_url` and
    /// sent as a bearer credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Follow HTTP 3xx redirects (Prometheus' default: true).
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    #[serde(default = "yes")]
    pub enable_http2: bool,
    /// Extra request headers. Values are not secret-redacted beyond
    /// `Authorization`-like names being the user's business.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// prometheus/common's `http_headers`: sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, HeaderConfig>,
    /// Use `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` (off by default, as in
    /// Alertmanager: the environment is ignored unless asked for).
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    /// Comma-separated hosts, domains and CIDRs that bypass `proxy_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// Headers for the proxy's CONNECT; parsed, refused by validation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proxy_connect_header: BTreeMap<String, Vec<Secret>>,
}

/// prometheus/common's jwt-bearer grant type (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// prometheus/common's `OAuth2` (the client-credentials grant).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    /// A secret manager's name (refused: Alertmanager has no secret manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_ref: Option<String>,
    /// `client_credentials` (the default) or
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grant_type: String,
    /// jwt-bearer: the RSA private key (PEM) that signs the assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_key_ref: Option<String>,
    /// jwt-bearer: the assertion's `kid` header.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_certificate_key_id: String,
    /// jwt-bearer: RS256 (default), RS384 or RS512.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature_algorithm: String,
    /// jwt-bearer: the `iss` claim (default: `client_id`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub iss: String,
    /// jwt-bearer: the `aud` claim (default: `token_url`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    /// jwt-bearer: more claims, over the standard ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    /// TLS and proxy for the token request itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
}

/// One header of prometheus/common's `Headers` (`http_headers`, and
/// `tracing.headers`): plain values, secrets and files.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            basic_auth: None,
            authorization: None,
            bearer_token: None,
            bearer_token_file: None,
            oauth2: None,
            tls_config: None,
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
            headers: BTreeMap::new(),
            http_headers: BTreeMap::new(),
            proxy_from_environment: false,
            no_proxy: None,
            proxy_connect_header: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// The username read from a file at each request (prometheus/common).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    /// Secret-manager names (refused: Alertmanager has no secret manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(default = "bearer", rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_ref: Option<String>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The CA certificates inline (PEM), instead of `ca_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// The client certificate inline (PEM), instead of `cert_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// The client key inline (PEM), instead of `key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// `TLS10`, `TLS11`, `TLS12` or `TLS13`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// The highest version to offer, same names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Secret-manager names (refused: Alertmanager has no secret manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ref: Option<String>,
}

impl TlsConfig {
    /// The CA PEM, inline or read from `ca_file` now; the error names the
    /// field and the file.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>, (&'static str, String)> {
        pem(self.ca.as_deref(), "ca_file", self.ca_file.as_deref())
    }

    /// The client certificate and key PEMs, when configured (inline or as
    /// files, in any mix).
    #[allow(clippy::type_complexity)]
    pub fn client_pems(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>, (&'static str, String)> {
        let cert = pem(self.cert.as_deref(), "cert_file", self.cert_file.as_deref())?;
        let key = pem(
            self.key.as_ref().map(Secret::expose),
            "key_file",
            self.key_file.as_deref(),
        )?;
        match (cert, key) {
            (Some(c), Some(k)) => Ok(Some((c, k))),
            (None, None) => Ok(None),
            _ => Err((
                "cert_file",
                "a client certificate and its key must be configured together".into(),
            )),
        }
    }
}

fn pem(
    inline: Option<&str>,
    file_field: &'static str,
    file: Option<&str>,
) -> Result<Option<Vec<u8>>, (&'static str, String)> {
    match (inline, file) {
        (Some(text), _) => Ok(Some(text.as_bytes().to_vec())),
        (None, Some(path)) => std::fs::read(path)
            .map(Some)
            .map_err(|e| (file_field, format!("cannot read {path:?}: {e}"))),
        (None, None) => Ok(None),
    }
}
