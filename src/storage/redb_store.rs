//! The redb database under `--storage.path` (one file, `klaxon.redb`) and
//! its tables: the only code that names redb. Plain blocking calls;
//! [`super::Storage`] runs them off the async workers and watches them for
//! failures.
//!
//! Tables, every one from bytes to bytes: `alert_log` (batches of alert
//! changes, by sequence number), `silences` (id → silence), `nflog`
//! (notification log), `history` (delivery attempts, oldest first),
//! `raft_log` and `raft_state` (cluster mode) and `meta` (schema version).
//!
//! redb runs one write transaction at a time, and a durable commit holds
//! it for the disk's sync. So the writes that are flushed before anyone
//! reads them back (silences, the notification log, history) are only
//! queued, in memory, and the next transaction applies the queue first: a
//! flush (one durable commit shared by every writer waiting for one, see
//! [`FlushGate`]) writes a whole burst of silences with one sync, and no
//! async worker waits for a sync in progress to queue one. The writes that
//! are read back at once (the alert log, Raft's log and state) are
//! transactions committed without waiting for the disk, after the queue.
//! Either way a crash keeps a prefix of the writes, in order, which is
//! what every part relies on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

use super::flush::FlushGate;
use super::{StorageError, alert_log, record};
use crate::alert::Alert;
use crate::history::Attempt;
use crate::labels::Fingerprint;
use crate::nflog::NflogEntry;
use crate::silence::Silence;

type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;

pub(super) const ALERT_LOG: Table = TableDefinition::new("alert_log");
pub(super) const SILENCES: Table = TableDefinition::new("silences");
pub(super) const NFLOG: Table = TableDefinition::new("nflog");
pub(super) const HISTORY: Table = TableDefinition::new("history");
pub(super) const RAFT_LOG: Table = TableDefinition::new("raft_log");
pub(super) const RAFT_STATE: Table = TableDefinition::new("raft_state");
pub(super) const META: Table = TableDefinition::new("meta");

/// Every table with state, in the order a conversion copies them.
pub(super) const TABLES: [Table; 6] = [ALERT_LOG, SILENCES, NFLOG, HISTORY, RAFT_LOG, RAFT_STATE];

/// The store's file in `--storage.path`.
pub(super) const FILE_NAME: &str = "klaxon.redb";
/// Layout of the store as a whole; bump when tables change meaning.
/// Version 1 was the sled store, whose records version 2 took over as
/// they were (see `sled_import`).
pub(super) const SCHEMA_VERSION: u8 = 2;
/// klaxon's working set lives in its own memory; redb's page cache only
/// needs to hold the pages a commit touches (its default is 1 GiB).
const CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Alert-log records are cut at about this many bytes of encoded alerts,
/// before compression: one table insert per chunk instead of one per
/// alert, and a replay reads few, large values.
const CHUNK_BYTES: usize = 32 * 1024;
/// Alerts whose record is larger (a multi-MiB annotation is legal in
/// Alertmanager) are kept in memory only, so one alert cannot make every
/// commit of the log heavy.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// How long an open waits for another process (or the store this one is
/// replacing) to let go of the file.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// The open database.
pub(super) struct RedbStore {
    writer: Arc<Writer>,
    /// Shares one durable commit among every writer waiting for one.
    flush_gate: Arc<FlushGate>,
    /// Key of the next alert-log record.
    next_seq: AtomicU64,
    /// Cancelled when a reopen replaces this store: calls still waiting
    /// on it give up.
    pub(super) retired: tokio_util::sync::CancellationToken,
}

/// The database and the writes queued for its next transaction.
struct Writer {
    db: Database,
    queue: std::sync::Mutex<Vec<Queued>>,
}

/// A record waiting for the next transaction.
struct Queued {
    table: Table,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Queued writes beyond which the writer that queues one also flushes,
/// so that history written between flushes cannot pile up in memory.
const QUEUE_LIMIT: usize = 4096;

impl Writer {
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.queue.lock().expect("store queue lock")
    }

    /// Begins a write transaction and applies the queue in it first. (A
    /// transaction that then fails loses the queue with it; the store is
    /// then reopened and every part writes its memory again.)
    fn begin(&self, durability: Durability) -> Result<redb::WriteTransaction, StorageError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(durability)?;
        let queued = std::mem::take(&mut *self.queue());
        for q in queued {
            txn.open_table(q.table)?
                .insert(q.key.as_slice(), q.value.as_slice())?;
        }
        Ok(txn)
    }

    /// A commit that waits for the disk: it makes every commit and queued
    /// write before it durable as well.
    fn durable_commit(&self) -> Result<(), String> {
        let commit = || -> Result<(), StorageError> {
            self.begin(Durability::Immediate)?.commit()?;
            Ok(())
        };
        commit().map_err(|e| e.to_string())
    }
}

/// redb's errors all say what failed and why; klaxon keeps them whole.
macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for StorageError {
            fn from(e: $error) -> Self {
                StorageError::Io(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl RedbStore {
    /// Opens (or creates) the store in the directory `path`, converting a
    /// sled store found there first.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let open_error = |source: redb::Error| StorageError::Open {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(path).map_err(|e| open_error(e.into()))?;
        super::sled_import::convert_if_present(path)?;
        // The previous owner of the store (this process after a restart,
        // or one being replaced) can hold the file's lock for a moment;
        // wait for it briefly, then give up.
        let deadline = Instant::now() + LOCK_WAIT;
        let db = loop {
            match create(&path.join(FILE_NAME)) {
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.map_err(|e| open_error(e.into()))?,
            }
        };
        check_schema(&db, path)?;
        let next_seq = {
            let txn = db.begin_read()?;
            let log = txn.open_table(ALERT_LOG)?;
            let last = log.last()?;
            last.and_then(|(key, _)| <[u8; 8]>::try_from(key.value()).ok())
                .map_or(0, |k| u64::from_be_bytes(k) + 1)
        };
        let writer = Arc::new(Writer {
            db,
            queue: std::sync::Mutex::new(Vec::new()),
        });
        let durable = writer.clone();
        Ok(Self {
            flush_gate: Arc::new(FlushGate::new(move || durable.durable_commit())),
            writer,
            next_seq: AtomicU64::new(next_seq),
            retired: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// Runs `f` in a write transaction, after the queue, committed
    /// without waiting for the disk (see [`RedbStore::flush`]). An error
    /// aborts it whole.
    fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let txn = self.writer.begin(Durability::None)?;
        let out = f(&txn)?;
        txn.commit()?;
        Ok(out)
    }

    /// Queues writes for the next transaction (see the module's comment).
    fn enqueue(&self, writes: impl IntoIterator<Item = Queued>) -> Result<(), StorageError> {
        let full = {
            let mut queue = self.writer.queue();
            queue.extend(writes);
            queue.len() >= QUEUE_LIMIT
        };
        if full {
            self.write(|_| Ok(()))?;
        }
        Ok(())
    }

    /// Every record of `table`, key and value, in key order.
    fn scan(
        &self,
        table: Table,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let txn = self.writer.db.begin_read()?;
        let table = txn.open_table(table)?;
        for entry in table.range(..)? {
            let (key, value) = entry?;
            f(key.value(), value.value())?;
        }
        Ok(())
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self, path: &Path) -> Result<u64, StorageError> {
        std::fs::metadata(path.join(FILE_NAME))
            .map(|m| m.len())
            .map_err(|e| StorageError::Io(e.into()))
    }

    /// Replays the alert log: later records override earlier ones.
    pub fn load_alerts(&self) -> Result<Vec<Alert>, StorageError> {
        let mut alerts: HashMap<u64, Alert> = HashMap::new();
        self.scan(ALERT_LOG, |key, value| {
            let batch = alert_log::decode(value).map_err(|reason| StorageError::Corrupt {
                table: "alert_log",
                key: format!("{key:?}"),
                reason,
            })?;
            for a in batch.puts {
                alerts.insert(a.fingerprint().0, a);
            }
            for fp in batch.deletes {
                alerts.remove(&fp);
            }
            Ok(())
        })?;
        Ok(alerts.into_values().collect())
    }

    /// Appends written and removed alerts to the alert log, then flushes.
    ///
    /// The log is a sequence of records of at most [`CHUNK_BYTES`], each a
    /// batch of alerts, all in one transaction. Replaying a prefix of the
    /// log is always a valid older state. Returns the bytes appended.
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
    /// A crash midway leaves old records plus a copy of the live set;
    /// replaying both still yields the live set. Returns its size.
    pub fn compact_alerts(&self, live: &[Arc<Alert>]) -> Result<u64, StorageError> {
        let first_new = self.next_seq.load(Ordering::Acquire).to_be_bytes();
        let written = self.append_alerts(live, &[])?;
        self.flush_blocking()?;
        self.write(|txn| {
            let mut log = txn.open_table(ALERT_LOG)?;
            log.retain_in(..first_new.as_slice(), |_, _| false)?;
            Ok(())
        })?;
        self.flush_blocking()?;
        Ok(written)
    }

    fn append_alerts(
        &self,
        puts: &[Arc<Alert>],
        deletes: &[Fingerprint],
    ) -> Result<u64, StorageError> {
        let mut records = Vec::new();
        let mut chunk = new_chunk();
        let mut encoded = Vec::with_capacity(1024);
        for alert in puts {
            alert_log::encode_alert(alert, &mut encoded);
            if encoded.len() > MAX_RECORD_BYTES {
                tracing::warn!(
                    fingerprint = %alert.fingerprint(),
                    bytes = encoded.len(),
                    "alert too large to persist; it is kept in memory only"
                );
                continue;
            }
            if chunk.len() + encoded.len() > CHUNK_BYTES {
                records.push(std::mem::replace(&mut chunk, new_chunk()).finish(&[]));
            }
            chunk.push(&encoded);
        }
        if !chunk.is_empty() || !deletes.is_empty() {
            records.push(chunk.finish(deletes));
        }
        if records.is_empty() {
            return Ok(0);
        }
        self.write(|txn| {
            let mut log = txn.open_table(ALERT_LOG)?;
            let mut written = 0;
            for record in &records {
                let seq = self.next_seq.fetch_add(1, Ordering::AcqRel);
                log.insert(seq.to_be_bytes().as_slice(), record.as_slice())?;
                written += record.len() as u64;
            }
            Ok(written)
        })
    }

    pub fn load_silences(&self) -> Result<Vec<Silence>, StorageError> {
        self.load_all(SILENCES, "silences")
    }

    /// Puts silences in the store without waiting for the disk; the caller
    /// makes them durable with a flush before it acknowledges them.
    pub fn insert_silences<'a>(
        &self,
        silences: impl IntoIterator<Item = &'a Silence>,
    ) -> Result<(), StorageError> {
        self.enqueue(silences.into_iter().map(|s| Queued {
            table: SILENCES,
            key: s.id.as_bytes().to_vec(),
            value: record::encode(s),
        }))
    }

    pub fn delete_silences(&self, ids: &[String]) -> Result<(), StorageError> {
        self.remove_keys(SILENCES, ids.iter().map(|id| id.as_bytes()))?;
        self.flush_blocking()
    }

    /// Ids of every stored silence.
    pub fn silence_ids(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.keys(SILENCES)
    }

    pub fn load_nflog(&self) -> Result<Vec<NflogEntry>, StorageError> {
        self.load_all(NFLOG, "nflog")
    }

    /// Writes entries without waiting for the disk.
    pub fn put_nflog_unflushed(&self, entries: &[NflogEntry]) -> Result<(), StorageError> {
        self.enqueue(entries.iter().map(|e| Queued {
            table: NFLOG,
            key: e.key.encode().into_bytes(),
            value: record::encode(e),
        }))
    }

    pub fn delete_nflog(&self, keys: &[String]) -> Result<(), StorageError> {
        self.remove_keys(NFLOG, keys.iter().map(|k| k.as_bytes()))?;
        self.flush_blocking()
    }

    /// Keys of every stored notification-log entry.
    pub fn nflog_keys(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.keys(NFLOG)
    }

    /// Appends one notification attempt. Not flushed on its own: history
    /// rides along with the next durable write.
    pub fn put_history(&self, key: [u8; 16], value: &[u8]) -> Result<(), StorageError> {
        self.enqueue([Queued {
            table: HISTORY,
            key: key.to_vec(),
            value: value.to_vec(),
        }])
    }

    /// History records from newest to oldest, decoded lazily; the read
    /// sees the store as it was when the iterator was made, queued
    /// attempts first.
    pub fn history_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<Attempt, StorageError>> + Send + 'static {
        let mut queued: Vec<(Vec<u8>, Vec<u8>)> = self
            .writer
            .queue()
            .iter()
            .filter(|q| q.table.name() == HISTORY.name())
            .map(|q| (q.key.clone(), q.value.clone()))
            .collect();
        queued.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        let queued_keys: std::collections::HashSet<Vec<u8>> =
            queued.iter().map(|(k, _)| k.clone()).collect();
        let queued = queued
            .into_iter()
            .map(|(key, value)| record::decode(&value, "history", &key));
        let range = (|| -> Result<_, StorageError> {
            let txn = self.writer.db.begin_read()?;
            let table = txn.open_table(HISTORY)?;
            Ok(table.range_owned(..)?)
        })();
        let stored: Box<dyn Iterator<Item = _> + Send> = match range {
            Ok(range) => Box::new(
                range
                    .rev()
                    // Applied while this was read: listed once, from the queue.
                    .filter(move |entry| {
                        entry
                            .as_ref()
                            .map_or(true, |(key, _)| !queued_keys.contains(key.value()))
                    })
                    .map(|entry| {
                        let (key, value) = entry?;
                        record::decode(value.value(), "history", key.value())
                    }),
            ),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        queued.chain(stored)
    }

    /// Deletes history records whose key sorts before `bound`; returns how many.
    pub fn delete_history_before(&self, bound: [u8; 16]) -> Result<usize, StorageError> {
        let n = self.write(|txn| {
            let mut n = 0;
            txn.open_table(HISTORY)?
                .retain_in(..bound.as_slice(), |_, _| {
                    n += 1;
                    false
                })?;
            Ok(n)
        })?;
        if n > 0 {
            self.flush_blocking()?;
        }
        Ok(n)
    }

    /// Puts Raft log entries (index, encoded entry); durable after a flush.
    pub fn raft_append(
        &self,
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        self.write(|txn| {
            let mut log = txn.open_table(RAFT_LOG)?;
            for (index, entry) in entries {
                log.insert(index.to_be_bytes().as_slice(), entry.as_slice())?;
            }
            Ok(())
        })
    }

    /// The Raft log entries with `from <= index < to`, in order.
    pub fn raft_entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let txn = self.writer.db.begin_read()?;
        let log = txn.open_table(RAFT_LOG)?;
        let (from, to) = (from.to_be_bytes(), to.to_be_bytes());
        let mut out = Vec::new();
        for entry in log.range(from.as_slice()..to.as_slice())? {
            out.push(entry?.1.value().to_vec());
        }
        Ok(out)
    }

    /// The last Raft log entry, if any.
    pub fn raft_last_entry(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.writer.db.begin_read()?;
        let log = txn.open_table(RAFT_LOG)?;
        let last = log.last()?;
        Ok(last.map(|(_, v)| v.value().to_vec()))
    }

    /// Drops the Raft log entries at `index` and after (a conflict).
    pub fn raft_remove_from(&self, index: u64) -> Result<(), StorageError> {
        let from = index.to_be_bytes();
        self.write(|txn| {
            txn.open_table(RAFT_LOG)?
                .retain_in(from.as_slice().., |_, _| false)?;
            Ok(())
        })
    }

    /// Drops the Raft log entries up to `index`, inclusive (a snapshot
    /// covers them).
    pub fn raft_remove_through(&self, index: u64) -> Result<(), StorageError> {
        let through = index.to_be_bytes();
        self.write(|txn| {
            txn.open_table(RAFT_LOG)?
                .retain_in(..=through.as_slice(), |_, _| false)?;
            Ok(())
        })
    }

    pub fn raft_put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.write(|txn| {
            txn.open_table(RAFT_STATE)?
                .insert(key.as_bytes(), value.as_slice())?;
            Ok(())
        })
    }

    pub fn raft_get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.writer.db.begin_read()?;
        let table = txn.open_table(RAFT_STATE)?;
        let value = table.get(key.as_bytes())?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    pub fn raft_remove(&self, key: &str) -> Result<(), StorageError> {
        self.remove_keys(RAFT_STATE, [key.as_bytes()])
    }

    /// Every Raft state record whose key starts with `prefix` (the prefix
    /// cut off the keys).
    pub fn raft_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let txn = self.writer.db.begin_read()?;
        let table = txn.open_table(RAFT_STATE)?;
        let mut out = Vec::new();
        for entry in table.range(prefix.as_bytes()..)? {
            let (key, value) = entry?;
            let Some(rest) = key.value().strip_prefix(prefix.as_bytes()) else {
                break;
            };
            out.push((
                String::from_utf8_lossy(rest).into_owned(),
                value.value().to_vec(),
            ));
        }
        Ok(out)
    }

    pub fn flush_blocking(&self) -> Result<(), StorageError> {
        self.flush_gate
            .flush_blocking()
            .map_err(StorageError::Flush)
    }

    /// Waits until everything written so far is on disk, without holding
    /// a thread while others flush.
    pub async fn flush(&self) -> Result<(), StorageError> {
        self.flush_gate.flush().await.map_err(StorageError::Flush)
    }

    /// How many records `table` holds.
    #[cfg(test)]
    pub(super) fn count(&self, table: Table) -> u64 {
        use redb::ReadableTableMetadata;
        let txn = self.writer.db.begin_read().unwrap();
        let table = txn.open_table(table).unwrap();
        table.len().unwrap()
    }

    /// Writes a record as it is, durably: for tests of what a store may hold.
    #[cfg(test)]
    pub(super) fn put_raw(&self, table: Table, key: &[u8], value: &[u8]) {
        self.write(|txn| {
            txn.open_table(table)?.insert(key, value)?;
            Ok(())
        })
        .unwrap();
        self.flush_blocking().unwrap();
    }

    fn load_all<T: serde::de::DeserializeOwned>(
        &self,
        table: Table,
        name: &'static str,
    ) -> Result<Vec<T>, StorageError> {
        let mut out = Vec::new();
        self.scan(table, |key, value| {
            out.push(record::decode(value, name, key)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn keys(&self, table: Table) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut out = Vec::new();
        self.scan(table, |key, _| {
            out.push(key.to_vec());
            Ok(())
        })?;
        Ok(out)
    }

    fn remove_keys<'k>(
        &self,
        table: Table,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> Result<(), StorageError> {
        self.write(|txn| {
            let mut table = txn.open_table(table)?;
            for key in keys {
                table.remove(key)?;
            }
            Ok(())
        })
    }
}

/// Opens or creates the database file at `file`.
pub(super) fn create(file: &Path) -> Result<Database, redb::DatabaseError> {
    Database::builder().set_cache_size(CACHE_BYTES).create(file)
}

/// Creates every table and checks (or writes) the schema version.
fn check_schema(db: &Database, path: &Path) -> Result<(), StorageError> {
    let txn = db.begin_write()?;
    let found = {
        let mut meta = txn.open_table(META)?;
        for table in TABLES {
            txn.open_table(table)?;
        }
        let found = meta.get(b"schema".as_slice())?.map(|v| v.value().to_vec());
        if found.is_none() {
            meta.insert(b"schema".as_slice(), [SCHEMA_VERSION].as_slice())?;
        }
        found
    };
    match found.as_deref() {
        None | Some([SCHEMA_VERSION]) => {
            txn.commit()?;
            Ok(())
        }
        Some(other) => Err(StorageError::Schema {
            path: path.to_owned(),
            found: other.first().copied().unwrap_or(0),
        }),
    }
}

/// A table's records, handed to a callback one by one.
pub(super) type Records<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> Result<(), StorageError>;

/// Writes a converted store at `file`: `copy` is called once per table of
/// [`TABLES`] (with its name) and hands over its records; all of them and
/// the schema version go in one durable transaction. Returns how many
/// records were written.
pub(super) fn write_converted(
    file: &Path,
    mut copy: impl FnMut(&str, Records<'_>) -> Result<(), StorageError>,
) -> Result<u64, StorageError> {
    let db = create(file)?;
    let txn = db.begin_write()?;
    let mut records = 0;
    {
        let mut meta = txn.open_table(META)?;
        meta.insert(b"schema".as_slice(), [SCHEMA_VERSION].as_slice())?;
        for definition in TABLES {
            let mut table = txn.open_table(definition)?;
            copy(definition.name(), &mut |key, value| {
                table.insert(key, value)?;
                records += 1;
                Ok(())
            })?;
        }
    }
    txn.commit()?;
    Ok(records)
}

fn new_chunk() -> alert_log::RecordWriter {
    alert_log::RecordWriter::new(CHUNK_BYTES + 4096)
}
