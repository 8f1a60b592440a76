//! `--alerts.per-alertname-limit`: at most N alerts of one alert name are
//! stored at a time, as Alertmanager 0.31+ keeps them.
//!
//! Each alert name has a bucket of fingerprints with their end times. An
//! alert already in its bucket is always taken (its end time updated); a
//! new one is taken while the bucket has room, or in place of an alert that
//! has ended; otherwise it is dropped, logged and counted in
//! `alertmanager_alerts_limited_total`. The API still answers 200, as
//! Alertmanager does.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::labels::Fingerprint;

/// The buckets, one per alert name. Only built when a limit is set, so the
/// default ingest path pays nothing.
#[derive(Debug)]
pub struct AlertnameLimit {
    limit: usize,
    buckets: HashMap<String, HashMap<Fingerprint, DateTime<Utc>>>,
}

impl AlertnameLimit {
    /// `limit` must be above 0 (0 means no limit, and no limiter).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            buckets: HashMap::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the alert may be stored; takes its place in the bucket if so.
    pub fn admit(
        &mut self,
        name: &str,
        fp: Fingerprint,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        let bucket = match self.buckets.get_mut(name) {
            Some(b) => b,
            None => self.buckets.entry(name.to_owned()).or_default(),
        };
        if let Some(end) = bucket.get_mut(&fp) {
            *end = ends_at;
            return true;
        }
        if bucket.len() < self.limit {
            bucket.insert(fp, ends_at);
            return true;
        }
        // Full: the alert that ended first makes room, if it has ended.
        // A scan of at most `limit` entries, only for a full bucket.
        let oldest = bucket
            .iter()
            .min_by_key(|(_, end)| **end)
            .map(|(fp, end)| (*fp, *end));
        match oldest {
            Some((old, end)) if end < now => {
                bucket.remove(&old);
                bucket.insert(fp, ends_at);
                true
            }
            _ => false,
        }
    }

    /// Drops buckets whose alerts have all ended, as Alertmanager's GC does.
    pub fn gc(&mut self, now: DateTime<Utc>) {
        self.buckets
            .retain(|_, bucket| bucket.values().any(|end| *end >= now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn fp(n: u64) -> Fingerprint {
        Fingerprint(n)
    }

    #[test]
    fn a_full_bucket_refuses_a_new_alert_but_updates_known_ones() {
        let mut l = AlertnameLimit::new(2);
        assert!(l.admit("A", fp(1), t(100), t(0)));
        assert!(l.admit("A", fp(2), t(100), t(0)));
        assert!(!l.admit("A", fp(3), t(100), t(0)));
        // Known alerts keep updating; other names have their own bucket.
        assert!(l.admit("A", fp(1), t(200), t(0)));
        assert!(l.admit("B", fp(3), t(100), t(0)));
    }

    #[test]
    fn an_ended_alert_makes_room() {
        let mut l = AlertnameLimit::new(1);
        assert!(l.admit("A", fp(1), t(10), t(0)));
        assert!(!l.admit("A", fp(2), t(100), t(5)));
        assert!(l.admit("A", fp(2), t(100), t(11)));
        // fp 1 lost its place: it is new again, and the bucket is full.
        assert!(!l.admit("A", fp(1), t(100), t(12)));
    }

    #[test]
    fn gc_drops_buckets_whose_alerts_all_ended() {
        let mut l = AlertnameLimit::new(1);
        l.admit("A", fp(1), t(10), t(0));
        l.admit("B", fp(2), t(100), t(0));
        l.gc(t(50));
        assert_eq!(l.buckets.len(), 1);
        assert!(l.admit("A", fp(3), t(100), t(50)));
    }
}
