//! `*_file` fields: resolved against the config file's directory, and
//! checked the way Alertmanager treats them.
//!
//! A secret file (`url_file`, `password_file`, `bot_token_file`, …) is read
//! each time a notification is sent, so one that is missing at load (a
//! secret mounted after start) is only a warning: Alertmanager starts on
//! such a config too. TLS files are read when the HTTP client is built, so
//! a missing one is a config error.

use std::path::Path;

use super::receivers::FileFields;
use super::{Config, ConfigError};

/// Resolves every `*_file` to an absolute path, warns about a missing
/// secret file and refuses a missing TLS file.
pub(super) fn check_files(config: &mut Config, base: &Path) -> Result<(), ConfigError> {
    let mut found = FileFields::new();
    let g = &mut config.global;
    found.under("global");
    found.push("smtp_auth_password_file", &mut g.smtp_auth_password_file);
    found.push("smtp_auth_secret_file", &mut g.smtp_auth_secret_file);
    found.push("slack_api_url_file", &mut g.slack_api_url_file);
    found.push("slack_app_token_file", &mut g.slack_app_token_file);
    found.push("opsgenie_api_key_file", &mut g.opsgenie_api_key_file);
    found.push("wechat_api_secret_file", &mut g.wechat_api_secret_file);
    found.push("victorops_api_key_file", &mut g.victorops_api_key_file);
    found.push("telegram_bot_token_file", &mut g.telegram_bot_token_file);
    found.push("rocketchat_token_file", &mut g.rocketchat_token_file);
    found.push("rocketchat_token_id_file", &mut g.rocketchat_token_id_file);
    found.push(
        "mattermost_webhook_url_file",
        &mut g.mattermost_webhook_url_file,
    );
    found.tls("smtp_tls_config", g.smtp_tls_config.as_mut());
    found.http("http_config", &mut g.http_config);
    for (i, r) in config.receivers.iter_mut().enumerate() {
        for (path, c) in r.integrations_mut() {
            found.under(&format!("receivers[{i}].{path}"));
            c.files(&mut found);
        }
    }
    for (i, w) in config.event_recorder.webhook_outputs.iter_mut().enumerate() {
        if let Some(h) = w.http_config.as_mut() {
            found.under(&format!("event_recorder.webhook_outputs[{i}]"));
            found.http("http_config", h);
        }
    }
    for (i, k) in config.event_recorder.kafka_outputs.iter_mut().enumerate() {
        found.under(&format!("event_recorder.kafka_outputs[{i}]"));
        found.tls("tls_config", k.tls_config.as_mut());
    }
    // Created when missing, so only made absolute (as Alertmanager does).
    for f in &mut config.event_recorder.file_outputs {
        f.path = base.join(&f.path).to_string_lossy().into_owned();
    }
    for (field, path) in found.found {
        let full = base.join(path.as_str());
        if let Err(e) = std::fs::File::open(&full) {
            let message = format!("cannot read {}: {e}", full.display());
            if is_tls_file(&field) {
                return Err(ConfigError::at(field, message));
            }
            tracing::warn!(
                field = %field,
                file = %full.display(),
                "{message}; the file is read again at each send"
            );
        }
        *path = full.to_string_lossy().into_owned();
    }
    Ok(())
}

/// TLS files are read once, when the client is built.
fn is_tls_file(field: &str) -> bool {
    field.ends_with(".ca_file") || field.ends_with(".cert_file") || field.ends_with(".key_file")
}
