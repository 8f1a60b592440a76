//! Who is a member: replicas joining (new ones, and wiped ones under a
//! new identity), operators adding and removing replicas, and refusing
//! messages from replicas that are not members. Every change is made by
//! the leader, one at a time, a new replica first as a learner that
//! catches up before it votes.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;

use super::types::{Node, NodeId};
use super::{Cluster, network, server};

/// Why a membership change was not made.
#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("no leader is known: the cluster has no quorum")]
    NoLeader,
    #[error("no replica answered at {0} with this cluster's label")]
    Unreachable(String),
    #[error("no member is named or numbered {0:?}")]
    Unknown(String),
    #[error("the replica at {address} is a member of another cluster (members {members:?})")]
    OtherCluster {
        address: String,
        members: Vec<String>,
    },
    #[error("{0} is the cluster's last voter")]
    LastVoter(String),
    #[error("the leader refused the change: {0}")]
    Refused(String),
    /// The leader's own answer to a request passed on to it.
    #[error("{message}")]
    AtLeader { status: StatusCode, message: String },
}

impl MembershipError {
    pub fn status(&self) -> StatusCode {
        match self {
            MembershipError::NoLeader | MembershipError::Unreachable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            MembershipError::Unknown(_) => StatusCode::NOT_FOUND,
            MembershipError::LastVoter(_) | MembershipError::OtherCluster { .. } => {
                StatusCode::CONFLICT
            }
            MembershipError::Refused(_) => StatusCode::BAD_GATEWAY,
            MembershipError::AtLeader { status, .. } => *status,
        }
    }
}

impl Cluster {
    /// Counts a refused message and logs it, once per reason and sender
    /// (a removed replica knocks every heartbeat).
    pub(super) fn refuse(&self, reason: &str, source: &str, message: &str) {
        self.options.metrics.refused(reason);
        let mut logged = self.refusals_logged.lock().expect("refusals lock");
        if logged.len() > 1000 {
            logged.clear();
        }
        if logged.insert((reason.to_owned(), source.to_owned())) {
            tracing::warn!(reason, source, "{message}");
        }
    }

    /// May `source` send Raft messages and writes here? Anyone while this
    /// replica has no membership yet (the leader adding it is not known to
    /// it before its first message).
    pub(super) fn is_member(&self, source: Option<NodeId>) -> bool {
        let metrics = self.raft.metrics().borrow().clone();
        let mut nodes = metrics.membership_config.nodes().peekable();
        if nodes.peek().is_none() {
            return true;
        }
        source.is_some_and(|s| metrics.membership_config.nodes().any(|(id, _)| *id == s))
    }

    /// The members' cluster addresses (empty before the cluster formed).
    pub(super) fn view_addresses(&self) -> Vec<String> {
        let metrics = self.raft.metrics().borrow().clone();
        let mut addresses: Vec<String> = metrics
            .membership_config
            .nodes()
            .map(|(_, node)| node.addr.clone())
            .collect();
        addresses.sort();
        addresses
    }

    fn leader_address(&self) -> Option<(NodeId, String)> {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader?;
        let node = metrics
            .membership_config
            .nodes()
            .find(|(id, _)| **id == leader)?
            .1
            .clone();
        Some((leader, node.addr))
    }

    /// Makes the replica answering at `address` a voter (through the
    /// leader). What was done, for the operator.
    pub async fn add_member(&self, address: &str) -> Result<String, MembershipError> {
        let (leader, leader_address) = self.leader_address().ok_or(MembershipError::NoLeader)?;
        if leader != self.id {
            let request = self
                .client
                .post(format!(
                    "{}://{leader_address}{}",
                    self.scheme,
                    server::MEMBERS
                ))
                .json(&server::Join {
                    address: address.to_owned(),
                });
            return self.at_leader(request).await;
        }
        let them = self
            .ask(address)
            .await
            .ok_or_else(|| MembershipError::Unreachable(address.to_owned()))?;
        // A replica formed with others that share none of this cluster's
        // members would be made to drop its own log: never silently.
        let ours = self.view_addresses();
        if !them.members.is_empty() && !them.members.iter().any(|m| ours.contains(m)) {
            return Err(MembershipError::OtherCluster {
                address: address.to_owned(),
                members: them.members,
            });
        }
        self.names
            .lock()
            .expect("names lock")
            .insert(them.id, them.name.clone());
        self.add_as_leader(them.id, &them.name, address).await
    }

    /// Removes a member (by ID, name or address) for good. A replica still
    /// running and listed in the leader's `--cluster.peer` is added back.
    pub async fn remove_member(&self, who: &str) -> Result<String, MembershipError> {
        let (leader, leader_address) = self.leader_address().ok_or(MembershipError::NoLeader)?;
        if leader != self.id {
            let request = self.client.delete(format!(
                "{}://{leader_address}{}/{who}",
                self.scheme,
                server::MEMBERS
            ));
            return self.at_leader(request).await;
        }
        let _one_at_a_time = self.membership_change.lock().await;
        let view = self.view();
        let member = view
            .members
            .iter()
            .find(|m| format!("{:016x}", m.id) == who || m.name == who || m.address == who)
            .ok_or_else(|| MembershipError::Unknown(who.to_owned()))?;
        let metrics = self.raft.metrics().borrow().clone();
        let mut voters: BTreeSet<NodeId> =
            metrics.membership_config.membership().voter_ids().collect();
        voters.remove(&member.id);
        if voters.is_empty() {
            return Err(MembershipError::LastVoter(member.name.clone()));
        }
        self.raft
            .change_membership(voters, false)
            .await
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        tracing::info!(name = %member.name, address = %member.address, "a replica was removed from the cluster");
        Ok(format!(
            "removed {} ({:016x}) at {}",
            member.name, member.id, member.address
        ))
    }

    /// Asks the member at `peer` to add this replica (it passes the
    /// request on to its leader).
    pub(super) async fn add_member_via(&self, peer: &str) -> Result<String, MembershipError> {
        let request = self
            .client
            .post(format!("{}://{peer}{}", self.scheme, server::MEMBERS))
            .json(&server::Join {
                address: self.options.advertise_address.clone(),
            });
        self.at_leader(request).await
    }

    /// A membership request for the leader, sent there; its answer.
    async fn at_leader(&self, request: reqwest::RequestBuilder) -> Result<String, MembershipError> {
        let answer = request
            .header(network::LABEL_HEADER, &self.options.label)
            .header(network::SOURCE_HEADER, self.id.to_string())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|_| MembershipError::NoLeader)?;
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(serde_json::from_str(&text).unwrap_or(text))
        } else {
            Err(MembershipError::AtLeader {
                status,
                message: text,
            })
        }
    }

    /// On the leader: `id` at `address` joins as a learner, catches up,
    /// then votes — replacing a member at the same address (a replica
    /// whose data was wiped comes back under a new ID, and its lost log
    /// never counts).
    pub(super) async fn add_as_leader(
        &self,
        id: NodeId,
        name: &str,
        address: &str,
    ) -> Result<String, MembershipError> {
        let _one_at_a_time = self.membership_change.lock().await;
        let metrics = self.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        let mut voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        if voters.contains(&id) {
            return Ok(format!("{name} ({id:016x}) is a member already"));
        }
        let replaced: Vec<NodeId> = membership
            .nodes()
            .filter(|(old, node)| node.addr == address && **old != id)
            .map(|(old, _)| *old)
            .collect();
        let node = Node {
            addr: address.to_owned(),
        };
        self.raft
            .add_learner(id, node, true)
            .await
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        for old in &replaced {
            voters.remove(old);
        }
        voters.insert(id);
        self.raft
            .change_membership(voters, false)
            .await
            .map_err(|e| MembershipError::Refused(e.to_string()))?;
        let replaced: Vec<String> = replaced.iter().map(|i| format!("{i:016x}")).collect();
        tracing::info!(
            peer = address,
            name,
            ?replaced,
            "a replica joined the cluster"
        );
        Ok(format!("added {name} ({id:016x}) at {address}"))
    }
}
