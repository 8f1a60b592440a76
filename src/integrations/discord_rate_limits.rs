//! Discord's rate limits, per webhook: the queue and bucket every Discord
//! notifier of a pipeline shares, and what a 429 says about how long to
//! wait. Part of `discord.rs`, apart only to keep that file readable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

use crate::integrations::http::body_excerpt;

/// How long to wait after a 429 that says nothing about when to come back.
pub(super) const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// No rate-limit wait is believed beyond this: a broken header must not
/// park a webhook's queue for days (the retry deadline gives up sooner).
pub(super) const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3600);

/// Discord's rate-limit state for every webhook one pipeline posts to,
/// shared by all its Discord notifiers so that two receivers posting to the
/// same channel share one queue and one bucket.
///
/// Deliberately without `Debug`: its keys are webhook URLs, which hold the
/// webhook's token.
#[derive(Default)]
pub struct RateLimits {
    /// Webhook (URL without query) → its queue and bucket. The async lock
    /// is held across the wait and the request: it *is* the queue.
    webhooks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Bucket>>>>,
    /// Until when Discord said every request from us is limited
    /// (`"global": true`); applies to all webhooks.
    global_until: Mutex<Option<Instant>>,
}

impl RateLimits {
    pub fn new() -> Self {
        Self::default()
    }

    /// The queue of the webhook at `url`. Discord limits per webhook, not
    /// per query string (`?wait=true`, `?thread_id=…` share a bucket).
    pub(super) fn bucket(&self, url: &str) -> Arc<tokio::sync::Mutex<Bucket>> {
        let key = url.split(['?', '#']).next().unwrap_or(url);
        self.webhooks
            .lock()
            .expect("rate limit map")
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    pub(super) fn global_until(&self) -> Option<Instant> {
        *self.global_until.lock().expect("global rate limit")
    }

    pub(super) fn block_all_until(&self, until: Instant) {
        let mut g = self.global_until.lock().expect("global rate limit");
        *g = Some(g.map_or(until, |t| t.max(until)));
    }
}

/// One webhook's bucket as Discord last described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Requests left before the reset (`X-RateLimit-Remaining`).
    remaining: Option<u64>,
    /// When the bucket refills (now + `X-RateLimit-Reset-After`).
    reset_at: Option<Instant>,
    /// Set by a 429: nothing goes to this webhook before then.
    blocked_until: Option<Instant>,
}

impl Bucket {
    /// When the next request may go; `None` means now.
    pub fn ready_at(&self, now: Instant) -> Option<Instant> {
        let exhausted = match (self.remaining, self.reset_at) {
            (Some(0), Some(reset)) => Some(reset),
            _ => None,
        };
        exhausted
            .into_iter()
            .chain(self.blocked_until)
            .max()
            .filter(|t| *t > now)
    }

    /// Reads the bucket headers Discord sends on every answer.
    pub fn update(&mut self, headers: &HeaderMap, now: Instant) {
        if let Some(remaining) =
            header_str(headers, "x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok())
        {
            self.remaining = Some(remaining);
            self.reset_at = header_secs(headers, "x-ratelimit-reset-after").map(|d| now + d);
        }
    }

    pub(super) fn block_until(&mut self, until: Instant) {
        self.blocked_until = Some(self.blocked_until.map_or(until, |t| t.max(until)));
    }
}

/// What a 429 said.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimited {
    /// How long to wait; `None` when neither body nor headers said.
    pub wait: Option<Duration>,
    /// Every request from us is limited, not just this webhook's.
    pub global: bool,
    /// Discord's `message`, for the error text.
    pub message: String,
}

#[derive(serde::Deserialize)]
struct RateLimitBody {
    #[serde(default)]
    message: String,
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

/// Reads a 429: the JSON body's `retry_after` (float seconds), else
/// `X-RateLimit-Reset-After` (float seconds), else `Retry-After` (whole
/// seconds).
///
/// Webhook URLs as Discord hands them out carry no API version, and
/// unversioned requests get the old API, whose `retry_after` is in
/// milliseconds. Discord's `Retry-After` header is always whole seconds
/// rounded up, so a body value well above the header's is milliseconds.
pub fn parse_rate_limit(headers: &HeaderMap, body: &[u8]) -> RateLimited {
    let parsed: Option<RateLimitBody> = serde_json::from_slice(body).ok();
    let header_wait = header_secs(headers, "x-ratelimit-reset-after")
        .or_else(|| header_secs(headers, RETRY_AFTER.as_str()));
    let body_wait = parsed
        .as_ref()
        .and_then(|b| b.retry_after)
        .map(|secs| match header_wait {
            Some(h) if secs > 2.0 * h.as_secs_f64() + 1.0 => secs / 1000.0,
            _ => secs,
        });
    let wait = body_wait.and_then(secs_to_duration).or(header_wait);
    let global = parsed.as_ref().is_some_and(|b| b.global)
        || header_str(headers, "x-ratelimit-global")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let message = parsed
        .map(|b| b.message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| body_excerpt(body));
    RateLimited {
        wait,
        global,
        message,
    }
}

/// Discord's answer to a bad request, e.g. `Invalid Form Body (code
/// 50035): {"embeds":…}`; the raw excerpt when it is not Discord's JSON.
fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A header holding (fractional) seconds.
fn header_secs(headers: &HeaderMap, name: &str) -> Option<Duration> {
    header_str(headers, name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(secs_to_duration)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .map(|d| d.min(MAX_RATE_LIMIT_WAIT))
}
