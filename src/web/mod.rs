//! `--web.config.file`: TLS on the listener, basic-auth users and extra
//! response headers, in the format Prometheus' exporter-toolkit reads (the
//! file Alertmanager takes with the same flag).

mod basic_auth;
mod config;
mod tls;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};

pub use basic_auth::BasicAuth;
pub use tls::TlsListener;

use crate::config::ConfigError;

/// What the web config asks of the server; the default is plain HTTP
/// without authentication.
#[derive(Clone, Default)]
pub struct WebSettings {
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub auth: Option<BasicAuth>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Shown without keys, hashes or passwords.
impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("tls", &self.tls.is_some())
            .field("basic_auth", &self.auth.is_some())
            .field("headers", &self.headers)
            .finish()
    }
}

impl WebSettings {
    /// Reads and checks the file; every error names the file, the field
    /// and, where it can, the line.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: None,
            column: None,
            field: None,
            message: format!("cannot read the web config: {e}"),
        })?;
        let file: config::WebConfigFile = crate::config::parse_yaml(&text, path)?;
        file.settings().map_err(|e| e.located(path, &text))
    }

    /// Adds authentication and headers around `router`. Headers go on
    /// every answer, refusals included.
    pub fn wrap(&self, router: Router) -> Router {
        let router = match &self.auth {
            Some(auth) => auth.clone().wrap(router),
            None => router,
        };
        if self.headers.is_empty() {
            return router;
        }
        let headers = Arc::new(self.headers.clone());
        router.layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| {
                let headers = headers.clone();
                async move {
                    for (name, value) in headers.iter() {
                        response.headers_mut().insert(name.clone(), value.clone());
                    }
                    response
                }
            },
        ))
    }
}
