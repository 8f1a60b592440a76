//! The HTTP side shared by every HTTP integration: a `reqwest::Client` built
//! from Prometheus' `http_config`, credentials applied per request (their
//! `*_file` variants are read at send time, so a rotated token is picked up
//! without a reload), and [`classify`], which turns an answer into
//! `Ok` or a [`NotifyError`] that says whether to retry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};

use super::NotifyError;
use crate::config::{HttpConfig, Secret};
use crate::http_client::{Credentials, HeaderFiles, read_secret};
pub use crate::http_client::{HttpClientError, error_chain};
use crate::secrets::Secrets;

/// `User-Agent` of every notification request (Alertmanager sends
/// `Alertmanager/<version>`).
pub const USER_AGENT: &str = concat!("klaxon/", env!("CARGO_PKG_VERSION"));

/// How much of an error answer's body goes into the error text.
const BODY_EXCERPT_CHARS: usize = 200;
/// How much of an error answer's body is read at all.
const BODY_READ_LIMIT: usize = 4096;
/// Requests one integration may have in flight at once.
const MAX_IN_FLIGHT: usize = 32;

/// A client for one integration: the pooled `reqwest::Client` plus the
/// credentials to apply per request.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    credentials: Option<Credentials>,
    header_files: Option<HeaderFiles>,
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
        let client = crate::http_client::client(config, USER_AGENT, timeout)?;
        Ok(HttpClient {
            client,
            credentials: Credentials::from_config(config),
            header_files: HeaderFiles::from_config(config),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// POSTs a JSON body and classifies the answer. Errors never contain
    /// `url` (nor its path, should the server echo it back).
    pub async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        self.send_json(url, body).await?.classify()
    }

    /// [`HttpClient::post_json`] with more request headers.
    pub async fn post_json_with(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: Vec<(HeaderName, HeaderValue)>,
    ) -> Result<(), NotifyError> {
        let mut req = Request::post(url, "application/json", body);
        req.headers = headers;
        self.send(req, BODY_READ_LIMIT, false).await?.classify()
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
        let request = builder.build().map_err(transport_error)?;
        // What a server may echo back: the URL, and every credential header.
        let mut secrets = Secrets::default();
        secrets.add_url(&parsed);
        for (name, value) in request.headers() {
            let Ok(text) = value.to_str() else { continue };
            if *name == reqwest::header::AUTHORIZATION {
                secrets.add_authorization(text);
            } else if value.is_sensitive() {
                secrets.add(text);
            }
        }
        let _permit = self.in_flight.acquire().await.expect("never closed");
        let mut resp = self
            .client
            .execute(request)
            .await
            .map_err(transport_error)?;
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
            secrets,
        })
    }

    async fn authorize(&self, req: RequestBuilder) -> Result<RequestBuilder, NotifyError> {
        let req = match &self.header_files {
            None => req,
            Some(h) => h.apply(req).await.map_err(NotifyError::permanent)?,
        };
        match &self.credentials {
            None => Ok(req),
            Some(c) => c.apply(req).await.map_err(NotifyError::permanent),
        }
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
/// [`HttpClient::send_json`], only an error body is read). It keeps the request's secrets only to
/// scrub them from error texts; it has no `Debug` so they cannot be printed.
pub struct HttpAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// At most the read limit.
    pub body: Vec<u8>,
    secrets: Secrets,
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

    /// Removes the request's secrets (its URL, path and query, and its
    /// credentials, in every form a server may echo them) from an error
    /// that an integration built from this answer.
    pub fn redact(&self, e: NotifyError) -> NotifyError {
        e.map_reason(|reason| self.secrets.scrub(&reason))
    }
}

/// Reads a secret (or URL) file at send time, trimmed as Prometheus does.
/// Failing to read it is permanent: retrying within a flush will not make
/// the file appear, and the next flush tries again anyway.
pub async fn read_secret_file(field: &str, path: &str) -> Result<String, NotifyError> {
    read_secret(field, path)
        .await
        .map_err(NotifyError::permanent)
}

/// A secret given inline or as a file (`webhook_url` / `webhook_url_file`,
/// `api_key` / `api_key_file`, …): the file is read now, at send time.
/// `file_field` names the file field in the error when it cannot be read.
pub async fn secret_or_file(
    inline: Option<&Secret>,
    file: Option<&String>,
    file_field: &str,
) -> Result<String, NotifyError> {
    match (inline, file) {
        (Some(value), _) => Ok(value.expose().to_owned()),
        (None, Some(path)) => read_secret_file(file_field, path).await,
        (None, None) => Err(NotifyError::permanent(format!(
            "neither {} nor {file_field} is configured",
            file_field.trim_end_matches("_file")
        ))),
    }
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
        let mut secrets = Secrets::default();
        secrets.add_url(&url);
        let text = secrets.scrub("no route for /hook/s3cr3t (token=abc)");
        assert!(!text.contains("s3cr3t") && !text.contains("abc"), "{text}");
    }
}
