//! The last hours in equal buckets, for the web UI's timelines: how many
//! alerts were firing per severity and how many notifications each
//! receiver sent or failed. Counted from what klaxon already keeps — the
//! alert store holds resolved alerts for `--data.retention` and the
//! history every delivery attempt — so nothing new is recorded or stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::alert::Alert;
use crate::history::{Attempt, Outcome};

/// `buckets` equal slices of time ending at `end`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub end: DateTime<Utc>,
    pub step: chrono::Duration,
    pub buckets: usize,
}

impl Window {
    pub fn start(&self) -> DateTime<Utc> {
        self.end - self.step * self.buckets as i32
    }

    /// The bucket holding `t`, if the window does.
    fn bucket(&self, t: DateTime<Utc>) -> Option<usize> {
        let since = t.signed_duration_since(self.start());
        if since < chrono::Duration::zero() || t > self.end {
            return None;
        }
        let i = since.num_milliseconds() / self.step.num_milliseconds().max(1);
        Some((i as usize).min(self.buckets - 1))
    }

    /// The buckets an interval touches, clamped to the window; empty when
    /// it lies outside.
    fn span(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> std::ops::Range<usize> {
        if to < self.start() || from > self.end || to < from {
            return 0..0;
        }
        let first = self.bucket(from.max(self.start())).unwrap_or(0);
        let last = self.bucket(to.min(self.end)).unwrap_or(self.buckets - 1);
        first..last + 1
    }
}

/// Alerts firing at some moment of each bucket, by `severity` label
/// (`""` when an alert has none).
pub fn firing_by_severity<'a>(
    alerts: impl IntoIterator<Item = &'a Alert>,
    window: Window,
) -> BTreeMap<String, Vec<u32>> {
    let mut out: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for a in alerts {
        // A future end means "still firing": up to the window's end.
        let to = a.ends_at.min(window.end);
        let span = window.span(a.starts_at, to);
        if span.is_empty() {
            continue;
        }
        let severity = a.labels.get("severity").unwrap_or("");
        let counts = match out.get_mut(severity) {
            Some(c) => c,
            None => out
                .entry(severity.to_owned())
                .or_insert_with(|| vec![0; window.buckets]),
        };
        for c in &mut counts[span] {
            *c += 1;
        }
    }
    out
}

/// Notifications one receiver sent and failed, per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deliveries {
    pub sent: Vec<u32>,
    pub failed: Vec<u32>,
}

/// Delivery attempts per receiver and bucket. `newest_first` is the
/// history's order, so reading stops at the first attempt older than the
/// window instead of walking the whole retention.
pub fn deliveries_by_receiver<E>(
    newest_first: impl IntoIterator<Item = Result<Attempt, E>>,
    window: Window,
) -> Result<BTreeMap<String, Deliveries>, E> {
    let mut out: BTreeMap<String, Deliveries> = BTreeMap::new();
    for a in newest_first {
        let a = a?;
        if a.time < window.start() {
            break;
        }
        let Some(i) = window.bucket(a.time) else {
            continue;
        };
        let d = out.entry(a.receiver).or_insert_with(|| Deliveries {
            sent: vec![0; window.buckets],
            failed: vec![0; window.buckets],
        });
        match a.outcome {
            Outcome::Success => d.sent[i] += 1,
            Outcome::Failure => d.failed[i] += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + h * 3600, 0).unwrap()
    }

    fn window() -> Window {
        Window {
            end: at(24),
            step: chrono::Duration::hours(1),
            buckets: 24,
        }
    }

    fn alert(severity: Option<&str>, from: DateTime<Utc>, to: DateTime<Utc>) -> Alert {
        let mut labels = vec![("alertname", "A")];
        if let Some(s) = severity {
            labels.push(("severity", s));
        }
        Alert {
            labels: labels.into_iter().collect(),
            annotations: Default::default(),
            starts_at: from,
            ends_at: to,
            generator_url: "".into(),
            updated_at: from,
            timeout: false,
            fingerprint_cache: Default::default(),
        }
    }

    #[test]
    fn an_alert_counts_in_every_bucket_it_fired_in_clamped_to_the_window() {
        let alerts = [
            // Resolved inside the window: hours 2..=4.
            alert(
                Some("critical"),
                at(2) + chrono::Duration::minutes(30),
                at(4),
            ),
            // Started before the window, still firing (future end).
            alert(Some("critical"), at(-10), at(30)),
            // Resolved before the window: nowhere.
            alert(Some("critical"), at(-10), at(-1)),
            // No severity label.
            alert(None, at(23), at(40)),
        ];
        let counts = firing_by_severity(&alerts, window());
        let critical = &counts["critical"];
        assert_eq!(critical[0], 1);
        assert_eq!(&critical[1..6], [1, 2, 2, 2, 1]);
        assert_eq!(critical[23], 1);
        let none = &counts[""];
        assert_eq!(none.iter().sum::<u32>(), 1);
        assert_eq!(none[23], 1);
    }

    #[test]
    fn deliveries_count_per_receiver_and_stop_at_the_window_start() {
        let attempt = |h: i64, receiver: &str, outcome| Attempt {
            time: at(h),
            receiver: receiver.into(),
            integration: "webhook".into(),
            group_key: "{}".into(),
            alerts: 1,
            reason: "first notification".into(),
            outcome,
            error: None,
        };
        let newest_first = vec![
            Ok::<_, std::convert::Infallible>(attempt(23, "a", Outcome::Success)),
            Ok(attempt(23, "a", Outcome::Failure)),
            Ok(attempt(5, "b", Outcome::Success)),
            Ok(attempt(-1, "a", Outcome::Success)),
            // Never read: the walk stopped at the older one above.
            Ok(attempt(10, "c", Outcome::Success)),
        ];
        let by = deliveries_by_receiver(newest_first, window()).unwrap();
        assert_eq!(by.len(), 2, "{by:?}");
        assert_eq!(by["a"].sent[23], 1);
        assert_eq!(by["a"].failed[23], 1);
        assert_eq!(by["a"].sent.iter().sum::<u32>(), 1);
        assert_eq!(by["b"].sent[5], 1);
    }
}
