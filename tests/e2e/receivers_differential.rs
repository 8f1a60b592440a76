//! Receivers against the real Alertmanager: the same config (pointed at a
//! local capture service) and the same alert go to Debian's Alertmanager and
//! to klaxon; the requests each sends are compared.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::differential::{Alertmanager, Reference};
use crate::harness::{TestServer, client, eventually};

/// One request the capture service received.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

/// Records every request, any method and path, and answers `answer`.
pub(crate) struct Capture {
    pub base: String,
    got: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    pub async fn start(status: u16, content_type: &'static str, answer: String) -> Capture {
        let got = Arc::new(Mutex::new(Vec::new()));
        let rec = got.clone();
        let handler = move |req: axum::extract::Request| {
            let (rec, answer) = (rec.clone(), answer.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 24)
                    .await
                    .unwrap_or_default();
                rec.lock().unwrap().push(Captured {
                    method: parts.method.to_string(),
                    target: parts
                        .uri
                        .path_and_query()
                        .map_or_else(|| parts.uri.path().to_owned(), |p| p.to_string()),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect(),
                    body: body.to_vec(),
                });
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [(axum::http::header::CONTENT_TYPE, content_type)],
                    answer,
                )
            }
        };
        let app = axum::Router::new().fallback(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Capture { base, got }
    }

    /// The `n`th request (from 0), once it has come.
    pub async fn nth(&self, n: usize, what: &str) -> Captured {
        eventually(Duration::from_secs(20), what, || async {
            self.got.lock().unwrap().get(n).cloned()
        })
        .await
    }
}

/// Runs `config` (with `{URL}` standing for the capture service's base)
/// on the reference and on klaxon, posts `alert` to each, and returns the
/// first request each sent; `None` when the reference is not installed.
pub(crate) async fn both_send(
    reference: Reference,
    config: &str,
    alert: Value,
    answer: (u16, &'static str, String),
) -> Option<(Captured, Captured)> {
    let (mut am, mut kx) = both_send_n(reference, config, alert, answer, 1).await?;
    Some((am.remove(0), kx.remove(0)))
}

/// As [`both_send`], for the first `n` requests of each.
pub(crate) async fn both_send_n(
    reference: Reference,
    config: &str,
    alert: Value,
    answer: (u16, &'static str, String),
    n: usize,
) -> Option<(Vec<Captured>, Vec<Captured>)> {
    let program = reference.program()?;
    let am_capture = Capture::start(answer.0, answer.1, answer.2.clone()).await;
    let kx_capture = Capture::start(answer.0, answer.1, answer.2).await;
    let am = Alertmanager::start(&program, &config.replace("{URL}", &am_capture.base)).await;
    let kx = TestServer::start(&config.replace("{URL}", &kx_capture.base)).await;
    for base in [&am.base, &kx.base] {
        let r = client()
            .post(format!("{base}/api/v2/alerts"))
            .json(&json!([alert.clone()]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let (mut a, mut k) = (Vec::new(), Vec::new());
    for i in 0..n {
        a.push(am_capture.nth(i, "Alertmanager's request").await);
        k.push(kx_capture.nth(i, "klaxon's request").await);
    }
    am.stop().await;
    Some((a, k))
}

const ROUTE: &str = "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n";

fn alert() -> Value {
    json!({
        "labels": {"alertname": "DiskFull", "instance": "db1", "severity": "critical"},
        "annotations": {"summary": "disk is full", "description": "db1 has 0 bytes left"},
        "generatorURL": "http://prometheus.example/graph"
    })
}

async fn sns_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  sns_configs:\n  - api_url: '{{URL}}/'\n    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n    sigv4:\n      region: us-east-1\n      access_key: AKIDEXAMPLE\n      secret_key: SECRETKEY\n    attributes:\n      team: storage\n"
    );
    let answer = (
        200,
        "text/xml",
        "<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>"
            .to_owned(),
    );
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    assert_eq!((am.method.as_str(), am.target.as_str()), ("POST", "/"));
    assert_eq!((kx.method.as_str(), kx.target.as_str()), ("POST", "/"));
    let (mut a, mut k) = (am.form(), kx.form());
    a.sort();
    k.sort();
    assert_eq!(
        a,
        k,
        "{} and klaxon publish different forms",
        reference.name()
    );
    for c in [&am, &kx] {
        let auth = c.header("authorization").unwrap_or("");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && auth.contains("/us-east-1/sns/aws4_request"),
            "{auth}"
        );
    }
}

#[tokio::test]
async fn sns_publishes_what_alertmanager_0_25_publishes() {
    sns_matches(Reference::V025).await;
}

#[tokio::test]
async fn sns_publishes_what_alertmanager_0_28_publishes() {
    sns_matches(Reference::V028).await;
}

async fn wechat_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  wechat_configs:\n  - api_url: '{{URL}}/cgi-bin/'\n    api_secret: SECRET\n    corp_id: corp1\n    to_user: '@all'\n    agent_id: '1000002'\n"
    );
    // One answer serves both calls: a token, and errcode 0.
    let answer = (
        200,
        "application/json",
        r#"{"errcode":0,"errmsg":"ok","access_token":"TOKEN"}"#.to_owned(),
    );
    let Some((am, kx)) = both_send_n(reference, &config, alert(), answer, 2).await else {
        return;
    };
    for i in 0..2 {
        assert_eq!(am[i].method, kx[i].method);
        assert_eq!(am[i].target, kx[i].target, "{}", reference.name());
    }
    let body = |c: &Captured| {
        let mut v: Value = serde_json::from_slice(&c.body).unwrap();
        // The link back differs only by each server's own address.
        let text = v["text"]["content"].as_str().unwrap().to_owned();
        let cut = text.find("AlertmanagerUrl:").unwrap();
        v["text"]["content"] = Value::String(text[..cut].to_owned());
        v
    };
    assert_eq!(body(&am[1]), body(&kx[1]), "{}", reference.name());
}

#[tokio::test]
async fn wechat_sends_what_alertmanager_0_25_sends() {
    wechat_matches(Reference::V025).await;
}

#[tokio::test]
async fn wechat_sends_what_alertmanager_0_28_sends() {
    wechat_matches(Reference::V028).await;
}

/// Replaces each server's own address in links back to it
/// (`http://host:port/#/alerts?…`) with `EXT`: the only part of a body
/// that differs between two servers by design.
pub(crate) fn same_external_urls(v: &mut Value) {
    match v {
        Value::String(s) => {
            while let Some(end) = s.find("/#/alerts") {
                let start = s[..end].rfind("http").unwrap_or(0);
                s.replace_range(start..end + "/#/alerts".len(), "EXT");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(same_external_urls),
        Value::Object(map) => map.values_mut().for_each(same_external_urls),
        _ => {}
    }
}

fn json_body(c: &Captured) -> Value {
    let mut v: Value = serde_json::from_slice(&c.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&c.body)));
    same_external_urls(&mut v);
    v
}

async fn slack_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  slack_configs:\n  - api_url: '{{URL}}/services/T0/B0/XXX'\n    channel: '#alerts'\n    send_resolved: true\n    fields:\n    - title: Severity\n      value: '{{{{ .CommonLabels.severity }}}}'\n    actions:\n    - type: button\n      text: Runbook\n      url: 'http://wiki/{{{{ .GroupLabels.alertname }}}}'\n"
    );
    let answer = (200, "text/html", "ok".to_owned());
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    assert_eq!(
        (am.method.as_str(), am.target.as_str()),
        ("POST", "/services/T0/B0/XXX")
    );
    assert_eq!(
        (kx.method.as_str(), kx.target.as_str()),
        ("POST", "/services/T0/B0/XXX")
    );
    assert_eq!(kx.header("content-type"), am.header("content-type"));
    assert_eq!(json_body(&am), json_body(&kx), "{}", reference.name());
}

#[tokio::test]
async fn slack_sends_what_alertmanager_0_25_sends() {
    slack_matches(Reference::V025).await;
}

#[tokio::test]
async fn slack_sends_what_alertmanager_0_28_sends() {
    slack_matches(Reference::V028).await;
}

/// Teams' connector (0.26+) and Workflows (0.28+) webhooks: only 0.28.1
/// of Debian's Alertmanagers has them. Its binary lacks the `msteams*`
/// default templates (its `default.tmpl` file has them, and
/// `templates::builtin_integration_defaults_render_like_each_alertmanagers_default_tmpl`
/// compares klaxon's with those), so the texts are set here.
async fn teams_matches(kind: &str) {
    let summary = if kind == "msteams" {
        "    summary: 'S {{ .Status }}'\n"
    } else {
        ""
    };
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  {kind}_configs:\n  - webhook_url: '{{URL}}/webhookb2/x/IncomingWebhook/y/z'\n    title: '{{{{ template \"__subject\" . }}}}'\n    text: '{{{{ range .Alerts }}}}{{{{ .Labels.instance }}}} <{{{{ .Annotations.summary }}}}> & {{{{ end }}}}'\n{summary}"
    );
    let answer = (200, "text/plain", "1".to_owned());
    let Some((am, kx)) = both_send(Reference::V028, &config, alert(), answer).await else {
        return;
    };
    assert_eq!(
        (am.method.as_str(), am.target.as_str()),
        ("POST", "/webhookb2/x/IncomingWebhook/y/z")
    );
    assert_eq!(
        (kx.method.as_str(), am.target.as_str()),
        ("POST", kx.target.as_str())
    );
    assert_eq!(kx.header("content-type"), am.header("content-type"));
    assert_eq!(json_body(&am), json_body(&kx), "{kind}");
}

#[tokio::test]
async fn msteams_sends_what_alertmanager_0_28_sends() {
    teams_matches("msteams").await;
}

#[tokio::test]
async fn msteamsv2_sends_what_alertmanager_0_28_sends() {
    teams_matches("msteamsv2").await;
}

async fn rocketchat_matches(config_extra: &str) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  rocketchat_configs:\n  - api_url: '{{URL}}/rc/'\n    token: TOKEN\n    token_id: USERID\n    channel: '#alerts'\n    short_fields: true\n    fields:\n    - title: Severity\n      value: '{{{{ .CommonLabels.severity }}}}'\n    actions:\n    - text: Runbook\n      url: 'http://wiki/{{{{ .GroupLabels.alertname }}}}'\n{config_extra}"
    );
    let answer = (200, "application/json", r#"{"success":true}"#.to_owned());
    let Some((am, kx)) = both_send(Reference::V028, &config, alert(), answer).await else {
        return;
    };
    assert_eq!(
        (am.method.as_str(), am.target.as_str()),
        ("POST", "/rc/api/v1/chat.postMessage")
    );
    assert_eq!(
        (kx.method.as_str(), kx.target.as_str()),
        ("POST", "/rc/api/v1/chat.postMessage")
    );
    for c in [&am, &kx] {
        assert_eq!(c.header("x-auth-token"), Some("TOKEN"));
        assert_eq!(c.header("x-user-id"), Some("USERID"));
    }
    assert_eq!(json_body(&am), json_body(&kx));
}

/// Rocket.Chat came in Alertmanager 0.28; Debian's 0.28.1 binary lacks
/// its default templates (as for Teams), so every text is set here.
#[tokio::test]
async fn rocketchat_sends_what_alertmanager_0_28_sends() {
    rocketchat_matches(
        "    title: '{{ template \"__subject\" . }}'\n    title_link: 'http://x/{{ .Receiver }}'\n    text: '{{ range .Alerts }}<{{ .Labels.instance }}> & {{ end }}'\n    emoji: ':fire:'\n    icon_url: 'http://x/i.png'\n",
    )
    .await;
}

async fn telegram_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  telegram_configs:\n  - api_url: '{{URL}}'\n    bot_token: '123:TOKEN'\n    chat_id: -1001234567890\n    disable_notifications: true\n"
    );
    let answer = (
        200,
        "application/json",
        r#"{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":-1001234567890,"type":"group"}}}"#
            .to_owned(),
    );
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    assert_eq!(
        (am.method.as_str(), am.target.as_str()),
        ("POST", "/bot123:TOKEN/sendMessage")
    );
    assert_eq!(
        (kx.method.as_str(), kx.target.as_str()),
        ("POST", "/bot123:TOKEN/sendMessage")
    );
    assert_eq!(kx.header("content-type"), am.header("content-type"));
    assert_eq!(json_body(&am), json_body(&kx), "{}", reference.name());
    // Go's encoder decides these bytes (a map of strings, HTML-escaped).
    assert_eq!(am.body, kx.body, "{}", reference.name());
}

#[tokio::test]
async fn telegram_sends_what_alertmanager_0_25_sends() {
    telegram_matches(Reference::V025).await;
}

#[tokio::test]
async fn telegram_sends_what_alertmanager_0_28_sends() {
    telegram_matches(Reference::V028).await;
}

/// PagerDuty v2 and v1. Alertmanager 0.34 changed the default `details`
/// (the alert lists as JSON rather than text), so those are compared only
/// where the config sets them.
async fn pagerduty_matches(reference: Reference, key: &str) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  pagerduty_configs:\n  - url: '{{URL}}/v2/enqueue'\n    {key}: KEY123\n    severity: '{{{{ .CommonLabels.severity }}}}'\n    class: disk\n    group: '{{{{ .GroupLabels.alertname }}}}'\n    details:\n      firing: '{{{{ len .Alerts.Firing }}}} firing'\n      resolved: none\n      num_firing: '{{{{ .Alerts.Firing | len }}}}'\n      num_resolved: '0'\n      team: storage\n    images:\n    - src: 'http://img/{{{{ .Status }}}}.png'\n      alt: graph\n    links:\n    - href: 'http://runbook/{{{{ .GroupLabels.alertname }}}}'\n      text: runbook\n    - href: ''\n      text: dropped\n"
    );
    let answer = (
        202,
        "application/json",
        r#"{"status":"success","message":"Event processed","dedup_key":"x"}"#.to_owned(),
    );
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    assert_eq!(am.method, kx.method);
    assert_eq!(kx.header("content-type"), am.header("content-type"));
    let (mut a, mut k) = (json_body(&am), json_body(&kx));
    // 0.25 and 0.28 render `num_firing` as text; 0.34 reads a rendered
    // detail back as YAML (a number).
    fn as_text(v: &mut Value) {
        for name in ["num_firing", "num_resolved"] {
            if let Some(n) = v.get_mut(name) {
                *n = Value::String(n.to_string().trim_matches('"').to_owned());
            }
        }
    }
    for v in [&mut a, &mut k] {
        as_text(&mut v["payload"]["custom_details"]);
        as_text(&mut v["details"]);
    }
    assert_eq!(a, k, "{} {key}", reference.name());
}

#[tokio::test]
async fn pagerduty_v2_sends_what_alertmanager_0_25_sends() {
    pagerduty_matches(Reference::V025, "routing_key").await;
}

#[tokio::test]
async fn pagerduty_v2_sends_what_alertmanager_0_28_sends() {
    pagerduty_matches(Reference::V028, "routing_key").await;
}

async fn opsgenie_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  opsgenie_configs:\n  - api_url: '{{URL}}/'\n    api_key: GENIEKEY\n    tags: 'disk,{{{{ .CommonLabels.severity }}}}, ,'\n    priority: P2\n    note: '{{{{ .CommonAnnotations.summary }}}}'\n    entity: '{{{{ .CommonLabels.instance }}}}'\n    details:\n      team: storage\n    responders:\n    - name: ops\n      type: team\n    - username: '{{{{ .CommonLabels.nobody }}}}'\n      type: '{{{{ .CommonLabels.nobody }}}}'\n    - name: 'a,b'\n      type: teams\n    update_alerts: true\n"
    );
    let answer = (
        202,
        "application/json",
        r#"{"result":"Request will be processed","took":0.1,"requestId":"x"}"#.to_owned(),
    );
    let Some((am, kx)) = both_send_n(reference, &config, alert(), answer, 3).await else {
        return;
    };
    for i in 0..3 {
        assert_eq!(
            (am[i].method.as_str(), am[i].target.as_str()),
            (kx[i].method.as_str(), kx[i].target.as_str()),
            "{}",
            reference.name()
        );
        assert_eq!(kx[i].header("authorization"), Some("GenieKey GENIEKEY"));
        assert_eq!(am[i].header("authorization"), Some("GenieKey GENIEKEY"));
        assert_eq!(
            json_body(&am[i]),
            json_body(&kx[i]),
            "{} call {i}",
            reference.name()
        );
    }
}

#[tokio::test]
async fn opsgenie_sends_what_alertmanager_0_25_sends() {
    opsgenie_matches(Reference::V025).await;
}

#[tokio::test]
async fn opsgenie_sends_what_alertmanager_0_28_sends() {
    opsgenie_matches(Reference::V028).await;
}

async fn victorops_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  victorops_configs:\n  - api_url: '{{URL}}/integrations/generic/20131114/alert'\n    api_key: APIKEY\n    routing_key: '{{{{ .CommonLabels.severity }}}}-team'\n    message_type: WARNING\n    custom_fields:\n      runbook: 'http://wiki/{{{{ .GroupLabels.alertname }}}}'\n"
    );
    let answer = (
        200,
        "application/json",
        r#"{"result":"success","entity_id":"x"}"#.to_owned(),
    );
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    let path = "/integrations/generic/20131114/alert/APIKEY/critical-team";
    assert_eq!((am.method.as_str(), am.target.as_str()), ("POST", path));
    assert_eq!((kx.method.as_str(), kx.target.as_str()), ("POST", path));
    assert_eq!(json_body(&am), json_body(&kx), "{}", reference.name());
    assert_eq!(
        am.body,
        kx.body,
        "{}: a map of strings, byte for byte",
        reference.name()
    );
}

#[tokio::test]
async fn victorops_sends_what_alertmanager_0_25_sends() {
    victorops_matches(Reference::V025).await;
}

#[tokio::test]
async fn victorops_sends_what_alertmanager_0_28_sends() {
    victorops_matches(Reference::V028).await;
}

async fn webex_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  webex_configs:\n  - api_url: '{{URL}}/v1/messages'\n    room_id: ROOM1\n    http_config:\n      authorization:\n        credentials: BOTTOKEN\n"
    );
    let answer = (200, "application/json", r#"{"id":"m1"}"#.to_owned());
    let Some((am, kx)) = both_send(reference, &config, alert(), answer).await else {
        return;
    };
    for c in [&am, &kx] {
        assert_eq!(
            (c.method.as_str(), c.target.as_str()),
            ("POST", "/v1/messages")
        );
        assert_eq!(c.header("authorization"), Some("Bearer BOTTOKEN"));
    }
    assert_eq!(am.body, kx.body, "{}", reference.name());
}

#[tokio::test]
async fn webex_sends_what_alertmanager_0_25_sends() {
    webex_matches(Reference::V025).await;
}

#[tokio::test]
async fn webex_sends_what_alertmanager_0_28_sends() {
    webex_matches(Reference::V028).await;
}

/// An HTTP proxy for services whose address Alertmanager fixes (Pushover,
/// PagerDuty's v1 API): it answers `CONNECT`, terminates TLS with a
/// certificate for the service's host from a test CA, and relays the
/// plain HTTP to a [`Capture`]. Both servers are given it as
/// `http_config.proxy_url` and the CA as `tls_config.ca_file`.
pub(crate) struct InterceptingProxy {
    pub url: String,
    /// The head of each `CONNECT` request received.
    pub connects: Arc<Mutex<Vec<String>>>,
}

impl InterceptingProxy {
    pub async fn start(
        ca: &crate::harness::TestCa,
        host: &str,
        backend: &str,
    ) -> InterceptingProxy {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (cert, key) = ca.issue(&[host]);
        let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let tls = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let backend = backend.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connects = Arc::new(Mutex::new(Vec::new()));
        let seen = connects.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let (acceptor, backend, seen) = (acceptor.clone(), backend.clone(), seen.clone());
                tokio::spawn(async move {
                    // The request head, byte by byte: the TLS handshake
                    // that follows must stay unread.
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        let Ok(b) = tcp.read_u8().await else { return };
                        head.push(b);
                    }
                    if !head.starts_with(b"CONNECT ") {
                        return;
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    if tcp
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        InterceptingProxy { url, connects }
    }
}

/// As [`both_send_n`] for a service at a fixed `host`: `{PROXY}` and
/// `{CA}` in `config` stand for each server's intercepting proxy and the
/// test CA's file.
async fn both_send_intercepted(
    reference: Reference,
    host: &str,
    config: &str,
    answer: (u16, &'static str, String),
) -> Option<(Captured, Captured)> {
    let program = reference.program()?;
    crate::harness::init();
    let ca = crate::harness::TestCa::new("klaxon test CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let ca_path = ca_file.to_string_lossy().into_owned();
    let am_capture = Capture::start(answer.0, answer.1, answer.2.clone()).await;
    let kx_capture = Capture::start(answer.0, answer.1, answer.2).await;
    let am_proxy = InterceptingProxy::start(&ca, host, &am_capture.base).await;
    let kx_proxy = InterceptingProxy::start(&ca, host, &kx_capture.base).await;
    let fill = |proxy: &str| config.replace("{PROXY}", proxy).replace("{CA}", &ca_path);
    let am = Alertmanager::start(&program, &fill(&am_proxy.url)).await;
    let kx = TestServer::start(&fill(&kx_proxy.url)).await;
    for base in [&am.base, &kx.base] {
        let r = client()
            .post(format!("{base}/api/v2/alerts"))
            .json(&json!([alert()]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let a = am_capture.nth(0, "Alertmanager's request").await;
    let k = kx_capture.nth(0, "klaxon's request").await;
    am.stop().await;
    Some((a, k))
}

const PROXIED: &str =
    "    http_config:\n      proxy_url: '{PROXY}'\n      tls_config:\n        ca_file: '{CA}'\n";

async fn pushover_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  pushover_configs:\n  - token: APPTOKEN\n    user_key: USERKEY\n    sound: siren\n{PROXIED}"
    );
    let answer = (
        200,
        "application/json",
        r#"{"status":1,"request":"x"}"#.to_owned(),
    );
    let Some((am, kx)) =
        both_send_intercepted(reference, "api.pushover.net", &config, answer).await
    else {
        return;
    };
    let split = |c: &Captured| {
        let (path, query) = c.target.split_once('?').unwrap();
        let mut q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .map(|(k, v)| {
                // Each server's link back to itself differs by design.
                let v = if k == "url" { "EXT".to_owned() } else { v };
                (k, v)
            })
            .collect();
        // Alertmanager 0.25 predates the `device` field (sent, empty,
        // since 0.26).
        if reference == Reference::V025 {
            q.retain(|(k, v)| !(k == "device" && v.is_empty()));
        }
        q.sort();
        (c.method.clone(), path.to_owned(), q, c.body.clone())
    };
    assert_eq!(split(&am), split(&kx), "{}", reference.name());
    assert_eq!(kx.target.split('?').next(), Some("/1/messages.json"));
}

#[tokio::test]
async fn pushover_sends_what_alertmanager_0_25_sends() {
    pushover_matches(Reference::V025).await;
}

#[tokio::test]
async fn pushover_sends_what_alertmanager_0_28_sends() {
    pushover_matches(Reference::V028).await;
}

async fn pagerduty_v1_matches(reference: Reference) {
    let config = format!(
        "{ROUTE}receivers:\n- name: r\n  pagerduty_configs:\n  - service_key: SERVICEKEY\n    details:\n      firing: '{{{{ len .Alerts.Firing }}}} firing'\n      resolved: none\n      num_firing: one\n      num_resolved: zero\n{PROXIED}"
    );
    let answer = (
        200,
        "application/json",
        r#"{"status":"success","incident_key":"x"}"#.to_owned(),
    );
    let Some((am, kx)) =
        both_send_intercepted(reference, "events.pagerduty.com", &config, answer).await
    else {
        return;
    };
    let path = "/generic/2010-04-15/create_event.json";
    assert_eq!((am.method.as_str(), am.target.as_str()), ("POST", path));
    assert_eq!((kx.method.as_str(), kx.target.as_str()), ("POST", path));
    assert_eq!(json_body(&am), json_body(&kx), "{}", reference.name());
}

#[tokio::test]
async fn pagerduty_v1_sends_what_alertmanager_0_25_sends() {
    pagerduty_v1_matches(Reference::V025).await;
}

#[tokio::test]
async fn pagerduty_v1_sends_what_alertmanager_0_28_sends() {
    pagerduty_v1_matches(Reference::V028).await;
}
