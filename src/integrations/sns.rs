//! Amazon SNS (`sns_configs`): one `Publish` call per notification, in the
//! query protocol the AWS SDK speaks, signed with Signature Version 4.
//!
//! As in Alertmanager 0.34: subject and message from the templates
//! (`sns.default.subject`, `sns.default.message`); the message cut to
//! 256 KiB (1600 bytes for an SMS to `phone_number`) with a `truncated`
//! message attribute saying so; a FIFO topic (`….fifo`) gets the group
//! key's SHA-256 as deduplication and group ID; an AWS error answer is
//! retryable when 5xx (and, in klaxon, 429), permanent otherwise.
//! klaxon cuts the message at a character boundary where Alertmanager may
//! split a character (which SNS would then refuse).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::aws::{AwsEnv, CredentialChain, aws_error, form_body, signed_post, xml_text};
use super::http::HttpClient;
use super::{Notification, Notifier, NotifyError, NotifyFuture, group_key_hash, truncate};
use crate::config::SnsConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// What an unset `subject` renders.
pub const DEFAULT_SUBJECT: &str = r#"{{ template "sns.default.subject" . }}"#;
/// What an unset `message` renders.
pub const DEFAULT_MESSAGE: &str = r#"{{ template "sns.default.message" . }}"#;

/// SNS' limit for a message, in bytes.
const MESSAGE_LIMIT: usize = 256 * 1024;
/// The limit for an SMS message.
const SMS_LIMIT: usize = 1600;

pub struct Sns {
    config: SnsConfig,
    client: HttpClient,
    chain: CredentialChain,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// The rendered `Publish` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub endpoint: Option<String>,
    /// `(name, value)` form fields in the order sent.
    pub fields: Vec<(String, String)>,
}

impl Sns {
    pub fn new(
        config: SnsConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
        env: AwsEnv,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        let chain = CredentialChain::new(config.sigv4.clone(), env);
        Ok(Sns {
            config,
            client,
            chain,
            templates,
            metrics,
        })
    }

    fn render(&self, field: &str, text: &str, default: &str, data: &Data) -> String {
        self.templates
            .render_or_default(field, text, default, Flavor::Text, data)
    }

    /// The `Publish` form for `msg`; warns and counts a cut message.
    pub fn publish(&self, msg: &Notification) -> Publish {
        let c = &self.config;
        let data = Data::new(msg);
        let opt = |field: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| self.render(field, t, "", &data))
        };
        let mut fields: Vec<(String, String)> = vec![
            ("Action".into(), "Publish".into()),
            ("Version".into(), "2010-03-31".into()),
        ];
        let mut limit = MESSAGE_LIMIT;
        if let Some(topic) = opt("topic_arn", &c.topic_arn) {
            if topic.ends_with(".fifo") {
                let key = group_key_hash(&msg.group_key);
                fields.push(("MessageDeduplicationId".into(), key.clone()));
                fields.push(("MessageGroupId".into(), key));
            }
            fields.push(("TopicArn".into(), topic));
        }
        if let Some(phone) = opt("phone_number", &c.phone_number) {
            fields.push(("PhoneNumber".into(), phone));
            limit = SMS_LIMIT;
        }
        if let Some(target) = opt("target_arn", &c.target_arn) {
            fields.push(("TargetArn".into(), target));
        }
        let message_text = c.message.as_deref().unwrap_or(DEFAULT_MESSAGE);
        let message = self.render("message", message_text, DEFAULT_MESSAGE, &data);
        let (message, cut) = truncate::in_bytes_plain(&message, limit);
        let mut attributes: BTreeMap<String, String> = c
            .attributes
            .iter()
            .map(|(k, v)| {
                (
                    self.render("attributes", k, "", &data),
                    self.render("attributes", v, "", &data),
                )
            })
            .collect();
        if cut {
            tracing::warn!(
                receiver = %msg.receiver,
                integration = "sns",
                group_key = %msg.group_key,
                limit,
                "truncated the SNS message to its size limit"
            );
            self.metrics.truncated("sns", "message");
            attributes.insert("truncated".into(), "true".into());
        }
        fields.push(("Message".into(), message.into_owned()));
        for (i, (name, value)) in attributes.into_iter().enumerate() {
            let n = i + 1;
            fields.push((format!("MessageAttributes.entry.{n}.Name"), name));
            fields.push((
                format!("MessageAttributes.entry.{n}.Value.DataType"),
                "String".into(),
            ));
            fields.push((
                format!("MessageAttributes.entry.{n}.Value.StringValue"),
                value,
            ));
        }
        let subject_text = c.subject.as_deref().unwrap_or(DEFAULT_SUBJECT);
        if !subject_text.is_empty() {
            let subject = self.render("subject", subject_text, DEFAULT_SUBJECT, &data);
            fields.push(("Subject".into(), subject));
        }
        Publish {
            endpoint: opt("api_url", &c.api_url),
            fields,
        }
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let publish = self.publish(msg);
        let region = self.chain.region().await?;
        let credentials = self.chain.credentials(&self.client, &region).await?;
        let url = publish
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://sns.{region}.amazonaws.com/"));
        let pairs: Vec<(&str, &str)> = publish
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let service = self
            .config
            .sigv4
            .service_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("sns");
        let answer = signed_post(
            &self.client,
            &url,
            form_body(&pairs),
            &credentials,
            &region,
            service,
        )
        .await?;
        if !answer.status.is_success() {
            return Err(aws_error(&answer));
        }
        let body = String::from_utf8_lossy(&answer.body);
        tracing::debug!(
            receiver = %msg.receiver,
            message_id = xml_text(&body, "MessageId").unwrap_or_default(),
            "SNS message successfully published"
        );
        Ok(())
    }
}

impl Notifier for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let publish = self.publish(msg);
        let pairs: Vec<(&str, &str)> = publish
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(form_body(&pairs))
    }
}

#[cfg(test)]
#[path = "sns_tests.rs"]
mod tests;
