//! The replicated state machine: each replica applies the log's commands
//! to its own silences (and, later, notification log). Applying is
//! deterministic and idempotent (the newest version of a silence wins),
//! so a replica that crashes after storing a silence but before recording
//! the entry as applied only applies it again.

use std::io::Cursor;
use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, RaftSnapshotBuilder, SnapshotMeta, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};

use super::applied_index::AppliedIndex;
use super::claims;
use super::leases::Leases;
use super::types::{Applied, Command, LogId, Node, NodeId, StorageError, TypeConfig, token};
use crate::nflog::{NflogEntry, NotificationLog};
use crate::silence::{Silence, Silences};
use crate::storage::Storage;

#[derive(Clone)]
pub struct StateMachine {
    inner: Arc<Inner>,
}

struct Inner {
    silences: Arc<Silences>,
    nflog: Arc<NotificationLog>,
    /// When this replica last saw each claim alive (for proposers only).
    leases: Arc<Leases>,
    /// Told how far the log is applied, after each batch.
    applied_index: Arc<AppliedIndex>,
    storage: Storage,
    /// Applying, snapshotting and installing one at a time.
    state: tokio::sync::Mutex<Applying>,
}

#[derive(Default)]
struct Applying {
    last_applied: Option<LogId>,
    membership: StoredMembership<NodeId, Node>,
    snapshot: Option<(SnapshotMeta<NodeId, Node>, Vec<u8>)>,
    snapshots_built: u64,
    /// Live and lapsed claims, by notification-log key (encoded).
    claims: claims::Claims,
    /// Keys whose claim changed since the last record: each claim is its
    /// own record, so a batch costs what it changed, not every claim.
    dirty: std::collections::BTreeSet<String>,
}

/// Where each claim is recorded: this prefix and its key.
const CLAIM: &str = "claim:";

/// A snapshot's content: every silence, notification-log entry and claim.
#[derive(Serialize, Deserialize)]
struct SnapshotData {
    silences: Vec<Silence>,
    #[serde(default)]
    nflog: Vec<NflogEntry>,
    #[serde(default)]
    claims: claims::Claims,
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::read_state_machine(&e).into()
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_state_machine(&e).into()
}

impl StateMachine {
    /// The state machine over `silences`, resuming from what `storage`
    /// recorded as applied.
    pub fn load(
        silences: Arc<Silences>,
        nflog: Arc<NotificationLog>,
        leases: Arc<Leases>,
        applied_index: Arc<AppliedIndex>,
        storage: Storage,
    ) -> Result<Self, StorageError> {
        let get = |key: &str| -> Result<Option<Vec<u8>>, StorageError> {
            storage.raft_get(key).map_err(read_err)
        };
        let last_applied = match get("applied")? {
            Some(raw) => serde_json::from_slice(&raw).map_err(read_err)?,
            None => None,
        };
        let membership = match get("membership")? {
            Some(raw) => serde_json::from_slice(&raw).map_err(read_err)?,
            None => StoredMembership::default(),
        };
        // Claims were one record before they were one record each.
        let mut claims: claims::Claims = match get("claims")? {
            Some(raw) => serde_json::from_slice(&raw).map_err(read_err)?,
            None => Default::default(),
        };
        for (key, raw) in &claims {
            let raw = serde_json::to_vec(raw).map_err(write_err)?;
            storage
                .raft_put(&format!("{CLAIM}{key}"), raw)
                .map_err(write_err)?;
        }
        storage.raft_remove("claims").map_err(write_err)?;
        for (key, raw) in storage.raft_scan(CLAIM).map_err(read_err)? {
            claims.insert(key, serde_json::from_slice(&raw).map_err(read_err)?);
        }
        leases.reset(&claims);
        if let Some(last) = &last_applied {
            let last: &LogId = last;
            applied_index.advance(last.index);
        }
        Ok(StateMachine {
            inner: Arc::new(Inner {
                silences,
                nflog,
                leases,
                applied_index,
                storage,
                state: tokio::sync::Mutex::new(Applying {
                    last_applied,
                    membership,
                    claims,
                    ..Applying::default()
                }),
            }),
        })
    }

    fn record(&self, state: &mut Applying) -> Result<(), StorageError> {
        let applied = serde_json::to_vec(&state.last_applied).map_err(write_err)?;
        let membership = serde_json::to_vec(&state.membership).map_err(write_err)?;
        let storage = &self.inner.storage;
        for key in std::mem::take(&mut state.dirty) {
            let record = format!("{CLAIM}{key}");
            match state.claims.get(&key) {
                Some(claim) => {
                    let raw = serde_json::to_vec(claim).map_err(write_err)?;
                    storage.raft_put(&record, raw).map_err(write_err)?;
                }
                None => storage.raft_remove(&record).map_err(write_err)?,
            }
        }
        storage.raft_put("applied", applied).map_err(write_err)?;
        storage
            .raft_put("membership", membership)
            .map_err(write_err)
    }
}

impl StateMachine {
    /// One command, decided from the command alone and the state so far;
    /// `token` is its fencing token, should it be a granted claim.
    async fn apply_command(
        &self,
        state: &mut Applying,
        token: u64,
        command: Command,
    ) -> Result<Applied, StorageError> {
        Ok(match command {
            Command::PutSilences(silences) => {
                self.inner
                    .silences
                    .apply_replicated(silences)
                    .await
                    .map_err(write_err)?;
                Applied::Done
            }
            Command::Claim {
                key,
                expect,
                node,
                lapsed,
                ttl_ms,
            } => {
                // The log's own entries only: this replica's sends made
                // without a quorum are not the others' to judge by.
                let sent = self.inner.nflog.get_replicated(&key).map(|e| e.timestamp);
                let key = key.encode();
                let ask = claims::Ask {
                    key: key.clone(),
                    expect,
                    sent,
                    node,
                    lapsed,
                    ttl_ms,
                };
                let answer = claims::claim(&mut state.claims, ask, token);
                if let Applied::Granted(_) | Applied::TookOver(_) = answer {
                    self.inner.leases.saw(&key, &state.claims[&key]);
                    state.dirty.insert(key);
                }
                answer
            }
            Command::Renew { key, token } => {
                let key = key.encode();
                if claims::renew(&state.claims, &key, token) {
                    self.inner.leases.saw(&key, &state.claims[&key]);
                    Applied::Granted(token)
                } else {
                    Applied::Fenced
                }
            }
            Command::Sent { token, entry } => {
                let key = entry.key.encode();
                let ours = claims::sent(&mut state.claims, &key, token);
                if ours {
                    self.inner.leases.forget(&key);
                    state.dirty.insert(key);
                }
                self.inner.nflog.put_applied(entry).map_err(write_err)?;
                if ours { Applied::Done } else { Applied::Fenced }
            }
            // Never nested: a batch inside a batch is not applied.
            Command::Batch(_) => Applied::Done,
            Command::Release { key, token } => {
                let key = key.encode();
                if state.claims.get(&key).is_some_and(|c| c.token == token) {
                    self.inner.leases.forget(&key);
                    state.dirty.insert(key.clone());
                }
                claims::release(&mut state.claims, &key, token);
                Applied::Done
            }
        })
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let mut state = self.inner.state.lock().await;
        let data = serde_json::to_vec(&SnapshotData {
            silences: self.inner.silences.list(),
            nflog: self.inner.nflog.list(),
            claims: state.claims.clone(),
        })
        .map_err(read_err)?;
        state.snapshots_built += 1;
        let snapshot_id = match state.last_applied {
            Some(last) => format!(
                "{}-{}-{}",
                last.leader_id, last.index, state.snapshots_built
            ),
            None => format!("--{}", state.snapshots_built),
        };
        let meta = SnapshotMeta {
            last_log_id: state.last_applied,
            last_membership: state.membership.clone(),
            snapshot_id,
        };
        state.snapshot = Some((meta.clone(), data.clone()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, Node>), StorageError> {
        let state = self.inner.state.lock().await;
        Ok((state.last_applied, state.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
    {
        let mut state = self.inner.state.lock().await;
        let mut answers = Vec::new();
        for entry in entries {
            let answer = match entry.payload {
                EntryPayload::Blank => Applied::Done,
                EntryPayload::Normal(Command::Batch(commands)) => {
                    let mut answers = Vec::with_capacity(commands.len());
                    for (position, command) in commands.into_iter().enumerate() {
                        let token = token(entry.log_id.index, position);
                        answers.push(self.apply_command(&mut state, token, command).await?);
                    }
                    Applied::Batch(answers)
                }
                EntryPayload::Normal(command) => {
                    let token = token(entry.log_id.index, 0);
                    self.apply_command(&mut state, token, command).await?
                }
                EntryPayload::Membership(m) => {
                    state.membership = StoredMembership::new(Some(entry.log_id), m);
                    Applied::Done
                }
            };
            state.last_applied = Some(entry.log_id);
            answers.push(answer);
        }
        self.record(&mut state)?;
        if let Some(last) = state.last_applied {
            self.inner.applied_index.advance(last.index);
        }
        Ok(answers)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Node>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let decoded: SnapshotData = serde_json::from_slice(&data).map_err(|e| {
            StorageError::from(StorageIOError::read_snapshot(Some(meta.signature()), &e))
        })?;
        let mut state = self.inner.state.lock().await;
        self.inner
            .silences
            .replace_all(decoded.silences)
            .await
            .map_err(write_err)?;
        for entry in decoded.nflog {
            self.inner.nflog.put_applied(entry).map_err(write_err)?;
        }
        self.inner.leases.reset(&decoded.claims);
        // Every claim recorded afresh: the snapshot replaces them all.
        let storage = &self.inner.storage;
        for (key, _) in storage.raft_scan(CLAIM).map_err(write_err)? {
            state.dirty.insert(key);
        }
        state.dirty.extend(decoded.claims.keys().cloned());
        storage.raft_remove("claims").map_err(write_err)?;
        state.claims = decoded.claims;
        state.last_applied = meta.last_log_id;
        state.membership = meta.last_membership.clone();
        state.snapshot = Some((meta.clone(), data));
        self.record(&mut state)?;
        if let Some(last) = state.last_applied {
            self.inner.applied_index.advance(last.index);
        }
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let state = self.inner.state.lock().await;
        Ok(state.snapshot.as_ref().map(|(meta, data)| Snapshot {
            meta: meta.clone(),
            snapshot: Box::new(Cursor::new(data.clone())),
        }))
    }
}
