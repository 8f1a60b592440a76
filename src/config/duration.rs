//! Durations in Prometheus' grammar: `1y2w3d4h5m6s7ms`, units in descending
//! order, each at most once, integers only; `0` alone is accepted too.
//! `1y` is 365 days and `1w` 7 days, as in Prometheus' `model.Duration`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A duration as written in Alertmanager configs; `Display` gives it back in
/// Prometheus' canonical form (`1h30m`, `90d`, `0s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("not a valid duration string: {0:?} (expected e.g. 30s, 5m, 1h30m, 1d)")]
    Invalid(String),
    /// Prometheus' own cap: a Go `time.Duration`, about 292 years.
    #[error("duration out of range: {0:?} (at most 292y)")]
    OutOfRange(String),
}

/// The longest duration Prometheus parses: `math.MaxInt64` nanoseconds,
/// in whole milliseconds. Anything longer would overflow where Go (and
/// klaxon's clocks) add it to a time.
const MAX_MS: u64 = i64::MAX as u64 / 1_000_000;

const MS: u64 = 1;
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000 * MS),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl Duration {
    pub const ZERO: Duration = Duration(std::time::Duration::ZERO);

    pub fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }

    pub fn as_std(&self) -> std::time::Duration {
        self.0
    }
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        d.0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError::Invalid(s.to_owned());
        let out_of_range = || DurationError::OutOfRange(s.to_owned());
        if s == "0" {
            return Ok(Duration::ZERO);
        }
        if s.is_empty() {
            return Err(err());
        }
        let mut rest = s;
        let mut next_unit = 0; // index into UNITS: units must descend
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..letters];
            rest = &rest[letters..];
            let idx = UNITS[next_unit..]
                .iter()
                .position(|(name, _)| *name == unit)
                .ok_or_else(err)?
                + next_unit;
            next_unit = idx + 1;
            let ms = value.checked_mul(UNITS[idx].1).ok_or_else(out_of_range)?;
            total = total.checked_add(ms).ok_or_else(out_of_range)?;
        }
        if total > MAX_MS {
            return Err(out_of_range());
        }
        Ok(Duration(std::time::Duration::from_millis(total)))
    }
}

impl fmt::Display for Duration {
    /// Prometheus' `model.Duration.String`: years and weeks only when they
    /// divide the rest exactly (`90d`, not `12w6d`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis() as u64;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (i, (unit, mult)) in UNITS.iter().enumerate() {
            let exact_only = i < 2;
            if exact_only && !ms.is_multiple_of(*mult) {
                continue;
            }
            let v = ms / mult;
            if v > 0 {
                write!(f, "{v}{unit}")?;
                ms -= v * mult;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration(std::time::Duration::from_millis(n))
    }

    /// Prometheus' bound: 292y parses, 293y (past a Go duration) does not,
    /// whatever the units that make it up.
    #[test]
    fn durations_past_a_go_duration_are_out_of_range() {
        assert!("292y".parse::<Duration>().is_ok());
        for long in [
            "293y",
            "15251w",
            "106752d",
            "2562048h",
            "1000y",
            "18446744073709551615ms",
        ] {
            let err = long.parse::<Duration>().unwrap_err();
            assert_eq!(err, DurationError::OutOfRange(long.into()), "{long}");
            assert!(err.to_string().starts_with("duration out of range"));
        }
    }

    #[test]
    fn parses_prometheus_durations() {
        let cases = [
            ("0", 0),
            ("0s", 0),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("1d", 86_400_000),
            ("1w", 604_800_000),
            ("1y", 31_536_000_000),
            ("250ms", 250),
            ("1m30s500ms", 90_500),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Duration>(), Ok(ms(want)), "{text}");
        }
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for text in [
            "", "5", "1.5h", "30m1h", "1h1h", "5 m", "-5m", "1M", "h", "5mm", "1sms",
        ] {
            assert!(text.parse::<Duration>().is_err(), "{text} should fail");
        }
    }

    #[test]
    fn displays_in_prometheus_form() {
        let cases = [
            (0, "0s"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (90 * 86_400_000, "90d"),
            (14 * 86_400_000, "2w"),
            (31_536_000_000, "1y"),
            (1_500, "1s500ms"),
        ];
        for (n, want) in cases {
            assert_eq!(ms(n).to_string(), want);
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        for text in ["1h30m", "4h", "10s", "2w", "1y", "3d12h"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
    }
}
