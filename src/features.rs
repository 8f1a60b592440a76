//! `--enable-feature`: Alertmanager's feature switches, parsed once at start
//! and handed to whatever they change (label-name rules, metric labels).
//!
//! The names and the two errors are Alertmanager 0.34's, so a command line
//! that Alertmanager accepts is accepted here and one it refuses is refused.

use thiserror::Error;

/// Which features are on. `Default` is Alertmanager's default: all off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `alert-names-in-metrics`: an `alertname` label on alert metrics.
    pub alert_names_in_metrics: bool,
    /// `receiver-name-in-metrics`: a `receiver_name` label on notification metrics.
    pub receiver_name_in_metrics: bool,
    /// `group-key-in-metrics`: a `group_key` label on notification metrics.
    pub group_key_in_metrics: bool,
    /// `classic-mode`: label names and matchers as before UTF-8 support (0.26).
    pub classic_mode: bool,
    /// `utf8-strict-mode`: UTF-8 names, without the classic parser as fallback.
    pub utf8_strict_mode: bool,
    /// `auto-gomemlimit`: a Go runtime setting; accepted, no effect here.
    pub auto_gomemlimit: bool,
    /// `event-recorder`: Alertmanager's event recorder (`event_recorder:` outputs).
    pub event_recorder: bool,
}

/// Every name `--enable-feature` takes, in Alertmanager's order.
pub const ALLOWED: [&str; 7] = [
    "alert-names-in-metrics",
    "receiver-name-in-metrics",
    "group-key-in-metrics",
    "classic-mode",
    "utf8-strict-mode",
    "auto-gomemlimit",
    "event-recorder",
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FeatureError {
    #[error("unknown option '{0}' for --enable-feature")]
    Unknown(String),
    #[error("cannot have both classic and UTF-8 modes enabled")]
    ClassicAndUtf8,
}

impl Features {
    /// Parses the flag's comma-separated value. An empty value (the flag's
    /// default) enables nothing; the flag may be given several times, each
    /// value parsed and the results combined with [`Features::merge`].
    pub fn parse(value: &str) -> Result<Features, FeatureError> {
        let mut features = Features::default();
        if value.is_empty() {
            return Ok(features);
        }
        for name in value.split(',') {
            let switch = match name {
                "alert-names-in-metrics" => &mut features.alert_names_in_metrics,
                "receiver-name-in-metrics" => &mut features.receiver_name_in_metrics,
                "group-key-in-metrics" => &mut features.group_key_in_metrics,
                "classic-mode" => &mut features.classic_mode,
                "utf8-strict-mode" => &mut features.utf8_strict_mode,
                "auto-gomemlimit" => &mut features.auto_gomemlimit,
                "event-recorder" => &mut features.event_recorder,
                other => return Err(FeatureError::Unknown(other.to_owned())),
            };
            *switch = true;
        }
        features.check()
    }

    /// Both sets' switches; fails where the union is contradictory.
    pub fn merge(self, other: Features) -> Result<Features, FeatureError> {
        Features {
            alert_names_in_metrics: self.alert_names_in_metrics || other.alert_names_in_metrics,
            receiver_name_in_metrics: self.receiver_name_in_metrics
                || other.receiver_name_in_metrics,
            group_key_in_metrics: self.group_key_in_metrics || other.group_key_in_metrics,
            classic_mode: self.classic_mode || other.classic_mode,
            utf8_strict_mode: self.utf8_strict_mode || other.utf8_strict_mode,
            auto_gomemlimit: self.auto_gomemlimit || other.auto_gomemlimit,
            event_recorder: self.event_recorder || other.event_recorder,
        }
        .check()
    }

    /// The warning Alertmanager logs for each enabled feature, in its order.
    pub fn enabled_messages(&self) -> Vec<&'static str> {
        [
            (
                self.alert_names_in_metrics,
                "Alert names in metrics enabled",
            ),
            (
                self.receiver_name_in_metrics,
                "Experimental receiver name in metrics enabled",
            ),
            (
                self.group_key_in_metrics,
                "Experimental group key in metrics enabled",
            ),
            (self.classic_mode, "Classic mode enabled"),
            (self.utf8_strict_mode, "UTF-8 strict mode enabled"),
            (
                self.auto_gomemlimit,
                "Automatically set GOMEMLIMIT to match the Linux container or system memory limit.",
            ),
            (self.event_recorder, "Experimental event recorder enabled"),
        ]
        .into_iter()
        .filter_map(|(on, message)| on.then_some(message))
        .collect()
    }

    fn check(self) -> Result<Features, FeatureError> {
        if self.classic_mode && self.utf8_strict_mode {
            return Err(FeatureError::ClassicAndUtf8);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_value_enables_nothing() {
        assert_eq!(Features::parse(""), Ok(Features::default()));
    }

    #[test]
    fn every_allowed_name_parses() {
        let all = Features::parse(&ALLOWED.join(",").replace("classic-mode,", ""));
        let all = all.expect("all but classic mode");
        assert!(all.utf8_strict_mode && all.receiver_name_in_metrics && all.event_recorder);
        assert!(Features::parse("classic-mode").unwrap().classic_mode);
    }

    #[test]
    fn an_unknown_name_is_refused_with_alertmanagers_message() {
        let err = Features::parse("utf8-strict-mode,warp-drive").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown option 'warp-drive' for --enable-feature"
        );
        assert!(Features::parse("utf8-strict-mode,").is_err());
    }

    #[test]
    fn each_enabled_feature_has_alertmanagers_warning() {
        let f = Features::parse("utf8-strict-mode,receiver-name-in-metrics").unwrap();
        assert_eq!(
            f.enabled_messages(),
            [
                "Experimental receiver name in metrics enabled",
                "UTF-8 strict mode enabled"
            ]
        );
        assert!(Features::default().enabled_messages().is_empty());
    }

    #[test]
    fn classic_and_utf8_strict_mode_exclude_each_other() {
        assert_eq!(
            Features::parse("classic-mode,utf8-strict-mode"),
            Err(FeatureError::ClassicAndUtf8)
        );
        let classic = Features::parse("classic-mode").unwrap();
        let strict = Features::parse("utf8-strict-mode").unwrap();
        assert_eq!(classic.merge(strict), Err(FeatureError::ClassicAndUtf8));
    }
}
