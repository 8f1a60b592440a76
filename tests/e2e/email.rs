//! Email end to end: klaxon sends to a real SMTP server running in this
//! process (mailin's SMTP session over tokio-rustls with ring, a
//! certificate chain from rcgen), and the received message is parsed as
//! MIME. STARTTLS with AUTH LOGIN and PLAIN, implicit TLS on a second
//! listener, a server without STARTTLS, a rejected password, and the same
//! alert through Alertmanager 0.25.
//!
//! mailin's session speaks SMTP and says when to start TLS; the sockets
//! and the TLS are driven here (mailin-embedded, which would drive them,
//! brings rustls' aws-lc-rs provider along). Implicit TLS is a thin
//! tokio-rustls adapter in front of a plain server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::{Message, MessageParser, MimeHeaders};
use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder, response};
use serde_json::json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::harness::{TestServer, eventually, init};

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "hunter2-app-password";

/// One message as the server saw it.
#[derive(Debug, Clone, Default)]
struct Received {
    /// `PLAIN` or `LOGIN` with the user name, when the client authenticated.
    auth: Option<(String, String)>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

/// What the server recorded, shared by every connection's handler.
#[derive(Default)]
struct Record {
    /// Connections that said EHLO.
    sessions: AtomicUsize,
    mail_commands: AtomicUsize,
    messages: Mutex<Vec<Received>>,
}

/// mailin's callbacks: accepts `PASSWORD` for any user, refuses `busy@…`
/// recipients with a temporary error, records the rest.
/// Cloned per connection, so `current` starts empty each time.
#[derive(Clone)]
struct Recorder {
    record: Arc<Record>,
    current: Received,
    greeted: bool,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: std::net::IpAddr, _domain: &str) -> Response {
        // A client says EHLO again after STARTTLS: count connections once.
        if !self.greeted {
            self.greeted = true;
            self.record.sessions.fetch_add(1, Ordering::SeqCst);
        }
        response::OK
    }

    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, from: &str) -> Response {
        self.record.mail_commands.fetch_add(1, Ordering::SeqCst);
        self.current.mail_from = from.to_owned();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("busy@") {
            // 451: a temporary local error, as a full queue would give.
            return response::INTERNAL_ERROR;
        }
        self.current.rcpt_to.push(to.to_owned());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let done = std::mem::take(&mut self.current);
        self.current.auth = done.auth.clone();
        self.record.messages.lock().unwrap().push(done);
        response::OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.login("PLAIN", user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.login("LOGIN", user, password)
    }
}

impl Recorder {
    fn login(&mut self, mechanism: &str, user: &str, password: &str) -> Response {
        if password != PASSWORD {
            return response::INVALID_CREDENTIALS;
        }
        self.current.auth = Some((mechanism.to_owned(), user.to_owned()));
        response::AUTH_OK
    }
}

/// A CA and a `localhost` certificate it signed, as PEM files.
struct Certs {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Certs {
    fn new() -> Certs {
        let ca = crate::harness::TestCa::new("klaxon test CA");
        let (cert, key) = ca.issue(&["localhost"]);
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        Certs {
            ca: write("ca.pem", ca.pem()),
            cert: write("cert.pem", cert),
            key: write("key.pem", key),
            _dir: dir,
        }
    }
}

/// A running SMTP server on loopback, its tasks on the test's runtime.
struct SmtpServer {
    addr: SocketAddr,
    record: Arc<Record>,
}

enum Security<'a> {
    /// STARTTLS offered, AUTH (after STARTTLS) with these mechanisms in
    /// this order.
    StartTls(&'a Certs, &'a [AuthMechanism]),
    /// Neither STARTTLS nor AUTH.
    Plain,
}

impl SmtpServer {
    fn start(security: Security<'_>) -> SmtpServer {
        init();
        let record = Arc::new(Record::default());
        let handler = Recorder {
            record: record.clone(),
            current: Received::default(),
            greeted: false,
        };
        let mut session = SessionBuilder::new("localhost");
        let tls = match security {
            Security::StartTls(certs, mechanisms) => {
                session.enable_start_tls();
                for m in mechanisms {
                    session.enable_auth(m.clone());
                }
                let config = Arc::new(server_tls_config(certs));
                Some(tokio_rustls::TlsAcceptor::from(config))
            }
            Security::Plain => None,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, peer)) = listener.accept().await {
                let session = session.build(peer.ip(), handler.clone());
                tokio::spawn(smtp_connection(tcp, session, tls.clone()));
            }
        });
        SmtpServer { addr, record }
    }

    /// An implicit-TLS listener in front of a plain server: TLS is
    /// terminated here and the SMTP bytes are relayed.
    async fn start_implicit_tls(certs: &Certs) -> SmtpServer {
        let inner = SmtpServer::start(Security::Plain);
        let config = server_tls_config(certs);
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backend = inner.addr;
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        SmtpServer {
            addr,
            record: inner.record,
        }
    }

    fn messages(&self) -> Vec<Received> {
        self.record.messages.lock().unwrap().clone()
    }

    /// The first message, waiting for it at most `WAIT`.
    async fn next_message(&self) -> Received {
        eventually(WAIT, "a message at the SMTP server", || async {
            self.messages().into_iter().next()
        })
        .await
    }
}

fn server_tls_config(certs: &Certs) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(&certs.cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&certs.key).unwrap();
    rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

/// One SMTP connection: the greeting, commands until the session ends or
/// asks for TLS, then the rest of them over TLS.
async fn smtp_connection(
    tcp: tokio::net::TcpStream,
    mut session: mailin::Session<Recorder>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    let mut plain = BufReader::new(tcp);
    send(&mut plain, &session.greeting()).await?;
    if !smtp_commands(&mut session, &mut plain).await? {
        return Ok(());
    }
    // The client starts its handshake only after the 220, so nothing it
    // sent is left in the buffer.
    let Some(acceptor) = tls else {
        return Ok(());
    };
    let tls = acceptor.accept(plain.into_inner()).await?;
    session.tls_active();
    smtp_commands(&mut session, &mut BufReader::new(tls)).await?;
    Ok(())
}

/// Feeds lines to the session and writes its answers; `true` when it
/// asked for TLS.
async fn smtp_commands<S: AsyncBufRead + AsyncWrite + Unpin>(
    session: &mut mailin::Session<Recorder>,
    stream: &mut S,
) -> std::io::Result<bool> {
    let mut line = Vec::with_capacity(80);
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return Ok(false);
        }
        let res = session.process(&line);
        match res.action {
            Action::NoReply => {}
            Action::Reply => send(stream, &res).await?,
            Action::Close => {
                send(stream, &res).await?;
                return Ok(false);
            }
            Action::UpgradeTls => {
                send(stream, &res).await?;
                return Ok(true);
            }
        }
    }
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, res: &Response) -> std::io::Result<()> {
    stream.write_all(&res.buffer()?).await?;
    stream.flush().await
}

/// klaxon's config: one email receiver, short timers.
fn klaxon_config(email: &str) -> String {
    format!(
        r#"
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: mail
    email_configs:
{email}
"#
    )
}

/// The email config most tests use: STARTTLS to `addr`, trusting `ca`.
fn starttls_email(addr: SocketAddr, ca: &Path, password: &str) -> String {
    format!(
        r#"      - to: 'Ops Team <ops@example.com>, Zoë <zoe@example.org>'
        from: 'Klaxon Alarmglöckchen <klaxon@example.com>'
        hello: klaxon.test
        smarthost: {addr}
        auth_username: alice@example.com
        auth_password: {password}
        tls_config:
          ca_file: {ca}
          server_name: localhost
        headers:
          Subject: 'Plattenplatz knapp ✓'
          X-Team: storage
        text: 'plain text: grüße'
        html: '<p>html: grüße</p>'"#,
        ca = ca.display()
    )
}

fn parse(data: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(data)
        .expect("a MIME message")
}

async fn fire(s: &TestServer, name: &str) {
    let resp = s
        .post_alerts(json!([{"labels": {"alertname": name, "severity": "critical"}}]))
        .await;
    assert_eq!(resp.status(), 200);
}

/// Sends one alert through a STARTTLS server offering `mechanisms` and
/// checks everything the message carries; returns the mechanism used.
async fn deliver_over_starttls(mechanisms: &[AuthMechanism]) -> String {
    let certs = Certs::new();
    let smtp = SmtpServer::start(Security::StartTls(&certs, mechanisms));
    let s = TestServer::start(&klaxon_config(&starttls_email(
        smtp.addr, &certs.ca, PASSWORD,
    )))
    .await;
    fire(&s, "DiskFull").await;
    let got = smtp.next_message().await;

    assert_eq!(got.mail_from, "klaxon@example.com");
    assert_eq!(got.rcpt_to, ["ops@example.com", "zoe@example.org"]);
    let m = parse(&got.data);
    assert_eq!(m.subject(), Some("Plattenplatz knapp ✓"));
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Klaxon Alarmglöckchen"));
    assert_eq!(from.address(), Some("klaxon@example.com"));
    let to: Vec<_> = m
        .to()
        .unwrap()
        .iter()
        .map(|a| a.address().unwrap())
        .collect();
    assert_eq!(to, ["ops@example.com", "zoe@example.org"]);
    assert_eq!(m.header_raw("X-Team").map(str::trim), Some("storage"));
    assert!(m.date().is_some(), "Date header");
    assert!(m.message_id().is_some_and(|id| id.contains('@')));
    assert_eq!(m.content_type().unwrap().subtype(), Some("alternative"));
    assert_eq!(m.body_text(0).unwrap(), "plain text: grüße");
    assert_eq!(m.body_html(0).unwrap(), "<p>html: grüße</p>");

    let history = eventually(WAIT, "a successful attempt", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "success").then_some(h)
    })
    .await;
    assert_eq!(history["notifications"][0]["integration"], "email");
    let (mechanism, user) = got.auth.expect("the client authenticated");
    assert_eq!(user, "alice@example.com");
    mechanism
}

#[tokio::test]
async fn starttls_delivery_uses_login_when_the_server_lists_it_first() {
    // Gmail lists `LOGIN PLAIN XOAUTH2`; Alertmanager takes the first.
    let used = deliver_over_starttls(&[AuthMechanism::Login, AuthMechanism::Plain]).await;
    assert_eq!(used, "LOGIN");
}

#[tokio::test]
async fn starttls_delivery_uses_plain_when_the_server_lists_it_first() {
    let used = deliver_over_starttls(&[AuthMechanism::Plain, AuthMechanism::Login]).await;
    assert_eq!(used, "PLAIN");
}

#[tokio::test]
async fn implicit_tls_delivery_works_on_a_second_listener() {
    let certs = Certs::new();
    let smtp = SmtpServer::start_implicit_tls(&certs).await;
    let email = format!(
        r#"      - to: ops@example.com
        from: klaxon@example.com
        smarthost: {}
        force_implicit_tls: true
        tls_config:
          insecure_skip_verify: true
        html: '<p>hi</p>'
        text: hi"#,
        smtp.addr
    );
    let s = TestServer::start(&klaxon_config(&email)).await;
    fire(&s, "Implicit").await;
    let got = smtp.next_message().await;
    let m = parse(&got.data);
    assert_eq!(got.rcpt_to, ["ops@example.com"]);
    assert_eq!(m.body_text(0).unwrap(), "hi");
    // No Subject configured: the default (here klaxon's built-in
    // rendering of Alertmanager's default subject).
    assert_eq!(
        m.subject().map(str::trim),
        Some("[FIRING:1] Implicit (critical)")
    );
}

#[tokio::test]
async fn without_starttls_require_tls_fails_and_retries_without_sending_in_plain_text() {
    let smtp = SmtpServer::start(Security::Plain);
    let email = format!(
        r#"      - to: ops@example.com
        from: klaxon@example.com
        smarthost: {}
        auth_username: alice
        auth_password: {PASSWORD}"#,
        smtp.addr
    );
    let s = TestServer::start(&klaxon_config(&email)).await;
    fire(&s, "NoTls").await;
    // The flush retries until its deadline (10 s), then records a failure.
    let history = eventually(WAIT, "a failed attempt", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "failure").then_some(h)
    })
    .await;
    let error = history["notifications"][0]["error"].as_str().unwrap();
    assert!(error.contains("STARTTLS"), "{error}");
    assert!(
        smtp.record.sessions.load(Ordering::SeqCst) >= 2,
        "the failure was retried"
    );
    assert_eq!(smtp.record.mail_commands.load(Ordering::SeqCst), 0);
    assert!(smtp.messages().is_empty(), "nothing was sent in plain text");
}

#[tokio::test]
async fn require_tls_false_sends_in_plain_text_as_alertmanager_does() {
    let smtp = SmtpServer::start(Security::Plain);
    let email = format!(
        r#"      - to: ops@example.com
        from: klaxon@example.com
        smarthost: {}
        require_tls: false
        text: plain
        html: ''"#,
        smtp.addr
    );
    let s = TestServer::start(&klaxon_config(&email)).await;
    fire(&s, "PlainOk").await;
    let got = smtp.next_message().await;
    let m = parse(&got.data);
    assert_eq!(m.body_text(0).unwrap(), "plain");
    let raw = String::from_utf8_lossy(&got.data);
    assert!(
        !raw.contains("text/html"),
        "html: '' turns the HTML part off"
    );
}

#[tokio::test]
async fn a_rejected_password_fails_permanently_and_is_never_shown() {
    // Every log line of this test at any level: a current-thread runtime
    // runs klaxon's tasks on this thread, under this subscriber.
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let certs = Certs::new();
    let smtp = SmtpServer::start(Security::StartTls(&certs, &[AuthMechanism::Login]));
    let wrong = "wrong-s3cret-app-password";
    let s = TestServer::start(&klaxon_config(&starttls_email(smtp.addr, &certs.ca, wrong))).await;
    fire(&s, "BadPassword").await;
    let history = eventually(WAIT, "a failed attempt", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "failure").then_some(h)
    })
    .await;
    let error = history["notifications"][0]["error"].as_str().unwrap();
    assert!(error.contains("535"), "{error}");
    // 5xx is permanent: one session, no retry.
    assert_eq!(smtp.record.sessions.load(Ordering::SeqCst), 1);
    let everywhere: Vec<String> = vec![
        history.to_string(),
        s.get_json("/api/v2/status").await.to_string(),
        s.get_json("/api/v2/receivers").await.to_string(),
        s.get("/metrics").await.text().await.unwrap(),
        logs.text(),
    ];
    assert!(logs.text().contains("535"), "the failure was logged");
    for text in everywhere {
        assert!(!text.contains(wrong), "the password leaked: {text}");
    }
}

#[tokio::test]
async fn a_temporary_smtp_error_is_retried_within_the_flush() {
    let smtp = SmtpServer::start(Security::Plain);
    let email = format!(
        r#"      - to: busy@example.com
        from: klaxon@example.com
        smarthost: {}
        require_tls: false"#,
        smtp.addr
    );
    let s = TestServer::start(&klaxon_config(&email)).await;
    fire(&s, "Busy").await;
    let history = eventually(WAIT, "a failed attempt", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "failure").then_some(h)
    })
    .await;
    let error = history["notifications"][0]["error"].as_str().unwrap();
    assert!(error.contains("451"), "{error}");
    assert!(
        smtp.record.sessions.load(Ordering::SeqCst) >= 2,
        "4xx is retried"
    );
}

/// A log sink for `tracing_subscriber::fmt`.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

#[test]
fn the_gmail_example_loads_and_builds_a_notifier() {
    init();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gmail.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |name: &str| (name == "GMAIL_APP_PASSWORD").then(|| "abcd efgh ijkl mnop".to_owned());
    let config = klaxon::config::Config::load_str(&text, &path, &env).unwrap();
    let templates = Arc::new(klaxon::template::Templates::builtin());
    let metrics = Arc::new(klaxon::metrics::Metrics::new());
    let receivers =
        klaxon::notify::pipeline::build_receivers(&config.receivers, &templates, &metrics).unwrap();
    let names: Vec<&str> = receivers
        .values()
        .flatten()
        .map(|i| i.notifier.name())
        .collect();
    assert!(names.contains(&"email"), "{names:?}");
    let mail = &config.receivers[0].email_configs[0];
    assert_eq!(mail.smarthost.as_deref(), Some("smtp.gmail.com:587"));
    assert_eq!(
        mail.auth_password.as_ref().unwrap().expose(),
        "abcd efgh ijkl mnop"
    );
}

/// The same alert through Alertmanager 0.25 and klaxon, both with default
/// templates, gives the same Subject.
#[tokio::test]
async fn the_default_subject_matches_alertmanagers() {
    let Some(program) = crate::harness::peer("prometheus-alertmanager") else {
        return;
    };
    let certs = Certs::new();
    let smtp = SmtpServer::start(Security::StartTls(&certs, &[AuthMechanism::Plain]));
    let email = |to: &str| {
        format!(
            r#"      - to: {to}
        from: klaxon@example.com
        smarthost: localhost:{port}
        auth_username: alice
        auth_password: {PASSWORD}
        tls_config:
          ca_file: {ca}"#,
            port = smtp.addr.port(),
            ca = certs.ca.display()
        )
    };
    let am = crate::differential::Alertmanager::start(
        &program,
        &klaxon_config(&email("am@example.com")),
    )
    .await;
    let kx = TestServer::start(&klaxon_config(&email("kx@example.com"))).await;
    let alert = json!([{
        "labels": {"alertname": "Differential", "instance": "db1", "severity": "critical"},
        "annotations": {"summary": "the same alert"}
    }]);
    let client = crate::harness::client();
    for base in [&am.base, &kx.base] {
        let resp = client
            .post(format!("{base}/api/v2/alerts"))
            .json(&alert)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let both = eventually(WAIT, "a message from each", || async {
        let msgs = smtp.messages();
        let from = |to: &str| msgs.iter().find(|m| m.rcpt_to == [to]).cloned();
        Some((from("am@example.com")?, from("kx@example.com")?))
    })
    .await;
    am.stop().await;
    let (from_am, from_kx) = both;
    let (am_msg, kx_msg) = (parse(&from_am.data), parse(&from_kx.data));
    let subject = |m: &Message<'_>| m.subject().map(str::to_owned);
    assert_eq!(
        subject(&am_msg).as_deref().map(str::trim),
        Some("[FIRING:1] Differential (db1 critical)")
    );
    assert_eq!(
        subject(&kx_msg),
        subject(&am_msg),
        "klaxon's Subject differs"
    );
    assert!(kx_msg.body_html(0).is_some(), "klaxon sends an HTML part");
}

#[tokio::test]
async fn threading_gives_every_mail_of_a_group_the_same_phantom_root() {
    let smtp = SmtpServer::start(Security::Plain);
    let email = format!(
        r#"      - to: ops@example.com
        from: klaxon@example.com
        smarthost: {}
        require_tls: false
        text: plain
        html: ''
        threading:
          enabled: true
          thread_by_date: none"#,
        smtp.addr
    );
    let s = TestServer::start(&klaxon_config(&email)).await;
    fire(&s, "Threaded").await;
    let got = smtp.next_message().await;
    let m = parse(&got.data);
    // Alertmanager 0.30: `<alert-{sha256(group key)[:16]}-{date}@alertmanager>`;
    // the group key is `{}:{alertname="Threaded"}`.
    let root = "<alert-8545a73ca603ec01-@alertmanager>";
    assert_eq!(m.header_raw("References").map(str::trim), Some(root));
    assert_eq!(m.header_raw("In-Reply-To").map(str::trim), Some(root));
}

/// The README's migration, walked with its Discord + Gmail example: the
/// file unchanged but for Gmail's host (a local STARTTLS server with a
/// `localhost` certificate, trusted through `SSL_CERT_FILE` as a system
/// root) and the two secrets in the environment. `amctl check-config`
/// passes, the real binary starts on it, and `amctl receiver test oncall`
/// delivers to Discord and by mail, logged in with the app password.
#[tokio::test]
async fn the_readmes_discord_and_gmail_migration_delivers_a_test_notification() {
    let certs = Certs::new();
    let smtp = SmtpServer::start(Security::StartTls(&certs, &[AuthMechanism::Plain]));
    let discord = crate::discord::FakeDiscord::start(&[("migrated", Default::default())]).await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/discord-gmail.yml");
    let text = std::fs::read_to_string(&example).unwrap();
    assert!(text.contains("smtp.gmail.com:587"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    let gmail_stand_in = format!("localhost:{}", smtp.addr.port());
    std::fs::write(&config, text.replace("smtp.gmail.com:587", &gmail_stand_in)).unwrap();
    let hook = discord.url("migrated");
    let ca = certs.ca.display().to_string();
    let env = [
        ("DISCORD_WEBHOOK_URL", hook.as_str()),
        ("GMAIL_APP_PASSWORD", PASSWORD),
        ("SSL_CERT_FILE", ca.as_str()),
    ];
    let amctl = Path::new(env!("CARGO_BIN_EXE_amctl"));
    let limit = Duration::from_secs(30);
    let config_arg = config.display().to_string();
    let check = crate::harness::run_tool(
        amctl,
        &["check-config", &config_arg],
        dir.path(),
        &env,
        b"",
        limit,
    )
    .await;
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let port = crate::harness::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let args: Vec<String> = vec![
        format!("--config.file={config_arg}"),
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    let owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _klaxon = crate::harness::BinaryServer::try_start_with_args_env(
        &args,
        &owned,
        base.clone(),
        &format!("{base}/-/ready"),
    )
    .await
    .expect("klaxon starts on the migrated config");
    let url_arg = format!("--alertmanager.url={base}");
    let test = crate::harness::run_tool(
        amctl,
        &[&url_arg, "receiver", "test", "oncall"],
        dir.path(),
        &env,
        b"",
        limit,
    )
    .await;
    let said = String::from_utf8_lossy(&test.stdout);
    assert!(
        test.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&test.stderr)
    );

    let posted = discord.delivered("migrated").await;
    assert!(
        posted.body.to_string().contains("KlaxonTestNotification"),
        "{}",
        posted.body
    );
    let mail = smtp.next_message().await;
    assert_eq!(
        mail.auth,
        Some(("PLAIN".to_owned(), "you@gmail.com".to_owned()))
    );
    assert_eq!(mail.rcpt_to, ["you@gmail.com"]);
    let message = parse(&mail.data);
    let subject = message.subject().unwrap_or_default();
    assert!(subject.contains("KlaxonTestNotification"), "{subject}");
    assert!(!said.contains(PASSWORD), "{said}");
}
