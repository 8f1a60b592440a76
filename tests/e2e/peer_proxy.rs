//! A test-owned TCP proxy in front of each replica's cluster port, to cut
//! a replica off from the others and heal it, without privileges.
//!
//! Each replica advertises its proxy's address, so every message *to* it
//! passes its proxy; every message *from* it names it in the
//! `x-klaxon-cluster-source` header of the connection's first request, so
//! the other replicas' proxies can refuse those too. Cutting a replica
//! closes both directions, including connections already open.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The replica a connection comes from, once its first request named it.
type Sender = Arc<Mutex<Option<u64>>>;
/// The replica behind a proxy (0 until the test learns its ID).
type Target = Arc<Mutex<u64>>;

/// Which replicas are cut off, shared by every proxy of one cluster.
#[derive(Clone, Default)]
pub struct Partition {
    cut: Arc<Mutex<HashSet<u64>>>,
    /// Open connections: the replica they lead to, the one they come from.
    #[allow(clippy::type_complexity)]
    open: Arc<Mutex<Vec<(Target, Sender, AbortHandle)>>>,
}

impl Partition {
    /// Cuts `id` off: nothing reaches it, nothing from it reaches anyone.
    pub fn cut(&self, id: u64) {
        self.cut.lock().unwrap().insert(id);
        self.open.lock().unwrap().retain(|(to, from, task)| {
            let affected = *to.lock().unwrap() == id || *from.lock().unwrap() == Some(id);
            if affected {
                task.abort();
            }
            !affected
        });
    }

    pub fn heal(&self) {
        self.cut.lock().unwrap().clear();
    }

    fn is_cut(&self, id: u64) -> bool {
        self.cut.lock().unwrap().contains(&id)
    }
}

/// Listens on a free loopback port and forwards to `upstream`, the cluster
/// port of replica `id` (set once known: its ID is made at its first start).
pub struct PeerProxy {
    pub port: u16,
    id: Target,
}

impl PeerProxy {
    /// `reserved`: ports the replicas are about to listen on (picked free
    /// and released), which the proxy must not take from them.
    pub async fn start(upstream: u16, reserved: &[u16], partition: Partition) -> PeerProxy {
        let mut refused = Vec::new();
        let listener = loop {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            if !reserved.contains(&port) {
                break listener;
            }
            // Held until a free one is found, so it is not offered again.
            refused.push(listener);
        };
        drop(refused);
        let port = listener.local_addr().unwrap().port();
        let id = Target::default();
        let target = id.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let to = target.clone();
                let from = Sender::default();
                let task = tokio::spawn(forward(
                    inbound,
                    upstream,
                    to.clone(),
                    from.clone(),
                    partition.clone(),
                ));
                let mut open = partition.open.lock().unwrap();
                open.retain(|(_, _, t)| !t.is_finished());
                open.push((to, from, task.abort_handle()));
            }
        });
        PeerProxy { port, id }
    }

    /// The replica behind this proxy is `id`.
    pub fn set_id(&self, id: u64) {
        *self.id.lock().unwrap() = id;
    }
}

/// Reads the first request's head to learn the sender, then pipes both
/// ways, unless either end is cut off.
async fn forward(
    mut inbound: TcpStream,
    upstream: u16,
    to: Target,
    sender: Sender,
    partition: Partition,
) {
    let to = || *to.lock().unwrap();
    if partition.is_cut(to()) {
        return;
    }
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match inbound.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let from = source(&head);
    if from.is_some_and(|f| partition.is_cut(f)) || partition.is_cut(to()) {
        return;
    }
    // Recorded, so that cutting the sender closes this connection.
    *sender.lock().unwrap() = from;
    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    if outbound.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

fn source(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("x-klaxon-cluster-source")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}
