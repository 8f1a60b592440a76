//! The cluster port: Raft's messages, a replica's identity, writes
//! forwarded to the leader and membership changes. Every request must
//! carry this cluster's `--cluster.label`; Raft messages and writes must
//! come from a member. Anything else is refused (4xx), logged once per
//! sender and counted (`klaxon_cluster_refused_messages_total`), and
//! changes nothing.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Cluster;
use super::network::{APPEND, LABEL_HEADER, SNAPSHOT, SOURCE_HEADER, TARGET_HEADER, VOTE};
use super::types::{Command, NodeId, TypeConfig};

pub const ID: &str = "/cluster/v1/id";
pub const PROPOSE: &str = "/cluster/v1/propose";
pub const MEMBERS: &str = "/cluster/v1/members";

/// A replica's answer to "who are you".
#[derive(Serialize, Deserialize)]
pub struct Identity {
    pub id: NodeId,
    pub name: String,
    /// The running config's hash (0: unknown).
    #[serde(default)]
    pub config_hash: u64,
    /// The addresses of the cluster it is a member of (empty: not formed).
    #[serde(default)]
    pub members: Vec<String>,
}

/// A replica to add, by the address of its cluster port.
#[derive(Serialize, Deserialize)]
pub struct Join {
    pub address: String,
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
        .route(MEMBERS, post(add_member))
        .route(&format!("{MEMBERS}/{{id}}"), delete(remove_member))
        .layer(axum::middleware::from_fn_with_state(
            cluster.clone(),
            same_label,
        ))
        .with_state(cluster);
    let limits = crate::http_server::ConnectionLimits::default();
    let counts = Arc::default();
    match tls {
        None => {
            let listener =
                axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                    crate::http_server::no_delay(tcp)
                });
            crate::http_server::serve(listener, router, limits, counts, stop).await
        }
        Some(web) => match crate::web::TlsListener::new(listener, web) {
            Ok(tls) => crate::http_server::serve(tls, router, limits, counts, stop).await,
            Err(e) => tracing::error!(error = %e, "the cluster port stopped"),
        },
    }
}

async fn same_label(State(cluster): State<Arc<Cluster>>, req: Request, next: Next) -> Response {
    let label = header(&req, LABEL_HEADER);
    let source = header(&req, SOURCE_HEADER);
    let target = header(&req, TARGET_HEADER);
    let path = req.uri().path().to_owned();
    if label != cluster.options.label {
        cluster.refuse(
            "label",
            &source,
            &format!(
                "refused a cluster message with another --cluster.label (expected {:?}, got {label:?})",
                cluster.options.label
            ),
        );
        return (StatusCode::FORBIDDEN, "cluster label mismatch").into_response();
    }
    let raft = path.starts_with("/cluster/v1/raft/");
    if raft && target.parse::<NodeId>().ok() != Some(cluster.id) {
        // For a member this replica is not (any more, or never was).
        cluster.options.metrics.refused("target");
        return (StatusCode::MISDIRECTED_REQUEST, "not this replica").into_response();
    }
    if (raft || path == PROPOSE) && !cluster.is_member(source.parse().ok()) {
        cluster.refuse(
            "unknown_node",
            &source,
            "refused a cluster message from a replica that is not a member (removed, or of another cluster); \
             add it with `amctl cluster add` if it should be one",
        );
        return (StatusCode::FORBIDDEN, "not a member of this cluster").into_response();
    }
    next.run(req).await
}

fn header(req: &Request, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The body, or a refusal that names what is wrong with it.
fn body<T>(cluster: &Cluster, body: Result<Json<T>, JsonRejection>) -> Result<T, Response> {
    body.map(|Json(b)| b).map_err(|e| {
        cluster.refuse(
            "malformed",
            "",
            &format!("refused a malformed cluster message: {}", e.body_text()),
        );
        (StatusCode::BAD_REQUEST, e.body_text()).into_response()
    })
}

async fn append(
    State(cluster): State<Arc<Cluster>>,
    req: Result<Json<AppendEntriesRequest<TypeConfig>>, JsonRejection>,
) -> Response {
    match body(&cluster, req) {
        Ok(req) => Json(cluster.raft.append_entries(req).await).into_response(),
        Err(refused) => refused,
    }
}

async fn vote(
    State(cluster): State<Arc<Cluster>>,
    req: Result<Json<VoteRequest<NodeId>>, JsonRejection>,
) -> Response {
    match body(&cluster, req) {
        Ok(req) => Json(cluster.raft.vote(req).await).into_response(),
        Err(refused) => refused,
    }
}

async fn snapshot(
    State(cluster): State<Arc<Cluster>>,
    req: Result<Json<InstallSnapshotRequest<TypeConfig>>, JsonRejection>,
) -> Response {
    match body(&cluster, req) {
        Ok(req) => Json(cluster.raft.install_snapshot(req).await).into_response(),
        Err(refused) => refused,
    }
}

async fn identity(State(cluster): State<Arc<Cluster>>) -> Json<Identity> {
    Json(Identity {
        id: cluster.id,
        name: cluster.options.name.clone(),
        config_hash: cluster.config_hash(),
        members: cluster.view_addresses(),
    })
}

/// A follower's write, appended here if this replica leads (else 421:
/// the follower retries through whoever it learns leads).
async fn propose(
    State(cluster): State<Arc<Cluster>>,
    command: Result<Json<Command>, JsonRejection>,
) -> Response {
    let command = match body(&cluster, command) {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    // The follower that passed it on decides how long it waits (a claim
    // waits longer than a silence): no shorter limit here.
    match tokio::time::timeout(super::FORWARDED_TIMEOUT, cluster.raft.client_write(command)).await {
        Ok(Ok(answer)) => Json(Written {
            index: answer.log_id.index,
            applied: answer.data,
        })
        .into_response(),
        Ok(Err(e)) => (StatusCode::MISDIRECTED_REQUEST, e.to_string()).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "no quorum").into_response(),
    }
}

/// Adds the replica at an address (a replica asking to join, or an
/// operator's `amctl cluster add` passed on by another member).
async fn add_member(
    State(cluster): State<Arc<Cluster>>,
    join: Result<Json<Join>, JsonRejection>,
) -> Response {
    let join = match body(&cluster, join) {
        Ok(j) => j,
        Err(refused) => return refused,
    };
    membership_answer(cluster.add_member(&join.address).await)
}

async fn remove_member(State(cluster): State<Arc<Cluster>>, Path(id): Path<String>) -> Response {
    membership_answer(cluster.remove_member(&id).await)
}

fn membership_answer(result: Result<String, super::MembershipError>) -> Response {
    match result {
        Ok(done) => Json(done).into_response(),
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}
