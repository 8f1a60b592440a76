//! Notification history: every delivery attempt's outcome, kept for
//! `--data.retention` and listed newest first. Alertmanager has none; this
//! is what `GET /api/klaxon/notifications` and the UI show.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::storage::{Storage, StorageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

/// One delivery attempt (after its retries), as shown to users. `error`
/// comes from `NotifyError`, whose text never holds a URL or a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub time: DateTime<Utc>,
    pub receiver: String,
    pub integration: String,
    pub group_key: String,
    pub alerts: usize,
    pub reason: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub receiver: Option<String>,
    pub group_key: Option<String>,
    /// Entries to skip (newest first), for pages.
    pub offset: usize,
    pub limit: usize,
}

pub struct History {
    storage: Storage,
    /// Breaks ties between attempts recorded in the same nanosecond.
    seq: AtomicU64,
}

impl History {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            seq: AtomicU64::new(0),
        }
    }

    /// Time-ordered key: newest sorts last, so listing walks backwards.
    fn key(&self, time: DateTime<Utc>) -> [u8; 16] {
        let nanos = time.timestamp_nanos_opt().unwrap_or(i64::MAX).max(0) as u64;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&nanos.to_be_bytes());
        key[8..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    pub async fn record(&self, attempt: Attempt) -> Result<(), StorageError> {
        let key = self.key(attempt.time);
        self.storage.put_history(key, attempt).await
    }

    /// Newest first, filtered, one page.
    pub fn list(&self, q: &Query) -> Result<Vec<Attempt>, StorageError> {
        let keep = |a: &Attempt| {
            q.receiver.as_ref().is_none_or(|r| &a.receiver == r)
                && q.group_key.as_ref().is_none_or(|g| &a.group_key == g)
        };
        let mut out = Vec::new();
        let mut skipped = 0;
        for a in self.storage.history_newest_first() {
            let a = a?;
            if !keep(&a) {
                continue;
            }
            if skipped < q.offset {
                skipped += 1;
                continue;
            }
            out.push(a);
            if out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }

    /// Every attempt, newest first, read lazily from the store.
    pub fn newest_first(
        &self,
    ) -> impl Iterator<Item = Result<Attempt, StorageError>> + Send + 'static {
        self.storage.history_newest_first()
    }

    /// Drops attempts older than `cutoff`.
    pub async fn gc(&self, cutoff: DateTime<Utc>) -> Result<usize, StorageError> {
        let nanos = cutoff.timestamp_nanos_opt().unwrap_or(0).max(0) as u64;
        let mut bound = [0u8; 16];
        bound[..8].copy_from_slice(&nanos.to_be_bytes());
        self.storage.delete_history_before(bound).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn attempt(secs: i64, receiver: &str, outcome: Outcome) -> Attempt {
        Attempt {
            time: Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
            receiver: receiver.into(),
            integration: "webhook".into(),
            group_key: format!("{{}}:{{n=\"{secs}\"}}"),
            alerts: 1,
            reason: "first notification".into(),
            outcome,
            error: (outcome == Outcome::Failure).then(|| "500 Internal Server Error".into()),
        }
    }

    #[tokio::test]
    async fn lists_newest_first_filters_pages_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(Storage::open(dir.path()).unwrap());
        for (i, r) in ["a", "b", "a", "a"].iter().enumerate() {
            h.record(attempt(i as i64, r, Outcome::Success))
                .await
                .unwrap();
        }
        h.record(attempt(10, "b", Outcome::Failure)).await.unwrap();
        let all = h
            .list(&Query {
                limit: 100,
                ..Query::default()
            })
            .unwrap();
        let secs: Vec<i64> = all
            .iter()
            .map(|a| a.time.timestamp() - 1_700_000_000)
            .collect();
        assert_eq!(secs, [10, 3, 2, 1, 0]);
        let only_a = h
            .list(&Query {
                receiver: Some("a".into()),
                offset: 1,
                limit: 1,
                ..Query::default()
            })
            .unwrap();
        assert_eq!(only_a[0].time.timestamp() - 1_700_000_000, 2);
        assert_eq!(
            h.gc(Utc.timestamp_opt(1_700_000_002, 0).unwrap())
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            h.list(&Query {
                limit: 100,
                ..Query::default()
            })
            .unwrap()
            .len(),
            3
        );
    }
}
