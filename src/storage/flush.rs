//! Group commit for sled flushes.
//!
//! sled 0.34 deadlocks when two flushes overlap (spacejam/sled#1308; its
//! `flush_async` is affected too), so every flush goes through one gate.
//! A writer takes a ticket once its writes are in sled; a flush covers
//! every ticket taken before it began, so writers that queued behind it
//! return without flushing again.
//!
//! A flush ends with an `fdatasync` of sled's data file: sled 0.34's own
//! flush only calls `sync_file_range`, which reaches the disk but neither
//! its write cache nor the file's grown size, so what it flushed survived
//! a crash of klaxon but was not promised to survive a power cut.
//!
//! Async writers (a notification recording itself) do not each hold a
//! blocking thread while they wait: one blocking task flushes for all of
//! them and publishes how far the disk has caught up. With thousands of
//! groups flushing at once, a blocking thread per waiter had made thread
//! wake-ups a fifth of dispatch CPU.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// How far flushes have got, for async waiters.
#[derive(Clone, Default)]
struct Progress {
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// The last flush that failed covered tickets up to this one.
    failed: u64,
    error: Option<Arc<str>>,
}

pub(super) struct FlushGate {
    /// Tickets handed out, one per request, each taken after its writes.
    requested: AtomicU64,
    /// The highest ticket on disk. Held during a flush, which keeps two
    /// sled flushes from overlapping.
    durable: Mutex<u64>,
    progress: watch::Sender<Progress>,
    /// Whether a blocking task is flushing for async waiters.
    flusher: AtomicBool,
    /// sled's data file, synced after each sled flush (`None` for a
    /// temporary store).
    data_file: Option<std::fs::File>,
}

impl FlushGate {
    /// `data_file`: sled's data file, opened for syncing (any descriptor
    /// of a file syncs all of it).
    pub fn new(data_file: Option<std::fs::File>) -> Self {
        Self {
            requested: AtomicU64::new(0),
            durable: Mutex::new(0),
            progress: watch::Sender::new(Progress::default()),
            flusher: AtomicBool::new(false),
            data_file,
        }
    }

    /// sled's flush, then the data file's sync.
    fn flush_to_disk(&self, db: &sled::Db) -> Result<(), sled::Error> {
        db.flush()?;
        if let Some(file) = &self.data_file {
            file.sync_data()?;
        }
        Ok(())
    }

    fn ticket(&self) -> u64 {
        self.requested.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Waits, on this thread, until everything written so far is on disk.
    pub fn flush_blocking(&self, db: &sled::Db) -> Result<(), sled::Error> {
        let ticket = self.ticket();
        self.flush_through(db, ticket)
    }

    fn flush_through(&self, db: &sled::Db, ticket: u64) -> Result<(), sled::Error> {
        let mut durable = self.durable.lock().expect("flush lock");
        if *durable >= ticket {
            return Ok(());
        }
        let covers = self.requested.load(Ordering::Acquire);
        match self.flush_to_disk(db) {
            Ok(()) => {
                *durable = covers;
                self.progress.send_modify(|p| p.durable = covers);
                Ok(())
            }
            Err(e) => {
                self.progress.send_modify(|p| {
                    p.failed = covers;
                    p.error = Some(e.to_string().into());
                });
                Err(e)
            }
        }
    }

    /// Waits until everything written so far is on disk, without holding
    /// a thread. Errs with the flush's error if the flush covering this
    /// request failed.
    pub async fn flush(self: &Arc<Self>, db: &sled::Db) -> Result<(), Arc<str>> {
        let ticket = self.ticket();
        let mut progress = self.progress.subscribe();
        self.start_flusher(db);
        let p = progress
            .wait_for(|p| p.durable >= ticket || p.failed >= ticket)
            .await
            .expect("the gate outlives its waiters")
            .clone();
        match p.error {
            Some(e) if p.durable < ticket => Err(e),
            _ => Ok(()),
        }
    }

    /// Makes sure one blocking task is flushing until no request is left.
    fn start_flusher(self: &Arc<Self>, db: &sled::Db) {
        if self.flusher.swap(true, Ordering::AcqRel) {
            return;
        }
        let (gate, db) = (self.clone(), db.clone());
        tokio::task::spawn_blocking(move || {
            loop {
                let target = gate.requested.load(Ordering::Acquire);
                // A failure is published to the waiters it concerns.
                let _ = gate.flush_through(&db, target);
                gate.flusher.store(false, Ordering::Release);
                // A request that arrived after `target` was read may have
                // seen the flag still set and left the flush to this task.
                let durable = *gate.durable.lock().expect("flush lock");
                let failed = gate.progress.borrow().failed;
                let left = gate.requested.load(Ordering::Acquire) > durable.max(failed);
                if !left || gate.flusher.swap(true, Ordering::AcqRel) {
                    break;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_waiters_all_return_after_few_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let gate = Arc::new(FlushGate::new(None));
        let tree = db.open_tree("t").unwrap();
        let mut tasks = Vec::new();
        for i in 0u32..500 {
            let (gate, db, tree) = (gate.clone(), db.clone(), tree.clone());
            tasks.push(tokio::spawn(async move {
                tree.insert(i.to_be_bytes(), &[1u8]).unwrap();
                gate.flush(&db).await.unwrap();
            }));
        }
        for t in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(20), t)
                .await
                .expect("every waiter returns")
                .unwrap();
        }
        assert_eq!(*gate.durable.lock().unwrap(), 500);
        gate.flush_blocking(&db).unwrap();
        assert_eq!(*gate.durable.lock().unwrap(), 501);
    }
}
