//! `--cluster.tls-config`: Alertmanager's file for its cluster's mutual
//! TLS — `tls_server_config` (exporter-toolkit's, as in a web config) for
//! the cluster port, `tls_client_config` (prometheus/common's) for the
//! messages to the other replicas. Relative paths are relative to the file.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::{ConfigError, HttpConfig, TlsConfig};
use crate::web::{LiveWeb, WebSettings};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<crate::web::config::TlsServerConfig>,
    tls_client_config: Option<TlsConfig>,
}

/// The cluster port's TLS and the client that speaks it to the others.
pub struct ClusterTls {
    pub server: Arc<LiveWeb>,
    pub client: reqwest::Client,
}

pub fn load(path: &Path) -> Result<ClusterTls, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::in_file(path, format!("cannot read the cluster TLS config: {e}"))
    })?;
    let file: File = crate::config::parse_yaml(&text, path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let located = |e: ConfigError| e.located(path, &text);
    let server = file.tls_server_config.ok_or_else(|| {
        ConfigError::in_file(
            path,
            "missing 'tls_server_config' entry in the TLS configuration",
        )
    })?;
    let mut client_tls = file.tls_client_config.ok_or_else(|| {
        ConfigError::in_file(
            path,
            "missing 'tls_client_config' entry in the TLS configuration",
        )
    })?;
    let server = server.checked(dir).map_err(located)?;
    for file in [
        &mut client_tls.ca_file,
        &mut client_tls.cert_file,
        &mut client_tls.key_file,
    ]
    .into_iter()
    .flatten()
    {
        *file = dir.join(&*file).to_string_lossy().into_owned();
    }
    let http = HttpConfig {
        tls_config: Some(client_tls),
        ..HttpConfig::default()
    };
    let client = crate::http_client::client(&http, "klaxon-cluster", None)
        .map_err(|e| ConfigError::in_file(path, format!("tls_client_config: {e}")))?;
    Ok(ClusterTls {
        server: LiveWeb::new(
            None,
            WebSettings {
                tls: Some(server),
                ..WebSettings::default()
            },
        ),
        client,
    })
}
