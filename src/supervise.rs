//! Long-lived tasks that come back after a panic.
//!
//! A background loop (the alert committer, garbage collection, store
//! recovery, the cluster's proposers) that panics would otherwise end
//! silently and leave its part of the pipeline stopped until a restart.
//! Supervised, it is logged with its name and the panic's message,
//! counted (`klaxon_task_panics_total{task}`), and started again.

use std::any::Any;
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A task that panics is started again after this pause, so one that
/// panics at once does not spin.
pub const RESTART_AFTER: Duration = Duration::from_secs(1);

/// Runs `make()` as a task named `task` until it returns or `cancel`;
/// after a panic, calls `on_panic(task)` and runs a fresh `make()`.
pub fn spawn<F, Fut>(
    task: &'static str,
    on_panic: impl Fn(&'static str) + Send + Sync + 'static,
    cancel: CancellationToken,
    mut make: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match tokio::spawn(make()).await {
                Err(e) if e.is_panic() => {
                    let panic = e.into_panic();
                    tracing::error!(
                        task,
                        panic = %panic_message(panic.as_ref()),
                        "a background task panicked; it starts again"
                    );
                    on_panic(task);
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(RESTART_AFTER) => {}
                    }
                }
                // Returned (it was cancelled), or the runtime is stopping.
                _ => return,
            }
        }
    })
}

/// The text a panic was raised with.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A loop that panics on its second round is restarted, counted once,
    /// and goes on doing its work; cancelling stops it for good.
    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_counted_and_runs_again() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let panics = Arc::new(AtomicUsize::new(0));
        let cancel = CancellationToken::new();
        let handle = spawn(
            "test_loop",
            {
                let panics = panics.clone();
                move |task| {
                    assert_eq!(task, "test_loop");
                    panics.fetch_add(1, Ordering::SeqCst);
                }
            },
            cancel.clone(),
            {
                let (rounds, cancel) = (rounds.clone(), cancel.clone());
                move || {
                    let (rounds, cancel) = (rounds.clone(), cancel.clone());
                    async move {
                        loop {
                            tokio::select! {
                                _ = cancel.cancelled() => return,
                                _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                            }
                            if rounds.fetch_add(1, Ordering::SeqCst) == 1 {
                                panic!("round two");
                            }
                        }
                    }
                }
            },
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(panics.load(Ordering::SeqCst), 1);
        // 10 s, 20 s (panic), then 1 s pause and every 10 s again.
        assert!(rounds.load(Ordering::SeqCst) >= 5, "{rounds:?}");
        cancel.cancel();
        handle.await.unwrap();
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42u8), "(no message)");
    }
}
