//! Raft's messages between replicas: JSON over HTTP to the cluster port,
//! each request carrying `--cluster.label` so that two clusters sharing a
//! network never mix.

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{Node, NodeId, TypeConfig};

/// The header that carries `--cluster.label`.
pub const LABEL_HEADER: &str = "x-klaxon-cluster-label";
/// The header that names the replica a Raft message is for: a replica
/// answering at a member's address under another ID (its data was wiped)
/// must not answer for the member it replaced.
pub const TARGET_HEADER: &str = "x-klaxon-cluster-target";

/// The header that names the replica a message is from: a replica that is
/// not a member (removed, or from another cluster with the same label) is
/// refused.
pub const SOURCE_HEADER: &str = "x-klaxon-cluster-source";

/// Paths of the Raft messages on the cluster port.
pub const APPEND: &str = "/cluster/v1/raft/append";
pub const VOTE: &str = "/cluster/v1/raft/vote";
pub const SNAPSHOT: &str = "/cluster/v1/raft/snapshot";

#[derive(Clone)]
pub struct Network {
    pub client: reqwest::Client,
    pub label: String,
    /// `http`, or `https` with `--cluster.tls-config`.
    pub scheme: &'static str,
    /// This replica's ID, sent with every message.
    pub source: NodeId,
}

pub struct Connection {
    network: Network,
    target: NodeId,
    addr: String,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> Connection {
        Connection {
            network: self.clone(),
            target,
            addr: node.addr.clone(),
        }
    }
}

impl Connection {
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, Node, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let answer = self
            .network
            .client
            .post(format!("{}://{}{path}", self.network.scheme, self.addr))
            .header(LABEL_HEADER, &self.network.label)
            .header(TARGET_HEADER, self.target.to_string())
            .header(SOURCE_HEADER, self.network.source.to_string())
            .timeout(option.hard_ttl())
            .json(req)
            .send()
            .await
            .map_err(|e| {
                // Unreachable: openraft backs off instead of retrying at
                // once (and logging each retry) while a peer is down or
                // cut off, whether the connection was refused or dropped.
                if e.is_timeout() {
                    RPCError::Network(NetworkError::new(&e))
                } else {
                    RPCError::Unreachable(Unreachable::new(&e))
                }
            })?;
        if !answer.status().is_success() {
            let status = answer.status();
            return Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other(format!("the peer answered {status}")),
            )));
        }
        let result: Result<Resp, RaftError<NodeId, E>> = answer
            .json()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        req: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(APPEND, &req, &option).await
    }

    async fn install_snapshot(
        &mut self,
        req: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(SNAPSHOT, &req, &option).await
    }

    async fn vote(
        &mut self,
        req: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(VOTE, &req, &option).await
    }

    /// Waits between tries to reach a peer that is down or cut off:
    /// 250 ms doubling to 2 s, so a long outage costs (and logs) one try
    /// every 2 s, and a peer that comes back is caught up within that.
    fn backoff(&self) -> openraft::network::Backoff {
        openraft::network::Backoff::new(std::iter::successors(
            Some(Duration::from_millis(250)),
            |d| Some((*d * 2).min(Duration::from_secs(2))),
        ))
    }
}
