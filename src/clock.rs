//! The one wall-clock source. Production reads the system clock; tests use
//! either a manual clock they move by hand or one that follows tokio's
//! (pausable) time, so timers and time-dependent decisions agree.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    kind: Kind,
}

#[derive(Debug, Clone, Default)]
enum Kind {
    #[default]
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// `base` plus the tokio time elapsed since `since`.
    Tokio {
        base: DateTime<Utc>,
        since: tokio::time::Instant,
    },
}

impl Clock {
    pub fn system() -> Self {
        Self { kind: Kind::System }
    }

    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::Manual(Arc::new(Mutex::new(start))),
        }
    }

    /// Wall time that advances with tokio's clock: with paused time in a
    /// test, `tokio::time::advance` moves both timers and `now()`.
    pub fn following_tokio(base: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::Tokio {
                base,
                since: tokio::time::Instant::now(),
            },
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.kind {
            Kind::System => Utc::now(),
            Kind::Manual(t) => *t.lock().expect("clock lock"),
            Kind::Tokio { base, since } => {
                let elapsed = chrono::Duration::from_std(since.elapsed()).unwrap_or_default();
                *base + elapsed
            }
        }
    }

    /// Moves a manual clock forward; a no-op on the other kinds.
    pub fn advance(&self, by: chrono::Duration) {
        if let Kind::Manual(t) = &self.kind {
            let mut t = t.lock().expect("clock lock");
            *t += by;
        }
    }
}
