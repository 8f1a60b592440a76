//! klaxon's own default layouts: the handlebars files in `templates/`,
//! embedded at build time, overridable by a `templates:` file of the same
//! name, and reachable from Go templates through [`LAYOUT_FUNC`] (which is
//! how `discord.default.title` and friends resolve to them).

use handlebars::{Handlebars, handlebars_helper, no_escape};

use super::{Flavor, TemplateError};

/// The Go function that renders a layout with the current `.`.
pub(crate) const LAYOUT_FUNC: &str = "__klaxon_layout";

/// klaxon's definitions of Alertmanager's default template names, as
/// `(file name, text)`: the shared helpers and klaxon's layouts first, then
/// one file per integration whose defaults give Alertmanager's text.
/// The `templates:` entry that loads [`ALERTMANAGER_DEFAULTS`].
pub const ALERTMANAGER_DEFAULTS_ENTRY: &str = "klaxon:alertmanager-defaults";

/// Alertmanager's own Discord and email defaults, in place of klaxon's
/// layouts, for configs that list [`ALERTMANAGER_DEFAULTS_ENTRY`].
pub(crate) const ALERTMANAGER_DEFAULTS: &str =
    include_str!("../../templates/alertmanager/alertmanager-defaults.tmpl");

pub(crate) const GO_DEFAULTS: &[(&str, &str)] = &[
    (
        "defaults.tmpl",
        include_str!("../../templates/defaults.tmpl"),
    ),
    (
        "alertmanager/sns.tmpl",
        include_str!("../../templates/alertmanager/sns.tmpl"),
    ),
    (
        "alertmanager/wechat.tmpl",
        include_str!("../../templates/alertmanager/wechat.tmpl"),
    ),
    (
        "alertmanager/slack.tmpl",
        include_str!("../../templates/alertmanager/slack.tmpl"),
    ),
    (
        "alertmanager/mattermost.tmpl",
        include_str!("../../templates/alertmanager/mattermost.tmpl"),
    ),
    (
        "alertmanager/rocketchat.tmpl",
        include_str!("../../templates/alertmanager/rocketchat.tmpl"),
    ),
    (
        "alertmanager/pagerduty.tmpl",
        include_str!("../../templates/alertmanager/pagerduty.tmpl"),
    ),
    (
        "alertmanager/opsgenie.tmpl",
        include_str!("../../templates/alertmanager/opsgenie.tmpl"),
    ),
    (
        "alertmanager/victorops.tmpl",
        include_str!("../../templates/alertmanager/victorops.tmpl"),
    ),
    (
        "alertmanager/pushover.tmpl",
        include_str!("../../templates/alertmanager/pushover.tmpl"),
    ),
    (
        "alertmanager/webex.tmpl",
        include_str!("../../templates/alertmanager/webex.tmpl"),
    ),
    (
        "alertmanager/telegram.tmpl",
        include_str!("../../templates/alertmanager/telegram.tmpl"),
    ),
    (
        "alertmanager/msteams.tmpl",
        include_str!("../../templates/alertmanager/msteams.tmpl"),
    ),
    (
        "alertmanager/jira.tmpl",
        include_str!("../../templates/alertmanager/jira.tmpl"),
    ),
];

/// Every layout: name (the file name without `.hbs`), source, escaping.
pub const LAYOUTS: &[(&str, &str, Flavor)] = &[
    (
        "discord.title",
        include_str!("../../templates/discord.title.hbs"),
        Flavor::Text,
    ),
    (
        "discord.message",
        include_str!("../../templates/discord.message.hbs"),
        Flavor::Text,
    ),
    (
        "email.subject",
        include_str!("../../templates/email.subject.hbs"),
        Flavor::Text,
    ),
    (
        "email.text",
        include_str!("../../templates/email.text.hbs"),
        Flavor::Text,
    ),
    (
        "email.html",
        include_str!("../../templates/email.html.hbs"),
        Flavor::Html,
    ),
];

handlebars_helper!(upper: |s: str| s.to_uppercase());
handlebars_helper!(lower: |s: str| s.to_lowercase());
handlebars_helper!(join: |list: array, sep: str| {
    list.iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join(sep)
});

/// Two registries because escaping is per registry: text layouts (titles,
/// Discord markdown, the text mail) must not be HTML-escaped.
pub(crate) struct Layouts {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl std::fmt::Debug for Layouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layouts").finish_non_exhaustive()
    }
}

/// HTML escaping of the five characters that matter; handlebars' default
/// also turns `=` and `` ` `` into entities, which makes links unreadable
/// in a mail's source for no gain inside quoted attributes.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn registry(escape: bool) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    if escape {
        h.register_escape_fn(html_escape);
    } else {
        h.register_escape_fn(no_escape);
    }
    h.register_helper("upper", Box::new(upper));
    h.register_helper("lower", Box::new(lower));
    h.register_helper("join", Box::new(join));
    h
}

/// A layout file ends with a newline by habit; a title must not.
fn trim_final_newline(src: &str) -> &str {
    src.strip_suffix("\r\n")
        .or_else(|| src.strip_suffix('\n'))
        .unwrap_or(src)
}

impl Layouts {
    pub(crate) fn builtin() -> Result<Layouts, TemplateError> {
        let mut layouts = Layouts {
            text: registry(false),
            html: registry(true),
        };
        for (name, src, _) in LAYOUTS {
            layouts.register(name, src, &format!("templates/{name}.hbs"))?;
        }
        Ok(layouts)
    }

    /// No layouts at all: only if the embedded ones failed to compile,
    /// which a test rules out.
    pub(crate) fn empty() -> Layouts {
        Layouts {
            text: registry(false),
            html: registry(true),
        }
    }

    /// Registers (or replaces) a layout; a name that is not one of
    /// [`LAYOUTS`] becomes a partial the layouts may include.
    pub(crate) fn register(
        &mut self,
        name: &str,
        src: &str,
        origin: &str,
    ) -> Result<(), TemplateError> {
        let src = trim_final_newline(src);
        let to_error = |e: handlebars::TemplateError| TemplateError::Parse {
            origin: origin.to_owned(),
            line: e.pos().map(|(line, _)| line),
            message: e.reason().to_string(),
        };
        match LAYOUTS.iter().find(|(n, ..)| *n == name) {
            Some((_, _, Flavor::Html)) => self.html.register_template_string(name, src),
            Some((_, _, Flavor::Text)) => self.text.register_template_string(name, src),
            None => self
                .text
                .register_partial(name, src)
                .and_then(|()| self.html.register_partial(name, src)),
        }
        .map_err(to_error)
    }

    /// Renders a layout with a context from [`super::value::layout_context`].
    pub(crate) fn render(
        &self,
        name: &str,
        ctx: &serde_json::Value,
    ) -> Result<String, TemplateError> {
        let flavor = LAYOUTS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, _, f)| *f)
            .ok_or_else(|| TemplateError::Render(format!("no layout named {name:?}")))?;
        let render_err =
            |e: handlebars::RenderError| TemplateError::Render(format!("layout {name}: {e}"));
        match flavor {
            Flavor::Text => self.text.render(name, ctx).map_err(render_err),
            Flavor::Html => {
                // The HTML mail shows the subject; it is a layout of its own.
                let mut ctx = ctx.clone();
                let subject = self
                    .text
                    .render("email.subject", &ctx)
                    .map_err(render_err)?;
                if let Some(obj) = ctx.as_object_mut() {
                    obj.insert("subject".into(), subject.into());
                }
                self.html.render(name, &ctx).map_err(render_err)
            }
        }
    }
}
