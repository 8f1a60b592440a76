//! AWS for the SNS integration: where credentials and the region come from
//! (the config's `sigv4`, then the default chain: environment, shared
//! credentials and config files, web identity), assuming a role through STS,
//! signing a request with Signature Version 4 (the `aws-sigv4` crate), and
//! reading the XML answers of AWS' query APIs.
//!
//! Credentials never reach a log line or an error text: errors name the
//! source (`the shared credentials file`, `STS AssumeRole`) and AWS' error
//! code and message only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use reqwest::header::{HeaderName, HeaderValue};

use super::NotifyError;
use super::http::{HttpClient, Request};
use crate::config::SigV4Config;

/// Assumed-role credentials are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);
/// The most of an AWS answer read.
const ANSWER_LIMIT: usize = 64 * 1024;

/// A key pair, with the session token of temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// When temporary credentials stop working.
    pub expires: Option<SystemTime>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<secret>)")
    }
}

/// The process environment the default chain reads, captured when the
/// notifier is built (tests give their own).
#[derive(Debug, Clone, Default)]
pub struct AwsEnv {
    pub vars: HashMap<String, String>,
}

impl AwsEnv {
    pub fn from_process() -> Self {
        let keep = |k: &str| k.starts_with("AWS_") || k == "HOME";
        AwsEnv {
            vars: std::env::vars().filter(|(k, _)| keep(k)).collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn home_file(&self, var: &str, default: &str) -> Option<PathBuf> {
        match self.get(var) {
            Some(p) => Some(PathBuf::from(p)),
            None => self.get("HOME").map(|h| PathBuf::from(h).join(default)),
        }
    }

    fn profile<'a>(&'a self, configured: Option<&'a str>) -> &'a str {
        configured
            .filter(|p| !p.is_empty())
            .or_else(|| self.get("AWS_PROFILE"))
            .unwrap_or("default")
    }
}

/// Resolves region and credentials for one `sigv4` block, caching assumed
/// role credentials until shortly before they expire.
pub struct CredentialChain {
    config: SigV4Config,
    env: AwsEnv,
    cached: Mutex<Option<Credentials>>,
}

impl CredentialChain {
    pub fn new(config: SigV4Config, env: AwsEnv) -> Self {
        CredentialChain {
            config,
            env,
            cached: Mutex::new(None),
        }
    }

    /// `sigv4.region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the
    /// profile's `region` in the shared config file.
    pub async fn region(&self) -> Result<String, NotifyError> {
        if let Some(r) = self.config.region.as_deref().filter(|r| !r.is_empty()) {
            return Ok(r.to_owned());
        }
        if let Some(r) = self
            .env
            .get("AWS_REGION")
            .or_else(|| self.env.get("AWS_DEFAULT_REGION"))
        {
            return Ok(r.to_owned());
        }
        let profile = self.env.profile(self.config.profile.as_deref());
        if let Some(path) = self.env.home_file("AWS_CONFIG_FILE", ".aws/config")
            && let Ok(text) = tokio::fs::read_to_string(&path).await
        {
            let section = if profile == "default" {
                "default".to_owned()
            } else {
                format!("profile {profile}")
            };
            if let Some(r) = ini_value(&text, &section, "region") {
                return Ok(r);
            }
        }
        Err(NotifyError::retryable(
            "region not configured in sns.sigv4.region or in default credentials chain",
        ))
    }

    /// The credentials to sign with: the role's when `role_arn` is set,
    /// assumed with the base credentials; otherwise the base ones.
    pub async fn credentials(
        &self,
        client: &HttpClient,
        region: &str,
    ) -> Result<Credentials, NotifyError> {
        if let Some(c) = self.cached.lock().expect("not poisoned").clone()
            && c.expires
                .is_none_or(|e| e > SystemTime::now() + RENEW_BEFORE)
        {
            return Ok(c);
        }
        let base = self.base(client, region).await?;
        let fresh = match self.config.role_arn.as_deref().filter(|r| !r.is_empty()) {
            Some(role) => self.assume_role(client, region, &base, role).await?,
            None => base,
        };
        if fresh.expires.is_some() {
            *self.cached.lock().expect("not poisoned") = Some(fresh.clone());
        }
        Ok(fresh)
    }

    async fn base(&self, client: &HttpClient, region: &str) -> Result<Credentials, NotifyError> {
        let c = &self.config;
        if let (Some(id), Some(secret)) = (c.access_key.as_deref(), c.secret_key.as_ref())
            && !id.is_empty()
        {
            return Ok(Credentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.expose().to_owned(),
                session_token: None,
                expires: None,
            });
        }
        // A profile named in the config wins over the environment's keys.
        if c.profile.as_deref().is_none_or(str::is_empty)
            && let (Some(id), Some(secret)) = (
                self.env.get("AWS_ACCESS_KEY_ID"),
                self.env.get("AWS_SECRET_ACCESS_KEY"),
            )
        {
            return Ok(Credentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
                session_token: self.env.get("AWS_SESSION_TOKEN").map(str::to_owned),
                expires: None,
            });
        }
        let profile = self.env.profile(c.profile.as_deref());
        if let Some(path) = self
            .env
            .home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
            && let Ok(text) = tokio::fs::read_to_string(&path).await
            && let (Some(id), Some(secret)) = (
                ini_value(&text, profile, "aws_access_key_id"),
                ini_value(&text, profile, "aws_secret_access_key"),
            )
        {
            return Ok(Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: ini_value(&text, profile, "aws_session_token"),
                expires: None,
            });
        }
        if let (Some(role), Some(token_file)) = (
            self.env.get("AWS_ROLE_ARN"),
            self.env.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
        ) {
            return self.web_identity(client, region, role, token_file).await;
        }
        Err(NotifyError::retryable(
            "no AWS credentials: set sigv4.access_key and secret_key, AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, a profile in the shared credentials file, or \
             AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE",
        ))
    }

    fn sts_url(&self, region: &str) -> String {
        if let Some(url) = self
            .env
            .get("AWS_ENDPOINT_URL_STS")
            .or_else(|| self.env.get("AWS_ENDPOINT_URL"))
        {
            return url.to_owned();
        }
        let host = if self.config.use_fips_sts_endpoint {
            "sts-fips"
        } else {
            "sts"
        };
        format!("https://{host}.{region}.amazonaws.com/")
    }

    async fn assume_role(
        &self,
        client: &HttpClient,
        region: &str,
        base: &Credentials,
        role: &str,
    ) -> Result<Credentials, NotifyError> {
        let session = format!("klaxon-{}", unix_seconds());
        let mut form = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", role),
            ("RoleSessionName", session.as_str()),
        ];
        if let Some(id) = self.config.external_id.as_deref().filter(|e| !e.is_empty()) {
            form.push(("ExternalId", id));
        }
        let body = form_body(&form);
        let url = self.sts_url(region);
        let answer = signed_post(client, &url, body, base, region, "sts").await?;
        read_sts_credentials(&answer, "STS AssumeRole")
    }

    async fn web_identity(
        &self,
        client: &HttpClient,
        region: &str,
        role: &str,
        token_file: &str,
    ) -> Result<Credentials, NotifyError> {
        let token =
            super::http::read_secret_file("AWS_WEB_IDENTITY_TOKEN_FILE", token_file).await?;
        let session = self
            .env
            .get("AWS_ROLE_SESSION_NAME")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("klaxon-{}", unix_seconds()));
        let body = form_body(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role),
            ("RoleSessionName", session.as_str()),
            ("WebIdentityToken", token.as_str()),
        ]);
        let url = self.sts_url(region);
        let mut req = Request::post(&url, FORM, body.into_bytes());
        req.authorize = false;
        let answer = client.request(req, ANSWER_LIMIT).await?;
        read_sts_credentials(&answer, "STS AssumeRoleWithWebIdentity")
    }
}

/// The content type of AWS query-protocol bodies.
pub const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// `key=value&…`, form-encoded.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// POSTs a query-protocol body signed with Signature Version 4 for
/// `service` in `region`; the answer is returned unclassified.
pub async fn signed_post(
    client: &HttpClient,
    url: &str,
    body: String,
    credentials: &Credentials,
    region: &str,
    service: &str,
) -> Result<super::http::HttpAnswer, NotifyError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| NotifyError::permanent(format!("invalid URL: {e}")))?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return Err(NotifyError::permanent("invalid URL: no host")),
    };
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        credentials.expires,
        "klaxon",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| NotifyError::permanent(format!("signing the request: {e}")))?
        .into();
    let headers = [("content-type", FORM), ("host", host.as_str())];
    let signable = SignableRequest::new(
        "POST",
        parsed.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| NotifyError::permanent(format!("signing the request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| NotifyError::permanent(format!("signing the request: {e}")))?
        .into_parts();
    let mut req = Request::post(url, FORM, body.into_bytes());
    req.authorize = false;
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| NotifyError::permanent("signing produced an invalid header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| NotifyError::permanent("signing produced an invalid header value"))?;
        req = req.header(name, value);
    }
    client.request(req, ANSWER_LIMIT).await
}

/// An AWS error answer as a classified failure: 5xx and 429 retryable,
/// other statuses permanent, with AWS' message (Alertmanager's retrier
/// shows the message alone) and its code.
pub fn aws_error(answer: &super::http::HttpAnswer) -> NotifyError {
    let body = String::from_utf8_lossy(&answer.body);
    let message = xml_text(&body, "Message");
    let code = xml_text(&body, "Code");
    let err = match answer.classify() {
        Err(e) => e,
        Ok(()) => return NotifyError::permanent("unexpected success"),
    };
    match message {
        Some(m) => {
            let text = match code {
                Some(c) => format!("{m} ({c})"),
                None => m,
            };
            answer.redact(err.map_reason(|_| text))
        }
        None => err,
    }
}

fn read_sts_credentials(
    answer: &super::http::HttpAnswer,
    what: &str,
) -> Result<Credentials, NotifyError> {
    if !answer.status.is_success() {
        return Err(aws_error(answer).map_reason(|r| format!("{what}: {r}")));
    }
    let body = String::from_utf8_lossy(&answer.body);
    let field = |name: &str| {
        xml_text(&body, name)
            .ok_or_else(|| NotifyError::retryable(format!("{what}: the answer has no {name}")))
    };
    let expires = xml_text(&body, "Expiration")
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
        .map(|e| SystemTime::from(e.with_timezone(&chrono::Utc)));
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
        expires,
    })
}

/// The text of the first element named `name` in an XML document.
pub fn xml_text(xml: &str, name: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut out = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == name => inside = true,
            Ok(Event::Text(t)) if inside => {
                out.push_str(&t.xml10_content());
            }
            Ok(Event::GeneralRef(r)) if inside => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                    continue;
                }
                out.push_str(match r.into_inner().as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Ok(Event::End(e)) if inside && e.local_name().as_ref() == name => {
                return Some(out);
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// A value from an INI file (the AWS shared files): `key` in `[section]`.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_owned();
            continue;
        }
        if current == section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_owned());
        }
    }
    None
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_reads_aws_answers() {
        let err = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: TopicArn &amp; more</Message></Error><RequestId>r</RequestId></ErrorResponse>";
        assert_eq!(xml_text(err, "Code").as_deref(), Some("InvalidParameter"));
        assert_eq!(
            xml_text(err, "Message").as_deref(),
            Some("Invalid parameter: TopicArn & more")
        );
        assert_eq!(xml_text(err, "Nope"), None);
        assert_eq!(xml_text("<html><body>oops", "Message"), None);
        assert_eq!(xml_text("", "Message"), None);
    }

    #[test]
    fn ini_values_come_from_their_section() {
        let text = "[default]\naws_access_key_id = A\n\n[other]\n# c\naws_access_key_id=B\nregion = eu-west-1\n";
        assert_eq!(
            ini_value(text, "default", "aws_access_key_id").as_deref(),
            Some("A")
        );
        assert_eq!(
            ini_value(text, "other", "aws_access_key_id").as_deref(),
            Some("B")
        );
        assert_eq!(
            ini_value(text, "other", "region").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(ini_value(text, "missing", "region"), None);
    }

    #[test]
    fn credentials_never_print() {
        let c = Credentials {
            access_key_id: "AKIDSECRET".into(),
            secret_access_key: "s3cr3t".into(),
            session_token: Some("tok".into()),
            expires: None,
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("AKID") && !shown.contains("tok"));
    }
}
