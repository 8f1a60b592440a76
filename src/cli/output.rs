//! How amctl prints: aligned tables, times both absolute and relative,
//! matchers in Alertmanager's syntax, and stdout writes that survive a
//! closed pipe (`amctl silence query | head -1`).

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::api::models::ApiMatcher;
use crate::labels::{LabelSet, go_quote};
use crate::matcher::MatchType;

/// `-o/--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// A table of the essentials.
    Simple,
    /// A table with every field.
    Extended,
    /// The server's JSON, unchanged.
    Json,
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "simple" => Ok(Output::Simple),
            "extended" => Ok(Output::Extended),
            "json" => Ok(Output::Json),
            other => Err(format!(
                "unknown output format {other:?} (simple, extended or json)"
            )),
        }
    }
}

/// Writes to stdout. A reader that went away (a closed pipe) is not an
/// error worth a message: the output was not wanted any more.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Columns padded to the widest cell, two spaces apart.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `2026-05-01 10:00:00 UTC`.
pub fn absolute(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A duration as its two largest units: `1h59m`, `3d4h`, `45s`.
pub fn human(d: chrono::Duration) -> String {
    // Rounded to the second: a 1h silence queried at once "ends in 1h".
    let secs = (d.num_milliseconds().abs() + 500) / 1000;
    if secs == 0 {
        return "0s".to_owned();
    }
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut rest = secs;
    let mut parts = Vec::new();
    for (name, size) in units {
        let n = rest / size;
        rest %= size;
        if n > 0 || !parts.is_empty() {
            parts.push((n, name));
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect()
}

/// `<absolute> (<future> in X)` or `<absolute> (<past> X ago)`.
fn with_relative(t: &DateTime<Utc>, now: DateTime<Utc>, future: &str, past: &str) -> String {
    let d = *t - now;
    if d > chrono::Duration::zero() {
        format!("{} ({future} in {})", absolute(t), human(d))
    } else {
        format!("{} ({past} {} ago)", absolute(t), human(d))
    }
}

pub fn starts(t: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    with_relative(t, now, "starts", "started")
}

pub fn ends(t: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    with_relative(t, now, "ends", "ended")
}

pub fn updated(t: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    with_relative(t, now, "updated", "updated")
}

/// `alertname="Foo" severity=~"crit|warn"`.
pub fn matchers(ms: &[ApiMatcher]) -> String {
    ms.iter()
        .map(|m| {
            let op = MatchType::from_flags(m.is_regex, m.is_equal).as_str();
            format!("{}{op}{}", m.name, go_quote(&m.value))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `a="1" b="2"` (labels and annotations in tables).
pub fn label_set(ls: &LabelSet) -> String {
    ls.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line of free text in a table cell.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_their_two_largest_units() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (3_599, "59m59s"),
            (3_600, "1h"),
            (7_140, "1h59m"),
            (7_199, "1h59m"),
            (90_000, "1d1h"),
            (86_400 + 59, "1d"),
        ];
        for (secs, text) in cases {
            assert_eq!(human(chrono::Duration::seconds(secs)), text, "{secs}");
        }
    }

    #[test]
    fn times_are_absolute_and_relative() {
        let now: DateTime<Utc> = "2026-05-01T10:00:00Z".parse().unwrap();
        let later = now + chrono::Duration::minutes(119);
        assert_eq!(ends(&later, now), "2026-05-01 11:59:00 UTC (ends in 1h59m)");
        let earlier = now - chrono::Duration::minutes(3);
        assert_eq!(
            ends(&earlier, now),
            "2026-05-01 09:57:00 UTC (ended 3m ago)"
        );
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["ID", "Comment"]);
        t.row(vec!["a-long-id".into(), "x".into()]);
        assert_eq!(t.render(), "ID         Comment\na-long-id  x\n");
    }

    #[test]
    fn matchers_use_alertmanager_syntax() {
        let m = |name: &str, value: &str, is_regex, is_equal| ApiMatcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        };
        assert_eq!(
            matchers(&[m("a", "b", false, true), m("c", "d|e", true, false)]),
            r#"a="b" c!~"d|e""#
        );
    }
}
