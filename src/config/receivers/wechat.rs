//! `wechat_configs`: WeChat Work (企业微信) application messages, with
//! `global.wechat_*` defaults.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, is_false};
use crate::config::validate::{check_http, check_url};
use crate::config::{ConfigError, GlobalConfig, Secret};

/// `wechat_configs` entry. `None` fields are filled from `global:` by
/// validation, as Alertmanager does.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    /// Go templates; `None` means Alertmanager's default template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_party: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// `text` (the default) or `markdown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
}

impl WechatConfig {
    /// `text` unless `markdown` is configured.
    pub fn message_type(&self) -> &str {
        self.message_type
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("text")
    }
}

impl IntegrationConfig for WechatConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.wechat_api_url.clone());
        }
        if let Some(url) = self.api_url.as_mut()
            && !url.ends_with('/')
        {
            url.push('/');
        }
        if self.api_secret.is_none() && self.api_secret_file.is_none() {
            self.api_secret = g.wechat_api_secret.clone();
            self.api_secret_file = g.wechat_api_secret_file.clone();
        }
        if self.corp_id.as_deref().is_none_or(str::is_empty) {
            self.corp_id = g.wechat_api_corp_id.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let kind = self.message_type();
        if kind != "text" && kind != "markdown" {
            return Err(ConfigError::at(
                format!("{at}.message_type"),
                format!(
                    "weChat message type {kind:?} does not match valid options ^(text|markdown)$"
                ),
            ));
        }
        if self.api_secret.is_some() && self.api_secret_file.is_some() {
            return Err(ConfigError::at(
                at,
                "at most one of api_secret & api_secret_file must be configured",
            ));
        }
        if self.api_secret.is_none() && self.api_secret_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.api_secret"),
                "no global Wechat Api Secret set either inline or in a file",
            ));
        }
        if self.corp_id.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::at(
                format!("{at}.corp_id"),
                "no global Wechat CorpID set",
            ));
        }
        if let Some(url) = &self.api_url {
            check_url(url).map_err(|m| ConfigError::at(format!("{at}.api_url"), m))?;
        }
        check_http(&format!("{at}.http_config"), &self.http_config)
    }

    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        Some(&mut self.http_config)
    }

    fn files<'a>(&'a mut self, out: &mut FileFields<'a>) {
        out.push("api_secret_file", &mut self.api_secret_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        out.text("message", self.message.as_ref());
        out.text("to_user", self.to_user.as_ref());
        out.text("to_party", self.to_party.as_ref());
        out.text("to_tag", self.to_tag.as_ref());
        out.text("agent_id", self.agent_id.as_ref());
        out.text("corp_id", self.corp_id.as_ref());
    }
}
