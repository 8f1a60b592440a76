//! The cluster port: Raft's messages, a replica's identity, and writes
//! forwarded to the leader. Every request must carry this cluster's
//! `--cluster.label`; another one is refused (403) and logged.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Cluster;
use super::network::{APPEND, LABEL_HEADER, SNAPSHOT, TARGET_HEADER, VOTE};
use super::types::{Command, NodeId, TypeConfig};

pub const ID: &str = "/cluster/v1/id";
pub const PROPOSE: &str = "/cluster/v1/propose";

/// A replica's answer to "who are you".
#[derive(Serialize, Deserialize)]
pub struct Identity {
    pub id: NodeId,
    pub name: String,
    /// The running config's hash (0: unknown).
    #[serde(default)]
    pub config_hash: u64,
}

/// Where the leader appended a forwarded command, and what applying it
/// answered.
#[derive(Serialize, Deserialize)]
pub struct Written {
    pub index: u64,
    pub applied: super::types::Applied,
}

pub async fn serve(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    tls: Option<Arc<crate::web::LiveWeb>>,
    stop: CancellationToken,
) {
    let router = Router::new()
        .route(APPEND, post(append))
        .route(VOTE, post(vote))
        .route(SNAPSHOT, post(snapshot))
        .route(ID, get(identity))
        .route(PROPOSE, post(propose))
        .layer(axum::middleware::from_fn_with_state(
            cluster.clone(),
            same_label,
        ))
        .with_state(cluster);
    let served = match tls {
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        }
        Some(web) => match crate::web::TlsListener::new(listener, web) {
            Ok(tls) => {
                axum::serve(tls, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = served {
        tracing::error!(error = %e, "the cluster port stopped");
    }
}

async fn same_label(State(cluster): State<Arc<Cluster>>, req: Request, next: Next) -> Response {
    let label = req
        .headers()
        .get(LABEL_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if label != cluster.options.label {
        tracing::warn!(
            expected = %cluster.options.label,
            got = %label,
            "refused a cluster message with another --cluster.label"
        );
        return (StatusCode::FORBIDDEN, "cluster label mismatch").into_response();
    }
    if req.uri().path().starts_with("/cluster/v1/raft/") {
        let target = req
            .headers()
            .get(TARGET_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<NodeId>().ok());
        if target != Some(cluster.id) {
            // For a member this replica is not (any more, or never was).
            return (StatusCode::MISDIRECTED_REQUEST, "not this replica").into_response();
        }
    }
    next.run(req).await
}

async fn append(
    State(cluster): State<Arc<Cluster>>,
    Json(req): Json<AppendEntriesRequest<TypeConfig>>,
) -> impl IntoResponse {
    Json(cluster.raft.append_entries(req).await)
}

async fn vote(
    State(cluster): State<Arc<Cluster>>,
    Json(req): Json<VoteRequest<NodeId>>,
) -> impl IntoResponse {
    Json(cluster.raft.vote(req).await)
}

async fn snapshot(
    State(cluster): State<Arc<Cluster>>,
    Json(req): Json<InstallSnapshotRequest<TypeConfig>>,
) -> impl IntoResponse {
    Json(cluster.raft.install_snapshot(req).await)
}

async fn identity(State(cluster): State<Arc<Cluster>>) -> Json<Identity> {
    Json(Identity {
        id: cluster.id,
        name: cluster.options.name.clone(),
        config_hash: cluster.config_hash(),
    })
}

/// A follower's write, appended here if this replica leads (else 421:
/// the follower retries through whoever it learns leads).
async fn propose(State(cluster): State<Arc<Cluster>>, Json(command): Json<Command>) -> Response {
    match tokio::time::timeout(super::WRITE_TIMEOUT, cluster.raft.client_write(command)).await {
        Ok(Ok(answer)) => Json(Written {
            index: answer.log_id.index,
            applied: answer.data,
        })
        .into_response(),
        Ok(Err(e)) => (StatusCode::MISDIRECTED_REQUEST, e.to_string()).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "no quorum").into_response(),
    }
}
