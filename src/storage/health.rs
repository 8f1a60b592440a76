//! Whether the store can write, and what its failures cost: read by
//! `/-/ready`, `/metrics` and the silence API, waited on by the writers
//! that hold changes back while it cannot.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// What the store reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    pub healthy: bool,
    /// Writes (or flushes) that failed since start.
    pub write_failures: u64,
    /// Records given up on while the store could not write (history
    /// attempts beyond the bounded queue).
    pub dropped: u64,
    /// The failure that made the store unhealthy, while it is.
    pub error: Option<String>,
}

pub(super) struct Health {
    healthy: watch::Sender<bool>,
    write_failures: AtomicU64,
    dropped: AtomicU64,
    error: Mutex<Option<String>>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            healthy: watch::Sender::new(true),
            write_failures: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        *self.healthy.borrow()
    }

    /// Records a failed write. Returns true for the first failure of an
    /// outage, which the caller logs (later ones would flood the log).
    pub fn failed(&self, error: &str) -> bool {
        self.write_failures.fetch_add(1, Ordering::Relaxed);
        let mut held = self.error.lock().expect("health lock");
        if held.is_none() {
            *held = Some(error.to_owned());
        }
        drop(held);
        self.healthy
            .send_if_modified(|h| std::mem::replace(h, false))
    }

    pub fn recovered(&self) {
        *self.error.lock().expect("health lock") = None;
        self.healthy.send_replace(true);
    }

    pub fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().expect("health lock").clone()
    }

    pub fn report(&self) -> HealthReport {
        HealthReport {
            healthy: self.is_healthy(),
            write_failures: self.write_failures.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            error: self.error(),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.healthy.subscribe()
    }
}
