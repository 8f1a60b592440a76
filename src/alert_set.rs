//! Alerts keyed by fingerprint.
//!
//! Each entry keeps the fingerprint beside the pointer, though the alert
//! caches it too: growing the table rehashes every entry, and reading the
//! fingerprint through the pointer is a cache miss per alert. Over a fresh
//! ingest of 100k alerts that miss was 3% of the server's CPU (the store's
//! set and the groups' sets each grow from empty); the copy costs 8 bytes
//! an entry.

use std::sync::Arc;

use hashbrown::HashTable;

use crate::alert::Alert;
use crate::labels::Fingerprint;

#[derive(Default)]
pub struct AlertSet {
    table: HashTable<Entry>,
}

struct Entry {
    fp: Fingerprint,
    alert: Arc<Alert>,
}

/// Fingerprints are FNV hashes already: they are their own hash.
fn hash(fp: Fingerprint) -> u64 {
    fp.0
}

fn hash_of(entry: &Entry) -> u64 {
    hash(entry.fp)
}

fn is(fp: Fingerprint) -> impl Fn(&Entry) -> bool {
    move |e| e.fp == fp
}

impl AlertSet {
    pub fn get(&self, fp: Fingerprint) -> Option<&Arc<Alert>> {
        self.table.find(hash(fp), is(fp)).map(|e| &e.alert)
    }

    pub fn contains(&self, fp: Fingerprint) -> bool {
        self.get(fp).is_some()
    }

    /// Inserts or replaces the alert with the same fingerprint; returns the
    /// replaced one.
    pub fn insert(&mut self, alert: Arc<Alert>) -> Option<Arc<Alert>> {
        let mut replaced = None;
        self.insert_if(alert, |old| {
            replaced = Some(old.clone());
            true
        });
        replaced
    }

    /// Inserts the alert, or replaces the one with the same fingerprint if
    /// `replace(old)` says so; one lookup either way. `true` when the
    /// fingerprint was new.
    pub fn insert_if(
        &mut self,
        alert: Arc<Alert>,
        replace: impl FnOnce(&Arc<Alert>) -> bool,
    ) -> bool {
        let fp = alert.fingerprint();
        match self.table.entry(hash(fp), is(fp), hash_of) {
            hashbrown::hash_table::Entry::Occupied(mut e) => {
                if replace(&e.get().alert) {
                    e.get_mut().alert = alert;
                }
                false
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(Entry { fp, alert });
                true
            }
        }
    }

    /// Stores `alert`, or what `merge(old, &alert)` makes of it when an
    /// alert with the same fingerprint is present (`None`: `alert` as is);
    /// one lookup either way. Returns the stored alert.
    pub fn upsert(
        &mut self,
        alert: Arc<Alert>,
        merge: impl FnOnce(&Arc<Alert>, &Arc<Alert>) -> Option<Arc<Alert>>,
    ) -> &Arc<Alert> {
        let fp = alert.fingerprint();
        match self.table.entry(hash(fp), is(fp), hash_of) {
            hashbrown::hash_table::Entry::Occupied(e) => {
                let slot = &mut e.into_mut().alert;
                *slot = merge(slot, &alert).unwrap_or(alert);
                slot
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                &e.insert(Entry { fp, alert }).into_mut().alert
            }
        }
    }

    pub fn remove(&mut self, fp: Fingerprint) -> Option<Arc<Alert>> {
        self.table
            .find_entry(hash(fp), is(fp))
            .ok()
            .map(|e| e.remove().0.alert)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Alert>> {
        self.table.iter().map(|e| &e.alert)
    }

    /// Keeps the alerts `keep` says to; it may replace an alert with
    /// another of the same fingerprint, not change the fingerprint.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut Arc<Alert>) -> bool) {
        self.table.retain(|e| {
            let kept = keep(&mut e.alert);
            debug_assert_eq!(e.alert.fingerprint(), e.fp, "retain changed a key");
            kept
        });
    }
}

impl FromIterator<Arc<Alert>> for AlertSet {
    fn from_iter<T: IntoIterator<Item = Arc<Alert>>>(iter: T) -> Self {
        let mut set = Self::default();
        for alert in iter {
            set.insert(alert);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, note: &str) -> Arc<Alert> {
        let labels = [("alertname", name)];
        Arc::new(Alert::for_test(
            &labels,
            &[("note", note)],
            chrono::Utc::now(),
        ))
    }

    #[test]
    fn alerts_are_found_replaced_and_removed_by_fingerprint() {
        let mut set: AlertSet = (0..1000).map(|i| alert(&i.to_string(), "a")).collect();
        assert_eq!(set.len(), 1000);
        let fp = alert("7", "").fingerprint();
        assert_eq!(set.get(fp).unwrap().annotations.get("note"), Some("a"));
        let old = set.insert(alert("7", "b")).unwrap();
        assert_eq!(old.annotations.get("note"), Some("a"));
        assert_eq!(set.get(fp).unwrap().annotations.get("note"), Some("b"));
        assert_eq!(set.len(), 1000);
        let added = set.insert_if(alert("7", "c"), |old| {
            old.annotations.get("note") == Some("x")
        });
        assert!(!added);
        assert_eq!(set.get(fp).unwrap().annotations.get("note"), Some("b"));
        let kept = set.upsert(alert("7", "d"), |_, _| None);
        assert_eq!(kept.annotations.get("note"), Some("d"));
        let merged = set.upsert(alert("7", "e"), |old, new| {
            let note = format!(
                "{}+{}",
                old.annotations.get("note")?,
                new.annotations.get("note")?
            );
            Some(alert("7", &note))
        });
        assert_eq!(merged.annotations.get("note"), Some("d+e"));
        assert_eq!(
            set.upsert(alert("new", "f"), |_, _| None)
                .annotations
                .get("note"),
            Some("f")
        );
        assert!(set.remove(alert("new", "").fingerprint()).is_some());
        assert_eq!(set.len(), 1000);
        assert!(set.remove(fp).is_some());
        assert!(!set.contains(fp));
        assert!(set.remove(fp).is_none());
        set.retain(|a| a.labels.get("alertname") != Some("8"));
        assert_eq!(set.len(), 998);
        assert_eq!(set.iter().count(), 998);
    }
}
