//! klaxon: a drop-in replacement for Prometheus Alertmanager.
pub mod config;
pub mod labels;
pub mod matcher;
