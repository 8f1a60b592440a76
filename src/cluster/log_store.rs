//! The Raft log and vote in the embedded store (`storage.rs`), JSON-encoded.
//! An append is on disk before openraft is told so: a vote or an entry a
//! replica acknowledged survives its crash. Appends are flushed in groups:
//! every append that arrives while a flush runs is on disk with the next
//! one, so a busy leader pays one flush per group rather than per entry.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{Entry, LogState, RaftLogReader, StorageIOError, Vote};

use super::types::{LogId, NodeId, StorageError, TypeConfig};
use crate::storage::Storage;

#[derive(Clone)]
pub struct LogStore {
    storage: Storage,
    /// Appends written, waiting to be told they are on disk.
    flusher: tokio::sync::mpsc::UnboundedSender<LogFlushed<TypeConfig>>,
}

impl LogStore {
    /// The log in `storage`; its flusher runs until the store is dropped.
    pub fn new(storage: Storage) -> Self {
        let (flusher, waiting) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(flush_in_groups(storage.clone(), waiting));
        LogStore { storage, flusher }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let raw = self
            .storage
            .raft_get(key)
            .map_err(|e| StorageIOError::read(&e))?;
        raw.map(|r| serde_json::from_slice(&r))
            .transpose()
            .map_err(|e| StorageIOError::read(&e).into())
    }

    fn put<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let raw = serde_json::to_vec(value).map_err(|e| StorageIOError::write(&e))?;
        self.storage
            .raft_put(key, raw)
            .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn flush(&self) -> Result<(), StorageError> {
        self.storage
            .flush()
            .await
            .map_err(|e| StorageIOError::write(&e).into())
    }
}

/// Tells each waiting append it is on disk, one flush for all that were
/// written before it began, in the order they came.
async fn flush_in_groups(
    storage: Storage,
    mut waiting: tokio::sync::mpsc::UnboundedReceiver<LogFlushed<TypeConfig>>,
) {
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while let Ok(more) = waiting.try_recv() {
            group.push(more);
        }
        let flushed = storage.flush().await.map_err(|e| e.to_string());
        for callback in group {
            callback.log_io_completed(flushed.clone().map_err(std::io::Error::other));
        }
    }
}

fn decode(raw: &[u8]) -> Result<Entry<TypeConfig>, StorageError> {
    serde_json::from_slice(raw).map_err(|e| StorageIOError::read_logs(&e).into())
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        let from = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let to = match range.end_bound() {
            Bound::Included(i) => i.saturating_add(1),
            Bound::Excluded(i) => *i,
            Bound::Unbounded => u64::MAX,
        };
        self.storage
            .raft_entries(from, to)
            .map_err(|e| StorageIOError::read_logs(&e))?
            .iter()
            .map(|raw| decode(raw))
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged: Option<LogId> = self.get("last_purged")?;
        let last = match self
            .storage
            .raft_last_entry()
            .map_err(|e| StorageIOError::read_logs(&e))?
        {
            Some(raw) => Some(decode(&raw)?.log_id),
            None => last_purged,
        };
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        self.put("vote", vote)?;
        self.flush().await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.get("vote")
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.put("committed", &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.get::<Option<LogId>>("committed")?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
    {
        let encoded = entries
            .into_iter()
            .map(|e| {
                serde_json::to_vec(&e)
                    .map(|raw| (e.log_id.index, raw))
                    .map_err(|err| StorageIOError::write_logs(&err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.storage
            .raft_append(encoded)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        if let Err(e) = self.flusher.send(callback) {
            // The flusher is gone (shutting down): flush here.
            let flushed = self.storage.flush().await;
            e.0.log_io_completed(flushed.map_err(std::io::Error::other));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.storage
            .raft_remove_from(log_id.index)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        self.flush().await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.put("last_purged", &log_id)?;
        self.storage
            .raft_remove_through(log_id.index)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        self.flush().await
    }
}
