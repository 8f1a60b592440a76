//! Prometheus' `http_config` turned into a `reqwest::Client` and per-request
//! credentials: the one place that does it, for the integrations and for
//! amctl's API client alike. Credential files are read for each request,
//! so a rotated token is picked up without a restart.

use std::sync::Arc;
use std::time::Duration;

use reqwest::RequestBuilder;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::config::{HttpConfig, Secret};

/// Why an `http_config` cannot be turned into a client. Raised when the
/// receivers are built (config load), never at send time.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("tls_config.{field}: {reason}")]
    Tls { field: &'static str, reason: String },
    /// The proxy URL is not shown: it may carry credentials.
    #[error("invalid proxy_url")]
    Proxy,
    #[error("invalid header {0:?}")]
    Header(String),
    #[error("building the HTTP client: {0}")]
    Build(String),
}

/// Builds the client an `http_config` describes: redirects, HTTP/2,
/// proxies, headers and TLS (CA, client certificate, minimum version).
/// `timeout` bounds each request (`None` or zero: no bound).
pub fn client(
    config: &HttpConfig,
    user_agent: &str,
    timeout: Option<Duration>,
) -> Result<reqwest::Client, HttpClientError> {
    let mut builder =
        reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(if config.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            });
    if let Some(t) = timeout.filter(|t| !t.is_zero()) {
        builder = builder.timeout(t);
    }
    if !config.enable_http2 {
        builder = builder.http1_only();
    }
    if !config.proxy_from_environment {
        // Alertmanager ignores HTTP_PROXY & co. unless told otherwise.
        builder = builder.no_proxy();
    }
    if let Some(proxy) = &config.proxy_url {
        let mut proxy = reqwest::Proxy::all(proxy).map_err(|_| HttpClientError::Proxy)?;
        if let Some(bypass) = &config.no_proxy {
            proxy = proxy.no_proxy(reqwest::NoProxy::from_string(bypass));
        }
        // `proxy_connect_header`: sent to the proxy (with CONNECT for
        // HTTPS targets), never to the service.
        if !config.proxy_connect_header.is_empty() {
            proxy = proxy.headers(connect_headers(config)?);
        }
        builder = builder.proxy(proxy);
    }
    if config.proxy_from_environment && !config.proxy_connect_header.is_empty() {
        // The environment's proxies, made here so that they carry the
        // CONNECT headers (reqwest's own reading of the environment has
        // no place for them): HTTPS_PROXY for https, HTTP_PROXY for http,
        // upper case first, NO_PROXY for both, as Go reads them.
        builder = builder.no_proxy();
        let headers = connect_headers(config)?;
        let var = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        };
        for (https, names) in [
            (true, ["HTTPS_PROXY", "https_proxy"]),
            (false, ["HTTP_PROXY", "http_proxy"]),
        ] {
            if let Some(url) = var(names) {
                let proxy = if https {
                    reqwest::Proxy::https(&url)
                } else {
                    reqwest::Proxy::http(&url)
                };
                let proxy = proxy
                    .map_err(|_| HttpClientError::Proxy)?
                    .headers(headers.clone())
                    .no_proxy(reqwest::NoProxy::from_env());
                builder = builder.proxy(proxy);
            }
        }
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpClientError::Header(name.clone()))?;
        let mut v =
            HeaderValue::from_str(value).map_err(|_| HttpClientError::Header(name.clone()))?;
        v.set_sensitive(true);
        headers.insert(n, v);
    }
    // `http_headers`: every value and secret of a name, in that order.
    for (name, h) in &config.http_headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpClientError::Header(name.clone()))?;
        let values = h.values.iter().map(String::as_str);
        for value in values.chain(h.secrets.iter().map(|s| s.expose())) {
            let mut v =
                HeaderValue::from_str(value).map_err(|_| HttpClientError::Header(name.clone()))?;
            v.set_sensitive(true);
            headers.append(n.clone(), v);
        }
    }
    builder = builder.default_headers(headers);
    if let Some(tls) = &config.tls_config {
        let tls_error =
            |(field, reason): (&'static str, String)| HttpClientError::Tls { field, reason };
        if let Some(pem) = tls.ca_pem().map_err(tls_error)? {
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| HttpClientError::Tls {
                    field: "ca_file",
                    reason: e.to_string(),
                })?;
            // As in Go, a configured CA replaces the system roots.
            builder = builder.tls_certs_only(certs);
        }
        if let Some((mut pem, key)) = tls.client_pems().map_err(tls_error)? {
            pem.push(b'\n');
            pem.extend(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| HttpClientError::Tls {
                field: "cert_file",
                reason: e.to_string(),
            })?;
            builder = builder.identity(identity);
        }
        if tls.insecure_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if let Some(v) = &tls.min_version {
            builder = builder.tls_version_min(tls_version("min_version", v)?);
        }
        if let Some(v) = &tls.max_version {
            builder = builder.tls_version_max(tls_version("max_version", v)?);
        }
        if let Some(name) = tls.server_name.as_deref().filter(|n| !n.is_empty())
            && !tls.insecure_skip_verify
        {
            // Replaces the TLS settings above with the same ones, plus the
            // name to verify (reqwest has no setting for it). HTTP/1.1 is
            // the only protocol this build of reqwest speaks.
            let config = crate::tls_server_name::client_config(tls, name, &[b"http/1.1"])?;
            builder = builder.tls_backend_preconfigured(config);
        }
    }
    builder
        .build()
        .map_err(|e| HttpClientError::Build(error_chain(&e.without_url())))
}

/// `proxy_connect_header` as headers, each value marked sensitive.
fn connect_headers(config: &HttpConfig) -> Result<HeaderMap, HttpClientError> {
    let mut headers = HeaderMap::new();
    for (name, values) in &config.proxy_connect_header {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpClientError::Header(name.clone()))?;
        for value in values {
            let mut v = HeaderValue::from_str(value.expose())
                .map_err(|_| HttpClientError::Header(name.clone()))?;
            v.set_sensitive(true);
            headers.append(n.clone(), v);
        }
    }
    Ok(headers)
}

/// prometheus/common's names of the TLS versions.
fn tls_version(field: &'static str, name: &str) -> Result<reqwest::tls::Version, HttpClientError> {
    Ok(match name {
        "TLS10" => reqwest::tls::Version::TLS_1_0,
        "TLS11" => reqwest::tls::Version::TLS_1_1,
        "TLS12" => reqwest::tls::Version::TLS_1_2,
        "TLS13" => reqwest::tls::Version::TLS_1_3,
        other => {
            return Err(HttpClientError::Tls {
                field,
                reason: format!("unknown TLS version {other:?}"),
            });
        }
    })
}

/// Credentials added to each request.
#[derive(Debug, Clone)]
pub enum Credentials {
    Basic {
        username: String,
        username_file: Option<String>,
        password: Option<Secret>,
        password_file: Option<String>,
    },
    /// OAuth 2.0 client credentials: a bearer token from `token_url`,
    /// fetched when needed and reused until it expires.
    OAuth2(Arc<OAuth2Source>),
    /// `Authorization: <kind> <credentials>`; `bearer_token` is `Bearer`.
    Authorization {
        kind: String,
        credentials: Option<Secret>,
        credentials_file: Option<String>,
    },
}

impl Credentials {
    /// The credentials an `http_config` configures, if any.
    pub fn from_config(config: &HttpConfig) -> Option<Credentials> {
        if let Some(o) = &config.oauth2 {
            return Some(Credentials::OAuth2(Arc::new(OAuth2Source {
                config: o.clone(),
                token: tokio::sync::Mutex::new(None),
            })));
        }
        if let Some(b) = &config.basic_auth {
            return Some(Credentials::Basic {
                username: b.username.clone(),
                username_file: b.username_file.clone(),
                password: b.password.clone(),
                password_file: b.password_file.clone(),
            });
        }
        if let Some(a) = &config.authorization {
            return Some(Credentials::Authorization {
                kind: a.kind.clone(),
                credentials: a.credentials.clone(),
                credentials_file: a.credentials_file.clone(),
            });
        }
        if config.bearer_token.is_some() || config.bearer_token_file.is_some() {
            return Some(Credentials::Authorization {
                kind: "Bearer".into(),
                credentials: config.bearer_token.clone(),
                credentials_file: config.bearer_token_file.clone(),
            });
        }
        None
    }

    /// Adds the credentials to a request, reading a credential file now.
    /// The error names the field and file, never the secret.
    pub async fn apply(&self, req: RequestBuilder) -> Result<RequestBuilder, String> {
        Ok(match self {
            Credentials::Basic {
                username,
                username_file,
                password,
                password_file,
            } => {
                let username = match username_file {
                    Some(f) => read_secret("basic_auth.username_file", f).await?,
                    None => username.clone(),
                };
                let password = match (password, password_file) {
                    (Some(p), _) => p.expose().to_owned(),
                    (None, Some(f)) => read_secret("basic_auth.password_file", f).await?,
                    (None, None) => String::new(),
                };
                req.basic_auth(&username, Some(password))
            }
            Credentials::OAuth2(source) => req.bearer_auth(source.token().await?),
            Credentials::Authorization {
                kind,
                credentials,
                credentials_file,
            } => {
                let token = match (credentials, credentials_file) {
                    (Some(c), _) => c.expose().to_owned(),
                    (None, Some(f)) => read_secret("credentials_file", f).await?,
                    (None, None) => String::new(),
                };
                let mut value = HeaderValue::from_str(&format!("{kind} {token}"))
                    .map_err(|_| "authorization credentials are not a valid header value")?;
                value.set_sensitive(true);
                req.header(AUTHORIZATION, value)
            }
        })
    }
}

/// Reads a secret (or URL) file, trimmed as Prometheus does.
pub async fn read_secret(field: &str, path: &str) -> Result<String, String> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("{field}: cannot read {path:?}: {e}"))
}

/// `error: cause: cause`, as Go prints wrapped errors.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// An OAuth 2.0 client-credentials token source (prometheus/common's
/// `oauth2`), shared by every request of one client.
#[derive(Debug)]
pub struct OAuth2Source {
    config: crate::config::OAuth2,
    token: tokio::sync::Mutex<Option<(String, Option<std::time::Instant>)>>,
}

impl OAuth2Source {
    /// The cached token, or a new one when there is none or it expires
    /// within ten seconds. Errors name the field, never the secret.
    async fn token(&self) -> Result<String, String> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && expires.is_none_or(|at| at > std::time::Instant::now() + Duration::from_secs(10))
        {
            return Ok(token.clone());
        }
        let fetched = if self.config.grant_type == crate::config::JWT_BEARER {
            self.fetch_with_assertion().await?
        } else {
            self.fetch_with_client_secret().await?
        };
        *cached = Some(fetched.clone());
        Ok(fetched.0)
    }

    /// The token request's own client (its TLS and proxy settings).
    fn token_client(&self) -> Result<reqwest::Client, String> {
        let o = &self.config;
        let http = HttpConfig {
            tls_config: o.tls_config.clone(),
            proxy_url: o.proxy_url.clone(),
            no_proxy: o.no_proxy.clone(),
            proxy_from_environment: o.proxy_from_environment,
            // The token endpoint must not be redirected elsewhere.
            follow_redirects: false,
            ..HttpConfig::default()
        };
        client_for_tokens(&http)
    }

    /// The client-credentials grant, through the `oauth2` crate.
    async fn fetch_with_client_secret(
        &self,
    ) -> Result<(String, Option<std::time::Instant>), String> {
        use oauth2::TokenResponse;
        let o = &self.config;
        let secret = match (&o.client_secret, &o.client_secret_file) {
            (Some(s), _) => s.expose().to_owned(),
            (None, Some(f)) => read_secret("oauth2.client_secret_file", f).await?,
            (None, None) => String::new(),
        };
        let token_url = oauth2::TokenUrl::new(o.token_url.clone())
            .map_err(|e| format!("oauth2.token_url: {e}"))?;
        let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(o.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(secret))
            .set_token_uri(token_url);
        let http = self.token_client()?;
        let mut request = client.exchange_client_credentials();
        for scope in &o.scopes {
            request = request.add_scope(oauth2::Scope::new(scope.clone()));
        }
        for (k, v) in &o.endpoint_params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        let send = |req: oauth2::HttpRequest| {
            let http = http.clone();
            async move {
                let req = reqwest::Request::try_from(req).map_err(TokenHttpError)?;
                let resp = http
                    .execute(req)
                    .await
                    .map_err(|e| TokenHttpError(e.without_url()))?;
                let mut out = http::Response::builder().status(resp.status());
                for (k, v) in resp.headers() {
                    out = out.header(k, v);
                }
                let body = resp.bytes().await.map_err(TokenHttpError)?;
                Ok::<_, TokenHttpError>(out.body(body.to_vec()).expect("a valid response"))
            }
        };
        let answer = request.request_async(&send).await.map_err(|e| {
            format!(
                "oauth2: fetching a token from the token_url failed: {}",
                error_chain(&e)
            )
        })?;
        let token = answer.access_token().secret().clone();
        let expires = answer.expires_in().map(|d| std::time::Instant::now() + d);
        Ok((token, expires))
    }

    /// RFC 7523's jwt-bearer grant, as prometheus/common makes it: an
    /// assertion signed with the client's RSA key (`iss` = `iss` or the
    /// client ID, `sub` = client ID, `aud` = `audience` or the token URL,
    /// a random `jti`, ten minutes of validity, `scope`, then `claims`).
    async fn fetch_with_assertion(&self) -> Result<(String, Option<std::time::Instant>), String> {
        let o = &self.config;
        let key = match (&o.client_certificate_key, &o.client_certificate_key_file) {
            (Some(k), _) => k.expose().to_owned(),
            (None, Some(f)) => read_secret("oauth2.client_certificate_key_file", f).await?,
            (None, None) => String::new(),
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key.as_bytes()).map_err(|_| {
            "oauth2.client_certificate_key: not an RSA private key in PEM".to_owned()
        })?;
        let algorithm = match o.signature_algorithm.as_str() {
            "RS384" => jsonwebtoken::Algorithm::RS384,
            "RS512" => jsonwebtoken::Algorithm::RS512,
            _ => jsonwebtoken::Algorithm::RS256,
        };
        let mut header = jsonwebtoken::Header::new(algorithm);
        if !o.client_certificate_key_id.is_empty() {
            header.kid = Some(o.client_certificate_key_id.clone());
        }
        let now = chrono::Utc::now().timestamp();
        let scopes = o.scopes.join(" ");
        let mut claims = serde_json::Map::new();
        let iss = if o.iss.is_empty() {
            &o.client_id
        } else {
            &o.iss
        };
        let aud = if o.audience.is_empty() {
            &o.token_url
        } else {
            &o.audience
        };
        claims.insert("iss".into(), iss.clone().into());
        claims.insert("sub".into(), o.client_id.clone().into());
        claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
        claims.insert("aud".into(), aud.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 600).into());
        if !scopes.is_empty() {
            claims.insert("scope".into(), scopes.clone().into());
        }
        claims.extend(o.claims.iter().map(|(k, v)| (k.clone(), v.clone())));
        let assertion = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| format!("oauth2: signing the assertion failed: {e}"))?;
        let mut form = vec![
            (
                "grant_type".to_owned(),
                crate::config::JWT_BEARER.to_owned(),
            ),
            ("assertion".to_owned(), assertion),
        ];
        if !scopes.is_empty() {
            form.push(("scope".into(), scopes));
        }
        for (k, v) in &o.endpoint_params {
            match form.iter_mut().find(|(name, _)| name == k) {
                // Only grant_type may be replaced (for servers that want
                // another name), as in prometheus/common.
                Some((name, value)) if name == "grant_type" => *value = v.clone(),
                Some(_) => return Err(format!("oauth2: cannot overwrite parameter {k:?}")),
                None => form.push((k.clone(), v.clone())),
            }
        }
        let answer = self
            .token_client()?
            .post(&o.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "oauth2: cannot fetch token: {}",
                    error_chain(&e.without_url())
                )
            })?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!(
                "oauth2: cannot fetch token: the token_url answered {status}"
            ));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            access_token: String,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let body: Answer = answer
            .json()
            .await
            .map_err(|_| "oauth2: cannot fetch token: the answer is not a token".to_owned())?;
        let expires = body
            .expires_in
            .filter(|s| *s > 0)
            .map(|s| std::time::Instant::now() + Duration::from_secs(s));
        Ok((body.access_token, expires))
    }
}

/// The token request's own client (its TLS and proxy settings).
fn client_for_tokens(config: &HttpConfig) -> Result<reqwest::Client, String> {
    client(config, USER_AGENT_TOKENS, Some(Duration::from_secs(30)))
        .map_err(|e| format!("oauth2.{e}"))
}

const USER_AGENT_TOKENS: &str = "klaxon";

/// A reqwest error as the `oauth2` crate wants it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct TokenHttpError(reqwest::Error);

/// `http_headers` values read from `files`, at each request (so a rotated
/// file takes effect at once), as prometheus/common does.
#[derive(Debug, Clone)]
pub struct HeaderFiles(Vec<(HeaderName, Vec<String>)>);

impl HeaderFiles {
    /// The header files an `http_config` names, if any.
    pub fn from_config(config: &HttpConfig) -> Option<HeaderFiles> {
        let files: Vec<_> = config
            .http_headers
            .iter()
            .filter(|(_, h)| !h.files.is_empty())
            .filter_map(|(name, h)| {
                HeaderName::from_bytes(name.as_bytes())
                    .ok()
                    .map(|n| (n, h.files.clone()))
            })
            .collect();
        (!files.is_empty()).then_some(HeaderFiles(files))
    }

    /// Adds each file's content (trimmed) as a value of its header. The
    /// error names the file, never its content.
    pub async fn apply(&self, mut req: RequestBuilder) -> Result<RequestBuilder, String> {
        for (name, files) in &self.0 {
            for file in files {
                let value = read_secret(&format!("http_headers.{name}.files"), file).await?;
                let mut v = HeaderValue::from_str(&value).map_err(|_| {
                    format!("http_headers.{name}.files: {file:?} is not a valid header value")
                })?;
                v.set_sensitive(true);
                req = req.header(name.clone(), v);
            }
        }
        Ok(req)
    }
}
