//! Opsgenie (`opsgenie_configs`): the Alert API v2. A firing group creates
//! (or, Opsgenie deduplicating by alias, refreshes) an alert whose alias is
//! the SHA-256 of the group key; a resolved group closes it; with
//! `update_alerts` the message and description of an existing alert are
//! updated too.
//!
//! As in Alertmanager 0.34: 429 and 5xx are retried (after
//! `Retry-After`), other statuses are permanent; the message is cut to 130
//! characters. The API key (a `GenieKey` header) never reaches an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Serialize;

use super::http::{HttpClient, Request, secret_or_file};
use super::{
    AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body, group_key_hash,
    truncate,
};
use crate::config::OpsgenieConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Opsgenie's limit for an alert message, in runes.
pub const MAX_MESSAGE_RUNES: usize = 130;
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Opsgenie {
    config: OpsgenieConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The create body, in Alertmanager's field order and `omitempty` rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Create {
    pub alias: String,
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub details: BTreeMap<String, String>,
    pub source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<Responder>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub priority: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub entity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Responder {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One API call the notification makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: Method,
    /// Relative to `api_url`.
    pub path: String,
    pub body: Vec<u8>,
}

/// Alertmanager's `safeSplit`: comma-separated, blanks dropped.
fn split(s: &str) -> Vec<String> {
    s.trim()
        .split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Opsgenie {
    pub fn new(
        config: OpsgenieConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Opsgenie {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn render(&self, text: &str, data: &Data) -> Result<String, NotifyError> {
        self.templates
            .render(text, Flavor::Text, data)
            .map_err(|e| NotifyError::permanent(format!("templating error: {e}")))
    }

    fn field(
        &self,
        value: Option<&String>,
        default: &str,
        data: &Data,
    ) -> Result<String, NotifyError> {
        let default = if default.is_empty() {
            String::new()
        } else {
            format!("{{{{ template \"opsgenie.default.{default}\" . }}}}")
        };
        self.render(value.map_or(default.as_str(), String::as_str), data)
    }

    /// The calls for `msg`: close when resolved; create (and update) else.
    pub fn calls(&self, msg: &Notification) -> Result<Vec<Call>, NotifyError> {
        let c = &self.config;
        let data = Data::new(msg);
        let alias = group_key_hash(&msg.group_key);
        let source = self.field(c.source.as_ref(), "source", &data)?;
        if msg.status() == AlertStatus::Resolved {
            return Ok(vec![Call {
                method: Method::POST,
                path: format!("v2/alerts/{alias}/close?identifierType=alias"),
                body: encode_body(&serde_json::json!({"source": source}))?,
            }]);
        }
        let message = self.field(c.message.as_ref(), "message", &data)?;
        let message = truncate::field(
            &self.metrics,
            "opsgenie",
            "message",
            message,
            MAX_MESSAGE_RUNES,
            truncate::in_runes,
        );
        let mut details: BTreeMap<String, String> = data
            .common_labels
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (k, v) in &c.details {
            details.insert(k.clone(), self.render(v, &data)?);
        }
        let mut responders = Vec::new();
        for r in &c.responders {
            let responder = Responder {
                id: self.render(&r.id, &data)?,
                name: self.render(&r.name, &data)?,
                username: self.render(&r.username, &data)?,
                kind: self.render(&r.kind, &data)?,
            };
            // An empty responder (filled from labels that were not there)
            // is dropped; `teams` is one responder per listed team.
            if responder == Responder::default() {
                continue;
            }
            if responder.kind == "teams" {
                for team in split(&responder.name) {
                    responders.push(Responder {
                        name: self.render(&team, &data)?,
                        kind: "team".into(),
                        ..Responder::default()
                    });
                }
                continue;
            }
            responders.push(responder);
        }
        let create = Create {
            alias: alias.clone(),
            message,
            description: self.field(c.description.as_ref(), "description", &data)?,
            details,
            source,
            responders,
            tags: split(&self.field(c.tags.as_ref(), "", &data)?),
            note: self.field(c.note.as_ref(), "", &data)?,
            priority: self.field(c.priority.as_ref(), "", &data)?,
            entity: self.field(c.entity.as_ref(), "", &data)?,
            actions: split(&self.field(c.actions.as_ref(), "", &data)?),
        };
        let mut calls = vec![Call {
            method: Method::POST,
            path: "v2/alerts".into(),
            body: encode_body(&create)?,
        }];
        if c.update_alerts {
            let omit_empty = |key: &str, value: &str| {
                if value.is_empty() {
                    serde_json::json!({})
                } else {
                    serde_json::json!({ key: value })
                }
            };
            calls.push(Call {
                method: Method::PUT,
                path: format!("v2/alerts/{alias}/message?identifierType=alias"),
                body: encode_body(&omit_empty("message", &create.message))?,
            });
            calls.push(Call {
                method: Method::PUT,
                path: format!("v2/alerts/{alias}/description?identifierType=alias"),
                body: encode_body(&omit_empty("description", &create.description))?,
            });
        }
        Ok(calls)
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let key =
            secret_or_file(c.api_key.as_ref(), c.api_key_file.as_ref(), "api_key_file").await?;
        let key = self.render(key.trim(), &Data::new(msg))?;
        let hide = |e: NotifyError| e.without(&key);
        let mut auth = HeaderValue::from_str(&format!("GenieKey {key}")).map_err(|_| {
            NotifyError::permanent("the Opsgenie API key is not a valid header value")
        })?;
        auth.set_sensitive(true);
        let base = c.api_url.as_deref().unwrap_or_default();
        for call in self.calls(msg).map_err(hide)? {
            let url = format!("{base}{}", call.path);
            let request = Request {
                method: call.method,
                url: &url,
                content_type: Some("application/json"),
                headers: vec![(AUTHORIZATION, auth.clone())],
                body: Some(call.body),
                // The GenieKey is the credential; `http_config` auth would
                // replace it.
                authorize: false,
            };
            let answer = self
                .client
                .request(request, ANSWER_LIMIT)
                .await
                .map_err(hide)?;
            answer.classify().map_err(hide)?;
        }
        Ok(())
    }
}

impl Notifier for Opsgenie {
    fn name(&self) -> &'static str {
        "opsgenie"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let calls = self.calls(msg)?;
        Ok(calls
            .iter()
            .map(|c| {
                format!(
                    "{} {}\n{}",
                    c.method,
                    c.path,
                    String::from_utf8_lossy(&c.body)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

#[cfg(test)]
#[path = "opsgenie_tests.rs"]
mod tests;
