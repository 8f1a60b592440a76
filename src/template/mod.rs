//! Templates, two engines over one data model ([`Data`]):
//! - Alertmanager's Go text/template for every templated config field
//!   (`title`, `message`, `html`, `headers.*`, …) and every `templates:`
//!   file, so existing configs render unchanged (gotmpl, with the field
//!   steps rewritten into method calls: go.rs, functions.rs);
//! - handlebars for klaxon's own default layouts (`templates/*.hbs`),
//!   which Alertmanager's default template names (`discord.default.title`,
//!   `email.default.html`, …) resolve to (layouts.rs). The `__*` helpers
//!   (`__subject`, `__text_alert_list`, …) are Go definitions with
//!   Alertmanager's output (`templates/defaults.tmpl`).
//!
//! Templates are compiled once at config load (a syntax error or an unknown
//! function is a config error) and rendered per notification by the
//! integrations, through [`Templates::render_or_default`] so that a broken
//! template never swallows an alert.

pub mod data;
mod duration;
mod functions;
mod go;
mod gotime;
mod gotime_parse;
mod layouts;
mod methods;
mod value;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use prometheus_client::metrics::counter::Counter;

pub use data::{AlertData, Data};
pub use layouts::{ALERTMANAGER_DEFAULTS_ENTRY, LAYOUTS};

use go::{Base, Compiled, Defines};
use layouts::Layouts;

/// Alertmanager's default for a Discord `title`.
pub const DISCORD_TITLE: &str = r#"{{ template "discord.default.title" . }}"#;
/// Alertmanager's default for a Discord `message`.
pub const DISCORD_MESSAGE: &str = r#"{{ template "discord.default.message" . }}"#;
/// Alertmanager's default for an email's `Subject` header.
pub const EMAIL_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;
/// Alertmanager's default for an email's `html`.
pub const EMAIL_HTML: &str = r#"{{ template "email.default.html" . }}"#;
/// klaxon's default for an email's `text` part (Alertmanager sends none).
pub const EMAIL_TEXT: &str = r#"{{ template "email.default.text" . }}"#;

/// Every default above with its flavor.
const DEFAULTS: &[(&str, Flavor)] = &[
    (DISCORD_TITLE, Flavor::Text),
    (DISCORD_MESSAGE, Flavor::Text),
    (EMAIL_SUBJECT, Flavor::Text),
    (EMAIL_HTML, Flavor::Html),
    (EMAIL_TEXT, Flavor::Text),
];

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A syntax error; `origin` names the `templates:` file or says
    /// "inline" for a config field. `line` is within that file or field.
    #[error("{origin}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        origin: String,
        line: Option<usize>,
        message: String,
    },
    /// A `templates:` glob or file that cannot be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// The template compiled but failed while rendering (a missing
    /// function argument, a bad `template` name, …).
    #[error("rendering: {0}")]
    Render(String),
}

/// `.` read from Alertmanager's `template.Data` in JSON, as Go reads it:
/// unlike [`Data`] it holds any status, fingerprint or time zone the file
/// says (amtool's example data has `status: alertstatus`). What `amctl
/// template render --template.data` renders with.
#[derive(Debug, Clone)]
pub struct JsonData(gotmpl::Value);

impl JsonData {
    /// Fails, in Go's words, where Go's `json.Unmarshal` into
    /// `template.Data` would.
    pub fn parse(data: &serde_json::Value) -> Result<Self, DataError> {
        value::from_json(data).map(JsonData).map_err(DataError)
    }
}

/// JSON that does not fit `template.Data` (`json: cannot unmarshal number
/// into Go struct field Data.receiver of type string`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(String);

/// Which escaping a field gets: `text/template` for everything but an
/// email's `html`, which Alertmanager renders with `html/template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Text,
    Html,
}

/// The compiled template set of one config: the defaults, the
/// `templates:` files, and (after [`Templates::check`]) every config field.
pub struct Templates {
    base: Base,
    layouts: Arc<Layouts>,
    known_funcs: Arc<HashSet<String>>,
    /// Compiled fields by flavor and text: compiled at load by `check`,
    /// reused by every render (parsing and html escaping are the cost).
    cache: Mutex<HashMap<(Flavor, String), Arc<Compiled>>>,
    /// The defaults alone, for when a user's redefinition of a default
    /// name is itself broken. `None` in the builtin set.
    fallback: Option<Box<Templates>>,
    failures: AtomicU64,
    failure_counter: OnceLock<Counter>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("layouts", &self.layouts)
            .field("render_failures", &self.render_failures())
            .finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Templates::builtin()
    }
}

fn known_funcs() -> HashSet<String> {
    functions::GO_BUILTINS
        .iter()
        .chain(functions::ALERTMANAGER_FUNCS)
        .chain(&[functions::CALL, layouts::LAYOUT_FUNC])
        .map(|s| (*s).to_owned())
        .collect()
}

/// The function map of a set: Alertmanager's functions plus the bridge to
/// this set's layouts.
fn func_map(layouts: &Arc<Layouts>) -> gotmpl::FuncMap {
    let mut funcs = functions::func_map();
    let layouts = Arc::clone(layouts);
    funcs.insert(
        layouts::LAYOUT_FUNC.to_owned(),
        Arc::new(move |args: &[gotmpl::Value]| {
            let (Some(gotmpl::Value::String(name)), Some(dot)) = (args.first(), args.get(1)) else {
                return Err(gotmpl::TemplateError::Exec(format!(
                    "{} expects a layout name and data",
                    layouts::LAYOUT_FUNC
                )));
            };
            let out = layouts
                .render(name, &value::layout_context(dot))
                .map_err(|e| gotmpl::TemplateError::Exec(e.to_string()))?;
            let html = LAYOUTS
                .iter()
                .any(|(n, _, f)| *n == &**name && *f == Flavor::Html);
            Ok(if html {
                gotmpl::Value::Safe {
                    kind: gotmpl::SafeKind::Html,
                    s: out.into(),
                }
            } else {
                gotmpl::Value::String(out.into())
            })
        }),
    );
    funcs
}

fn add_file(
    defines: &mut Defines,
    origin: &str,
    file_name: &str,
    src: &str,
    known: &HashSet<String>,
) -> Result<(), TemplateError> {
    let (tree, file_defines) = go::parse(origin, src, known)?;
    for d in file_defines {
        defines.add(&d.name, d.body);
    }
    // As Go's ParseGlob: the file's own text is a template named after it.
    defines.add(file_name, tree);
    Ok(())
}

/// klaxon's embedded default templates (`templates/*.tmpl`).
fn add_defaults(defines: &mut Defines, known: &HashSet<String>) -> Result<(), TemplateError> {
    for (name, text) in layouts::GO_DEFAULTS {
        add_file(defines, &format!("templates/{name}"), name, text, known)?;
    }
    Ok(())
}

impl Templates {
    /// klaxon's defaults only (no `templates:` files).
    pub fn builtin() -> Self {
        let known = known_funcs();
        let layouts = Layouts::builtin().unwrap_or_else(|e| {
            tracing::error!(error = %e, "klaxon's embedded layouts do not compile");
            Layouts::empty()
        });
        let mut defines = Defines::default();
        if let Err(e) = add_defaults(&mut defines, &known) {
            tracing::error!(error = %e, "klaxon's embedded default templates do not compile");
        }
        Templates::assemble(defines, layouts, known, None)
    }

    fn assemble(
        defines: Defines,
        layouts: Layouts,
        known: HashSet<String>,
        fallback: Option<Box<Templates>>,
    ) -> Self {
        let layouts = Arc::new(layouts);
        let templates = Templates {
            base: Base::new(&defines, func_map(&layouts)),
            layouts,
            known_funcs: Arc::new(known),
            cache: Mutex::new(HashMap::new()),
            fallback,
            failures: AtomicU64::new(0),
            failure_counter: OnceLock::new(),
        };
        // The integrations' defaults are rendered for every notification
        // that does not set its own text: compile them now. A user's broken
        // redefinition of one shows up when rendering, with the fallback.
        for (text, flavor) in DEFAULTS {
            let _ = templates.check(text, *flavor);
        }
        templates
    }

    /// The defaults plus every file matched by the config's `templates:`
    /// globs; relative globs are relative to `base_dir` (the config file's
    /// directory). `.hbs` files override klaxon's layouts of the same name
    /// (or add partials the layouts may include); any other file is Go
    /// templates whose `define`s override the defaults of the same name.
    /// A glob that matches nothing is not an error (as in Alertmanager).
    pub fn load(globs: &[String], base_dir: &Path) -> Result<Self, TemplateError> {
        let known = known_funcs();
        let mut layouts = Layouts::builtin()?;
        let mut defines = Defines::default();
        add_defaults(&mut defines, &known)?;
        for pattern in globs {
            if pattern == layouts::ALERTMANAGER_DEFAULTS_ENTRY {
                add_file(
                    &mut defines,
                    "templates/alertmanager/alertmanager-defaults.tmpl",
                    "alertmanager-defaults.tmpl",
                    layouts::ALERTMANAGER_DEFAULTS,
                    &known,
                )?;
                continue;
            }
            let full = if Path::new(pattern).is_absolute() {
                pattern.clone()
            } else {
                base_dir.join(pattern).to_string_lossy().into_owned()
            };
            let paths = glob::glob(&full).map_err(|e| TemplateError::Io {
                path: pattern.clone(),
                message: format!("bad glob: {e}"),
            })?;
            let mut paths: Vec<_> = paths
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            paths.sort();
            for path in paths {
                let origin = path.display().to_string();
                let src = std::fs::read_to_string(&path).map_err(|e| TemplateError::Io {
                    path: origin.clone(),
                    message: e.to_string(),
                })?;
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match file_name.strip_suffix(".hbs") {
                    Some(stem) => layouts.register(stem, &src, &origin)?,
                    None => add_file(&mut defines, &origin, &file_name, &src, &known)?,
                }
            }
        }
        let fallback = (!globs.is_empty()).then(|| Box::new(Templates::builtin()));
        Ok(Templates::assemble(defines, layouts, known, fallback))
    }

    /// Compiles a config field's text, for validation at load time. The
    /// compiled form is cached for [`Templates::render`].
    pub fn check(&self, text: &str, flavor: Flavor) -> Result<(), TemplateError> {
        self.compiled(text, flavor).map(|_| ())
    }

    fn compiled(&self, text: &str, flavor: Flavor) -> Result<Arc<Compiled>, TemplateError> {
        let key = (flavor, text.to_owned());
        if let Some(c) = self.lock_cache().get(&key) {
            return Ok(Arc::clone(c));
        }
        // Compiled outside the lock: two renders racing on a miss compile
        // twice, which is cheaper than serialising every render.
        let compiled = Arc::new(
            self.base
                .compile("inline", text, flavor, &self.known_funcs)?,
        );
        self.lock_cache().insert(key, Arc::clone(&compiled));
        Ok(compiled)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<(Flavor, String), Arc<Compiled>>> {
        // A panic while holding the lock leaves a usable map behind.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renders a config field's text with `data`.
    pub fn render(&self, text: &str, flavor: Flavor, data: &Data) -> Result<String, TemplateError> {
        if !text.contains("{{") {
            return Ok(text.to_owned());
        }
        self.render_value(text, flavor, &value::to_go(data))
    }

    fn render_value(
        &self,
        text: &str,
        flavor: Flavor,
        data: &gotmpl::Value,
    ) -> Result<String, TemplateError> {
        self.compiled(text, flavor)?.execute(data)
    }

    /// Renders `text`; if it fails, logs (`field`, `error`), counts the
    /// failure and renders `default_text` instead (and, should a user's
    /// redefinition of a default name break that too, klaxon's own
    /// defaults), so a template bug never swallows a notification.
    pub fn render_or_default(
        &self,
        field: &str,
        text: &str,
        default_text: &str,
        flavor: Flavor,
        data: &Data,
    ) -> String {
        if !text.contains("{{") {
            return text.to_owned();
        }
        let dot = value::to_go(data);
        let error = match self.render_value(text, flavor, &dot) {
            Ok(out) => return out,
            Err(e) => e,
        };
        self.count_failure();
        tracing::warn!(field, error = %error, "template failed to render; sending the default instead");
        if text != default_text {
            match self.render_value(default_text, flavor, &dot) {
                Ok(out) => return out,
                Err(e) => {
                    tracing::warn!(field, error = %e, "the default template failed to render too");
                }
            }
        }
        self.fallback
            .as_ref()
            .and_then(|f| f.render_value(default_text, flavor, &dot).ok())
            .unwrap_or_default()
    }

    /// Renders `text` with `.` read from JSON ([`JsonData`]), as amtool's
    /// `template render` does: empty text renders nothing.
    pub fn render_json(
        &self,
        text: &str,
        flavor: Flavor,
        data: &JsonData,
    ) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        self.render_value(text, flavor, &data.0)
    }

    /// Renders one of klaxon's layouts ([`LAYOUTS`]) directly.
    pub fn render_layout(&self, name: &str, data: &Data) -> Result<String, TemplateError> {
        self.layouts
            .render(name, &value::layout_context(&value::to_go(data)))
    }

    /// Renders a defined Go template by name (`__subject`, a user's
    /// `define`), as `amctl template render` needs.
    pub fn render_defined(&self, name: &str, data: &Data) -> Result<String, TemplateError> {
        self.base.execute_named(name, &value::to_go(data))
    }

    /// Template render failures since load.
    pub fn render_failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Also count render failures in `counter` (the App's
    /// `klaxon_template_render_failures_total`). Only the first call counts.
    pub fn count_failures_in(&self, counter: Counter) {
        let _ = self.failure_counter.set(counter);
    }

    /// Counts a render failure an integration handled itself (it logs it
    /// and falls back), so `klaxon_template_render_failures_total` sees it.
    pub fn count_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = self.failure_counter.get() {
            c.inc();
        }
    }
}

#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod tests;
