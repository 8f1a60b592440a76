//! Dispatch: routes every alert into its aggregation groups and lets each
//! group flush on its own timers. A flush is handed to a [`Deliver`] (the
//! notification pipeline) as a typed [`Flush`].

/// Aggregation groups and their timers.
pub mod group;
/// The routing tree.
pub mod route;

use fnv::FnvHashMap;
use std::cmp::Ordering;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use group::AggregationGroup;
pub use route::{GroupBy, Route, RouteOpts};

use crate::alert::Alert;
use crate::alert_store::Subscriber;
use crate::clock::Clock;
use crate::labels::{Fingerprint, LabelSet};

/// What one group flush hands to the notification pipeline.
#[derive(Debug, Clone)]
pub struct Flush {
    pub receiver: String,
    pub group_key: String,
    pub group_labels: LabelSet,
    pub opts: RouteOpts,
    /// Sorted as Alertmanager sorts them; firing alerts have no end.
    pub alerts: Vec<Arc<Alert>>,
    /// The timer's fire time, `now` for the whole flush.
    pub now: DateTime<Utc>,
}

/// The notification pipeline as the dispatcher sees it. `true` means the
/// flush is done (sent, or nothing needed sending); resolved alerts are
/// then dropped from the group.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, flush: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;

    /// An alert joined `group` (the event recorder's `alert_grouped`).
    fn grouped(&self, _group: &AggregationGroup, _alert: &Alert) {}

    /// A supervised task (`task` names its kind) panicked and was
    /// recovered: counted in `klaxon_task_panics_total`.
    fn task_panicked(&self, _task: &str) {}
}

/// When a dispatcher may start flushing and how often it tidies up.
#[derive(Debug, Clone, Copy)]
pub struct DispatchTiming {
    /// `--dispatch.start-delay` after the process started: until then groups
    /// collect alerts but do not flush, as in Alertmanager (whose start
    /// time is the process's, so a reload after it starts at once).
    pub start_at: tokio::time::Instant,
    /// `--dispatch.maintenance-interval`: finished groups are dropped from
    /// the map this often.
    pub maintenance_interval: std::time::Duration,
}

impl DispatchTiming {
    /// Start now; Alertmanager's default maintenance interval (30 s).
    pub fn immediate() -> Self {
        Self {
            start_at: tokio::time::Instant::now(),
            maintenance_interval: std::time::Duration::from_secs(30),
        }
    }
}

/// Groups are unique per route node and grouping-label values.
type GroupId = (usize, Fingerprint);

/// The running dispatcher of one config; replaced whole on reload.
pub struct Dispatcher {
    route: Arc<Route>,
    deliver: Arc<dyn Deliver>,
    clock: Clock,
    // FNV: the key is a route index and a fingerprint, already a hash.
    groups: Mutex<FnvHashMap<GroupId, Arc<AggregationGroup>>>,
    cancel: CancellationToken,
    /// Every task this dispatcher spawned, so stopping can wait for them.
    tasks: TaskTracker,
    start_at: tokio::time::Instant,
}

impl Subscriber for Dispatcher {
    fn alerts_changed(&self, batch: &[Arc<Alert>]) {
        self.process(batch);
    }
}

impl Dispatcher {
    /// A dispatcher for `route`; alerts arrive through [`Dispatcher::process`]
    /// (the alert store calls it as a [`Subscriber`]) until `cancel`.
    pub fn start(
        route: Arc<Route>,
        deliver: Arc<dyn Deliver>,
        clock: Clock,
        cancel: CancellationToken,
    ) -> Arc<Dispatcher> {
        Self::start_with(route, deliver, clock, cancel, DispatchTiming::immediate())
    }

    /// [`Dispatcher::start`] with a start delay and a maintenance interval.
    pub fn start_with(
        route: Arc<Route>,
        deliver: Arc<dyn Deliver>,
        clock: Clock,
        cancel: CancellationToken,
        timing: DispatchTiming,
    ) -> Arc<Dispatcher> {
        let dispatcher = Arc::new(Dispatcher {
            route,
            deliver,
            clock,
            groups: Mutex::default(),
            cancel,
            tasks: TaskTracker::new(),
            start_at: timing.start_at,
        });
        let weak = Arc::downgrade(&dispatcher);
        let cancel = dispatcher.cancel.clone();
        let every = timing
            .maintenance_interval
            .max(std::time::Duration::from_millis(10));
        let deliver = dispatcher.deliver.clone();
        let maintenance = crate::supervise::spawn(
            "dispatcher_maintenance",
            move |task| deliver.task_panicked(task),
            cancel.clone(),
            move || {
                let (weak, cancel) = (weak.clone(), cancel.clone());
                async move {
                    let start = tokio::time::Instant::now() + every;
                    let mut ticks = tokio::time::interval_at(start, every);
                    loop {
                        tokio::select! {
                            _ = cancel.cancelled() => return,
                            _ = ticks.tick() => {}
                        }
                        let Some(dispatcher) = weak.upgrade() else {
                            return;
                        };
                        dispatcher.drop_finished_groups();
                    }
                }
            },
        );
        dispatcher.tasks.spawn(maintenance);
        dispatcher
    }

    /// Alertmanager's `doMaintenance`: groups whose task ended are dropped,
    /// so their memory goes even when nobody lists the groups.
    fn drop_finished_groups(&self) {
        self.groups
            .lock()
            .expect("groups lock")
            .retain(|_, g| !g.is_closed());
    }

    /// Routes alerts into their aggregation groups, starting the groups'
    /// tasks as needed.
    pub fn process(&self, alerts: &[Arc<Alert>]) {
        if self.cancel.is_cancelled() {
            return;
        }
        let now = self.clock.now();
        let mut routed: Vec<(GroupId, &Route, &Arc<Alert>)> = Vec::with_capacity(alerts.len());
        for alert in alerts {
            for route in self.route.matches(&alert.labels) {
                let id = (route.id, route.opts.group_fingerprint(&alert.labels));
                routed.push((id, route, alert));
            }
        }
        // One lock per group and batch, not per alert: a batch holds few
        // groups (Prometheus sends one rule's alerts together), and group
        // locks are shared with the other ingest threads. The sort is
        // stable, so each group still sees its alerts in arrival order.
        routed.sort_by_key(|(id, ..)| *id);
        let mut groups = self.groups.lock().expect("groups lock");
        for run in routed.chunk_by(|a, b| a.0 == b.0) {
            let (id, route, _) = run[0];
            let members = run.iter().map(|(.., alert)| *alert);
            if let Some(g) = groups.get(&id)
                && g.insert_all(members.clone(), now, &mut |a| self.deliver.grouped(g, a))
            {
                continue;
            }
            // No group, or its task ended. Resolved alerts open none.
            let mut opening = members.filter(|a| !a.resolved_at(now)).peekable();
            let Some(first) = opening.peek() else {
                continue;
            };
            let labels = route.opts.group_labels(&first.labels);
            let g = AggregationGroup::new(route.group_key(&labels), labels, route.opts.clone());
            g.insert_all(opening, now, &mut |a| self.deliver.grouped(&g, a));
            // Supervised: a panic outside a flush (which has its own
            // guard) starts the group's loop again, with its alerts.
            let run = {
                let (group, deliver, clock) = (g.clone(), self.deliver.clone(), self.clock.clone());
                let (cancel, start_at) = (self.cancel.child_token(), self.start_at);
                move || {
                    let group = group.clone();
                    group.run(deliver.clone(), clock.clone(), cancel.clone(), start_at)
                }
            };
            let deliver = self.deliver.clone();
            self.tasks.spawn(crate::supervise::spawn(
                "aggregation_group",
                move |task| deliver.task_panicked(task),
                self.cancel.clone(),
                run,
            ));
            groups.insert(id, g);
        }
    }

    /// The live groups, for `/api/v2/alerts/groups` and the UI.
    pub fn groups(&self) -> Vec<Arc<AggregationGroup>> {
        let mut groups = self.groups.lock().expect("groups lock");
        groups.retain(|_, g| !g.is_closed());
        groups.values().cloned().collect()
    }

    /// Stops routing and flushing; in-flight deliveries are dropped (the
    /// notification log makes the next dispatcher pick them up).
    pub fn stop(&self) {
        self.cancel.cancel();
        self.tasks.close();
    }

    /// Resolves once every task of this dispatcher has ended.
    pub async fn stopped(&self) {
        self.tasks.wait().await;
    }
}

/// Alertmanager's alert order within a group: `job`, then `instance`, then
/// the label sets; an alert without one of the two labels after those with
/// it.
pub fn alert_order(a: &LabelSet, b: &LabelSet) -> Ordering {
    OrderKey::of(a)
        .cmp(&OrderKey::of(b))
        .then_with(|| a.before(b))
}

/// `job` and `instance`, each as (missing, value): read once per alert
/// when sorting, where a comparison reading them from both label sets was
/// most of a large group listing's time.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey<'a>([(bool, &'a str); 2]);

impl<'a> OrderKey<'a> {
    fn of(labels: &'a LabelSet) -> Self {
        let key = |name| {
            let value = labels.get(name);
            (value.is_none(), value.unwrap_or(""))
        };
        OrderKey([key("job"), key("instance")])
    }
}

/// Sorts a group's alerts in [`alert_order`], moving them (no reference
/// count touched).
pub fn sort_alerts(alerts: &mut Vec<Arc<Alert>>) {
    let mut keyed: Vec<(OrderKey<'_>, usize)> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| (OrderKey::of(&a.labels), i))
        .collect();
    // Unstable is exact here: no two alerts of a group share a label set.
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb)
            .then_with(|| alerts[*a].labels.before(&alerts[*b].labels))
    });
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let mut slots: Vec<Option<Arc<Alert>>> = std::mem::take(alerts).into_iter().map(Some).collect();
    *alerts = order.into_iter().filter_map(|i| slots[i].take()).collect();
}

#[cfg(test)]
mod extreme_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::time::Duration;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    #[test]
    fn sorting_by_key_gives_alertmanagers_order() {
        let at = Utc::now();
        let values = [None, Some(""), Some("a"), Some("b")];
        let mut alerts = Vec::new();
        for (i, job) in values.iter().enumerate() {
            for instance in values {
                for extra in ["x", "y"] {
                    let mut pairs = vec![("z", extra), ("n", if i % 2 == 0 { "0" } else { "1" })];
                    pairs.extend(job.map(|j| ("job", j)));
                    pairs.extend(instance.map(|v| ("instance", v)));
                    alerts.push(Arc::new(Alert::for_test(&pairs, &[], at)));
                }
            }
        }
        alerts.reverse();
        let mut want = alerts.clone();
        want.sort_by(|a, b| {
            // The order as Alertmanager states it, one label at a time.
            for key in ["job", "instance"] {
                match (a.labels.get(key), b.labels.get(key)) {
                    (None, None) => continue,
                    (None, Some(_)) => return Ordering::Greater,
                    (Some(_), None) => return Ordering::Less,
                    (Some(x), Some(y)) if x != y => return x.cmp(y),
                    _ => {}
                }
            }
            a.labels.before(&b.labels)
        });
        sort_alerts(&mut alerts);
        let labels = |v: &[Arc<Alert>]| v.iter().map(|a| a.labels.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&alerts), labels(&want));
    }

    /// Records every flush and reports success.
    struct Recorder(mpsc::UnboundedSender<Flush>);

    impl Deliver for Recorder {
        fn deliver(&self, flush: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
            let _ = self.0.send(flush);
            Box::pin(async { true })
        }
    }

    struct Rig {
        clock: Clock,
        flushes: mpsc::UnboundedReceiver<Flush>,
        start: Instant,
        dispatcher: Arc<Dispatcher>,
    }

    fn rig(yaml: &str) -> Rig {
        let cfg = Config::load_str(yaml, std::path::Path::new("t.yml"), &|_| None).unwrap();
        let route = Arc::new(Route::from_config(&cfg.route));
        let clock = Clock::following_tokio(
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .into(),
        );
        let (ftx, flushes) = mpsc::unbounded_channel();
        let d = Dispatcher::start(
            route,
            Arc::new(Recorder(ftx)),
            clock.clone(),
            CancellationToken::new(),
        );
        Rig {
            clock,
            flushes,
            start: Instant::now(),
            dispatcher: d,
        }
    }

    impl Rig {
        fn alert(&self, name: &str, started_secs_ago: i64, resolved: bool) -> Arc<Alert> {
            let now = self.clock.now();
            Arc::new(Alert {
                labels: [("alertname", name), ("instance", "i1")]
                    .into_iter()
                    .collect(),
                annotations: LabelSet::new(),
                starts_at: now - chrono::Duration::seconds(started_secs_ago),
                ends_at: if resolved {
                    now
                } else {
                    now + chrono::Duration::minutes(5)
                },
                generator_url: "".into(),
                updated_at: now,
                timeout: !resolved,
                fingerprint_cache: Default::default(),
            })
        }

        fn send(&self, alerts: Vec<Arc<Alert>>) {
            self.dispatcher.process(&alerts);
        }

        async fn next(&mut self) -> (Duration, Flush) {
            let f = self.flushes.recv().await.unwrap();
            (self.start.elapsed(), f)
        }
    }

    const CONFIG: &str = r#"
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers: [{name: r}]
"#;

    #[tokio::test(start_paused = true)]
    async fn first_flush_waits_for_group_wait() {
        let mut r = rig(CONFIG);
        r.send(vec![r.alert("A", 0, false)]);
        let (at, f) = r.next().await;
        assert_eq!(at, Duration::from_secs(30));
        assert_eq!(f.group_key, r#"{}:{alertname="A"}"#);
        assert_eq!(f.alerts.len(), 1);
        // Firing alerts carry no end in a notification.
        assert_eq!(f.alerts[0].ends_at, crate::alert::go_zero_time());
    }

    /// One batch holding several groups' alerts, interleaved, as the
    /// benchmark and a multi-rule Prometheus send them.
    #[tokio::test(start_paused = true)]
    async fn one_batch_fills_each_of_its_groups() {
        let mut r = rig(CONFIG);
        let mut second_a = (*r.alert("A", 0, false)).clone();
        second_a.labels.insert("instance", "i2");
        r.send(vec![
            r.alert("A", 0, false),
            r.alert("B", 0, false),
            Arc::new(second_a),
            r.alert("C", 0, true),
        ]);
        // A resolved alert opens no group.
        assert_eq!(r.dispatcher.groups().len(), 2);
        let mut sizes = Vec::new();
        for _ in 0..2 {
            let (at, f) = r.next().await;
            assert_eq!(at, Duration::from_secs(30));
            sizes.push((f.group_key, f.alerts.len()));
        }
        sizes.sort();
        assert_eq!(
            sizes,
            [
                (r#"{}:{alertname="A"}"#.to_owned(), 2),
                (r#"{}:{alertname="B"}"#.to_owned(), 1)
            ]
        );
    }

    /// A receiver that never answers.
    struct Stalled;

    impl Deliver for Stalled {
        fn deliver(&self, _: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_does_not_wait_for_a_delivery_in_flight() {
        let cfg = Config::load_str(CONFIG, std::path::Path::new("t.yml"), &|_| None).unwrap();
        let clock = Clock::following_tokio(
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .into(),
        );
        let d = Dispatcher::start(
            Arc::new(Route::from_config(&cfg.route)),
            Arc::new(Stalled),
            clock.clone(),
            CancellationToken::new(),
        );
        let now = clock.now();
        d.process(&[Arc::new(Alert {
            labels: [("alertname", "A")].into_iter().collect(),
            annotations: LabelSet::new(),
            starts_at: now,
            ends_at: now + chrono::Duration::minutes(5),
            generator_url: "".into(),
            updated_at: now,
            timeout: true,
            fingerprint_cache: Default::default(),
        })]);
        // Past group_wait: the flush is stuck in delivery.
        tokio::time::sleep(Duration::from_secs(31)).await;
        d.stop();
        // Only the short grace for a finishing delivery, not its deadline.
        tokio::time::timeout(Duration::from_secs(3), d.stopped())
            .await
            .expect("the stuck delivery is dropped on stop");
    }

    /// Panics on its first delivery, then records every flush.
    struct PanicsOnce {
        panicked: std::sync::atomic::AtomicBool,
        flushes: mpsc::UnboundedSender<Flush>,
        reported: mpsc::UnboundedSender<String>,
    }

    impl Deliver for PanicsOnce {
        fn deliver(&self, flush: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
            if !self
                .panicked
                .swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                panic!("a bug in delivery");
            }
            let _ = self.flushes.send(flush);
            Box::pin(async { true })
        }

        fn task_panicked(&self, task: &str) {
            let _ = self.reported.send(task.to_owned());
        }
    }

    /// A panic inside a group's flush is reported and the group flushes
    /// again at its next interval, rather than staying registered and
    /// silent (its alerts never notified).
    #[tokio::test(start_paused = true)]
    async fn a_group_whose_flush_panicked_flushes_again() {
        let cfg = Config::load_str(CONFIG, std::path::Path::new("t.yml"), &|_| None).unwrap();
        let clock = Clock::following_tokio(
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .into(),
        );
        let (ftx, mut flushes) = mpsc::unbounded_channel();
        let (rtx, mut reported) = mpsc::unbounded_channel();
        let d = Dispatcher::start(
            Arc::new(Route::from_config(&cfg.route)),
            Arc::new(PanicsOnce {
                panicked: Default::default(),
                flushes: ftx,
                reported: rtx,
            }),
            clock.clone(),
            CancellationToken::new(),
        );
        let now = clock.now();
        d.process(&[Arc::new(Alert {
            labels: [("alertname", "A")].into_iter().collect(),
            annotations: LabelSet::new(),
            starts_at: now,
            ends_at: now + chrono::Duration::hours(5),
            generator_url: "".into(),
            updated_at: now,
            timeout: true,
            fingerprint_cache: Default::default(),
        })]);
        let task = tokio::time::timeout(Duration::from_secs(60), reported.recv())
            .await
            .expect("the panic is reported")
            .unwrap();
        assert_eq!(task, "aggregation_group");
        let flush = tokio::time::timeout(Duration::from_secs(600), flushes.recv())
            .await
            .expect("the group flushes again")
            .unwrap();
        assert_eq!(flush.alerts.len(), 1);
        assert_eq!(d.groups().len(), 1, "still the one group");
    }

    fn delayed_rig(yaml: &str, delay: Duration, maintenance: Duration) -> Rig {
        let mut r = rig(yaml);
        r.dispatcher.stop();
        let cfg = Config::load_str(yaml, std::path::Path::new("t.yml"), &|_| None).unwrap();
        let (ftx, flushes) = mpsc::unbounded_channel();
        r.flushes = flushes;
        r.dispatcher = Dispatcher::start_with(
            Arc::new(Route::from_config(&cfg.route)),
            Arc::new(Recorder(ftx)),
            r.clock.clone(),
            CancellationToken::new(),
            DispatchTiming {
                start_at: Instant::now() + delay,
                maintenance_interval: maintenance,
            },
        );
        r
    }

    /// Alertmanager's `--dispatch.start-delay`: groups form at once, but
    /// flush no earlier than the start; later groups keep their group_wait.
    #[tokio::test(start_paused = true)]
    async fn the_start_delay_holds_back_the_first_flushes() {
        let mut r = delayed_rig(CONFIG, Duration::from_secs(90), Duration::from_secs(30));
        r.send(vec![r.alert("A", 0, false)]);
        assert_eq!(r.dispatcher.groups().len(), 1, "the group exists meanwhile");
        let (at, f) = r.next().await;
        assert_eq!(at, Duration::from_secs(90));
        assert_eq!(f.alerts.len(), 1);
        // An old alert, which skips group_wait, still waits for the start.
        let mut r = delayed_rig(CONFIG, Duration::from_secs(90), Duration::from_secs(30));
        r.send(vec![r.alert("B", 3600, false)]);
        assert_eq!(r.next().await.0, Duration::from_secs(90));
        // After the start, a new group waits its group_wait only.
        tokio::time::advance(Duration::from_secs(100)).await;
        let start = Instant::now();
        r.send(vec![r.alert("C", 0, false)]);
        r.flushes.recv().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_delay_shorter_than_group_wait_changes_nothing() {
        let mut r = delayed_rig(CONFIG, Duration::from_secs(10), Duration::from_secs(30));
        r.send(vec![r.alert("A", 0, false)]);
        assert_eq!(r.next().await.0, Duration::from_secs(30));
    }

    /// `--dispatch.maintenance-interval`: a finished group leaves the map
    /// at the next maintenance, listed or not.
    #[tokio::test(start_paused = true)]
    async fn maintenance_drops_finished_groups() {
        let mut r = delayed_rig(CONFIG, Duration::ZERO, Duration::from_secs(600));
        r.send(vec![r.alert("A", 0, false)]);
        r.next().await;
        tokio::time::advance(Duration::from_secs(1)).await;
        r.send(vec![r.alert("A", 1, true)]);
        // Resolved at the next group_interval flush (330 s), then ended.
        let (at, _) = r.next().await;
        assert_eq!(at, Duration::from_secs(330));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let held = || r.dispatcher.groups.lock().unwrap().len();
        assert_eq!(held(), 1, "kept until maintenance");
        tokio::time::sleep_until(r.start + Duration::from_secs(601)).await;
        assert_eq!(held(), 0, "dropped by maintenance at 600 s");
    }

    #[tokio::test(start_paused = true)]
    async fn no_group_wait_flushes_a_new_group_at_once() {
        let mut r = rig(&CONFIG.replace("group_wait: 30s", "group_wait: 0s"));
        r.send(vec![r.alert("A", 0, false)]);
        let (at, f) = r.next().await;
        assert_eq!(at, Duration::ZERO);
        assert_eq!(f.alerts.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_alert_skips_group_wait() {
        let mut r = rig(CONFIG);
        r.send(vec![r.alert("A", 3600, false)]);
        let (at, _) = r.next().await;
        assert_eq!(at, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn later_alerts_are_batched_into_the_next_group_interval() {
        let mut r = rig(CONFIG);
        r.send(vec![r.alert("A", 0, false)]);
        let (at, _) = r.next().await;
        assert_eq!(at, Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(10)).await;
        let mut second = (*r.alert("A", 0, false)).clone();
        second.labels.insert("instance", "i2");
        r.send(vec![Arc::new(second)]);
        let (at, f) = r.next().await;
        assert_eq!(at, Duration::from_secs(330));
        assert_eq!(f.alerts.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_resolved_group_is_flushed_once_then_ends() {
        let mut r = rig(CONFIG);
        r.send(vec![r.alert("A", 0, false)]);
        r.next().await;
        tokio::time::advance(Duration::from_secs(60)).await;
        r.send(vec![r.alert("A", 60, true)]);
        let (at, f) = r.next().await;
        assert_eq!(at, Duration::from_secs(330));
        assert!(f.alerts[0].resolved_at(f.now));
        // The group is gone: nothing more is flushed.
        let quiet = tokio::time::timeout(Duration::from_secs(3600), r.flushes.recv()).await;
        assert!(quiet.is_err(), "no flush after the group ended");
        // A new firing alert opens a new group with a fresh group_wait.
        let start = Instant::now();
        r.send(vec![r.alert("A", 0, false)]);
        r.flushes.recv().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_resolved_alert_alone_opens_no_group() {
        let mut r = rig(CONFIG);
        r.send(vec![r.alert("A", 0, true)]);
        let quiet = tokio::time::timeout(Duration::from_secs(3600), r.flushes.recv()).await;
        assert!(quiet.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn continue_routes_make_one_group_per_route() {
        let mut r = rig(r#"
route:
  receiver: r
  group_by: ['...']
  group_wait: 1s
  routes:
    - receiver: a
      matchers: ['alertname="A"']
      continue: true
    - receiver: b
      matchers: ['alertname="A"']
receivers: [{name: r}, {name: a}, {name: b}]
"#);
        r.send(vec![r.alert("A", 0, false)]);
        let (_, f1) = r.next().await;
        let (_, f2) = r.next().await;
        let mut receivers = [f1.receiver, f2.receiver];
        receivers.sort();
        assert_eq!(receivers, ["a", "b"]);
        assert_eq!(
            f1.group_key.split(':').next_back().unwrap(),
            r#"{alertname="A", instance="i1"}"#
        );
    }
}
