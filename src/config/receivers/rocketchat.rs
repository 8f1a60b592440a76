//! `rocketchat_configs`: Rocket.Chat's `chat.postMessage` with a personal
//! access token, with `global.rocketchat_*` defaults.

use serde::{Deserialize, Serialize};

use super::{FileFields, HttpConfig, IntegrationConfig, TemplatedFields, is_false};
use crate::config::validate::{at_most_one, check_http, check_url};
use crate::config::{ConfigError, GlobalConfig, Secret};

/// `rocketchat_configs` entry. Texts left out are Alertmanager's defaults
/// (`rocketchat.default.*`, the color red/green by status).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatConfig {
    #[serde(default, skip_serializing_if = "is_false")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<RocketchatField>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub short_fields: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    /// Accepted as Alertmanager accepts it; Alertmanager does not send it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub link_names: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RocketchatAction>,
}

/// An attachment field; Alertmanager reads these keys in lower case.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub value: String,
}

/// A button. Only `text`, `url` and `msg` are sent (always as a button),
/// as in Alertmanager; its other keys are accepted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RocketchatAction {
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub imageurl: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub iswebview: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webviewheightratio: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub msginchatwindow: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msgprocessingtype: String,
}

impl IntegrationConfig for RocketchatConfig {
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn apply_globals(&mut self, g: &GlobalConfig) {
        if self.api_url.is_none() {
            self.api_url = Some(g.rocketchat_api_url.clone());
        }
        if self.token_id.is_none() && self.token_id_file.is_none() {
            self.token_id = g.rocketchat_token_id.clone();
            self.token_id_file = g.rocketchat_token_id_file.clone();
        }
        if self.token.is_none() && self.token_file.is_none() {
            self.token = g.rocketchat_token.clone();
            self.token_file = g.rocketchat_token_file.clone();
        }
    }

    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        at_most_one(
            at,
            ("token", self.token.as_ref()),
            ("token_file", self.token_file.as_ref()),
        )?;
        at_most_one(
            at,
            ("token_id", self.token_id.as_ref()),
            ("token_id_file", self.token_id_file.as_ref()),
        )?;
        if self.token_id.is_none() && self.token_id_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.token_id"),
                "no global Rocketchat TokenID set either inline or in a file",
            ));
        }
        if self.token.is_none() && self.token_file.is_none() {
            return Err(ConfigError::at(
                format!("{at}.token"),
                "no global Rocketchat Token set either inline or in a file",
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
        out.push("token_file", &mut self.token_file);
        out.push("token_id_file", &mut self.token_id_file);
        out.http("http_config", &mut self.http_config);
    }

    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>) {
        for (name, value) in [
            ("channel", &self.channel),
            ("color", &self.color),
            ("title", &self.title),
            ("title_link", &self.title_link),
            ("text", &self.text),
            ("emoji", &self.emoji),
            ("icon_url", &self.icon_url),
            ("image_url", &self.image_url),
            ("thumb_url", &self.thumb_url),
        ] {
            out.text(name, value.as_ref());
        }
        for (i, f) in self.fields.iter().enumerate() {
            out.text(&format!("fields[{i}].title"), Some(&f.title));
            out.text(&format!("fields[{i}].value"), Some(&f.value));
        }
        for (i, a) in self.actions.iter().enumerate() {
            out.text(&format!("actions[{i}].text"), Some(&a.text));
            out.text(&format!("actions[{i}].url"), Some(&a.url));
            out.text(&format!("actions[{i}].msg"), Some(&a.msg));
        }
    }
}
