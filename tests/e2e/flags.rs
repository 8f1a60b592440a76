//! Alertmanager 0.34's command line on the real binary: every flag it
//! registers is accepted, the command lines the Prometheus Operator and the
//! prometheus-community Helm chart generate start klaxon, and refused
//! values stop it with Alertmanager's message. Behaviour flags are checked
//! over HTTP on an in-process server.

use std::time::Duration;

use klaxon::app::{ClusterIdentity, Tuning};
use serde_json::{Value, json};

use crate::harness::{BinaryServer, TestServer, client, free_port, free_ports};

const CONFIG: &str = "route:\n  receiver: default\nreceivers:\n  - name: default\n";

/// Every flag of Alertmanager v0.34.0, with a value it accepts: the
/// `kingpin.Flag` lines of `cmd/alertmanager/main.go`, then the flags its
/// libraries add (promslog, exporter-toolkit). `--help` and `--version`
/// are checked apart, as they end the process. Extracted once from the
/// source; `{dir}` is the test's directory.
const ALERTMANAGER_0_34_FLAGS: &[(&str, Option<&str>)] = &[
    ("config.file", Some("{dir}/alertmanager.yml")),
    ("storage.path", Some("{dir}/data")),
    ("data.retention", Some("120h")),
    ("data.maintenance-interval", Some("15m")),
    ("silences.max-silences", Some("0")),
    ("silences.max-silence-size-bytes", Some("0")),
    ("log.silences", None),
    ("alerts.gc-interval", Some("30m")),
    ("alerts.per-alertname-limit", Some("0")),
    ("dispatch.maintenance-interval", Some("30s")),
    ("dispatch.start-delay", Some("0s")),
    (
        "web.external-url",
        Some("http://alertmanager.example:9093/"),
    ),
    ("web.route-prefix", Some("/")),
    ("web.get-concurrency", Some("0")),
    ("web.timeout", Some("0")),
    ("auto-gomemlimit.ratio", Some("0.9")),
    ("cluster.listen-address", Some("127.0.0.1:{cport}")),
    ("cluster.advertise-address", Some("127.0.0.1:{cport}")),
    ("cluster.peer-name", Some("klaxon-0")),
    ("cluster.peer", Some("127.0.0.1:9095")),
    ("cluster.peer-timeout", Some("15s")),
    ("cluster.peers-resolve-timeout", Some("15s")),
    ("cluster.gossip-interval", Some("200ms")),
    ("cluster.pushpull-interval", Some("1m0s")),
    ("cluster.tcp-timeout", Some("10s")),
    ("cluster.probe-timeout", Some("500ms")),
    ("cluster.probe-interval", Some("1s")),
    ("cluster.settle-timeout", Some("1m0s")),
    ("cluster.reconnect-interval", Some("10s")),
    ("cluster.reconnect-timeout", Some("6h0m0s")),
    ("cluster.tls-config", Some("")),
    (
        "cluster.allow-insecure-public-advertise-address-discovery",
        None,
    ),
    ("cluster.label", Some("ns/name")),
    ("enable-feature", Some("receiver-name-in-metrics")),
    // promslog
    ("log.level", Some("info")),
    ("log.format", Some("logfmt")),
    // exporter-toolkit
    ("web.listen-address", Some("127.0.0.1:{port}")),
    ("web.config.file", Some("{dir}/web-config.yaml")),
    ("web.systemd-socket", Some("false")),
];

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("web-config.yaml"), "{}\n").unwrap();
    dir
}

/// The free ports a command line names: `{port}` (the API's), `{cport}`
/// (the cluster's) and `{second}` (a second API address), all distinct.
struct Ports {
    api: u16,
    cluster: u16,
    second: u16,
}

impl Ports {
    fn pick() -> Ports {
        let [api, cluster, second] = free_ports(3)[..] else {
            unreachable!("three ports asked for")
        };
        Ports {
            api,
            cluster,
            second,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.api)
    }
}

/// `{dir}` and the ports of [`Ports`] filled into `template`.
fn fill(template: &str, dir: &tempfile::TempDir, ports: &Ports) -> String {
    template
        .replace("{dir}", &dir.path().display().to_string())
        .replace("{port}", &ports.api.to_string())
        .replace("{cport}", &ports.cluster.to_string())
        .replace("{second}", &ports.second.to_string())
}

/// Starts klaxon on `templates` filled in, ready. A free port may be taken
/// by another test before klaxon binds it; klaxon then exits, and the
/// command line is tried again on fresh ports.
async fn start(templates: &[String], dir: &tempfile::TempDir) -> (BinaryServer, Ports) {
    for _ in 0..3 {
        let ports = Ports::pick();
        let args: Vec<String> = templates.iter().map(|t| fill(t, dir, &ports)).collect();
        let base = ports.base();
        let ready = format!("{base}/-/ready");
        if let Some(server) = BinaryServer::try_start_with_args(&args, base, &ready).await {
            return (server, ports);
        }
    }
    panic!("klaxon exited before it was ready, three times");
}

fn strings(templates: &[&str]) -> Vec<String> {
    templates.iter().map(|t| t.to_string()).collect()
}

async fn status(server: &BinaryServer) -> Value {
    server.get_json("/api/v2/status").await
}

#[tokio::test]
async fn every_alertmanager_0_34_flag_is_accepted() {
    let dir = setup();
    let templates: Vec<String> = ALERTMANAGER_0_34_FLAGS
        .iter()
        .map(|(name, value)| match value {
            Some(v) => format!("--{name}={v}"),
            None => format!("--{name}"),
        })
        .collect();
    let (server, ports) = start(&templates, &dir).await;
    let cluster = &status(&server).await["cluster"];
    // Its one peer never answers: no leader, so still settling.
    assert_eq!(cluster["status"], "settling");
    assert_eq!(cluster["name"], "klaxon-0");
    assert_eq!(
        cluster["peers"],
        json!([{"address": format!("127.0.0.1:{}", ports.cluster), "name": "klaxon-0"}])
    );
}

/// The same names in `--help`, and `--version` answers: kingpin's own flags.
#[tokio::test]
async fn help_lists_every_flag_and_version_answers() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for (name, _) in ALERTMANAGER_0_34_FLAGS {
        assert!(text.contains(&format!("--{name}")), "--help lacks --{name}");
    }
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(
        String::from_utf8(version.stdout)
            .unwrap()
            .contains("klaxon")
    );
}

/// kingpin's syntax: `--flag value` as well as `--flag=value`, booleans
/// as `--flag` and `--no-flag`, a repeated `--web.listen-address` serving
/// on each address, and Go durations (`1m30s`) beside Prometheus' (`5d`).
#[tokio::test]
async fn kingpins_syntax_and_repeated_listen_addresses_work() {
    let dir = setup();
    let templates = strings(&[
        "--config.file",
        "{dir}/alertmanager.yml",
        "--storage.path",
        "{dir}/data",
        "--web.listen-address",
        "127.0.0.1:{port}",
        "--web.listen-address=127.0.0.1:{second}",
        "--data.retention=5d",
        "--dispatch.start-delay",
        "1m30s",
        "--web.timeout=1.5s",
        "--log.silences",
        "--no-log.silences",
        "--silences.max-silences",
        "-1",
    ]);
    let (server, ports) = start(&templates, &dir).await;
    let other = client()
        .get(format!("http://127.0.0.1:{}/-/ready", ports.second))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "served on the second address too");
    assert_eq!(status(&server).await["cluster"]["status"], "disabled");
}

/// kube-prometheus-stack's Alertmanager as the operator writes it (one
/// replica: an empty cluster address), paths moved to a temp directory.
#[tokio::test]
async fn the_prometheus_operator_command_line_starts_klaxon() {
    let dir = setup();
    let templates = strings(&[
        "--config.file={dir}/alertmanager.yml",
        "--storage.path={dir}/data",
        "--data.retention=120h",
        "--cluster.listen-address=",
        "--web.listen-address=127.0.0.1:{port}",
        "--web.external-url=http://kube-prometheus-stack-alertmanager.monitoring:9093",
        "--web.route-prefix=/",
        "--cluster.label=monitoring/kube-prometheus-stack-alertmanager",
        "--cluster.peer=alertmanager-kube-prometheus-stack-alertmanager-0.alertmanager-operated:9094",
        "--cluster.reconnect-timeout=5m",
        "--web.config.file={dir}/web-config.yaml",
    ]);
    let (server, _) = start(&templates, &dir).await;
    assert_eq!(status(&server).await["cluster"]["status"], "disabled");
}

/// The operator with several replicas: the pod's address in brackets, the
/// memory-limit feature and its ratio.
#[tokio::test]
async fn the_prometheus_operator_ha_command_line_starts_klaxon() {
    let dir = setup();
    let templates = strings(&[
        "--config.file={dir}/alertmanager.yml",
        "--storage.path={dir}/data",
        "--data.retention=120h",
        "--cluster.listen-address=127.0.0.1:{cport}",
        "--cluster.advertise-address=[10.1.2.3]:9094",
        "--web.listen-address=127.0.0.1:{port}",
        "--enable-feature=auto-gomemlimit",
        "--web.route-prefix=/",
        "--cluster.peer-timeout=60s",
        "--cluster.label=openstack/ecms",
        "--cluster.peer=alertmanager-ecms-0.alertmanager-operated:9094",
        "--cluster.peer=alertmanager-ecms-1.alertmanager-operated:9094",
        "--cluster.reconnect-timeout=5m",
        "--web.config.file={dir}/web-config.yaml",
        "--auto-gomemlimit.ratio=0.9",
    ]);
    let (server, _) = start(&templates, &dir).await;
    let cluster = &status(&server).await["cluster"];
    // The peers' names do not resolve here: the cluster cannot form.
    assert_eq!(cluster["status"], "settling");
    assert_eq!(cluster["peers"][0]["address"], "10.1.2.3:9094");
    assert_eq!(cluster["peers"][0]["name"], cluster["name"]);
}

/// prometheus-community/alertmanager's chart with three replicas and an
/// extra argument, as its statefulset template renders them.
#[tokio::test]
async fn the_helm_chart_command_line_starts_klaxon() {
    let dir = setup();
    let templates = strings(&[
        "--storage.path={dir}/data",
        "--config.file={dir}/alertmanager.yml",
        "--cluster.advertise-address=[10.4.5.6]:9094",
        "--cluster.listen-address=127.0.0.1:{cport}",
        "--cluster.peer=alertmanager-0.alertmanager-headless:9094",
        "--cluster.peer=alertmanager-1.alertmanager-headless:9094",
        "--cluster.peer=alertmanager-2.alertmanager-headless:9094",
        "--web.listen-address=127.0.0.1:{port}",
    ]);
    let (server, _) = start(&templates, &dir).await;
    let cluster = &status(&server).await["cluster"];
    assert_eq!(cluster["status"], "settling");
    assert_eq!(
        cluster["peers"],
        json!([{"address": "10.4.5.6:9094", "name": cluster["name"]}])
    );
    // A generated name is a ULID: 26 characters of Crockford's base 32.
    let name = cluster["name"].as_str().unwrap();
    assert_eq!(name.len(), 26);
    assert!(
        name.bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
    );
}

/// Refused values stop the binary with a non-zero exit and a message
/// naming the problem, as kingpin and Alertmanager do.
#[tokio::test]
async fn bad_flag_values_stop_klaxon_with_a_clear_message() {
    let dir = setup();
    let ports = Ports::pick();
    let cases = [
        (
            "--enable-feature=warp-drive",
            "unknown option 'warp-drive' for --enable-feature",
        ),
        (
            "--enable-feature=classic-mode,utf8-strict-mode",
            "cannot have both classic and UTF-8 modes enabled",
        ),
        (
            "--dispatch.start-delay=soon",
            r#"time: invalid duration "soon""#,
        ),
        ("--silences.max-silences=many", "invalid syntax"),
        ("--log.silences=maybe", "invalid syntax"),
        ("--no-such-flag=1", "--no-such-flag"),
        (
            "--auto-gomemlimit.ratio=2",
            "--auto-gomemlimit.ratio must be greater than 0",
        ),
        ("--web.systemd-socket", "no socket was passed by systemd"),
    ];
    for (arg, message) in cases {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"));
        cmd.arg(fill("--config.file={dir}/alertmanager.yml", &dir, &ports))
            .arg(fill("--storage.path={dir}/data", &dir, &ports))
            .arg(fill("--web.listen-address=127.0.0.1:{port}", &dir, &ports))
            .arg(arg);
        if arg.starts_with("--auto-gomemlimit") {
            cmd.arg("--enable-feature=auto-gomemlimit");
        }
        let out = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::task::spawn_blocking(move || cmd.output().unwrap()),
        )
        .await
        .expect("exits")
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{arg} should be refused");
        assert!(stderr.contains(message), "{arg}: {stderr}");
        assert!(!stderr.contains("panicked"), "{arg}: {stderr}");
    }
}

/// `--web.systemd-socket`: klaxon serves on the socket systemd hands it
/// as fd 3 (`LISTEN_PID`, `LISTEN_FDS`), not on `--web.listen-address`.
/// A shell stands in for systemd: it sets `LISTEN_PID` to its own PID and
/// `exec`s klaxon, which keeps it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test]
async fn a_systemd_socket_is_served() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let dir = setup();
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let fd = socket.as_raw_fd();
    let unused = free_port();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_klaxon"))
        .arg(fill(
            "--config.file={dir}/alertmanager.yml",
            &dir,
            &Ports::pick(),
        ))
        .arg(fill("--storage.path={dir}/data", &dir, &Ports::pick()))
        .arg(format!("--web.listen-address=127.0.0.1:{unused}"))
        .arg("--web.systemd-socket")
        .stdout(std::process::Stdio::null());
    // SAFETY: dup2 and fcntl are async-signal-safe; they put the listening
    // socket at fd 3, without close-on-exec, in the child only.
    unsafe {
        cmd.pre_exec(move || {
            let placed = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if placed < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    crate::harness::wait_ready(&format!("http://127.0.0.1:{port}/-/ready")).await;
    let refused = client()
        .get(format!("http://127.0.0.1:{unused}/-/ready"))
        .send()
        .await;
    assert!(refused.is_err(), "--web.listen-address is not used");
    child.kill().await.unwrap();
    drop(socket);
}

fn silence(comment: &str) -> Value {
    let now = chrono::Utc::now();
    json!({
        "matchers": [{"name": "alertname", "value": "Foo", "isRegex": false}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "flags test",
        "comment": comment,
    })
}

/// `--silences.max-silences`: expired silences count; the next one is a
/// 400 with Alertmanager's message, and updates in place still work.
#[tokio::test]
async fn max_silences_refuses_one_too_many_with_400() {
    let server = TestServer::start_tuned(
        CONFIG,
        Tuning {
            max_silences: 2,
            ..Tuning::default()
        },
    )
    .await;
    let first = server.post_silence(&silence("one")).await;
    server.post_silence(&silence("two")).await;
    let expired = server
        .client
        .delete(server.url(&format!("/api/v2/silence/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 200);
    let resp = server
        .post_json("/api/v2/silences", &silence("three"))
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        "exceeded maximum number of silences: 2 (limit: 2)"
    );
    assert_eq!(
        server
            .get_json("/api/v2/silences")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// `--silences.max-silence-size-bytes`: a silence over it is a 400 naming
/// both sizes; a small one passes.
#[tokio::test]
async fn max_silence_size_refuses_a_large_silence_with_400() {
    let server = TestServer::start_tuned(
        CONFIG,
        Tuning {
            max_silence_size_bytes: 300,
            ..Tuning::default()
        },
    )
    .await;
    server.post_silence(&silence("short")).await;
    let resp = server
        .post_json("/api/v2/silences", &silence(&"x".repeat(400)))
        .await;
    assert_eq!(resp.status(), 400);
    let message = resp.json::<Value>().await.unwrap();
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with("silence exceeded maximum size: ")
            && message.ends_with(" bytes (limit: 300 bytes)"),
        "{message}"
    );
}

fn alert(instance: &str) -> Value {
    json!({"labels": {"alertname": "Noisy", "instance": instance}})
}

/// `--alerts.per-alertname-limit`: alerts over it are dropped with 200,
/// counted, and the limit is exported.
#[tokio::test]
async fn the_per_alertname_limit_drops_and_counts_extra_alerts() {
    let server = TestServer::start_tuned(
        CONFIG,
        Tuning {
            per_alertname_limit: 2,
            ..Tuning::default()
        },
    )
    .await;
    let resp = server
        .post_alerts(json!([alert("a"), alert("b"), alert("c")]))
        .await;
    assert_eq!(resp.status(), 200);
    let other = json!([{"labels": {"alertname": "Quiet"}}]);
    assert_eq!(server.post_alerts(other).await.status(), 200);
    let alerts = server.get_json("/api/v2/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 3);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("alertmanager_alerts_per_alert_limit 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alertmanager_alerts_limited_total 1"),
        "{metrics}"
    );
}

/// A non-empty `--cluster.listen-address` and no peers: a one-member
/// cluster, ready, listed with the port it bound.
#[tokio::test]
async fn a_cluster_address_reports_a_ready_one_member_cluster() {
    let server = TestServer::start_tuned(
        CONFIG,
        Tuning {
            cluster: Some(ClusterIdentity {
                name: "01HZX0000000000000000000AB".into(),
                address: "127.0.0.1:0".into(),
                listen_address: "127.0.0.1:0".into(),
                ..ClusterIdentity::default()
            }),
            ..Tuning::default()
        },
    )
    .await;
    let status = server.get_json("/api/v2/status").await;
    let cluster = &status["cluster"];
    assert_eq!(cluster["name"], "01HZX0000000000000000000AB");
    assert_eq!(cluster["status"], "ready");
    let peers = cluster["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1, "{cluster}");
    assert_eq!(peers[0]["name"], "01HZX0000000000000000000AB");
    let address = peers[0]["address"].as_str().unwrap();
    assert!(
        address.starts_with("127.0.0.1:") && !address.ends_with(":0"),
        "{address}"
    );
    let plain = TestServer::start(CONFIG).await;
    let status = plain.get_json("/api/v2/status").await;
    assert_eq!(
        status["cluster"],
        json!({"peers": [], "status": "disabled"})
    );
}

/// `--web.get-concurrency` with `--web.timeout`: the in-flight gauge and
/// the refusal counter are exported under Alertmanager's names.
#[tokio::test]
async fn the_request_limit_metrics_are_exported() {
    let server = TestServer::start_tuned(
        CONFIG,
        Tuning {
            get_concurrency: 4,
            web_timeout: Some(Duration::from_secs(5)),
            ..Tuning::default()
        },
    )
    .await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    // The scrape itself is the one GET in flight.
    assert!(
        metrics.contains(r#"alertmanager_http_requests_in_flight{method="get"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"alertmanager_http_concurrency_limit_exceeded_total{method="get"} 0"#),
        "{metrics}"
    );
}
