//! Templates, two engines over one data model ([`Data`]):
//! - Alertmanager's Go text/template for every templated config field
//!   (`title`, `message`, `html`, `headers.*`, …) and every `templates:`
//!   file, so existing configs render unchanged;
//! - handlebars for klaxon's own default layouts (`templates/*.hbs`),
//!   which Alertmanager's default template names (`discord.default.title`,
//!   `email.default.html`, `__subject`, …) resolve to.
//!
//! Templates are compiled once at config load (a syntax error is a config
//! error) and rendered per notification by the integrations.

pub mod data;

use std::path::Path;

pub use data::{AlertData, Data};

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A syntax error; `origin` names the `templates:` file or says
    /// "inline" for a config field.
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

/// Which escaping a field gets: `text/template` for everything but an
/// email's `html`, which Alertmanager renders with `html/template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Text,
    Html,
}

/// The compiled template set of one config: the defaults, the
/// `templates:` files, and (after [`Templates::check`]) every config field.
#[derive(Debug, Default)]
pub struct Templates {
    _private: (),
}

impl Templates {
    /// klaxon's defaults only (no `templates:` files).
    pub fn builtin() -> Self {
        Templates::default()
    }

    /// The defaults plus every file matched by the config's `templates:`
    /// globs; relative globs are relative to `base_dir` (the config file's
    /// directory). `.hbs` files override klaxon's layouts of the same name.
    pub fn load(globs: &[String], base_dir: &Path) -> Result<Self, TemplateError> {
        let _ = (globs, base_dir);
        Ok(Templates::builtin())
    }

    /// Compiles a config field's text, for validation at load time. The
    /// compiled form is cached for [`Templates::render`].
    pub fn check(&self, text: &str, flavor: Flavor) -> Result<(), TemplateError> {
        let _ = flavor;
        if text.contains("{{") {
            return Err(TemplateError::Parse {
                origin: "inline".into(),
                line: None,
                message: "templates are not implemented yet".into(),
            });
        }
        Ok(())
    }

    /// Renders a config field's text with `data`.
    pub fn render(&self, text: &str, flavor: Flavor, data: &Data) -> Result<String, TemplateError> {
        let _ = data;
        self.check(text, flavor)?;
        Ok(text.to_owned())
    }
}
