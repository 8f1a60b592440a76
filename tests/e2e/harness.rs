//! Shared test fixtures: a real klaxon on `127.0.0.1:0` with a temporary
//! store (in-process or as the real binary), an HTTP client, and the rules
//! for tests that need an external peer (Alertmanager, Prometheus, amtool).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Once};
use std::time::Duration;

use klaxon::app::{App, Options};
use klaxon::clock::Clock;
use serde_json::Value;

static INIT: Once = Once::new();

/// Must run before any reqwest client or TLS use in this binary.
pub fn init() {
    INIT.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("KLAXON_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
    });
}

pub fn client() -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A klaxon running inside the test process.
pub struct TestServer {
    app: Option<App>,
    pub base: String,
    pub dir: Arc<tempfile::TempDir>,
    pub client: reqwest::Client,
}

impl TestServer {
    pub async fn start(config: &str) -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        std::fs::write(dir.path().join("alertmanager.yml"), config).expect("write config");
        Self::start_in(dir).await
    }

    /// Starts on an existing directory (its config and store), e.g. after a restart.
    pub async fn start_in(dir: Arc<tempfile::TempDir>) -> TestServer {
        Self::try_start_in(dir).await.expect("klaxon starts")
    }

    pub async fn try_start_in(dir: Arc<tempfile::TempDir>) -> anyhow::Result<TestServer> {
        Self::try_start_with(dir, Default::default(), Default::default()).await
    }

    /// Starts with Alertmanager's behaviour flags set (limits, cluster, …).
    pub async fn start_tuned(config: &str, tuning: klaxon::app::Tuning) -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        std::fs::write(dir.path().join("alertmanager.yml"), config).expect("write config");
        Self::try_start_with(dir, Default::default(), tuning)
            .await
            .expect("klaxon starts")
    }

    /// Starts with `--enable-feature` switches on.
    pub async fn start_with_features(
        config: &str,
        features: klaxon::features::Features,
    ) -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        std::fs::write(dir.path().join("alertmanager.yml"), config).expect("write config");
        Self::try_start_with(dir, features, Default::default())
            .await
            .expect("klaxon starts")
    }

    pub async fn try_start_with(
        dir: Arc<tempfile::TempDir>,
        features: klaxon::features::Features,
        tuning: klaxon::app::Tuning,
    ) -> anyhow::Result<TestServer> {
        init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let options = Options {
            config_file: dir.path().join("alertmanager.yml"),
            storage_path: dir.path().join("data"),
            external_url: url::Url::parse(&format!("http://{addr}/"))?,
            route_prefix: "/".into(),
            retention: Duration::from_secs(120 * 3600),
            gc_interval: Duration::from_secs(30 * 60),
            clock: Clock::system(),
            web: klaxon::web::LiveWeb::none(),
            features,
            tuning,
        };
        let app = App::start(options, listener).await?;
        Ok(TestServer {
            app: Some(app),
            base: format!("http://{addr}"),
            dir,
            client: client(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("alertmanager.yml")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn post_alerts(&self, body: Value) -> reqwest::Response {
        self.post_json("/api/v2/alerts", &body).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("JSON answer")
    }

    /// Posts a silence body, expecting success; returns the silence ID.
    pub async fn post_silence(&self, body: &Value) -> String {
        let resp = self.post_json("/api/v2/silences", body).await;
        assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
        let v: Value = resp.json().await.unwrap();
        v["silenceID"].as_str().unwrap().to_owned()
    }

    /// Creates a silence and returns its ID.
    pub async fn add_silence(&self, matchers: Value, minutes: i64) -> String {
        let now = chrono::Utc::now();
        let body = serde_json::json!({
            "matchers": matchers,
            "startsAt": now.to_rfc3339(),
            "endsAt": (now + chrono::Duration::minutes(minutes)).to_rfc3339(),
            "createdBy": "test",
            "comment": "test silence",
        });
        self.post_silence(&body).await
    }

    /// Graceful stop: pending alerts are committed.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
        self.dir.clone()
    }

    pub async fn restart(self) -> TestServer {
        let dir = self.stop().await;
        Self::start_in(dir).await
    }
}

/// The real `klaxon` binary as a child process (for signals and `kill -9`).
pub struct BinaryServer {
    pub child: tokio::process::Child,
    pub base: String,
}

impl BinaryServer {
    /// Starts the binary on `dir` (which holds `alertmanager.yml`) and waits
    /// until `/-/ready` answers.
    pub async fn start(dir: &Path, extra: &[&str]) -> BinaryServer {
        Self::spawn(dir, extra, "", &[]).await
    }

    /// [`BinaryServer::start`] with more environment variables.
    pub async fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> BinaryServer {
        Self::spawn(dir, &[], "", env).await
    }

    /// [`BinaryServer::start`] with its log written to `dir/klaxon.log`,
    /// as the flags alone set it (`KLAXON_LOG` is not passed on).
    pub async fn start_logged(dir: &Path, extra: &[&str]) -> BinaryServer {
        Self::spawn_with(dir, extra, "", &[], Some(&dir.join("klaxon.log"))).await
    }

    /// Starts with `--web.route-prefix`; readiness is checked under it.
    pub async fn start_prefixed(dir: &Path, prefix: &str) -> BinaryServer {
        Self::spawn(dir, &[&format!("--web.route-prefix={prefix}")], prefix, &[]).await
    }

    async fn spawn(dir: &Path, extra: &[&str], prefix: &str, env: &[(&str, &str)]) -> BinaryServer {
        Self::spawn_with(dir, extra, prefix, env, None).await
    }

    async fn spawn_with(
        dir: &Path,
        extra: &[&str],
        prefix: &str,
        env: &[(&str, &str)],
        log: Option<&Path>,
    ) -> BinaryServer {
        init();
        // A free port may be taken by another test before klaxon binds it:
        // then klaxon exits, and another port is tried.
        for _ in 0..3 {
            let port = free_port();
            let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"));
            command
                .arg(format!(
                    "--config.file={}",
                    dir.join("alertmanager.yml").display()
                ))
                .arg(format!("--storage.path={}", dir.join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .args(extra)
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            if let Some(log) = log {
                command
                    .env_remove("KLAXON_LOG")
                    .stderr(std::fs::File::create(log).expect("log file"));
            }
            let mut child = command.spawn().expect("spawn klaxon");
            let base = format!("http://127.0.0.1:{port}");
            if ready_unless_exited(&format!("{base}{prefix}/-/ready"), &mut child).await {
                return BinaryServer { child, base };
            }
        }
        panic!("klaxon exited before it was ready, three times");
    }

    /// Starts the binary with exactly `args` (a whole command line, as a
    /// chart or operator writes it) and waits until `ready_url` answers;
    /// `None` when klaxon exits before it is ready (a port taken
    /// meanwhile: the caller may retry with others).
    pub async fn try_start_with_args(
        args: &[String],
        base: String,
        ready_url: &str,
    ) -> Option<BinaryServer> {
        Self::try_start_with_args_env(args, &[], base, ready_url).await
    }

    /// [`BinaryServer::try_start_with_args`] with more environment.
    pub async fn try_start_with_args_env(
        args: &[String],
        env: &[(String, String)],
        base: String,
        ready_url: &str,
    ) -> Option<BinaryServer> {
        init();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn klaxon");
        ready_unless_exited(ready_url, &mut child)
            .await
            .then_some(BinaryServer { child, base })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Value {
        let resp = client()
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST");
        assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = client().get(self.url(path)).send().await.expect("GET");
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("JSON answer")
    }

    /// The value of the sample `name` (no labels) on `/metrics`.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = client()
            .get(self.url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
            .parse()
            .ok()
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill9(mut self) {
        self.child.kill().await.expect("kill -9");
    }
}

/// Polls `url` until it answers 200 (`true`), or until `child` exits
/// (`false`), for at most 20 s.
async fn ready_unless_exited(url: &str, child: &mut tokio::process::Child) -> bool {
    let c = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = c.get(url).send().await
            && r.status().is_success()
        {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `url` until it answers 200, for at most 20 s.
pub async fn wait_ready(url: &str) {
    let c = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = c.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it returns `Some`, for at most `limit`; used where
/// another process (Prometheus, a background commit) acts on its own clock.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port that was free a moment ago, for processes that take a port flag.
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct free ports: each is held until all are picked, so none is
/// handed out twice.
pub fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("bound").port())
        .collect()
}

/// Finds an external peer program. Absent: the test prints why and skips,
/// unless `KLAXON_REQUIRE_PEERS=1`, where absence is a failure.
pub fn peer(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("KLAXON_REQUIRE_PEERS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{program} is required (KLAXON_REQUIRE_PEERS=1) but not on PATH"
        );
        eprintln!("SKIPPED: {program} not installed (apt-get install it to run this test)");
    }
    found
}

/// Debian 13's Alertmanager 0.28.1, unpacked (not installed) by `.ci/peers`
/// into its cache directory, or wherever `KLAXON_ALERTMANAGER_028` points.
/// Absent: skip with a reason, or fail under `KLAXON_REQUIRE_PEERS=1`.
pub fn alertmanager_028() -> Option<PathBuf> {
    let path = std::env::var_os("KLAXON_ALERTMANAGER_028")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                "/var/cache/klaxon-peers/alertmanager-0.28.1/usr/bin/prometheus-alertmanager",
            )
        });
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("KLAXON_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "Alertmanager 0.28.1 is required (KLAXON_REQUIRE_PEERS=1) but {} is missing: run .ci/peers",
        path.display()
    );
    eprintln!(
        "SKIPPED: Alertmanager 0.28.1 not at {} (run .ci/peers to fetch it)",
        path.display()
    );
    None
}

/// A silence body for `alertname=<value>`, active for an hour from now.
pub fn silence_json(alertname: &str, comment: &str) -> Value {
    let now = chrono::Utc::now();
    serde_json::json!({
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": false}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "test",
        "comment": comment,
    })
}

/// A minimal config routing everything to one receiver without integrations.
pub const PLAIN_CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: second
      matchers: ['team="b"']
receivers:
  - name: default
  - name: second
"#;

/// Runs a command-line tool (amctl, amtool) as a person would, but
/// bounded: a private `$HOME` (no operator's settings leak in), no
/// `ALERTMANAGER_URL` from the test's environment, `stdin` written then
/// closed (nothing when empty), and at most `limit` to finish.
pub async fn run_tool(
    program: &Path,
    args: &[&str],
    home: &Path,
    env: &[(&str, &str)],
    stdin: &[u8],
    limit: Duration,
) -> std::process::Output {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env("HOME", home)
        .env_remove("ALERTMANAGER_URL")
        .envs(env.iter().copied())
        .stdin(if stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
    if let Some(mut input) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        input.write_all(stdin).await.expect("write stdin");
    }
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} {args:?} did not finish in {limit:?}", program.display()))
        .expect("tool output")
}

/// A local HTTP receiver for webhook notifications: records every body and
/// answers with the next scripted status (then 200 for ever).
pub struct WebhookSink {
    pub url: String,
    received: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Value>>,
    _server: tokio::task::JoinHandle<()>,
}

impl WebhookSink {
    pub async fn start(script: Vec<u16>) -> WebhookSink {
        use axum::http::StatusCode;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let script = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
            script,
        )));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::body::Bytes| {
                let tx = tx.clone();
                let script = script.clone();
                async move {
                    let code = script.lock().unwrap().pop_front().unwrap_or(200);
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let _ = tx.send(v);
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookSink {
            url,
            received: tokio::sync::Mutex::new(rx),
            _server: server,
        }
    }

    /// The next request body, waiting at most `limit`.
    pub async fn next(&self, limit: Duration) -> Value {
        let mut rx = self.received.lock().await;
        tokio::time::timeout(limit, rx.recv())
            .await
            .expect("a webhook request in time")
            .expect("sink open")
    }

    /// The next request body, or `None` when none arrives within `limit`.
    pub async fn try_next(&self, limit: Duration) -> Option<Value> {
        let mut rx = self.received.lock().await;
        tokio::time::timeout(limit, rx.recv()).await.ok().flatten()
    }

    /// Whatever arrived so far, without waiting.
    pub async fn drain(&self) -> Vec<Value> {
        let mut rx = self.received.lock().await;
        let mut out = Vec::new();
        while let Ok(v) = rx.try_recv() {
            out.push(v);
        }
        out
    }
}

/// A throwaway certificate authority for TLS tests.
pub struct TestCa {
    key: rcgen::KeyPair,
    cert: rcgen::Certificate,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { key, cert }
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate for `names` (DNS names, or IP addresses as SANs of
    /// their own) and its private key, both PEM.
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        use rcgen::{CertificateParams, KeyPair, SanType};
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        for name in names {
            params.subject_alt_names.push(match name.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().unwrap()),
            });
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The alert named `alertname` in a `GET /api/v2/alerts` answer.
pub fn find_alert(alerts: &Value, alertname: &str) -> Option<Value> {
    alerts
        .as_array()?
        .iter()
        .find(|a| a["labels"]["alertname"] == alertname)
        .cloned()
}
