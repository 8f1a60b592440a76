//! The notification pipeline: what the dispatcher's flushes go through.
//!
//! `Pipeline::deliver` reads top to bottom as Alertmanager's stages do:
//! time intervals, then inhibition and silences (mute), then for each
//! integration of the receiver the dedup decision against the notification
//! log, the send with retries, and the log entry once it succeeded.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::held_claim::HeldClaim;
use super::retry::retry;
use crate::alert::Alert;
use crate::alert_store::AlertStore;
use crate::cluster::ClaimOutcome;
use crate::config::{Config, ReceiverConfig};
use crate::dispatch::route::RouteOpts;
use crate::dispatch::{Deliver, Flush};
use crate::event_recorder::EventRecorder;
use crate::event_recorder::events as ev;
use crate::history::{Attempt, History, Outcome};
use crate::inhibit::{InhibitRule, Inhibitions};
use crate::integrations::{self, BuildError, Notification, Notifier, NotifyError, NotifyState};
use crate::labels::LabelSet;
use crate::metrics::Metrics;
use crate::nflog::{FlushSets, NflogKey, NotificationLog, Reason, needs_update};
use crate::silence::Silences;
use crate::template::Templates;
use crate::time_interval::TimeIntervals;

/// One configured integration of a receiver.
pub struct Integration {
    pub notifier: Box<dyn Notifier>,
    /// Position among the receiver's integrations of the same kind.
    pub index: usize,
}

/// Builds every receiver's integrations (see [`integrations::build`]).
pub fn build_receivers(
    receivers: &[ReceiverConfig],
    templates: &Arc<Templates>,
    metrics: &Arc<Metrics>,
) -> Result<HashMap<String, Vec<Integration>>, BuildError> {
    let shared = integrations::Shared::new(templates.clone(), metrics.clone());
    let mut out = HashMap::new();
    for r in receivers {
        let mut list = Vec::new();
        for (_, index, config) in r.integrations() {
            list.push(Integration {
                notifier: integrations::build(config, &shared)?,
                index,
            });
        }
        out.insert(r.name.clone(), list);
    }
    Ok(out)
}

/// Inhibition needs every firing alert as a possible source; the index is
/// rebuilt only when the store changed or a second passed (alerts resolve
/// by time, too).
struct InhibitionCache {
    generation: u64,
    built: Instant,
    index: Arc<Inhibitions>,
}

pub struct Pipeline {
    /// Spans of notification attempts (`tracing:`), when configured.
    trace: crate::trace_export::SharedTraceExport,
    metrics: Arc<Metrics>,
    receivers: HashMap<String, Vec<Integration>>,
    inhibit_rules: Vec<InhibitRule>,
    time_intervals: TimeIntervals,
    alerts: Arc<AlertStore>,
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    history: Arc<History>,
    events: EventRecorder,
    /// The replicas' cluster, whose claims decide who sends.
    cluster: Option<Arc<crate::cluster::Cluster>>,
    external_url: String,
    inhibitions: Mutex<Option<InhibitionCache>>,
    /// Renders route labels (the integrations hold their own handle).
    templates: Arc<Templates>,
}

/// The long-lived parts a pipeline works with; the config-derived parts are
/// rebuilt on every reload.
#[derive(Clone)]
pub struct PipelineState {
    pub metrics: Arc<Metrics>,
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub nflog: Arc<NotificationLog>,
    pub history: Arc<History>,
    pub events: crate::event_recorder::EventRecorder,
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    pub external_url: String,
}

impl Pipeline {
    pub fn new(config: &Config, parts: PipelineState) -> Result<Self, BuildError> {
        let PipelineState {
            metrics,
            alerts,
            silences,
            nflog,
            history,
            events,
            cluster,
            external_url,
        } = parts;
        let receivers = build_receivers(&config.receivers, config.template_set(), &metrics)?;
        metrics.initialize_for(
            receivers.iter().flat_map(|(name, list)| {
                list.iter().map(move |i| (name.as_str(), i.notifier.name()))
            }),
        );
        let trace = match &config.tracing {
            Some(t) => crate::trace_export::TraceExport::new(t)?.map(Arc::new),
            None => None,
        };
        Ok(Self {
            trace,
            receivers,
            inhibit_rules: config
                .inhibit_rules
                .iter()
                .map(InhibitRule::from_config)
                .collect(),
            time_intervals: TimeIntervals::new(&config.time_intervals),
            alerts,
            silences,
            nflog,
            history,
            events,
            cluster,
            external_url,
            inhibitions: Mutex::new(None),
            templates: config.template_set().clone(),
            metrics,
        })
    }

    fn inhibitions(&self, now: DateTime<Utc>) -> Arc<Inhibitions> {
        if self.inhibit_rules.is_empty() {
            // Nothing can inhibit: skip the snapshot of every alert.
            return Arc::new(Inhibitions::index(&[], &[], now));
        }
        let generation = self.alerts.generation();
        let mut cache = self.inhibitions.lock().expect("inhibition cache");
        if let Some(c) = cache.as_ref()
            && c.generation == generation
            && c.built.elapsed() < Duration::from_secs(1)
        {
            return c.index.clone();
        }
        let index = Arc::new(Inhibitions::index(
            &self.inhibit_rules,
            &self.alerts.snapshot(),
            now,
        ));
        *cache = Some(InhibitionCache {
            generation,
            built: Instant::now(),
            index: index.clone(),
        });
        index
    }

    /// Whether, and why, the route's time intervals silence it at `now`.
    fn muted_by_time(&self, flush: &Flush) -> Option<&'static str> {
        match self.time_mute(&flush.opts, flush.now)? {
            TimeMute::Muted(_) => Some("mute_time_interval"),
            TimeMute::Inactive(_) => Some("active_time_interval"),
        }
    }

    /// The time intervals that mute a route's notifications at `now`, as
    /// the API's `mutedBy` lists them: the `mute_time_intervals` that
    /// contain `now`, or every `active_time_intervals` name when none does.
    pub fn muted_by(&self, opts: &RouteOpts, now: DateTime<Utc>) -> Vec<String> {
        match self.time_mute(opts, now) {
            Some(TimeMute::Muted(names) | TimeMute::Inactive(names)) => names,
            None => Vec::new(),
        }
    }

    fn time_mute(&self, opts: &RouteOpts, now: DateTime<Utc>) -> Option<TimeMute> {
        let muting: Vec<String> = opts
            .mute_time_intervals
            .iter()
            .filter(|name| self.time_intervals.contains(name, now))
            .cloned()
            .collect();
        if !muting.is_empty() {
            return Some(TimeMute::Muted(muting));
        }
        let inactive = !opts.active_time_intervals.is_empty()
            && !opts
                .active_time_intervals
                .iter()
                .any(|name| self.time_intervals.contains(name, now));
        inactive.then(|| TimeMute::Inactive(opts.active_time_intervals.clone()))
    }

    /// The route's labels rendered against the group, as Alertmanager 0.34's
    /// dispatcher does; a label whose template fails is left out and logged.
    /// The route labels of a notification, rendered as Alertmanager 0.34
    /// does: against the whole flush (every alert of the group, before
    /// muting or `send_resolved` picks what an integration sends).
    fn route_labels(&self, flush: &Flush, msg: &Notification) -> LabelSet {
        if flush.opts.labels.is_empty() {
            return LabelSet::new();
        }
        let whole = Notification {
            alerts: flush.alerts.clone(),
            reason: None,
            route_labels: LabelSet::new(),
            ..msg.clone()
        };
        self.render_route_labels(&flush.opts.labels, &whole)
    }

    /// Renders route `labels` against `msg`'s group (notifications, and the
    /// `routeLabels` of `GET /api/v2/alerts/groups`). A label may use
    /// another through `{{ routeLabels "name" }}`, as in Alertmanager 0.34;
    /// each is rendered once, and a cycle is an error naming it.
    pub fn render_route_labels(
        &self,
        labels: &std::collections::BTreeMap<String, String>,
        msg: &Notification,
    ) -> LabelSet {
        if labels.is_empty() {
            return LabelSet::new();
        }
        let mut data = crate::template::Data::new(msg);
        // Route labels are rendered before a reason exists (Alertmanager's
        // ReasonUnknown).
        data.notification_reason = "unknown";
        let mut resolver = RouteLabelResolver {
            templates: &self.templates,
            raw: labels,
            data,
            stack: Vec::new(),
        };
        for name in labels.keys() {
            if let Err(e) = resolver.resolve(name) {
                tracing::error!(
                    group_key = %msg.group_key,
                    label = %name,
                    error = %e,
                    "failed to render route label"
                );
            }
        }
        resolver.data.route_labels
    }

    /// The route labels of a live aggregation group, rendered against
    /// `alerts` at `now` (no notification reason, as in Alertmanager).
    pub fn group_route_labels(
        &self,
        group: &crate::dispatch::group::AggregationGroup,
        alerts: &[Arc<Alert>],
        now: DateTime<Utc>,
    ) -> LabelSet {
        if group.opts.labels.is_empty() {
            return LabelSet::new();
        }
        let msg = Notification {
            receiver: group.opts.receiver.clone(),
            group_key: group.key.clone(),
            group_labels: group.labels.clone(),
            alerts: alerts.to_vec(),
            external_url: self.external_url.clone(),
            now,
            reason: None,
            route_labels: LabelSet::new(),
            fencing_token: None,
        };
        self.render_route_labels(&group.opts.labels, &msg)
    }

    /// Drops inhibited and silenced alerts, counting each as Alertmanager
    /// does; `muted` receives the dropped ones' hashes when events are on.
    fn unmuted(
        &self,
        alerts: &[Arc<Alert>],
        now: DateTime<Utc>,
        muted: &mut Vec<ev::GroupedAlert>,
    ) -> Vec<Arc<Alert>> {
        let inhibitions = self.inhibitions(now);
        let (mut inhibited, mut silenced) = (0, 0);
        let kept: Vec<Arc<Alert>> = alerts
            .iter()
            .filter(|a| {
                let Some((source, rule)) = inhibitions.inhibiting_rule(a) else {
                    return true;
                };
                tracing::debug!(alert = %a.fingerprint(), %source, inhibit_rule = rule.name, "alert inhibited");
                self.events.record(|| inhibition_event(a, source.0, rule));
                inhibited += 1;
                false
            })
            .filter(|a| {
                let by = self.silences.mutes(&a.labels, now);
                if by.is_empty() {
                    return true;
                }
                for id in &by {
                    let Some(silence) = self.events.is_on().then(|| self.silences.get(id)).flatten() else {
                        continue;
                    };
                    self.events.record(|| {
                        ev::EventData::SilenceMutedAlert(ev::SilenceMutedAlertEvent {
                            silence: ev::SilenceInfo::of(&silence),
                            muted_alert: ev::MutedAlert {
                                labels: ev::Labels::of(&a.labels),
                                fingerprint: a.fingerprint().0,
                            },
                        })
                    });
                }
                silenced += 1;
                false
            })
            .cloned()
            .collect();
        if self.events.is_on() && inhibited + silenced > 0 {
            let kept_set: std::collections::HashSet<_> =
                kept.iter().map(|a| a.fingerprint()).collect();
            muted.extend(
                alerts
                    .iter()
                    .filter(|a| !kept_set.contains(&a.fingerprint()))
                    .map(|a| ev::GroupedAlert::hash_only(&a.labels)),
            );
        }
        self.metrics.suppressed("inhibition", inhibited);
        self.metrics.suppressed("silence", silenced);
        kept
    }

    async fn deliver_flush(&self, flush: Flush) -> bool {
        if let Some(reason) = self.muted_by_time(&flush) {
            tracing::debug!(group_key = %flush.group_key, reason, "muted by a time interval");
            self.metrics.suppressed(reason, flush.alerts.len());
            return true;
        }
        let mut muted = Vec::new();
        let alerts = self.unmuted(&flush.alerts, flush.now, &mut muted);
        if alerts.is_empty() {
            return true;
        }
        let Some(integrations) = self.receivers.get(&flush.receiver) else {
            return true;
        };
        let mut sets = FlushSets::default();
        for a in &alerts {
            let fp = a.fingerprint().0;
            if a.resolved_at(flush.now) {
                sets.resolved.insert(fp);
            } else {
                sets.firing.insert(fp);
            }
        }
        let sends = integrations
            .iter()
            .map(|i| self.deliver_to(i, &flush, &alerts, &sets, &muted));
        futures_util::future::join_all(sends)
            .await
            .into_iter()
            .all(|ok| ok)
    }

    /// Dedup, send with retries, record. `true` when nothing is left to do.
    /// In a cluster, only the replica whose claim the cluster grants sends
    /// (see `crate::cluster`).
    async fn deliver_to(
        &self,
        integration: &Integration,
        flush: &Flush,
        alerts: &[Arc<Alert>],
        sets: &FlushSets,
        muted: &[ev::GroupedAlert],
    ) -> bool {
        let notifier = integration.notifier.as_ref();
        let key = NflogKey {
            group_key: flush.group_key.clone(),
            receiver: flush.receiver.clone(),
            integration: notifier.name().to_owned(),
            index: integration.index,
        };
        let Some(cluster) = &self.cluster else {
            return self
                .deliver_once(integration, flush, alerts, sets, muted, &key, None)
                .await;
        };
        // A claim held elsewhere is waited out (its holder may die), but
        // not for ever: the next flush looks again.
        let give_up = tokio::time::Instant::now() + 2 * cluster.claim_ttl();
        // "Stale" means this replica's log had not caught up; it has once
        // the claim was applied here. Again and again, it is ahead (sends
        // made without a quorum, not yet replicated): the next flush looks.
        let mut stale = 0;
        let mut stagger = Some(cluster.stagger(&key));
        loop {
            let entry = self.nflog.get(&key);
            if due(entry.as_ref(), sets, notifier, flush).is_none() {
                return true;
            }
            // Due: a replica ranked after others for this key waits its
            // turn once, then looks again (usually: sent meanwhile).
            if let Some(wait) = stagger.take().filter(|w| !w.is_zero()) {
                tokio::time::sleep(wait).await;
                continue;
            }
            let asked = tokio::time::Instant::now();
            match cluster.claim(&key, entry.map(|e| e.timestamp)).await {
                ClaimOutcome::Granted(token) => {
                    let held = HeldClaim::new(cluster, &key, token, asked);
                    return self
                        .deliver_once(integration, flush, alerts, sets, muted, &key, Some(held))
                        .await;
                }
                ClaimOutcome::Stale => {
                    stale += 1;
                    if stale >= 3 {
                        return false;
                    }
                }
                ClaimOutcome::Held(left) => {
                    // Looked at again soon: the holder's `Sent` usually
                    // lands well before its claim would lapse.
                    let wait = left.clamp(Duration::from_millis(50), Duration::from_millis(250));
                    let wake = tokio::time::Instant::now() + wait;
                    if wake > give_up {
                        return false;
                    }
                    tokio::time::sleep_until(wake).await;
                }
                ClaimOutcome::NoQuorum {
                    stagger: Some(wait),
                } => {
                    // Fail open, as Alertmanager: staggered by position,
                    // then decided again on what this replica knows.
                    tokio::time::sleep(wait).await;
                    return self
                        .deliver_once(integration, flush, alerts, sets, muted, &key, None)
                        .await;
                }
                ClaimOutcome::NoQuorum { stagger: None } => return false,
            }
        }
    }

    /// [`Pipeline::deliver_to`]'s decision, send and record, once; under
    /// the cluster's claim `token` when there is one.
    #[allow(clippy::too_many_arguments)]
    async fn deliver_once(
        &self,
        integration: &Integration,
        flush: &Flush,
        alerts: &[Arc<Alert>],
        sets: &FlushSets,
        muted: &[ev::GroupedAlert],
        key: &NflogKey,
        held: Option<HeldClaim<'_>>,
    ) -> bool {
        let notifier = integration.notifier.as_ref();
        let token = held.as_ref().map(|h| h.token);
        let claimed = self.cluster.as_ref().zip(token);
        self.metrics.nflog_queries.inc();
        let entry = self.nflog.get(key);
        let state = NotifyState::new(entry.as_ref().map(|e| e.state.clone()).unwrap_or_default());
        let Some(reason) = due(entry.as_ref(), sets, notifier, flush) else {
            if let Some((cluster, token)) = claimed {
                cluster.release(key, token).await;
            }
            return true;
        };
        let to_send: Vec<Arc<Alert>> = if notifier.send_resolved() {
            alerts.to_vec()
        } else {
            alerts
                .iter()
                .filter(|a| !a.resolved_at(flush.now))
                .cloned()
                .collect()
        };
        if !to_send.is_empty() {
            let count = to_send.len();
            let mut msg = Notification {
                receiver: flush.receiver.clone(),
                group_key: flush.group_key.clone(),
                group_labels: flush.group_labels.clone(),
                alerts: to_send,
                external_url: self.external_url.clone(),
                now: flush.now,
                reason: Some(reason),
                route_labels: LabelSet::new(),
                fencing_token: None,
            };
            msg.route_labels = self.route_labels(flush, &msg);
            msg.fencing_token = token;
            // Alertmanager's deadline for one flush's retries. Under a
            // claim, kept alive while each attempt runs.
            let deadline = flush.opts.group_interval.max(Duration::from_secs(10));
            let sent = retry(deadline, || async {
                let request = self.request(notifier, &msg, &state);
                match &held {
                    Some(held) => held.during(request).await,
                    None => request.await,
                }
            })
            .await;
            let failure = sent.as_ref().err().map(failure_reason);
            self.metrics
                .notified(notifier.name(), &flush.receiver, failure);
            self.record(flush, notifier.name(), count, reason, sent.as_ref().err())
                .await;
            if let Err(e) = sent {
                tracing::error!(
                    receiver = %flush.receiver,
                    integration = notifier.name(),
                    group_key = %flush.group_key,
                    error = %e,
                    "notification failed; the next flush tries again"
                );
                if let Some((cluster, token)) = claimed {
                    cluster.release(key, token).await;
                }
                return false;
            }
            tracing::debug!(
                receiver = %flush.receiver,
                integration = notifier.name(),
                group_key = %flush.group_key,
                reason = reason.as_str(),
                "notification sent"
            );
            self.events.record(|| {
                notification_event(flush, &msg.alerts, alerts, muted, reason, integration)
            });
        }
        // Logged even when only resolved alerts were withheld, so the next
        // dedup decision knows the receiver is up to date.
        let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        let entry = self
            .nflog
            .entry(key.clone(), sets.clone(), flush.now, state);
        if let Some(cluster) = &self.cluster {
            // Without a claim (fail-open) the token is 0: recorded, not fenced.
            let token = token.unwrap_or(0);
            if !cluster.sent(token, entry, &self.nflog).await {
                tracing::warn!(
                    group_key = %flush.group_key,
                    integration = notifier.name(),
                    "sent after this replica's claim lapsed and another took it: a possible duplicate"
                );
            }
        } else if let Err(e) = self.nflog.put(entry).await {
            self.metrics.nflog_query_errors.inc();
            tracing::error!(error = %e, "writing the notification log failed");
        }
        true
    }
}

/// Whether, and why, `notifier` needs a notification for this flush given
/// its last log entry (Alertmanager's dedup decision).
fn due(
    entry: Option<&crate::nflog::NflogEntry>,
    sets: &FlushSets,
    notifier: &dyn Notifier,
    flush: &Flush,
) -> Option<Reason> {
    needs_update(
        entry,
        sets,
        notifier.send_resolved(),
        flush.opts.repeat_interval,
        flush.now,
    )
}

/// Why a route's time intervals mute it, with the interval names.
enum TimeMute {
    Muted(Vec<String>),
    Inactive(Vec<String>),
}

/// Alertmanager's `reason` label for a failed notification (0.34 tells
/// authentication failures and rate limits apart from other 4xx).
fn failure_reason(e: &NotifyError) -> &'static str {
    match e.status() {
        Some(401 | 403) => "authError",
        Some(429) => "rateLimited",
        Some(s) if (400..500).contains(&s) => "clientError",
        Some(s) if s >= 500 => "serverError",
        _ => "other",
    }
}

impl Pipeline {
    /// One request to the integration, counted and timed.
    async fn request(
        &self,
        notifier: &dyn Notifier,
        msg: &Notification,
        state: &NotifyState,
    ) -> Result<(), NotifyError> {
        let label = self
            .metrics
            .integration_label(notifier.name(), &msg.receiver);
        self.metrics
            .notification_requests
            .get_or_create(&label)
            .inc();
        let started = Instant::now();
        let span = self.trace.as_ref().map(|t| {
            t.attempt(
                notifier.name(),
                &msg.receiver,
                &msg.group_key,
                msg.alerts.len(),
            )
        });
        let result = notifier.notify_with_state(msg, state).await;
        if let Some(span) = span {
            span.end(result.as_ref().err().map(ToString::to_string));
        }
        self.metrics
            .notification_latency
            .get_or_create(&label)
            .observe(started.elapsed().as_secs_f64());
        if result.is_err() {
            self.metrics
                .notification_requests_failed
                .get_or_create(&label)
                .inc();
        }
        result
    }

    async fn record(
        &self,
        flush: &Flush,
        integration: &str,
        alerts: usize,
        reason: Reason,
        error: Option<&NotifyError>,
    ) {
        let attempt = Attempt {
            time: flush.now,
            receiver: flush.receiver.clone(),
            integration: integration.to_owned(),
            group_key: flush.group_key.clone(),
            alerts,
            reason: reason.as_str().to_owned(),
            outcome: if error.is_some() {
                Outcome::Failure
            } else {
                Outcome::Success
            },
            error: error.map(ToString::to_string),
        };
        if let Err(e) = self.history.record(attempt).await {
            tracing::warn!(error = %e, "recording notification history failed");
        }
    }
}

/// What one integration answered to a test notification.
#[derive(Debug)]
pub struct TestOutcome {
    pub integration: &'static str,
    pub index: usize,
    pub result: Result<(), NotifyError>,
}

/// A test must answer the operator promptly, whatever the service does.
const TEST_SEND_TIMEOUT: Duration = Duration::from_secs(30);

impl Pipeline {
    /// Sends `msg` through every integration of `msg.receiver` once, now.
    /// No muting, no dedup, no retries and no notification-log entry: a test
    /// must neither be hidden by nor hide a real notification. Each attempt
    /// is recorded in history with reason `test`. `None`: no such receiver.
    pub async fn send_test(&self, msg: &Notification) -> Option<Vec<TestOutcome>> {
        let integrations = self.receivers.get(&msg.receiver)?;
        let sends = integrations.iter().map(|i| async move {
            let notifier = i.notifier.as_ref();
            let result = tokio::time::timeout(TEST_SEND_TIMEOUT, notifier.notify(msg))
                .await
                .unwrap_or_else(|_| {
                    Err(NotifyError::permanent(format!(
                        "no answer within {}s",
                        TEST_SEND_TIMEOUT.as_secs()
                    )))
                });
            TestOutcome {
                integration: notifier.name(),
                index: i.index,
                result,
            }
        });
        let outcomes = futures_util::future::join_all(sends).await;
        for o in &outcomes {
            let attempt = Attempt {
                time: msg.now,
                receiver: msg.receiver.clone(),
                integration: o.integration.to_owned(),
                group_key: msg.group_key.clone(),
                alerts: msg.alerts.len(),
                reason: "test".to_owned(),
                outcome: if o.result.is_ok() {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
                error: o.result.as_ref().err().map(ToString::to_string),
            };
            if let Err(e) = self.history.record(attempt).await {
                tracing::warn!(error = %e, "recording notification history failed");
            }
        }
        Some(outcomes)
    }
}

impl Deliver for Pipeline {
    fn deliver(&self, flush: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            if !self.events.is_on() {
                return self.deliver_flush(flush).await;
            }
            let resolved: Vec<Arc<Alert>> = flush
                .alerts
                .iter()
                .filter(|a| a.resolved_at(flush.now))
                .cloned()
                .collect();
            let info = ev::GroupInfo::new(&flush.group_key, &flush.group_labels, &flush.receiver);
            let now = flush.now;
            let done = self.deliver_flush(flush).await;
            // As Alertmanager: once the flush is done, its resolved alerts
            // leave the group.
            if done {
                for a in &resolved {
                    self.events.record(|| {
                        ev::EventData::AlertResolved(ev::GroupedAlertEvent {
                            alert: ev::GroupedAlert::of(a, now),
                            group_info: info.clone(),
                        })
                    });
                }
            }
            done
        })
    }

    fn task_panicked(&self, task: &str) {
        self.metrics.task_panicked(task);
    }

    fn grouped(&self, group: &crate::dispatch::AggregationGroup, alert: &Alert) {
        self.events.record(|| {
            ev::EventData::AlertGrouped(ev::GroupedAlertEvent {
                alert: ev::GroupedAlert::of(alert, chrono::Utc::now()),
                group_info: ev::GroupInfo::new(&group.key, &group.labels, &group.opts.receiver),
            })
        });
    }
}

fn inhibition_event(alert: &Alert, source: u64, rule: &InhibitRule) -> ev::EventData {
    let (sources, targets, equal) = rule.parts();
    let mut equal_labels = equal.to_vec();
    equal_labels.sort();
    ev::EventData::InhibitionMutedAlert(ev::InhibitionMutedAlertEvent {
        inhibit_rules: vec![ev::InhibitRuleInfo {
            source_matchers: sources.0.iter().map(ev::MatcherInfo::of).collect(),
            target_matchers: targets.0.iter().map(ev::MatcherInfo::of).collect(),
            equal_labels,
            name: rule.name.clone(),
        }],
        muted_alert: ev::MutedAlert {
            labels: ev::Labels::of(&alert.labels),
            fingerprint: alert.fingerprint().0,
        },
        inhibiting_fingerprints: vec![source],
    })
}

/// Alertmanager's `NotificationEvent` for one delivered notification.
fn notification_event(
    flush: &Flush,
    sent: &[Arc<Alert>],
    unmuted: &[Arc<Alert>],
    muted: &[ev::GroupedAlert],
    reason: Reason,
    integration: &Integration,
) -> ev::EventData {
    let (resolved, firing): (Vec<_>, Vec<_>) =
        unmuted.iter().partition(|a| a.resolved_at(flush.now));
    let hashes = |list: Vec<&Arc<Alert>>| {
        list.into_iter()
            .map(|a| ev::GroupedAlert::hash_only(&a.labels))
            .collect()
    };
    ev::EventData::Notification(Box::new(ev::NotificationEvent {
        alerts: sent
            .iter()
            .map(|a| ev::GroupedAlert::of(a, flush.now))
            .collect(),
        firing_alerts: hashes(firing),
        resolved_alerts: hashes(resolved),
        muted_alerts: muted.to_vec(),
        group_info: ev::GroupInfo::new(&flush.group_key, &flush.group_labels, &flush.receiver),
        repeat_interval: ev::ProtoDuration(flush.opts.repeat_interval),
        reason: Some(match reason {
            Reason::FirstNotification => "NOTIFY_REASON_FIRST_NOTIFICATION",
            Reason::NewAlertsInGroup => "NOTIFY_REASON_NEW_ALERTS_IN_GROUP",
            Reason::NewResolved => "NOTIFY_REASON_NEW_RESOLVED_ALERTS",
            Reason::AllResolved => "NOTIFY_REASON_ALL_ALERTS_RESOLVED",
            Reason::RepeatInterval => "NOTIFY_REASON_REPEAT_INTERVAL_ELAPSED",
        }),
        flush_id: 0,
        integration: ev::IntegrationInfo {
            name: integration.notifier.name().to_owned(),
            index: integration.index as u64,
        },
    }))
}

/// Renders route labels that may refer to each other: a label's references
/// (`routeLabels "x"`) are rendered first, so that its own render sees them
/// in `.RouteLabels`.
struct RouteLabelResolver<'a> {
    templates: &'a Templates,
    raw: &'a std::collections::BTreeMap<String, String>,
    /// Its `route_labels` holds the labels rendered so far.
    data: crate::template::Data,
    stack: Vec<String>,
}

impl RouteLabelResolver<'_> {
    fn resolve(&mut self, name: &str) -> Result<(), String> {
        if self.data.route_labels.get(name).is_some() {
            return Ok(());
        }
        let Some(text) = self.raw.get(name) else {
            return Ok(()); // an unknown label reads as ""
        };
        if self.stack.iter().any(|n| n == name) {
            let mut cycle = self.stack.clone();
            cycle.push(name.to_owned());
            return Err(format!(
                "route label cycle detected: {}",
                cycle.join(" -> ")
            ));
        }
        self.stack.push(name.to_owned());
        let mut result = Ok(());
        for dep in referenced_route_labels(text) {
            result = self.resolve(&dep);
            if result.is_err() {
                break;
            }
        }
        self.stack.pop();
        result?;
        let value = self
            .templates
            .render(text, crate::template::Flavor::Text, &self.data)
            .map_err(|e| e.to_string())?;
        self.data.route_labels.insert(name, &value);
        Ok(())
    }
}

/// The names a route label's template reads with `routeLabels "name"`.
fn referenced_route_labels(text: &str) -> Vec<String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"routeLabels\s+"((?:[^"\\]|\\.)*)""#).expect("valid regex")
    });
    RE.captures_iter(text).map(|c| c[1].to_owned()).collect()
}
