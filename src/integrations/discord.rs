//! Discord (`discord_configs`): Alertmanager's payload, one embed whose
//! title and description are the rendered `title` and `message` and whose
//! colour says firing or resolved, POSTed to the channel's webhook URL.
//!
//! Two things Alertmanager does not do:
//! - every field is cut to Discord's documented limit (in Unicode
//!   characters) before sending, with a warning and a metric, so a long
//!   alert list never earns a 400;
//! - Discord's rate limits are honoured. Sends to one webhook are queued
//!   behind a per-webhook async lock that also holds the webhook's bucket
//!   (`X-RateLimit-Remaining` / `X-RateLimit-Reset-After`): a send waits for
//!   the bucket to refill instead of drawing a 429, and a 429 comes back as
//!   a retryable error carrying Discord's wait, which `notify::retry`
//!   honours within the same flush. Other webhooks have other locks, so one
//!   busy channel never delays another.

use std::sync::Arc;

use reqwest::StatusCode;
use serde::Serialize;
use tokio::time::Instant;

use super::http::{HttpClient, HttpClientError, body_excerpt, read_secret_file};
use super::{AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body};
use crate::config::DiscordConfig;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// The per-webhook queues and buckets, and reading a 429.
#[path = "discord_rate_limits.rs"]
mod rate_limits;
use rate_limits::DEFAULT_RATE_LIMIT_WAIT;
pub use rate_limits::{Bucket, RateLimited, RateLimits, parse_rate_limit};

/// Discord's embed colour for a firing group (Alertmanager's red).
pub const COLOR_FIRING: u32 = 0x992D22;
/// Discord's embed colour for a resolved group (Alertmanager's green).
pub const COLOR_RESOLVED: u32 = 0x2ECC71;

/// What an unset `title` renders.
pub const DEFAULT_TITLE: &str = r#"{{ template "discord.default.title" . }}"#;
/// What an unset `message` renders.
pub const DEFAULT_MESSAGE: &str = r#"{{ template "discord.default.message" . }}"#;

/// The mark left where a field was cut.
const ELLIPSIS: char = '…';

/// Discord's documented length limits, in Unicode characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub title: usize,
    pub description: usize,
    pub content: usize,
    /// Every embed's text together (title, description, …).
    pub embed_total: usize,
    pub username: usize,
}

/// The limits of Discord's "Execute Webhook" endpoint.
pub const DISCORD_LIMITS: Limits = Limits {
    title: 256,
    description: 4096,
    content: 2000,
    embed_total: 6000,
    username: 80,
};

/// The webhook body, in Alertmanager's field order. `content` is always
/// sent (Alertmanager 0.25 sends `""`); `username` and `avatar_url` only
/// when set, as newer releases do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payload {
    pub content: String,
    pub embeds: Vec<Embed>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub avatar_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub color: u32,
}

/// The rendered texts of one notification, before any cutting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    pub title: String,
    pub description: String,
    pub content: String,
    pub username: String,
    pub avatar_url: String,
}

impl Payload {
    /// Builds the body and cuts every field to `limits`; also returns the
    /// fields that were cut, with their length before, for the warning.
    pub fn build(
        texts: Texts,
        status: AlertStatus,
        limits: &Limits,
    ) -> (Payload, Vec<(&'static str, usize)>) {
        let mut cut = Vec::new();
        let mut fit =
            |field: &'static str, text: String, max: usize| match truncate_chars(&text, max) {
                Some(short) => {
                    cut.push((field, text.chars().count()));
                    short
                }
                None => text,
            };
        let title = fit("title", texts.title, limits.title);
        let mut description = fit("description", texts.description, limits.description);
        let content = fit("content", texts.content, limits.content);
        let username = fit("username", texts.username, limits.username);
        // The per-field limits of one embed add up to less than the total
        // today; this keeps the promise should either change.
        let title_chars = title.chars().count();
        let room = limits.embed_total.saturating_sub(title_chars);
        if let Some(short) = truncate_chars(&description, room) {
            cut.push(("embed_total", title_chars + description.chars().count()));
            description = short;
        }
        let color = match status {
            AlertStatus::Firing => COLOR_FIRING,
            AlertStatus::Resolved => COLOR_RESOLVED,
        };
        let payload = Payload {
            content,
            embeds: vec![Embed {
                title,
                description,
                color,
            }],
            username,
            avatar_url: texts.avatar_url,
        };
        (payload, cut)
    }
}

/// `text` cut to at most `max` Unicode characters, the last being "…";
/// `None` when it already fits. Counting characters, not bytes, is what
/// Discord does, and cutting on a character boundary never splits UTF-8.
pub fn truncate_chars(text: &str, max: usize) -> Option<String> {
    let mut starts = text.char_indices().map(|(i, _)| i);
    // Where the kept part ends: the start of character number `max - 1`,
    // which the ellipsis replaces.
    let keep = match max.checked_sub(1) {
        Some(n) => starts.nth(n)?,
        None => 0,
    };
    // A character at position `max` means the text is too long.
    starts.next()?;
    if max == 0 {
        return Some(String::new());
    }
    let mut out = String::with_capacity(keep + ELLIPSIS.len_utf8());
    out.push_str(&text[..keep]);
    out.push(ELLIPSIS);
    Some(out)
}

pub fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
        code: Option<i64>,
        errors: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => {
            let mut out = e.message;
            if let Some(code) = e.code {
                out.push_str(&format!(" (code {code})"));
            }
            if let Some(errors) = e.errors {
                out.push_str(": ");
                out.push_str(&body_excerpt(errors.to_string().as_bytes()));
            }
            out
        }
        Err(_) => body_excerpt(body),
    }
}

// --------------------------------------------------------------- notifier

/// A `discord_configs` entry, ready to send.
pub struct Discord {
    config: DiscordConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    rate_limits: Arc<RateLimits>,
    metrics: Arc<Metrics>,
}

impl Discord {
    /// `rate_limits` is shared by every Discord notifier of the pipeline.
    pub fn new(
        config: DiscordConfig,
        templates: Arc<Templates>,
        rate_limits: Arc<RateLimits>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Discord {
            config,
            client,
            templates,
            rate_limits,
            metrics,
        })
    }

    /// Renders a templated field. A render error never drops the
    /// notification: the field's default is rendered instead, and if even
    /// that fails, a plain text built here.
    fn render(
        &self,
        msg: &Notification,
        data: &Data,
        field: &'static str,
        text: &str,
        default: Option<&str>,
    ) -> String {
        let error = match self.templates.render(text, Flavor::Text, data) {
            Ok(out) => return out,
            Err(e) => e,
        };
        self.templates.count_failure();
        let fallback = default
            .filter(|d| *d != text)
            .and_then(|d| self.templates.render(d, Flavor::Text, data).ok());
        tracing::warn!(
            receiver = %msg.receiver,
            integration = "discord",
            group_key = %msg.group_key,
            field,
            error = %error,
            "rendering a Discord field failed; sending the default text instead"
        );
        fallback.unwrap_or_else(|| match field {
            "title" => fallback_title(data),
            "message" => fallback_message(data),
            _ => String::new(),
        })
    }

    /// Renders and cuts the payload for `msg`; warns and counts each cut.
    pub fn payload(&self, msg: &Notification) -> Payload {
        let data = Data::new(msg);
        let title = self.config.title.as_deref().unwrap_or(DEFAULT_TITLE);
        let message = self.config.message.as_deref().unwrap_or(DEFAULT_MESSAGE);
        let texts = Texts {
            title: self.render(msg, &data, "title", title, Some(DEFAULT_TITLE)),
            description: self.render(msg, &data, "message", message, Some(DEFAULT_MESSAGE)),
            content: match self.config.content.as_deref() {
                Some(c) => self.render(msg, &data, "content", c, None),
                None => String::new(),
            },
            // Not templated, as in Alertmanager.
            username: self.config.username.clone().unwrap_or_default(),
            avatar_url: self.config.avatar_url.clone().unwrap_or_default(),
        };
        let (payload, cut) = Payload::build(texts, data.status, &DISCORD_LIMITS);
        for (field, length) in cut {
            tracing::warn!(
                receiver = %msg.receiver,
                integration = "discord",
                group_key = %msg.group_key,
                field,
                length,
                "truncated to Discord's length limit"
            );
            self.metrics.truncated("discord", field);
        }
        payload
    }

    async fn url(&self) -> Result<String, NotifyError> {
        match (&self.config.webhook_url, &self.config.webhook_url_file) {
            (Some(url), _) => Ok(url.expose().to_owned()),
            (None, Some(file)) => read_secret_file("webhook_url_file", file).await,
            (None, None) => Err(NotifyError::permanent(
                "no webhook_url or webhook_url_file configured",
            )),
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = encode_body(&self.payload(msg))?;
        let url = self.url().await?;
        let queue = self.rate_limits.bucket(&url);
        // Held until the answer is read: sends to one webhook go one at a
        // time, each seeing the bucket the previous answer left.
        let mut bucket = queue.lock().await;
        loop {
            let now = Instant::now();
            let ready = bucket
                .ready_at(now)
                .into_iter()
                .chain(self.rate_limits.global_until().filter(|t| *t > now))
                .max();
            match ready {
                Some(at) => tokio::time::sleep_until(at).await,
                None => break,
            }
        }
        let answer = self.client.send_json(&url, body).await?;
        let now = Instant::now();
        bucket.update(&answer.headers, now);
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            let limited = parse_rate_limit(&answer.headers, &answer.body);
            let wait = limited.wait.unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
            bucket.block_until(now + wait);
            if limited.global {
                self.rate_limits.block_all_until(now + wait);
            }
            tracing::warn!(
                receiver = %msg.receiver,
                integration = "discord",
                group_key = %msg.group_key,
                wait_seconds = wait.as_secs_f64(),
                global = limited.global,
                "rate limited by Discord; retrying after its wait"
            );
            return Err(answer.redact(NotifyError::Retryable {
                status: Some(429),
                reason: format!("rate limited: {}", limited.message),
                retry_after: Some(wait),
            }));
        }
        if answer.status.is_client_error() {
            return Err(answer.redact(NotifyError::Permanent {
                status: Some(answer.status.as_u16()),
                reason: error_message(&answer.body),
            }));
        }
        answer.classify()
    }
}

impl Notifier for Discord {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.payload(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

// ------------------------------------------------------ last-resort texts

/// Alertmanager's `__subject` (which `discord.default.title` is), for when
/// no template renders: `[FIRING:2] <group label values> (<other common
/// label values>)`.
pub fn fallback_title(data: &Data) -> String {
    let mut out = format!("[{}", data.status.as_str().to_uppercase());
    if data.status == AlertStatus::Firing {
        let firing = data.alerts_with(AlertStatus::Firing).count();
        out.push_str(&format!(":{firing}"));
    }
    out.push_str("] ");
    let group: Vec<&str> = data.group_labels.iter().map(|(_, v)| v).collect();
    out.push_str(&group.join(" "));
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

/// A plain list of the alerts with their labels, annotations and source,
/// for when no template renders.
pub fn fallback_message(data: &Data) -> String {
    let mut out = String::new();
    for (status, heading) in [
        (AlertStatus::Firing, "Alerts Firing:"),
        (AlertStatus::Resolved, "Alerts Resolved:"),
    ] {
        let mut alerts = data.alerts_with(status).peekable();
        if alerts.peek().is_none() {
            continue;
        }
        out.push_str(heading);
        out.push('\n');
        for a in alerts {
            out.push_str("Labels:\n");
            for (k, v) in a.labels.iter() {
                out.push_str(&format!(" - {k} = {v}\n"));
            }
            out.push_str("Annotations:\n");
            for (k, v) in a.annotations.iter() {
                out.push_str(&format!(" - {k} = {v}\n"));
            }
            if !a.generator_url.is_empty() {
                out.push_str(&format!("Source: {}\n", a.generator_url));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
#[path = "discord_tests.rs"]
mod tests;
