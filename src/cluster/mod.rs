//! High availability: replicas that agree through Raft (openraft) on the
//! cluster port. See `../shared/HA.md` for the design.
//!
//! What is replicated so far: silences. A silence created, updated or
//! expired on any replica goes through the leader into the log and is
//! applied on every replica; the API answers once this replica applied
//! it. Without a quorum a silence is still accepted (an operator must be
//! able to silence mid-incident): it is applied here, kept in a journal,
//! and proposed again until a leader takes it.
//!
//! Forming the cluster: each replica has a random ID kept in its store.
//! It asks every `--cluster.peer` for its ID; once all answered, the
//! replica with the lowest ID makes them the cluster's members. A
//! replica with a log never does this again, so restarts rejoin as is.

// openraft's error types are large and its storage traits return them:
// boxing them here would only mean unboxing for openraft.
#![allow(clippy::result_large_err)]

mod applied_index;
mod batches;
mod claims;
mod leases;
mod log_store;
mod membership;
mod network;
mod server;
mod state_machine;
mod tls;
mod types;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use tokio_util::sync::CancellationToken;

use crate::nflog::{NflogEntry, NflogKey, NotificationLog};
use crate::silence::{Silence, SilenceError, Silences};
use crate::storage::Storage;
pub use membership::MembershipError;
pub use types::NodeId;
use types::{Applied, Command, Node, Raft};

/// How long a write waits for the cluster before it is taken without
/// quorum (journalled, proposed again later).
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a claim keeps being asked for before this replica decides
/// there is no quorum (and fails open): a leader's death, its followers'
/// wait for their lease to end and an election fit in it.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(6);
/// How much later each next-ranked replica asks to send a notification
/// (load spreading and fewer writes, not safety: claims are safe anyway).
pub const STAGGER: Duration = Duration::from_secs(1);
/// How long the leader works on a write another replica passed on (that
/// replica gives up sooner, as its own caller allows).
const FORWARDED_TIMEOUT: Duration = Duration::from_secs(10);
/// One try of a claim.
const CLAIM_ATTEMPT: Duration = Duration::from_secs(1);
/// How often peers are asked for their ID while the cluster forms, and
/// journalled silences proposed again.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// What the command line says about this replica's cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `--cluster.listen-address`: the cluster port is bound here.
    pub listen_address: String,
    /// Where the other replicas reach this one (`--cluster.advertise-address`,
    /// else the listen address).
    pub advertise_address: String,
    /// `--cluster.peer`: every replica, this one may be among them.
    pub peers: Vec<String>,
    /// `--cluster.label`: sent with every message, checked on receipt.
    pub label: String,
    /// `--cluster.peer-name`, else a ULID made at start.
    pub name: String,
    /// `--cluster.peer-timeout`: without a quorum, the replica at position
    /// p waits p times this before it sends (Alertmanager's stagger).
    pub peer_timeout: Duration,
    /// `--cluster.claim-ttl`: how long a claim to send lasts.
    pub claim_ttl: Duration,
    /// `--cluster.fail-open`: send without a quorum (after the stagger).
    pub fail_open: bool,
    /// Where the cluster's metrics go.
    pub metrics: crate::metrics::ClusterMetrics,
    /// `--cluster.tls-config`: mutual TLS on the cluster port.
    pub tls_config: Option<std::path::PathBuf>,
    /// `klaxon_task_panics_total`, for the cluster's supervised loops.
    pub task_panics: prometheus_client::metrics::family::Family<
        crate::metrics::DynamicLabels,
        prometheus_client::metrics::counter::Counter,
    >,
}

/// May this replica send a notification?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Yes: send under this fencing token, then report `sent` or `release`.
    Granted(u64),
    /// Another replica holds a live claim, which lapses here after this
    /// long without news: wait and look again.
    Held(Duration),
    /// The log moved on (someone sent): look again at once.
    Stale,
    /// No quorum: send fail-open after this stagger, or not at all.
    NoQuorum { stagger: Option<Duration> },
}

/// A member as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: NodeId,
    pub name: String,
    pub address: String,
}

/// What `GET /api/klaxon/cluster` and `amctl cluster status` show.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClusterDetail {
    /// This replica's ID (hex) and name.
    pub id: String,
    pub name: String,
    pub leader: Option<String>,
    pub term: u64,
    pub last_log_index: Option<u64>,
    pub last_applied_index: Option<u64>,
    pub members: Vec<MemberDetail>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MemberDetail {
    pub id: String,
    pub name: String,
    pub address: String,
    pub voter: bool,
    pub leader: bool,
    /// On the leader: the last log index known to be on that member.
    pub matched_index: Option<u64>,
    /// Its `alertmanager.yml` differs from this replica's (by hash).
    pub config_differs: bool,
}

/// The cluster as this replica sees it.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub leader: Option<NodeId>,
    pub term: u64,
    pub members: Vec<Member>,
    /// A leader is known and this replica follows its log.
    pub ready: bool,
}

pub struct Cluster {
    raft: Raft,
    /// `http` or, with `--cluster.tls-config`, `https`.
    scheme: &'static str,
    id: NodeId,
    options: ClusterOptions,
    client: reqwest::Client,
    /// Peer names learned from the peers themselves.
    names: Mutex<HashMap<NodeId, String>>,
    /// Silences accepted without a quorum, proposed again until taken.
    journal: Mutex<Vec<Silence>>,
    /// Notifications sent without a quorum (fail-open), proposed to the
    /// log until taken, so every replica's log converges on them.
    sent_journal: Mutex<Vec<JournalledSent>>,
    /// The running `alertmanager.yml`'s hash, told to the other replicas.
    config_hash: std::sync::atomic::AtomicU64,
    /// Members whose config hash differs from this replica's.
    config_differs: Mutex<std::collections::BTreeSet<NodeId>>,
    silences: Arc<Silences>,
    /// When this replica last saw each claim alive, on its monotonic clock.
    leases: Arc<leases::Leases>,
    /// How far this replica applied the log; proposals wait on it.
    applied_index: Arc<applied_index::AppliedIndex>,
    /// Commands waiting to be proposed together.
    batches: tokio::sync::mpsc::UnboundedSender<batches::Pending>,
    storage: Storage,
    /// The cluster port's address once bound (port 0 resolved).
    bound: std::net::SocketAddr,
    /// Membership changes, one at a time.
    membership_change: tokio::sync::Mutex<()>,
    /// Refusals already logged, by reason and sender.
    refusals_logged: Mutex<std::collections::HashSet<(String, String)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("binding the cluster address {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("the cluster's store: {0}")]
    Store(String),
    #[error("starting Raft: {0}")]
    Raft(String),
    #[error(transparent)]
    Tls(#[from] crate::config::ConfigError),
}

/// Why a proposal did not go through.
#[derive(Debug, Clone, thiserror::Error)]
enum ProposeError {
    #[error("no leader with a quorum answered in time")]
    NoQuorum,
    #[error("{0}")]
    Other(String),
}

impl Cluster {
    /// Opens this replica's Raft state in `storage`, serves the cluster
    /// port, starts forming the cluster and routes silence changes
    /// through it. Stops with `cancel`.
    pub async fn start(
        options: ClusterOptions,
        storage: Storage,
        silences: Arc<Silences>,
        nflog: Arc<NotificationLog>,
        cancel: CancellationToken,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let id = node_id(&storage)?;
        let config = openraft::Config {
            cluster_name: "klaxon".into(),
            heartbeat_interval: 200,
            election_timeout_min: 1000,
            election_timeout_max: 2000,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(1000),
            max_in_snapshot_log_to_keep: 1000,
            ..Default::default()
        };
        let config = Arc::new(
            config
                .validate()
                .map_err(|e| ClusterError::Raft(e.to_string()))?,
        );
        let tls = options.tls_config.as_deref().map(tls::load).transpose()?;
        let (client, scheme, tls_server) = match tls {
            Some(t) => (t.client, "https", Some(t.server)),
            None => (
                reqwest::Client::builder()
                    .no_proxy()
                    .connect_timeout(Duration::from_secs(1))
                    .build()
                    .map_err(|e| ClusterError::Raft(e.to_string()))?,
                "http",
                None,
            ),
        };
        let network = network::Network {
            client: client.clone(),
            label: options.label.clone(),
            scheme,
            source: id,
        };
        let log = log_store::LogStore::new(storage.clone());
        let leases = Arc::new(leases::Leases::default());
        let applied_index = Arc::new(applied_index::AppliedIndex::default());
        let state_machine = state_machine::StateMachine::load(
            silences.clone(),
            nflog.clone(),
            leases.clone(),
            applied_index.clone(),
            storage.clone(),
        )
        .map_err(|e| ClusterError::Store(e.to_string()))?;
        let raft = Raft::new(id, config, network, log, state_machine)
            .await
            .map_err(|e| ClusterError::Raft(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(&options.listen_address)
            .await
            .map_err(|source| ClusterError::Bind {
                address: options.listen_address.clone(),
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| ClusterError::Bind {
            address: options.listen_address.clone(),
            source,
        })?;
        let (batch_queue, batched) = tokio::sync::mpsc::unbounded_channel();
        let journal: Vec<Silence> = load(&storage, JOURNAL)?;
        let sent_journal: Vec<JournalledSent> = load(&storage, SENT_JOURNAL)?;
        for journalled in &sent_journal {
            nflog.put_unreplicated(journalled.entry.clone());
        }
        let mut options = options;
        if options.claim_ttl.is_zero() {
            options.claim_ttl = Duration::from_secs(30);
        }
        // A port chosen by the system (":0") is advertised as bound.
        if options.advertise_address.ends_with(":0") {
            options.advertise_address = bound.to_string();
        }
        let cluster = Arc::new(Cluster {
            raft,
            scheme,
            id,
            names: Mutex::new(HashMap::from([(id, options.name.clone())])),
            options,
            client,
            journal: Mutex::new(journal),
            sent_journal: Mutex::new(sent_journal),
            config_hash: Default::default(),
            config_differs: Default::default(),
            silences: silences.clone(),
            leases,
            applied_index,
            batches: batch_queue,
            storage,
            bound,
            membership_change: Default::default(),
            refusals_logged: Default::default(),
        });
        tracing::info!(node_id = %format!("{id:016x}"), address = %bound, "cluster port listening");
        tokio::spawn(server::serve(
            cluster.clone(),
            listener,
            tls_server,
            cancel.clone(),
        ));
        // Supervised: a loop that panics is logged, counted and started
        // again (the batch queue is shared, so a restart keeps it).
        let counted = || {
            let panics = cluster.options.task_panics.clone();
            move |task: &'static str| {
                panics.get_or_create(&vec![("task", task.to_owned())]).inc();
            }
        };
        let batched = Arc::new(tokio::sync::Mutex::new(batched));
        crate::supervise::spawn("cluster_batches", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().run_batches(batched.clone(), cancel.clone())
        });
        crate::supervise::spawn("cluster_forming", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().form(cancel.clone())
        });
        crate::supervise::spawn("cluster_journal", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().propose_journal(cancel.clone())
        });
        crate::supervise::spawn("cluster_metrics", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().export_metrics(cancel.clone())
        });
        crate::supervise::spawn("cluster_leader", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().follow_leader(cancel.clone())
        });
        crate::supervise::spawn("cluster_members", counted(), cancel.clone(), {
            let (cluster, cancel) = (cluster.clone(), cancel.clone());
            move || cluster.clone().reconcile_members(cancel.clone())
        });
        silences.replicate_through(Arc::new(SilenceReplicator(Arc::downgrade(&cluster))));
        Ok(cluster)
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Where this replica's cluster port listens.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.bound
    }

    /// Leader, term and members, from Raft's own metrics.
    pub fn view(&self) -> ClusterView {
        let metrics = self.raft.metrics().borrow().clone();
        let names = self.names.lock().expect("names lock");
        let mut members: Vec<Member> = metrics
            .membership_config
            .nodes()
            .map(|(id, node)| Member {
                id: *id,
                name: names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("{id:016x}")),
                address: node.addr.clone(),
            })
            .collect();
        if members.is_empty() {
            // Not formed yet: only itself.
            members.push(Member {
                id: self.id,
                name: self.options.name.clone(),
                address: self.options.advertise_address.clone(),
            });
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        ClusterView {
            leader: metrics.current_leader,
            term: metrics.current_term,
            ready: metrics.current_leader.is_some(),
            members,
        }
    }

    /// The running config's hash (on start and each reload); replicas
    /// compare theirs and warn when they differ.
    pub fn set_config_hash(&self, hash: u64) {
        self.config_hash
            .store(hash, std::sync::atomic::Ordering::Relaxed);
    }

    fn config_hash(&self) -> u64 {
        self.config_hash.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Leader, term, log position and each member, for operators.
    pub fn detail(&self) -> ClusterDetail {
        let metrics = self.raft.metrics().borrow().clone();
        let view = self.view();
        let membership = metrics.membership_config.membership();
        let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
        let differs = self.config_differs.lock().expect("config lock").clone();
        let hex = |id: NodeId| format!("{id:016x}");
        ClusterDetail {
            id: hex(self.id),
            name: self.options.name.clone(),
            leader: view.leader.map(hex),
            term: view.term,
            last_log_index: metrics.last_log_index,
            last_applied_index: metrics.last_applied.map(|l| l.index),
            members: view
                .members
                .iter()
                .map(|m| MemberDetail {
                    id: hex(m.id),
                    name: m.name.clone(),
                    address: m.address.clone(),
                    voter: voters.contains(&m.id),
                    leader: view.leader == Some(m.id),
                    matched_index: metrics
                        .replication
                        .as_ref()
                        .and_then(|r| r.get(&m.id).cloned().flatten())
                        .map(|l| l.index)
                        .or_else(|| {
                            (m.id == self.id)
                                .then_some(metrics.last_log_index)
                                .flatten()
                        }),
                    config_differs: differs.contains(&m.id),
                })
                .collect(),
        }
    }

    /// Stops Raft (the cluster port stops with the app's token).
    pub async fn shutdown(&self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "stopping Raft");
        }
    }

    /// Learns every peer's ID; once all answered and nothing is formed
    /// yet, the lowest ID makes them the members. Keeps asking peers it
    /// has no name for, so the status can name them.
    async fn form(self: Arc<Self>, cancel: CancellationToken) {
        let mut found: BTreeMap<NodeId, Node> = BTreeMap::from([(
            self.id,
            Node {
                addr: self.options.advertise_address.clone(),
            },
        )]);
        let mut pending: Vec<String> = self.options.peers.clone();
        // A peer already in a formed cluster: join it, never form another.
        let mut formed_elsewhere: Option<(String, Vec<String>)> = None;
        while !pending.is_empty() {
            let mut still = Vec::new();
            for peer in pending {
                match self.ask(&peer).await {
                    Some(them) => {
                        self.names
                            .lock()
                            .expect("names lock")
                            .insert(them.id, them.name);
                        if them.id != self.id {
                            found.insert(them.id, Node { addr: peer.clone() });
                        }
                        if !them.members.is_empty() && formed_elsewhere.is_none() {
                            formed_elsewhere = Some((peer, them.members));
                        }
                    }
                    None => still.push(peer),
                }
            }
            pending = still;
            if pending.is_empty() || formed_elsewhere.is_some() {
                break;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RETRY_EVERY) => {}
            }
        }
        let formed = self.raft.is_initialized().await.unwrap_or(true);
        if formed {
            return;
        }
        if let Some((peer, members)) = formed_elsewhere {
            self.join(&peer, &members, cancel).await;
            return;
        }
        if found.keys().next() == Some(&self.id) {
            let ids: Vec<String> = found.keys().map(|id| format!("{id:016x}")).collect();
            match self.raft.initialize(found).await {
                Ok(()) => tracing::info!(members = ?ids, "cluster formed"),
                Err(e) => tracing::debug!(error = %e, "cluster already formed"),
            }
        }
    }

    /// Asks the formed cluster `peer` belongs to for membership until this
    /// replica is a member; says so when this replica's peer list is not
    /// the cluster's.
    async fn join(&self, peer: &str, members: &[String], cancel: CancellationToken) {
        let mut listed: Vec<String> = self.options.peers.clone();
        listed.retain(|p| *p != self.options.advertise_address);
        let mut theirs: Vec<String> = members
            .iter()
            .filter(|m| **m != self.options.advertise_address)
            .cloned()
            .collect();
        listed.sort();
        theirs.sort();
        if listed != theirs {
            tracing::warn!(
                peer,
                cluster_members = ?members,
                cluster_peers = ?self.options.peers,
                "--cluster.peer disagrees with the members of the cluster the peers formed; \
                 this replica joins that cluster and does not form another"
            );
        }
        loop {
            if self
                .raft
                .metrics()
                .borrow()
                .membership_config
                .nodes()
                .any(|(id, _)| *id == self.id)
            {
                return;
            }
            match self.add_member_via(peer).await {
                Ok(done) => tracing::info!(peer, "{done}"),
                Err(e) => {
                    tracing::info!(peer, error = %e, "asking to join the cluster; trying again")
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RETRY_EVERY * 10) => {}
            }
        }
    }

    async fn ask_id(&self, peer: &str) -> Option<(NodeId, String)> {
        self.ask(peer).await.map(|me| (me.id, me.name))
    }

    async fn ask(&self, peer: &str) -> Option<server::Identity> {
        let answer = self
            .client
            .get(format!("{}://{peer}{}", self.scheme, server::ID))
            .header(network::LABEL_HEADER, &self.options.label)
            .header(network::SOURCE_HEADER, self.id.to_string())
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .ok()?;
        if answer.status() == reqwest::StatusCode::FORBIDDEN {
            tracing::error!(
                peer,
                "the peer belongs to another cluster (--cluster.label differs)"
            );
            return None;
        }
        answer.json().await.ok()
    }

    /// Appends `command` to the replicated log (through the leader), waits
    /// until this replica applied it, and gives what applying answered.
    async fn propose(&self, command: Command) -> Result<Applied, ProposeError> {
        self.propose_within(command, WRITE_TIMEOUT).await
    }

    /// Appends `command` (through the leader) now, alone or as a batch,
    /// and waits until this replica applied it.
    async fn propose_now(
        &self,
        command: Command,
        patience: Duration,
    ) -> Result<Applied, ProposeError> {
        let written = tokio::time::timeout(patience, self.raft.client_write(command.clone()))
            .await
            .map_err(|_| ProposeError::NoQuorum)?;
        let (index, applied) = match written {
            Ok(answer) => (answer.log_id.index, answer.data),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                let leader = f.leader_node.ok_or(ProposeError::NoQuorum)?;
                self.forward(&leader.addr, &command, patience).await?
            }
            Err(e) => return Err(ProposeError::Other(e.to_string())),
        };
        if !self.applied_index.reach(index, WRITE_TIMEOUT).await {
            return Err(ProposeError::NoQuorum);
        }
        Ok(applied)
    }

    /// Has the leader at `addr` append `command`; its log index and answer.
    async fn forward(
        &self,
        addr: &str,
        command: &Command,
        patience: Duration,
    ) -> Result<(u64, Applied), ProposeError> {
        let answer = self
            .client
            .post(format!("{}://{addr}{}", self.scheme, server::PROPOSE))
            .header(network::LABEL_HEADER, &self.options.label)
            .header(network::SOURCE_HEADER, self.id.to_string())
            .timeout(patience)
            .json(command)
            .send()
            .await
            .map_err(|_| ProposeError::NoQuorum)?;
        if !answer.status().is_success() {
            return Err(ProposeError::NoQuorum);
        }
        let written: server::Written = answer.json().await.map_err(|_| ProposeError::NoQuorum)?;
        Ok((written.index, written.applied))
    }

    /// Asks to send the notification for `key`, whose last one this
    /// replica saw sent at `expect`.
    pub async fn claim(
        &self,
        key: &NflogKey,
        expect: Option<chrono::DateTime<chrono::Utc>>,
    ) -> ClaimOutcome {
        let encoded = key.encode();
        let metrics = &self.options.metrics;
        self.leases.leader_is(self.leader());
        if let Some(left) = self.leases.held_by_other(&encoded, self.id) {
            // Known here already: no need to ask the log.
            metrics.claim("held");
            return ClaimOutcome::Held(left);
        }
        let command = Command::Claim {
            key: key.clone(),
            expect,
            node: self.id,
            lapsed: None,
            ttl_ms: self.options.claim_ttl.as_millis() as u64,
        };
        let answer = self.propose_patiently(command).await;
        match answer {
            Ok(Applied::Granted(token)) => {
                metrics.claim("granted");
                ClaimOutcome::Granted(token)
            }
            Ok(Applied::TookOver(token)) => {
                metrics.claim("granted");
                metrics.takeovers.inc();
                tracing::info!(group_key = %key.group_key, "took over a lapsed claim to send a notification");
                ClaimOutcome::Granted(token)
            }
            Ok(Applied::Held(token)) => {
                metrics.claim("held");
                ClaimOutcome::Held(self.leases.left(&encoded, token))
            }
            Ok(_) => {
                metrics.claim("stale");
                ClaimOutcome::Stale
            }
            Err(e) => {
                metrics.claim("no_quorum");
                if self.options.fail_open {
                    metrics.fail_open.inc();
                }
                tracing::warn!(error = %e, "no quorum to claim a notification");
                ClaimOutcome::NoQuorum {
                    stagger: self
                        .options
                        .fail_open
                        .then(|| self.options.peer_timeout * self.position() as u32),
                }
            }
        }
    }

    /// Proposes a claim (or a `Sent`) for up to [`CLAIM_TIMEOUT`]. A leader that just died
    /// is not a lost quorum: the others elect a new one within an election
    /// timeout or two. So the claim is proposed again when the leader
    /// changes (the old one may be frozen) or the proposal failed, but a
    /// proposal that is only slow (a busy leader) is waited for, not
    /// repeated: repeats would only add to the load.
    async fn propose_patiently(&self, mut command: Command) -> Result<Applied, ProposeError> {
        let give_up = tokio::time::Instant::now() + CLAIM_TIMEOUT;
        let leader = || self.leader();
        let left = || give_up.saturating_duration_since(tokio::time::Instant::now());
        let mut asked_of = leader();
        self.judge_lapse(&mut command).await;
        let mut pending = Box::pin(self.propose_within(command.clone(), left()));
        loop {
            tokio::select! {
                answer = &mut pending => {
                    if answer.is_ok() || left() <= RETRY_EVERY {
                        return answer;
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                }
                _ = tokio::time::sleep(CLAIM_ATTEMPT) => {
                    if leader() == asked_of && asked_of.is_some() {
                        continue;
                    }
                }
                _ = tokio::time::sleep_until(give_up) => return Err(ProposeError::NoQuorum),
            }
            asked_of = leader();
            self.judge_lapse(&mut command).await;
            pending = Box::pin(self.propose_within(command.clone(), left()));
        }
    }

    /// The notification under `token` went out; `entry` is its log entry.
    /// `false` when it was fenced (its claim had lapsed and been taken).
    /// Token 0 is a fail-open send's (no claim): recorded in the log all the
    /// same, so that no replica sends it again once the quorum is back.
    /// Without a quorum the entry is kept here only.
    pub async fn sent(&self, token: u64, entry: NflogEntry, nflog: &NotificationLog) -> bool {
        // As patient as a claim: a leader that dies right after the send
        // must not leave it unrecorded until the claim lapses and another
        // replica sends it again.
        match self
            .propose_patiently(Command::Sent {
                token,
                entry: entry.clone(),
            })
            .await
        {
            Ok(Applied::Fenced) if token == 0 => true,
            Ok(Applied::Fenced) => {
                self.options.metrics.fenced.inc();
                false
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "no quorum to record a sent notification; kept on this replica until a leader takes it");
                nflog.put_unreplicated(entry.clone());
                let mut journal = self.sent_journal.lock().expect("journal lock");
                journal.retain(|j| j.entry.key != entry.key);
                journal.push(JournalledSent { token, entry });
                if let Err(e) = save(&self.storage, SENT_JOURNAL, &*journal) {
                    tracing::error!(error = %e, "writing the notification journal failed");
                }
                true
            }
        }
    }

    /// Keeps the claim under `token` alive for another ttl, for a send
    /// whose attempts outlast it. `false` when it was lost (taken after it
    /// lapsed) or no quorum confirmed it: the send must stop.
    pub async fn renew(&self, key: &NflogKey, token: u64) -> bool {
        let command = Command::Renew {
            key: key.clone(),
            token,
        };
        match self.propose_within(command, CLAIM_ATTEMPT * 2).await {
            Ok(Applied::Granted(_)) => true,
            Ok(_) => {
                self.options.metrics.fenced.inc();
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "no quorum to keep a claim; the send stops");
                false
            }
        }
    }

    /// The send under `token` failed: another replica may claim at once.
    pub async fn release(&self, key: &NflogKey, token: u64) {
        let command = Command::Release {
            key: key.clone(),
            token,
        };
        if let Err(e) = self.propose(command).await {
            tracing::debug!(error = %e, "releasing a claim failed; it lapses by itself");
        }
    }

    /// The leader this replica knows of.
    fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The token of another replica's claim on `key` that went a ttl
    /// without news under the present leader. A leader cut off from the
    /// others still thinks it leads: it takes over nothing until a quorum
    /// confirms it, or its takeover, committed after it is re-elected,
    /// could fence a `Sent` the holder could not get to it.
    async fn lapsed(&self, key: &str) -> Option<u64> {
        let leader = self.leader();
        self.leases.leader_is(leader);
        self.leases.lapsed(key, self.id)?;
        if leader == Some(self.id) {
            let confirmed =
                tokio::time::timeout(CLAIM_ATTEMPT, self.raft.ensure_linearizable()).await;
            if !matches!(confirmed, Ok(Ok(_))) {
                self.leases.leader_is(None);
            }
        }
        self.leases.lapsed(key, self.id)
    }

    /// A claim says which lapsed claim it takes over as judged just
    /// before each proposal: one seen to lapse before an election may not
    /// have lapsed under the leader elected since.
    async fn judge_lapse(&self, command: &mut Command) {
        if let Command::Claim { key, lapsed, .. } = command {
            *lapsed = self.lapsed(&key.encode()).await;
        }
    }

    /// Tells the claims' leases of every change of leader as it happens
    /// (see [`leases::Leases::leader_is`]); a claim also tells them before
    /// it judges a lapse.
    async fn follow_leader(self: Arc<Self>, cancel: CancellationToken) {
        let mut watch = self.raft.metrics();
        loop {
            let leader = watch.borrow_and_update().current_leader;
            self.leases.leader_is(leader);
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = watch.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Keeps the membership, position, leadership and term gauges in step
    /// with Raft's own metrics.
    async fn export_metrics(self: Arc<Self>, cancel: CancellationToken) {
        let m = self.options.metrics.clone();
        m.enabled.set(1);
        let mut watch = self.raft.metrics();
        loop {
            {
                let now = watch.borrow_and_update().clone();
                let members = now.membership_config.nodes().count().max(1);
                m.members.set(members as i64);
                m.position.set(self.position() as i64);
                m.leader.set(i64::from(now.current_leader == Some(self.id)));
                m.term.set(now.current_term as i64);
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = watch.changed() => if changed.is_err() { return },
            }
        }
    }

    /// While this replica leads: a `--cluster.peer` that answers with an ID
    /// the cluster does not know is made a member — replacing the member
    /// at the same address (a replica whose data was wiped comes back under
    /// a new ID: it joins as a learner, catches up, then votes, and its
    /// lost log never counts), or added (a replica new to the list).
    async fn reconcile_members(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RETRY_EVERY * 10) => {}
            }
            let metrics = self.raft.metrics().borrow().clone();
            let membership = metrics.membership_config.membership().clone();
            // Every replica: each member's name (the status lists them by
            // name) and config hash (replicas routing with different configs
            // are a silent source of surprises).
            let others: Vec<(NodeId, String)> = membership
                .nodes()
                .filter(|(id, _)| **id != self.id)
                .map(|(id, node)| (*id, node.addr.clone()))
                .collect();
            for (id, addr) in others {
                let Some(them) = self.ask(&addr).await else {
                    continue;
                };
                if them.id != id {
                    continue;
                }
                self.names
                    .lock()
                    .expect("names lock")
                    .insert(id, them.name.clone());
                let differs = them.config_hash != 0
                    && self.config_hash() != 0
                    && them.config_hash != self.config_hash();
                let newly = {
                    let mut set = self.config_differs.lock().expect("config lock");
                    let newly = differs && !set.contains(&id);
                    if differs {
                        set.insert(id);
                    } else {
                        set.remove(&id);
                    }
                    self.options.metrics.config_mismatch.set(set.len() as i64);
                    newly
                };
                if newly {
                    tracing::warn!(
                        peer = %them.name,
                        address = %addr,
                        "this replica's alertmanager.yml differs from the peer's: they route and notify differently"
                    );
                }
            }
            if metrics.current_leader != Some(self.id) {
                continue;
            }
            let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
            for peer in &self.options.peers {
                let Some((id, name)) = self.ask_id(peer).await else {
                    continue;
                };
                if voters.contains(&id) || id == self.id {
                    continue;
                }
                self.names
                    .lock()
                    .expect("names lock")
                    .insert(id, name.clone());
                if let Err(e) = self.add_as_leader(id, &name, peer).await {
                    tracing::warn!(peer, error = %e, "adding a replica failed");
                }
                // One change at a time; the next round sees the result.
                break;
            }
        }
    }

    /// How long this replica waits before it first asks to send `key`:
    /// its rank among the voters by rendezvous hash of the key, times
    /// [`STAGGER`]. The first-ranked replica asks at once and, healthy, is
    /// the only one to write to the log for it (a claim, then `Sent`): the
    /// others find it sent, or its claim live, when their turn comes.
    pub fn stagger(&self, key: &NflogKey) -> Duration {
        let metrics = self.raft.metrics().borrow().clone();
        let encoded = key.encode();
        let score = |id: NodeId| xxhash_rust::xxh64::xxh64(encoded.as_bytes(), id);
        let mine = score(self.id);
        let rank = metrics
            .membership_config
            .membership()
            .voter_ids()
            .filter(|id| *id != self.id && score(*id) > mine)
            .count();
        STAGGER * rank as u32
    }

    /// How long a claim lasts (`--cluster.claim-ttl`).
    pub fn claim_ttl(&self) -> Duration {
        self.options.claim_ttl
    }

    /// This replica's position among the members by ID (0 first): the
    /// fail-open stagger's multiplier, as Alertmanager's peer position.
    pub fn position(&self) -> usize {
        let metrics = self.raft.metrics().borrow().clone();
        let mut ids: Vec<NodeId> = metrics
            .membership_config
            .nodes()
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.iter().position(|id| *id == self.id).unwrap_or(0)
    }

    /// Silence changes taken without quorum go to the log once a leader
    /// takes them.
    async fn propose_journal(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RETRY_EVERY * 5) => {}
            }
            if self.raft.metrics().borrow().current_leader.is_none() {
                continue;
            }
            let pending = self.journal.lock().expect("journal lock").clone();
            if !pending.is_empty()
                && self
                    .propose(Command::PutSilences(pending.clone()))
                    .await
                    .is_ok()
            {
                let mut journal = self.journal.lock().expect("journal lock");
                journal.retain(|s| !pending.contains(s));
                let _ = save(&self.storage, JOURNAL, &*journal);
                tracing::info!(
                    silences = pending.len(),
                    "silences taken without quorum are replicated"
                );
            }
            let sent = self.sent_journal.lock().expect("journal lock").clone();
            for journalled in sent {
                // Under its claim's token (0: fail-open, never fenced).
                let command = Command::Sent {
                    token: journalled.token,
                    entry: journalled.entry.clone(),
                };
                let Ok(applied) = self.propose(command).await else {
                    break;
                };
                if applied == Applied::Fenced && journalled.token != 0 {
                    self.options.metrics.fenced.inc();
                }
                let mut journal = self.sent_journal.lock().expect("journal lock");
                journal.retain(|j| *j != journalled);
                let _ = save(&self.storage, SENT_JOURNAL, &*journal);
                tracing::info!(group_key = %journalled.entry.key.group_key, "a notification sent without quorum is in the replicated log");
            }
        }
    }
}

/// This replica's ID: made once, kept in the store.
fn node_id(storage: &Storage) -> Result<NodeId, ClusterError> {
    let store = |e: crate::storage::StorageError| ClusterError::Store(e.to_string());
    if let Some(raw) = storage.raft_get("node_id").map_err(store)?
        && let Ok(bytes) = <[u8; 8]>::try_from(raw.as_slice())
    {
        return Ok(u64::from_be_bytes(bytes));
    }
    // Never 0: openraft and the status treat IDs as opaque, but a zero
    // is easy to mistake for "none" when reading logs.
    let id = (uuid::Uuid::new_v4().as_u64_pair().0) | 1;
    storage
        .raft_put("node_id", id.to_be_bytes().to_vec())
        .map_err(store)?;
    Ok(id)
}

/// A notification sent, whose `Sent` found no quorum: proposed again, under
/// its claim's token, until a leader takes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct JournalledSent {
    token: u64,
    entry: NflogEntry,
}

/// Where the journals of changes taken without a quorum are kept.
const JOURNAL: &str = "journal";
const SENT_JOURNAL: &str = "sent_journal";

fn load<T: serde::de::DeserializeOwned + Default>(
    storage: &Storage,
    key: &str,
) -> Result<T, ClusterError> {
    let raw = storage
        .raft_get(key)
        .map_err(|e| ClusterError::Store(e.to_string()))?;
    Ok(raw
        .and_then(|r| serde_json::from_slice(&r).ok())
        .unwrap_or_default())
}

fn save<T: serde::Serialize + ?Sized>(
    storage: &Storage,
    key: &str,
    value: &T,
) -> Result<(), crate::storage::StorageError> {
    storage.raft_put(key, serde_json::to_vec(value).expect("journal encodes"))
}

/// Silence changes through the cluster. Holds the cluster weakly: the
/// cluster's state machine holds the silences.
struct SilenceReplicator(Weak<Cluster>);

impl crate::silence::Replicator for SilenceReplicator {
    fn replicate(
        &self,
        silences: Vec<Silence>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SilenceError>> + Send + '_>>
    {
        Box::pin(async move {
            let Some(cluster) = self.0.upgrade() else {
                return Err(SilenceError::Invalid("the cluster has stopped".into()));
            };
            match cluster
                .propose(Command::PutSilences(silences.clone()))
                .await
            {
                Ok(_) => Ok(()),
                Err(e) => {
                    // Never refused for want of a quorum: kept here, and
                    // replicated when a leader takes it.
                    tracing::warn!(error = %e, "silence accepted without quorum; it is replicated once a leader takes it");
                    cluster.silences.apply_replicated(silences.clone()).await?;
                    {
                        let mut journal = cluster.journal.lock().expect("journal lock");
                        journal.extend(silences);
                        save(&cluster.storage, JOURNAL, &*journal)?;
                    }
                    cluster.storage.flush().await?;
                    Ok(())
                }
            }
        })
    }
}
