//! Finds keys of integrations klaxon does not support, so that they are
//! reported first (with their line) even when the config has other errors.

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::{ConfigError, INTEGRATION_KINDS};

/// Receiver types of Alertmanager 0.34; those not in
/// [`INTEGRATION_KINDS`] are not supported (yet).
const ALERTMANAGER_RECEIVERS: &[&str] = &[
    "webhook_configs",
    "discord_configs",
    "email_configs",
    "slack_configs",
    "telegram_configs",
    "pagerduty_configs",
    "opsgenie_configs",
    "pushover_configs",
    "victorops_configs",
    "wechat_configs",
    "sns_configs",
    "webex_configs",
    "msteams_configs",
    "msteamsv2_configs",
    "jira_configs",
    "rocketchat_configs",
    "incidentio_configs",
    "mattermost_configs",
];

fn supported() -> String {
    let keys: Vec<&str> = INTEGRATION_KINDS.iter().map(|(key, _)| *key).collect();
    format!("supported: {}", keys.join(", "))
}

/// The message for an unsupported receiver type or key, if `key` is one.
pub(super) fn message(key: &str) -> Option<String> {
    let known = |k: &str| INTEGRATION_KINDS.iter().any(|(key, _)| *key == k);
    if ALERTMANAGER_RECEIVERS.contains(&key) && !known(key) {
        Some(format!(
            "klaxon does not support {key} (yet); {}",
            supported()
        ))
    } else if key == "oauth2" {
        Some(
            "klaxon does not support oauth2 in http_config (yet); use authorization or basic_auth"
                .to_owned(),
        )
    } else {
        None
    }
}

/// A mapping's keys with their locations; values are skipped.
struct Keys(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
            fn visit_unit<E>(self) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct Scan {
    #[serde(default)]
    global: Option<Keys>,
    #[serde(default)]
    receivers: Option<Vec<Keys>>,
}

/// The first unsupported key in `text`, as an error; `None` when there is
/// none or the text does not even parse this far.
pub(super) fn find(text: &str) -> Option<ConfigError> {
    let scan: Scan = serde_saphyr::from_str(text).ok()?;
    let global = scan
        .global
        .into_iter()
        .flat_map(|k| k.0)
        .map(|k| ("global".to_owned(), k));
    let receivers = scan
        .receivers
        .into_iter()
        .flatten()
        .enumerate()
        .flat_map(|(i, keys)| {
            keys.0
                .into_iter()
                .map(move |k| (format!("receivers[{i}]"), k))
        });
    global.chain(receivers).find_map(|(at, key)| {
        let message = message(&key.value)?;
        Some(ConfigError {
            file: Default::default(),
            line: Some(key.referenced.line()),
            column: Some(key.referenced.column()),
            field: Some(format!("{at}.{}", key.value)),
            message,
        })
    })
}
