//! Receivers and their integration configs, one file per integration, with
//! Alertmanager's field names and defaults.
//!
//! Every integration config implements [`IntegrationConfig`]; the list of
//! kinds is written once, in [`receiver_integrations!`] below, which makes
//! the `ReceiverConfig` fields, the [`IntegrationRef`] enum the notifiers are
//! built from, and the iteration that validation, `*_file` resolution and
//! template compilation share. Adding an integration is: its file here, one
//! line in that list, and one arm in `integrations::build`.

mod discord;
mod email;
mod http;
mod incidentio;
mod jira;
mod mattermost;
mod msteams;
mod opsgenie;
mod pagerduty;
mod pushover;
mod rocketchat;
mod slack;
mod sns;
mod telegram;
mod victorops;
mod webex;
mod webhook;
mod wechat;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use discord::DiscordConfig;
pub use email::{EmailConfig, ThreadingConfig};
pub use http::{Authorization, BasicAuth, HeaderConfig, HttpConfig, JWT_BEARER, OAuth2, TlsConfig};
pub use incidentio::IncidentioConfig;
pub use jira::{JiraConfig, JiraField};
pub use mattermost::{
    MattermostAttachment, MattermostConfig, MattermostField, MattermostPriority, MattermostProps,
};
pub use msteams::{MsTeamsConfig, MsTeamsV2Config};
pub use opsgenie::{OpsgenieConfig, OpsgenieResponder};
pub use pagerduty::{
    DEFAULT_CLIENT as PAGERDUTY_DEFAULT_CLIENT, PagerdutyConfig, PagerdutyImage, PagerdutyLink,
};
pub use pushover::{PUSHOVER_API_URL, PushoverConfig};
pub use rocketchat::{RocketchatAction, RocketchatConfig, RocketchatField};
pub use slack::{SLACK_POST_MESSAGE_URL, SlackAction, SlackConfig, SlackConfirm, SlackField};
pub use sns::{SigV4Config, SnsConfig};
pub use telegram::TelegramConfig;
pub use victorops::VictorOpsConfig;
pub use webex::WebexConfig;
pub use webhook::WebhookConfig;
pub use wechat::WechatConfig;

use super::{ConfigError, GlobalConfig, null_default};
use crate::template::Flavor;

pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// What the config code needs to know of one integration config.
pub trait IntegrationConfig {
    /// Whether resolved notifications are sent.
    fn send_resolved(&self) -> bool;

    /// Fills unset fields from `global:`, as Alertmanager does at load.
    fn apply_globals(&mut self, _global: &GlobalConfig) {}

    /// The integration's `http_config`, for integrations that have one:
    /// left unset, it is `global.http_config` (Alertmanager's rule).
    fn http_config_mut(&mut self) -> Option<&mut HttpConfig> {
        None
    }

    /// Alertmanager's checks. `at` is the integration's path, such as
    /// `receivers[0].slack_configs[1]`.
    fn validate(&self, at: &str) -> Result<(), ConfigError>;

    /// Every `*_file` field, `http_config`'s included.
    fn files<'a>(&'a mut self, out: &mut FileFields<'a>);

    /// Every templated field with the escaping it gets.
    fn templated<'a>(&'a self, out: &mut TemplatedFields<'a>);
}

/// Collects `*_file` fields as `(path of the field, value)`.
pub struct FileFields<'a> {
    at: String,
    pub(super) found: Vec<(String, &'a mut String)>,
}

impl<'a> FileFields<'a> {
    pub(super) fn new() -> Self {
        FileFields {
            at: String::new(),
            found: Vec::new(),
        }
    }

    /// Fields pushed from now on are under `at`.
    pub(super) fn under(&mut self, at: &str) {
        self.at = at.to_owned();
    }

    pub fn push(&mut self, field: &str, value: &'a mut Option<String>) {
        if let Some(v) = value.as_mut() {
            self.found.push((format!("{}.{field}", self.at), v));
        }
    }

    pub fn tls(&mut self, field: &str, tls: Option<&'a mut TlsConfig>) {
        if let Some(t) = tls {
            self.push(&format!("{field}.ca_file"), &mut t.ca_file);
            self.push(&format!("{field}.cert_file"), &mut t.cert_file);
            self.push(&format!("{field}.key_file"), &mut t.key_file);
        }
    }

    pub fn http(&mut self, field: &str, h: &'a mut HttpConfig) {
        if let Some(b) = h.basic_auth.as_mut() {
            self.push(
                &format!("{field}.basic_auth.username_file"),
                &mut b.username_file,
            );
            self.push(
                &format!("{field}.basic_auth.password_file"),
                &mut b.password_file,
            );
        }
        if let Some(a) = h.authorization.as_mut() {
            self.push(
                &format!("{field}.authorization.credentials_file"),
                &mut a.credentials_file,
            );
        }
        self.push(
            &format!("{field}.bearer_token_file"),
            &mut h.bearer_token_file,
        );
        for (name, header) in h.http_headers.iter_mut() {
            for (i, file) in header.files.iter_mut().enumerate() {
                self.found.push((
                    format!("{}.{field}.http_headers.{name}.files[{i}]", self.at),
                    file,
                ));
            }
        }
        if let Some(o) = h.oauth2.as_mut() {
            self.push(
                &format!("{field}.oauth2.client_secret_file"),
                &mut o.client_secret_file,
            );
            self.push(
                &format!("{field}.oauth2.client_certificate_key_file"),
                &mut o.client_certificate_key_file,
            );
            self.tls(&format!("{field}.oauth2.tls_config"), o.tls_config.as_mut());
        }
        self.tls(&format!("{field}.tls_config"), h.tls_config.as_mut());
    }
}

/// Collects templated fields as `(path of the field, text, flavor)`.
pub struct TemplatedFields<'a> {
    at: String,
    pub(super) found: Vec<(String, &'a str, Flavor)>,
}

impl<'a> TemplatedFields<'a> {
    pub(super) fn new() -> Self {
        TemplatedFields {
            at: String::new(),
            found: Vec::new(),
        }
    }

    pub(super) fn under(&mut self, at: &str) {
        self.at = at.to_owned();
    }

    /// A plain-text field, when set.
    pub fn text(&mut self, field: &str, value: Option<&'a String>) {
        self.push(field, value, Flavor::Text);
    }

    pub fn push(&mut self, field: &str, value: Option<&'a String>, flavor: Flavor) {
        if let Some(v) = value {
            self.found
                .push((format!("{}.{field}", self.at), v.as_str(), flavor));
        }
    }

    /// Every value of a map of templated strings (`headers`, `details`, …).
    pub fn map(&mut self, field: &str, map: &'a BTreeMap<String, String>) {
        for (name, value) in map {
            self.push(&format!("{field}.{name}"), Some(value), Flavor::Text);
        }
    }

    /// Every string (and map key) inside a JSON-like value, as templates
    /// (`details`, `fields`, `payload`).
    pub fn json(&mut self, path: &str, value: &'a serde_json::Value) {
        match value {
            serde_json::Value::String(s) => self.raw(path.to_owned(), s, Flavor::Text),
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.json(&format!("{path}[{i}]"), v);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let here = format!("{path}.{k}");
                    self.raw(here.clone(), k, Flavor::Text);
                    self.json(&here, v);
                }
            }
            _ => {}
        }
    }

    /// A raw `(path, text)` pair for structures the helpers above miss.
    pub fn raw(&mut self, path: String, text: &'a str, flavor: Flavor) {
        self.found
            .push((format!("{}.{path}", self.at), text, flavor));
    }
}

/// Writes the receiver struct and the kind list from one table:
/// `yaml_key: ConfigType => Variant, "alertmanager name"`.
macro_rules! receiver_integrations {
    ($($field:ident: $ty:ty => $variant:ident, $kind:literal;)*) => {
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct ReceiverConfig {
            pub name: String,
            /// Labels that identify the receiver to API clients (newest
            /// Alertmanager); `name` is added to them, so `receiver_matchers`
            /// can always match on it.
            #[serde(
                default,
                deserialize_with = "null_default",
                skip_serializing_if = "BTreeMap::is_empty"
            )]
            pub labels: BTreeMap<String, String>,
            $(
                #[serde(
                    default,
                    deserialize_with = "null_default",
                    skip_serializing_if = "Vec::is_empty"
                )]
                pub $field: Vec<$ty>,
            )*
        }

        /// One integration config of a receiver, by kind.
        #[derive(Debug, Clone, Copy)]
        pub enum IntegrationRef<'a> {
            $($variant(&'a $ty),)*
        }

        impl<'a> IntegrationRef<'a> {
            /// The integration's name as Alertmanager spells it (`slack`).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(IntegrationRef::$variant(_) => $kind,)*
                }
            }

            pub fn config(&self) -> &'a dyn IntegrationConfig {
                match *self {
                    $(IntegrationRef::$variant(c) => c,)*
                }
            }
        }

        /// Every `(YAML key, Alertmanager name)` of the integrations.
        pub const INTEGRATION_KINDS: &[(&str, &str)] = &[
            $((stringify!($field), $kind),)*
        ];

        impl ReceiverConfig {
            /// Every integration config with its path under the receiver
            /// (`slack_configs[1]`) and its position among its kind.
            pub fn integrations(&self) -> Vec<(String, usize, IntegrationRef<'_>)> {
                let mut out = Vec::new();
                $(
                    for (i, c) in self.$field.iter().enumerate() {
                        out.push((
                            format!(concat!(stringify!($field), "[{}]"), i),
                            i,
                            IntegrationRef::$variant(c),
                        ));
                    }
                )*
                out
            }

            /// The same, mutable, for validation and `*_file` resolution.
            pub fn integrations_mut(&mut self) -> Vec<(String, &mut dyn IntegrationConfig)> {
                let mut out: Vec<(String, &mut dyn IntegrationConfig)> = Vec::new();
                $(
                    for (i, c) in self.$field.iter_mut().enumerate() {
                        out.push((format!(concat!(stringify!($field), "[{}]"), i), c));
                    }
                )*
                out
            }
        }
    };
}

receiver_integrations! {
    webhook_configs: WebhookConfig => Webhook, "webhook";
    discord_configs: DiscordConfig => Discord, "discord";
    email_configs: EmailConfig => Email, "email";
    sns_configs: SnsConfig => Sns, "sns";
    wechat_configs: WechatConfig => Wechat, "wechat";
    slack_configs: SlackConfig => Slack, "slack";
    msteams_configs: MsTeamsConfig => MsTeams, "msteams";
    msteamsv2_configs: MsTeamsV2Config => MsTeamsV2, "msteamsv2";
    mattermost_configs: MattermostConfig => Mattermost, "mattermost";
    rocketchat_configs: RocketchatConfig => Rocketchat, "rocketchat";
    incidentio_configs: IncidentioConfig => Incidentio, "incidentio";
    jira_configs: JiraConfig => Jira, "jira";
    telegram_configs: TelegramConfig => Telegram, "telegram";
    pagerduty_configs: PagerdutyConfig => Pagerduty, "pagerduty";
    opsgenie_configs: OpsgenieConfig => Opsgenie, "opsgenie";
    victorops_configs: VictorOpsConfig => VictorOps, "victorops";
    pushover_configs: PushoverConfig => Pushover, "pushover";
    webex_configs: WebexConfig => Webex, "webex";
}

impl ReceiverConfig {
    /// The receiver's labels with `name` set to its name.
    pub fn label_set(&self) -> crate::labels::LabelSet {
        let mut set = crate::labels::LabelSet::new();
        for (k, v) in &self.labels {
            set.insert(k.as_str(), v.as_str());
        }
        set.insert("name", self.name.as_str());
        set
    }
}
