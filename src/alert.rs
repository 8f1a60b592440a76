//! The alert as klaxon keeps it, and Alertmanager's rules for merging a
//! re-sent alert into the one already stored.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::intern::SharedStr;
use crate::labels::{Fingerprint, LabelError, LabelSet};

/// One alert, identified by its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Shared: alerts of one rule carry the same URL (see `intern`).
    pub generator_url: SharedStr,
    /// When klaxon last received this alert.
    pub updated_at: DateTime<Utc>,
    /// True when `ends_at` was not sent but set to `now + resolve_timeout`;
    /// such an end may be overridden by any later explicit one.
    pub timeout: bool,
    /// See [`FingerprintCache`]; `Default::default()` when building one.
    #[serde(skip)]
    pub fingerprint_cache: FingerprintCache,
}

/// The alert's fingerprint once computed (0: not yet). Ingest, routing,
/// grouping and listing each need it. It lives in the alert, not in its
/// label set, because annotations are a label set too and would carry a
/// useless copy. A clone starts empty, since a clone is how a changed
/// alert is made.
#[derive(Default)]
pub struct FingerprintCache(AtomicU64);

impl Clone for FingerprintCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A cache is not part of the alert's value.
impl PartialEq for FingerprintCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FingerprintCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), which Alertmanager uses
/// for "not set".
pub fn go_zero_time() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("year 1 is representable")
        .and_utc()
}

/// `t + d`, clamped to the latest representable time instead of
/// panicking: durations come from users (`resolve_timeout`, retention).
pub fn add_saturating(t: DateTime<Utc>, d: chrono::Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("start time missing")]
    StartMissing,
    #[error("end time missing")]
    EndMissing,
    #[error("start time must be before end time")]
    EndBeforeStart,
    /// Alertmanager's messages: `at least one label pair required`,
    /// `invalid label set: invalid name "…"`.
    #[error("{}", labels_message(.0))]
    Labels(#[from] LabelError),
    #[error("invalid annotations: {0}")]
    Annotations(LabelError),
}

fn labels_message(e: &LabelError) -> String {
    match e {
        LabelError::Empty => e.to_string(),
        LabelError::InvalidName(_) => format!("invalid label set: {e}"),
    }
}

impl Alert {
    /// An alert for tests: the given labels and annotations, every time
    /// `at`, no generator URL.
    #[cfg(test)]
    pub fn for_test(
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        at: DateTime<Utc>,
    ) -> Alert {
        Alert {
            labels: labels.iter().copied().collect(),
            annotations: annotations.iter().copied().collect(),
            starts_at: at,
            ends_at: at,
            generator_url: "".into(),
            updated_at: at,
            timeout: false,
            fingerprint_cache: Default::default(),
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        let cached = self.fingerprint_cache.0.load(Relaxed);
        if cached != 0 {
            return Fingerprint(cached);
        }
        // A set whose hash is 0 is simply hashed again next time.
        let fp = self.labels.fingerprint();
        self.fingerprint_cache.0.store(fp.0, Relaxed);
        fp
    }

    /// Alertmanager's `Alert.Validate`, with label and annotation names
    /// checked as `mode` says.
    pub fn validate(&self, mode: crate::labels::NameMode) -> Result<(), AlertError> {
        if self.ends_at < self.starts_at {
            return Err(AlertError::EndBeforeStart);
        }
        self.labels.validate(mode)?;
        self.annotations
            .validate_names(mode)
            .map_err(AlertError::Annotations)?;
        Ok(())
    }

    /// Resolved once its end time has passed. Go's zero time (what a
    /// notification shows for a firing alert) means "no end".
    pub fn resolved_at(&self, now: DateTime<Utc>) -> bool {
        self.ends_at != go_zero_time() && self.ends_at <= now
    }

    /// The copy a notification carries: a firing alert's end is cleared so
    /// that it cannot resolve while the notification is under way, as
    /// Alertmanager's flush does.
    pub fn for_notification(&self, now: DateTime<Utc>) -> Alert {
        let mut a = self.clone();
        if !a.resolved_at(now) {
            a.ends_at = go_zero_time();
        }
        a
    }

    /// Merges `newer` (just received) into `self` (stored), as
    /// Alertmanager's `Alert.Merge`: the younger alert wins, but the
    /// earliest start and the latest explicit end are kept.
    pub fn merge(&self, newer: &Alert, now: DateTime<Utc>) -> Alert {
        let (old, young) = if newer.updated_at < self.updated_at {
            (newer, self)
        } else {
            (self, newer)
        };
        let mut res = young.clone();
        if old.starts_at < young.starts_at {
            res.starts_at = old.starts_at;
        }
        if young.resolved_at(now) {
            if old.resolved_at(now) && old.ends_at > young.ends_at {
                res.ends_at = old.ends_at;
            }
        } else if old.ends_at > young.ends_at && !old.timeout {
            res.ends_at = old.ends_at;
            res.timeout = false;
        }
        // The labels are `young`'s, so is the fingerprint: a re-sent alert
        // is not hashed again.
        res.fingerprint_cache =
            FingerprintCache(AtomicU64::new(young.fingerprint_cache.0.load(Relaxed)));
        res
    }

    /// Alertmanager merges only when the activity ranges overlap; otherwise
    /// the new alert replaces the old one (a new firing after resolution).
    pub fn overlaps(&self, newer: &Alert) -> bool {
        (newer.ends_at > self.starts_at && newer.ends_at < self.ends_at)
            || (newer.starts_at > self.starts_at && newer.starts_at < self.ends_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn alert(start: i64, end: i64, updated: i64, timeout: bool) -> Alert {
        Alert {
            labels: [("alertname", "A")].into_iter().collect(),
            annotations: LabelSet::new(),
            starts_at: t(start),
            ends_at: t(end),
            generator_url: "".into(),
            updated_at: t(updated),
            timeout,
            fingerprint_cache: Default::default(),
        }
    }

    /// 88 bytes plus `Arc`'s two counters and malloc's header fill a
    /// 112-byte chunk; one byte more takes 128, 1.6 MiB per 100k alerts.
    #[test]
    fn an_alert_fits_malloc_s_112_byte_class() {
        assert!(
            std::mem::size_of::<Alert>() <= 88,
            "{}",
            std::mem::size_of::<Alert>()
        );
    }

    #[test]
    fn a_clone_recomputes_the_fingerprint_after_its_labels_change() {
        let a = alert(0, 1, 0, false);
        let fp = a.fingerprint();
        let mut b = a.clone();
        b.labels.insert("instance", "x");
        assert_ne!(b.fingerprint(), fp);
        assert_eq!(a.fingerprint(), fp);
    }

    #[test]
    fn a_merged_alert_keeps_the_cached_fingerprint() {
        let old = alert(0, 300, 0, true);
        let new = alert(60, 360, 60, true);
        let fp = new.fingerprint();
        let m = old.merge(&new, t(60));
        assert_eq!(m.fingerprint_cache.0.load(Relaxed), fp.0);
        assert_eq!(m.fingerprint(), m.labels.fingerprint());
    }

    #[test]
    fn merge_keeps_earliest_start() {
        let old = alert(0, 300, 0, true);
        let new = alert(60, 360, 60, true);
        let m = old.merge(&new, t(60));
        assert_eq!(m.starts_at, t(0));
        assert_eq!(m.ends_at, t(360));
    }

    #[test]
    fn explicit_later_end_survives_a_timeout_resend() {
        let old = alert(0, 1000, 0, false);
        let new = alert(0, 360, 60, true);
        let m = old.merge(&new, t(60));
        assert_eq!(m.ends_at, t(1000));
        assert!(!m.timeout);
    }

    #[test]
    fn resolution_from_the_newer_alert_wins() {
        let old = alert(0, 300, 0, true);
        let new = alert(0, 50, 60, false);
        let m = old.merge(&new, t(60));
        assert_eq!(m.ends_at, t(50));
    }

    #[test]
    fn older_update_arriving_late_does_not_win() {
        let stored = alert(0, 50, 60, false);
        let late = alert(0, 300, 10, true);
        let m = stored.merge(&late, t(60));
        assert_eq!(m.ends_at, t(50));
        assert_eq!(m.updated_at, t(60));
    }

    #[test]
    fn validation_rejects_end_before_start_and_empty_labels() {
        assert_eq!(
            alert(10, 5, 0, false).validate(Default::default()),
            Err(AlertError::EndBeforeStart)
        );
        let mut a = alert(0, 5, 0, false);
        a.labels = LabelSet::new();
        assert_eq!(
            a.validate(Default::default()),
            Err(AlertError::Labels(LabelError::Empty))
        );
    }
}
