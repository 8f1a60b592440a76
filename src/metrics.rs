//! Prometheus metrics with Alertmanager's names, owned by the `App` (no
//! global registry, so two apps can run in one process).

pub mod exposition;

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub handler: String,
    pub method: String,
}

/// A label value as the text formats need it: prometheus-client writes
/// values as given, and a group key is full of quotes.
fn escaped(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return value.into();
    }
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .into()
}

/// `alertmanager_alerts`: the state, and the aggregation group's key with
/// `--enable-feature=group-key-in-metrics` (then one series per group).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct AlertStateLabel {
    pub state: String,
    pub group_key: Option<String>,
}

impl EncodeLabelSet for AlertStateLabel {
    fn encode(&self, mut encoder: LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("state", self.state.as_str()).encode(encoder.encode_label())?;
        if let Some(k) = &self.group_key {
            ("group_key", escaped(k).as_ref()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// A notification series: the integration, and the receiver's name with
/// `--enable-feature=receiver-name-in-metrics` (Alertmanager 0.34's
/// `receiver_name` label; absent, not empty, without the feature).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct IntegrationLabel {
    pub integration: String,
    pub receiver_name: Option<String>,
}

impl EncodeLabelSet for IntegrationLabel {
    fn encode(&self, mut encoder: LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("integration", self.integration.as_str()).encode(encoder.encode_label())?;
        if let Some(r) = &self.receiver_name {
            ("receiver_name", escaped(r).as_ref()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// A failed-notification series: [`IntegrationLabel`] and the reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct FailureLabels {
    pub integration: IntegrationLabel,
    /// `clientError`, `serverError`, `authError`, … as Alertmanager names them.
    pub reason: String,
}

impl EncodeLabelSet for FailureLabels {
    fn encode(&self, mut encoder: LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("integration", self.integration.integration.as_str()).encode(encoder.encode_label())?;
        if let Some(r) = &self.integration.receiver_name {
            ("receiver_name", escaped(r).as_ref()).encode(encoder.encode_label())?;
        }
        ("reason", self.reason.as_str()).encode(encoder.encode_label())
    }
}

/// Which field of which integration was cut to the service's limit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TruncationLabels {
    pub integration: String,
    pub field: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
    branch: String,
    goversion: String,
}

/// Alertmanager 0.34's `reason` values of `alertmanager_notifications_failed_total`.
pub const FAILURE_REASONS: &[&str] = &[
    "other",
    "clientError",
    "serverError",
    "contextCanceled",
    "contextDeadlineExceeded",
    "authError",
    "rateLimited",
];

pub struct Metrics {
    /// `--enable-feature=receiver-name-in-metrics`.
    receiver_name_in_metrics: bool,
    /// `--enable-feature=group-key-in-metrics`.
    pub group_key_in_metrics: bool,
    pub registry: Registry,
    pub alerts: Family<AlertStateLabel, Gauge>,
    pub alerts_received: Family<StatusLabel, Counter>,
    pub alerts_invalid: Counter,
    pub silences: Family<StateLabel, Gauge>,
    pub config_hash: Gauge<f64, AtomicU64>,
    pub config_last_reload_successful: Gauge,
    pub config_last_reload_success_timestamp: Gauge<f64, AtomicU64>,
    pub receivers: Gauge,
    pub http_request_duration: Family<HttpLabels, Histogram>,
    pub notifications: Family<IntegrationLabel, Counter>,
    pub notifications_failed: Family<FailureLabels, Counter>,
    pub notification_requests: Family<IntegrationLabel, Counter>,
    pub notification_requests_failed: Family<IntegrationLabel, Counter>,
    pub notification_latency: Family<IntegrationLabel, Histogram>,
    pub notifications_suppressed: Family<ReasonLabel, Counter>,
    pub aggregation_groups: Gauge,
    /// klaxon's own: alerts written to the store since start.
    pub alerts_persisted: Gauge,
    /// klaxon's own: alerts held, resolved ones included, until GC.
    pub alerts_stored: Gauge,
    /// klaxon's own: fields cut to a service's documented length limit.
    pub notification_truncations: Family<TruncationLabels, Counter>,
    /// klaxon's own: templates that failed to render, so that the default
    /// layout went out instead.
    pub template_render_failures: Counter,
    /// Notification-log lookups (one per dedup decision).
    pub nflog_queries: Counter,
    /// Notification-log writes that failed.
    pub nflog_query_errors: Counter,
    /// klaxon's own: whether the store can write (1) or not (0).
    pub storage_healthy: Gauge,
    /// klaxon's own: store writes that failed, and records given up on
    /// while it could not write (set from the store's counts at scrape).
    pub storage_write_failures: Counter,
    pub storage_dropped_writes: Counter,
    /// klaxon's own: connections open on the API listeners, and those
    /// refused over `--web.max-connections`.
    pub http_connections_open: Gauge,
    pub http_connections_refused: Counter,
    /// Supervised tasks that panicked and were recovered, by kind.
    pub task_panics: Family<DynamicLabels, Counter>,
    /// Garbage collections of the notification log, and failed ones.
    pub nflog_maintenance: Counter,
    pub nflog_maintenance_errors: Counter,
    /// The metrics of Alertmanager's limit flags.
    pub limits: LimitMetrics,
    /// The event recorder's (registered with `--enable-feature=event-recorder`).
    pub events: EventMetrics,
    /// High availability: Alertmanager's cluster metrics and klaxon's.
    pub cluster: ClusterMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::for_features(&crate::features::Features::default())
    }

    /// The metrics, with the labels `--enable-feature` adds.
    pub fn for_features(features: &crate::features::Features) -> Self {
        let mut registry = Registry::default();
        let alerts = Family::<AlertStateLabel, Gauge>::default();
        registry.register(
            "alertmanager_alerts",
            "How many alerts by state.",
            alerts.clone(),
        );
        let alerts_received = Family::<StatusLabel, Counter>::default();
        registry.register(
            "alertmanager_alerts_received",
            "The total number of received alerts.",
            alerts_received.clone(),
        );
        let alerts_invalid = Counter::default();
        registry.register(
            "alertmanager_alerts_invalid",
            "The total number of received alerts that were invalid.",
            alerts_invalid.clone(),
        );
        let silences = Family::<StateLabel, Gauge>::default();
        registry.register(
            "alertmanager_silences",
            "How many silences by state.",
            silences.clone(),
        );
        let config_hash = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "alertmanager_config_hash",
            "Hash of the currently loaded alertmanager configuration.",
            config_hash.clone(),
        );
        let config_last_reload_successful = Gauge::default();
        registry.register(
            "alertmanager_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            config_last_reload_successful.clone(),
        );
        let config_last_reload_success_timestamp = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "alertmanager_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            config_last_reload_success_timestamp.clone(),
        );
        let receivers = Gauge::default();
        registry.register(
            "alertmanager_receivers",
            "Number of configured receivers.",
            receivers.clone(),
        );
        let http_request_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 4.0, 10))
        });
        registry.register(
            "alertmanager_http_request_duration_seconds",
            "Histogram of latencies for HTTP requests.",
            http_request_duration.clone(),
        );
        let cluster = ClusterMetrics::register(&mut registry);
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: crate::build_info::VERSION.into(),
                revision: crate::build_info::REVISION.into(),
                branch: crate::build_info::BRANCH.into(),
                goversion: crate::build_info::RUSTC_VERSION.into(),
            })
            .set(1);
        registry.register(
            "alertmanager_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, and goversion from which alertmanager was built.",
            build_info,
        );
        let alerts_persisted = Gauge::default();
        registry.register(
            "klaxon_alerts_persisted",
            "Alerts written to the store since start (group-committed).",
            alerts_persisted.clone(),
        );
        let notifications = Family::<IntegrationLabel, Counter>::default();
        registry.register(
            "alertmanager_notifications",
            "The total number of attempted notifications.",
            notifications.clone(),
        );
        let notifications_failed = Family::<FailureLabels, Counter>::default();
        registry.register(
            "alertmanager_notifications_failed",
            "The total number of failed notifications.",
            notifications_failed.clone(),
        );
        let notification_requests = Family::<IntegrationLabel, Counter>::default();
        registry.register(
            "alertmanager_notification_requests",
            "The total number of attempted notification requests.",
            notification_requests.clone(),
        );
        let notification_requests_failed = Family::<IntegrationLabel, Counter>::default();
        registry.register(
            "alertmanager_notification_requests_failed",
            "The total number of failed notification requests.",
            notification_requests_failed.clone(),
        );
        let notification_latency =
            Family::<IntegrationLabel, Histogram>::new_with_constructor(|| {
                Histogram::new([1.0, 5.0, 10.0, 15.0, 20.0])
            });
        registry.register(
            "alertmanager_notification_latency_seconds",
            "The latency of notifications in seconds.",
            notification_latency.clone(),
        );
        let notifications_suppressed = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "alertmanager_notifications_suppressed",
            "The total number of notifications suppressed for being silenced, inhibited, outside of active time intervals or within muted time intervals.",
            notifications_suppressed.clone(),
        );
        let aggregation_groups = Gauge::default();
        registry.register(
            "alertmanager_dispatcher_aggregation_groups",
            "Number of active aggregation groups",
            aggregation_groups.clone(),
        );
        let alerts_stored = Gauge::default();
        registry.register(
            "klaxon_alerts_stored",
            "Alerts held in memory and in the store, resolved ones included until GC.",
            alerts_stored.clone(),
        );
        let notification_truncations = Family::<TruncationLabels, Counter>::default();
        registry.register(
            "klaxon_notification_truncations",
            "Notification fields truncated to the service's length limit, by integration and field.",
            notification_truncations.clone(),
        );
        let template_render_failures = Counter::default();
        registry.register(
            "klaxon_template_render_failures",
            "Notification templates that failed to render; the default layout was sent instead.",
            template_render_failures.clone(),
        );
        let nflog_queries = Counter::default();
        registry.register(
            "alertmanager_nflog_queries",
            "Number of notification log queries were received.",
            nflog_queries.clone(),
        );
        let storage_healthy = Gauge::default();
        registry.register(
            "klaxon_storage_healthy",
            "Whether the store can write (1) or klaxon serves from memory until it recovers (0).",
            storage_healthy.clone(),
        );
        let storage_write_failures = Counter::default();
        registry.register(
            "klaxon_storage_write_failures",
            "Writes to the store that failed (a full disk, an I/O error).",
            storage_write_failures.clone(),
        );
        let storage_dropped_writes = Counter::default();
        registry.register(
            "klaxon_storage_dropped_writes",
            "Records given up on while the store could not write (notification history beyond its queue).",
            storage_dropped_writes.clone(),
        );
        let http_connections_open = Gauge::default();
        registry.register(
            "klaxon_http_connections_open",
            "Connections open on the API listeners.",
            http_connections_open.clone(),
        );
        let http_connections_refused = Counter::default();
        registry.register(
            "klaxon_http_connections_refused",
            "Connections answered 503 and closed because --web.max-connections were open.",
            http_connections_refused.clone(),
        );
        let task_panics = Family::<DynamicLabels, Counter>::default();
        registry.register(
            "klaxon_task_panics",
            "Supervised tasks that panicked and were recovered, by task (aggregation_group: the group flushes again).",
            task_panics.clone(),
        );
        let nflog_query_errors = Counter::default();
        registry.register(
            "alertmanager_nflog_query_errors",
            "Number notification log received queries that failed.",
            nflog_query_errors.clone(),
        );
        let nflog_maintenance = Counter::default();
        registry.register(
            "alertmanager_nflog_maintenance",
            "How many maintenances were executed for the notification log.",
            nflog_maintenance.clone(),
        );
        let nflog_maintenance_errors = Counter::default();
        registry.register(
            "alertmanager_nflog_maintenance_errors",
            "How many maintenances were executed for the notification log that failed.",
            nflog_maintenance_errors.clone(),
        );
        let limits = LimitMetrics::register(&mut registry, features.alert_names_in_metrics);
        // As in Alertmanager, only a running recorder has metrics.
        let events = if features.event_recorder {
            EventMetrics::register(&mut registry)
        } else {
            EventMetrics::default()
        };
        // Alertmanager exports every integration's series from the start,
        // at zero, so a dashboard's rate() has a baseline before a failure.
        let metrics = Self {
            limits,
            events,
            cluster,
            nflog_queries,
            nflog_query_errors,
            task_panics,
            storage_healthy,
            storage_write_failures,
            storage_dropped_writes,
            http_connections_open,
            http_connections_refused,
            nflog_maintenance,
            nflog_maintenance_errors,
            notification_truncations,
            template_render_failures,
            notifications,
            notifications_failed,
            notification_requests,
            notification_requests_failed,
            notification_latency,
            notifications_suppressed,
            aggregation_groups,
            alerts_stored,
            registry,
            alerts,
            alerts_received,
            alerts_invalid,
            silences,
            config_hash,
            config_last_reload_successful,
            config_last_reload_success_timestamp,
            receivers,
            http_request_duration,
            alerts_persisted,
            receiver_name_in_metrics: features.receiver_name_in_metrics,
            group_key_in_metrics: features.group_key_in_metrics,
        };
        if !metrics.receiver_name_in_metrics {
            metrics.init_series(
                crate::config::INTEGRATION_KINDS
                    .iter()
                    .map(|(_, kind)| metrics.integration_label(kind, "")),
            );
        }
        metrics
    }

    /// The series of one integration of one receiver.
    pub fn integration_label(&self, integration: &str, receiver: &str) -> IntegrationLabel {
        IntegrationLabel {
            integration: integration.to_owned(),
            receiver_name: self.receiver_name_in_metrics.then(|| receiver.to_owned()),
        }
    }

    /// Creates `labels`' notification series at zero, as Alertmanager does
    /// so that a dashboard's `rate()` has a baseline before a failure.
    fn init_series(&self, labels: impl Iterator<Item = IntegrationLabel>) {
        for label in labels {
            let _ = self.notifications.get_or_create(&label);
            let _ = self.notification_requests.get_or_create(&label);
            let _ = self.notification_requests_failed.get_or_create(&label);
            let _ = self.notification_latency.get_or_create(&label);
            for reason in FAILURE_REASONS {
                let _ = self.notifications_failed.get_or_create(&FailureLabels {
                    integration: label.clone(),
                    reason: (*reason).to_owned(),
                });
            }
        }
    }

    /// With `receiver-name-in-metrics`, the series of the running config's
    /// receivers only (a reload drops renamed ones), as Alertmanager does.
    pub fn initialize_for<'a>(&self, integrations: impl Iterator<Item = (&'a str, &'a str)>) {
        if !self.receiver_name_in_metrics {
            return;
        }
        self.notifications.clear();
        self.notification_requests.clear();
        self.notification_requests_failed.clear();
        self.notification_latency.clear();
        self.notifications_failed.clear();
        self.init_series(
            integrations.map(|(receiver, kind)| self.integration_label(kind, receiver)),
        );
    }

    /// Counts one integration's notification (after its retries).
    pub fn notified(&self, integration: &str, receiver: &str, failure: Option<&str>) {
        let label = self.integration_label(integration, receiver);
        self.notifications.get_or_create(&label).inc();
        if let Some(reason) = failure {
            self.notifications_failed
                .get_or_create(&FailureLabels {
                    integration: label,
                    reason: reason.to_owned(),
                })
                .inc();
        }
    }

    /// Counts one field cut to an integration's length limit.
    pub fn truncated(&self, integration: &str, field: &str) {
        self.notification_truncations
            .get_or_create(&TruncationLabels {
                integration: integration.to_owned(),
                field: field.to_owned(),
            })
            .inc();
    }

    /// A supervised task panicked and was started again.
    pub fn task_panicked(&self, task: &str) {
        self.task_panics
            .get_or_create(&vec![("task", task.to_owned())])
            .inc();
    }

    pub fn suppressed(&self, reason: &str, n: usize) {
        self.notifications_suppressed
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc_by(n as u64);
    }

    /// Every family in OpenMetrics 1.0 text.
    pub fn encode_openmetrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Every family in Prometheus' 0.0.4 text format.
    pub fn encode(&self) -> String {
        exposition::to_text_0_0_4(&self.encode_openmetrics())
    }
}

/// Labels chosen at run time: `alertname` only with the
/// `alert-names-in-metrics` feature, `method="get"` as a constant.
pub type DynamicLabels = Vec<(&'static str, String)>;

/// What `--alerts.per-alertname-limit` and `--web.get-concurrency` count,
/// under Alertmanager's names.
#[derive(Clone, Default)]
pub struct LimitMetrics {
    pub alerts_per_alert_limit: Gauge,
    /// Without `alert-names-in-metrics`: one series with no labels.
    pub alerts_limited: Counter,
    /// With `alert-names-in-metrics`: a series per alert name.
    pub alerts_limited_by_name: Family<DynamicLabels, Counter>,
    alert_names: bool,
    pub http_requests_in_flight: Family<DynamicLabels, Gauge>,
    pub http_concurrency_limit_exceeded: Family<DynamicLabels, Counter>,
}

impl LimitMetrics {
    fn register(registry: &mut Registry, alert_names: bool) -> Self {
        let m = Self {
            alert_names,
            ..Self::default()
        };
        registry.register(
            "alertmanager_alerts_per_alert_limit",
            "Current limit on number of alerts per alert name",
            m.alerts_per_alert_limit.clone(),
        );
        let help = "Total number of alerts that were dropped due to per alert name limit";
        if alert_names {
            registry.register(
                "alertmanager_alerts_limited",
                help,
                m.alerts_limited_by_name.clone(),
            );
        } else {
            registry.register(
                "alertmanager_alerts_limited",
                help,
                m.alerts_limited.clone(),
            );
        }
        registry.register(
            "alertmanager_http_requests_in_flight",
            "Current number of HTTP requests being processed.",
            m.http_requests_in_flight.clone(),
        );
        registry.register(
            "alertmanager_http_concurrency_limit_exceeded",
            "Total number of times an HTTP request failed because the concurrency limit was reached.",
            m.http_concurrency_limit_exceeded.clone(),
        );
        // Alertmanager shows both GET series from the start.
        drop(m.http_requests_in_flight.get_or_create(&get_method()));
        drop(
            m.http_concurrency_limit_exceeded
                .get_or_create(&get_method()),
        );
        m
    }

    /// Counts alerts dropped by the per-alertname limit.
    pub fn limited(&self, names: &[String]) {
        for name in names {
            if self.alert_names {
                self.alerts_limited_by_name
                    .get_or_create(&vec![("alertname", name.clone())])
                    .inc();
            } else {
                self.alerts_limited.inc();
            }
        }
    }
}

/// The cluster's metrics: Alertmanager's names where it has them, and
/// klaxon's for the claims (see `crate::cluster`).
#[derive(Clone, Default, Debug)]
pub struct ClusterMetrics {
    pub enabled: Gauge,
    pub members: Gauge,
    pub position: Gauge,
    pub leader: Gauge,
    pub term: Gauge,
    pub claims: Family<DynamicLabels, Counter>,
    pub fenced: Counter,
    pub takeovers: Counter,
    pub fail_open: Counter,
    pub config_mismatch: Gauge,
    pub refused: Family<DynamicLabels, Counter>,
    pub proposals: Family<DynamicLabels, Counter>,
}

impl ClusterMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "alertmanager_cluster_enabled",
            "Indicates whether the clustering is enabled or not.",
            m.enabled.clone(),
        );
        registry.register(
            "alertmanager_cluster_members",
            "Number indicating current number of members in cluster.",
            m.members.clone(),
        );
        registry.register(
            "alertmanager_peer_position",
            "Position the Alertmanager instance believes it's in. The position determines a peer's behavior in the cluster.",
            m.position.clone(),
        );
        registry.register(
            "klaxon_cluster_leader",
            "1 while this replica leads the cluster's Raft group.",
            m.leader.clone(),
        );
        registry.register(
            "klaxon_cluster_term",
            "The Raft term this replica is in.",
            m.term.clone(),
        );
        registry.register(
            "klaxon_cluster_claims",
            "Claims to send a notification, by result: granted, held (another replica sends), stale (already sent), no_quorum.",
            m.claims.clone(),
        );
        registry.register(
            "klaxon_cluster_fenced",
            "Notifications sent after their claim had lapsed and been taken: possible duplicates.",
            m.fenced.clone(),
        );
        registry.register(
            "klaxon_cluster_takeovers",
            "Claims granted over another replica's lapsed claim.",
            m.takeovers.clone(),
        );
        registry.register(
            "klaxon_cluster_failopen_notifications",
            "Notifications sent without a quorum (fail-open).",
            m.fail_open.clone(),
        );
        registry.register(
            "klaxon_cluster_config_mismatch",
            "How many other replicas run an alertmanager.yml that differs from this one's.",
            m.config_mismatch.clone(),
        );
        registry.register(
            "klaxon_cluster_refused_messages",
            "Messages on the cluster port refused, by reason: label (another --cluster.label), target (meant for another replica), unknown_node (not a member), malformed (not the message it should be).",
            m.refused.clone(),
        );
        registry.register(
            "klaxon_cluster_proposals",
            "Entries this replica proposed to the replicated log, by command: claim, renew, sent, release, silences.",
            m.proposals.clone(),
        );
        for result in ["granted", "held", "stale", "no_quorum"] {
            drop(m.claims.get_or_create(&vec![("result", result.to_owned())]));
        }
        for reason in ["label", "target", "unknown_node", "malformed"] {
            drop(
                m.refused
                    .get_or_create(&vec![("reason", reason.to_owned())]),
            );
        }
        m
    }

    pub fn refused(&self, reason: &str) {
        self.refused
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }

    pub fn proposed(&self, command: &str) {
        self.proposals
            .get_or_create(&vec![("command", command.to_owned())])
            .inc();
    }

    pub fn claim(&self, result: &str) {
        self.claims
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }
}

/// What the event recorder counts, under Alertmanager 0.34's names. Output
/// names are paths and URLs, escaped for the text formats here.
#[derive(Clone, Default)]
pub struct EventMetrics {
    pub recorded: Family<DynamicLabels, Counter>,
    pub bytes_written: Family<DynamicLabels, Counter>,
    pub dropped: Family<DynamicLabels, Counter>,
    pub serialize_errors: Family<DynamicLabels, Counter>,
    pub output_drops: Family<DynamicLabels, Counter>,
    pub kafka_produce_errors: Family<DynamicLabels, Counter>,
    pub queue_length: Gauge,
}

impl EventMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "alertmanager_events_recorded",
            "The total number of events recorded by the event recorder.",
            m.recorded.clone(),
        );
        registry.register(
            "alertmanager_event_recorder_bytes_written",
            "The total number of bytes written to the event recorder.",
            m.bytes_written.clone(),
        );
        registry.register(
            "alertmanager_events_dropped",
            "The total number of events dropped due to a full queue.",
            m.dropped.clone(),
        );
        registry.register(
            "alertmanager_event_serialize_errors",
            "The total number of events that failed to serialize.",
            m.serialize_errors.clone(),
        );
        registry.register(
            "alertmanager_event_output_drops",
            "The total number of events dropped by an output due to a full local buffer.",
            m.output_drops.clone(),
        );
        registry.register(
            "alertmanager_event_kafka_produce_errors",
            "The total number of Kafka produce attempts that failed.",
            m.kafka_produce_errors.clone(),
        );
        registry.register(
            "alertmanager_event_recorder_queue_length",
            "Current number of events waiting in the event recorder write queue.",
            m.queue_length.clone(),
        );
        m
    }

    /// One delivery of an event to an output: `result` is `success` or `error`.
    pub fn written(&self, event_type: &'static str, output: &str, bytes: Option<usize>) {
        let output = escaped(output).into_owned();
        let result = if bytes.is_some() { "success" } else { "error" };
        self.recorded
            .get_or_create(&vec![
                ("event_type", event_type.to_owned()),
                ("output", output.clone()),
                ("result", result.to_owned()),
            ])
            .inc();
        if let Some(n) = bytes {
            self.bytes_written
                .get_or_create(&vec![
                    ("event_type", event_type.to_owned()),
                    ("output", output),
                ])
                .inc_by(n as u64);
        }
    }

    /// An event dropped because the recorder's queue was full.
    pub fn dropped(&self, event_type: &'static str) {
        self.dropped
            .get_or_create(&vec![("event_type", event_type.to_owned())])
            .inc();
    }

    /// An event an output dropped because its own buffer was full.
    pub fn output_dropped(&self, output: &str) {
        self.output_drops
            .get_or_create(&vec![("output", escaped(output).into_owned())])
            .inc();
    }
}

/// `method="get"`, the constant label of the concurrency metrics.
pub fn get_method() -> DynamicLabels {
    vec![("method", "get".to_owned())]
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    /// Alertmanager's `alertmanager_alerts_limited_total` has an
    /// `alertname` label only with `alert-names-in-metrics`.
    #[test]
    fn the_limited_counter_is_labelled_by_alert_name_only_with_its_feature() {
        let plain = Metrics::new();
        plain.limits.limited(&["A".into(), "A".into()]);
        assert!(
            plain
                .encode()
                .contains("\nalertmanager_alerts_limited_total 2\n")
        );
        let features = crate::features::Features::parse("alert-names-in-metrics").unwrap();
        let named = Metrics::for_features(&features);
        named.limits.limited(&["A".into()]);
        assert!(
            named
                .encode()
                .contains("\nalertmanager_alerts_limited_total{alertname=\"A\"} 1\n")
        );
    }
}
