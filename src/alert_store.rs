//! Every known alert by fingerprint: merge on put, snapshot for readers,
//! garbage collection, and group-committed persistence.
//!
//! Ingest is the hot path, so `put` takes the lock once per batch and only
//! marks fingerprints dirty; a background task writes the dirty alerts to
//! the store in one batch and flushes it, at most [`COMMIT_EVERY`] behind.
//! Readers get `Arc`s, never a copy of the whole state.

use fnv::FnvHashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::alert::Alert;
use crate::alert_set::AlertSet;
use crate::alertname_limit::AlertnameLimit;
use crate::intern::Interner;
use crate::labels::Fingerprint;
use crate::storage::{Storage, StorageError};

/// Log growth tolerated beyond twice the live set before compacting.
const COMPACT_SLACK_BYTES: u64 = 16 * 1024 * 1024;

/// How far the store may lag behind memory.
pub const COMMIT_EVERY: Duration = Duration::from_millis(200);

#[derive(Default)]
struct State {
    alerts: AlertSet,
    /// Merged alerts not yet written, in the order they were merged. A
    /// list, not a set: appending is all the hot path pays, and the commit
    /// needs no lookups. An alert changed twice within one commit is
    /// written twice; the log's replay keeps the later version.
    unwritten: Vec<Arc<Alert>>,
    /// Removed since the last commit and not put again since; written
    /// after the puts of the same commit, so they win over older puts.
    deleted: FnvHashSet<Fingerprint>,
    /// `--alerts.per-alertname-limit`, when set.
    limit: Option<AlertnameLimit>,
}

/// One commit's writes, taken from the state.
struct Unwritten {
    puts: Arc<[Arc<Alert>]>,
    deletes: Vec<Fingerprint>,
}

/// Whether the per-alertname limit lets this alert in, judged on its end
/// time after merging, as Alertmanager judges it.
fn admitted(state: &mut State, alert: &Arc<Alert>, now: DateTime<Utc>) -> bool {
    let fp = alert.fingerprint();
    let ends_at = match state.alerts.get(fp) {
        Some(old) if old.overlaps(alert) => old.merge(alert, now).ends_at,
        _ => alert.ends_at,
    };
    let name = alert.labels.get("alertname").unwrap_or_default();
    state
        .limit
        .as_mut()
        .is_none_or(|limit| limit.admit(name, fp, ends_at, now))
}

/// Who hears of every change to the store (the dispatcher).
pub trait Subscriber: Send + Sync {
    /// Called with each merged batch, outside the store's lock.
    fn alerts_changed(&self, batch: &[Arc<Alert>]);
}

pub struct AlertStore {
    state: Mutex<State>,
    /// The dispatcher: told of every merged batch, after the lock is
    /// released, in the poster's own task (no queue between ingest and
    /// routing, so the API's group view is current when a POST returns).
    /// Weak: the app owns the dispatcher, and the dispatcher's pipeline
    /// owns this store.
    subscriber: Mutex<Option<std::sync::Weak<dyn Subscriber>>>,
    /// Bumped on every change, so derived indexes know when to rebuild.
    generation: AtomicU64,
    /// Generator URLs, one copy each; the API checks a URL once.
    urls: Interner,
    storage: Storage,
    wake: Notify,
    /// Alerts written to the store since start, for tests and metrics.
    committed: std::sync::atomic::AtomicU64,
    /// Bytes in the alert log, and in its live part after the last compaction.
    log_bytes: AtomicU64,
    live_bytes: AtomicU64,
}

impl AlertStore {
    /// Restores the alerts kept in the store.
    pub fn load(storage: Storage) -> Result<Self, StorageError> {
        let urls = Interner::default();
        let alerts = storage
            .load_alerts()?
            .into_iter()
            .map(|mut a| {
                a.generator_url = urls.intern(&a.generator_url);
                Arc::new(a)
            })
            .collect();
        Ok(Self {
            state: Mutex::new(State {
                alerts,
                ..State::default()
            }),
            storage,
            subscriber: Mutex::new(None),
            generation: AtomicU64::new(0),
            urls,
            wake: Notify::new(),
            committed: Default::default(),
            log_bytes: AtomicU64::new(0),
            live_bytes: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("alert store lock")
    }

    /// Keeps at most `limit` alerts per alert name (0: no limit). The
    /// alerts already stored take their places first.
    pub fn with_per_alertname_limit(self, limit: usize, now: DateTime<Utc>) -> Self {
        if limit > 0 {
            let mut state = self.lock();
            let mut buckets = AlertnameLimit::new(limit);
            let mut stored: Vec<&Arc<Alert>> = state.alerts.iter().collect();
            // Firing ones first: they are the ones a limit must keep.
            stored.sort_by_key(|a| std::cmp::Reverse(a.ends_at));
            for alert in stored {
                let name = alert.labels.get("alertname").unwrap_or_default();
                buckets.admit(name, alert.fingerprint(), alert.ends_at, now);
            }
            state.limit = Some(buckets);
        }
        self
    }

    /// Inserts or merges a batch of validated alerts. Returns the alert
    /// names of those dropped by `--alerts.per-alertname-limit` (one entry
    /// per dropped alert; empty without a limit).
    pub fn put(&self, batch: Vec<Alert>, now: DateTime<Utc>) -> Vec<String> {
        self.put_noting_new(batch, now, &mut |_| {})
    }

    /// [`AlertStore::put`], calling `new` for each alert whose fingerprint
    /// the store did not hold (the event recorder's `alert_created`).
    pub fn put_noting_new(
        &self,
        batch: Vec<Alert>,
        now: DateTime<Utc>,
        new: &mut dyn FnMut(&Alert),
    ) -> Vec<String> {
        let mut limited = Vec::new();
        if batch.is_empty() {
            return limited;
        }
        // Hashed and allocated before the lock: the other ingest threads
        // wait on it. The fingerprint is cached in the alert.
        let batch: Vec<Arc<Alert>> = batch
            .into_iter()
            .map(|alert| {
                alert.fingerprint();
                Arc::new(alert)
            })
            .collect();
        let mut merged_batch = Vec::with_capacity(batch.len());
        let mut state = self.lock();
        for alert in batch {
            let fp = alert.fingerprint();
            if state.limit.is_some() && !admitted(&mut state, &alert, now) {
                let name = alert.labels.get("alertname").unwrap_or_default();
                tracing::warn!(
                    alertname = name,
                    err = "alert limited",
                    "error on set alert"
                );
                limited.push(name.to_owned());
                continue;
            }
            let mut existed = false;
            let merged = state
                .alerts
                .upsert(alert, |old, new| {
                    existed = true;
                    old.overlaps(new).then(|| Arc::new(old.merge(new, now)))
                })
                .clone();
            if !existed {
                new(&merged);
            }
            if !state.deleted.is_empty() {
                state.deleted.remove(&fp);
            }
            state.unwritten.push(merged.clone());
            merged_batch.push(merged);
        }
        drop(state);
        if merged_batch.is_empty() {
            return limited;
        }
        self.generation.fetch_add(1, AtomicOrdering::Release);
        self.wake.notify_one();
        let subscriber = self
            .subscriber
            .lock()
            .expect("subscriber lock")
            .as_ref()
            .and_then(std::sync::Weak::upgrade);
        if let Some(s) = subscriber {
            s.alerts_changed(&merged_batch);
        }
        limited
    }

    /// Replaces the subscriber (one dispatcher at a time) and returns the
    /// alerts it must start from. The snapshot is taken after the swap, so
    /// no update is missed; one may arrive in both, and batches may reach
    /// the subscriber out of order, so it keeps the newest version of each
    /// alert (by `updated_at`).
    pub fn subscribe(&self, subscriber: &Arc<dyn Subscriber>) -> Vec<Arc<Alert>> {
        *self.subscriber.lock().expect("subscriber lock") = Some(Arc::downgrade(subscriber));
        self.snapshot()
    }

    /// The shared generator URLs (see [`Interner`]).
    pub fn urls(&self) -> &Interner {
        &self.urls
    }

    /// Changes since start; equal values mean nothing changed in between.
    pub fn generation(&self) -> u64 {
        self.generation.load(AtomicOrdering::Acquire)
    }

    pub fn get(&self, fp: Fingerprint) -> Option<Arc<Alert>> {
        self.lock().alerts.get(fp).cloned()
    }

    /// All alerts, as shared references.
    pub fn snapshot(&self) -> Vec<Arc<Alert>> {
        self.lock().alerts.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.lock().alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn committed(&self) -> u64 {
        self.committed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Removes alerts resolved more than `retention` ago.
    pub fn gc(&self, now: DateTime<Utc>, retention: chrono::Duration) -> usize {
        let mut state = self.lock();
        let doomed: Vec<Fingerprint> = state
            .alerts
            .iter()
            .filter(|a| crate::alert::add_saturating(a.ends_at, retention) < now)
            .map(|a| a.fingerprint())
            .collect();
        for fp in &doomed {
            state.alerts.remove(*fp);
            state.deleted.insert(*fp);
        }
        if let Some(limit) = &mut state.limit {
            limit.gc(now);
        }
        drop(state);
        self.urls.prune();
        if !doomed.is_empty() {
            self.generation.fetch_add(1, AtomicOrdering::Release);
            self.wake.notify_one();
        }
        doomed.len()
    }

    /// Writes what changed since the last commit, then flushes to disk.
    pub async fn commit(&self) -> Result<(), StorageError> {
        let Some(batch) = self.take_unwritten() else {
            return Ok(());
        };
        let n = batch.puts.len() as u64;
        let written = match self
            .storage
            .write_alerts(batch.puts.clone(), batch.deletes.clone())
            .await
        {
            Ok(bytes) => bytes,
            Err(e) => {
                self.restore_unwritten(batch);
                return Err(e);
            }
        };
        self.committed
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        self.compact_if_due(written).await
    }

    /// What the next commit writes; `None` when nothing changed.
    fn take_unwritten(&self) -> Option<Unwritten> {
        let mut state = self.lock();
        if state.unwritten.is_empty() && state.deleted.is_empty() {
            return None;
        }
        Some(Unwritten {
            puts: std::mem::take(&mut state.unwritten).into(),
            deletes: std::mem::take(&mut state.deleted).into_iter().collect(),
        })
    }

    /// Puts back a batch whose write failed. Nothing is lost: the failed
    /// puts go in front of whatever arrived meanwhile, so the order still
    /// holds. A removal made meanwhile stays (it came after every put
    /// here); a failed one is retried unless the alert is back.
    ///
    /// Only the newest version of each alert is kept: while the store
    /// cannot write, the queue is bounded by the alerts held, however
    /// often Prometheus re-sends them.
    fn restore_unwritten(&self, batch: Unwritten) {
        let mut state = self.lock();
        let newer = std::mem::replace(&mut state.unwritten, batch.puts.to_vec());
        state.unwritten.extend(newer);
        let mut seen = std::collections::HashSet::with_capacity(state.unwritten.len());
        let mut newest_first: Vec<Arc<Alert>> = state
            .unwritten
            .drain(..)
            .rev()
            .filter(|a| seen.insert(a.fingerprint()))
            .collect();
        newest_first.reverse();
        state.unwritten = newest_first;
        for fp in batch.deletes {
            if !state.alerts.contains(fp) {
                state.deleted.insert(fp);
            }
        }
    }

    /// Rewrites the log as the live set if it holds anything more, so the
    /// next start replays as little as possible (graceful shutdown).
    pub async fn compact(&self) -> Result<(), StorageError> {
        let log = self.log_bytes.load(AtomicOrdering::Acquire);
        let live = self.live_bytes.load(AtomicOrdering::Acquire);
        if log == 0 || log == live {
            return Ok(());
        }
        let live_bytes = self.storage.compact_alerts(self.snapshot()).await?;
        self.live_bytes.store(live_bytes, AtomicOrdering::Release);
        self.log_bytes.store(live_bytes, AtomicOrdering::Release);
        Ok(())
    }

    /// The alert log grows with every change (Prometheus re-sends firing
    /// alerts every minute); once it holds much more than the live set,
    /// rewrite it as the live set.
    async fn compact_if_due(&self, appended: u64) -> Result<(), StorageError> {
        let log = self.log_bytes.fetch_add(appended, AtomicOrdering::AcqRel) + appended;
        let live = self.live_bytes.load(AtomicOrdering::Acquire);
        if log <= 2 * live + COMPACT_SLACK_BYTES {
            return Ok(());
        }
        let live_bytes = self.storage.compact_alerts(self.snapshot()).await?;
        self.live_bytes.store(live_bytes, AtomicOrdering::Release);
        self.log_bytes.store(live_bytes, AtomicOrdering::Release);
        tracing::debug!(live_bytes, "alert log compacted");
        Ok(())
    }

    /// Commits in the background until cancelled, then commits once more.
    pub async fn run_committer(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.wake.notified() => {}
            }
            // Let a burst of posts accumulate into one batch.
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(COMMIT_EVERY) => {}
            }
            if let Err(e) = self.commit().await {
                self.wake.notify_one();
                if self.storage.is_healthy() {
                    tracing::error!(error = %e, "persisting alerts failed; will retry");
                } else {
                    // The store logged it; alerts wait in memory until it
                    // writes again.
                    tracing::debug!(error = %e, "persisting alerts waits for the store");
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = self.storage.wait_healthy() => {}
                    }
                }
            }
        }
        if let Err(e) = self.commit().await {
            tracing::error!(error = %e, "final alert commit failed");
        }
    }
}

/// After the store reopens, the changes held back while it could not write
/// are committed before it counts as healthy again: a store that reopens
/// but still cannot take them (the disk is still full) stays failed.
impl crate::storage::Rewrite for AlertStore {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn rewrite<'a>(
        &'a self,
        _storage: &'a Storage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + 'a>>
    {
        Box::pin(self.commit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, note: &str, at: DateTime<Utc>) -> Alert {
        Alert::for_test(&[("alertname", name)], &[("note", note)], at)
    }

    fn firing(name: &str, note: &str, at: DateTime<Utc>) -> Alert {
        Alert {
            ends_at: at + chrono::Duration::hours(1),
            ..alert(name, note, at)
        }
    }

    /// Each alert's name and note, sorted.
    fn notes(store: &AlertStore) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = store
            .snapshot()
            .iter()
            .map(|a| {
                let get = |set: &crate::labels::LabelSet, k| set.get(k).unwrap().to_owned();
                (get(&a.labels, "alertname"), get(&a.annotations, "note"))
            })
            .collect();
        v.sort();
        v
    }

    fn instance(name: &str, instance: &str, at: DateTime<Utc>) -> Alert {
        Alert {
            ends_at: at + chrono::Duration::hours(1),
            ..Alert::for_test(&[("alertname", name), ("instance", instance)], &[], at)
        }
    }

    /// `--alerts.per-alertname-limit`: a new alert over its name's limit is
    /// dropped (and named in the answer); known ones keep updating, other
    /// names are unaffected, and an alert that ended frees its place.
    #[tokio::test]
    async fn the_per_alertname_limit_drops_new_alerts_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = AlertStore::load(Storage::open(dir.path()).unwrap())
            .unwrap()
            .with_per_alertname_limit(2, Utc::now());
        let now = Utc::now();
        let limited = store.put(
            vec![
                instance("A", "1", now),
                instance("A", "2", now),
                instance("A", "3", now),
                instance("B", "1", now),
            ],
            now,
        );
        assert_eq!(limited, ["A"]);
        assert_eq!(store.len(), 3);
        let later = now + chrono::Duration::minutes(1);
        assert!(store.put(vec![instance("A", "1", later)], later).is_empty());
        // A resolved alert's place is taken once its end has passed.
        let mut resolved = instance("A", "2", later);
        resolved.ends_at = later;
        assert!(store.put(vec![resolved], later).is_empty());
        let after = later + chrono::Duration::seconds(1);
        assert!(store.put(vec![instance("A", "3", after)], after).is_empty());
        assert_eq!(store.put(vec![instance("A", "4", after)], after), ["A"]);
    }

    /// Alerts restored from the store hold their places after a restart.
    #[tokio::test]
    async fn restored_alerts_count_against_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        {
            let store = AlertStore::load(Storage::open(dir.path()).unwrap()).unwrap();
            store.put(vec![instance("A", "1", now), instance("A", "2", now)], now);
            store.commit().await.unwrap();
        }
        let store = AlertStore::load(Storage::open(dir.path()).unwrap())
            .unwrap()
            .with_per_alertname_limit(2, now);
        assert_eq!(store.put(vec![instance("A", "3", now)], now), ["A"]);
        assert!(store.put(vec![instance("A", "1", now)], now).is_empty());
    }

    /// A commit whose write fails gives its batch back: the next commit
    /// writes it with what arrived meanwhile, in order, so the log replays
    /// to what memory holds. The failure itself is a write never made (the store
    /// cannot be made to fail on demand); the rest is the store's own path.
    #[tokio::test]
    async fn a_failed_commit_loses_neither_puts_nor_removals() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let earlier = now - chrono::Duration::seconds(10);
        let expected = {
            let store = AlertStore::load(Storage::open(dir.path()).unwrap()).unwrap();
            store.put(vec![firing("Kept", "v1", earlier)], earlier);
            store.put(vec![alert("Removed", "", earlier)], earlier);
            store.put(vec![alert("Returns", "", earlier)], earlier);
            store.commit().await.unwrap();
            // The failing batch: a new version, two removals, a new alert.
            store.put(vec![firing("Kept", "v2", now)], now);
            assert_eq!(store.gc(now, chrono::Duration::zero()), 2);
            store.put(vec![alert("Meanwhile", "", earlier)], earlier);
            let failed = store.take_unwritten().unwrap();
            assert_eq!((failed.puts.len(), failed.deletes.len()), (2, 2));
            // While it was being written: a newer version, a removal of the
            // batch's new alert, and one of its removals undone.
            store.put(vec![firing("Kept", "v3", now)], now);
            assert_eq!(store.gc(now, chrono::Duration::zero()), 1);
            store.put(vec![firing("Returns", "back", now)], now);
            store.restore_unwritten(failed);
            store.commit().await.unwrap();
            notes(&store)
        };
        assert_eq!(
            expected,
            [
                ("Kept".to_owned(), "v3".to_owned()),
                ("Returns".to_owned(), "back".to_owned())
            ]
        );
        let reopened = AlertStore::load(Storage::open(dir.path()).unwrap()).unwrap();
        assert_eq!(notes(&reopened), expected);
    }

    /// Puts and removals within one commit window reach the log in the
    /// order they happened, whatever that order.
    #[tokio::test]
    async fn a_commit_replays_puts_and_removals_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let earlier = now - chrono::Duration::seconds(10);
        {
            let store = AlertStore::load(Storage::open(dir.path()).unwrap()).unwrap();
            store.put(vec![firing("Twice", "first", earlier)], earlier);
            store.put(vec![firing("Twice", "second", now)], now);
            store.put(vec![alert("Gone", "", earlier)], earlier);
            store.put(vec![alert("Back", "resolved", earlier)], earlier);
            assert_eq!(store.gc(now, chrono::Duration::zero()), 2);
            store.put(vec![firing("Back", "firing again", now)], now);
            store.commit().await.unwrap();
            assert_eq!(store.committed(), 5);
        }
        let store = AlertStore::load(Storage::open(dir.path()).unwrap()).unwrap();
        assert_eq!(
            notes(&store),
            [
                ("Back".to_owned(), "firing again".to_owned()),
                ("Twice".to_owned(), "second".to_owned())
            ]
        );
    }
}
