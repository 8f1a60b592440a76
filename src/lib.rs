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

/// Label sets and Alertmanager-compatible fingerprints.
pub mod labels;
/// Label matchers (`=`, `!=`, `=~`, `!~`) and their text syntax.
pub mod matcher;
/// The alert model and Alertmanager's merge rules.
pub mod alert;
/// alertmanager.yml: parsing, `${VAR}` expansion and validation.
pub mod config;
/// The HTTP API (Alertmanager v2) and operations endpoints.
pub mod api;
/// All known alerts, merged, persisted in batches.
pub mod alert_store;
/// Silences: CRUD, matching and durability.
pub mod silence;
/// The routing tree (and, later, aggregation groups).
pub mod dispatch;
/// Metrics with Alertmanager's names.
pub mod metrics;
/// The embedded sled store; the only module that names sled.
pub mod storage;
/// The injectable wall clock.
pub mod clock;
/// Builds, runs, reloads and stops everything.
pub mod app;
