//! The email integration (`email_configs`): renders a notification into a
//! MIME message and hands it to [`smtp`], which talks to the smarthost.
//!
//! Alertmanager's field names and defaults, with one deliberate difference:
//! when neither `html` nor `text` is configured, klaxon sends both parts in
//! a `multipart/alternative` (Alertmanager sends only HTML), so text-only
//! clients, previews and screen readers get a readable message. A config
//! that sets only `html` gets only HTML, exactly as in Alertmanager; `text:
//! ""` turns the text part off.
//!
//! A template that fails to render never drops the notification: the field
//! falls back to its default template, then to a plain built-in rendering
//! (the subject is Alertmanager's `__subject`, written out in Rust).

mod smtp;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use lettre::message::header::{self, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::{Address, Message};

pub use self::smtp::EmailBuildError;
use self::smtp::{Credentials, Transport};
use super::http::read_secret_file;
use super::{AlertStatus, Notification, Notifier, NotifyError, NotifyFuture};
use crate::config::{EmailConfig, ThreadingConfig};
use crate::template::{Data, Flavor, Templates};

/// Alertmanager's default `Subject` header.
pub const DEFAULT_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;
/// Alertmanager's default `html`.
pub const DEFAULT_HTML: &str = r#"{{ template "email.default.html" . }}"#;
/// klaxon's default `text` (Alertmanager has none; klaxon's layouts do).
pub const DEFAULT_TEXT: &str = r#"{{ template "email.default.text" . }}"#;

/// Headers the MIME structure owns: a user value would corrupt the message.
const RESERVED_HEADERS: [&str; 3] = ["Content-Type", "Content-Transfer-Encoding", "Mime-Version"];

/// An `email_configs` entry, ready to send.
pub struct Email {
    config: EmailConfig,
    templates: Arc<Templates>,
    /// Header templates by Go-title-cased name, with Alertmanager's
    /// defaults for `Subject`, `To` and `From` filled in.
    headers: BTreeMap<String, String>,
    transport: Transport,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config's secrets are `Secret`s and print as `<secret>`.
        f.debug_struct("Email")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Email {
    /// Builds the notifier from a validated config (globals applied). TLS
    /// settings are checked and certificate files read here, so a bad
    /// `tls_config` is a config error rather than a failure at send time.
    pub fn new(config: EmailConfig, templates: Arc<Templates>) -> Result<Self, EmailBuildError> {
        let transport = Transport::new(&config)?;
        let headers = headers_with_defaults(&config);
        Ok(Email {
            config,
            templates,
            headers,
            transport,
        })
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let data = Data::new(msg);
        let rendered = self.render(&data, msg);
        let (envelope, message) = build_message(&rendered, SystemTime::from(msg.now))?;
        let credentials = self.credentials().await;
        let result = self
            .transport
            .send(&envelope, &message, credentials.as_ref())
            .await;
        // Servers may echo what they were sent; no secret leaves this
        // function in an error text.
        result.map_err(|e| match &credentials {
            Some(c) => c.redact(e),
            None => e,
        })
    }

    /// The credentials for AUTH, read now so a rotated `*_file` is picked
    /// up without a reload. `None` without `auth_username`: Alertmanager
    /// authenticates only when a username is configured.
    async fn credentials(&self) -> Option<Credentials> {
        let c = &self.config;
        let username = c.auth_username.clone().filter(|u| !u.is_empty())?;
        let password = match (&c.auth_password, &c.auth_password_file) {
            (Some(p), _) => Ok(p.expose().to_owned()),
            (None, Some(f)) => read_secret_file("auth_password_file", f).await,
            (None, None) => Ok(String::new()),
        };
        let secret = match (&c.auth_secret, &c.auth_secret_file) {
            (Some(s), _) => Ok(s.expose().to_owned()),
            (None, Some(f)) => read_secret_file("auth_secret_file", f).await,
            (None, None) => Ok(String::new()),
        };
        Some(Credentials {
            username,
            identity: c.auth_identity.clone().unwrap_or_default(),
            password,
            secret,
        })
    }

    /// Renders every templated field, falling back instead of failing.
    fn render(&self, data: &Data, msg: &Notification) -> Rendered {
        let field = |name: &str, text: &str, default: Option<&str>, flavor: Flavor| {
            self.render_field(msg, name, text, default, flavor, data)
        };
        let (html, text) = match (&self.config.html, &self.config.text) {
            (None, None) => (Some(DEFAULT_HTML), Some(DEFAULT_TEXT)),
            (html, text) => (
                Some(html.as_deref().unwrap_or(DEFAULT_HTML)),
                text.as_deref(),
            ),
        };
        let html = html
            .filter(|t| !t.is_empty())
            .map(|t| field("html", t, Some(DEFAULT_HTML), Flavor::Html))
            .map(|r| r.unwrap_or_else(|| fallback_html(data)));
        let text = text
            .filter(|t| !t.is_empty())
            .map(|t| field("text", t, Some(DEFAULT_TEXT), Flavor::Text))
            .map(|r| r.unwrap_or_else(|| fallback_text(data)));
        let mut headers: BTreeMap<String, String> = self
            .headers
            .iter()
            .map(|(name, template)| {
                let default = (name == "Subject").then_some(DEFAULT_SUBJECT);
                let value = field(&format!("headers.{name}"), template, default, Flavor::Text)
                    .unwrap_or_else(|| {
                        if name == "Subject" {
                            fallback_subject(data)
                        } else {
                            // An address or a fixed value is more useful
                            // verbatim than missing.
                            template.clone()
                        }
                    });
                (name.clone(), value)
            })
            .collect();
        // In a cluster, the claim's token makes the Message-ID: the same
        // mail resent under one claim keeps it, another claim's differs.
        if let Some(token) = msg.fencing_token
            && !headers.keys().any(|k| k.eq_ignore_ascii_case("Message-Id"))
        {
            let group = crate::notification::group_key_hash(&msg.group_key);
            headers.insert(
                "Message-Id".to_owned(),
                format!("<klaxon.{}.{token}@alertmanager>", &group[..16]),
            );
        }
        if self.config.threading.enabled {
            let root = thread_root_id(&msg.group_key, &self.config.threading, msg.now);
            headers.insert("References".to_owned(), root.clone());
            headers.insert("In-Reply-To".to_owned(), root);
        }
        let from = self.config.from.as_deref().unwrap_or_default();
        let to = self.config.to.as_deref().unwrap_or_default();
        Rendered {
            from: field("from", from, None, Flavor::Text).unwrap_or_else(|| from.to_owned()),
            to: field("to", to, None, Flavor::Text).unwrap_or_else(|| to.to_owned()),
            headers,
            text,
            html,
        }
    }

    /// One field: its template, else its default template; `None` when
    /// both failed (the caller has a plain fallback). Failures are logged.
    fn render_field(
        &self,
        msg: &Notification,
        field: &str,
        text: &str,
        default: Option<&str>,
        flavor: Flavor,
        data: &Data,
    ) -> Option<String> {
        let error = match self.templates.render(text, flavor, data) {
            Ok(v) => return Some(v),
            Err(e) => e,
        };
        self.templates.count_failure();
        tracing::warn!(
            receiver = %msg.receiver,
            integration = "email",
            group_key = %msg.group_key,
            field,
            error = %error,
            "email template failed to render; using the default"
        );
        let default = default.filter(|d| *d != text)?;
        match self.templates.render(default, flavor, data) {
            Ok(v) => Some(v),
            Err(error) => {
                tracing::warn!(
                    receiver = %msg.receiver,
                    integration = "email",
                    group_key = %msg.group_key,
                    field,
                    error = %error,
                    "default email template failed to render; using the built-in fallback"
                );
                None
            }
        }
    }
}

impl Notifier for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let data = Data::new(msg);
        let (_, message) = build_message(&self.render(&data, msg), SystemTime::from(msg.now))?;
        Ok(String::from_utf8_lossy(&message).into_owned())
    }
}

/// Everything templated, rendered.
#[derive(Debug, Clone, PartialEq)]
struct Rendered {
    /// The envelope sender (`MAIL FROM`).
    from: String,
    /// The envelope recipients (`RCPT TO`), comma-separated.
    to: String,
    /// Header name (title-cased) to value.
    headers: BTreeMap<String, String>,
    text: Option<String>,
    html: Option<String>,
}

/// Alertmanager 0.30's phantom thread root: a Message-ID no mail has,
/// `<alert-{first 16 hex digits of sha256(group key)}-{date}@alertmanager>`
/// (date `YYYY-MM-DD` with `thread_by_date: daily`, empty with `none`).
/// Clients following JWZ threading group the mails under a dummy root.
/// Alertmanager takes the date in its process' time zone; klaxon in UTC,
/// the zone of a typical container.
fn thread_root_id(
    group_key: &str,
    threading: &ThreadingConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, group_key.as_bytes());
    let hash: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let date = if threading.thread_by_date == "none" {
        String::new()
    } else {
        now.format("%Y-%m-%d").to_string()
    };
    format!("<alert-{hash}-{date}@alertmanager>")
}

/// The configured headers, names title-cased as Go's `strings.Title`
/// does (Alertmanager's normalisation: `subject` is `Subject`), plus
/// Alertmanager's defaults for `Subject`, `To` and `From`.
fn headers_with_defaults(config: &EmailConfig) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = config
        .headers
        .iter()
        .map(|(k, v)| (go_title(k), v.clone()))
        .collect();
    let defaults = [
        ("Subject", DEFAULT_SUBJECT),
        ("To", config.to.as_deref().unwrap_or_default()),
        ("From", config.from.as_deref().unwrap_or_default()),
    ];
    for (name, value) in defaults {
        headers
            .entry(name.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    headers
}

/// Go's `strings.Title`: upper-cases each letter that starts a word,
/// where anything but a letter, digit or `_` separates words.
fn go_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    for c in s.chars() {
        if at_start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_start = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Builds the envelope and the RFC 5322 message bytes.
fn build_message(
    r: &Rendered,
    date: SystemTime,
) -> Result<(lettre::address::Envelope, Vec<u8>), NotifyError> {
    let from: Mailbox =
        r.from.trim().parse().map_err(|e| {
            NotifyError::permanent(format!("parsing from address {:?}: {e}", r.from))
        })?;
    let to: Mailboxes =
        r.to.trim()
            .parse()
            .map_err(|e| NotifyError::permanent(format!("parsing to addresses {:?}: {e}", r.to)))?;
    let recipients: Vec<Address> = to.iter().map(|m| m.email.clone()).collect();
    if recipients.is_empty() {
        return Err(NotifyError::permanent("no recipients in the to address"));
    }
    let envelope = lettre::address::Envelope::new(Some(from.email.clone()), recipients)
        .map_err(|e| NotifyError::permanent(format!("building the envelope: {e}")))?;

    let mut builder = Message::builder().envelope(envelope.clone()).date(date);
    let mut message_id = None;
    for (name, value) in &r.headers {
        builder = match name.as_str() {
            "Subject" => builder.subject(value.clone()),
            "From" => builder.mailbox(header::From::from(mailboxes(name, value)?)),
            "To" => builder.mailbox(header::To::from(mailboxes(name, value)?)),
            "Cc" => builder.mailbox(header::Cc::from(mailboxes(name, value)?)),
            "Reply-To" => builder.mailbox(header::ReplyTo::from(mailboxes(name, value)?)),
            "Message-Id" => {
                message_id = Some(value.clone());
                builder
            }
            n if RESERVED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(n)) => {
                tracing::debug!(header = n, "ignoring a header that the MIME structure sets");
                builder
            }
            n => {
                let header_name = HeaderName::new_from_ascii(n.to_owned())
                    .map_err(|_| NotifyError::permanent(format!("invalid header name {n:?}")))?;
                // HeaderValue encodes non-ASCII words (RFC 2047), which
                // also keeps a CR or LF in a value from starting a header.
                builder.raw_header(HeaderValue::new(header_name, value.clone()))
            }
        };
    }
    // Without one, lettre makes `<uuid@hostname>` (Alertmanager:
    // `<nanos.random@hostname>`).
    builder = builder.message_id(message_id);

    let part = |content_type: ContentType, body: &str| {
        SinglePart::builder()
            .header(content_type)
            .body(body.to_owned())
    };
    // Alertmanager's order: the preferred alternative (HTML) last, per
    // RFC 2046 5.1.4. A single part is still multipart/alternative, as in
    // Alertmanager.
    let mut body = MultiPart::alternative().build();
    if let Some(text) = &r.text {
        body = body.singlepart(part(ContentType::TEXT_PLAIN, text));
    }
    if let Some(html) = &r.html {
        body = body.singlepart(part(ContentType::TEXT_HTML, html));
    }
    if r.text.is_none() && r.html.is_none() {
        body = body.singlepart(part(ContentType::TEXT_PLAIN, ""));
    }
    let message = builder
        .multipart(body)
        .map_err(|e| NotifyError::permanent(format!("building the message: {e}")))?;
    Ok((envelope, message.formatted()))
}

fn mailboxes(name: &str, value: &str) -> Result<Mailboxes, NotifyError> {
    value
        .trim()
        .parse()
        .map_err(|e| NotifyError::permanent(format!("parsing the {name} header {value:?}: {e}")))
}

/// Alertmanager's `__subject`, for when no template could render one:
/// `[FIRING:2] GroupLabelValues (other common label values)`.
fn fallback_subject(data: &Data) -> String {
    let mut out = format!("[{}", data.status.as_str().to_uppercase());
    if data.status == AlertStatus::Firing {
        out.push_str(&format!(
            ":{}",
            data.alerts_with(AlertStatus::Firing).count()
        ));
    }
    out.push_str("] ");
    let values: Vec<&str> = data.group_labels.iter().map(|(_, v)| v).collect();
    out.push_str(&values.join(" "));
    out.push(' ');
    if data.common_labels.len() > data.group_labels.len() {
        let rest: Vec<&str> = data
            .common_labels
            .iter()
            .filter(|(k, _)| data.group_labels.get(k).is_none())
            .map(|(_, v)| v)
            .collect();
        out.push_str(&format!("({})", rest.join(" ")));
    }
    out
}

/// A plain listing of the alerts, for when no text template rendered.
fn fallback_text(data: &Data) -> String {
    let mut out = String::new();
    for status in [AlertStatus::Firing, AlertStatus::Resolved] {
        let alerts: Vec<_> = data.alerts_with(status).collect();
        if alerts.is_empty() {
            continue;
        }
        out.push_str(&format!("{} {}\n", alerts.len(), status.as_str()));
        for a in alerts {
            out.push('\n');
            for (k, v) in a.labels.iter().chain(a.annotations.iter()) {
                out.push_str(&format!("  {k} = {v}\n"));
            }
            if !a.generator_url.is_empty() {
                out.push_str(&format!("  source: {}\n", a.generator_url));
            }
        }
        out.push('\n');
    }
    if !data.external_url.is_empty() {
        out.push_str(&format!("Sent by klaxon: {}\n", data.external_url));
    }
    out
}

/// The plain fallback, escaped, for the HTML part.
fn fallback_html(data: &Data) -> String {
    let text = fallback_text(data)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<!DOCTYPE html>\n<html><body><pre>{text}</pre></body></html>\n")
}

#[cfg(test)]
mod tests;
