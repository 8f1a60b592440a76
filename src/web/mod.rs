//! `--web.config.file`: TLS on the listener, basic-auth users and extra
//! response headers, in the format Prometheus' exporter-toolkit reads (the
//! file Alertmanager takes with the same flag).

mod basic_auth;
pub(crate) mod config;
mod tls;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

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
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::in_file(path, format!("cannot read the web config: {e}")))?;
        let file: config::WebConfigFile = crate::config::parse_yaml(&text, path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        file.settings(dir).map_err(|e| e.located(path, &text))
    }
}

/// The web settings in force, swapped whole by a reload (SIGHUP or
/// `/-/reload`), so that rotated certificates and changed passwords apply
/// without a restart.
pub struct LiveWeb {
    file: Option<PathBuf>,
    current: RwLock<Arc<WebSettings>>,
}

impl std::fmt::Debug for LiveWeb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveWeb")
            .field("file", &self.file)
            .field("current", &self.current())
            .finish()
    }
}

impl LiveWeb {
    /// Plain HTTP without authentication, and nothing to reload.
    pub fn none() -> Arc<Self> {
        Self::new(None, WebSettings::default())
    }

    /// `settings` as loaded from `file`, which a reload reads again.
    pub fn new(file: Option<PathBuf>, settings: WebSettings) -> Arc<Self> {
        Arc::new(Self {
            file,
            current: RwLock::new(Arc::new(settings)),
        })
    }

    pub fn current(&self) -> Arc<WebSettings> {
        self.current.read().expect("web settings lock").clone()
    }

    /// Reads the file again; on an error the running settings stay. The
    /// listener is either TLS or not for the life of the process.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let next = WebSettings::load(path)?;
        if next.tls.is_some() != self.current().tls.is_some() {
            return Err(ConfigError {
                field: Some("tls_server_config".into()),
                ..ConfigError::in_file(
                    path,
                    "TLS cannot be turned on or off by a reload; restart klaxon",
                )
            });
        }
        *self.current.write().expect("web settings lock") = Arc::new(next);
        Ok(())
    }

    /// Checks credentials and adds headers around every route of
    /// `router`, the fallback included; headers go on refusals too.
    pub fn wrap(self: &Arc<Self>, router: Router) -> Router {
        if self.file.is_none() {
            return router;
        }
        let live = self.clone();
        router.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let live = live.clone();
                async move { live.serve(req, next).await }
            },
        ))
    }

    async fn serve(&self, req: Request, next: Next) -> Response {
        let settings = self.current();
        let allowed = match &settings.auth {
            Some(auth) => auth.allows(req.headers()).await,
            None => true,
        };
        let mut response = if allowed {
            next.run(req).await
        } else {
            basic_auth::unauthorized()
        };
        for (name, value) in &settings.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}
