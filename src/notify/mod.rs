//! The notification pipeline between a flushed aggregation group and the
//! integrations. For now only its retry step exists.

/// The one backoff loop shared by every integration.
pub mod retry;
