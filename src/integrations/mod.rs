//! Integrations: the last step of the pipeline. A [`Notifier`] renders one
//! [`Notification`] (a flushed aggregation group) for its service, sends it,
//! and classifies the answer as a [`NotifyError`]. Retrying is not its job:
//! `notify::retry` does that once for every integration.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::IntegrationRef;
use crate::metrics::Metrics;
use crate::template::Templates;

pub use crate::notification::{
    AlertStatus, Notification, common_annotations, common_labels, group_key_hash,
};

/// Discord webhooks: embeds, length limits, rate limits.
pub mod discord;
/// Email over SMTP (Gmail-ready: STARTTLS or implicit TLS, AUTH).
pub mod email;
/// The shared HTTP client and the HTTP answer classifier.
pub mod http;
/// AWS credentials, STS and Signature Version 4 (for SNS).
pub mod aws;
/// incident.io alert sources.
pub mod incidentio;
/// Jira issues, one per alert group.
pub mod jira;
/// Mattermost incoming webhooks.
pub mod mattermost;
/// Microsoft Teams: Office 365 connector webhooks (message cards).
pub mod msteams;
/// Microsoft Teams: Workflows webhooks (adaptive cards).
pub mod msteamsv2;
/// Opsgenie's Alert API.
pub mod opsgenie;
/// PagerDuty's Events API (v2 and v1).
pub mod pagerduty;
/// Pushover messages.
pub mod pushover;
/// Rocket.Chat's chat.postMessage.
pub mod rocketchat;
/// Slack: incoming webhooks and the Web API.
pub mod slack;
/// Amazon SNS.
pub mod sns;
/// WeChat Work application messages.
pub mod wechat;
/// Telegram bots.
pub mod telegram;
/// Splunk On-Call (VictorOps).
pub mod victorops;
/// Cutting fields to a service's limits, as Alertmanager does.
pub mod truncate;
/// Webex room messages.
pub mod webex;
/// The generic webhook (payload version 4).
pub mod webhook;

/// Why a receiver's integration cannot be built from a validated config
/// (a config error at load or reload).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Http(#[from] http::HttpClientError),
    #[error(transparent)]
    Email(#[from] email::EmailBuildError),
    #[error("tracing: {0}")]
    Tracing(#[from] crate::trace_export::TraceExportError),
}

/// What the notifiers built from one config share: the compiled templates,
/// the metrics, and per-service state that spans receivers (Discord's rate
/// limits are per webhook, whichever receiver posts to it).
pub struct Shared {
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
    discord_limits: Arc<discord::RateLimits>,
    /// The AWS variables of the environment, read once per config.
    aws_env: aws::AwsEnv,
}

impl Shared {
    pub fn new(templates: Arc<Templates>, metrics: Arc<Metrics>) -> Self {
        Shared {
            templates,
            metrics,
            discord_limits: Arc::new(discord::RateLimits::new()),
            aws_env: aws::AwsEnv::from_process(),
        }
    }
}

/// Builds the notifier of one integration config: the only `match` over
/// integration kinds.
pub fn build(config: IntegrationRef<'_>, shared: &Shared) -> Result<Box<dyn Notifier>, BuildError> {
    let templates = shared.templates.clone();
    Ok(match config {
        IntegrationRef::Webhook(c) => Box::new(webhook::Webhook::new(c.clone(), templates)?),
        IntegrationRef::Discord(c) => Box::new(discord::Discord::new(
            c.clone(),
            templates,
            shared.discord_limits.clone(),
            shared.metrics.clone(),
        )?),
        IntegrationRef::Email(c) => Box::new(email::Email::new(c.clone(), templates)?),
        IntegrationRef::Slack(c) => Box::new(slack::Slack::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::MsTeams(c) => Box::new(msteams::MsTeams::new(c.clone(), templates)?),
        IntegrationRef::MsTeamsV2(c) => Box::new(msteamsv2::MsTeamsV2::new(c.clone(), templates)?),
        IntegrationRef::Mattermost(c) => Box::new(mattermost::Mattermost::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Rocketchat(c) => Box::new(rocketchat::Rocketchat::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Incidentio(c) => Box::new(incidentio::Incidentio::new(
            c.clone(),
            shared.metrics.clone(),
        )?),
        IntegrationRef::Jira(c) => Box::new(jira::Jira::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Telegram(c) => Box::new(telegram::Telegram::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Pagerduty(c) => Box::new(pagerduty::Pagerduty::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Opsgenie(c) => Box::new(opsgenie::Opsgenie::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::VictorOps(c) => Box::new(victorops::VictorOps::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Pushover(c) => Box::new(pushover::Pushover::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Webex(c) => Box::new(webex::Webex::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
        )?),
        IntegrationRef::Wechat(c) => Box::new(wechat::Wechat::new(c.clone(), templates)?),
        IntegrationRef::Sns(c) => Box::new(sns::Sns::new(
            c.clone(),
            templates,
            shared.metrics.clone(),
            shared.aws_env.clone(),
        )?),
    })
}

/// Per-group values an integration keeps between notifications, stored in
/// the notification log.
pub type NotifyState = std::sync::Mutex<std::collections::BTreeMap<String, String>>;

/// What a [`Notifier::notify`] call returns: boxed so that `dyn Notifier`
/// works (a receiver holds a list of different integrations).
pub type NotifyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// One integration of a receiver (Alertmanager's `notify.Notifier`).
pub trait Notifier: Send + Sync {
    /// The integration kind as Alertmanager names it (`webhook`, `discord`,
    /// `email`), for logs and metrics labels.
    fn name(&self) -> &'static str;

    /// Whether resolved notifications are sent (`send_resolved`).
    fn send_resolved(&self) -> bool;

    /// Renders and sends one notification, once. Retries belong to the caller.
    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a>;

    /// [`Notifier::notify`] for an integration that keeps values per group
    /// between notifications (Slack's message to update): `state` holds
    /// what the last successful notification left, and what this one
    /// leaves is stored with its notification-log entry.
    fn notify_with_state<'a>(
        &'a self,
        msg: &'a Notification,
        _state: &'a NotifyState,
    ) -> NotifyFuture<'a> {
        self.notify(msg)
    }

    /// What `notify` would send for `msg`, rendered but not sent: the
    /// request body, or the whole email (`amctl template render`).
    fn preview(&self, msg: &Notification) -> Result<String, NotifyError>;
}

/// Why a notification failed, and whether trying again may help.
///
/// The text never contains a URL: webhook and Discord URLs carry secrets in
/// their path, so reqwest errors are stripped of theirs before they get here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A server error, a rate limit or a network problem: try again,
    /// after `retry_after` when the server said how long to wait.
    #[error("{}{reason} (retryable)", StatusPrefix(*status))]
    Retryable {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        reason: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The request itself is wrong (4xx, bad config, unreadable file):
    /// sending it again would fail the same way.
    #[error("{}{reason}", StatusPrefix(*status))]
    Permanent { status: Option<u16>, reason: String },
}

impl NotifyError {
    pub fn retryable(reason: impl Into<String>) -> Self {
        NotifyError::Retryable {
            status: None,
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        NotifyError::Permanent {
            status: None,
            reason: reason.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, NotifyError::Retryable { .. })
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            NotifyError::Retryable { status, .. } | NotifyError::Permanent { status, .. } => {
                *status
            }
        }
    }

    /// The same error with its text rewritten (to take a secret out of it).
    pub fn map_reason(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            NotifyError::Retryable {
                status,
                reason,
                retry_after,
            } => NotifyError::Retryable {
                status,
                reason: f(reason),
                retry_after,
            },
            NotifyError::Permanent { status, reason } => NotifyError::Permanent {
                status,
                reason: f(reason),
            },
        }
    }

    /// The same error with `secret` (a token a server may echo back)
    /// removed in every form [`crate::secrets::Secrets`] knows.
    pub fn without(self, secret: &str) -> Self {
        let mut secrets = crate::secrets::Secrets::default();
        secrets.add(secret);
        self.map_reason(|r| secrets.scrub(&r))
    }

    /// How long the server asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            NotifyError::Retryable { retry_after, .. } => *retry_after,
            NotifyError::Permanent { .. } => None,
        }
    }
}

struct StatusPrefix(Option<u16>);

impl fmt::Display for StatusPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, "unexpected status code {s}: "),
            None => Ok(()),
        }
    }
}

/// [`encode_json_like_go`] for a request body: a failure is permanent
/// (sending the same value again would fail the same way).
pub fn encode_body<T: Serialize>(value: &T) -> Result<Vec<u8>, NotifyError> {
    encode_json_like_go(value)
        .map_err(|e| NotifyError::permanent(format!("encoding the request body: {e}")))
}

/// Encodes `value` as Go's `json.NewEncoder(w).Encode` does, so bodies are
/// byte-identical to Alertmanager's: `<`, `>`, `&`, U+2028 and U+2029 in
/// strings are `\u` escaped (Go's `SetEscapeHTML(true)` default), and a
/// newline ends the document.
pub fn encode_json_like_go<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Bytes, not chars: everything escaped here is ASCII or starts
        // with the byte 0xE2 (U+2028 and U+2029 are E2 80 A8 and E2 80 A9).
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped = match b {
                b'<' => "\\u003c",
                b'>' => "\\u003e",
                b'&' => "\\u0026",
                0xE2 if bytes.get(i + 1) == Some(&0x80) => match bytes.get(i + 2) {
                    Some(0xA8) => "\\u2028",
                    Some(0xA9) => "\\u2029",
                    _ => continue,
                },
                _ => continue,
            };
            writer.write_all(&bytes[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + if b == 0xE2 { 3 } else { 1 };
        }
        writer.write_all(&bytes[start..])
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::{Arc, Once};

    use chrono::{DateTime, Utc};

    use crate::alert::Alert;
    use crate::labels::LabelSet;

    /// reqwest panics without a process-wide rustls provider.
    pub fn install_crypto() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
    }

    /// One request a [`LocalService`] received.
    #[derive(Debug, Clone)]
    pub struct Received {
        pub method: String,
        /// Path and query, as sent.
        pub target: String,
        pub headers: axum::http::HeaderMap,
        pub body: Vec<u8>,
    }

    impl Received {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    /// A scripted answer: status, headers, body.
    pub type Answer = (u16, Vec<(&'static str, String)>, String);

    /// A service on loopback that records every request and answers from
    /// a script (then with `fallback`), for any method and path.
    #[derive(Clone)]
    pub struct LocalService {
        pub base: String,
        received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    }

    impl LocalService {
        pub async fn start(script: Vec<Answer>, fallback: Answer) -> LocalService {
            use std::collections::VecDeque;
            use std::sync::Mutex;
            let received = Arc::new(Mutex::new(Vec::new()));
            let script = Arc::new(Mutex::new(VecDeque::from(script)));
            let (rec, scr) = (received.clone(), script.clone());
            let handler = move |req: axum::extract::Request| {
                let (rec, scr, fallback) = (rec.clone(), scr.clone(), fallback.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let body = axum::body::to_bytes(body, 1 << 24)
                        .await
                        .unwrap_or_default();
                    rec.lock().unwrap().push(Received {
                        method: parts.method.to_string(),
                        target: parts
                            .uri
                            .path_and_query()
                            .map_or_else(|| parts.uri.path().to_owned(), |p| p.to_string()),
                        headers: parts.headers,
                        body: body.to_vec(),
                    });
                    let (status, headers, body) =
                        scr.lock().unwrap().pop_front().unwrap_or(fallback);
                    let mut resp = axum::response::Response::new(axum::body::Body::from(body));
                    *resp.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                    for (k, v) in headers {
                        resp.headers_mut()
                            .insert(k, axum::http::HeaderValue::from_str(&v).unwrap());
                    }
                    resp
                }
            };
            let app = axum::Router::new().fallback(handler);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            LocalService { base, received }
        }

        pub fn received(&self) -> Vec<Received> {
            self.received.lock().unwrap().clone()
        }
    }

    pub fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        let mut l = LabelSet::new();
        for (k, v) in pairs {
            l.insert(*k, *v);
        }
        l
    }

    pub fn alert(
        labels_: &[(&str, &str)],
        annotations: &[(&str, &str)],
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Arc<Alert> {
        Arc::new(Alert {
            labels: labels(labels_),
            annotations: labels(annotations),
            starts_at,
            ends_at,
            generator_url: "".into(),
            updated_at: starts_at,
            timeout: false,
            fingerprint_cache: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_encoded_like_gos_encoder() {
        let v = serde_json::json!({"u": "a?x=1&y=<2>\u{2028}", "n": 1});
        let got = String::from_utf8(encode_json_like_go(&v).unwrap()).unwrap();
        assert_eq!(
            got,
            "{\"n\":1,\"u\":\"a?x=1\\u0026y=\\u003c2\\u003e\\u2028\"}\n"
        );
    }

    #[test]
    fn error_text_names_the_status_and_retryability() {
        let e = NotifyError::Retryable {
            status: Some(503),
            reason: "busy".into(),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "unexpected status code 503: busy (retryable)"
        );
        assert_eq!(NotifyError::permanent("bad").to_string(), "bad");
    }
}
