//! PagerDuty (`pagerduty_configs`): an Events API v2 event (`routing_key`)
//! or a v1 event (`service_key`) per notification, triggering while the
//! group fires and resolving when it is resolved, deduplicated by the
//! SHA-256 of the group key.
//!
//! As in Alertmanager 0.34: v2 retries 429 and 5xx, v1 retries 403 (its
//! rate limit) and 5xx, both after `Retry-After`; a 400 carries
//! PagerDuty's message and errors; an event over 512 KB has its custom
//! details replaced by a notice. Keys never reach an error text.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::http::{HttpAnswer, HttpClient, Request, secret_or_file};
use super::webhook::render_payload;
use super::{
    AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_json_like_go,
    group_key_hash, truncate,
};
use crate::config::{PAGERDUTY_DEFAULT_CLIENT as DEFAULT_CLIENT, PagerdutyConfig};
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// PagerDuty's limit for an event.
pub const MAX_EVENT_BYTES: usize = 512_000;
/// PagerDuty's limit for a v1 description or v2 summary, in runes.
pub const MAX_SUMMARY_RUNES: usize = 1024;
/// The v1 endpoint, used unless `url` was set to something other than
/// the v2 default (a proxy, a test service).
const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
const V2_DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
const DEFAULT_DESCRIPTION: &str = r#"{{ template "pagerduty.default.description" .}}"#;
const DEFAULT_CLIENT_URL: &str = r#"{{ template "pagerduty.default.clientURL" . }}"#;
const TOO_BIG: &str =
    "Custom details have been removed because the original event exceeds the maximum size of 512KB";
const ANSWER_LIMIT: usize = 16 * 1024;

pub struct Pagerduty {
    config: PagerdutyConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The event, in Alertmanager's field order and `omitempty` rules (one
/// struct for both API versions, as Alertmanager has).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub routing_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dedup_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub incident_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub event_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub event_action: String,
    pub payload: Option<Payload>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    pub summary: String,
    pub source: String,
    pub severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_details: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    pub src: String,
    pub alt: String,
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub href: String,
    pub text: String,
}

impl Pagerduty {
    pub fn new(
        config: PagerdutyConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let timeout = config.timeout.map(|t| t.as_std()).filter(|t| !t.is_zero());
        let client = HttpClient::new(&config.http_config, timeout)?;
        Ok(Pagerduty {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn render(&self, field: &str, text: &str, data: &Data) -> Result<String, NotifyError> {
        self.templates
            .render(text, Flavor::Text, data)
            .map_err(|e| {
                NotifyError::permanent(format!("failed to template PagerDuty {field}: {e}"))
            })
    }

    fn opt(
        &self,
        field: &str,
        value: Option<&String>,
        default: &str,
        data: &Data,
    ) -> Result<String, NotifyError> {
        self.render(field, value.map_or(default, String::as_str), data)
    }

    fn details(&self, data: &Data) -> Result<BTreeMap<String, Value>, NotifyError> {
        self.config
            .details
            .iter()
            .map(|(k, v)| {
                render_payload(v, &|t| self.render("details", t, data)).map(|v| (k.clone(), v))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.map_reason(|r| format!("failed to render details: {r}")))
    }

    /// The event for `msg`, with `key` (the routing or service key, read
    /// and not yet templated).
    pub fn event(&self, msg: &Notification, key: &str) -> Result<Event, NotifyError> {
        let c = &self.config;
        let data = Data::new(msg);
        let resolved = msg.status() == AlertStatus::Resolved;
        let action = if resolved { "resolve" } else { "trigger" };
        let details = self.details(&data)?;
        let summary = self.opt(
            "description",
            c.description.as_ref(),
            DEFAULT_DESCRIPTION,
            &data,
        )?;
        let summary = truncate::field(
            &self.metrics,
            "pagerduty",
            "summary",
            summary,
            MAX_SUMMARY_RUNES,
            truncate::in_runes,
        );
        let client = self.opt("client", c.client.as_ref(), DEFAULT_CLIENT, &data)?;
        let client_url = self.opt(
            "client_url",
            c.client_url.as_ref(),
            DEFAULT_CLIENT_URL,
            &data,
        )?;
        let key = self.render("key", key, &data)?;
        let empty = Event {
            routing_key: String::new(),
            service_key: String::new(),
            dedup_key: String::new(),
            incident_key: String::new(),
            event_type: String::new(),
            description: String::new(),
            event_action: String::new(),
            payload: None,
            client: String::new(),
            client_url: String::new(),
            details: None,
            images: Vec::new(),
            links: Vec::new(),
        };
        if c.is_v1() {
            if key.is_empty() {
                return Err(NotifyError::permanent("service key cannot be empty"));
            }
            let (client, client_url) = if resolved {
                (String::new(), String::new())
            } else {
                (client, client_url)
            };
            return Ok(Event {
                service_key: key,
                incident_key: group_key_hash(&msg.group_key),
                event_type: action.to_owned(),
                description: summary,
                client,
                client_url,
                details: Some(details),
                ..empty
            });
        }
        if key.is_empty() {
            return Err(NotifyError::permanent("routing key cannot be empty"));
        }
        let severity = c
            .severity
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("error");
        let mut images = Vec::new();
        for img in &c.images {
            let image = Image {
                src: self.render("images.src", &img.src, &data)?,
                alt: self.render("images.alt", &img.alt, &data)?,
                href: self.render("images.href", &img.href, &data)?,
            };
            if !image.src.is_empty() {
                images.push(image);
            }
        }
        let mut links = Vec::new();
        for l in &c.links {
            let link = Link {
                href: self.render("links.href", &l.href, &data)?,
                text: self.render("links.text", &l.text, &data)?,
            };
            if !link.href.is_empty() {
                links.push(link);
            }
        }
        Ok(Event {
            routing_key: key,
            dedup_key: group_key_hash(&msg.group_key),
            event_action: action.to_owned(),
            payload: Some(Payload {
                summary,
                source: self.opt("source", c.source.as_ref(), DEFAULT_CLIENT, &data)?,
                severity: self.render("severity", severity, &data)?,
                class: self.opt("class", c.class.as_ref(), "", &data)?,
                component: self.opt("component", c.component.as_ref(), "", &data)?,
                group: self.opt("group", c.group.as_ref(), "", &data)?,
                custom_details: details,
            }),
            client,
            client_url,
            images,
            links,
            ..empty
        })
    }

    /// The encoded event, its custom details replaced by a notice when it
    /// is over PagerDuty's size limit.
    fn encode(&self, mut event: Event) -> Result<Vec<u8>, NotifyError> {
        let encode = |e: &Event| {
            encode_json_like_go(e).map_err(|e| {
                NotifyError::permanent(format!("failed to encode PagerDuty message: {e}"))
            })
        };
        let body = encode(&event)?;
        if body.len() <= MAX_EVENT_BYTES {
            return Ok(body);
        }
        let notice = BTreeMap::from([("error".to_owned(), Value::String(TOO_BIG.to_owned()))]);
        match event.payload.as_mut() {
            Some(p) => p.custom_details = notice,
            None => event.details = Some(notice),
        }
        tracing::warn!(
            integration = "pagerduty",
            size = body.len(),
            max = MAX_EVENT_BYTES,
            "event over PagerDuty's size limit: custom details removed"
        );
        self.metrics.truncated("pagerduty", "details");
        encode(&event)
    }

    fn url(&self) -> &str {
        let url = self.config.url.as_deref().unwrap_or(V2_DEFAULT_URL);
        if self.config.is_v1() && url == V2_DEFAULT_URL {
            V1_URL
        } else {
            url
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let c = &self.config;
        let key = if c.is_v1() {
            secret_or_file(
                c.service_key.as_ref(),
                c.service_key_file.as_ref(),
                "service_key_file",
            )
            .await?
        } else {
            secret_or_file(
                c.routing_key.as_ref(),
                c.routing_key_file.as_ref(),
                "routing_key_file",
            )
            .await?
        };
        let hide = |e: NotifyError| e.without(&key);
        let body = self.encode(self.event(msg, &key).map_err(hide)?)?;
        let answer = self
            .client
            .request(
                Request::post(self.url(), "application/json", body),
                ANSWER_LIMIT,
            )
            .await
            .map_err(hide)?;
        self.check(&answer).map_err(hide)
    }

    /// Alertmanager's PagerDuty rules on top of the common ones.
    fn check(&self, answer: &HttpAnswer) -> Result<(), NotifyError> {
        let status = answer.status.as_u16();
        if self.config.is_v1() && status == 403 {
            return Err(answer.redact(NotifyError::Retryable {
                status: Some(status),
                reason: "rate limited (Events API v1)".into(),
                retry_after: None,
            }));
        }
        answer.classify().map_err(|e| {
            if status != 400 {
                return e;
            }
            #[derive(serde::Deserialize)]
            struct Problem {
                #[serde(default)]
                message: String,
                #[serde(default)]
                errors: Vec<String>,
            }
            match serde_json::from_slice::<Problem>(&answer.body) {
                Ok(p) => e.map_reason(|_| format!("{}: {}", p.message, p.errors.join(","))),
                Err(_) => e,
            }
        })
    }
}

impl Notifier for Pagerduty {
    fn name(&self) -> &'static str {
        "pagerduty"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let body = self.encode(self.event(msg, "<routing key>")?)?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "pagerduty_tests.rs"]
mod tests;
