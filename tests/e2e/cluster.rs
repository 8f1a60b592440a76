//! Three replicas of the real binary on loopback, with Alertmanager's
//! cluster flags: they form a Raft cluster, and a silence made, changed or
//! expired on any replica shows on all of them, through a leader's death
//! and, without a quorum, once the quorum is back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BinaryServer, client, eventually, free_port, free_ports, silence_json};

/// One cluster test at a time: each runs three processes, and their
/// ports are picked before they are bound.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) struct Replica {
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
    pub(crate) args: Vec<String>,
    /// More environment for the process (a faked clock).
    pub(crate) env: Vec<(String, String)>,
    pub(crate) server: Option<BinaryServer>,
}

impl Replica {
    /// N of its `--cluster.peer-name=am-N`.
    pub(crate) fn args_index(&self) -> String {
        self.args
            .iter()
            .find_map(|a| a.strip_prefix("--cluster.peer-name=am-"))
            .unwrap()
            .to_owned()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts the binary; when it exits first (its API port was taken by
    /// another test meanwhile), again on another API port. The cluster
    /// port stays: the other replicas know it.
    pub(crate) async fn start(&mut self) {
        for _ in 0..4 {
            let base = format!("http://127.0.0.1:{}", self.port);
            if let Some(server) = BinaryServer::try_start_with_args_env(
                &self.args,
                &self.env,
                base.clone(),
                &format!("{base}/-/ready"),
            )
            .await
            {
                self.server = Some(server);
                return;
            }
            let port = free_port();
            for a in &mut self.args {
                if a.starts_with("--web.listen-address=") {
                    *a = format!("--web.listen-address=127.0.0.1:{port}");
                }
            }
            self.port = port;
        }
        panic!("a replica did not start: {:?}", self.args);
    }

    pub(crate) async fn kill(&mut self) {
        if let Some(s) = self.server.take() {
            s.kill9().await;
        }
    }

    /// Its `/metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        client()
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    pub(crate) async fn silence_state(&self, id: &str) -> Option<String> {
        let answer = client()
            .get(self.url(&format!("/api/v2/silence/{id}")))
            .send()
            .await
            .ok()?;
        if !answer.status().is_success() {
            return None;
        }
        let v: Value = answer.json().await.ok()?;
        v["status"]["state"].as_str().map(str::to_owned)
    }

    pub(crate) async fn post_silence(&self, body: &Value) -> String {
        let answer = client()
            .post(self.url("/api/v2/silences"))
            .json(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
        let v: Value = answer.json().await.unwrap();
        v["silenceID"].as_str().unwrap().to_owned()
    }
}

/// Three replicas that list each other, as a StatefulSet would.
pub(crate) fn replicas(root: &Path) -> Vec<Replica> {
    replicas_with(root, "route:\n  receiver: r\nreceivers:\n- name: r\n", &[])
}

/// [`replicas`] with a config and more flags; each replica has its own
/// `--web.external-url` (`http://am-N.test/`), so a notification says who
/// sent it.
pub(crate) fn replicas_with(root: &Path, config: &str, extra: &[&str]) -> Vec<Replica> {
    replicas_n(root, config, extra, 3)
}

/// `n` replicas listing each other.
pub(crate) fn replicas_n(root: &Path, config: &str, extra: &[&str], n: usize) -> Vec<Replica> {
    // Cluster and API ports all distinct: a replica whose cluster port
    // another took cannot start (it keeps that port; the others know it).
    let ports = free_ports(2 * n);
    let (cluster_ports, api_ports) = ports.split_at(n);
    let peers: Vec<String> = cluster_ports
        .iter()
        .map(|p| format!("--cluster.peer=127.0.0.1:{p}"))
        .collect();
    (0..n)
        .map(|i| {
            let dir = root.join(format!("am{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
            let port = api_ports[i];
            let mut args = vec![
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--cluster.listen-address=127.0.0.1:{}", cluster_ports[i]),
                format!("--cluster.peer-name=am-{i}"),
                format!("--web.external-url=http://am-{i}.test/"),
                "--cluster.label=klaxon-test".to_owned(),
            ];
            args.extend(extra.iter().map(|a| a.to_string()));
            args.extend(peers.iter().cloned());
            Replica {
                dir,
                port,
                args,
                env: Vec::new(),
                server: None,
            }
        })
        .collect()
}

/// Starts every replica and waits until each reports a ready cluster.
pub(crate) async fn start_all(replicas: &mut [Replica]) {
    for r in replicas.iter_mut() {
        r.start().await;
    }
    all_ready(&replicas.iter().collect::<Vec<_>>()).await;
}

pub(crate) async fn all_ready(replicas: &[&Replica]) {
    for r in replicas {
        eventually(Duration::from_secs(20), "a ready cluster", || async {
            let status = r.get("/api/v2/status").await;
            (status["cluster"]["status"] == "ready").then_some(())
        })
        .await;
    }
}

pub(crate) async fn on_all(replicas: &[&Replica], id: &str, state: &str) {
    for r in replicas {
        eventually(
            Duration::from_secs(10),
            &format!("silence {id} {state} on {}", r.dir.display()),
            || async { (r.silence_state(id).await.as_deref() == Some(state)).then_some(()) },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_are_replicated_across_three_replicas() {
    let _one = ONE_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    start_all(&mut set).await;
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    // Names are learned from the peers themselves, once each answered.
    eventually(Duration::from_secs(10), "every member named", || async {
        let status = a.get("/api/v2/status").await;
        let names: Vec<String> = status["cluster"]["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        (names == ["am-0", "am-1", "am-2"]).then_some(())
    })
    .await;

    // Made on one replica: active on all.
    let started = std::time::Instant::now();
    let id = b
        .post_silence(&silence_json("DiskFull", "replicated"))
        .await;
    on_all(&[a, b, c], &id, "active").await;
    let spread = started.elapsed();
    eprintln!("a silence was active on all three replicas {spread:?} after the POST");
    assert!(spread < Duration::from_secs(3), "took {spread:?}");
    // Expired on another: expired on all.
    let r = client()
        .delete(c.url(&format!("/api/v2/silence/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    on_all(&[a, b, c], &id, "expired").await;

    // One replica killed: the other two still agree.
    a.kill().await;
    let id2 = c
        .post_silence(&silence_json("CpuHot", "two of three"))
        .await;
    on_all(&[b, c], &id2, "active").await;
    // It catches up when it comes back.
    a.start().await;
    on_all(&[a], &id2, "active").await;

    // Two killed: the last one still takes a silence (no quorum), and the
    // others get it once they are back.
    a.kill().await;
    b.kill().await;
    let id3 = c
        .post_silence(&silence_json("NetDown", "without quorum"))
        .await;
    on_all(&[c], &id3, "active").await;
    a.start().await;
    b.start().await;
    on_all(&[a, b], &id3, "active").await;
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// A replica whose `--cluster.label` differs is refused on the cluster port.
#[tokio::test]
async fn another_clusters_label_is_refused() {
    let _one = ONE_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    let cluster_port = set[0]
        .args
        .iter()
        .find_map(|a| a.strip_prefix("--cluster.listen-address=127.0.0.1:"))
        .unwrap()
        .to_owned();
    set[0].start().await;
    let id_url = format!("http://127.0.0.1:{cluster_port}/cluster/v1/id");
    let other = client()
        .get(&id_url)
        .header("x-klaxon-cluster-label", "someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let same = client()
        .get(&id_url)
        .header("x-klaxon-cluster-label", "klaxon-test")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    let me: Value = same.json().await.unwrap();
    assert_eq!(me["name"], json!("am-0"));
    set[0].kill().await;
}

/// A webhook receiver that records who sent each notification (the
/// payload's `externalURL`), under which `Idempotency-Key` and for which
/// alert name (`"{from} {key} {alertname}"`), and answers after `delay`, or
/// never.
pub(crate) struct SlowSink {
    pub(crate) url: String,
    senders: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SlowSink {
    pub(crate) async fn start(delay: Option<Duration>) -> SlowSink {
        let senders = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = senders.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                    let seen = seen.clone();
                    async move {
                        let from = body["externalURL"].as_str().unwrap_or_default().to_owned();
                        let key = headers
                            .get("idempotency-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        let alertname = body["alerts"][0]["labels"]["alertname"]
                            .as_str()
                            .unwrap_or_default();
                        seen.lock()
                            .unwrap()
                            .push(format!("{from} {key} {alertname}"));
                        match delay {
                            Some(d) => tokio::time::sleep(d).await,
                            None => std::future::pending::<()>().await,
                        }
                        "ok"
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SlowSink { url, senders }
    }

    pub(crate) fn senders(&self) -> Vec<String> {
        self.senders.lock().unwrap().clone()
    }

    /// Waits up to `within` for a first notification, then checks for
    /// `window` that no other comes (several flushes of every replica fit
    /// in it).
    pub(crate) async fn exactly_one(&self, within: Duration, window: Duration) {
        eventually(within, "a notification", || async {
            (!self.senders().is_empty()).then_some(())
        })
        .await;
        self.stays_at(1, window).await;
    }

    /// Waits until no notification came for `quiet`, for at most `within`.
    pub(crate) async fn settles(&self, quiet: Duration, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        let (mut seen, mut since) = (self.senders().len(), tokio::time::Instant::now());
        while since.elapsed() < quiet {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{:?}",
                self.senders()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.senders().len();
            if now != seen {
                (seen, since) = (now, tokio::time::Instant::now());
            }
        }
    }

    /// Checks for `window` that exactly `n` notifications came.
    pub(crate) async fn stays_at(&self, n: usize, window: Duration) {
        let end = tokio::time::Instant::now() + window;
        while tokio::time::Instant::now() < end {
            assert_eq!(self.senders().len(), n, "{:?}", self.senders());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub(crate) fn hook_config(url: &str) -> String {
    format!(
        "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n- name: r\n  webhook_configs:\n  - url: '{url}'\n"
    )
}

/// Prometheus posts the same alert to every replica.
pub(crate) async fn post_to_all(replicas: &[&Replica], alertname: &str) {
    let body =
        json!([{"labels": {"alertname": alertname}, "startsAt": chrono::Utc::now().to_rfc3339()}]);
    for r in replicas {
        let answer = client()
            .post(r.url("/api/v2/alerts"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
}

/// The case Alertmanager documents as at-least-once: a receiver slower
/// than `--cluster.peer-timeout` gets one copy per replica from
/// Alertmanager (3 measured on 0.25 and 0.28.1). klaxon's replicas claim
/// the notification through the cluster: exactly one copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_gets_one_notification_from_three_replicas() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sink = SlowSink::start(Some(Duration::from_secs(3))).await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas_with(
        root.path(),
        &hook_config(&sink.url),
        &["--cluster.peer-timeout=1s"],
    );
    start_all(&mut set).await;
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    post_to_all(&[a, b, c], "SlowHook").await;
    // The other replicas' groups flush too (group_wait 1s, then every 2s).
    sink.exactly_one(Duration::from_secs(15), Duration::from_secs(8))
        .await;
    // The claim's fencing token came as the Idempotency-Key.
    let sent = sink.senders()[0].clone();
    let key = sent.split(' ').nth(1).unwrap_or_default();
    assert!(key.parse::<u64>().is_ok_and(|k| k > 0), "{sent}");
    // The metrics say so: one grant, one leader, three members each.
    let (mut granted, mut leaders, mut writes) = (0.0, 0.0, 0.0);
    for r in [&*a, &*b, &*c] {
        let text = r.metrics().await;
        let value = |line: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(line).and_then(|v| v.trim().parse().ok()))
                .unwrap_or_else(|| panic!("{line} in\n{text}"))
        };
        assert_eq!(value("alertmanager_cluster_enabled "), 1.0);
        assert_eq!(value("alertmanager_cluster_members "), 3.0);
        granted += value("klaxon_cluster_claims_total{result=\"granted\"} ");
        leaders += value("klaxon_cluster_leader ");
        writes += text
            .lines()
            .filter(|l| l.starts_with("klaxon_cluster_proposals_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>();
    }
    assert_eq!(granted, 1.0, "one claim granted in all");
    // The cost: a claim and its `Sent`, however many flushes ran; the
    // other replicas found the claim live, then the notification sent.
    assert_eq!(writes, 2.0, "two writes to the replicated log in all");
    assert_eq!(leaders, 1.0, "one leader");
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// The replica sending a notification dies before the receiver answers:
/// its claim lapses (`--cluster.claim-ttl`) and a survivor sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survivor_sends_what_a_dead_sender_claimed() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sink = SlowSink::start(None).await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas_with(
        root.path(),
        &hook_config(&sink.url),
        &["--cluster.claim-ttl=4s"],
    );
    start_all(&mut set).await;
    post_to_all(&set.iter().collect::<Vec<_>>(), "Takeover").await;
    let first = eventually(Duration::from_secs(15), "a first attempt", || async {
        sink.senders().first().cloned()
    })
    .await;
    let dead = set
        .iter()
        .position(|r| first.contains(&format!("am-{}.test", r.args_index())))
        .expect("the sender is one of the replicas");
    let killed_at = std::time::Instant::now();
    set[dead].kill().await;
    let second = eventually(Duration::from_secs(20), "a survivor's attempt", || async {
        sink.senders().get(1).cloned()
    })
    .await;
    assert_ne!(second, first, "a survivor sent it");
    let took = killed_at.elapsed();
    eprintln!("a survivor sent {took:?} after the sender died (claim ttl 4s)");
    assert!(took < Duration::from_secs(12), "{took:?}");
    for r in &mut set {
        r.kill().await;
    }
}

/// `--cluster.tls-config` in Alertmanager's format: the cluster port
/// speaks TLS and wants a client certificate from the test CA; three such
/// replicas replicate a silence; a plain-HTTP or certificate-less caller
/// gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_speak_mutual_tls_with_a_cluster_tls_config() {
    let _one = ONE_AT_A_TIME.lock().await;
    crate::harness::init();
    let root = tempfile::tempdir().unwrap();
    let ca = crate::harness::TestCa::new("cluster CA");
    let (cert, key) = ca.issue(&["localhost", "127.0.0.1"]);
    std::fs::write(root.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(root.path().join("node.pem"), cert).unwrap();
    std::fs::write(root.path().join("node.key"), key).unwrap();
    // Relative paths: taken from the file's own directory.
    std::fs::write(
        root.path().join("cluster-tls.yml"),
        "tls_server_config:\n  cert_file: node.pem\n  key_file: node.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\ntls_client_config:\n  ca_file: ca.pem\n  cert_file: node.pem\n  key_file: node.key\n",
    )
    .unwrap();
    let tls_flag = format!(
        "--cluster.tls-config={}",
        root.path().join("cluster-tls.yml").display()
    );
    let mut set = replicas_with(
        root.path(),
        "route:\n  receiver: r\nreceivers:\n- name: r\n",
        &[tls_flag.as_str()],
    );
    start_all(&mut set).await;
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    let id = a.post_silence(&silence_json("Tls", "over mTLS")).await;
    on_all(&[a, b, c], &id, "active").await;

    let cluster_port = a
        .args
        .iter()
        .find_map(|x| x.strip_prefix("--cluster.listen-address=127.0.0.1:"))
        .unwrap()
        .to_owned();
    let plain = client()
        .get(format!("http://127.0.0.1:{cluster_port}/cluster/v1/id"))
        .header("x-klaxon-cluster-label", "klaxon-test")
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| !r.status().is_success()),
        "no plain HTTP"
    );
    let ca_cert = reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap();
    let no_client_cert = reqwest::Client::builder()
        .tls_certs_only([ca_cert])
        .build()
        .unwrap()
        .get(format!("https://127.0.0.1:{cluster_port}/cluster/v1/id"))
        .header("x-klaxon-cluster-label", "klaxon-test")
        .send()
        .await;
    assert!(no_client_cert.is_err(), "a client certificate is required");
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// A replica whose data directory was wiped comes back under a new ID:
/// the leader replaces the old member with it (it never votes with the
/// log it lost), and it catches up on the silences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_replica_rejoins_under_a_new_identity() {
    let _one = ONE_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    start_all(&mut set).await;
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    let id = a.post_silence(&silence_json("Before", "kept")).await;
    on_all(&[a, b, c], &id, "active").await;
    c.kill().await;
    std::fs::remove_dir_all(c.dir.join("data")).unwrap();
    c.start().await;
    on_all(&[c], &id, "active").await;
    let later = c
        .post_silence(&silence_json("After", "from the new c"))
        .await;
    on_all(&[a, b, c], &later, "active").await;
    eventually(
        Duration::from_secs(10),
        "three members, c among them",
        || async {
            let status = a.get("/api/v2/status").await;
            let peers = status["cluster"]["peers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            (peers.len() == 3 && peers.iter().any(|p| p["name"] == "am-2")).then_some(())
        },
    )
    .await;
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// `amctl cluster status` shows the leader and the three members; a replica
/// reloaded with a different `alertmanager.yml` is flagged by the others
/// (log, `klaxon_cluster_config_mismatch`, the status's Config column).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amctl_shows_the_cluster_and_a_different_config_is_flagged() {
    let _one = ONE_AT_A_TIME.lock().await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    start_all(&mut set).await;
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    let status = |base: String| async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_amctl"))
            .args([&format!("--alertmanager.url={base}"), "cluster", "status"])
            .env("HOME", "/nonexistent")
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let text = eventually(Duration::from_secs(10), "three named members", || async {
        let text = status(a.url("")).await;
        (["am-0", "am-1", "am-2"].iter().all(|n| text.contains(n))
            && text.contains("leader")
            && !text.contains("Leader:  none"))
        .then_some(text)
    })
    .await;
    assert_eq!(text.matches(" same").count(), 3, "{text}");

    std::fs::write(
        c.dir.join("alertmanager.yml"),
        "route:\n  receiver: other\nreceivers:\n- name: other\n",
    )
    .unwrap();
    let reload = client().post(c.url("/-/reload")).send().await.unwrap();
    assert_eq!(reload.status(), 200);
    let text = eventually(
        Duration::from_secs(15),
        "c's config flagged on a",
        || async {
            let text = status(a.url("")).await;
            text.lines()
                .any(|l| l.contains("am-2") && l.contains("DIFFERS"))
                .then_some(text)
        },
    )
    .await;
    assert!(
        !text
            .lines()
            .any(|l| l.contains("am-1") && l.contains("DIFFERS")),
        "{text}"
    );
    let metrics = a.metrics().await;
    assert!(
        metrics.contains("klaxon_cluster_config_mismatch 1"),
        "{metrics}"
    );
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// Two replicas (no failure tolerance with any consensus: the majority of
/// two is two): together they send one notification; with one killed the
/// other behaves as Alertmanager does — it takes silences and, after its
/// stagger, sends (fail-open) — and the two converge when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_fail_open_when_one_is_lost() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sink = SlowSink::start(Some(Duration::from_millis(10))).await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas_n(
        root.path(),
        &hook_config(&sink.url),
        &["--cluster.peer-timeout=1s"],
        2,
    );
    start_all(&mut set).await;
    let [a, b] = &mut set[..] else { unreachable!() };
    post_to_all(&[a, b], "Pair").await;
    eventually(Duration::from_secs(15), "one notification", || async {
        (sink.senders().len() == 1).then_some(())
    })
    .await;
    b.kill().await;
    // Alone: a silence is taken, and a new alert's notification goes out
    // fail-open (after up to 4 s looking for a quorum and its stagger).
    let id = a.post_silence(&silence_json("Quiet", "alone")).await;
    on_all(&[a], &id, "active").await;
    post_to_all(&[a], "Alone").await;
    eventually(
        Duration::from_secs(20),
        "a fail-open notification",
        || async { (sink.senders().len() == 2).then_some(()) },
    )
    .await;
    let metrics = a.metrics().await;
    assert!(
        metrics.contains("klaxon_cluster_failopen_notifications_total 1"),
        "{metrics}"
    );
    // Back together: the silence made alone reaches the other.
    b.start().await;
    on_all(&[b], &id, "active").await;
    for r in [a, b] {
        r.kill().await;
    }
}

/// The sender is frozen (SIGSTOP) mid-send past its claim: a survivor
/// takes the claim over and sends; when the frozen one resumes it sends
/// nothing more. (Its own send, already on the wire, is the duplicate the
/// README names: a sender paused past the lease.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_sender_is_taken_over_and_sends_nothing_more() {
    let _one = ONE_AT_A_TIME.lock().await;
    let sink = SlowSink::start(Some(Duration::from_secs(2))).await;
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas_with(
        root.path(),
        &hook_config(&sink.url),
        &["--cluster.claim-ttl=8s"],
    );
    start_all(&mut set).await;
    post_to_all(&set.iter().collect::<Vec<_>>(), "Frozen").await;
    let first = eventually(Duration::from_secs(15), "a first attempt", || async {
        sink.senders().first().cloned()
    })
    .await;
    let frozen = set
        .iter()
        .position(|r| first.contains(&format!("am-{}.test", r.args_index())))
        .expect("the sender is one of the replicas");
    let pid = set[frozen]
        .server
        .as_ref()
        .and_then(|s| s.child.id())
        .expect("a running sender");
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    let second = eventually(Duration::from_secs(25), "a survivor's takeover", || async {
        sink.senders().get(1).cloned()
    })
    .await;
    assert!(
        !second.starts_with(first.split(' ').next().unwrap()),
        "{second}"
    );
    signal("-CONT");
    // Several of the resumed replica's flushes (group_interval 2s).
    let window = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < window {
        assert_eq!(sink.senders().len(), 2, "{:?}", sink.senders());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut takeovers = 0.0;
    for r in &set {
        let text = r.metrics().await;
        takeovers += text
            .lines()
            .find_map(|l| l.strip_prefix("klaxon_cluster_takeovers_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    assert_eq!(takeovers, 1.0);
    for r in &mut set {
        r.kill().await;
    }
}
