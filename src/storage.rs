//! Durable state under `--storage.path`: the only module that names sled.
//!
//! Trees: `alerts` (fingerprint → alert), `silences` (id → silence) and
//! `meta` (schema version). Every record starts with a one-byte format
//! version so that a future klaxon can read or migrate it, and an unknown
//! one stops startup instead of being silently dropped.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::alert::Alert;
use crate::labels::Fingerprint;
use crate::silence::Silence;

/// Layout of the store as a whole; bump when trees change meaning.
const SCHEMA_VERSION: u8 = 1;
/// Format of each record's payload.
const RECORD_VERSION: u8 = 1;
/// sled's default cache is 1 GiB; klaxon's working set lives in memory
/// anyway, so the page cache only needs to absorb write bursts.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

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
    db: sled::Db,
    alerts: sled::Tree,
    silences: sled::Tree,
}

impl Storage {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            // Alerts are group-committed by the alert store; this is only
            // the backstop for anything else written without an explicit flush.
            .flush_every_ms(Some(1000))
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
                db.flush()?;
            }
        }
        Ok(Self {
            alerts: db.open_tree("alerts")?,
            silences: db.open_tree("silences")?,
            db,
        })
    }

    pub fn load_alerts(&self) -> Result<Vec<Alert>, StorageError> {
        load_all(&self.alerts, "alerts")
    }

    /// Writes and deletes alerts in one atomic batch, without waiting for disk.
    pub fn write_alerts<'a>(
        &self,
        puts: impl IntoIterator<Item = &'a Alert>,
        deletes: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for alert in puts {
            batch.insert(
                &alert.fingerprint().0.to_be_bytes(),
                encode(alert),
            );
        }
        for fp in deletes {
            batch.remove(&fp.0.to_be_bytes());
        }
        self.alerts.apply_batch(batch)?;
        Ok(())
    }

    pub fn load_silences(&self) -> Result<Vec<Silence>, StorageError> {
        load_all(&self.silences, "silences")
    }

    /// Stores a silence and waits until it is on disk: an acknowledged
    /// silence must survive a crash.
    pub async fn put_silence(&self, silence: &Silence) -> Result<(), StorageError> {
        self.silences
            .insert(silence.id.as_bytes(), encode(silence))?;
        self.flush().await
    }

    pub async fn delete_silences(&self, ids: &[String]) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(id.as_bytes());
        }
        self.silences.apply_batch(batch)?;
        self.flush().await
    }

    pub async fn flush(&self) -> Result<(), StorageError> {
        self.db.flush_async().await?;
        Ok(())
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

fn load_all<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
) -> Result<Vec<T>, StorageError> {
    let mut out = Vec::with_capacity(tree.len());
    for entry in tree.iter() {
        let (key, value) = entry?;
        let corrupt = |reason: String| StorageError::Corrupt {
            tree: name,
            key: String::from_utf8_lossy(&key).escape_debug().to_string(),
            reason,
        };
        match value.split_first() {
            Some((&RECORD_VERSION, body)) => {
                out.push(serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))?);
            }
            Some((v, _)) => return Err(corrupt(format!("unknown record version {v}"))),
            None => return Err(corrupt("empty record".into())),
        }
    }
    Ok(out)
}
