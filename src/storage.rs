//! Durable state under `--storage.path`: the only module that names sled.
//!
//! Trees: `alerts` (fingerprint → alert), `silences` (id → silence),
//! `nflog` (notification log), `history` (delivery attempts) and `meta`
//! (schema version). Every record starts with a one-byte format version so
//! that a future klaxon can read or migrate it, and an unknown one stops
//! startup instead of being silently dropped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::alert::Alert;
use crate::history::Attempt;
use crate::labels::Fingerprint;
use crate::nflog::NflogEntry;
use crate::silence::Silence;

/// Layout of the store as a whole; bump when trees change meaning.
const SCHEMA_VERSION: u8 = 1;
/// Format of each record's payload.
const RECORD_VERSION: u8 = 1;
/// sled's default cache is 1 GiB; klaxon's working set lives in memory
/// anyway, so the page cache only needs to absorb write bursts.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;
/// Log entries over a quarter of a segment become sled "blob" files, whose
/// flush path was seen to hang forever in sled 0.34 while holding a
/// process-wide lock. A large segment keeps ordinary nodes far from that.
const SEGMENT_BYTES: usize = 16 * 1024 * 1024;
/// Alerts whose record is larger (a multi-MiB annotation is legal in
/// Alertmanager) are kept in memory only, so that even a node holding
/// several of them stays under the blob threshold.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error(
        "the store at {path} has schema version {found}, this klaxon reads version {SCHEMA_VERSION}; \
         move it aside or use a matching klaxon"
    )]
    Schema { path: PathBuf, found: u8 },
    #[error("unreadable {tree} record {key} in the store: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("store I/O failed: {0}")]
    Io(#[from] sled::Error),
}

/// Handle to the embedded store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    /// Held for the length of every flush; see `Storage::open`.
    flush_lock: Arc<Mutex<()>>,
    db: sled::Db,
    alerts: sled::Tree,
    silences: sled::Tree,
    nflog: sled::Tree,
    history: sled::Tree,
}

impl Storage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            // sled 0.34 deadlocks when two flushes overlap (spacejam/sled#1308),
            // and its periodic flusher is one of them: klaxon flushes itself,
            // one flush at a time (see `flush`).
            .flush_every_ms(None)
            .segment_size(SEGMENT_BYTES)
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
        let storage = Self {
            flush_lock: Arc::new(Mutex::new(())),
            alerts: db.open_tree("alerts")?,
            silences: db.open_tree("silences")?,
            nflog: db.open_tree("nflog")?,
            history: db.open_tree("history")?,
            db,
        };
        storage.flush_blocking()?;
        Ok(storage)
    }

    pub fn load_alerts(&self) -> Result<Vec<Alert>, StorageError> {
        load_all(&self.alerts, "alerts")
    }

    /// Writes and deletes alerts, then flushes.
    ///
    /// Records are written one by one, not with `apply_batch`: in sled 0.34
    /// a batch takes a process-wide write lock that deadlocks against
    /// flushes waiting for IO. Each alert is independent, so nothing needs
    /// cross-record atomicity.
    ///
    /// Write and flush run together on one blocking thread so that no
    /// cancellation can leave written-but-unflushed data behind: sled's
    /// `Drop` would then flush on its own, which can deadlock (see `flush`).
    pub async fn write_alerts(
        &self,
        puts: Vec<std::sync::Arc<Alert>>,
        deletes: Vec<Fingerprint>,
    ) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for alert in &puts {
                let record = encode(alert.as_ref());
                if record.len() > MAX_RECORD_BYTES {
                    tracing::warn!(
                        fingerprint = %alert.fingerprint(),
                        bytes = record.len(),
                        "alert too large to persist; it is kept in memory only"
                    );
                    continue;
                }
                this.alerts
                    .insert(alert.fingerprint().0.to_be_bytes(), record)?;
            }
            for fp in deletes {
                this.alerts.remove(fp.0.to_be_bytes())?;
            }
            this.flush_blocking()
        })
        .await
        .expect("store task")
    }

    pub fn load_silences(&self) -> Result<Vec<Silence>, StorageError> {
        load_all(&self.silences, "silences")
    }

    /// Stores silences and waits until they are on disk: an acknowledged
    /// silence must survive a crash.
    pub async fn put_silences(&self, silences: Vec<Silence>) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for s in &silences {
                this.silences.insert(s.id.as_bytes(), encode(s))?;
            }
            this.flush_blocking()
        })
        .await
        .expect("store task")
    }

    pub async fn delete_silences(&self, ids: Vec<String>) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for id in &ids {
                this.silences.remove(id.as_bytes())?;
            }
            this.flush_blocking()
        })
        .await
        .expect("store task")
    }

    pub fn load_nflog(&self) -> Result<Vec<NflogEntry>, StorageError> {
        load_all(&self.nflog, "nflog")
    }

    /// Stores notification-log entries and waits until they are on disk.
    pub async fn put_nflog(&self, entries: Vec<NflogEntry>) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for e in &entries {
                this.nflog.insert(e.key.encode().as_bytes(), encode(e))?;
            }
            this.flush_blocking()
        })
        .await
        .expect("store task")
    }

    pub async fn delete_nflog(&self, keys: Vec<String>) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for k in &keys {
                this.nflog.remove(k.as_bytes())?;
            }
            this.flush_blocking()
        })
        .await
        .expect("store task")
    }

    /// Appends one notification attempt. Not flushed on its own: history
    /// rides along with the next durable write.
    pub async fn put_history(&self, key: [u8; 16], attempt: Attempt) -> Result<(), StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            this.history.insert(key, encode(&attempt))?;
            Ok(())
        })
        .await
        .expect("store task")
    }

    /// History records from newest to oldest, decoded lazily.
    pub fn history_newest_first(&self) -> impl Iterator<Item = Result<Attempt, StorageError>> + '_ {
        self.history.iter().rev().map(|entry| {
            let (key, value) = entry?;
            decode(&value, "history", &key)
        })
    }

    /// Deletes history records whose key sorts before `bound`; returns how many.
    pub async fn delete_history_before(&self, bound: [u8; 16]) -> Result<usize, StorageError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut n = 0;
            for entry in this.history.range(..bound.to_vec()) {
                let (key, _) = entry?;
                this.history.remove(key)?;
                n += 1;
            }
            if n > 0 {
                this.flush_blocking()?;
            }
            Ok(n)
        })
        .await
        .expect("store task")
    }

    /// Waits until everything written so far is on disk. sled 0.34
    /// deadlocks when two flushes overlap (spacejam/sled#1308; its
    /// `flush_async` is affected too), so flushes take `flush_lock`.
    fn flush_blocking(&self) -> Result<(), StorageError> {
        let _one_at_a_time = self.flush_lock.lock().expect("flush lock");
        self.db.flush()?;
        Ok(())
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

fn decode<T: DeserializeOwned>(
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
    let mut out = Vec::with_capacity(tree.len());
    for entry in tree.iter() {
        let (key, value) = entry?;
        out.push(decode(&value, name, &key)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_another_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(dir.path()).unwrap();
            let meta = storage.db.open_tree("meta").unwrap();
            meta.insert("schema", &[99u8]).unwrap();
            storage.flush_blocking().unwrap();
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
        storage.silences.insert("x", vec![7u8, b'{', b'}']).unwrap();
        let err = storage.load_silences().expect_err("must refuse");
        assert!(
            err.to_string().contains("unknown record version 7"),
            "{err}"
        );
    }
}
