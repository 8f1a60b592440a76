//! The HTTP side shared by every HTTP integration: a `reqwest::Client` built
//! from Prometheus' `http_config`, credentials applied per request (their
//! `*_file` variants are read at send time, so a rotated token is picked up
//! without a reload), and [`classify`], which turns an answer into
//! `Ok` or a [`NotifyError`] that says whether to retry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use reqwest::{RequestBuilder, StatusCode};

use super::NotifyError;
use crate::config::{HttpConfig, Secret};

/// `User-Agent` of every notification request (Alertmanager sends
/// `Alertmanager/<version>`).
pub const USER_AGENT: &str = concat!("klaxon/", env!("CARGO_PKG_VERSION"));

/// How much of an error answer's body goes into the error text.
const BODY_EXCERPT_CHARS: usize = 200;
/// How much of an error answer's body is read at all.
const BODY_READ_LIMIT: usize = 4096;
/// Requests one integration may have in flight at once.
const MAX_IN_FLIGHT: usize = 32;

/// Why an `http_config` cannot be turned into a client. Raised when the
/// receivers are built (config load), never at send time.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("tls_config.{field}: cannot read {path:?}: {source}")]
    ReadFile {
        field: &'static str,
        path: String,
        source: std::io::Error,
    },
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

/// Credentials added to each request.
#[derive(Debug, Clone)]
enum Credentials {
    Basic {
        username: String,
        password: Option<Secret>,
        password_file: Option<String>,
    },
    /// `Authorization: <kind> <credentials>`; `bearer_token` is `Bearer`.
    Authorization {
        kind: String,
        credentials: Option<Secret>,
        credentials_file: Option<String>,
    },
}

/// A client for one integration: the pooled `reqwest::Client` plus the
/// credentials to apply per request.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    credentials: Option<Credentials>,
    /// Bounds the requests in flight to one integration. When thousands
    /// of groups flush together, unbounded concurrency opened a new
    /// connection per request; a bound keeps the pooled connections busy
    /// and the receiving server unflooded.
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl HttpClient {
    /// Builds the client; `timeout` is the integration's per-request timeout
    /// (`None` or zero: none).
    pub fn new(config: &HttpConfig, timeout: Option<Duration>) -> Result<Self, HttpClientError> {
        let mut builder = reqwest::Client::builder().user_agent(USER_AGENT).redirect(
            if config.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            },
        );
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
            builder = builder.proxy(proxy);
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
                let mut v = HeaderValue::from_str(value)
                    .map_err(|_| HttpClientError::Header(name.clone()))?;
                v.set_sensitive(true);
                headers.append(n.clone(), v);
            }
        }
        builder = builder.default_headers(headers);
        if let Some(tls) = &config.tls_config {
            if let Some(ca) = &tls.ca_file {
                let pem = read("ca_file", ca)?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    HttpClientError::Tls {
                        field: "ca_file",
                        reason: e.to_string(),
                    }
                })?;
                // As in Go, a configured CA replaces the system roots.
                builder = builder.tls_certs_only(certs);
            }
            match (&tls.cert_file, &tls.key_file) {
                (Some(cert), Some(key)) => {
                    let mut pem = read("cert_file", cert)?;
                    pem.push(b'\n');
                    pem.extend(read("key_file", key)?);
                    let identity =
                        reqwest::Identity::from_pem(&pem).map_err(|e| HttpClientError::Tls {
                            field: "cert_file",
                            reason: e.to_string(),
                        })?;
                    builder = builder.identity(identity);
                }
                (None, None) => {}
                _ => {
                    return Err(HttpClientError::Tls {
                        field: "cert_file",
                        reason: "cert_file and key_file must be set together".into(),
                    });
                }
            }
            if tls.insecure_skip_verify {
                builder = builder.tls_danger_accept_invalid_certs(true);
            }
            if let Some(v) = &tls.min_version {
                let version = match v.as_str() {
                    "TLS10" => reqwest::tls::Version::TLS_1_0,
                    "TLS11" => reqwest::tls::Version::TLS_1_1,
                    "TLS12" => reqwest::tls::Version::TLS_1_2,
                    "TLS13" => reqwest::tls::Version::TLS_1_3,
                    other => {
                        return Err(HttpClientError::Tls {
                            field: "min_version",
                            reason: format!("unknown TLS version {other:?}"),
                        });
                    }
                };
                builder = builder.tls_version_min(version);
            }
            if tls.server_name.is_some() {
                // reqwest has no SNI/verification-name override; the name in
                // the URL is used. Said loudly rather than silently ignored.
                tracing::warn!("tls_config.server_name is not supported yet and is ignored");
            }
        }
        let client = builder
            .build()
            .map_err(|e| HttpClientError::Build(error_chain(&e.without_url())))?;
        Ok(HttpClient {
            client,
            credentials: credentials(config),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// POSTs a JSON body and classifies the answer. Errors never contain
    /// `url` (nor its path, should the server echo it back).
    pub async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        self.send_json(url, body).await?.classify()
    }

    /// POSTs a JSON body and returns the answer unclassified, for an
    /// integration that reads more than the status (Discord's rate-limit
    /// headers). Transport errors never contain `url`.
    pub async fn send_json(&self, url: &str, body: Vec<u8>) -> Result<HttpAnswer, NotifyError> {
        self.send(
            Request::post(url, "application/json", body),
            BODY_READ_LIMIT,
            false,
        )
        .await
    }

    /// Sends any request and returns the answer unclassified, with up to
    /// `read_limit` bytes of its body, success or not (for services that
    /// answer "200 with an error inside", or whose answer says where the
    /// message went). Transport errors never contain the URL.
    pub async fn request(
        &self,
        req: Request<'_>,
        read_limit: usize,
    ) -> Result<HttpAnswer, NotifyError> {
        self.send(req, read_limit, true).await
    }

    async fn send(
        &self,
        req: Request<'_>,
        read_limit: usize,
        read_success: bool,
    ) -> Result<HttpAnswer, NotifyError> {
        let parsed = reqwest::Url::parse(req.url)
            .map_err(|e| NotifyError::permanent(format!("invalid URL: {e}")))?;
        let mut builder = self.client.request(req.method, parsed.clone());
        if let Some(ct) = req.content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        for (name, value) in req.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let builder = if req.authorize {
            self.authorize(builder).await?
        } else {
            builder
        };
        let _permit = self.in_flight.acquire().await.expect("never closed");
        let mut resp = builder.send().await.map_err(transport_error)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        if read_success || !status.is_success() {
            // An unreadable body is not worth failing over; the status
            // already says what happened.
            while body.len() < read_limit {
                match resp.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            body.truncate(read_limit);
        }
        Ok(HttpAnswer {
            status,
            headers,
            body,
            url: parsed,
        })
    }

    async fn authorize(&self, req: RequestBuilder) -> Result<RequestBuilder, NotifyError> {
        Ok(match &self.credentials {
            None => req,
            Some(Credentials::Basic {
                username,
                password,
                password_file,
            }) => {
                let password = match (password, password_file) {
                    (Some(p), _) => p.expose().to_owned(),
                    (None, Some(f)) => read_secret_file("basic_auth.password_file", f).await?,
                    (None, None) => String::new(),
                };
                req.basic_auth(username, Some(password))
            }
            Some(Credentials::Authorization {
                kind,
                credentials,
                credentials_file,
            }) => {
                let token = match (credentials, credentials_file) {
                    (Some(c), _) => c.expose().to_owned(),
                    (None, Some(f)) => read_secret_file("credentials_file", f).await?,
                    (None, None) => String::new(),
                };
                let mut value =
                    HeaderValue::from_str(&format!("{kind} {token}")).map_err(|_| {
                        NotifyError::permanent(
                            "authorization credentials are not a valid header value",
                        )
                    })?;
                value.set_sensitive(true);
                req.header(AUTHORIZATION, value)
            }
        })
    }
}

/// One request of an integration. The client's credentials are added
/// unless `authorize` is off (a service whose token rides in the URL or
/// body, where `http_config` auth would be wrong).
pub struct Request<'a> {
    pub method: reqwest::Method,
    pub url: &'a str,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Vec<u8>>,
    pub authorize: bool,
}

impl<'a> Request<'a> {
    pub fn post(url: &'a str, content_type: &'static str, body: Vec<u8>) -> Self {
        Request {
            method: reqwest::Method::POST,
            url,
            content_type: Some(content_type),
            headers: Vec::new(),
            body: Some(body),
            authorize: true,
        }
    }

    pub fn get(url: &'a str) -> Self {
        Request {
            method: reqwest::Method::GET,
            url,
            content_type: None,
            headers: Vec::new(),
            body: None,
            authorize: true,
        }
    }

    /// Adds a header; its value is marked sensitive (never logged).
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.push((name, value));
        self
    }
}

/// An HTTP answer: status, headers and the start of the body (for
/// [`HttpClient::send_json`], only an error body is read). It keeps the request URL only to scrub it
/// from error texts; it has no `Debug` so the URL cannot be printed.
pub struct HttpAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// At most the read limit.
    pub body: Vec<u8>,
    url: reqwest::Url,
}

impl HttpAnswer {
    /// [`classify`] with the URL scrubbed from the error text.
    pub fn classify(&self) -> Result<(), NotifyError> {
        // Retry-After dates are the server's wall clock, hence the real one.
        classify(self.status, &self.headers, &self.body, Utc::now()).map_err(|e| self.redact(e))
    }

    /// The body parsed as JSON; garbage (an HTML error page, an empty
    /// body) is a retryable failure when the status was 5xx and a permanent
    /// one otherwise, with an excerpt of what came.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, NotifyError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let reason = format!("unreadable answer ({e}): {:?}", body_excerpt(&self.body));
            let err = if self.status.is_server_error() {
                NotifyError::Retryable {
                    status: Some(self.status.as_u16()),
                    reason,
                    retry_after: None,
                }
            } else {
                NotifyError::Permanent {
                    status: Some(self.status.as_u16()),
                    reason,
                }
            };
            self.redact(err)
        })
    }

    /// Removes the request URL (and its path and query) from an error that
    /// an integration built from this answer.
    pub fn redact(&self, e: NotifyError) -> NotifyError {
        redact(e, &self.url)
    }
}

fn credentials(config: &HttpConfig) -> Option<Credentials> {
    if let Some(b) = &config.basic_auth {
        return Some(Credentials::Basic {
            username: b.username.clone(),
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

fn read(field: &'static str, path: &str) -> Result<Vec<u8>, HttpClientError> {
    std::fs::read(path).map_err(|source| HttpClientError::ReadFile {
        field,
        path: path.to_owned(),
        source,
    })
}

/// Reads a secret (or URL) file at send time, trimmed as Prometheus does.
/// Failing to read it is permanent: retrying within a flush will not make
/// the file appear, and the next flush tries again anyway.
pub async fn read_secret_file(field: &str, path: &str) -> Result<String, NotifyError> {
    tokio::fs::read_to_string(path)
        .await
        .map(|s| s.trim().to_owned())
        .map_err(|e| NotifyError::permanent(format!("{field}: cannot read {path:?}: {e}")))
}

/// Classifies an HTTP answer (Alertmanager's `notify.Retrier`, plus 429):
/// 2xx is success; 429 and 5xx are retryable, with the server's
/// `Retry-After` when it sent one; everything else is permanent. The error
/// carries the status and a short excerpt of the body.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), NotifyError> {
    if status.is_success() {
        return Ok(());
    }
    let mut reason = body_excerpt(body);
    if reason.is_empty() {
        reason = status.canonical_reason().unwrap_or("no body").to_owned();
    }
    let code = Some(status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        return Err(NotifyError::Retryable {
            status: code,
            reason,
            retry_after,
        });
    }
    Err(NotifyError::Permanent {
        status: code,
        reason,
    })
}

/// `Retry-After`: delay-seconds or an HTTP date (a date in the past is no
/// wait at all).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The first characters of a body, on one line, for an error text.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut chars = text.split_whitespace().flat_map(|w| w.chars().chain([' ']));
    for c in chars.by_ref().take(BODY_EXCERPT_CHARS) {
        out.push(if c.is_control() { ' ' } else { c });
    }
    let truncated = chars.any(|c| c != ' ');
    let mut out = out.trim_end().to_owned();
    if truncated {
        out.push('…');
    }
    out
}

/// A network-level failure, without the URL reqwest would otherwise print.
pub fn transport_error(e: reqwest::Error) -> NotifyError {
    let e = e.without_url();
    let reason = if e.is_timeout() {
        format!("request timed out: {}", error_chain(&e))
    } else {
        error_chain(&e)
    };
    if e.is_builder() {
        NotifyError::permanent(reason)
    } else {
        NotifyError::retryable(reason)
    }
}

/// `error: cause: cause`, as Go prints wrapped errors.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
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

/// Removes the URL and its path from an error text: a server may echo the
/// request path back, and the path is where webhook secrets live.
fn redact(e: NotifyError, url: &reqwest::Url) -> NotifyError {
    let scrub = |reason: String| {
        let mut r = reason.replace(url.as_str(), "<redacted>");
        let path = url.path();
        if path.len() > 1 {
            r = r.replace(path, "<redacted>");
        }
        if let Some(q) = url.query().filter(|q| !q.is_empty()) {
            r = r.replace(q, "<redacted>");
        }
        r
    };
    e.map_reason(scrub)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap()
    }

    fn classify_status(
        code: u16,
        retry_after: Option<&str>,
        body: &str,
    ) -> Result<(), NotifyError> {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        }
        classify(
            StatusCode::from_u16(code).unwrap(),
            &headers,
            body.as_bytes(),
            now(),
        )
    }

    #[test]
    fn classifies_answers_like_alertmanager_plus_rate_limits() {
        let cases: &[(u16, Option<&str>, bool, Option<u64>)] = &[
            (200, None, true, None),
            (204, None, true, None),
            (429, Some("2"), false, Some(2)),
            (429, Some("Wed, 21 Oct 2015 07:28:30 GMT"), false, Some(30)),
            (429, None, false, None),
            (500, None, false, None),
            (503, Some("7"), false, Some(7)),
        ];
        for &(code, ra, ok, wait) in cases {
            let r = classify_status(code, ra, "");
            assert_eq!(r.is_ok(), ok, "{code}");
            if let Err(e) = r {
                assert!(e.is_retryable(), "{code}");
                assert_eq!(e.status(), Some(code));
                assert_eq!(e.retry_after(), wait.map(Duration::from_secs), "{code}");
            }
        }
        for code in [301, 400, 401, 403, 404, 413] {
            let e = classify_status(code, Some("5"), "nope").unwrap_err();
            assert!(!e.is_retryable(), "{code}");
            assert_eq!(e.retry_after(), None);
        }
    }

    #[test]
    fn error_text_has_a_short_one_line_body_excerpt() {
        let body = format!("bad\n\tpayload {}", "x".repeat(1000));
        let e = classify_status(400, None, &body).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("unexpected status code 400: bad payload xxx"),
            "{text}"
        );
        assert!(text.ends_with('…'));
        assert!(text.chars().count() < 260, "{}", text.len());
        let e = classify_status(404, None, "").unwrap_err();
        assert_eq!(e.to_string(), "unexpected status code 404: Not Found");
    }

    #[test]
    fn retry_after_in_the_past_means_no_wait() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
    }

    #[test]
    fn redaction_removes_the_url_path_and_query() {
        let url = reqwest::Url::parse("http://h:1/hook/s3cr3t?token=abc").unwrap();
        let e = redact(
            NotifyError::permanent("no route for /hook/s3cr3t (token=abc)"),
            &url,
        );
        let text = e.to_string();
        assert!(!text.contains("s3cr3t") && !text.contains("abc"), "{text}");
    }
}
