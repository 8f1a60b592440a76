//! The notification pipeline between a flushed aggregation group and the
//! integrations: `pipeline` (mute, dedup, send, record) and the one retry
//! loop every integration shares.

/// Mute, dedup, send with retries, record: `Pipeline::deliver`.
mod held_claim;
pub mod pipeline;
/// The one backoff loop shared by every integration.
pub mod retry;
