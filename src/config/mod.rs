//! TEMPORARY stand-in with the agreed interface; replaced by the `config` branch.
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::matcher::Matchers;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    pub fn as_std(self) -> std::time::Duration {
        self.0
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: u64 = num.parse().map_err(serde::de::Error::custom)?;
        let secs = match unit {
            "ms" => return Ok(Duration(std::time::Duration::from_millis(n))),
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            _ => return Err(serde::de::Error::custom("bad duration")),
        };
        Ok(Duration(std::time::Duration::from_secs(secs)))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Deserialize)]
pub struct GlobalConfig {
    #[serde(default = "default_resolve")]
    pub resolve_timeout: Duration,
}

fn default_resolve() -> Duration {
    Duration(std::time::Duration::from_secs(300))
}

impl Default for GlobalConfig {
    fn default() -> Self {
        Self { resolve_timeout: default_resolve() }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RouteConfig {
    pub receiver: Option<String>,
    pub group_by: Option<Vec<String>>,
    pub group_wait: Option<Duration>,
    pub group_interval: Option<Duration>,
    pub repeat_interval: Option<Duration>,
    #[serde(default)]
    pub matchers: Matchers,
    #[serde(default, rename = "match")]
    pub match_: BTreeMap<String, String>,
    #[serde(default)]
    pub match_re: BTreeMap<String, String>,
    #[serde(default, rename = "continue")]
    pub continue_: bool,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    pub mute_time_intervals: Vec<String>,
    #[serde(default)]
    pub active_time_intervals: Vec<String>,
}

impl RouteConfig {
    pub fn all_matchers(&self) -> Matchers {
        use crate::matcher::{MatchType, Matcher};
        let mut all = Vec::new();
        for (k, v) in &self.match_ {
            all.push(Matcher::new(k, MatchType::Equal, v).unwrap());
        }
        for (k, v) in &self.match_re {
            all.push(Matcher::new(k, MatchType::Regex, v).unwrap());
        }
        all.extend(self.matchers.0.iter().cloned());
        let mut ms = Matchers(all);
        ms.sort();
        ms
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReceiverConfig {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InhibitRuleConfig {
    #[serde(default)]
    pub source_matchers: Matchers,
    #[serde(default)]
    pub target_matchers: Matchers,
    #[serde(default)]
    pub equal: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TimeIntervalConfig {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub global: GlobalConfig,
    pub route: RouteConfig,
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
    #[serde(default)]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(default)]
    pub time_intervals: Vec<TimeIntervalConfig>,
    #[serde(default)]
    pub templates: Vec<String>,
    #[serde(skip)]
    text: String,
}

impl Config {
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError(e.to_string()))?;
        Self::load_str(&text, path, &|k| std::env::var(k).ok())
    }

    pub fn load_str(
        text: &str,
        _path: &Path,
        _env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut c: Config = serde_saphyr::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        c.text = text.to_owned();
        Ok(c)
    }

    pub fn original(&self) -> String {
        self.text.clone()
    }
}

impl std::str::FromStr for Duration {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        use serde::de::IntoDeserializer;
        let d: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        Duration::deserialize(d).map_err(|e| ConfigError(e.to_string()))
    }
}
