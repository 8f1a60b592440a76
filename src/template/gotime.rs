//! Go's `time.Time` and `time.Duration` as templates see them.
//!
//! gotmpl values have no opaque types, so a time travels through a template
//! as the string Go would print for it (`time.Time.String()`, e.g.
//! `2024-03-01 10:00:00.123 +0000 UTC`) and a duration as
//! `time.Duration.String()` (`1h2m3.5s`). Printing them therefore gives
//! Alertmanager's output for free, and the methods (`.Format`, `.Unix`, …)
//! and functions (`date`, `tz`, `since`) parse them back. The price: a
//! label value that happens to look like a time also answers time methods,
//! which Go would reject.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};

/// A wall-clock instant with the zone abbreviation Go would print.
#[derive(Debug, Clone, PartialEq)]
pub struct GoTime {
    pub at: DateTime<FixedOffset>,
    pub zone: String,
}

/// Go's `time.Time.String()` layout.
const STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

impl GoTime {
    pub fn from_utc(at: DateTime<Utc>) -> Self {
        GoTime {
            at: at.fixed_offset(),
            zone: "UTC".into(),
        }
    }

    /// Go's zero time, `0001-01-01 00:00:00 +0000 UTC`: what templates see
    /// as `.EndsAt` of a firing alert.
    pub fn zero() -> Self {
        let at = NaiveDate::from_ymd_opt(1, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
            .unwrap_or_default();
        GoTime::from_utc(at)
    }

    pub fn is_zero(&self) -> bool {
        *self == GoTime::zero() || self.at.with_timezone(&Utc) == GoTime::zero().at
    }

    /// The same instant in a named IANA zone (`tz`, `.In`).
    pub fn in_zone(&self, tz: chrono_tz::Tz) -> GoTime {
        let local = self.at.with_timezone(&tz);
        GoTime {
            zone: local.format("%Z").to_string(),
            at: local.fixed_offset(),
        }
    }

    pub fn utc(&self) -> GoTime {
        GoTime::from_utc(self.at.with_timezone(&Utc))
    }

    /// The process' zone (`.Local`): `TZ` when it names a zone chrono-tz
    /// knows, UTC otherwise (klaxon usually runs in a container).
    pub fn local(&self) -> GoTime {
        match std::env::var("TZ").ok().and_then(|z| z.parse().ok()) {
            Some(tz) => self.in_zone(tz),
            None => self.utc(),
        }
    }

    pub fn add_nanos(&self, nanos: i64) -> GoTime {
        GoTime {
            at: self.at + chrono::Duration::nanoseconds(nanos),
            zone: self.zone.clone(),
        }
    }

    /// `self - other` in nanoseconds, saturating like Go's `Time.Sub`.
    pub fn sub_nanos(&self, other: &GoTime) -> i64 {
        (self.at - other.at)
            .num_nanoseconds()
            .unwrap_or(if self.at > other.at {
                i64::MAX
            } else {
                i64::MIN
            })
    }

    /// Parses what [`GoTime::to_string`] prints (`time.Time.String()`),
    /// ignoring a trailing monotonic reading (`m=+0.001`).
    pub fn parse(s: &str) -> Option<GoTime> {
        let s = match s.find(" m=") {
            Some(i) => &s[..i],
            None => s,
        };
        let mut parts = s.split(' ');
        let (date, time, offset, zone) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || date.len() < 10 {
            return None;
        }
        let mut ymd = date.rsplitn(3, '-');
        let (d, m, y) = (ymd.next()?, ymd.next()?, ymd.next()?);
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut hms = hms.split(':');
        let (h, mi, se) = (hms.next()?, hms.next()?, hms.next()?);
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let nanos: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().ok()?
        };
        let off = parse_offset(offset)?;
        let naive = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?
            .and_hms_nano_opt(h.parse().ok()?, mi.parse().ok()?, se.parse().ok()?, nanos)?;
        let at = off.from_local_datetime(&naive).single()?;
        Some(GoTime {
            at,
            zone: zone.to_owned(),
        })
    }

    /// Formats with a Go reference layout (`2006-01-02 15:04:05`).
    pub fn format(&self, layout: &str) -> String {
        let mut out = String::with_capacity(layout.len() + 8);
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, chunk, after) = next_chunk(rest);
            out.push_str(prefix);
            match chunk {
                Some(c) => self.push_chunk(&mut out, c),
                None => break,
            }
            rest = after;
        }
        out
    }

    fn push_chunk(&self, out: &mut String, chunk: Chunk) {
        use std::fmt::Write;
        let t = &self.at;
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let _ = match chunk {
            Chunk::LongMonth => write!(out, "{}", MONTHS[t.month0() as usize]),
            Chunk::Month => write!(out, "{}", &MONTHS[t.month0() as usize][..3]),
            Chunk::NumMonth => write!(out, "{}", t.month()),
            Chunk::ZeroMonth => write!(out, "{:02}", t.month()),
            Chunk::LongWeekDay => write!(out, "{}", WEEKDAYS[weekday(t)]),
            Chunk::WeekDay => write!(out, "{}", &WEEKDAYS[weekday(t)][..3]),
            Chunk::Day => write!(out, "{}", t.day()),
            Chunk::UnderDay => write!(out, "{:>2}", t.day()),
            Chunk::ZeroDay => write!(out, "{:02}", t.day()),
            Chunk::UnderYearDay => write!(out, "{:>3}", t.ordinal()),
            Chunk::ZeroYearDay => write!(out, "{:03}", t.ordinal()),
            Chunk::Hour => write!(out, "{:02}", t.hour()),
            Chunk::Hour12 => write!(out, "{hour12}"),
            Chunk::ZeroHour12 => write!(out, "{hour12:02}"),
            Chunk::Minute => write!(out, "{}", t.minute()),
            Chunk::ZeroMinute => write!(out, "{:02}", t.minute()),
            Chunk::Second => write!(out, "{}", t.second()),
            Chunk::ZeroSecond => write!(out, "{:02}", t.second()),
            Chunk::LongYear => {
                let y = t.year();
                if y < 0 {
                    write!(out, "-{:04}", -y)
                } else {
                    write!(out, "{y:04}")
                }
            }
            Chunk::Year => write!(out, "{:02}", t.year().rem_euclid(100)),
            Chunk::PM => out.write_str(if t.hour() >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => out.write_str(if t.hour() >= 12 { "pm" } else { "am" }),
            Chunk::Tz => {
                if self.zone.is_empty() {
                    push_offset(out, t.offset().local_minus_utc(), "", false, false);
                    Ok(())
                } else {
                    out.write_str(&self.zone)
                }
            }
            Chunk::Offset {
                z,
                colon,
                seconds,
                hours_only,
            } => {
                let secs = t.offset().local_minus_utc();
                if z && secs == 0 {
                    out.push('Z');
                } else if hours_only {
                    let _ = write!(out, "{}{:02}", sign(secs), secs.abs() / 3600);
                } else {
                    push_offset(out, secs, if colon { ":" } else { "" }, seconds, true);
                }
                Ok(())
            }
            Chunk::Frac { sep, digits, trim } => {
                let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let mut frac = nanos[..digits.min(9)].to_owned();
                if trim {
                    frac.truncate(frac.trim_end_matches('0').len());
                }
                if !frac.is_empty() {
                    out.push(sep);
                    out.push_str(&frac);
                }
                Ok(())
            }
        };
    }
}

impl std::fmt::Display for GoTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format(STRING_LAYOUT))
    }
}

fn weekday(t: &DateTime<FixedOffset>) -> usize {
    t.weekday().num_days_from_sunday() as usize
}

fn sign(secs: i32) -> char {
    if secs < 0 { '-' } else { '+' }
}

fn push_offset(out: &mut String, secs: i32, colon: &str, seconds: bool, _always: bool) {
    use std::fmt::Write;
    let abs = secs.abs();
    let _ = write!(
        out,
        "{}{:02}{colon}{:02}",
        sign(secs),
        abs / 3600,
        abs / 60 % 60
    );
    if seconds {
        let _ = write!(out, "{colon}{:02}", abs % 60);
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// One element of a Go layout.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chunk {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Offset {
        z: bool,
        colon: bool,
        seconds: bool,
        hours_only: bool,
    },
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// Splits `layout` at its first layout element, as Go's `nextStdChunk`
/// does: `(literal prefix, element, rest)`.
fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..b.len() {
        let found: Option<(Chunk, usize)> = match b[i] {
            b'J' if at(i, "January") => Some((Chunk::LongMonth, 7)),
            b'J' if at(i, "Jan") => Some((Chunk::Month, 3)),
            b'M' if at(i, "Monday") => Some((Chunk::LongWeekDay, 6)),
            b'M' if at(i, "Mon") => Some((Chunk::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Chunk::Tz, 3)),
            b'0' if at(i, "002") => Some((Chunk::ZeroYearDay, 3)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((Chunk::ZeroMonth, 2)),
                Some(b'2') => Some((Chunk::ZeroDay, 2)),
                Some(b'3') => Some((Chunk::ZeroHour12, 2)),
                Some(b'4') => Some((Chunk::ZeroMinute, 2)),
                Some(b'5') => Some((Chunk::ZeroSecond, 2)),
                Some(b'6') => Some((Chunk::Year, 2)),
                _ => None,
            },
            b'1' if at(i, "15") => Some((Chunk::Hour, 2)),
            b'1' => Some((Chunk::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Chunk::LongYear, 4)),
            b'2' => Some((Chunk::Day, 1)),
            b'_' if at(i, "__2") => Some((Chunk::UnderYearDay, 3)),
            // `_2006` is a literal underscore before a year.
            b'_' if at(i, "_2") && !at(i, "_2006") => Some((Chunk::UnderDay, 2)),
            b'3' => Some((Chunk::Hour12, 1)),
            b'4' => Some((Chunk::Minute, 1)),
            b'5' => Some((Chunk::Second, 1)),
            b'P' if at(i, "PM") => Some((Chunk::PM, 2)),
            b'p' if at(i, "pm") => Some((Chunk::Pm, 2)),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let tail = &layout[i + 1..];
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                forms.iter().find(|(f, ..)| tail.starts_with(f)).map(
                    |&(f, colon, seconds, hours_only)| {
                        (
                            Chunk::Offset {
                                z,
                                colon,
                                seconds,
                                hours_only,
                            },
                            f.len() + 1,
                        )
                    },
                )
            }
            b'.' | b',' => {
                let digit = b.get(i + 1).copied();
                if matches!(digit, Some(b'0') | Some(b'9')) {
                    let d = digit.unwrap_or(b'0');
                    let mut j = i + 1;
                    while j < b.len() && b[j] == d {
                        j += 1;
                    }
                    // Only a run not followed by another digit is a fraction.
                    if b.get(j).is_none_or(|c| !c.is_ascii_digit()) {
                        Some((
                            Chunk::Frac {
                                sep: b[i] as char,
                                digits: j - i - 1,
                                trim: d == b'9',
                            },
                            j - i,
                        ))
                    } else {
                        None
                    }
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some((chunk, len)) = found {
            return (&layout[..i], Some(chunk), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration_string(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, prec) = match u {
            0 => return "0s".into(),
            u if u < 1_000 => ("ns", 0),
            u if u < 1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        out.push_str(&frac_string(u, prec));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let frac = frac_string(u % 1_000_000_000 + 1_000_000_000, 9);
        // `frac` is "1" or "1.xxx": drop the leading 1 we used for padding.
        let frac = &frac[1..];
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&format!("{s}{frac}s"));
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` with trailing zeros (and a bare point) trimmed.
fn frac_string(v: u64, prec: u32) -> String {
    let p = 10u64.pow(prec);
    let int = v / p;
    let frac = v % p;
    if prec == 0 || frac == 0 {
        return int.to_string();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// Parses Go's duration syntax (`1h30m`, `1.5s`, `-2ms`), as
/// `time.ParseDuration` does.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * unit;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let v = total.round() as i64;
    Some(if neg { -v } else { v })
}

/// Prometheus' `humanizeDuration` of a number of seconds
/// (`1d 2h 3m 4s`, `1.5s`, `12ms`).
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format_g4(v);
    }
    if v == 0.0 {
        return format!("{}s", format_g4(v));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, d / 60 % 60, d / 3600 % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {mins}m {secs}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {mins}m {secs}s")
        } else if mins != 0 {
            format!("{sign}{mins}m {secs}s")
        } else {
            format!("{sign}{}s", format_g4(v))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g4(v))
}

/// Go's `fmt.Sprintf("%.4g", v)`.
pub fn format_g4(v: f64) -> String {
    format_g(v, 4)
}

fn format_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> GoTime {
        GoTime::parse("2024-03-01 14:05:09.123 +0000 UTC").unwrap()
    }

    #[test]
    fn prints_times_like_go() {
        assert_eq!(t().to_string(), "2024-03-01 14:05:09.123 +0000 UTC");
        assert_eq!(GoTime::zero().to_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert!(GoTime::zero().is_zero());
        let paris = t().in_zone(chrono_tz::Europe::Paris);
        assert_eq!(paris.to_string(), "2024-03-01 15:05:09.123 +0100 CET");
        assert_eq!(GoTime::parse(&paris.to_string()), Some(paris));
        assert_eq!(
            GoTime::parse("2026-11-22 02:41:05.862220566 +0000 UTC m=-299.886551355")
                .map(|t| t.to_string()),
            Some("2026-11-22 02:41:05.862220566 +0000 UTC".into())
        );
        assert_eq!(GoTime::parse("db1"), None);
        assert_eq!(GoTime::parse("a b c d"), None);
    }

    #[test]
    fn formats_go_layouts() {
        let cases = [
            ("2006-01-02 15:04:05", "2024-03-01 14:05:09"),
            (
                "Mon Jan _2 15:04:05.000 MST 2006",
                "Fri Mar  1 14:05:09.123 UTC 2024",
            ),
            (
                "Monday, January 2, 06 3:4:5 PM pm",
                "Friday, March 1, 24 2:5:9 PM pm",
            ),
            ("2006-01-02T15:04:05Z07:00", "2024-03-01T14:05:09Z"),
            (
                "2006-01-02T15:04:05.999999999-0700",
                "2024-03-01T14:05:09.123+0000",
            ),
            (".000000 ,99 .9", ".123000 ,12 .1"),
            ("002 __2 -07 -07:00:00", "061  61 +00 +00:00:00"),
            ("_2006", "_2024"),
            ("no layout here", "no layout here"),
        ];
        for (layout, want) in cases {
            assert_eq!(t().format(layout), want, "{layout}");
        }
        let paris = t().in_zone(chrono_tz::Europe::Paris);
        assert_eq!(
            paris.format("15:04 -07:00 Z0700 MST"),
            "15:05 +01:00 +0100 CET"
        );
    }

    #[test]
    fn prints_and_parses_durations_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (1_500_000_000, "1.5s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_500_000_000, "1h2m3.5s"),
            (180_000_000_000, "3m0s"),
            (-2_000_000_000, "-2s"),
        ];
        for (nanos, want) in cases {
            assert_eq!(duration_string(nanos), want);
            assert_eq!(parse_duration(want), Some(nanos), "{want}");
        }
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn humanizes_durations_like_prometheus() {
        let cases = [
            (0.0, "0s"),
            (1.0, "1s"),
            (1.23456, "1.235s"),
            (60.0, "1m 0s"),
            (3_723.0, "1h 2m 3s"),
            (90_061.0, "1d 1h 1m 1s"),
            (-61.0, "-1m 1s"),
            (0.012, "12ms"),
            (0.000_001_5, "1.5us"),
        ];
        for (v, want) in cases {
            assert_eq!(humanize_duration(v), want, "{v}");
        }
        assert_eq!(format_g4(123456.0), "1.235e+05");
        assert_eq!(format_g4(0.00001234), "1.234e-05");
    }
}
