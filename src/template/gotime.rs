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

pub(super) const MONTHS: [&str; 12] = [
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
pub(super) const WEEKDAYS: [&str; 7] = [
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
pub(super) enum Chunk {
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
pub(super) fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
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
}
