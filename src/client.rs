//! A typed client of Alertmanager's API v2 (plus klaxon's `/api/klaxon/`
//! additions), used by amctl and by tests. It speaks only what a real
//! Alertmanager serves too, so amctl works against either.
//!
//! Listings keep each item's JSON exactly as the server sent it next to
//! the typed value: `amctl … -o json` prints the server's JSON unchanged,
//! which is what makes `silence query -o json | silence import` round-trip.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use url::Url;

use crate::api::models::{ApiMatcher, PostableAlert, PostableSilence, ReceiverTestResult};
use crate::config::{HttpConfig, parse_yaml};
use crate::http_client::Credentials;
use crate::labels::LabelSet;

/// Why a request did not give the expected answer. Each message is one
/// line meant for an operator; none contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid Alertmanager URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{0}")]
    HttpConfig(String),
    /// No HTTP answer at all: refused, unresolvable, TLS failure, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered with an error status.
    #[error("{what}: {status}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    /// A success status with a body that is not what the API promises.
    #[error("{what}: unexpected answer from the server: {reason}")]
    Decode { what: String, reason: String },
}

impl ClientError {
    /// The HTTP status the server answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, ClientError>;

/// One item of an answer: the typed value and the server's own JSON of it.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub item: T,
    pub raw: Box<RawValue>,
}

/// `[a, b]` from the raw items, as compact as the server sent them.
pub fn raw_json_array<T>(items: &[Listed<T>]) -> String {
    let mut out = String::from("[");
    for (i, l) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(l.raw.get());
    }
    out.push(']');
    out
}

/// A silence as `GET /api/v2/silences` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Silence {
    pub id: String,
    pub status: SilenceStatus,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub comment: String,
    #[serde(rename = "createdBy", default)]
    pub created_by: String,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    pub matchers: Vec<ApiMatcher>,
    #[serde(default)]
    pub annotations: LabelSet,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SilenceStatus {
    /// `active`, `pending` or `expired`.
    pub state: String,
}

/// An alert as `GET /api/v2/alerts` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Alert {
    #[serde(default)]
    pub annotations: LabelSet,
    #[serde(rename = "startsAt")]
    pub starts_at: DateTime<Utc>,
    #[serde(rename = "endsAt")]
    pub ends_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    pub updated_at: DateTime<Utc>,
    pub fingerprint: String,
    #[serde(default)]
    pub receivers: Vec<ReceiverName>,
    pub status: AlertStatus,
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    pub labels: LabelSet,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReceiverName {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AlertStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    #[serde(rename = "silencedBy", default)]
    pub silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy", default)]
    pub inhibited_by: Vec<String>,
}

/// The parts of `GET /api/v2/status` amctl reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub config: ConfigStatus,
    #[serde(rename = "versionInfo", default)]
    pub version_info: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfigStatus {
    /// The running config as YAML, secrets shown as `<secret>`.
    pub original: String,
}

/// `GET /api/v2/alerts` query parameters; `None` leaves the server default.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Matchers in Alertmanager's syntax, each a `filter` parameter.
    pub filter: Vec<String>,
    pub active: Option<bool>,
    pub silenced: Option<bool>,
    pub inhibited: Option<bool>,
    pub unprocessed: Option<bool>,
    /// A regex over receiver names.
    pub receiver: Option<String>,
}

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL, including any `--web.route-prefix`.
    pub url: String,
    /// For each request, from connect to the last byte.
    pub timeout: Duration,
    /// Prometheus' HTTP client config: credentials and TLS.
    pub http: HttpConfig,
}

impl ClientOptions {
    /// Reads a `--http.config.file` (Prometheus' `http_config` format).
    pub fn read_http_config(path: &Path) -> Result<HttpConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ClientError::HttpConfig(format!("cannot read {}: {e}", path.display())))?;
        parse_yaml(&text, path).map_err(|e| ClientError::HttpConfig(e.to_string()))
    }
}

pub struct Client {
    base: Url,
    /// The URL as errors show it: as given, without a trailing slash.
    shown: String,
    http: reqwest::Client,
    auth: Option<Credentials>,
    header_files: Option<crate::http_client::HeaderFiles>,
}

impl Client {
    /// Builds the client; a rustls crypto provider must be installed first.
    pub fn new(options: &ClientOptions) -> Result<Client> {
        let shown = options.url.trim_end_matches('/').to_owned();
        let invalid = |reason: String| ClientError::InvalidUrl {
            url: options.url.clone(),
            reason,
        };
        let mut base = Url::parse(&options.url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".into()));
        }
        // Joining relative paths keeps a route prefix only under a final `/`.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = crate::http_client::client(
            &options.http,
            concat!("amctl/", env!("CARGO_PKG_VERSION")),
            Some(options.timeout),
        )
        .map_err(|e| ClientError::HttpConfig(e.to_string()))?;
        let client = http;
        let auth = Credentials::from_config(&options.http);
        Ok(Client {
            base,
            shown,
            http: client,
            auth,
            header_files: crate::http_client::HeaderFiles::from_config(&options.http),
        })
    }

    /// The base URL as given (for messages).
    pub fn url(&self) -> &str {
        &self.shown
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn request(&self, method: Method, url: Url) -> Result<RequestBuilder> {
        let mut req = self.http.request(method, url);
        if let Some(files) = &self.header_files {
            req = files.apply(req).await.map_err(ClientError::HttpConfig)?;
        }
        match &self.auth {
            None => Ok(req),
            Some(c) => c.apply(req).await.map_err(ClientError::HttpConfig),
        }
    }

    /// Sends and reads the whole body; an error status becomes
    /// [`ClientError::Status`] with the server's message.
    async fn send(&self, what: &str, req: RequestBuilder) -> Result<Vec<u8>> {
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(ClientError::Status {
            what: what.to_owned(),
            status: status.as_u16(),
            message: server_message(status, &body),
        })
    }

    fn transport(&self, e: reqwest::Error) -> ClientError {
        let reason = if e.is_timeout() {
            "no answer in time (see --timeout)".to_owned()
        } else {
            root_cause(&e)
        };
        ClientError::Unreachable {
            url: self.shown.clone(),
            reason,
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, what: &str, url: Url) -> Result<T> {
        let body = self
            .send(what, self.request(Method::GET, url).await?)
            .await?;
        decode(what, &body)
    }

    async fn get_listed<T: DeserializeOwned>(
        &self,
        what: &str,
        url: Url,
    ) -> Result<Vec<Listed<T>>> {
        let raws: Vec<Box<RawValue>> = self.get_json(what, url).await?;
        raws.into_iter()
            .map(|raw| {
                let item = decode(what, raw.get().as_bytes())?;
                Ok(Listed { item, raw })
            })
            .collect()
    }

    /// `GET /api/v2/silences`, narrowed by matchers (server side).
    pub async fn silences(&self, filter: &[String]) -> Result<Vec<Listed<Silence>>> {
        let mut url = self.endpoint(&["api", "v2", "silences"]);
        for f in filter {
            url.query_pairs_mut().append_pair("filter", f);
        }
        self.get_listed("listing silences", url).await
    }

    /// `GET /api/v2/silence/{id}`.
    pub async fn silence(&self, id: &str) -> Result<Listed<Silence>> {
        let url = self.endpoint(&["api", "v2", "silence", id]);
        let raw: Box<RawValue> = self.get_json("getting the silence", url).await?;
        let item = decode("getting the silence", raw.get().as_bytes())?;
        Ok(Listed { item, raw })
    }

    /// `POST /api/v2/silences`; the silence's ID (a new one unless an
    /// existing silence was updated in place).
    pub async fn post_silence(&self, silence: &PostableSilence) -> Result<String> {
        #[derive(Deserialize)]
        struct Posted {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        let what = "creating the silence";
        let req = self
            .request(Method::POST, self.endpoint(&["api", "v2", "silences"]))
            .await?
            .json(silence);
        let body = self.send(what, req).await?;
        let posted: Posted = decode(what, &body)?;
        Ok(posted.silence_id)
    }

    /// `DELETE /api/v2/silence/{id}`: expires it.
    pub async fn expire_silence(&self, id: &str) -> Result<()> {
        let url = self.endpoint(&["api", "v2", "silence", id]);
        self.send(
            "expiring the silence",
            self.request(Method::DELETE, url).await?,
        )
        .await
        .map(drop)
    }

    /// `GET /api/v2/alerts`.
    pub async fn alerts(&self, q: &AlertQuery) -> Result<Vec<Listed<Alert>>> {
        let mut url = self.endpoint(&["api", "v2", "alerts"]);
        {
            let mut pairs = url.query_pairs_mut();
            for f in &q.filter {
                pairs.append_pair("filter", f);
            }
            for (name, value) in [
                ("active", q.active),
                ("silenced", q.silenced),
                ("inhibited", q.inhibited),
                ("unprocessed", q.unprocessed),
            ] {
                if let Some(v) = value {
                    pairs.append_pair(name, if v { "true" } else { "false" });
                }
            }
            if let Some(r) = &q.receiver {
                pairs.append_pair("receiver", r);
            }
        }
        self.get_listed("listing alerts", url).await
    }

    /// `POST /api/v2/alerts`.
    pub async fn post_alerts(&self, alerts: &[PostableAlert<'_>]) -> Result<()> {
        let req = self
            .request(Method::POST, self.endpoint(&["api", "v2", "alerts"]))
            .await?
            .json(alerts);
        self.send("posting the alert", req).await.map(drop)
    }

    /// `GET /api/v2/status`.
    pub async fn status(&self) -> Result<Listed<Status>> {
        let what = "reading the server status";
        let raw: Box<RawValue> = self
            .get_json(what, self.endpoint(&["api", "v2", "status"]))
            .await?;
        let item = decode(what, raw.get().as_bytes())?;
        Ok(Listed { item, raw })
    }

    /// `POST /api/klaxon/receivers/{name}/test` (klaxon only).
    pub async fn test_receiver(&self, name: &str) -> Result<Vec<ReceiverTestResult>> {
        let what = format!("testing receiver {name:?}");
        let url = self.endpoint(&["api", "klaxon", "receivers", name, "test"]);
        let body = self
            .send(&what, self.request(Method::POST, url).await?)
            .await?;
        decode(&what, &body)
    }

    /// The cluster as the server sees it (klaxon only; 404 for a single
    /// instance).
    pub async fn cluster(&self) -> Result<crate::cluster::ClusterDetail> {
        let what = "reading the cluster's state";
        let url = self.endpoint(&["api", "klaxon", "cluster"]);
        let body = self
            .send(what, self.request(Method::GET, url).await?)
            .await?;
        decode(what, &body)
    }

    /// Adds the replica whose cluster port is at `address` (klaxon only).
    pub async fn cluster_add(&self, address: &str) -> Result<String> {
        let what = format!("adding the replica at {address}");
        let url = self.endpoint(&["api", "klaxon", "cluster", "members"]);
        let req = self
            .request(Method::POST, url)
            .await?
            .json(&serde_json::json!({ "address": address }));
        let body = self.send(&what, req).await?;
        decode(&what, &body)
    }

    /// Removes a member (ID, name or cluster address) for good.
    pub async fn cluster_remove(&self, who: &str) -> Result<String> {
        let what = format!("removing {who}");
        let url = self.endpoint(&["api", "klaxon", "cluster", "members", who]);
        let body = self
            .send(&what, self.request(Method::DELETE, url).await?)
            .await?;
        decode(&what, &body)
    }
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| ClientError::Decode {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

/// The server's reason, on one line: Alertmanager answers a bare JSON
/// string, an object with `message`, or plain text.
fn server_message(status: StatusCode, body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(v) => match v.get("message").and_then(|m| m.as_str()) {
            Some(m) => m.to_owned(),
            None => v.to_string(),
        },
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut line: String = line.chars().take(300).collect();
    if line.is_empty() {
        line = status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_lowercase();
    }
    line
}

/// The innermost cause, which says what went wrong ("connection refused")
/// where reqwest's own text only says "error sending request".
fn root_cause(e: &reqwest::Error) -> String {
    let mut current: &dyn std::error::Error = e;
    while let Some(next) = current.source() {
        // Otherwise keep descending: an io::Error may wrap the real cause.
        if let Some(io) = next.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return "connection refused".to_owned();
        }
        current = next;
    }
    let text = current.to_string();
    // io::Error's text carries "(os error 111)"-style suffixes; drop them.
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text,
    }
}
