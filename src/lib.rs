//! klaxon: a drop-in replacement for Prometheus Alertmanager.
pub mod labels;
pub mod matcher;
pub mod config;
