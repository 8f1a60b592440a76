//! TLS for the listener: the rustls server config a web config asks for,
//! and a listener that hands axum connections whose handshake is done.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client that has not finished its handshake by then is dropped, so a
/// silent peer cannot hold a connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes under way at most; accepting waits beyond, so a flood of
/// idle connections cannot use up the process's file descriptors.
const MAX_HANDSHAKES: usize = 256;

/// `client_auth_type`, in the subset klaxon can honour: client
/// certificates are always verified against `client_ca_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Verify { required: bool },
}

impl ClientAuth {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "NoClientCert" => Ok(ClientAuth::None),
            "VerifyClientCertIfGiven" => Ok(ClientAuth::Verify { required: false }),
            "RequireAndVerifyClientCert" => Ok(ClientAuth::Verify { required: true }),
            "RequestClientCert" | "RequireAnyClientCert" => Err(format!(
                "{s} (a client certificate taken without verification) is not supported; \
                 use VerifyClientCertIfGiven or RequireAndVerifyClientCert with client_ca_file"
            )),
            other => Err(format!("invalid client_auth_type {other:?}")),
        }
    }

    pub fn verifies(self) -> bool {
        matches!(self, ClientAuth::Verify { .. })
    }
}

/// `min_version` / `max_version`, by Go's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            other => Err(format!(
                "unknown TLS version {other:?} (TLS10, TLS11, TLS12 or TLS13)"
            )),
        }
    }
}

/// The server config; an error names the field it comes from.
pub fn server_config(
    cert_file: &Path,
    key_file: &Path,
    client_auth: ClientAuth,
    client_ca_file: &Path,
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Result<Arc<rustls::ServerConfig>, (&'static str, String)> {
    // Go's default minimum is TLS 1.2. rustls speaks nothing older, so a
    // lower minimum is met by 1.2; a maximum below 1.2 cannot be.
    let min = min.unwrap_or(TlsVersion::Tls12).max(TlsVersion::Tls12);
    let max = max.unwrap_or(TlsVersion::Tls13);
    if max < TlsVersion::Tls12 {
        return Err((
            "max_version",
            "klaxon serves TLS 1.2 and 1.3 only; max_version must be TLS12 or TLS13".into(),
        ));
    }
    if min > max {
        return Err(("min_version", "min_version is above max_version".into()));
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| (min..=max).contains(v))
    .map(|(_, p)| p)
    .collect();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| ("min_version", e.to_string()))?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Verify { required } => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs("client_ca_file", client_ca_file)? {
                roots.add(cert).map_err(|e| {
                    (
                        "client_ca_file",
                        format!("{}: {e}", client_ca_file.display()),
                    )
                })?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            let verifier = if required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier.build().map_err(|e| {
                (
                    "client_ca_file",
                    format!("{}: {e}", client_ca_file.display()),
                )
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let certs = read_certs("cert_file", cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| ("key_file", format!("{}: {e}", key_file.display())))?;
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        let (cert, key) = (cert_file.display(), key_file.display());
        ("key_file", format!("{cert} with {key}: {e}"))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certs(
    field: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, (&'static str, String)> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| (field, format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        let path = path.display();
        return Err((field, format!("{path}: no certificate in the file")));
    }
    Ok(certs)
}

/// Accepts TCP connections and does their handshakes off the accept path,
/// each in a task of its own, so a slow client holds up nobody else.
/// Dropping it (the server stopping) closes the TCP listener.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Serves with the TLS settings of `web` in force at each handshake,
    /// so a reload's certificate applies to the next connection.
    pub fn new(tcp: TcpListener, web: Arc<super::LiveWeb>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = tx.closed() => break,
                    accepted = accept(&tcp, &handshakes) => accepted,
                };
                let (stream, peer, slot) = match accepted {
                    Ok(a) => a,
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors and the like: pause
                        // rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // A reload cannot turn TLS off (see `LiveWeb::reload`).
                let Some(config) = web.current().tls.clone() else {
                    continue;
                };
                let (acceptor, tx) = (TlsAcceptor::from(config), tx.clone());
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    drop(slot);
                    match handshake {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { local, ready })
    }
}

/// The next connection, once fewer than [`MAX_HANDSHAKES`] are under way.
async fn accept(
    tcp: &TcpListener,
    handshakes: &Arc<tokio::sync::Semaphore>,
) -> std::io::Result<(TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit)> {
    let slot = handshakes
        .clone()
        .acquire_owned()
        .await
        .expect("the handshake semaphore is never closed");
    let (stream, peer) = tcp.accept().await?;
    crate::http_server::no_delay(&stream);
    Ok((stream, peer, slot))
}

/// Errors of one connection (it went away before it was accepted), not of
/// the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task holds a sender for as long as this listener
            // lives, so this is not reached; wait rather than spin if it is.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
