//! klaxon: a drop-in replacement for Prometheus Alertmanager.
//!
//! ```text
//! Prometheus ─POST /api/v2/alerts─▶ api ─▶ alert_store ─(subscription)─▶ dispatch
//! amctl / UI ─/api/v2/silences───▶ api ─▶ silence        route tree → aggregation groups
//!                                          │                            │ Flush
//!                                          │ storage (redb)             ▼
//!                                          └────────── notify: mute · dedup (nflog) · retry
//!                                                               ▼
//!                                                      integrations (webhook, …)
//! ```
//!
//! The modules below are listed in that order.

/// Strings deserialised without a copy when the input allows.
pub mod cow_str;
/// Label sets and Alertmanager-compatible fingerprints.
pub mod labels;
/// Label matchers (`=`, `!=`, `=~`, `!~`) and their text syntax.
pub mod matcher;
/// The alert model and Alertmanager's merge rules.
pub mod alert;
/// Loading the next alerts' memory ahead of a walk over many.
pub mod prefetch;
pub mod alert_set;
/// Shared copies of strings many alerts repeat.
pub mod intern;
/// alertmanager.yml: parsing, `${VAR}` expansion and validation.
pub mod config;
/// `--enable-feature`: Alertmanager's feature switches.
pub mod features;
/// The server's command line: Alertmanager 0.34's flags.
pub mod flags;
/// What the behaviour flags decide, as `App` takes it.
pub mod tuning;
/// High availability: replicas agreeing through Raft.
pub mod cluster;
/// Periodic housekeeping on tokio's clock.
pub mod periodic;
/// Long-lived tasks restarted (and counted) after a panic.
pub mod supervise;
/// The HTTP API (Alertmanager v2, klaxon's own) and operations endpoints.
pub mod api;
/// The web UI, embedded in the binary.
pub mod ui;
/// All known alerts, merged, persisted in batches, published to dispatch.
pub mod alert_store;
/// `--alerts.per-alertname-limit`: a bucket of alerts per alert name.
pub mod alertname_limit;
/// Silences: CRUD, matching and durability.
pub mod silence;
/// `--silences.max-silences`, `--silences.max-silence-size-bytes`, `--log.silences`.
pub mod silence_limits;
/// The routing tree and aggregation groups with their timers.
pub mod dispatch;
/// The notification pipeline: mute, dedup, retry, record.
pub mod notify;
/// Inhibit rules: firing sources mute matching targets.
pub mod inhibit;
/// Time intervals: which named `time_intervals` contain `now`.
pub mod time_interval;
/// The notification log and the dedup decision.
pub mod nflog;
/// The notification data model shared by integrations and templates.
pub mod notification;
/// Go templates and handlebars layouts over one data model.
pub mod template;
/// Notifiers: render, send and classify (webhook, …).
pub mod integrations;
/// Secrets out of error texts, in every form a server may echo them.
pub mod secrets;
#[cfg(test)]
mod parser_fuzz;
/// Every delivery attempt, for users (klaxon's own API and UI).
pub mod history;
/// Firing alerts and deliveries over the last hours, for the UI's timelines.
pub mod timeline;
/// Metrics with Alertmanager's names.
pub mod metrics;
/// The embedded store (redb; converts an earlier klaxon's sled store).
pub mod storage;
/// The injectable wall clock.
pub mod clock;
/// Version, revision, branch and build date recorded at build time.
pub mod build_info;
/// Log lines in Alertmanager's logfmt and JSON formats.
pub mod logging;
/// `--web.config.file`: TLS, basic auth and headers for the listener.
pub mod web;
/// Builds, runs, reloads and stops everything.
pub mod app;
/// `http_config` to HTTP client, for integrations and amctl alike.
pub mod http_client;
/// Serving a router with connection limits and header timeouts.
pub mod http_server;
/// `tls_config.server_name`: certificates checked against a given name.
pub mod tls_server_name;
/// `tracing:`: notification attempts as OTLP spans.
pub mod trace_export;
/// Alertmanager's event recorder: structured events to files, stdout and webhooks.
pub mod event_recorder;
/// A typed API v2 client (amctl, tests).
pub mod client;
/// amctl's commands, one module per command group.
pub mod cli;
