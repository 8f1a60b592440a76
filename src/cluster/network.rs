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
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{Node, NodeId, TypeConfig};

/// The header that carries `--cluster.label`.
pub const LABEL_HEADER: &str = "x-klaxon-cluster-label";
/// The header that names the replica a Raft message is for: a replica
/// answering at a member's address under another ID (its data was wiped)
/// must not answer for the member it replaced.
pub const TARGET_HEADER: &str = "x-klaxon-cluster-target";

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
            .timeout(option.hard_ttl())
            .json(req)
            .send()
            .await
            .map_err(|e| {
                // Unreachable: openraft backs off instead of retrying at once.
                if e.is_connect() {
                    RPCError::Unreachable(Unreachable::new(&e))
                } else {
                    RPCError::Network(NetworkError::new(&e))
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
}
