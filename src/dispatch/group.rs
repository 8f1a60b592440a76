//! One aggregation group: the alerts of one route that share the same
//! grouping labels, and the task that flushes them on Alertmanager's
//! timers (`group_wait`, then every `group_interval`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a stopping group lets a delivery in flight finish.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
use tokio_util::sync::CancellationToken;

use super::{Deliver, Flush, RouteOpts};
use crate::alert::Alert;
use crate::alert_set::AlertSet;
use crate::clock::Clock;
use crate::labels::LabelSet;

/// The alerts, and whether the group task has ended (decided under the same
/// lock, so an insert never lands in a group nobody flushes).
#[derive(Default)]
struct Members {
    alerts: AlertSet,
    closed: bool,
    /// The alerts in Alertmanager's order, kept until they change: the
    /// group list and the flushes read a group far more often than it
    /// changes, and sorting was their largest share of work per alert.
    sorted: Option<Arc<[Arc<Alert>]>>,
    /// Bumped by every change, so that an order worked out while the
    /// alerts changed is not kept.
    version: u64,
}

impl Members {
    fn changed(&mut self) {
        self.version += 1;
        // Dropped at once: a kept order would keep replaced alerts alive.
        self.sorted = None;
    }
}

pub struct AggregationGroup {
    pub key: String,
    pub labels: LabelSet,
    pub opts: RouteOpts,
    alerts: std::sync::Mutex<Members>,
    /// Set once the first flush ran; until then an old alert flushes at once.
    has_flushed: AtomicBool,
    flush_now: Notify,
}

impl AggregationGroup {
    pub fn new(key: String, labels: LabelSet, opts: RouteOpts) -> Arc<Self> {
        Arc::new(Self {
            key,
            labels,
            opts,
            alerts: Default::default(),
            has_flushed: AtomicBool::new(false),
            flush_now: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Members> {
        // A flush that panicked holding the lock left the members as they
        // were between two whole updates: still usable.
        self.alerts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces alerts; `false` if the group has ended and a new
    /// one must take them. An alert that started more than `group_wait`
    /// ago skips the wait, as in Alertmanager. `added` sees each alert
    /// new to the group.
    pub fn insert_all<'a>(
        &self,
        alerts: impl IntoIterator<Item = &'a Arc<Alert>>,
        now: DateTime<Utc>,
        added: &mut dyn FnMut(&Alert),
    ) -> bool {
        let wait = chrono::Duration::from_std(self.opts.group_wait).unwrap_or_default();
        let mut stale = false;
        {
            let mut members = self.lock();
            if members.closed {
                return false;
            }
            for alert in alerts {
                stale |= crate::alert::add_saturating(alert.starts_at, wait) < now;
                // Batches may arrive out of order (see `AlertStore::subscribe`):
                // an older version never replaces a newer one.
                let updated_at = alert.updated_at;
                let mut replaced = false;
                let new = members.alerts.insert_if(alert.clone(), |old| {
                    replaced = old.updated_at <= updated_at;
                    replaced
                });
                if new || replaced {
                    members.changed();
                }
                if new {
                    added(alert);
                }
            }
        }
        if stale && !self.has_flushed.load(Ordering::Acquire) {
            self.flush_now.notify_one();
        }
        true
    }

    pub fn alerts(&self) -> Vec<Arc<Alert>> {
        self.lock().alerts.iter().cloned().collect()
    }

    /// The alerts in Alertmanager's order (see [`super::sort_alerts`]),
    /// sorted once per change of the group, outside its lock.
    pub fn sorted_alerts(&self) -> Arc<[Arc<Alert>]> {
        let (mut alerts, version) = {
            let members = self.lock();
            if let Some(sorted) = &members.sorted {
                return sorted.clone();
            }
            let alerts: Vec<Arc<Alert>> = members.alerts.iter().cloned().collect();
            (alerts, members.version)
        };
        super::sort_alerts(&mut alerts);
        let sorted: Arc<[Arc<Alert>]> = alerts.into();
        let mut members = self.lock();
        if members.version == version {
            members.sorted = Some(sorted.clone());
        }
        sorted
    }

    /// How many alerts the group holds, resolved ones included.
    pub fn alert_count(&self) -> usize {
        self.lock().alerts.len()
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Ends the group if it has no alerts left.
    fn close_if_empty(&self) -> bool {
        let mut members = self.lock();
        if members.alerts.is_empty() {
            members.closed = true;
        }
        members.closed
    }

    /// Flushes until cancelled or until the group is empty after a flush;
    /// nothing is flushed before `start_at` (`--dispatch.start-delay`).
    pub async fn run(
        self: Arc<Self>,
        deliver: Arc<dyn Deliver>,
        clock: Clock,
        cancel: CancellationToken,
        start_at: Instant,
    ) {
        let mut next = Instant::now() + self.opts.group_wait;
        // With no group_wait the first flush is now: a timer would round it
        // up to the timer wheel's next millisecond tick.
        let mut immediate = self.opts.group_wait.is_zero();
        // As Alertmanager: the group's timer runs from its creation, so
        // the first flush is at whichever is later, the end of group_wait
        // or the dispatcher's start. An old alert's early flush waits too
        // (its notification stays stored in `flush_now`).
        if Instant::now() < start_at {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(start_at) => {}
            }
        }
        loop {
            if !std::mem::take(&mut immediate) {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep_until(next) => {}
                    _ = self.flush_now.notified(), if !self.has_flushed.load(Ordering::Acquire) => {}
                }
            }
            // As Alertmanager: the next tick is set before flushing, so a slow
            // delivery does not push every later flush back.
            next = Instant::now() + self.opts.group_interval;
            self.has_flushed.store(true, Ordering::Release);
            // A delivery still retrying must not hold up shutdown or a
            // reload for its whole deadline: after a short grace (enough
            // for one that is finishing to write the notification log) it
            // is dropped, and the log, written only after success, makes
            // the next dispatcher send it.
            //
            // Each flush is a task of its own: one that panics is logged and
            // counted, and the group flushes again at its next interval
            // instead of staying registered and silent for ever.
            let flushing = {
                let (group, deliver, now) = (self.clone(), deliver.clone(), clock.now());
                tokio::spawn(async move { group.flush(deliver.as_ref(), now).await })
            };
            let abort = flushing.abort_handle();
            tokio::pin!(flushing);
            tokio::select! {
                done = &mut flushing => {
                    if let Err(e) = done
                        && e.is_panic()
                    {
                        self.report_panic(deliver.as_ref(), e.into_panic());
                    }
                }
                _ = cancel.cancelled() => {
                    let _ = tokio::time::timeout(STOP_GRACE, flushing).await;
                    abort.abort();
                    return;
                }
            }
            if self.close_if_empty() {
                return;
            }
        }
    }

    fn report_panic(&self, deliver: &dyn Deliver, panic: Box<dyn std::any::Any + Send>) {
        let message = crate::supervise::panic_message(panic.as_ref());
        tracing::error!(
            receiver = %self.opts.receiver,
            group_key = %self.key,
            panic = %message,
            "a flush of this group panicked; the group flushes again at its next interval"
        );
        deliver.task_panicked("aggregation_group");
    }

    async fn flush(&self, deliver: &dyn Deliver, now: DateTime<Utc>) {
        let snapshot = self.sorted_alerts();
        if snapshot.is_empty() {
            return;
        }
        // In order already: the notification's copies keep the labels.
        let alerts: Vec<Arc<Alert>> = snapshot
            .iter()
            .map(|a| Arc::new(a.for_notification(now)))
            .collect();
        let flush = Flush {
            receiver: self.opts.receiver.clone(),
            group_key: self.key.clone(),
            group_labels: self.labels.clone(),
            opts: self.opts.clone(),
            alerts,
            now,
        };
        if deliver.deliver(flush).await {
            // Resolved alerts are done, unless they were updated meanwhile.
            let mut members = self.lock();
            for a in snapshot.iter().filter(|a| a.resolved_at(now)) {
                let fp = a.fingerprint();
                if members
                    .alerts
                    .get(fp)
                    .is_some_and(|c| c.updated_at == a.updated_at)
                {
                    members.alerts.remove(fp);
                    members.changed();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::dispatch::route::Route;

    fn group() -> Arc<AggregationGroup> {
        let yaml = "route:\n  receiver: r\n  group_by: [alertname]\nreceivers:\n  - name: r\n";
        let cfg = Config::load_str(yaml, std::path::Path::new("t.yml"), &|_| None).unwrap();
        let route = Route::from_config(&cfg.route);
        AggregationGroup::new("k".into(), LabelSet::default(), route.opts.clone())
    }

    fn alert(instance: &str, at: DateTime<Utc>) -> Arc<Alert> {
        Arc::new(Alert::for_test(
            &[("alertname", "A"), ("instance", instance)],
            &[],
            at,
        ))
    }

    fn instances(alerts: &[Arc<Alert>]) -> Vec<String> {
        alerts
            .iter()
            .map(|a| a.labels.get("instance").unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_sorted_alerts_are_kept_until_the_group_changes() {
        let g = group();
        let t = Utc::now();
        let first = [alert("b", t), alert("c", t), alert("a", t)];
        g.insert_all(&first, t, &mut |_| {});
        let sorted = g.sorted_alerts();
        assert_eq!(instances(&sorted), ["a", "b", "c"]);
        assert!(Arc::ptr_eq(&sorted, &g.sorted_alerts()), "kept");

        // An older version of an alert changes nothing.
        let older = alert("a", t - chrono::Duration::seconds(10));
        g.insert_all([&older], t, &mut |_| {});
        assert!(Arc::ptr_eq(&sorted, &g.sorted_alerts()), "still kept");

        // A newer version replaces it, in place in the order.
        let newer = alert("a", t + chrono::Duration::seconds(10));
        g.insert_all([&newer], t, &mut |_| {});
        let now = g.sorted_alerts();
        assert!(!Arc::ptr_eq(&sorted, &now));
        assert!(Arc::ptr_eq(&now[0], &newer));
        drop(sorted);

        // A new alert joins in order.
        g.insert_all([&alert("ab", t)], t, &mut |_| {});
        assert_eq!(instances(&g.sorted_alerts()), ["a", "ab", "b", "c"]);
    }
}
