//! klaxon: a drop-in replacement for Prometheus Alertmanager.
//!
//! ```text
//! Prometheus ─POST /api/v2/alerts─▶ api ─▶ alert_store ─▶ dispatch (route tree, groups)
//! amctl / UI ─/api/v2/silences───▶ api ─▶ silence          │
//!                                          │ storage (sled)  ▼
//!                                          └──────────── notify: mute, dedup, retry ─▶ integrations
//! ```
//!
//! The modules below are listed in that order.

/// The alert model and Alertmanager's merge rules.
pub mod alert;
/// All known alerts, merged, persisted in batches.
pub mod alert_store;
/// The HTTP API (Alertmanager v2) and operations endpoints.
pub mod api;
/// Builds, runs, reloads and stops everything.
pub mod app;
/// The injectable wall clock.
pub mod clock;
/// alertmanager.yml: parsing, `${VAR}` expansion and validation.
pub mod config;
/// The routing tree (and, later, aggregation groups).
pub mod dispatch;
/// Inhibit rules: firing sources mute matching targets.
pub mod inhibit;
/// Notifiers: render, send and classify (webhook, ...).
pub mod integrations;
/// Label sets and Alertmanager-compatible fingerprints.
pub mod labels;
/// Label matchers (`=`, `!=`, `=~`, `!~`) and their text syntax.
pub mod matcher;
/// Metrics with Alertmanager's names.
pub mod metrics;
/// The notification pipeline: retry (mute and dedup to come).
pub mod notify;
/// Silences: CRUD, matching and durability.
pub mod silence;
/// The embedded sled store; the only module that names sled.
pub mod storage;
