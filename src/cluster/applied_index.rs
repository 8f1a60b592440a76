//! How far this replica has applied the log, and who waits for a point in
//! it. openraft's own `wait` wakes every waiter on every change: with
//! thousands of proposals in flight that is thousands of wakeups per
//! applied entry. Here only the waiters an advance reaches are woken.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

#[derive(Default)]
pub struct AppliedIndex {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    applied: u64,
    waiting: BTreeMap<u64, Vec<oneshot::Sender<()>>>,
}

impl AppliedIndex {
    /// Everything up to `index` is applied: wake who waited for it.
    pub fn advance(&self, index: u64) {
        let ready = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.applied = state.applied.max(index);
            let later = state.waiting.split_off(&(index.saturating_add(1)));
            std::mem::replace(&mut state.waiting, later)
        };
        for waiter in ready.into_values().flatten() {
            let _ = waiter.send(());
        }
    }

    /// Whether `index` was applied within `within`.
    pub async fn reach(&self, index: u64, within: Duration) -> bool {
        let woken = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.applied >= index {
                return true;
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.entry(index).or_default().push(tx);
            rx
        };
        matches!(tokio::time::timeout(within, woken).await, Ok(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_wake_once_their_index_is_applied_and_not_before() {
        let applied = std::sync::Arc::new(AppliedIndex::default());
        applied.advance(3);
        assert!(applied.reach(2, Duration::ZERO).await);
        let waiting = {
            let applied = applied.clone();
            tokio::spawn(async move { applied.reach(5, Duration::from_secs(1)).await })
        };
        tokio::task::yield_now().await;
        applied.advance(4);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        applied.advance(5);
        assert!(waiting.await.unwrap());
        assert!(
            !applied.reach(9, Duration::from_millis(10)).await,
            "times out"
        );
    }
}
