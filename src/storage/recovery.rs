//! Getting the store back after a write failure, without a restart.
//!
//! redb refuses every write after a failed one until the database is
//! opened again, so recovering means opening the store again: it keeps
//! what was flushed, and each part that registered a [`Rewrite`] then
//! writes again what it holds in memory (silences and the notification
//! log whole, alerts their changes held back). Only when all of that is
//! on disk is the store healthy again, so a disk that is still full keeps
//! it failed instead of flapping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::redb_store::RedbStore;
use super::{Storage, StorageError};

/// The first reopen comes this long after a failure; each failed attempt
/// doubles the wait, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a reopen waits for calls still running on the old store.
const DRAIN: Duration = Duration::from_secs(5);

/// A part that keeps state in memory and writes it again after a reopen.
pub trait Rewrite: Send + Sync {
    /// For the log, when it fails.
    fn name(&self) -> &'static str;
    /// Writes (and flushes) everything this part holds.
    fn rewrite<'a>(
        &'a self,
        storage: &'a Storage,
    ) -> Pin<Box<dyn Future<Output = Result<(), StorageError>> + Send + 'a>>;
}

impl Storage {
    /// Reopens the store whenever it fails, until `cancel`.
    pub async fn run_recovery(self, cancel: CancellationToken) {
        let mut health = self.shared.health.subscribe();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = health.wait_for(|h| !*h) => if changed.is_err() { return },
            }
            let since = tokio::time::Instant::now();
            let mut backoff = FIRST_BACKOFF;
            let mut last_error = String::new();
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                match self.reopen().await {
                    Ok(()) => {
                        tracing::warn!(
                            after = ?since.elapsed(),
                            path = %self.shared.path.display(),
                            "the store writes again; what was held in memory is stored"
                        );
                        break;
                    }
                    Err(e) => {
                        let e = e.to_string();
                        // Counted: a dashboard sees an outage go on.
                        self.shared.health.failed(&e);
                        if e != last_error {
                            tracing::warn!(error = %e, "reopening the store failed; retrying");
                            last_error = e;
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }

    /// Drops the failed store, opens it again, writes back what the
    /// parts hold, and declares the store healthy once that is on disk.
    async fn reopen(&self) -> Result<(), StorageError> {
        let old = self.shared.current.write().expect("store lock").take();
        if let Some(old) = old {
            old.retired.cancel();
            // Calls still running on the old store finish (or give up, see
            // `retired`) before another store opens the same file, whose
            // lock the old one holds until it is dropped.
            let deadline = tokio::time::Instant::now() + DRAIN;
            while Arc::strong_count(&old) > 1 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            drop(old);
        }
        let path = self.shared.path.clone();
        let store = tokio::task::spawn_blocking(move || RedbStore::open(&path))
            .await
            .expect("store open")?;
        *self.shared.current.write().expect("store lock") = Some(Arc::new(store));
        self.write_pending_history()?;
        let parts: Vec<_> = self
            .shared
            .rewriters
            .lock()
            .expect("rewriters lock")
            .iter()
            .filter_map(|w| w.upgrade())
            .collect();
        for part in parts {
            if let Err(e) = part.rewrite(self).await {
                tracing::debug!(part = part.name(), error = %e, "rewriting after a reopen failed");
                return Err(e);
            }
        }
        self.flush().await?;
        self.shared.health.recovered();
        Ok(())
    }
}
