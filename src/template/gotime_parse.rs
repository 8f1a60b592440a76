//! Go's `time.ParseInLocation(layout, value, time.UTC)`, for the `toDate`
//! and `mustToDate` template functions (Alertmanager 0.34). It walks the
//! same layout elements as formatting (gotime.rs) and keeps Go's error
//! texts, since `mustToDate` shows them to the user.

use chrono::{FixedOffset, NaiveDate, TimeZone};

use super::gotime::{Chunk, GoTime, MONTHS, WEEKDAYS, next_chunk};

/// Parses `value` with a Go reference `layout`; a value without an offset
/// is UTC, as with `time.UTC` for the location.
pub(super) fn parse_in_utc(layout: &str, value: &str) -> Result<GoTime, String> {
    let mut p = Parsed::default();
    let mut rest = layout;
    let mut v = value;
    loop {
        let (prefix, chunk, after) = next_chunk(rest);
        v = v
            .strip_prefix(prefix)
            .ok_or_else(|| cannot_parse(layout, value, v, prefix))?;
        let Some(chunk) = chunk else { break };
        let element = &rest[prefix.len()..rest.len() - after.len()];
        rest = after;
        let next_is_frac = matches!(next_chunk(rest), ("", Some(Chunk::Frac { .. }), _));
        v = p
            .element(chunk, v, next_is_frac)
            .ok_or_else(|| cannot_parse(layout, value, v, element))?;
    }
    if !v.is_empty() {
        return Err(format!(r#"parsing time "{value}": extra text: "{v}""#));
    }
    p.finish()
        .map_err(|what| format!(r#"parsing time "{value}": {what}"#))
}

fn cannot_parse(layout: &str, value: &str, at: &str, element: &str) -> String {
    format!(r#"parsing time "{value}" as "{layout}": cannot parse "{at}" as "{element}""#)
}

struct Parsed {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    pm: Option<bool>,
    offset: Option<i32>,
    zone: Option<String>,
}

impl Default for Parsed {
    fn default() -> Self {
        Parsed {
            year: 1,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            pm: None,
            offset: None,
            zone: None,
        }
    }
}

impl Parsed {
    /// Reads one layout element from the front of `v`; the rest, or `None`.
    fn element<'v>(&mut self, chunk: Chunk, v: &'v str, next_is_frac: bool) -> Option<&'v str> {
        let v = match chunk {
            Chunk::LongYear => {
                let digits = v
                    .get(..4)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                self.year = digits.parse().ok()?;
                &v[4..]
            }
            Chunk::Year => {
                let digits = v
                    .get(..2)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                let y: i32 = digits.parse().ok()?;
                self.year = if y >= 69 { 1900 + y } else { 2000 + y };
                &v[2..]
            }
            Chunk::LongMonth | Chunk::Month => {
                let long = chunk == Chunk::LongMonth;
                let (i, rest) = lookup(&MONTHS, v, long)?;
                self.month = i as u32 + 1;
                rest
            }
            Chunk::LongWeekDay | Chunk::WeekDay => {
                lookup(&WEEKDAYS, v, chunk == Chunk::LongWeekDay)?.1
            }
            Chunk::NumMonth | Chunk::ZeroMonth => {
                let (n, rest) = number(v, chunk == Chunk::ZeroMonth)?;
                self.month = n;
                rest
            }
            Chunk::Day | Chunk::UnderDay | Chunk::ZeroDay => {
                let v = if chunk == Chunk::UnderDay {
                    v.strip_prefix(' ').unwrap_or(v)
                } else {
                    v
                };
                let (n, rest) = number(v, chunk == Chunk::ZeroDay)?;
                self.day = n;
                rest
            }
            // The day of the year only checks the date in Go; klaxon reads
            // and skips it.
            Chunk::UnderYearDay | Chunk::ZeroYearDay => {
                let v = v.trim_start_matches(' ');
                let digits = v
                    .get(..3)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                &v[digits.len()..]
            }
            Chunk::Hour | Chunk::Hour12 | Chunk::ZeroHour12 => {
                let (n, rest) = number(v, chunk == Chunk::ZeroHour12)?;
                self.hour = n;
                rest
            }
            Chunk::Minute | Chunk::ZeroMinute => {
                let (n, rest) = number(v, chunk == Chunk::ZeroMinute)?;
                self.minute = n;
                rest
            }
            Chunk::Second | Chunk::ZeroSecond => {
                let (n, rest) = number(v, chunk == Chunk::ZeroSecond)?;
                self.second = n;
                // Go reads a fraction after the seconds even when the
                // layout has none, unless the layout's next element is one.
                let b = rest.as_bytes();
                if !next_is_frac
                    && b.len() >= 2
                    && (b[0] == b'.' || b[0] == b',')
                    && b[1].is_ascii_digit()
                {
                    let n = 1 + rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                    self.nanos = fraction(&rest[1..n])?;
                    &rest[n..]
                } else {
                    rest
                }
            }
            Chunk::PM | Chunk::Pm => {
                let word = v.get(..2)?;
                self.pm = match word.to_ascii_uppercase().as_str() {
                    "PM" => Some(true),
                    "AM" => Some(false),
                    _ => return None,
                };
                &v[2..]
            }
            Chunk::Tz => {
                if let Some(rest) = v.strip_prefix("UTC") {
                    self.offset = Some(0);
                    self.zone = Some("UTC".into());
                    rest
                } else {
                    let n = v.bytes().take_while(u8::is_ascii_uppercase).count();
                    if !(3..=5).contains(&n) {
                        return None;
                    }
                    self.zone = Some(v[..n].to_owned());
                    &v[n..]
                }
            }
            Chunk::Offset {
                z,
                colon,
                seconds,
                hours_only,
            } => {
                if z && let Some(rest) = v.strip_prefix('Z') {
                    self.offset = Some(0);
                    self.zone = Some("UTC".into());
                    return Some(rest);
                }
                let sign = match v.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let mut rest = &v[1..];
                let part = |rest: &mut &str, sep: bool| -> Option<i32> {
                    if sep {
                        *rest = rest.strip_prefix(':')?;
                    }
                    let d = rest
                        .get(..2)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    *rest = &rest[2..];
                    d.parse().ok()
                };
                let hours = part(&mut rest, false)?;
                let minutes = if hours_only {
                    0
                } else {
                    part(&mut rest, colon)?
                };
                let secs = if seconds { part(&mut rest, colon)? } else { 0 };
                self.offset = Some(sign * (hours * 3600 + minutes * 60 + secs));
                rest
            }
            Chunk::Frac { sep, digits, trim } => {
                if trim {
                    // `.999`: optional, any number of digits up to nine.
                    match v.strip_prefix(sep) {
                        Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => {
                            let n = after.bytes().take_while(u8::is_ascii_digit).count();
                            self.nanos = fraction(&after[..n])?;
                            &after[n..]
                        }
                        _ => v,
                    }
                } else {
                    let after = v.strip_prefix(sep)?;
                    let d = after
                        .get(..digits)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    self.nanos = fraction(d)?;
                    &after[digits..]
                }
            }
        };
        Some(v)
    }

    fn finish(self) -> Result<GoTime, &'static str> {
        let mut hour = self.hour;
        match self.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        if !(1..=12).contains(&self.month) {
            return Err("month out of range");
        }
        if hour > 23 {
            return Err("hour out of range");
        }
        if self.minute > 59 {
            return Err("minute out of range");
        }
        if self.second > 59 {
            return Err("second out of range");
        }
        let naive = NaiveDate::from_ymd_opt(self.year, self.month, self.day)
            .and_then(|d| d.and_hms_nano_opt(hour, self.minute, self.second, self.nanos))
            .ok_or("day out of range")?;
        let offset =
            FixedOffset::east_opt(self.offset.unwrap_or(0)).ok_or("offset out of range")?;
        let at = offset
            .from_local_datetime(&naive)
            .single()
            .ok_or("day out of range")?;
        // Go names a UTC result "UTC"; another offset gets the parsed
        // abbreviation, or none (printed as the offset again).
        let zone = match (self.offset.unwrap_or(0), self.zone) {
            (0, None) => "UTC".to_owned(),
            (_, zone) => zone.unwrap_or_default(),
        };
        Ok(GoTime { at, zone })
    }
}

/// Go's `getnum`: one or two digits, exactly two when `fixed`.
fn number(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = v.as_bytes();
    if !b.first()?.is_ascii_digit() {
        return None;
    }
    if !b.get(1).is_some_and(u8::is_ascii_digit) {
        return (!fixed).then(|| (u32::from(b[0] - b'0'), &v[1..]));
    }
    Some((
        u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'),
        &v[2..],
    ))
}

/// A name from `names` (or its three-letter form), case-insensitively as Go.
fn lookup<'v>(names: &[&str], v: &'v str, long: bool) -> Option<(usize, &'v str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if long { *name } else { &name[..3] };
        let head = v.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &v[name.len()..]))
    })
}

/// Fractional-second digits as nanoseconds (digits past nine ignored).
fn fraction(digits: &str) -> Option<u32> {
    let nine: String = digits.chars().take(9).collect();
    format!("{nine:0<9}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_in_utc;

    /// Layouts, inputs and what Go's `time.Time.String()` prints for the
    /// result of `time.ParseInLocation(layout, value, time.UTC)`.
    #[test]
    fn parses_like_go() {
        let cases = [
            ("2006-01-02", "2024-03-05", "2024-03-05 00:00:00 +0000 UTC"),
            (
                "2006-01-02T15:04:05Z07:00",
                "2024-03-05T10:20:30Z",
                "2024-03-05 10:20:30 +0000 UTC",
            ),
            (
                "2006-01-02T15:04:05Z07:00",
                "2024-03-05T10:20:30+02:00",
                "2024-03-05 10:20:30 +0200 +0200",
            ),
            (
                "2006-01-02 15:04:05",
                "2024-03-05 10:20:30.25",
                "2024-03-05 10:20:30.25 +0000 UTC",
            ),
            (
                "Jan 2, 2006 at 3:04pm (MST)",
                "Feb 3, 2013 at 7:54pm (PST)",
                "2013-02-03 19:54:00 +0000 PST",
            ),
            (
                "Mon, 02 Jan 2006 15:04:05.000 MST",
                "Tue, 05 Mar 2024 01:02:03.456 UTC",
                "2024-03-05 01:02:03.456 +0000 UTC",
            ),
            ("02/01/06", "31/12/99", "1999-12-31 00:00:00 +0000 UTC"),
        ];
        for (layout, value, want) in cases {
            let got = parse_in_utc(layout, value).unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(got.to_string(), want, "{layout} {value}");
        }
    }

    #[test]
    fn fails_with_gos_messages() {
        let cases = [
            (
                "2006-01-02",
                "2024/03/05",
                r#"parsing time "2024/03/05" as "2006-01-02": cannot parse "/03/05" as "-""#,
            ),
            (
                "2006-01-02",
                "2024-02-30",
                r#"parsing time "2024-02-30": day out of range"#,
            ),
            (
                "2006-01-02",
                "2024-13-01",
                r#"parsing time "2024-13-01": month out of range"#,
            ),
            (
                "2006-01-02",
                "2024-03-05x",
                r#"parsing time "2024-03-05x": extra text: "x""#,
            ),
            (
                "2006-01-02",
                "",
                r#"parsing time "" as "2006-01-02": cannot parse "" as "2006""#,
            ),
        ];
        for (layout, value, want) in cases {
            assert_eq!(parse_in_utc(layout, value).unwrap_err(), want);
        }
    }
}
