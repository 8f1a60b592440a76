//! Periodic housekeeping jobs (garbage collection, maintenance) on tokio's
//! clock, so tests pause and advance it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `job` every `interval` (at least 100 ms) until `cancel`.
pub async fn every<F, Fut>(interval: Duration, cancel: CancellationToken, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let every = interval.max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        job().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_periodic_job_runs_once_per_interval_until_cancelled() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(every(Duration::from_secs(600), cancel.clone(), {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async {}
            }
        }));
        let count = || runs.load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(599)).await;
        assert_eq!(count(), 0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(count(), 1);
        tokio::time::sleep(Duration::from_secs(1200)).await;
        assert_eq!(count(), 3);
        cancel.cancel();
        task.await.unwrap();
    }
}
