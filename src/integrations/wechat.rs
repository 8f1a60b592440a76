//! WeChat Work (`wechat_configs`): an access token fetched from `gettoken`
//! with the corp ID and API secret, reused for two hours (or until WeChat
//! says it expired, errcode 42001), then `message/send` with a text or
//! markdown message.
//!
//! As in Alertmanager 0.34: any status but 200 is retryable; a 200 answer
//! carries the outcome in `errcode` (0 is success, 42001 drops the token
//! and retries, anything else is a permanent failure with WeChat's
//! `errmsg`). The token and the secret ride in query strings, which never
//! reach an error text or a log line.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::http::{HttpClient, Request, read_secret_file};
use super::{Notification, Notifier, NotifyError, NotifyFuture, encode_body};
use crate::config::WechatConfig;
use crate::http_client::HttpClientError;
use crate::template::{Data, Flavor, Templates};

/// What an unset `message` renders.
pub const DEFAULT_MESSAGE: &str = r#"{{ template "wechat.default.message" . }}"#;
/// How long a token is reused (Alertmanager's rule; WeChat's tokens last
/// two hours).
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);
/// WeChat's "access token expired" code.
const TOKEN_EXPIRED: i64 = 42001;
/// The most of an answer read.
const ANSWER_LIMIT: usize = 64 * 1024;

pub struct Wechat {
    config: WechatConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    token: Mutex<Option<(String, Instant)>>,
}

/// The `message/send` body, in Alertmanager's field order. Go's
/// `omitempty` does not omit a struct, so both `text` and `markdown` are
/// always there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub text: Content,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub touser: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub toparty: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub totag: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub agentid: String,
    pub safe: &'static str,
    pub msgtype: String,
    pub markdown: Content,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Content {
    pub content: String,
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    access_token: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl Wechat {
    pub fn new(config: WechatConfig, templates: Arc<Templates>) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Wechat {
            config,
            client,
            templates,
            token: Mutex::new(None),
        })
    }

    fn render(&self, field: &str, text: Option<&str>, default: &str, data: &Data) -> String {
        let text = text.unwrap_or(default);
        self.templates
            .render_or_default(field, text, default, Flavor::Text, data)
    }

    /// The body for `msg`.
    pub fn message(&self, msg: &Notification) -> Message {
        let c = &self.config;
        let data = Data::new(msg);
        let text = self.render("message", c.message.as_deref(), DEFAULT_MESSAGE, &data);
        let (plain, markdown) = if c.message_type() == "markdown" {
            (String::new(), text)
        } else {
            (text, String::new())
        };
        Message {
            text: Content { content: plain },
            touser: self.render("to_user", c.to_user.as_deref(), "", &data),
            toparty: self.render("to_party", c.to_party.as_deref(), "", &data),
            totag: self.render("to_tag", c.to_tag.as_deref(), "", &data),
            agentid: self.render("agent_id", c.agent_id.as_deref(), "", &data),
            safe: "0",
            msgtype: c.message_type().to_owned(),
            markdown: Content { content: markdown },
        }
    }

    fn api_url(&self) -> &str {
        self.config.api_url.as_deref().unwrap_or_default()
    }

    /// The cached token, or a new one from `gettoken`.
    async fn token(&self, msg: &Notification) -> Result<String, NotifyError> {
        if let Some((token, at)) = self.token.lock().expect("not poisoned").clone()
            && at.elapsed() < TOKEN_LIFETIME
        {
            return Ok(token);
        }
        let secret = match (&self.config.api_secret, &self.config.api_secret_file) {
            (Some(s), _) => s.expose().to_owned(),
            (None, Some(f)) => read_secret_file("api_secret_file", f).await?,
            (None, None) => return Err(NotifyError::permanent("no api_secret configured")),
        };
        let data = Data::new(msg);
        let corp_id = self.render("corp_id", self.config.corp_id.as_deref(), "", &data);
        let mut url = reqwest::Url::parse(&format!("{}gettoken", self.api_url()))
            .map_err(|e| NotifyError::permanent(format!("invalid api_url: {e}")))?;
        // Go's url.Values.Encode sorts by key.
        url.query_pairs_mut()
            .append_pair("corpid", &corp_id)
            .append_pair("corpsecret", &secret);
        let answer = self
            .client
            .request(Request::get(url.as_str()), ANSWER_LIMIT)
            .await?;
        let token: Token = answer
            .json()
            .map_err(|e| NotifyError::permanent(format!("reading the token answer: {e}")))?;
        if token.access_token.is_empty() {
            return Err(NotifyError::permanent(format!(
                "invalid APISecret for CorpID: {corp_id}"
            )));
        }
        *self.token.lock().expect("not poisoned") =
            Some((token.access_token.clone(), Instant::now()));
        Ok(token.access_token)
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let body = encode_body(&self.message(msg))?;
        let token = self.token(msg).await?;
        let mut url = reqwest::Url::parse(&format!("{}message/send", self.api_url()))
            .map_err(|e| NotifyError::permanent(format!("invalid api_url: {e}")))?;
        url.query_pairs_mut().append_pair("access_token", &token);
        let answer = self
            .client
            .request(
                Request::post(url.as_str(), "application/json", body),
                ANSWER_LIMIT,
            )
            .await?;
        if answer.status.as_u16() != 200 {
            // Alertmanager retries every status but 200.
            return Err(answer.redact(NotifyError::Retryable {
                status: Some(answer.status.as_u16()),
                reason: super::http::body_excerpt(&answer.body),
                retry_after: None,
            }));
        }
        let outcome: Answer = answer.json().map_err(|e| match e {
            NotifyError::Permanent { status, reason } => NotifyError::Retryable {
                status,
                reason,
                retry_after: None,
            },
            other => other,
        })?;
        match outcome.errcode {
            0 => Ok(()),
            TOKEN_EXPIRED => {
                *self.token.lock().expect("not poisoned") = None;
                Err(answer.redact(NotifyError::retryable(outcome.errmsg)))
            }
            code => Err(answer.redact(NotifyError::permanent(format!(
                "{} (errcode {code})",
                outcome.errmsg
            )))),
        }
    }
}

impl Notifier for Wechat {
    fn name(&self) -> &'static str {
        "wechat"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = encode_body(&self.message(msg))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "wechat_tests.rs"]
mod tests;
