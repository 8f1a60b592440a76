//! The sled database under `--storage.path` and its trees: the only code
//! that names sled. Plain blocking calls; [`super::Storage`] runs them off
//! the async workers and watches them for failures.
//!
//! Trees: `alert_log` (batches of alert changes), `silences` (id → silence),
//! `nflog` (notification log), `history` (delivery attempts), `raft_log`
//! and `raft_state` (cluster mode) and `meta` (schema version). Every
//! record starts with a one-byte format version so that a future klaxon
//! can read or migrate it, and an unknown one stops startup instead of
//! being silently dropped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StorageError;
use super::alert_log;
use super::flush::FlushGate;
use crate::alert::Alert;
use crate::history::Attempt;
use crate::labels::Fingerprint;
use crate::nflog::NflogEntry;
use crate::silence::Silence;

/// Layout of the store as a whole; bump when trees change meaning.
pub(super) const SCHEMA_VERSION: u8 = 1;
pub(super) fn is_lock_busy(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock
        || io.to_string().contains("could not acquire lock"))
}

/// Format of each record's payload.
const RECORD_VERSION: u8 = 1;
/// sled's default cache is 1 GiB; klaxon's working set lives in memory
/// anyway, so the page cache only needs to absorb write bursts.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
/// sled keeps about three write buffers of a segment each in memory, so a
/// segment is a fixed memory cost: sled's own default (512 KiB) keeps it
/// at 1.5 MiB. Log entries over a quarter of a segment
/// become sled "blob" files; a hang was seen in a test that combined a
/// blob-sized record with `apply_batch` (the proven culprit, see
/// `write_alerts`), which klaxon does not use. A store keeps the segment
/// size it was created with (sled refuses to open it with another), see
/// [`segment_size_of`].
pub(super) const SEGMENT_BYTES: usize = 512 * 1024;
/// Alert-log records are cut at about this many bytes of encoded alerts,
/// before compression. sled splits leaves at 16 entries whatever their
/// size, so 16 compressed chunks stay far under the blob threshold.
const CHUNK_BYTES: usize = 32 * 1024;
/// Alerts whose record is larger (a multi-MiB annotation is legal in
/// Alertmanager) are kept in memory only, so records stay far from the
/// blob threshold.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The open sled database and its trees.
pub(super) struct SledStore {
    /// Serializes flushes and lets one flush cover every write made
    /// before it started (group commit); see `flush_blocking`.
    flush_gate: Arc<FlushGate>,
    pub(super) db: sled::Db,
    pub(super) alert_log: sled::Tree,
    /// Key of the next alert-log record.
    next_seq: Arc<AtomicU64>,
    pub(super) silences: sled::Tree,
    nflog: sled::Tree,
    history: sled::Tree,
    /// Cluster mode: the Raft log (by index) and the Raft state (vote,
    /// committed, purged, applied, membership, node identity).
    raft_log: sled::Tree,
    raft_state: sled::Tree,
    /// Cancelled when a reopen replaces this store: calls still waiting
    /// on it (a flush sled never finishes after a failed write) give up.
    pub(super) retired: tokio_util::sync::CancellationToken,
}

impl SledStore {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        // The previous owner of the store (this process after a restart, or
        // one being replaced) can hold sled's file lock for a moment while
        // sled's own threads finish; wait for it briefly, then give up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            match Self::open_once(path) {
                Err(StorageError::Open { source, .. })
                    if is_lock_busy(&source) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StorageError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            // sled 0.34 deadlocks when two flushes overlap (spacejam/sled#1308),
            // and its periodic flusher is one of them: klaxon flushes itself,
            // one flush at a time (see `flush`).
            .flush_every_ms(None)
            .segment_size(segment_size_of(path))
            .open()
            .map_err(|source| StorageError::Open {
                path: path.to_owned(),
                source,
            })?;
        let meta = db.open_tree("meta")?;
        match meta.get("schema")? {
            Some(v) if v.as_ref() == [SCHEMA_VERSION] => {}
            Some(v) => {
                return Err(StorageError::Schema {
                    path: path.to_owned(),
                    found: v.first().copied().unwrap_or(0),
                });
            }
            None => {
                meta.insert("schema", &[SCHEMA_VERSION])?;
            }
        }
        let alert_log = db.open_tree("alert_log")?;
        let next_seq = match alert_log.last()? {
            Some((key, _)) => key
                .as_ref()
                .try_into()
                .map(|b: [u8; 8]| u64::from_be_bytes(b) + 1)
                .unwrap_or(0),
            None => 0,
        };
        let data_file = std::fs::File::open(path.join("db")).map_err(|e| StorageError::Open {
            path: path.to_owned(),
            source: e.into(),
        })?;
        let store = Self {
            flush_gate: Arc::new(FlushGate::new(Some(data_file))),
            retired: tokio_util::sync::CancellationToken::new(),
            alert_log,
            next_seq: Arc::new(AtomicU64::new(next_seq)),
            silences: db.open_tree("silences")?,
            nflog: db.open_tree("nflog")?,
            history: db.open_tree("history")?,
            raft_log: db.open_tree("raft_log")?,
            raft_state: db.open_tree("raft_state")?,
            db,
        };
        store.flush_blocking()?;
        Ok(store)
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Replays the alert log: later records override earlier ones.
    pub fn load_alerts(&self) -> Result<Vec<Alert>, StorageError> {
        let mut alerts: HashMap<u64, Alert> = HashMap::new();
        for entry in self.alert_log.iter() {
            let (key, value) = entry?;
            let batch = alert_log::decode(&value).map_err(|reason| StorageError::Corrupt {
                tree: "alert_log",
                key: format!("{key:?}"),
                reason,
            })?;
            for a in batch.puts {
                alerts.insert(a.fingerprint().0, a);
            }
            for fp in batch.deletes {
                alerts.remove(&fp);
            }
        }
        Ok(alerts.into_values().collect())
    }

    /// Appends written and removed alerts to the alert log, then flushes.
    ///
    /// The log is a sequence of records of at most [`CHUNK_BYTES`], each a
    /// batch of alerts: one sled insert per chunk instead of one per alert
    /// (per-alert records made sled the bulk of ingest CPU), and records
    /// stay far below the size at which sled switches to blob files. Plain
    /// inserts, not `apply_batch`: in sled 0.34 a batch takes a process-wide
    /// write lock that deadlocks against flushes waiting for IO. Replaying a
    /// prefix of the log is always a valid older state, so no record needs
    /// atomicity with another.
    ///
    /// Write and flush run together on one blocking thread so that no
    /// cancellation can leave written-but-unflushed data behind: sled's
    /// `Drop` would then flush on its own, which can deadlock (see `flush`).
    /// Returns the bytes appended.
    pub fn write_alerts(
        &self,
        puts: &[Arc<Alert>],
        deletes: &[Fingerprint],
    ) -> Result<u64, StorageError> {
        let written = self.append_alerts(puts, deletes)?;
        self.flush_blocking()?;
        Ok(written)
    }

    /// Rewrites the log as the given live set and drops everything older.
    /// A crash midway leaves old records plus a partial copy of the live
    /// set; replaying both still yields the live set. Returns its size.
    pub fn compact_alerts(&self, live: &[Arc<Alert>]) -> Result<u64, StorageError> {
        let first_new = self.next_seq.load(Ordering::Acquire);
        let written = self.append_alerts(live, &[])?;
        self.flush_blocking()?;
        for key in self
            .alert_log
            .range(..first_new.to_be_bytes().to_vec())
            .keys()
        {
            self.alert_log.remove(key?)?;
        }
        self.flush_blocking()?;
        Ok(written)
    }

    fn append_alerts(
        &self,
        puts: &[Arc<Alert>],
        deletes: &[Fingerprint],
    ) -> Result<u64, StorageError> {
        let mut written = 0u64;
        let mut chunk = new_chunk();
        let mut record = Vec::with_capacity(1024);
        for alert in puts {
            alert_log::encode_alert(alert, &mut record);
            if record.len() > MAX_RECORD_BYTES {
                tracing::warn!(
                    fingerprint = %alert.fingerprint(),
                    bytes = record.len(),
                    "alert too large to persist; it is kept in memory only"
                );
                continue;
            }
            if chunk.len() + record.len() > CHUNK_BYTES {
                written += self.insert_chunk(std::mem::replace(&mut chunk, new_chunk()), &[])?;
            }
            chunk.push(&record);
        }
        if !chunk.is_empty() || !deletes.is_empty() {
            written += self.insert_chunk(chunk, deletes)?;
        }
        Ok(written)
    }

    fn insert_chunk(
        &self,
        chunk: alert_log::RecordWriter,
        deletes: &[Fingerprint],
    ) -> Result<u64, StorageError> {
        let record = chunk.finish(deletes);
        let n = record.len() as u64;
        let seq = self.next_seq.fetch_add(1, Ordering::AcqRel);
        self.alert_log.insert(seq.to_be_bytes(), record)?;
        Ok(n)
    }

    pub fn load_silences(&self) -> Result<Vec<Silence>, StorageError> {
        load_all(&self.silences, "silences")
    }

    /// Puts silences in the store without waiting for the disk; the caller
    /// makes them durable with [`Storage::flush`] before it acknowledges them.
    pub fn insert_silences<'a>(
        &self,
        silences: impl IntoIterator<Item = &'a Silence>,
    ) -> Result<(), StorageError> {
        for s in silences {
            self.silences.insert(s.id.as_bytes(), encode(s))?;
        }
        Ok(())
    }

    pub fn delete_silences(&self, ids: &[String]) -> Result<(), StorageError> {
        for id in ids {
            self.silences.remove(id.as_bytes())?;
        }
        self.flush_blocking()
    }

    /// Ids of every stored silence.
    pub fn silence_ids(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.silences
            .iter()
            .keys()
            .map(|k| Ok(k?.to_vec()))
            .collect()
    }

    pub fn load_nflog(&self) -> Result<Vec<NflogEntry>, StorageError> {
        load_all(&self.nflog, "nflog")
    }

    /// Writes entries without waiting for the disk: for the cluster's
    /// state machine, whose log is on disk already, and whose applied
    /// position is written after (sled recovers a prefix of its writes).
    pub fn put_nflog_unflushed(&self, entries: &[NflogEntry]) -> Result<(), StorageError> {
        for e in entries {
            self.nflog.insert(e.key.encode().as_bytes(), encode(e))?;
        }
        Ok(())
    }

    pub fn delete_nflog(&self, keys: &[String]) -> Result<(), StorageError> {
        for k in keys {
            self.nflog.remove(k.as_bytes())?;
        }
        self.flush_blocking()
    }

    /// Keys of every stored notification-log entry.
    pub fn nflog_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.nflog.iter().keys().map(|k| Ok(k?.to_vec())).collect()
    }

    /// Appends one notification attempt. Not flushed on its own: history
    /// rides along with the next durable write.
    pub fn put_history(&self, key: [u8; 16], record: &[u8]) -> Result<(), StorageError> {
        self.history.insert(key, record)?;
        Ok(())
    }

    /// History records from newest to oldest, decoded lazily.
    pub fn history_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<Attempt, StorageError>> + Send + 'static {
        self.history.iter().rev().map(|entry| {
            let (key, value) = entry?;
            decode(&value, "history", &key)
        })
    }

    /// Deletes history records whose key sorts before `bound`; returns how many.
    pub fn delete_history_before(&self, bound: [u8; 16]) -> Result<usize, StorageError> {
        let mut n = 0;
        for entry in self.history.range(..bound.to_vec()) {
            let (key, _) = entry?;
            self.history.remove(key)?;
            n += 1;
        }
        if n > 0 {
            self.flush_blocking()?;
        }
        Ok(n)
    }

    /// Puts Raft log entries (index, encoded entry); durable after [`Storage::flush`].
    pub fn raft_append(
        &self,
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        for (index, entry) in entries {
            self.raft_log.insert(index.to_be_bytes(), entry)?;
        }
        Ok(())
    }

    /// The Raft log entries with `from <= index < to`, in order.
    pub fn raft_entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        self.raft_log
            .range(from.to_be_bytes()..to.to_be_bytes())
            .map(|r| r.map(|(_, v)| v.to_vec()).map_err(StorageError::from))
            .collect()
    }

    /// The last Raft log entry, if any.
    pub fn raft_last_entry(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.raft_log.last()?.map(|(_, v)| v.to_vec()))
    }

    /// Drops the Raft log entries at `index` and after (a conflict).
    pub fn raft_remove_from(&self, index: u64) -> Result<(), StorageError> {
        for key in self.raft_log.range(index.to_be_bytes()..).keys() {
            self.raft_log.remove(key?)?;
        }
        Ok(())
    }

    /// Drops the Raft log entries up to `index`, inclusive (a snapshot
    /// covers them).
    pub fn raft_remove_through(&self, index: u64) -> Result<(), StorageError> {
        for key in self.raft_log.range(..=index.to_be_bytes()).keys() {
            self.raft_log.remove(key?)?;
        }
        Ok(())
    }

    pub fn raft_put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.raft_state.insert(key, value)?;
        Ok(())
    }

    pub fn raft_get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.raft_state.get(key)?.map(|v| v.to_vec()))
    }

    pub fn raft_remove(&self, key: &str) -> Result<(), StorageError> {
        self.raft_state.remove(key)?;
        Ok(())
    }

    /// Every Raft state record whose key starts with `prefix` (the prefix
    /// cut off the keys).
    pub fn raft_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.raft_state
            .scan_prefix(prefix)
            .map(|item| {
                let (key, value) = item?;
                let key = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                Ok((key, value.to_vec()))
            })
            .collect()
    }

    pub fn flush_blocking(&self) -> Result<(), StorageError> {
        Ok(self.flush_gate.flush_blocking(&self.db)?)
    }

    /// Waits until everything written so far is on disk, without holding
    /// a thread while others flush.
    pub async fn flush(&self) -> Result<(), StorageError> {
        self.flush_gate
            .flush(&self.db)
            .await
            .map_err(StorageError::Flush)
    }
}

/// Gives up a store that failed, for good: it is leaked, not dropped,
/// because sled 0.34 flushes when its last tree is dropped and, after a
/// failed write, can wait forever for that write (seen with a full disk).
/// The leaked store writes nothing more (klaxon runs no sled flusher), so
/// its file lock is released for the store that replaces it.
pub(super) fn abandon(store: Arc<SledStore>, path: &Path) {
    std::mem::forget(store);
    release_lock(&path.join("db"));
}

/// Releases this process's `flock` on `db_file` (sled takes one on its
/// main file, per open file, so a second open in this process would be
/// refused while the abandoned one holds it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_lock(db_file: &Path) {
    let Ok(target) = db_file.canonicalize() else {
        return;
    };
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in fds.flatten() {
        if std::fs::read_link(entry.path()).ok().as_deref() != Some(target.as_path()) {
            continue;
        }
        if let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        {
            // SAFETY: flock only changes the lock on a descriptor this
            // process has open; the descriptor stays open.
            unsafe { libc::flock(fd, libc::LOCK_UN) };
        }
    }
}

/// Elsewhere the lock stays: a reopen is refused until a restart.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_lock(_db_file: &Path) {}

/// The segment size of the store at `path`: the one sled recorded when it
/// was created (stores made by an earlier klaxon used 8 MiB), or
/// [`SEGMENT_BYTES`] for a new store.
pub(super) fn segment_size_of(path: &Path) -> usize {
    // The file ends in a binary checksum, so it is not all UTF-8.
    std::fs::read(path.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .filter(|s| s.is_power_of_two())
        .unwrap_or(SEGMENT_BYTES)
}

fn new_chunk() -> alert_log::RecordWriter {
    alert_log::RecordWriter::new(CHUNK_BYTES + 4096)
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

pub(super) fn decode<T: DeserializeOwned>(
    value: &[u8],
    tree: &'static str,
    key: &[u8],
) -> Result<T, StorageError> {
    let corrupt = |reason: String| StorageError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).escape_debug().to_string(),
        reason,
    };
    match value.split_first() {
        Some((&RECORD_VERSION, body)) => {
            serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown record version {v}"))),
        None => Err(corrupt("empty record".into())),
    }
}

fn load_all<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
) -> Result<Vec<T>, StorageError> {
    // Not `tree.len()`: in sled 0.34 that walks the whole tree.
    let mut out = Vec::new();
    for entry in tree.iter() {
        let (key, value) = entry?;
        out.push(decode(&value, name, &key)?);
    }
    Ok(out)
}
