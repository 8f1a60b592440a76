//! `--web.config.file`: the real binary serving TLS with basic auth and
//! verified client certificates, and the same file given to Debian's
//! Alertmanager, with `amtool` talking to both.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::harness::{PLAIN_CONFIG, TestCa, eventually, find_alert, free_port, init, peer};
use crate::peers::Prometheus;

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as
/// PEM files in a temporary directory that also holds the configs.
struct Setup {
    dir: tempfile::TempDir,
    ca_pem: String,
    client_pem: String,
}

impl Setup {
    fn new() -> Setup {
        let ca = TestCa::new("klaxon web test CA");
        let (server, server_key) = ca.issue(&["localhost", "127.0.0.1"]);
        let (client, client_key) = ca.issue(&["operator"]);
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("ca.pem", &ca.pem());
        write("server.pem", &server);
        write("server-key.pem", &server_key);
        write("alertmanager.yml", PLAIN_CONFIG);
        Setup {
            ca_pem: ca.pem(),
            client_pem: format!("{client}\n{client_key}"),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a web config with TLS, one user (`alice` / `s3cret`) and
    /// `extra` appended to its TLS block.
    fn web_config(&self, name: &str, tls_extra: &str) -> PathBuf {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let text = format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n{tls_extra}\
             http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
             basic_auth_users:\n  alice: {hash}\n",
            self.path("server.pem").display(),
            self.path("server-key.pem").display(),
        );
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts klaxon with `web` and waits until it serves `client` as alice.
    async fn klaxon(&self, web: &Path, storage: &str, client: &reqwest::Client) -> Served {
        let klaxon = Path::new(env!("CARGO_BIN_EXE_klaxon"));
        let served = spawn(klaxon, self, web, storage, &[]).await;
        wait_ready(client, &served.base).await;
        served
    }

    fn client(&self, with_client_cert: bool) -> reqwest::Client {
        let identity = with_client_cert.then_some(self.client_pem.as_str());
        client_trusting(&self.ca_pem, identity)
    }
}

/// A client that trusts only `ca_pem`'s CA, with a fresh connection pool.
fn client_trusting(ca_pem: &str, identity: Option<&str>) -> reqwest::Client {
    init();
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap());
    if let Some(pem) = identity {
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The user every web config here defines.
const ALICE: Option<(&str, &str)> = Some(("alice", "s3cret"));

/// GET `base` + `path`, with basic-auth credentials when given.
async fn get_as(
    client: &reqwest::Client,
    url: String,
    credentials: Option<(&str, &str)>,
) -> reqwest::Result<reqwest::Response> {
    let mut request = client.get(url);
    if let Some((user, password)) = credentials {
        request = request.header("Authorization", basic(user, password));
    }
    request.send().await
}

async fn alerts_as_alice(client: &reqwest::Client, base: &str) -> Option<serde_json::Value> {
    let answer = get_as(client, format!("{base}/api/v2/alerts"), ALICE).await;
    answer.ok()?.json().await.ok()
}

/// A server process (klaxon or Alertmanager) on a loopback port.
struct Served {
    _child: tokio::process::Child,
    base: String,
}

async fn spawn(program: &Path, setup: &Setup, web: &Path, storage: &str, extra: &[&str]) -> Served {
    let port = free_port();
    let child = tokio::process::Command::new(program)
        .arg(format!(
            "--config.file={}",
            setup.path("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", setup.path(storage).display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", web.display()))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn server");
    Served {
        _child: child,
        base: format!("https://127.0.0.1:{port}"),
    }
}

/// Polls `/-/ready` with the right credentials until it answers 200.
async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = get_as(client, format!("{base}/-/ready"), ALICE).await;
        if answer.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{base} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn tls_and_basic_auth_guard_every_endpoint() {
    let setup = Setup::new();
    let web = setup.web_config("web.yml", "");
    let client = setup.client(false);
    let klaxon = setup.klaxon(&web, "data", &client).await;

    // Unknown paths too: Alertmanager checks credentials before routing.
    for (path, served) in [
        ("/-/healthy", 200),
        ("/api/v2/status", 200),
        ("/api/v2/alerts", 200),
        ("/metrics", 200),
        ("/", 200),
        ("/no/such/page", 404),
        ("/api/v1/alerts", 410),
    ] {
        let url = format!("{}{path}", klaxon.base);
        for (credentials, status) in [
            (None, 401),
            (Some(("alice", "guess")), 401),
            (Some(("mallory", "s3cret")), 401),
            (ALICE, served),
        ] {
            let answer = get_as(&client, url.clone(), credentials).await.unwrap();
            assert_eq!(answer.status(), status, "{path} as {credentials:?}");
            assert_eq!(answer.headers()["x-frame-options"], "deny");
            if status == 401 {
                assert_eq!(answer.headers()["www-authenticate"], "Basic");
            }
        }
    }

    let posted = client
        .post(format!("{}/api/v2/alerts", klaxon.base))
        .header("Authorization", basic("alice", "s3cret"))
        .json(&json!([{"labels": {"alertname": "OverTls"}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let listed = alerts_as_alice(&client, &klaxon.base).await.unwrap();
    assert!(find_alert(&listed, "OverTls").is_some(), "{listed}");

    // Plain HTTP to the TLS port gets no answer.
    let plain = crate::harness::client()
        .get(klaxon.base.replacen("https", "http", 1) + "/-/healthy")
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));
}

#[tokio::test]
async fn client_certificates_are_verified_when_required() {
    let setup = Setup::new();
    let extra = format!(
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
        setup.path("ca.pem").display()
    );
    let web = setup.web_config("web-mtls.yml", &extra);
    let with_cert = setup.client(true);
    let klaxon = setup.klaxon(&web, "data", &with_cert).await;
    let without = setup
        .client(false)
        .get(format!("{}/-/healthy", klaxon.base))
        .header("Authorization", basic("alice", "s3cret"))
        .send()
        .await;
    assert!(
        without.is_err(),
        "a client without a certificate was served"
    );
}

#[tokio::test]
async fn a_bad_web_config_stops_startup_naming_field_and_line() {
    let setup = Setup::new();
    let web = setup.path("bad.yml");
    std::fs::write(&web, "basic_auth_users:\n  alice: not-a-hash\n").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg(format!(
            "--config.file={}",
            setup.path("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", setup.path("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{}", free_port()))
        .arg(format!("--web.config.file={}", web.display()))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("klaxon exits")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yml:2") && stderr.contains("basic_auth_users.alice"),
        "{stderr}"
    );
}

/// The same web config given to Alertmanager and to klaxon: both refuse a
/// request without credentials alike, and `amtool` with an HTTP config
/// (CA and basic auth) manages silences on both.
#[tokio::test]
async fn amtool_and_alertmanager_agree_on_the_web_config() {
    let Some(alertmanager) = peer("prometheus-alertmanager") else {
        return;
    };
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let setup = Setup::new();
    let web = setup.web_config("web.yml", "");
    let client = setup.client(false);
    let klaxon = setup.klaxon(&web, "klaxon-data", &client).await;
    let am = spawn(
        &alertmanager,
        &setup,
        &web,
        "am-data",
        &["--cluster.listen-address="],
    )
    .await;
    wait_ready(&client, &am.base).await;

    let refused = |base: String| {
        let client = client.clone();
        async move {
            let r = client
                .get(format!("{base}/api/v2/status"))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let challenge = r.headers()["www-authenticate"].clone();
            (status, challenge, r.text().await.unwrap())
        }
    };
    assert_eq!(
        refused(klaxon.base.clone()).await,
        refused(am.base.clone()).await
    );

    let http_config = setup.path("amtool-http.yml");
    std::fs::write(
        &http_config,
        format!(
            "basic_auth:\n  username: alice\n  password: s3cret\ntls_config:\n  ca_file: {}\n",
            setup.path("ca.pem").display()
        ),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    for base in [&klaxon.base, &am.base] {
        let run = |args: Vec<String>| {
            let mut cmd = tokio::process::Command::new(&amtool);
            cmd.arg(format!("--alertmanager.url={base}/"))
                .arg(format!("--http.config.file={}", http_config.display()))
                .arg("--timeout=10s")
                .args(args)
                .env("HOME", home.path())
                .stdin(Stdio::null())
                .kill_on_drop(true);
            async move {
                tokio::time::timeout(Duration::from_secs(30), cmd.output())
                    .await
                    .expect("amtool finishes")
                    .unwrap()
            }
        };
        let added = run(vec![
            "silence".into(),
            "add".into(),
            "alertname=OverTls".into(),
            "--comment=web config".into(),
            "--author=test".into(),
        ])
        .await;
        assert!(
            added.status.success(),
            "amtool silence add against {base}: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        let id = String::from_utf8_lossy(&added.stdout).trim().to_owned();
        let queried = run(vec!["silence".into(), "query".into(), "-q".into()]).await;
        assert!(queried.status.success());
        assert_eq!(
            String::from_utf8_lossy(&queried.stdout).trim(),
            id,
            "{base}"
        );
    }
}

/// Prometheus posts to klaxon over TLS with basic auth, configured as for
/// an Alertmanager behind the same web config.
#[tokio::test]
async fn prometheus_posts_over_tls_with_basic_auth() {
    let Some(prometheus) = peer("prometheus") else {
        return;
    };
    let setup = Setup::new();
    let web = setup.web_config("web.yml", "");
    let client = setup.client(false);
    let klaxon = setup.klaxon(&web, "data", &client).await;
    let ca_file = format!("        ca_file: {}", setup.path("ca.pem").display());
    let entry = [
        "      scheme: https",
        "      basic_auth:",
        "        username: alice",
        "        password: s3cret",
        "      tls_config:",
        &ca_file,
        "",
    ]
    .join("\n");
    let target = klaxon.base.trim_start_matches("https://").to_owned();
    let mut prom = Prometheus::start_with(&prometheus, &target, &entry).await;
    eventually(
        Duration::from_secs(60),
        "Prometheus to post KlaxonE2E over TLS",
        || {
            prom.assert_running();
            let (client, base) = (&client, &klaxon.base);
            async move { find_alert(&alerts_as_alice(client, base).await?, "KlaxonE2E") }
        },
    )
    .await;
    prom.stop().await;
}

/// `/-/reload` reads the web config again: a rotated certificate serves
/// the next connection and a changed password applies at once; a broken
/// file is refused and the running settings stay. File names relative to
/// the web config resolve from its directory.
#[tokio::test]
async fn a_reload_applies_new_certificates_and_passwords() {
    let setup = Setup::new();
    let web = setup.web_config("web.yml", "");
    let client = setup.client(false);
    let klaxon = setup.klaxon(&web, "data", &client).await;
    let healthy = format!("{}/-/healthy", klaxon.base);
    let reload = |client: &reqwest::Client, password: &str| {
        client
            .post(format!("{}/-/reload", klaxon.base))
            .header("Authorization", basic("alice", password))
            .send()
    };

    let rotated_ca = TestCa::new("klaxon rotated CA");
    let (cert, key) = rotated_ca.issue(&["localhost", "127.0.0.1"]);
    std::fs::write(setup.path("rotated.pem"), cert).unwrap();
    std::fs::write(setup.path("rotated-key.pem"), key).unwrap();
    let hash = bcrypt::hash("n3w", 4).unwrap();
    std::fs::write(
        &web,
        // Relative names: taken from the web config's directory, not from
        // klaxon's working directory.
        format!(
            "tls_server_config:\n  cert_file: rotated.pem\n  key_file: rotated-key.pem\n\
             basic_auth_users:\n  alice: {hash}\n"
        ),
    )
    .unwrap();
    assert_eq!(reload(&client, "s3cret").await.unwrap().status(), 200);

    let old_trust = setup.client(false);
    assert!(
        get_as(&old_trust, healthy.clone(), Some(("alice", "n3w")))
            .await
            .is_err(),
        "the old certificate is still served"
    );
    let rotated = client_trusting(&rotated_ca.pem(), None);
    let as_new = get_as(&rotated, healthy.clone(), Some(("alice", "n3w"))).await;
    assert_eq!(as_new.unwrap().status(), 200);
    let as_old = get_as(&rotated, healthy.clone(), ALICE).await;
    assert_eq!(as_old.unwrap().status(), 401);

    std::fs::write(&web, "basic_auth_users:\n  alice: plaintext\n").unwrap();
    let refused = reload(&rotated, "n3w").await.unwrap();
    assert_eq!(refused.status(), 500);
    let message = refused.text().await.unwrap();
    assert!(message.contains("basic_auth_users.alice"), "{message}");
    let still = get_as(&rotated, healthy, Some(("alice", "n3w"))).await;
    assert_eq!(still.unwrap().status(), 200);
}
