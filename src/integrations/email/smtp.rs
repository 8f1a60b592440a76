//! The SMTP side of the email integration, decided as Alertmanager decides:
//! implicit TLS on port 465 or with `force_implicit_tls`; otherwise
//! STARTTLS when `require_tls` (the default), failing (retryably) rather
//! than sending in plain text when the server does not offer it; AUTH only
//! when `auth_username` is set, with the first mechanism the server lists
//! that klaxon supports (PLAIN, LOGIN, CRAM-MD5). Failures are classified:
//! 4xx replies and network errors are retryable, 5xx replies permanent.
//!
//! lettre's connection carries the protocol; the AUTH exchange is written
//! here because lettre chooses mechanisms in the client's order, has no
//! PLAIN authorization identity and no CRAM-MD5.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, Identity, TlsParameters, TlsVersion,
};
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use md5::{Digest, Md5};

use crate::config::EmailConfig;
use crate::integrations::NotifyError;
use crate::integrations::http::error_chain;

/// How long connecting (TCP and implicit TLS) may take. The pipeline's
/// flush deadline bounds the whole exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an email config cannot be turned into a notifier (raised at config
/// load, never at send time).
#[derive(Debug, thiserror::Error)]
pub enum EmailBuildError {
    #[error("smarthost {0:?}: {1}")]
    Smarthost(String, String),
    #[error("tls_config.{field}: {reason}")]
    Tls { field: &'static str, reason: String },
}

/// Where and how to connect; built once per config.
pub(super) struct Transport {
    /// `host:port` as configured, for messages.
    smarthost: String,
    host: String,
    port: u16,
    hello: ClientId,
    /// `None` when neither implicit TLS nor STARTTLS will be used.
    tls: Option<TlsParameters>,
    implicit_tls: bool,
    require_tls: bool,
}

/// AUTH credentials for one send. The password and secret are kept as
/// read results: Alertmanager only fails on an unreadable file when the
/// mechanism chosen needs it.
pub(super) struct Credentials {
    pub username: String,
    pub identity: String,
    pub password: Result<String, NotifyError>,
    pub secret: Result<String, NotifyError>,
}

impl Credentials {
    /// Removes the password and secret from an error text: every form
    /// [`crate::secrets::Secrets`] knows (raw, escaped, base64, fragments),
    /// and the base64 of the whole SASL PLAIN answer an AUTH exchange
    /// carries.
    pub fn redact(&self, e: NotifyError) -> NotifyError {
        let mut secrets = crate::secrets::Secrets::default();
        for s in [&self.password, &self.secret].into_iter().flatten() {
            secrets.add(s);
        }
        if let Ok(p) = &self.password {
            secrets.add_exact(&BASE64.encode(plain_response(&self.identity, &self.username, p)));
        }
        e.map_reason(|reason| secrets.scrub(&reason))
    }
}

impl Transport {
    pub fn new(config: &EmailConfig) -> Result<Self, EmailBuildError> {
        let smarthost = config.smarthost.clone().unwrap_or_default();
        let (host, port) = split_host_port(&smarthost)
            .map_err(|reason| EmailBuildError::Smarthost(smarthost.clone(), reason))?;
        let implicit_tls = config.force_implicit_tls.unwrap_or(port == 465);
        let require_tls = config.require_tls.unwrap_or(true);
        let tls = if implicit_tls || require_tls {
            Some(tls_parameters(config, &host)?)
        } else {
            None
        };
        let hello = config.hello.clone().unwrap_or_else(|| "localhost".into());
        Ok(Transport {
            smarthost,
            host,
            port,
            hello: ClientId::Domain(hello),
            tls,
            implicit_tls,
            require_tls,
        })
    }

    /// One SMTP session: connect, secure, authenticate, send, quit.
    pub async fn send(
        &self,
        envelope: &Envelope,
        message: &[u8],
        credentials: Option<&Credentials>,
    ) -> Result<(), NotifyError> {
        let implicit = self.tls.clone().filter(|_| self.implicit_tls);
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(CONNECT_TIMEOUT),
            &self.hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| classify(&format!("connecting to {}", self.smarthost), &e))?;
        let result = self
            .session(&mut conn, envelope, message, credentials)
            .await;
        match &result {
            Ok(()) => {
                // The message is accepted; a failed QUIT changes nothing.
                let _ = conn.quit().await;
            }
            Err(_) => conn.abort().await,
        }
        result
    }

    async fn session(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        message: &[u8],
        credentials: Option<&Credentials>,
    ) -> Result<(), NotifyError> {
        if self.require_tls && !self.implicit_tls {
            if !conn.can_starttls() {
                // Never fall back to plain text: the message and the
                // password would cross the network readable.
                return Err(NotifyError::retryable(format!(
                    "'require_tls' is true (default) but {:?} does not advertise the STARTTLS extension",
                    self.smarthost
                )));
            }
            let tls = self
                .tls
                .clone()
                .expect("TLS parameters exist when TLS is required");
            conn.starttls(tls, &self.hello)
                .await
                .map_err(|e| classify("STARTTLS", &e))?;
        }
        if let Some(credentials) = credentials {
            self.authenticate(conn, credentials).await?;
        }
        conn.send(envelope, message)
            .await
            .map_err(|e| classify("sending the message", &e))?;
        Ok(())
    }

    async fn authenticate(
        &self,
        conn: &mut AsyncSmtpConnection,
        credentials: &Credentials,
    ) -> Result<(), NotifyError> {
        // lettre keeps the server's mechanisms in a set; the order matters
        // (the first one the server lists wins), so ask again.
        let ehlo = conn
            .command(Ehlo::new(self.hello.clone()))
            .await
            .map_err(|e| classify("EHLO", &e))?;
        let Some(offered) = auth_mechanisms(&ehlo) else {
            // As Alertmanager: no AUTH extension, no authentication.
            tracing::debug!(smarthost = %self.smarthost, "server offers no AUTH; sending unauthenticated");
            return Ok(());
        };
        let mechanism = choose_mechanism(&offered, credentials)?;
        let step = format!("authenticating ({})", mechanism.name());
        let fail = |e: SmtpError| classify(&step, &e);
        match mechanism {
            Mechanism::Plain => {
                let password = credentials.password.as_ref().map_err(Clone::clone)?;
                let token = plain_response(&credentials.identity, &credentials.username, password);
                conn.command(line(format!("AUTH PLAIN {}", BASE64.encode(token))))
                    .await
                    .map_err(fail)?;
            }
            Mechanism::Login => {
                let password = credentials.password.as_ref().map_err(Clone::clone)?;
                expect_challenge(
                    conn.command(line("AUTH LOGIN".into()))
                        .await
                        .map_err(fail)?,
                    &step,
                )?;
                let reply = conn
                    .command(line(BASE64.encode(&credentials.username)))
                    .await
                    .map_err(fail)?;
                expect_challenge(reply, &step)?;
                conn.command(line(BASE64.encode(password)))
                    .await
                    .map_err(fail)?;
            }
            Mechanism::CramMd5 => {
                let secret = credentials.secret.as_ref().map_err(Clone::clone)?;
                let reply = conn
                    .command(line("AUTH CRAM-MD5".into()))
                    .await
                    .map_err(fail)?;
                let challenge = expect_challenge(reply, &step)?;
                let challenge = BASE64.decode(challenge.trim()).map_err(|_| {
                    NotifyError::retryable(format!("{step}: the server's challenge is not base64"))
                })?;
                let answer = cram_md5_response(&credentials.username, secret, &challenge);
                conn.command(line(BASE64.encode(answer)))
                    .await
                    .map_err(fail)?;
            }
        }
        Ok(())
    }
}

/// An SMTP command line.
fn line(text: String) -> String {
    text + "\r\n"
}

/// A 334 reply's text (the challenge), or an error for anything else.
fn expect_challenge(reply: Response, step: &str) -> Result<String, NotifyError> {
    if reply.has_code(334) {
        Ok(reply.message().next().unwrap_or_default().to_owned())
    } else {
        Err(NotifyError::retryable(format!(
            "{step}: expected a 334 challenge, got {}",
            reply.code()
        )))
    }
}

/// SASL mechanisms klaxon can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mechanism {
    Plain,
    Login,
    CramMd5,
}

impl Mechanism {
    fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }
}

/// The mechanisms of the EHLO reply's `AUTH` line, in the server's order;
/// `None` when the server offers no AUTH.
pub(super) fn auth_mechanisms(ehlo: &Response) -> Option<Vec<String>> {
    ehlo.message().find_map(|l| {
        let mut words = l.split([' ', '=']);
        let keyword = words.next()?;
        keyword
            .eq_ignore_ascii_case("AUTH")
            .then(|| words.filter(|w| !w.is_empty()).map(str::to_owned).collect())
    })
}

/// Alertmanager's choice: walk the server's list in order and take the
/// first mechanism that can be used. CRAM-MD5 needs `auth_secret`, PLAIN
/// and LOGIN a readable password. Nothing usable is a permanent error: the
/// next attempt would be offered the same list.
pub(super) fn choose_mechanism(
    offered: &[String],
    credentials: &Credentials,
) -> Result<Mechanism, NotifyError> {
    let mut problems = Vec::new();
    for m in offered {
        match m.to_ascii_uppercase().as_str() {
            "CRAM-MD5" => match &credentials.secret {
                Ok(s) if !s.is_empty() => return Ok(Mechanism::CramMd5),
                Ok(_) => problems.push("missing secret for CRAM-MD5 auth mechanism".to_owned()),
                Err(e) => problems.push(e.to_string()),
            },
            "PLAIN" | "LOGIN" => match &credentials.password {
                Ok(_) if m.eq_ignore_ascii_case("PLAIN") => return Ok(Mechanism::Plain),
                Ok(_) => return Ok(Mechanism::Login),
                Err(e) => problems.push(e.to_string()),
            },
            _ => {}
        }
    }
    if problems.is_empty() {
        problems.push(format!(
            "unknown auth mechanism: {} (klaxon supports PLAIN, LOGIN and CRAM-MD5)",
            offered.join(" ")
        ));
    }
    Err(NotifyError::permanent(format!(
        "find auth mechanism: {}",
        problems.join("; ")
    )))
}

/// SASL PLAIN (RFC 4616): `authzid NUL authcid NUL password`.
fn plain_response(identity: &str, username: &str, password: &str) -> Vec<u8> {
    format!("{identity}\0{username}\0{password}").into_bytes()
}

/// CRAM-MD5 (RFC 2195): `username SP hex(HMAC-MD5(secret, challenge))`.
pub(super) fn cram_md5_response(username: &str, secret: &str, challenge: &[u8]) -> String {
    let digest = hmac_md5(secret.as_bytes(), challenge);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{username} {hex}")
}

/// HMAC (RFC 2104) over MD5, the only use of it here.
pub(super) fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Md5::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Md5::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// What went wrong, reduced to what decides a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// A negative SMTP reply with its code.
    Reply(u16),
    /// The connection failed, broke or timed out, or TLS failed.
    Network,
    /// The server's answer could not be parsed.
    Protocol,
    /// lettre refused locally (e.g. non-ASCII without 8BITMIME).
    Client,
}

impl Failure {
    fn of(e: &SmtpError) -> Failure {
        if let Some(code) = e.status() {
            return Failure::Reply(code.to_string().parse().unwrap_or(0));
        }
        if e.is_client() {
            Failure::Client
        } else if e.is_response() {
            Failure::Protocol
        } else {
            Failure::Network
        }
    }

    /// 4xx replies are transient (RFC 5321 4.2.1), 5xx permanent; the
    /// network may heal; a local refusal will not.
    pub(super) fn is_retryable(self) -> bool {
        match self {
            Failure::Reply(code) => !(500..600).contains(&code),
            Failure::Network | Failure::Protocol => true,
            Failure::Client => false,
        }
    }
}

/// A lettre error as a [`NotifyError`] naming the step that failed.
fn classify(step: &str, e: &SmtpError) -> NotifyError {
    let reason = format!("{step}: {}", error_chain(e));
    if Failure::of(e).is_retryable() {
        NotifyError::retryable(reason)
    } else {
        NotifyError::permanent(reason)
    }
}

/// `host:port` (IPv6 in brackets); the port may be a service name, as Go
/// resolves it.
pub(super) fn split_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| "missing port (expected host:port)".to_owned())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = match port {
        "smtp" => 25,
        "submission" => 587,
        "smtps" | "submissions" => 465,
        p => p
            .parse()
            .map_err(|_| format!("unknown port {p:?} (expected a number)"))?,
    };
    Ok((host.to_owned(), port))
}

/// TLS settings from `tls_config`, as Prometheus' TLS config means them:
/// `ca_file` replaces the system roots, `server_name` defaults to the
/// smarthost's host, `insecure_skip_verify` skips every check.
fn tls_parameters(config: &EmailConfig, host: &str) -> Result<TlsParameters, EmailBuildError> {
    let tls = config.tls_config.clone().unwrap_or_default();
    let domain = tls.server_name.clone().unwrap_or_else(|| host.to_owned());
    let mut builder = TlsParameters::builder(domain);
    let bad = |field: &'static str| {
        move |e: lettre::transport::smtp::Error| EmailBuildError::Tls {
            field,
            reason: error_chain(&e),
        }
    };
    let tls_error =
        |(field, reason): (&'static str, String)| EmailBuildError::Tls { field, reason };
    if let Some(pem) = tls.ca_pem().map_err(tls_error)? {
        builder = builder
            .certificate_store(CertificateStore::None)
            .add_root_certificate(Certificate::from_pem(&pem).map_err(bad("ca_file"))?);
    }
    if let Some((cert, key)) = tls.client_pems().map_err(tls_error)? {
        let identity = Identity::from_pem(&cert, &key).map_err(bad("cert_file"))?;
        builder = builder.identify_with(identity);
    }
    if tls.insecure_skip_verify {
        builder = builder
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    match tls.min_version.as_deref() {
        None | Some("TLS12") => {}
        Some("TLS13") => builder = builder.set_min_tls_version(TlsVersion::Tlsv13),
        Some(other) => {
            // rustls speaks TLS 1.2 and 1.3 only. Refusing the config would
            // break a drop-in replacement over a floor that still holds.
            tracing::warn!(
                min_version = other,
                "tls_config.min_version below TLS12 is raised to TLS12 (rustls has no older TLS)"
            );
        }
    }
    builder.build_rustls().map_err(bad("tls_config"))
}
