//! `time_intervals` (and legacy `mute_time_intervals`) config types.
//!
//! Every field is parsed and checked while deserializing, so errors carry a
//! line and a field path. Evaluation (is `now` inside?) lives elsewhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A named list of intervals; a time matches when any interval matches.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeIntervalConfig {
    pub name: String,
    #[serde(default)]
    pub time_intervals: Vec<TimeInterval>,
}

/// One interval: every non-empty field must match (empty = any).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<TimeRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<WeekdayRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_month: Vec<DayOfMonthRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<MonthRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearRange>,
    /// Zone the other fields are read in; `None` means UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<IntervalLocation>,
}

/// Minutes since midnight, `start_minute < end_minute <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "RawTimeRange", into = "RawTimeRange")]
pub struct TimeRange {
    pub start_minute: u32,
    pub end_minute: u32,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    start_time: String,
    end_time: String,
}

fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("invalid time {s:?}: expected HH:MM between 00:00 and 24:00");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl TryFrom<RawTimeRange> for TimeRange {
    type Error = String;
    fn try_from(raw: RawTimeRange) -> Result<Self, String> {
        let start = parse_clock(&raw.start_time)?;
        let end = parse_clock(&raw.end_time)?;
        if start >= end {
            return Err(format!(
                "start time {} must be before end time {} (an interval cannot wrap midnight; split it in two)",
                raw.start_time, raw.end_time
            ));
        }
        Ok(TimeRange {
            start_minute: start,
            end_minute: end,
        })
    }
}

impl From<TimeRange> for RawTimeRange {
    fn from(r: TimeRange) -> Self {
        let clock = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        RawTimeRange {
            start_time: clock(r.start_minute),
            end_time: clock(r.end_minute),
        }
    }
}

/// An inclusive range `begin..=end` as written `begin:end` (or one value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusiveRange {
    pub begin: i32,
    pub end: i32,
}

fn split_range<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [one] => Ok((one, one)),
        [a, b] => Ok((a, b)),
        _ => Err(format!(
            "invalid {what} range {s:?}: expected one value or begin:end"
        )),
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

macro_rules! range_type {
    ($(#[$doc:meta])* $name:ident, $parse:ident, $show:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub InclusiveRange);

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $parse(s).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let InclusiveRange { begin, end } = self.0;
                if begin == end {
                    f.write_str(&$show(begin))
                } else {
                    write!(f, "{}:{}", $show(begin), $show(end))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

range_type!(
    /// Weekdays, Sunday = 0 … Saturday = 6; ranges run Sunday-first, so
    /// `monday:sunday` is invalid (as in Alertmanager).
    WeekdayRange, parse_weekdays, show_weekday
);
range_type!(
    /// Days of the month, 1..=31 or counted from the end -31..=-1.
    DayOfMonthRange, parse_days, show_number
);
range_type!(
    /// Months, January = 1 … December = 12.
    MonthRange, parse_months, show_month
);
range_type!(
    /// Calendar years.
    YearRange, parse_years, show_number
);

fn show_number(n: i32) -> String {
    n.to_string()
}
fn show_weekday(n: i32) -> String {
    WEEKDAYS[n as usize].to_owned()
}
fn show_month(n: i32) -> String {
    MONTHS[(n - 1) as usize].to_owned()
}

fn parse_weekdays(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s, "weekday")?;
    let day = |x: &str| {
        WEEKDAYS
            .iter()
            .position(|w| w.eq_ignore_ascii_case(x.trim()))
            .map(|i| i as i32)
            .ok_or_else(|| format!("{x:?} is not a day of the week (sunday … saturday)"))
    };
    let (begin, end) = (day(a)?, day(b)?);
    if begin > end {
        return Err(format!(
            "weekday range {s:?} runs backwards: weeks start on sunday, so e.g. write [\"monday:saturday\", \"sunday\"]"
        ));
    }
    Ok(InclusiveRange { begin, end })
}

fn parse_days(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s, "day of month")?;
    let day = |x: &str| {
        x.trim()
            .parse::<i32>()
            .ok()
            .filter(|d| (1..=31).contains(d) || (-31..=-1).contains(d))
            .ok_or_else(|| format!("{x:?} is not a valid day of the month (1..31 or -31..-1)"))
    };
    let (begin, end) = (day(a)?, day(b)?);
    if begin < 0 && end > 0 {
        return Err(format!(
            "day of month range {s:?}: the end must be negative when the start is negative"
        ));
    }
    // As Alertmanager: compare in a 28-day month, so a range like `30:-1`
    // that would be empty in February is rejected, not silently skipped.
    let in_shortest_month = |d: i32| if d < 0 { 28 + d } else { d };
    if in_shortest_month(begin) > in_shortest_month(end) {
        return Err(format!(
            "day of month range {s:?}: the end day is before the start day (checked in a 28-day month)"
        ));
    }
    Ok(InclusiveRange { begin, end })
}

fn parse_months(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s, "month")?;
    let month = |x: &str| {
        let x = x.trim();
        MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(x))
            .map(|i| i as i32 + 1)
            .or_else(|| x.parse::<i32>().ok().filter(|m| (1..=12).contains(m)))
            .ok_or_else(|| format!("{x:?} is not a month (january … december or 1..12)"))
    };
    let (begin, end) = (month(a)?, month(b)?);
    if begin > end {
        return Err(format!(
            "month range {s:?}: the end month must not be before the start month"
        ));
    }
    Ok(InclusiveRange { begin, end })
}

fn parse_years(s: &str) -> Result<InclusiveRange, String> {
    let (a, b) = split_range(s, "year")?;
    let year = |x: &str| {
        x.trim()
            .parse::<i32>()
            .ok()
            .filter(|y| *y >= 0)
            .ok_or_else(|| format!("{x:?} is not a valid year"))
    };
    let (begin, end) = (year(a)?, year(b)?);
    if begin > end {
        return Err(format!(
            "year range {s:?}: the end year must not be before the start year"
        ));
    }
    Ok(InclusiveRange { begin, end })
}

/// Where an interval's clock is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalLocation {
    /// Go's `Local`: the machine's zone.
    Local,
    Zone(chrono_tz::Tz),
}

impl<'de> Deserialize<'de> for IntervalLocation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "Local" {
            return Ok(IntervalLocation::Local);
        }
        s.parse::<chrono_tz::Tz>()
            .map(IntervalLocation::Zone)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "unknown time zone {s:?}: expected an IANA name such as Europe/Paris or UTC"
                ))
            })
    }
}

impl Serialize for IntervalLocation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntervalLocation::Local => s.serialize_str("Local"),
            IntervalLocation::Zone(tz) => s.serialize_str(tz.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(begin: i32, end: i32) -> InclusiveRange {
        InclusiveRange { begin, end }
    }

    #[test]
    fn parses_valid_ranges() {
        assert_eq!(
            "monday:friday".parse::<WeekdayRange>().unwrap().0,
            range(1, 5)
        );
        assert_eq!("Saturday".parse::<WeekdayRange>().unwrap().0, range(6, 6));
        assert_eq!(
            "sunday:saturday".parse::<WeekdayRange>().unwrap().0,
            range(0, 6)
        );
        assert_eq!("1:5".parse::<DayOfMonthRange>().unwrap().0, range(1, 5));
        assert_eq!("-3:-1".parse::<DayOfMonthRange>().unwrap().0, range(-3, -1));
        assert_eq!("1:-1".parse::<DayOfMonthRange>().unwrap().0, range(1, -1));
        assert_eq!("27:-1".parse::<DayOfMonthRange>().unwrap().0, range(27, -1));
        assert_eq!(
            "january:march".parse::<MonthRange>().unwrap().0,
            range(1, 3)
        );
        assert_eq!("12".parse::<MonthRange>().unwrap().0, range(12, 12));
        assert_eq!(
            "2020:2022".parse::<YearRange>().unwrap().0,
            range(2020, 2022)
        );
    }

    #[test]
    fn rejects_invalid_ranges() {
        type Parser = fn(&str) -> Result<InclusiveRange, String>;
        let bad: [(&str, Parser); 14] = [
            ("28:-1", parse_days),
            ("30:-1", parse_days),
            ("monday:sunday", parse_weekdays),
            ("funday", parse_weekdays),
            ("mon:fri", parse_weekdays),
            ("0", parse_days),
            ("32", parse_days),
            ("5:1", parse_days),
            ("-1:5", parse_days),
            ("13", parse_months),
            ("march:january", parse_months),
            ("2022:2020", parse_years),
            ("1:2:3", parse_years),
            ("", parse_months),
        ];
        for (text, parse) in bad {
            assert!(parse(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn checks_times_of_day() {
        let ok = |s: &str, e: &str| {
            TimeRange::try_from(RawTimeRange {
                start_time: s.into(),
                end_time: e.into(),
            })
        };
        assert_eq!(
            ok("09:00", "17:30").unwrap(),
            TimeRange {
                start_minute: 540,
                end_minute: 1050
            }
        );
        assert_eq!(ok("00:00", "24:00").unwrap().end_minute, 1440);
        for (s, e) in [
            ("22:00", "06:00"),
            ("10:00", "10:00"),
            ("9:00", "10:00"),
            ("24:01", "24:30"),
            ("10:60", "11:00"),
        ] {
            assert!(ok(s, e).is_err(), "{s}-{e} should fail");
        }
    }

    #[test]
    fn displays_ranges_as_written() {
        let w: WeekdayRange = "monday:friday".parse().unwrap();
        assert_eq!(w.to_string(), "monday:friday");
        let m: MonthRange = "3".parse().unwrap();
        assert_eq!(m.to_string(), "march");
    }

    #[test]
    fn accepts_iana_zones_only() {
        let tz = |s: &str| serde_json::from_value::<IntervalLocation>(serde_json::json!(s));
        assert!(tz("Europe/Moscow").is_ok());
        assert!(tz("UTC").is_ok());
        assert_eq!(tz("Local").unwrap(), IntervalLocation::Local);
        assert!(tz("Mars/Olympus").is_err());
    }
}
