//! `tls_config.server_name`: the service's certificate is checked against
//! this name instead of the URL's host (a service reached by IP address or
//! through another name). reqwest has no such setting, so the TLS client
//! config is built here, as reqwest builds its own, with a verifier that
//! checks the chain as usual and the name given.
//!
//! The SNI sent is still the URL's host (Go sends `server_name`); a server
//! that picks its certificate by SNI must also serve it for that host.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::config::TlsConfig;
use crate::http_client::HttpClientError;

/// Checks the certificate chain with `inner`, and its name against `name`.
#[derive(Debug)]
struct FixedName {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _url_host: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn tls_error(field: &'static str) -> impl Fn(String) -> HttpClientError {
    move |reason| HttpClientError::Tls { field, reason }
}

/// The rustls client config for `tls` with `server_name` set: its CA (or
/// the system's roots), client certificate, versions, and `alpn`.
pub fn client_config(
    tls: &TlsConfig,
    server_name: &str,
    alpn: &[&[u8]],
) -> Result<rustls::ClientConfig, HttpClientError> {
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| tls_error("server_name")(e.to_string()))?;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let inner: Arc<dyn ServerCertVerifier> = match tls.ca_pem().map_err(|(f, r)| tls_error(f)(r))? {
        Some(pem) => {
            // As in Go, a configured CA replaces the system roots.
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| tls_error("ca_file")(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| tls_error("ca_file")(e.to_string()))?;
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| tls_error("ca_file")(e.to_string()))?
        }
        None => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| tls_error("server_name")(e.to_string()))?,
        ),
    };
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = rustls::ALL_VERSIONS
        .iter()
        .copied()
        .filter(|v| {
            let rank = |name: &Option<String>| match name.as_deref() {
                Some("TLS13") => 3,
                Some("TLS12") => 2,
                Some(_) => 1,
                None => 0,
            };
            let this = if v.version == rustls::ProtocolVersion::TLSv1_3 {
                3
            } else {
                2
            };
            this >= rank(&tls.min_version)
                && (tls.max_version.is_none() || this <= rank(&tls.max_version))
        })
        .collect();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| tls_error("min_version")(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(FixedName { inner, name }));
    let mut config = match tls.client_pems().map_err(|(f, r)| tls_error(f)(r))? {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(&cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_error("cert_file")(e.to_string()))?;
            let key = PrivateKeyDer::from_pem_slice(&key)
                .map_err(|_| tls_error("key_file")("not a private key in PEM".into()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error("cert_file")(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
