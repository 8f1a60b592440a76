//! `alertmanager.yml`: serde types, loading with `${VAR}` expansion, and
//! validation. All YAML parsing in klaxon lives here.
//!
//! Loading is four steps: deserialize (strict: unknown fields are errors,
//! with file, line and field path), [`validate`] (references, names, URLs,
//! global SMTP defaults), `*_file` existence checks, then template
//! compilation (the `templates:` files and every templated field).

mod duration;
mod env;
mod event_recorder;
mod files;
mod locate;
mod receivers;
mod templates;
mod time_interval;
mod tracing_config;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::labels::NameMode;
use crate::matcher::{MatchType, Matcher, MatcherError, MatcherLines, Matchers};

pub use duration::{Duration, DurationError};
pub use env::{UnsetVariable, expand};
// Every integration's config type, and what the config code shares.
pub use event_recorder::{
    EventRecorderConfig, FileOutputConfig, KafkaOutputConfig, StdoutOutputConfig,
    WebhookOutputConfig,
};
pub use receivers::*;
pub use templates::CompiledTemplates;
pub use time_interval::{
    DayOfMonthRange, InclusiveRange, IntervalLocation, MonthRange, TimeInterval,
    TimeIntervalConfig, TimeRange, WeekdayRange, YearRange,
};
pub use tracing_config::{TracingClientType, TracingConfig, TracingHeader};

/// A secret string: `Debug` and `Serialize` print `<secret>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

/// A config that failed to load: `<file>:<line>:<col>: <field.path>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Field path such as `receivers[0].discord_configs[0].webhook_url`.
    pub field: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn at(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: PathBuf::new(),
            line: None,
            column: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// An error about a whole file (unreadable, or wrong as a whole).
    pub(crate) fn in_file(file: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    /// Points an error found after parsing at its file, and through its
    /// field path at its line in `text`.
    pub(crate) fn located(mut self, file: &Path, text: &str) -> Self {
        self.file = file.to_owned();
        if let Some(field) = &self.field {
            (self.line, self.column) = locate::locate(text, field).unzip();
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(field) = self.field.as_deref().filter(|p| !p.is_empty() && *p != ".") {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Treats YAML `null` (e.g. a key whose items are all commented out) as the
/// default, as Go's yaml does.
fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The whole configuration, as loaded and validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub global: GlobalConfig,
    pub route: RouteConfig,
    pub receivers: Vec<ReceiverConfig>,
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// `time_intervals` and the legacy `mute_time_intervals`, merged.
    pub time_intervals: Vec<TimeIntervalConfig>,
    /// Template globs as written; relative ones are relative to the config
    /// file's directory.
    pub templates: Vec<String>,
    /// `tracing:` (Alertmanager 0.30), checked; absent when not configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    /// `event_recorder:` (Alertmanager 0.33); used with
    /// `--enable-feature=event-recorder`.
    #[serde(skip_serializing_if = "EventRecorderConfig::is_empty")]
    pub event_recorder: EventRecorderConfig,
    /// The `templates:` files and every templated field, compiled at load.
    #[serde(skip)]
    pub compiled_templates: CompiledTemplates,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, deserialize_with = "null_default")]
    global: GlobalConfig,
    route: Option<RouteConfig>,
    #[serde(default, deserialize_with = "null_default")]
    receivers: Vec<ReceiverConfig>,
    #[serde(default, deserialize_with = "null_default")]
    inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(default, deserialize_with = "null_default")]
    time_intervals: Vec<TimeIntervalConfig>,
    #[serde(default, deserialize_with = "null_default")]
    mute_time_intervals: Vec<TimeIntervalConfig>,
    #[serde(default, deserialize_with = "null_default")]
    templates: Vec<String>,
    #[serde(default)]
    tracing: Option<TracingConfig>,
    #[serde(default, deserialize_with = "null_default")]
    event_recorder: EventRecorderConfig,
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn localhost() -> String {
    "localhost".to_owned()
}
fn yes() -> bool {
    true
}

/// `global:`, with Alertmanager 0.34's keys and defaults.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// How long an alert without `endsAt` stays firing after its last update.
    #[serde(default = "five_minutes")]
    pub resolve_timeout: Duration,
    #[serde(default)]
    pub http_config: HttpConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    #[serde(default = "localhost")]
    pub smtp_hello: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_smarthost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_password_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_auth_secret_file: Option<String>,
    #[serde(default = "yes")]
    pub smtp_require_tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_force_implicit_tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_api_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_api_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_app_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_app_token_file: Option<String>,
    /// Shown in `config.original` only when changed: amtool before 0.30
    /// refuses a config that has this key.
    #[serde(
        default = "global_urls::slack_app",
        skip_serializing_if = "global_urls::is_slack_app"
    )]
    pub slack_app_url: String,
    #[serde(default = "global_urls::pagerduty")]
    pub pagerduty_url: String,
    #[serde(default = "global_urls::opsgenie")]
    pub opsgenie_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opsgenie_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opsgenie_api_key_file: Option<String>,
    #[serde(default = "global_urls::wechat")]
    pub wechat_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_api_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_api_secret_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat_api_corp_id: Option<String>,
    #[serde(default = "global_urls::victorops")]
    pub victorops_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victorops_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victorops_api_key_file: Option<String>,
    #[serde(default = "global_urls::telegram")]
    pub telegram_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram_bot_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram_bot_token_file: Option<String>,
    #[serde(default = "global_urls::webex")]
    pub webex_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira_api_url: Option<String>,
    /// Shown only when changed, as `slack_app_url`.
    #[serde(
        default = "global_urls::rocketchat",
        skip_serializing_if = "global_urls::is_rocketchat"
    )]
    pub rocketchat_api_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocketchat_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocketchat_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocketchat_token_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocketchat_token_id_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mattermost_webhook_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mattermost_webhook_url_file: Option<String>,
}

/// Alertmanager's default service URLs for `global:`.
mod global_urls {
    pub fn slack_app() -> String {
        "https://slack.com/api/chat.postMessage".into()
    }
    pub fn pagerduty() -> String {
        "https://events.pagerduty.com/v2/enqueue".into()
    }
    pub fn opsgenie() -> String {
        "https://api.opsgenie.com/".into()
    }
    pub fn wechat() -> String {
        "https://qyapi.weixin.qq.com/cgi-bin/".into()
    }
    pub fn victorops() -> String {
        "https://alert.victorops.com/integrations/generic/20131114/alert/".into()
    }
    pub fn telegram() -> String {
        "https://api.telegram.org".into()
    }
    pub fn webex() -> String {
        "https://webexapis.com/v1/messages".into()
    }
    pub fn rocketchat() -> String {
        "https://open.rocket.chat/".into()
    }
    pub fn is_slack_app(url: &str) -> bool {
        url == slack_app()
    }
    pub fn is_rocketchat(url: &str) -> bool {
        url == rocketchat()
    }
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            resolve_timeout: five_minutes(),
            http_config: HttpConfig::default(),
            smtp_from: None,
            smtp_hello: localhost(),
            smtp_smarthost: None,
            smtp_auth_username: None,
            smtp_auth_password: None,
            smtp_auth_password_file: None,
            smtp_auth_identity: None,
            smtp_auth_secret: None,
            smtp_auth_secret_file: None,
            smtp_require_tls: true,
            smtp_tls_config: None,
            smtp_force_implicit_tls: None,
            slack_api_url: None,
            slack_api_url_file: None,
            slack_app_token: None,
            slack_app_token_file: None,
            slack_app_url: global_urls::slack_app(),
            pagerduty_url: global_urls::pagerduty(),
            opsgenie_api_url: global_urls::opsgenie(),
            opsgenie_api_key: None,
            opsgenie_api_key_file: None,
            wechat_api_url: global_urls::wechat(),
            wechat_api_secret: None,
            wechat_api_secret_file: None,
            wechat_api_corp_id: None,
            victorops_api_url: global_urls::victorops(),
            victorops_api_key: None,
            victorops_api_key_file: None,
            telegram_api_url: global_urls::telegram(),
            telegram_bot_token: None,
            telegram_bot_token_file: None,
            webex_api_url: global_urls::webex(),
            jira_api_url: None,
            rocketchat_api_url: global_urls::rocketchat(),
            rocketchat_token: None,
            rocketchat_token_file: None,
            rocketchat_token_id: None,
            rocketchat_token_id_file: None,
            mattermost_webhook_url: None,
            mattermost_webhook_url_file: None,
        }
    }
}

/// A node of the routing tree. Unset timings and `group_by` inherit from the
/// parent (done by the dispatcher, not here).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Label names, or exactly `["..."]` for "group by all labels".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    /// `matchers:` as written; validation parses them into `matchers` in
    /// the running mode (see [`crate::labels::NameMode`]).
    #[serde(
        rename(deserialize = "matchers"),
        default,
        deserialize_with = "null_default",
        skip_serializing
    )]
    pub matcher_lines: MatcherLines,
    #[serde(skip_deserializing, skip_serializing_if = "Matchers::is_empty")]
    pub matchers: Matchers,
    /// Legacy `match:` (equality).
    #[serde(
        rename = "match",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_: BTreeMap<String, String>,
    /// Legacy `match_re:` (anchored regexes).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_re: BTreeMap<String, String>,
    #[serde(rename = "continue", default)]
    pub continue_: bool,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<RouteConfig>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mute_time_intervals: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub active_time_intervals: Vec<String>,
    /// Alertmanager 0.34: labels attached to the route, inherited and
    /// overridden by child routes; values are Go templates rendered against
    /// the group's data (`routeLabels` in API groups and webhook payloads).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

fn legacy_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
) -> Result<Vec<Matcher>, MatcherError> {
    let mut out = Vec::with_capacity(eq.len() + re.len());
    for (name, value) in eq {
        out.push(Matcher::new(name, MatchType::Equal, value)?);
    }
    for (name, value) in re {
        out.push(Matcher::new(name, MatchType::Regex, value)?);
    }
    Ok(out)
}

impl RouteConfig {
    /// Parses `matchers:` as written, in this route and its children, in
    /// `mode`; `at` is this route's path for errors. Loading does this; a
    /// route read from YAML any other way must do it too.
    pub fn parse_matchers(&mut self, at: &str, mode: NameMode) -> Result<(), ConfigError> {
        self.matchers = self
            .matcher_lines
            .parse(mode)
            .map_err(|(i, e)| ConfigError::at(format!("{at}.matchers[{i}]"), e.to_string()))?;
        for (i, child) in self.routes.iter_mut().enumerate() {
            child.parse_matchers(&format!("{at}.routes[{i}]"), mode)?;
        }
        Ok(())
    }

    /// `match` (equality) + `match_re` (regex) + `matchers`, in
    /// Alertmanager's order ([`Matchers::sort`]).
    pub fn all_matchers(&self) -> Result<Matchers, MatcherError> {
        let mut all = legacy_matchers(&self.match_, &self.match_re)?;
        all.extend(self.matchers.iter().cloned());
        let mut all = Matchers(all);
        all.sort();
        Ok(all)
    }
}

/// An inhibit rule; legacy `source_match`/`source_match_re`/`target_match`/
/// `target_match_re` are folded into the matchers at load.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "RawInhibitRule")]
pub struct InhibitRuleConfig {
    /// Alertmanager 0.30's optional name, for logs. Names need not be
    /// unique (Alertmanager only logs a duplicate at debug level).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "Matchers::is_empty")]
    pub source_matchers: Matchers,
    #[serde(skip_serializing_if = "Matchers::is_empty")]
    pub target_matchers: Matchers,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
    /// `source_matchers:` and `target_matchers:` as written; validation
    /// parses them (in the running mode) into the matchers above.
    #[serde(skip)]
    pub source_lines: MatcherLines,
    #[serde(skip)]
    pub target_lines: MatcherLines,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInhibitRule {
    #[serde(default, deserialize_with = "null_default")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    source_matchers: MatcherLines,
    #[serde(default, deserialize_with = "null_default")]
    target_matchers: MatcherLines,
    #[serde(default, deserialize_with = "null_default")]
    source_match: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    source_match_re: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    target_match: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    target_match_re: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    equal: Vec<String>,
}

impl TryFrom<RawInhibitRule> for InhibitRuleConfig {
    type Error = MatcherError;
    fn try_from(raw: RawInhibitRule) -> Result<Self, MatcherError> {
        let legacy = |eq, re| legacy_matchers(eq, re).map(Matchers);
        Ok(InhibitRuleConfig {
            name: raw.name,
            source_matchers: legacy(&raw.source_match, &raw.source_match_re)?,
            target_matchers: legacy(&raw.target_match, &raw.target_match_re)?,
            equal: raw.equal,
            source_lines: raw.source_matchers,
            target_lines: raw.target_matchers,
        })
    }
}

/// Rewrites serde's "unknown field" message with a hint.
fn explain_unknown_field(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let field = &rest[..rest.find('`')?];
    let better = format!("{message} (Alertmanager's config is strict: remove or fix the key)");
    Some((field.to_owned(), better))
}

impl Config {
    /// Reads, expands (`${VAR}` from the process environment) and validates.
    /// Label names and matchers as in Alertmanager's default mode.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        Config::load_file_in(path, NameMode::default())
    }

    /// [`Config::load_file`] with label names and matchers read in `mode`
    /// (from `--enable-feature`).
    pub fn load_file_in(path: &Path, mode: NameMode) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::in_file(path, format!("cannot read config file: {e}")))?;
        Config::load_str_in(&text, path, &|name| std::env::var(name).ok(), mode)
    }

    /// Parses `text` as if read from `path` (used in messages, and as the
    /// base for relative `*_file` paths), expanding `${VAR}` with `env`.
    pub fn load_str(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::load_str_in(text, path, env, NameMode::default())
    }

    /// [`Config::load_str`] with label names and matchers read in `mode`.
    pub fn load_str_in(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        mode: NameMode,
    ) -> Result<Config, ConfigError> {
        let raw = parse(text, env).map_err(|mut e| {
            e.file = path.to_owned();
            e
        })?;
        let mut time_intervals = raw.time_intervals;
        time_intervals.extend(raw.mute_time_intervals);
        let mut config = Config {
            global: raw.global,
            route: raw.route.ok_or_else(|| ConfigError {
                file: path.to_owned(),
                line: None,
                column: None,
                field: Some("route".into()),
                message: "no route provided in config".into(),
            })?,
            receivers: raw.receivers,
            inhibit_rules: raw.inhibit_rules,
            time_intervals,
            templates: raw.templates,
            tracing: raw.tracing,
            event_recorder: raw.event_recorder,
            compiled_templates: CompiledTemplates::default(),
        };
        let base = path.parent().unwrap_or(Path::new("."));
        validate::validate(&mut config, mode)
            .and_then(|()| files::check_files(&mut config, base))
            .map_err(|mut e| {
                e.file = path.to_owned();
                if let (None, Some(field)) = (e.line, e.field.as_deref()) {
                    (e.line, e.column) = locate::locate(text, field).unzip();
                }
                e
            })?;
        let compiled = templates::compile(&config, base, text).map_err(|mut e| {
            // A `templates:` file's error already names that file.
            if e.file.as_os_str().is_empty() {
                e.file = path.to_owned();
            }
            e
        })?;
        config.compiled_templates = CompiledTemplates(std::sync::Arc::new(compiled));
        Ok(config)
    }

    /// The compiled templates (defaults, `templates:` files, fields) the
    /// integrations render with.
    pub fn template_set(&self) -> &std::sync::Arc<crate::template::Templates> {
        &self.compiled_templates.0
    }

    /// Every templated receiver field that is set: `(field path, text,
    /// flavor)`, e.g. `receivers[0].discord_configs[0].title`.
    pub fn templated_fields(&self) -> Vec<(String, &str, crate::template::Flavor)> {
        templates::fields(self)
    }

    /// YAML with defaults filled in and every secret as `<secret>`, for
    /// `GET /api/v2/status` (`config.original`).
    pub fn original(&self) -> String {
        serde_saphyr::to_string(self)
            .unwrap_or_else(|e| format!("# cannot serialise config: {e}\n"))
    }
}

/// Parses a YAML document that is not an alertmanager.yml to load (amctl's
/// settings file, `--http.config.file`, a served `config.original`) into
/// `T`, without `${VAR}` expansion. Here so that all YAML parsing stays in
/// this module.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, ConfigError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let location = e.location();
        ConfigError {
            file: path.to_owned(),
            line: location.as_ref().map(|l| l.line()).filter(|l| *l > 0),
            column: location.as_ref().map(|l| l.column()),
            field: None,
            message: plain_message(&e),
        }
    })
}

fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<RawConfig, ConfigError> {
    let mut path = None;
    let options = serde_saphyr::options::Options::default();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        let mut track = serde_path_to_error::Track::new();
        let expanding = env::Expanding { inner: de, env };
        let tracked = serde_path_to_error::Deserializer::new(expanding, &mut track);
        RawConfig::deserialize(tracked).inspect_err(|_| path = Some(track.path().to_string()))
    });
    result.map_err(|e| {
        let location = e.location();
        // serde_path_to_error writes `?` for a key it has not read yet.
        let mut field = path
            .map(|p| p.trim_end_matches(".?").trim_end_matches('?').to_owned())
            .filter(|p| !p.is_empty() && p != ".");
        let mut message = plain_message(&e);
        if let Some(i) = message.find(", set DuplicateKeyPolicy") {
            message.truncate(i);
        }
        if let Some((key, better)) = explain_unknown_field(&message) {
            message = better;
            field = Some(match field {
                Some(p) if !p.ends_with(&key) => format!("{p}.{key}"),
                Some(p) => p,
                None => key,
            });
        }
        ConfigError {
            file: PathBuf::new(),
            line: location.as_ref().map(|l| l.line()).filter(|l| *l > 0),
            column: location.as_ref().map(|l| l.column()),
            field,
            message,
        }
    })
}

/// serde-saphyr's message without its location suffix or snippet.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let mut inner = e.without_snippet();
    loop {
        match inner {
            serde_saphyr::Error::Message { msg, .. } => return msg.clone(),
            serde_saphyr::Error::ExternalMessage { msg, .. } => return msg.clone(),
            serde_saphyr::Error::AliasError { error, .. } => inner = error.without_snippet(),
            other => {
                let text = other.to_string();
                return match text.find(" at line ") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
            }
        }
    }
}

#[cfg(test)]
mod name_mode_tests;
#[cfg(test)]
mod tests;
