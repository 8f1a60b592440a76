//! Group commit: one flush to disk for many writers.
//!
//! Writes reach the store without waiting for the disk; a writer that
//! needs them durable takes a ticket once they are in, and a flush covers
//! every ticket taken before it began, so writers that queued behind it
//! return without flushing again. One flush runs at a time.
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
    /// The highest ticket on disk. Held during a flush, so flushes never
    /// overlap.
    durable: Mutex<u64>,
    progress: watch::Sender<Progress>,
    /// Whether a blocking task is flushing for async waiters.
    flusher: AtomicBool,
    /// Makes every write so far durable (the store's durable commit).
    sync: Box<dyn Fn() -> Result<(), String> + Send + Sync>,
}

impl FlushGate {
    /// `sync` makes every write made before it durable.
    pub fn new(sync: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self {
            requested: AtomicU64::new(0),
            durable: Mutex::new(0),
            progress: watch::Sender::new(Progress::default()),
            flusher: AtomicBool::new(false),
            sync: Box::new(sync),
        }
    }

    fn ticket(&self) -> u64 {
        self.requested.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Waits, on this thread, until everything written so far is on disk.
    pub fn flush_blocking(&self) -> Result<(), Arc<str>> {
        let ticket = self.ticket();
        self.flush_through(ticket)
    }

    fn flush_through(&self, ticket: u64) -> Result<(), Arc<str>> {
        let mut durable = self.durable.lock().expect("flush lock");
        if *durable >= ticket {
            return Ok(());
        }
        let covers = self.requested.load(Ordering::Acquire);
        match (self.sync)() {
            Ok(()) => {
                *durable = covers;
                self.progress.send_modify(|p| p.durable = covers);
                Ok(())
            }
            Err(e) => {
                let e: Arc<str> = e.into();
                self.progress.send_modify(|p| {
                    p.failed = covers;
                    p.error = Some(e.clone());
                });
                Err(e)
            }
        }
    }

    /// Waits until everything written so far is on disk, without holding
    /// a thread. Errs with the flush's error if the flush covering this
    /// request failed.
    pub async fn flush(self: &Arc<Self>) -> Result<(), Arc<str>> {
        let ticket = self.ticket();
        let mut progress = self.progress.subscribe();
        self.start_flusher();
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
    fn start_flusher(self: &Arc<Self>) {
        if self.flusher.swap(true, Ordering::AcqRel) {
            return;
        }
        let gate = self.clone();
        tokio::task::spawn_blocking(move || {
            loop {
                let target = gate.requested.load(Ordering::Acquire);
                // A failure is published to the waiters it concerns.
                let _ = gate.flush_through(target);
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
        let flushes = Arc::new(AtomicU64::new(0));
        let counted = flushes.clone();
        let gate = Arc::new(FlushGate::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            // A disk's sync takes a while; waiters pile up behind it.
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(())
        }));
        let mut tasks = Vec::new();
        for _ in 0u32..500 {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move { gate.flush().await.unwrap() }));
        }
        for t in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(20), t)
                .await
                .expect("every waiter returns")
                .unwrap();
        }
        assert_eq!(*gate.durable.lock().unwrap(), 500);
        assert!(flushes.load(Ordering::Relaxed) < 250, "flushes were shared");
        gate.flush_blocking().unwrap();
        assert_eq!(*gate.durable.lock().unwrap(), 501);
    }

    #[test]
    fn a_failed_flush_reaches_its_waiters_and_a_later_one_can_succeed() {
        let fail = Arc::new(AtomicBool::new(true));
        let failing = fail.clone();
        let gate = FlushGate::new(move || match failing.load(Ordering::Relaxed) {
            true => Err("No space left on device".into()),
            false => Ok(()),
        });
        assert_eq!(
            &*gate.flush_blocking().unwrap_err(),
            "No space left on device"
        );
        fail.store(false, Ordering::Relaxed);
        gate.flush_blocking().unwrap();
    }
}
