//! `*_file` fields: each must name a readable file when the config loads.

use std::path::Path;

use super::{Config, ConfigError, HttpConfig, TlsConfig};

/// Every `*_file` must exist and be readable now. Relative paths are
/// resolved against the config file's directory and stored absolute.
pub(super) fn check_files(config: &mut Config, base: &Path) -> Result<(), ConfigError> {
    let mut files: Vec<(String, &mut String)> = Vec::new();
    let g = &mut config.global;
    push(
        &mut files,
        "global.smtp_auth_password_file",
        &mut g.smtp_auth_password_file,
    );
    push(
        &mut files,
        "global.smtp_auth_secret_file",
        &mut g.smtp_auth_secret_file,
    );
    tls_files(
        &mut files,
        "global.smtp_tls_config",
        g.smtp_tls_config.as_mut(),
    );
    http_files(&mut files, "global.http_config", &mut g.http_config);
    for (i, r) in config.receivers.iter_mut().enumerate() {
        for (j, w) in r.webhook_configs.iter_mut().enumerate() {
            let at = format!("receivers[{i}].webhook_configs[{j}]");
            push(&mut files, &format!("{at}.url_file"), &mut w.url_file);
            http_files(&mut files, &format!("{at}.http_config"), &mut w.http_config);
        }
        for (j, d) in r.discord_configs.iter_mut().enumerate() {
            let at = format!("receivers[{i}].discord_configs[{j}]");
            push(
                &mut files,
                &format!("{at}.webhook_url_file"),
                &mut d.webhook_url_file,
            );
            http_files(&mut files, &format!("{at}.http_config"), &mut d.http_config);
        }
        for (j, e) in r.email_configs.iter_mut().enumerate() {
            let at = format!("receivers[{i}].email_configs[{j}]");
            push(
                &mut files,
                &format!("{at}.auth_password_file"),
                &mut e.auth_password_file,
            );
            push(
                &mut files,
                &format!("{at}.auth_secret_file"),
                &mut e.auth_secret_file,
            );
            tls_files(
                &mut files,
                &format!("{at}.tls_config"),
                e.tls_config.as_mut(),
            );
        }
    }
    for (field, path) in files {
        let full = base.join(path.as_str());
        if let Err(e) = std::fs::File::open(&full) {
            return Err(ConfigError::at(
                field,
                format!("cannot read {}: {e}", full.display()),
            ));
        }
        *path = full.to_string_lossy().into_owned();
    }
    Ok(())
}

fn push<'a>(files: &mut Vec<(String, &'a mut String)>, field: &str, value: &'a mut Option<String>) {
    if let Some(v) = value.as_mut() {
        files.push((field.to_owned(), v));
    }
}

fn tls_files<'a>(
    files: &mut Vec<(String, &'a mut String)>,
    at: &str,
    tls: Option<&'a mut TlsConfig>,
) {
    if let Some(t) = tls {
        push(files, &format!("{at}.ca_file"), &mut t.ca_file);
        push(files, &format!("{at}.cert_file"), &mut t.cert_file);
        push(files, &format!("{at}.key_file"), &mut t.key_file);
    }
}

fn http_files<'a>(files: &mut Vec<(String, &'a mut String)>, at: &str, h: &'a mut HttpConfig) {
    if let Some(b) = h.basic_auth.as_mut() {
        push(
            files,
            &format!("{at}.basic_auth.password_file"),
            &mut b.password_file,
        );
    }
    if let Some(a) = h.authorization.as_mut() {
        push(
            files,
            &format!("{at}.authorization.credentials_file"),
            &mut a.credentials_file,
        );
    }
    push(
        files,
        &format!("{at}.bearer_token_file"),
        &mut h.bearer_token_file,
    );
    tls_files(files, &format!("{at}.tls_config"), h.tls_config.as_mut());
}
