//! What the replicas agree on: the commands of the replicated log.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::nflog::{NflogEntry, NflogKey};
use crate::silence::Silence;

/// A replica's Raft identity: random, made at its first start and kept
/// in its store, so a replica whose data was wiped comes back as a new
/// member and never votes with a log it lost.
pub type NodeId = u64;

/// One entry of the replicated log. Applying never reads a clock, so every
/// replica decides the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Silences as decided on some replica (created, updated, expired);
    /// each replica keeps the newest version of each (by `updated_at`).
    PutSilences(Vec<Silence>),
    /// `node` asks to send the notification for `key`, believing the last
    /// one sent at `expect` (none: never). Granted when that still holds
    /// and no other replica's claim is live; a claim is live unless it is
    /// `lapsed` (the proposer saw it go `ttl_ms` without news, on its own
    /// monotonic clock). Its fencing token is [`token`] of its place in
    /// the log.
    Claim {
        key: NflogKey,
        expect: Option<DateTime<Utc>>,
        node: NodeId,
        #[serde(default)]
        lapsed: Option<u64>,
        ttl_ms: u64,
    },
    /// The holder of claim `token` is still sending (its attempts outlast
    /// the claim's ttl): every replica counts the claim's life again.
    Renew { key: NflogKey, token: u64 },
    /// The notification under claim `token` went out: its log entry.
    /// Recorded whatever the claim's fate (it did go out); answered
    /// `Fenced` when the claim was no longer the token's.
    Sent { token: u64, entry: NflogEntry },
    /// The send under claim `token` failed: another may claim at once.
    Release { key: NflogKey, token: u64 },
    /// Commands proposed together, applied in order (never nested).
    Batch(Vec<Command>),
}

impl Command {
    /// Its name in metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::PutSilences(_) => "silences",
            Command::Claim { .. } => "claim",
            Command::Renew { .. } => "renew",
            Command::Sent { .. } => "sent",
            Command::Release { .. } => "release",
            Command::Batch(_) => "batch",
        }
    }
}

/// What applying a command answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    #[default]
    Done,
    /// The claim is granted; the token to send under.
    Granted(u64),
    /// Granted over another replica's lapsed claim (a takeover).
    TookOver(u64),
    /// Another replica holds a live claim: this token's.
    Held(u64),
    /// The notification log moved on since the claimant looked.
    Stale,
    /// The `Sent` or `Renew` came after its claim was lost (lapsed and
    /// taken).
    Fenced,
    /// A batch's answers, in its commands' order.
    Batch(Vec<Applied>),
}

/// The fencing token of the command at `position` in the log entry at
/// `index`: unique, and growing with the log.
pub fn token(index: u64, position: usize) -> u64 {
    (index << 16) | position as u64
}

openraft::declare_raft_types!(
    /// klaxon's Raft types: the defaults (u64 IDs, addresses as `BasicNode`,
    /// in-memory snapshots, tokio) and its own commands.
    pub TypeConfig:
        D = Command,
        R = Applied,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Node = openraft::BasicNode;
pub type LogId = openraft::LogId<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
