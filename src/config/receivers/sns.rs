//! `sns_configs`: Amazon SNS `Publish`, signed with AWS Signature Version 4.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, is_false, yes};
use crate::config::validate::check_http;
use crate::config::{ConfigError, Secret};

/// `sns_configs` entry. Exactly one of `topic_arn`, `target_arn` and
/// `phone_number` (as Alertmanager checks it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SnsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    /// The SNS endpoint (a template); unset: `https://sns.<region>.amazonaws.com/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default)]
    pub sigv4: SigV4Config,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// Go templates; `None` means Alertmanager's default template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Message attributes; keys and values are templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Alertmanager uses the AWS SDK's own HTTP client then; klaxon always
    /// uses its own, so this only exists to be accepted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_aws_http_client: bool,
}

/// prometheus/sigv4 `SigV4Config` (v0.4.1, as Alertmanager 0.34 uses it).
/// Unset values come from the AWS default chain: the environment, the
/// shared config and credentials files, web identity.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SigV4Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_fips_sts_endpoint: bool,
    /// The signing service name; unset: `sns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

fn set(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

impl IntegrationConfig for SnsConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        // Alertmanager's own test, kept as it is: it accepts one target,
        // and (oddly) all three, but not none or two.
        let (target, topic, phone) = (
            set(&self.target_arn),
            set(&self.topic_arn),
            set(&self.phone_number),
        );
        if (target != topic) == phone {
            return Err(ConfigError::at(
                at,
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
            ));
        }
        let s = &self.sigv4;
        let secret = s
            .secret_key
            .as_ref()
            .is_some_and(|k| !k.expose().is_empty());
        if set(&s.access_key) != secret {
            return Err(ConfigError::at(
                format!("{at}.sigv4"),
                "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
            ));
        }
        if set(&s.external_id) && !set(&s.role_arn) {
            return Err(ConfigError::at(
                format!("{at}.sigv4.external_id"),
                "external_id can only be used with role_arn",
            ));
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        out.text("api_url", self.api_url.as_ref());
        out.text("topic_arn", self.topic_arn.as_ref());
        out.text("phone_number", self.phone_number.as_ref());
        out.text("target_arn", self.target_arn.as_ref());
        out.text("subject", self.subject.as_ref());
        out.text("message", self.message.as_ref());
        for (key, value) in &self.attributes {
            out.raw(
                format!("attributes.{key}"),
                key,
                crate::template::Flavor::Text,
            );
            out.text(&format!("attributes.{key}"), Some(value));
        }
    }
}
