//! Durations as Alertmanager's command line reads and prints them: Go's
//! `time.ParseDuration` grammar (`1m30s`, `1.5h`, `500ms`, `-1s`) and Go's
//! `Duration.String` (`1h0m0s`, `1.5s`), which Alertmanager's timeout answer
//! quotes.

use std::time::Duration;

/// A value `time.ParseDuration` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time: invalid duration {0:?}")]
pub struct GoDurationError(pub String);

const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses Go's grammar: an optional sign, then one or more decimal numbers,
/// each with an optional fraction and a unit; `0` alone needs none. Every
/// flag that takes a duration treats a negative one as zero ("none"), so a
/// negative value comes back as [`Duration::ZERO`].
pub fn parse(s: &str) -> Result<Duration, GoDurationError> {
    let err = || GoDurationError(s.to_owned());
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after_dot[..len];
            rest = &after_dot[len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(err());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(err)?;
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(err)?;
        // The fraction's digits beyond a nanosecond are dropped, as in Go.
        let mut place = scale;
        for digit in fraction.bytes() {
            place /= 10;
            if place == 0 {
                break;
            }
            part += u128::from(digit - b'0') * place;
        }
        nanos = nanos.checked_add(part).ok_or_else(err)?;
    }
    // Go's durations are an int64 of nanoseconds.
    if nanos > i64::MAX as u128 {
        return Err(err());
    }
    if negative {
        return Ok(Duration::ZERO);
    }
    Ok(Duration::from_nanos(nanos as u64))
}

/// Go's `Duration.String`: `0s`, `500ms`, `1.5s`, `1m30s`, `1h0m0s`.
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (value, unit, scale) = if nanos < 1_000 {
            (nanos, "ns", 1)
        } else if nanos < 1_000_000 {
            (nanos, "µs", 1_000)
        } else {
            (nanos, "ms", 1_000_000)
        };
        return format!("{}{unit}", decimal(value, scale));
    }
    let total_secs = nanos / 1_000_000_000;
    let sub = nanos % 1_000_000_000;
    let hours = total_secs / 3600;
    let minutes = (total_secs / 60) % 60;
    let seconds = decimal((total_secs % 60) * 1_000_000_000 + sub, 1_000_000_000);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn decimal(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gos_grammar() {
        let cases = [
            ("15s", Duration::from_secs(15)),
            ("1m30s", Duration::from_secs(90)),
            ("1.5h", Duration::from_secs(5400)),
            ("500ms", Duration::from_millis(500)),
            ("0s", Duration::ZERO),
            ("0", Duration::ZERO),
            ("+5m", Duration::from_secs(300)),
            ("2h45m", Duration::from_secs(9900)),
            ("1h1h", Duration::from_secs(7200)),
            ("1.000000001s", Duration::from_nanos(1_000_000_001)),
            (".5s", Duration::from_millis(500)),
            ("3µs", Duration::from_micros(3)),
            ("3us", Duration::from_micros(3)),
            ("7ns", Duration::from_nanos(7)),
            ("-1s", Duration::ZERO),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for text in [
            "",
            "1",
            "s",
            "1d",
            "1x",
            "1.s.",
            "-",
            ".s",
            "1h 2m",
            "9999999999h",
        ] {
            assert!(parse(text).is_err(), "{text:?} should be refused");
        }
        assert_eq!(
            parse("5 minutes").unwrap_err().to_string(),
            r#"time: invalid duration "5 minutes""#
        );
    }

    #[test]
    fn formats_as_go_prints() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(5), "5s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::from_secs(120 * 3600), "120h0m0s"),
        ];
        for (d, want) in cases {
            assert_eq!(format(d), want);
        }
    }
}
