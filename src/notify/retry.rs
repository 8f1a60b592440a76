//! Retry with exponential backoff and jitter, shared by every integration.
//! Integrations only say whether an error is retryable (and how long the
//! server asked to wait); this loop decides when to try again and when to
//! give up. Timers are `tokio::time`, so tests run on paused time.
//!
//! Alertmanager gives a flush `max(group_interval, 10s)` to deliver; the
//! caller passes that in as `timeout`.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::integrations::NotifyError;

/// The first wait after a failure.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Waits double up to this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Calls `attempt` until it succeeds, fails permanently, or `timeout` has
/// passed; returns how many attempts it took.
///
/// Between retryable failures it waits the server's `retry_after` when the
/// error carries one, else the next backoff step. It gives up early, with
/// the last error, when that wait would end past the deadline; an attempt
/// still running at the deadline is dropped.
pub async fn retry<F, Fut>(timeout: Duration, mut attempt: F) -> Result<u32, NotifyError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), NotifyError>>,
{
    let deadline = Instant::now() + timeout;
    let mut backoff = Backoff::new();
    let mut attempts = 0u32;
    let mut last: Option<NotifyError> = None;
    loop {
        attempts += 1;
        let error = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(())) => return Ok(attempts),
            Ok(Err(e)) => e,
            Err(_) => {
                let last = last
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default();
                return Err(NotifyError::retryable(format!(
                    "gave up after {attempts} attempts: deadline of {timeout:?} exceeded{last}"
                )));
            }
        };
        if !error.is_retryable() {
            return Err(error);
        }
        let wait = error.retry_after().unwrap_or_else(|| backoff.next_wait());
        if Instant::now() + wait >= deadline {
            return Err(error);
        }
        tracing::debug!(attempts, ?wait, error = %error, "notification failed, retrying");
        last = Some(error);
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff with "equal jitter": step `n` waits a random time in
/// `[b/2, b]` with `b = min(INITIAL_BACKOFF * 2^n, MAX_BACKOFF)`, so
/// receivers failing together do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    pub fn new() -> Self {
        Backoff {
            base: INITIAL_BACKOFF,
        }
    }

    pub fn next_wait(&mut self) -> Duration {
        let base = self.base;
        self.base = (self.base * 2).min(MAX_BACKOFF);
        base / 2 + base.mul_f64(0.5 * unit_random())
    }
}

/// A number in `[0, 1)`. Jitter needs no quality randomness: std's
/// randomly keyed hasher is enough and spares a dependency.
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    type Calls = Arc<Mutex<Vec<Instant>>>;

    /// An attempt function answering from a script and recording when it ran.
    fn scripted(
        script: Vec<Result<(), NotifyError>>,
    ) -> (
        impl FnMut() -> std::future::Ready<Result<(), NotifyError>>,
        Calls,
    ) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let mut script = script.into_iter();
        let f = move || {
            seen.lock().unwrap().push(Instant::now());
            std::future::ready(
                script
                    .next()
                    .unwrap_or_else(|| Err(NotifyError::retryable("down"))),
            )
        };
        (f, calls)
    }

    fn server_error() -> Result<(), NotifyError> {
        Err(NotifyError::Retryable {
            status: Some(500),
            reason: "oops".into(),
            retry_after: None,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn retries_on_temporary_error() {
        let (f, calls) = scripted(vec![server_error(), server_error(), Ok(())]);
        assert_eq!(retry(Duration::from_secs(10), f).await, Ok(3));
        let calls = calls.lock().unwrap();
        let first_wait = calls[1] - calls[0];
        let second_wait = calls[2] - calls[1];
        assert!(first_wait >= INITIAL_BACKOFF / 2 && first_wait <= INITIAL_BACKOFF);
        assert!(second_wait >= INITIAL_BACKOFF && second_wait <= INITIAL_BACKOFF * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn fails_on_permanent_error_without_retrying() {
        let (f, calls) = scripted(vec![Err(NotifyError::permanent("bad request"))]);
        let err = retry(Duration::from_secs(10), f).await.unwrap_err();
        assert!(!err.is_retryable());
        assert_eq!(calls.lock().unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_what_the_server_asked_for() {
        let rate_limited = Err(NotifyError::Retryable {
            status: Some(429),
            reason: "slow down".into(),
            retry_after: Some(Duration::from_secs(2)),
        });
        let (f, calls) = scripted(vec![rate_limited, Ok(())]);
        assert_eq!(retry(Duration::from_secs(10), f).await, Ok(2));
        let calls = calls.lock().unwrap();
        assert_eq!(calls[1] - calls[0], Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_the_servers_wait_passes_the_deadline() {
        let rate_limited = Err(NotifyError::Retryable {
            status: Some(429),
            reason: "slow down".into(),
            retry_after: Some(Duration::from_secs(60)),
        });
        let start = Instant::now();
        let (f, calls) = scripted(vec![rate_limited]);
        let err = retry(Duration::from_secs(10), f).await.unwrap_err();
        assert_eq!(err.status(), Some(429));
        assert_eq!(calls.lock().unwrap().len(), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_with_the_last_error() {
        let start = Instant::now();
        let (f, calls) = scripted(vec![]);
        let err = retry(Duration::from_secs(10), f).await.unwrap_err();
        assert_eq!(err, NotifyError::retryable("down"));
        assert!(start.elapsed() <= Duration::from_secs(10));
        assert!(calls.lock().unwrap().len() >= 5);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_hanging_past_the_deadline_is_dropped() {
        let start = Instant::now();
        let err = retry(Duration::from_secs(10), std::future::pending)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(err.to_string().contains("deadline"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new();
        let mut base = INITIAL_BACKOFF;
        for _ in 0..20 {
            let w = b.next_wait();
            assert!(w >= base / 2 && w <= base, "{w:?} vs {base:?}");
            base = (base * 2).min(MAX_BACKOFF);
        }
        assert_eq!(base, MAX_BACKOFF);
    }
}
