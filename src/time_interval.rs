//! Time intervals: is `now` inside a named `time_intervals` entry?
//!
//! The notify pipeline's mute step asks this for a route's
//! `mute_time_intervals` and `active_time_intervals`. Parsing and checking
//! the config lives in `config::time_interval`; this module only evaluates,
//! with Alertmanager's `timeinterval.ContainsTime` semantics. It never reads
//! the clock: `now` is an argument.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Local, NaiveDate, Timelike, Utc};

use crate::config::{InclusiveRange, IntervalLocation, TimeInterval, TimeIntervalConfig};

/// Every configured time interval, by name, ready to evaluate.
#[derive(Debug, Clone, Default)]
pub struct TimeIntervals {
    by_name: HashMap<String, Vec<TimeInterval>>,
}

impl TimeIntervals {
    /// Indexes validated configs by name (validation rejects duplicates).
    pub fn new(configs: &[TimeIntervalConfig]) -> Self {
        let by_name = configs
            .iter()
            .map(|c| (c.name.clone(), c.time_intervals.clone()))
            .collect();
        Self { by_name }
    }

    /// Whether any interval named `name` contains `now`.
    ///
    /// An unknown name contains nothing: validation guarantees every name a
    /// route refers to exists, so this only happens for a caller's typo.
    pub fn contains(&self, name: &str, now: DateTime<Utc>) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|intervals| intervals.iter().any(|i| interval_contains(i, now)))
    }

    /// The subset of `names` that contain `now`, in the given order.
    pub fn active_now(&self, names: &[String], now: DateTime<Utc>) -> Vec<String> {
        names
            .iter()
            .filter(|name| self.contains(name, now))
            .cloned()
            .collect()
    }
}

/// Whether one interval contains `now`: every non-empty field must match,
/// read on the clock of the interval's location (UTC when unset).
pub fn interval_contains(interval: &TimeInterval, now: DateTime<Utc>) -> bool {
    let civil = match interval.location {
        None => CivilTime::of(&now),
        Some(IntervalLocation::Local) => CivilTime::of(&now.with_timezone(&Local)),
        Some(IntervalLocation::Zone(tz)) => CivilTime::of(&now.with_timezone(&tz)),
    };
    civil.is_in(interval)
}

/// The wall-clock fields of an instant in one location.
#[derive(Debug, Clone, Copy)]
struct CivilTime {
    minute_of_day: u32,
    /// Sunday = 0, as in Go's `time.Weekday`.
    weekday: i32,
    day: i32,
    month: i32,
    year: i32,
    days_in_month: i32,
}

impl CivilTime {
    fn of<T: Datelike + Timelike>(t: &T) -> Self {
        Self {
            minute_of_day: t.hour() * 60 + t.minute(),
            weekday: t.weekday().num_days_from_sunday() as i32,
            day: t.day() as i32,
            month: t.month() as i32,
            year: t.year(),
            days_in_month: days_in_month(t.year(), t.month()),
        }
    }

    fn is_in(&self, interval: &TimeInterval) -> bool {
        let within = |r: &InclusiveRange, v: i32| r.begin <= v && v <= r.end;
        // An empty list matches everything; a non-empty one needs one hit.
        fn any<T>(items: &[T], hit: impl Fn(&T) -> bool) -> bool {
            items.is_empty() || items.iter().any(hit)
        }
        any(&interval.times, |r| {
            r.start_minute <= self.minute_of_day && self.minute_of_day < r.end_minute
        }) && any(&interval.weekdays, |r| within(&r.0, self.weekday))
            && any(&interval.days_of_month, |r| self.day_in(&r.0))
            && any(&interval.months, |r| within(&r.0, self.month))
            && any(&interval.years, |r| within(&r.0, self.year))
    }

    /// Negative days count from the month's end (-1 = last day). A range
    /// that starts after the month's end (`31` in February) matches nothing.
    /// Alertmanager also clamps both ends to ±days_in_month; for a real day
    /// (1..=days_in_month) that changes no comparison, so it is left out.
    fn day_in(&self, range: &InclusiveRange) -> bool {
        let resolve = |d: i32| {
            if d < 0 { self.days_in_month + d + 1 } else { d }
        };
        resolve(range.begin) <= self.day && self.day <= resolve(range.end)
    }
}

/// Calendar days in a month.
///
/// Alertmanager divides the hours between two local midnights by 24 and
/// truncates, so a month with a spring-forward DST change (March in Berlin)
/// has one day too few there and `-1` means the 30th. We count calendar
/// days instead; only negative `days_of_month` in such months differ.
fn days_in_month(year: i32, month: u32) -> i32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid month");
    (next - first).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TimeRange;

    /// An interval written as Alertmanager YAML.
    fn interval(yaml: &str) -> TimeInterval {
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
            .with_timezone(&Utc)
    }

    /// Checks each (interval, instant, expected) row, naming failures.
    fn check(rows: &[(&str, &str, bool)]) {
        let failures: Vec<String> = rows
            .iter()
            .filter(|(yaml, when, want)| interval_contains(&interval(yaml), at(when)) != *want)
            .map(|(yaml, when, want)| format!("{yaml} at {when}: expected {want}"))
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    const OFFICE_HOURS: &str = "times: [{start_time: '09:00', end_time: '17:00'}]";

    #[test]
    fn empty_interval_matches_any_time() {
        check(&[
            ("{}", "2026-11-22T00:00:00Z", true),
            ("{}", "1999-02-28T23:59:59Z", true),
        ]);
    }

    #[test]
    fn times_include_the_start_and_exclude_the_end() {
        check(&[
            (OFFICE_HOURS, "2026-11-20T08:59:59Z", false),
            (OFFICE_HOURS, "2026-11-20T09:00:00Z", true),
            (OFFICE_HOURS, "2026-11-20T16:59:59Z", true),
            (OFFICE_HOURS, "2026-11-20T17:00:00Z", false),
        ]);
    }

    #[test]
    fn end_time_24_00_covers_the_last_minute_of_the_day() {
        let evening = "times: [{start_time: '18:00', end_time: '24:00'}]";
        check(&[
            (evening, "2026-11-20T17:59:59Z", false),
            (evening, "2026-11-20T18:00:00Z", true),
            (evening, "2026-11-20T23:59:59Z", true),
            (evening, "2026-11-21T00:00:00Z", false),
        ]);
    }

    #[test]
    fn any_listed_time_range_matches() {
        let split = "times: [{start_time: '00:00', end_time: '06:00'}, {start_time: '22:00', end_time: '24:00'}]";
        check(&[
            (split, "2026-11-20T05:59:00Z", true),
            (split, "2026-11-20T12:00:00Z", false),
            (split, "2026-11-20T22:30:00Z", true),
        ]);
    }

    #[test]
    fn weekdays_are_inclusive_and_start_on_sunday() {
        // 2026-11-22 is a Sunday.
        let workweek = "weekdays: ['monday:friday']";
        let weekend = "weekdays: [saturday, sunday]";
        check(&[
            (workweek, "2026-11-22T12:00:00Z", false),
            (workweek, "2026-11-23T00:00:00Z", true),
            (workweek, "2026-11-27T23:59:59Z", true),
            (workweek, "2026-11-28T00:00:00Z", false),
            (weekend, "2026-11-21T12:00:00Z", true),
            (weekend, "2026-11-22T12:00:00Z", true),
            (weekend, "2026-11-23T12:00:00Z", false),
            (
                "weekdays: ['sunday:saturday']",
                "2026-11-25T12:00:00Z",
                true,
            ),
        ]);
    }

    #[test]
    fn days_of_month_are_inclusive() {
        check(&[
            ("days_of_month: ['1:5']", "2026-11-01T00:00:00Z", true),
            ("days_of_month: ['1:5']", "2026-11-05T23:59:59Z", true),
            ("days_of_month: ['1:5']", "2026-11-06T00:00:00Z", false),
            ("days_of_month: ['15']", "2026-11-15T12:00:00Z", true),
            ("days_of_month: ['15']", "2026-11-16T12:00:00Z", false),
            ("days_of_month: ['1', '-1']", "2026-11-30T12:00:00Z", true),
        ]);
    }

    #[test]
    fn negative_days_count_from_the_end_of_each_month() {
        let last = "days_of_month: ['-1']";
        let last_two = "days_of_month: ['-2:-1']";
        check(&[
            (last, "2026-11-30T12:00:00Z", true),
            (last, "2026-11-29T12:00:00Z", false),
            (last, "2026-12-31T12:00:00Z", true),
            (last, "2026-12-30T12:00:00Z", false),
            // February, non-leap and leap years.
            (last, "2026-02-28T12:00:00Z", true),
            (last, "2026-02-27T12:00:00Z", false),
            (last, "2028-02-29T12:00:00Z", true),
            (last, "2028-02-28T12:00:00Z", false),
            (last, "2100-02-28T12:00:00Z", true),
            (last, "2000-02-29T12:00:00Z", true),
            (last_two, "2026-02-27T12:00:00Z", true),
            (last_two, "2026-02-26T12:00:00Z", false),
            (last_two, "2028-02-28T12:00:00Z", true),
            (last_two, "2028-02-27T12:00:00Z", false),
        ]);
    }

    #[test]
    fn ranges_mixing_signs_end_relative_to_the_month() {
        let whole_month = "days_of_month: ['1:-1']";
        let late = "days_of_month: ['20:-3']";
        check(&[
            (whole_month, "2026-02-01T00:00:00Z", true),
            (whole_month, "2026-02-28T23:59:59Z", true),
            (whole_month, "2026-01-31T12:00:00Z", true),
            // 2026-02: -3 is the 26th; 2028-02: the 27th; January: the 29th.
            (late, "2026-02-19T12:00:00Z", false),
            (late, "2026-02-20T12:00:00Z", true),
            (late, "2026-02-26T12:00:00Z", true),
            (late, "2026-02-27T12:00:00Z", false),
            (late, "2028-02-27T12:00:00Z", true),
            (late, "2028-02-28T12:00:00Z", false),
            (late, "2026-01-29T12:00:00Z", true),
            (late, "2026-01-30T12:00:00Z", false),
        ]);
    }

    #[test]
    fn days_beyond_the_month_never_match_in_short_months() {
        // Alertmanager skips a range that starts after the month's end
        // rather than clamping it onto the last day.
        check(&[
            ("days_of_month: ['31']", "2026-01-31T12:00:00Z", true),
            ("days_of_month: ['31']", "2026-02-28T12:00:00Z", false),
            ("days_of_month: ['31']", "2026-04-30T12:00:00Z", false),
            ("days_of_month: ['29:31']", "2026-02-28T12:00:00Z", false),
            ("days_of_month: ['29:31']", "2028-02-29T12:00:00Z", true),
            ("days_of_month: ['30:31']", "2026-04-30T12:00:00Z", true),
            // -31 is before the 1st of February, so only ranges reach in.
            ("days_of_month: ['-31']", "2026-02-01T12:00:00Z", false),
            ("days_of_month: ['-31:-1']", "2026-02-01T12:00:00Z", true),
            ("days_of_month: ['-31:-28']", "2026-02-01T12:00:00Z", true),
            ("days_of_month: ['-31:-28']", "2026-02-02T12:00:00Z", false),
        ]);
    }

    #[test]
    fn months_are_inclusive_with_january_as_1() {
        let spring = "months: ['march:may']";
        check(&[
            (spring, "2026-02-28T23:59:59Z", false),
            (spring, "2026-03-01T00:00:00Z", true),
            (spring, "2026-05-31T23:59:59Z", true),
            (spring, "2026-06-01T00:00:00Z", false),
            ("months: ['1']", "2026-01-15T00:00:00Z", true),
            ("months: ['december']", "2026-12-15T00:00:00Z", true),
            ("months: ['december']", "2026-11-15T00:00:00Z", false),
        ]);
    }

    #[test]
    fn years_are_inclusive() {
        let years = "years: ['2025:2026']";
        check(&[
            (years, "2024-12-31T23:59:59Z", false),
            (years, "2025-01-01T00:00:00Z", true),
            (years, "2026-12-31T23:59:59Z", true),
            (years, "2027-01-01T00:00:00Z", false),
            ("years: ['2030']", "2030-06-01T00:00:00Z", true),
        ]);
    }

    #[test]
    fn every_non_empty_field_must_match() {
        // Alertmanager issue #2935: fields combine with "and" within one
        // interval, not "or".
        let wednesday_afternoons =
            "{weekdays: [wednesday], times: [{start_time: '12:00', end_time: '19:00'}]}";
        let february_2028_weekends = "{weekdays: [saturday, sunday], months: [february], years: ['2028'], days_of_month: ['-7:-1']}";
        check(&[
            (wednesday_afternoons, "2026-11-25T13:00:00Z", true),
            (wednesday_afternoons, "2026-11-25T20:00:00Z", false),
            (wednesday_afternoons, "2026-11-26T13:00:00Z", false),
            // 2028-02-26 is a Saturday in the last week.
            (february_2028_weekends, "2028-02-26T12:00:00Z", true),
            (february_2028_weekends, "2028-02-19T12:00:00Z", false),
            (february_2028_weekends, "2028-02-24T12:00:00Z", false),
            (february_2028_weekends, "2027-02-27T12:00:00Z", false),
        ]);
    }

    #[test]
    fn a_zone_moves_the_date_as_well_as_the_clock() {
        // Friday 12:00 UTC is Saturday 01:00 in Auckland (UTC+13 in November).
        let auckland_saturday = "{weekdays: [saturday], location: Pacific/Auckland}";
        let auckland_21st = "{days_of_month: ['21'], location: Pacific/Auckland}";
        check(&[
            (auckland_saturday, "2026-11-20T12:00:00Z", true),
            (auckland_saturday, "2026-11-20T10:59:59Z", false),
            (auckland_21st, "2026-11-20T11:00:00Z", true),
            ("{days_of_month: ['21']}", "2026-11-20T11:00:00Z", false),
        ]);
    }

    #[test]
    fn a_window_in_the_skipped_dst_hour_never_matches_that_day() {
        // Berlin springs forward on 2026-03-29 at 01:00 UTC: 02:00 CET
        // becomes 03:00 CEST, so 02:00-03:00 local does not exist.
        let two_am = "{times: [{start_time: '02:00', end_time: '03:00'}], location: Europe/Berlin}";
        check(&[
            (two_am, "2026-03-28T01:30:00Z", true),
            (two_am, "2026-03-29T00:59:59Z", false),
            (two_am, "2026-03-29T01:00:00Z", false),
            (two_am, "2026-03-29T01:30:00Z", false),
            (two_am, "2026-03-30T00:30:00Z", true),
        ]);
    }

    #[test]
    fn a_window_in_the_repeated_dst_hour_matches_both_times() {
        // Berlin falls back on 2026-10-25 at 01:00 UTC: 03:00 CEST becomes
        // 02:00 CET, so 02:00-03:00 local lasts two hours.
        let two_am = "{times: [{start_time: '02:00', end_time: '03:00'}], location: Europe/Berlin}";
        check(&[
            (two_am, "2026-10-24T23:59:59Z", false),
            (two_am, "2026-10-25T00:00:00Z", true),
            (two_am, "2026-10-25T00:59:59Z", true),
            (two_am, "2026-10-25T01:00:00Z", true),
            (two_am, "2026-10-25T01:59:59Z", true),
            (two_am, "2026-10-25T02:00:00Z", false),
        ]);
    }

    #[test]
    fn office_hours_follow_the_zone_across_dst_changes() {
        let berlin = "{times: [{start_time: '09:00', end_time: '17:00'}], location: Europe/Berlin}";
        check(&[
            // Friday 2026-03-27, CET (UTC+1).
            (berlin, "2026-03-27T07:59:59Z", false),
            (berlin, "2026-03-27T08:00:00Z", true),
            (berlin, "2026-03-27T15:59:59Z", true),
            (berlin, "2026-03-27T16:00:00Z", false),
            // Monday 2026-03-30, CEST (UTC+2).
            (berlin, "2026-03-30T06:59:59Z", false),
            (berlin, "2026-03-30T07:00:00Z", true),
            (berlin, "2026-03-30T14:59:59Z", true),
            (berlin, "2026-03-30T15:00:00Z", false),
            // Friday 2026-10-23, CEST.
            (berlin, "2026-10-23T07:00:00Z", true),
            (berlin, "2026-10-23T15:00:00Z", false),
            // Monday 2026-10-26, CET again.
            (berlin, "2026-10-26T07:00:00Z", false),
            (berlin, "2026-10-26T08:00:00Z", true),
            (berlin, "2026-10-26T15:59:59Z", true),
            (berlin, "2026-10-26T16:00:00Z", false),
        ]);
    }

    #[test]
    fn last_day_of_a_dst_month_is_the_calendar_last_day() {
        // Deliberate difference: Alertmanager counts March 2026 in Berlin as
        // 30 days (743 hours / 24, truncated), so its -1 is the 30th.
        let last = "{days_of_month: ['-1'], location: Europe/Berlin}";
        check(&[
            (last, "2026-03-31T12:00:00Z", true),
            (last, "2026-03-30T12:00:00Z", false),
            (last, "2026-10-31T12:00:00Z", true),
        ]);
    }

    #[test]
    fn local_reads_the_machine_clock_zone() {
        for when in [
            "2026-03-29T00:30:00Z",
            "2026-06-15T23:30:00Z",
            "2026-12-31T23:30:00Z",
        ] {
            let now = at(when);
            let local_hour = now.with_timezone(&Local).hour();
            for hour in 0..24 {
                let interval = TimeInterval {
                    times: vec![TimeRange {
                        start_minute: hour * 60,
                        end_minute: hour * 60 + 60,
                    }],
                    location: Some(IntervalLocation::Local),
                    ..TimeInterval::default()
                };
                assert_eq!(
                    interval_contains(&interval, now),
                    hour == local_hour,
                    "{when}, local hour {local_hour}, window {hour}:00"
                );
            }
        }
        let parsed = interval("{weekdays: ['sunday:saturday'], location: Local}");
        assert_eq!(parsed.location, Some(IntervalLocation::Local));
        assert!(interval_contains(&parsed, at("2026-11-22T00:00:00Z")));
    }

    fn configs(yaml: &str) -> TimeIntervals {
        let configs: Vec<TimeIntervalConfig> =
            serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        TimeIntervals::new(&configs)
    }

    const NAMED: &str = "
- name: out-of-hours
  time_intervals:
  - weekdays: [saturday, sunday]
  - times:
    - {start_time: '00:00', end_time: '09:00'}
    - {start_time: '17:00', end_time: '24:00'}
- name: month-end
  time_intervals:
  - days_of_month: ['-1']
- name: never-configured-empty
";

    #[test]
    fn a_name_contains_now_when_any_of_its_intervals_does() {
        let intervals = configs(NAMED);
        let rows = [
            ("2026-11-21T12:00:00Z", true),  // Saturday noon: first interval.
            ("2026-11-25T12:00:00Z", false), // Wednesday noon: neither.
            ("2026-11-25T20:00:00Z", true),  // Wednesday evening: second.
            ("2026-11-25T08:59:59Z", true),  // Wednesday morning: second.
        ];
        for (when, want) in rows {
            assert_eq!(intervals.contains("out-of-hours", at(when)), want, "{when}");
        }
    }

    #[test]
    fn unknown_names_and_names_without_intervals_contain_nothing() {
        let intervals = configs(NAMED);
        let now = at("2026-11-21T12:00:00Z");
        assert!(!intervals.contains("nope", now));
        assert!(!intervals.contains("never-configured-empty", now));
        assert!(!TimeIntervals::default().contains("out-of-hours", now));
    }

    #[test]
    fn active_now_keeps_the_given_order_of_matching_names() {
        let intervals = configs(NAMED);
        let names: Vec<String> = ["month-end", "nope", "out-of-hours"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            intervals.active_now(&names, at("2026-11-30T20:00:00Z")),
            ["month-end", "out-of-hours"]
        );
        assert_eq!(
            intervals.active_now(&names, at("2026-11-30T12:00:00Z")),
            ["month-end"]
        );
        assert!(
            intervals
                .active_now(&names, at("2026-11-25T12:00:00Z"))
                .is_empty()
        );
    }
}
