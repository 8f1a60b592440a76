//! Durable state under `--storage.path`, and what happens when the disk
//! says no.
//!
//! [`Storage`] is the handle every part writes through. It runs the redb
//! calls of [`redb_store`] off the async workers and watches each for a
//! failure: after a failed write (a full disk, an I/O error) redb refuses
//! every later one until the database is opened again, so the first
//! failure marks the store unhealthy and [`Storage::run_recovery`] reopens
//! it, with backoff, until the cause is gone. Meanwhile alerts are served and
//! routed from memory and committed once it is back, the notification
//! log is kept in memory, history waits in a bounded queue, and new
//! silences are refused (see `api::silences`); `/-/ready` and
//! `klaxon_storage_healthy` show it. After a reopen every part that
//! registered with [`Storage::on_recovery`] writes what it holds in
//! memory again, since the store keeps only what it had flushed.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::alert::Alert;
use crate::history::Attempt;
use crate::labels::Fingerprint;
use crate::nflog::NflogEntry;
use crate::silence::Silence;

mod alert_log;
mod flush;
mod health;
mod record;
mod recovery;
mod redb_store;
mod sled_import;

pub use health::HealthReport;
pub use recovery::Rewrite;
pub use redb_store::MAX_RECORD_BYTES;
use redb_store::{RedbStore, SCHEMA_VERSION};

/// History attempts held while the store cannot write; older ones are
/// dropped (and counted) beyond it. Attempts are a few hundred bytes.
const HISTORY_QUEUE: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: redb::Error },
    #[error(
        "cannot convert the sled store at {path} to redb: {reason}; its files are left as they were"
    )]
    Convert { path: PathBuf, reason: String },
    #[error(
        "the store at {path} has schema version {found}, this klaxon reads version {SCHEMA_VERSION}; \
         move it aside or use a matching klaxon"
    )]
    Schema { path: PathBuf, found: u8 },
    #[error("unreadable {table} record {key} in the store: {reason}")]
    Corrupt {
        table: &'static str,
        key: String,
        reason: String,
    },
    #[error("store I/O failed: {0}")]
    Io(redb::Error),
    #[error("writing the store to disk failed: {0}")]
    Flush(Arc<str>),
    /// Between a failure and the reopen that recovers from it.
    #[error("the store cannot write ({0}); klaxon reopens it as soon as it can")]
    Unavailable(String),
}

impl StorageError {
    /// Whether this error means the store can no longer write (as opposed
    /// to a record it cannot read, or a store it was never able to open).
    fn breaks_writes(&self) -> bool {
        matches!(self, StorageError::Io(_) | StorageError::Flush(_))
    }
}

/// Handle to the embedded store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    /// The open store; `None` only while a reopen swaps it.
    current: RwLock<Option<Arc<RedbStore>>>,
    health: health::Health,
    /// Parts that write their memory again after a reopen.
    rewriters: Mutex<Vec<Weak<dyn Rewrite>>>,
    /// History attempts not yet written (the store could not), oldest first.
    pending_history: Mutex<VecDeque<([u8; 16], Vec<u8>)>>,
}

impl Storage {
    /// Opens (or creates) the store at `path`; a store another process
    /// holds is waited for briefly, then refused.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let store = RedbStore::open(path)?;
        Ok(Self {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                current: RwLock::new(Some(Arc::new(store))),
                health: health::Health::default(),
                rewriters: Mutex::new(Vec::new()),
                pending_history: Mutex::new(VecDeque::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    pub fn is_healthy(&self) -> bool {
        self.shared.health.is_healthy()
    }

    pub fn health(&self) -> HealthReport {
        self.shared.health.report()
    }

    /// Errs while the store cannot write: for changes that must be
    /// refused rather than acknowledged (silences).
    pub fn writable(&self) -> Result<(), StorageError> {
        match self.shared.health.is_healthy() {
            true => Ok(()),
            false => Err(self.unavailable()),
        }
    }

    /// Resolves once the store can write (at once when it can).
    pub async fn wait_healthy(&self) {
        let mut rx = self.shared.health.subscribe();
        let _ = rx.wait_for(|h| *h).await;
    }

    /// Has `part` write what it holds again after every reopen (see
    /// [`Rewrite`]). Held weakly: a part dropped is forgotten.
    pub fn on_recovery(&self, part: Weak<dyn Rewrite>) {
        self.shared
            .rewriters
            .lock()
            .expect("rewriters lock")
            .push(part);
    }

    fn store(&self) -> Result<Arc<RedbStore>, StorageError> {
        self.shared
            .current
            .read()
            .expect("store lock")
            .clone()
            .ok_or_else(|| self.unavailable())
    }

    fn unavailable(&self) -> StorageError {
        StorageError::Unavailable(self.shared.health.error().unwrap_or_default())
    }

    /// Notes a failure that leaves the store unable to write, once per outage
    /// in the log.
    fn watch<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        if let Err(e) = &result
            && e.breaks_writes()
            && self.shared.health.failed(&e.to_string())
        {
            tracing::error!(
                error = %e,
                path = %self.shared.path.display(),
                "the store cannot write; alerts are kept in memory and silences refused until it recovers"
            );
        }
        result
    }

    /// Runs `f` on the store, here (for reads, and writes that do not wait
    /// for the disk).
    fn run<T>(
        &self,
        f: impl FnOnce(&RedbStore) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let result = self.store().and_then(|s| f(&s));
        self.watch(result)
    }

    /// Runs `f` on the store on a blocking thread (for calls that wait
    /// for the disk). Write and flush run together there, so a cancelled
    /// caller cannot leave a write without its flush.
    async fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&RedbStore) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let result = match self.store() {
            Ok(store) => {
                let retired = store.retired.clone();
                let call = tokio::task::spawn_blocking(move || f(&store));
                tokio::select! {
                    done = call => done.expect("store task"),
                    _ = retired.cancelled() => Err(self.unavailable()),
                }
            }
            Err(e) => Err(e),
        };
        self.watch(result)
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StorageError> {
        let path = self.shared.path.clone();
        self.run(|s| s.size_on_disk(&path))
    }

    /// Replays the alert log: later records override earlier ones.
    pub fn load_alerts(&self) -> Result<Vec<Alert>, StorageError> {
        self.run(|s| s.load_alerts())
    }

    /// Appends written and removed alerts to the alert log, then flushes.
    /// Returns the bytes appended.
    pub async fn write_alerts(
        &self,
        puts: Arc<[Arc<Alert>]>,
        deletes: Vec<Fingerprint>,
    ) -> Result<u64, StorageError> {
        self.run_blocking(move |s| s.write_alerts(&puts, &deletes))
            .await
    }

    /// Rewrites the log as the given live set and drops everything older.
    /// A crash midway leaves old records plus a partial copy of the live
    /// set; replaying both still yields the live set. Returns its size.
    pub async fn compact_alerts(&self, live: Vec<Arc<Alert>>) -> Result<u64, StorageError> {
        self.run_blocking(move |s| s.compact_alerts(&live)).await
    }

    pub fn load_silences(&self) -> Result<Vec<Silence>, StorageError> {
        self.run(|s| s.load_silences())
    }

    /// Puts silences in the store without waiting for the disk; the caller
    /// makes them durable with [`Storage::flush`] before it acknowledges them.
    pub fn insert_silences<'a>(
        &self,
        silences: impl IntoIterator<Item = &'a Silence>,
    ) -> Result<(), StorageError> {
        self.run(|s| s.insert_silences(silences))
    }

    pub async fn delete_silences(&self, ids: Vec<String>) -> Result<(), StorageError> {
        self.run_blocking(move |s| s.delete_silences(&ids)).await
    }

    /// Makes the stored silences exactly `silences` (after a reopen):
    /// writes them all, flushes, then drops any other.
    pub async fn replace_silences(&self, silences: Vec<Silence>) -> Result<(), StorageError> {
        self.run_blocking(move |s| {
            s.insert_silences(&silences)?;
            s.flush_blocking()?;
            let keep: std::collections::HashSet<&[u8]> =
                silences.iter().map(|x| x.id.as_bytes()).collect();
            let gone: Vec<String> = s
                .silence_ids()?
                .into_iter()
                .filter(|id| !keep.contains(id.as_slice()))
                .map(|id| String::from_utf8_lossy(&id).into_owned())
                .collect();
            s.delete_silences(&gone)
        })
        .await
    }

    pub fn load_nflog(&self) -> Result<Vec<NflogEntry>, StorageError> {
        self.run(|s| s.load_nflog())
    }

    /// Stores notification-log entries and waits until they are on disk.
    /// The entries are only queued, so that runs here; the flush is shared
    /// with every other waiter.
    pub async fn put_nflog(&self, entries: Vec<NflogEntry>) -> Result<(), StorageError> {
        self.put_nflog_unflushed(&entries)?;
        self.flush().await
    }

    /// Writes entries without waiting for the disk: for the cluster's
    /// state machine, whose log is on disk already, and whose applied
    /// position is written after (a crash keeps a prefix of the commits).
    pub fn put_nflog_unflushed(&self, entries: &[NflogEntry]) -> Result<(), StorageError> {
        self.run(|s| s.put_nflog_unflushed(entries))
    }

    pub async fn delete_nflog(&self, keys: Vec<String>) -> Result<(), StorageError> {
        self.run_blocking(move |s| s.delete_nflog(&keys)).await
    }

    /// Makes the stored notification log exactly `entries` (after a reopen).
    pub async fn replace_nflog(&self, entries: Vec<NflogEntry>) -> Result<(), StorageError> {
        self.run_blocking(move |s| {
            s.put_nflog_unflushed(&entries)?;
            s.flush_blocking()?;
            let keep: std::collections::HashSet<String> =
                entries.iter().map(|e| e.key.encode()).collect();
            let gone: Vec<String> = s
                .nflog_keys()?
                .into_iter()
                .map(|k| String::from_utf8_lossy(&k).into_owned())
                .filter(|k| !keep.contains(k))
                .collect();
            s.delete_nflog(&gone)
        })
        .await
    }

    /// Appends one notification attempt. Not flushed on its own: history
    /// rides along with the next durable write. While the store cannot
    /// write, attempts wait in a bounded queue (the oldest dropped and
    /// counted beyond it) and are written once it recovers.
    pub async fn put_history(&self, key: [u8; 16], attempt: Attempt) -> Result<(), StorageError> {
        let record = record::encode(&attempt);
        if self.is_healthy() {
            match self.run(|s| s.put_history(key, &record)) {
                Ok(()) => return Ok(()),
                Err(e) if !e.breaks_writes() => return Err(e),
                Err(_) => {}
            }
        }
        let mut pending = self.shared.pending_history.lock().expect("history queue");
        if pending.len() >= HISTORY_QUEUE {
            pending.pop_front();
            self.shared.health.dropped(1);
        }
        pending.push_back((key, record));
        Ok(())
    }

    /// Writes the history attempts held while the store could not.
    fn write_pending_history(&self) -> Result<(), StorageError> {
        let mut pending = self.shared.pending_history.lock().expect("history queue");
        while let Some((key, record)) = pending.front() {
            self.run(|s| s.put_history(*key, record))?;
            pending.pop_front();
        }
        Ok(())
    }

    /// History records from newest to oldest, decoded lazily; attempts
    /// still waiting for the store come first.
    pub fn history_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<Attempt, StorageError>> + Send + 'static {
        let pending: Vec<Result<Attempt, StorageError>> = {
            let queue = self.shared.pending_history.lock().expect("history queue");
            queue
                .iter()
                .rev()
                .map(|(key, record)| record::decode(record, "history", key))
                .collect()
        };
        let stored: Box<dyn Iterator<Item = _> + Send> = match self.store() {
            Ok(s) => Box::new(s.history_newest_first()),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        pending.into_iter().chain(stored)
    }

    /// Deletes history records whose key sorts before `bound`; returns how many.
    pub async fn delete_history_before(&self, bound: [u8; 16]) -> Result<usize, StorageError> {
        self.run_blocking(move |s| s.delete_history_before(bound))
            .await
    }

    /// Puts Raft log entries (index, encoded entry); durable after [`Storage::flush`].
    pub fn raft_append(
        &self,
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        self.run(|s| s.raft_append(entries))
    }

    /// The Raft log entries with `from <= index < to`, in order.
    pub fn raft_entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        self.run(|s| s.raft_entries(from, to))
    }

    /// The last Raft log entry, if any.
    pub fn raft_last_entry(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.run(|s| s.raft_last_entry())
    }

    /// Drops the Raft log entries at `index` and after (a conflict).
    pub fn raft_remove_from(&self, index: u64) -> Result<(), StorageError> {
        self.run(|s| s.raft_remove_from(index))
    }

    /// Drops the Raft log entries up to `index`, inclusive (a snapshot
    /// covers them).
    pub fn raft_remove_through(&self, index: u64) -> Result<(), StorageError> {
        self.run(|s| s.raft_remove_through(index))
    }

    pub fn raft_put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.run(|s| s.raft_put(key, value))
    }

    pub fn raft_get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.run(|s| s.raft_get(key))
    }

    pub fn raft_remove(&self, key: &str) -> Result<(), StorageError> {
        self.run(|s| s.raft_remove(key))
    }

    /// Every Raft state record whose key starts with `prefix` (the prefix
    /// cut off the keys).
    pub fn raft_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.run(|s| s.raft_scan(prefix))
    }

    /// Waits until everything written so far is on disk, without holding
    /// a thread while others flush.
    pub async fn flush(&self) -> Result<(), StorageError> {
        let result = match self.store() {
            Ok(s) => tokio::select! {
                done = s.flush() => done,
                _ = s.retired.cancelled() => Err(self.unavailable()),
            },
            Err(e) => Err(e),
        };
        self.watch(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(i: usize, note_bytes: usize) -> Arc<Alert> {
        let labels = [("alertname", "Log"), ("i", &i.to_string())];
        let note = "x".repeat(note_bytes);
        Arc::new(Alert::for_test(
            &labels,
            &[("note", &note)],
            chrono::Utc::now(),
        ))
    }

    fn names(mut alerts: Vec<Alert>) -> Vec<String> {
        alerts.sort_by_key(|a| a.labels.get("i").unwrap().parse::<usize>().unwrap());
        alerts
            .iter()
            .map(|a| a.labels.get("i").unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_alert_log_replays_puts_and_deletes_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(dir.path()).unwrap();
            // ~10 KiB each: several chunks per write.
            let batch: Vec<_> = (0..200).map(|i| alert(i, 10_000)).collect();
            storage.write_alerts(batch.into(), vec![]).await.unwrap();
            let gone: Vec<_> = (0..198).map(|i| alert(i, 0).fingerprint()).collect();
            storage
                .write_alerts(vec![alert(0, 5)].into(), gone)
                .await
                .unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(names(storage.load_alerts().unwrap()), ["198", "199"]);
        assert!(
            storage.store().unwrap().count(redb_store::ALERT_LOG) > 2,
            "writes were chunked"
        );
    }

    #[tokio::test]
    async fn compaction_keeps_the_live_set_and_drops_old_records() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        for round in 0..5 {
            let batch: Vec<_> = (0..50).map(|i| alert(i, 1000 + round)).collect();
            storage.write_alerts(batch.into(), vec![]).await.unwrap();
        }
        let before = storage.store().unwrap().count(redb_store::ALERT_LOG);
        let live: Vec<_> = (0..3).map(|i| alert(i, 10)).collect();
        storage.compact_alerts(live).await.unwrap();
        assert!(storage.store().unwrap().count(redb_store::ALERT_LOG) < before);
        drop(storage);
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(names(storage.load_alerts().unwrap()), ["0", "1", "2"]);
    }

    /// Records that do not compress and are far larger than a page.
    #[tokio::test]
    async fn incompressible_records_persist() {
        let dir = tempfile::tempdir().unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = |len: usize| -> String {
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    char::from(b'!' + (seed % 90) as u8)
                })
                .collect()
        };
        let mut batch: Vec<Arc<Alert>> = Vec::new();
        for i in 0..40 {
            let mut a = (*alert(i, 0)).clone();
            a.annotations = [("note".to_owned(), noise(30_000))].into_iter().collect();
            batch.push(Arc::new(a));
        }
        let mut big = (*alert(40, 0)).clone();
        big.annotations = [("note".to_owned(), noise(MAX_RECORD_BYTES - 1000))]
            .into_iter()
            .collect();
        batch.push(Arc::new(big));
        {
            let storage = Storage::open(dir.path()).unwrap();
            storage
                .write_alerts(batch.clone().into(), vec![])
                .await
                .unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        let mut loaded = storage.load_alerts().unwrap();
        loaded.sort_by_key(|a| a.labels.get("i").unwrap().parse::<usize>().unwrap());
        let expected: Vec<Alert> = batch.iter().map(|a| (**a).clone()).collect();
        assert_eq!(loaded, expected);
    }

    #[tokio::test]
    async fn an_alert_too_large_to_persist_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let batch = vec![alert(1, MAX_RECORD_BYTES + 1), alert(2, 10)];
        storage.write_alerts(batch.into(), vec![]).await.unwrap();
        assert_eq!(names(storage.load_alerts().unwrap()), ["2"]);
    }

    #[test]
    fn a_store_from_another_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(dir.path()).unwrap();
            let store = storage.store().unwrap();
            store.put_raw(redb_store::META, b"schema", &[99u8]);
        }
        let Err(err) = Storage::open(dir.path()) else {
            panic!("must refuse")
        };
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    #[test]
    fn an_unknown_record_version_is_refused_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        storage
            .store()
            .unwrap()
            .put_raw(redb_store::SILENCES, b"x", &[7u8, b'{', b'}']);
        let err = storage.load_silences().expect_err("must refuse");
        assert!(
            err.to_string().contains("unknown record version 7"),
            "{err}"
        );
    }
}
