//! Template compilation at load: the `templates:` files and every templated
//! field of the receivers, so that a syntax error or an unknown function is
//! a config error (with the file or field and the line) rather than a
//! failed notification later. The compiled set rides along in the
//! [`Config`] for the integrations.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::receivers::TemplatedFields;
use super::{Config, ConfigError};
use crate::template::{Flavor, TemplateError, Templates};

/// The compiled templates of a config. Compares equal to any other: it is
/// derived from the rest of the config (globs and fields), which `Config`'s
/// own equality already compares.
#[derive(Clone, Debug, Default)]
pub struct CompiledTemplates(pub Arc<Templates>);

impl PartialEq for CompiledTemplates {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The templated fields of every receiver, as Alertmanager templates them:
/// `(field path, text, flavor)`.
pub(super) fn fields(config: &Config) -> Vec<(String, &str, Flavor)> {
    let mut out = Vec::new();
    route_labels("route", &config.route, &mut out);
    let mut found = TemplatedFields::new();
    for (i, r) in config.receivers.iter().enumerate() {
        for (path, _, c) in r.integrations() {
            found.under(&format!("receivers[{i}].{path}"));
            c.config().templated(&mut found);
        }
    }
    out.extend(found.found);
    out
}

/// Every route's `labels` values, depth first.
fn route_labels<'a>(
    at: &str,
    route: &'a super::RouteConfig,
    out: &mut Vec<(String, &'a str, Flavor)>,
) {
    for (name, value) in &route.labels {
        out.push((format!("{at}.labels.{name}"), value.as_str(), Flavor::Text));
    }
    for (i, child) in route.routes.iter().enumerate() {
        route_labels(&format!("{at}.routes[{i}]"), child, out);
    }
}

/// Loads the `templates:` files (relative globs from `base`, the config
/// file's directory) and compiles every templated field into the cache.
/// Errors in a field carry its path; the caller finds its line.
pub(super) fn compile(config: &Config, base: &Path, yaml: &str) -> Result<Templates, ConfigError> {
    let templates = Templates::load(&config.templates, base).map_err(|e| match e {
        TemplateError::Parse {
            origin,
            line,
            message,
        } => ConfigError {
            file: PathBuf::from(origin),
            line: line.map(|l| l as u64),
            column: None,
            field: None,
            message: format!("template: {message}"),
        },
        TemplateError::Io { path, message } => {
            ConfigError::at("templates", format!("{path}: {message}"))
        }
        TemplateError::Render(message) => ConfigError::at("templates", message),
    })?;
    for (field, text, flavor) in fields(config) {
        templates.check(text, flavor).map_err(|e| {
            let (template_line, message) = match e {
                TemplateError::Parse {
                    line: Some(line),
                    message,
                    ..
                } => (
                    Some(line),
                    format!("template error on line {line} of the template: {message}"),
                ),
                TemplateError::Parse { message, .. } => {
                    (None, format!("template error: {message}"))
                }
                other => (None, format!("template error: {other}")),
            };
            let mut error = ConfigError::at(&field, message);
            if let Some((key_line, column)) = super::locate::locate(yaml, &field) {
                error.line = Some(yaml_line(yaml, key_line, template_line));
                error.column = Some(column);
            }
            error
        })?;
    }
    Ok(templates)
}

/// The YAML line of a template's line: in a block scalar (`|`, `>`) the
/// template starts on the line after the key; otherwise the key's line is
/// the best guess.
fn yaml_line(yaml: &str, key_line: u64, template_line: Option<usize>) -> u64 {
    let key_text = yaml
        .lines()
        .nth(key_line.saturating_sub(1) as usize)
        .unwrap_or("");
    let value = key_text.split_once(':').map_or("", |(_, v)| v.trim_start());
    match template_line {
        Some(l) if value.starts_with('|') || value.starts_with('>') => key_line + l as u64,
        _ => key_line,
    }
}
