//! What the replicas agree on: the commands of the replicated log.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::silence::Silence;

/// A replica's Raft identity: random, made at its first start and kept
/// in its store, so a replica whose data was wiped comes back as a new
/// member and never votes with a log it lost.
pub type NodeId = u64;

/// One entry of the replicated log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Silences as decided on some replica (created, updated, expired);
    /// each replica keeps the newest version of each (by `updated_at`).
    PutSilences(Vec<Silence>),
}

/// What applying a command answers (nothing yet: the proposer already
/// decided everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Applied;

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
