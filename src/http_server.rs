//! Serving a router on a listener, with the bounds a public port needs:
//! a cap on open connections (refused beyond it with a 503 that says
//! so), and a deadline for a request's header, which also closes a
//! keep-alive connection left idle (hyper starts the same timer while it
//! waits for the next request). The per-request bound (`--web.timeout`)
//! is a layer of the router; see `api`.
//!
//! Without these, a partial request or an idle connection was held
//! forever, and a thousand slowloris connections stayed open.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How a listener's connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Time a client has to send a request's header, and that a
    /// keep-alive connection may stay idle.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections still finishing a response at shutdown get this long.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A refused client gets this long to take its 503.
const REFUSAL_WRITE: Duration = Duration::from_secs(1);

const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Connection: close\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 26\r\n\
\r\n\
too many open connections\n";

/// Turns Nagle's algorithm off on `stream`, as Go's servers do: a listing
/// streams its answer in parts, and a small part held back until the
/// client's delayed acknowledgement cost 40 ms a request.
pub fn no_delay(stream: &tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY could not be set");
    }
}

/// What a server counts, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    pub open: AtomicU64,
    pub refused: AtomicU64,
}

/// Serves `router` on `listener` until `shutdown`, then lets open
/// requests finish (closing idle connections at once) for a bounded time.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: ConnectionLimits,
    counts: Arc<ConnectionCounts>,
    shutdown: CancellationToken,
) where
    L: Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    loop {
        // Accept errors (EMFILE among them) are handled, with a pause, by
        // the listener.
        let (io, _peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            counts.refused.fetch_add(1, Ordering::Relaxed);
            connections.spawn(refuse(io));
            continue;
        };
        let (router, counts, shutdown) = (router.clone(), counts.clone(), shutdown.clone());
        connections.spawn(async move {
            counts.open.fetch_add(1, Ordering::Relaxed);
            serve_connection(io, router, limits, shutdown).await;
            counts.open.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
    connections.close();
    connections.wait().await;
}

async fn serve_connection<I>(
    io: I,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        // A connection's own errors (a client gone, a header too slow)
        // are the client's business, not worth a log line each.
        _ = conn.as_mut() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
        }
    }
}

/// Answers a connection over the cap and closes it.
async fn refuse<I: AsyncWrite + Unpin>(mut io: I) {
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        io.write_all(REFUSAL).await?;
        io.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_declares_its_length() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
