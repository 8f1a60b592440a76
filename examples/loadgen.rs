//! Load generator for klaxon and any Alertmanager-compatible server.
//!
//! `ingest`, `query` and `silences` load a server that is already running;
//! `compare` starts klaxon and Alertmanager one after the other on loopback,
//! runs the same workload against each and prints a markdown table (see
//! `benches/RESULTS.md`). Server CPU and memory come from `/proc`, so the
//! numbers are the server's own, not the load generator's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use reqwest::Client;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use tokio::process::{Child, Command};

#[derive(Parser)]
#[command(about = "Load an Alertmanager-compatible server over API v2")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Post N distinct alerts in Prometheus-style batches.
    Ingest {
        #[arg(long)]
        url: String,
        #[command(flatten)]
        load: IngestLoad,
    },
    /// Time `GET /api/v2/alerts`.
    Query {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10)]
        repeat: usize,
    },
    /// Create K silences, each matching one instance.
    Silences {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 8)]
        connections: usize,
    },
    /// Run the same workload against klaxon and Alertmanager side by side.
    Compare {
        /// klaxon binary (a release build).
        #[arg(long)]
        klaxon: PathBuf,
        /// Alertmanager binary.
        #[arg(long)]
        alertmanager: PathBuf,
        #[command(flatten)]
        load: IngestLoad,
        /// Silences created before the GET timing.
        #[arg(long, default_value_t = 1000)]
        silences: usize,
        /// GET runs whose median is reported.
        #[arg(long, default_value_t = 5)]
        get_repeat: usize,
    },
}

#[derive(clap::Args, Clone, Copy)]
struct IngestLoad {
    /// Distinct alerts to post.
    #[arg(long, default_value_t = 20_000)]
    alerts: usize,
    /// Alerts per POST; Prometheus sends up to 64 by default.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 8)]
    connections: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is built without a default TLS provider; it must exist before
    // the first Client, even for plain HTTP.
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("installing the TLS crypto provider"))?;
    let cli = Cli::parse();
    let client = http_client(64)?;
    match cli.command {
        Cmd::Ingest { url, load } => {
            let r = ingest(&client, &url, load).await?;
            println!("{}", r.describe(load.alerts));
        }
        Cmd::Query { url, repeat } => {
            let r = query(&client, &url, repeat).await?;
            println!(
                "GET /api/v2/alerts ×{repeat}: p50 {} p99 {}, {} alerts, {} bytes",
                ms(r.latency.p50),
                ms(r.latency.p99),
                r.alerts,
                r.bytes
            );
        }
        Cmd::Silences {
            url,
            count,
            connections,
        } => {
            let r = create_silences(&client, &url, count, connections).await?;
            println!(
                "{count} silences in {:.2}s: {:.0}/s, p50 {} p99 {}",
                r.elapsed.as_secs_f64(),
                r.rate(count),
                ms(r.latency.p50),
                ms(r.latency.p99)
            );
        }
        Cmd::Compare {
            klaxon,
            alertmanager,
            load,
            silences,
            get_repeat,
        } => {
            let plan = Plan {
                load,
                silences,
                get_repeat,
            };
            let k = measure(&client, Kind::Klaxon, &klaxon, plan).await?;
            let a = measure(&client, Kind::Alertmanager, &alertmanager, plan).await?;
            print!("{}", comparison_table(&k, &a, plan));
        }
    }
    Ok(())
}

fn http_client(pool: usize) -> anyhow::Result<Client> {
    Ok(Client::builder()
        // A proxy from the environment would distort loopback timings.
        .no_proxy()
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(120))
        .build()?)
}

// ---------------------------------------------------------------------------
// Workload: bodies are built before the clock starts, so the load
// generator's JSON encoding does not compete with the server for the CPU
// inside the timed window (the machine has two cores).

/// Twenty alert rules over `alerts / 20` hosts: label sets are distinct,
/// and `instance` values line up with the silences' matchers.
fn alert_json(i: usize, starts_at: &str) -> serde_json::Value {
    const RULES: usize = 20;
    let rule = i % RULES;
    let host = i / RULES;
    json!({
        "labels": {
            "alertname": format!("LoadRule{rule:02}"),
            "instance": format!("host-{host}"),
            "job": "node",
            "severity": if rule.is_multiple_of(3) { "critical" } else { "warning" },
            "team": format!("team-{}", host % 7),
            "env": "prod",
            "region": format!("region-{}", host % 3),
        },
        "annotations": {
            "summary": format!("Rule {rule} firing on host-{host}"),
            "description": format!(
                "Load test alert {i}: the value stayed above the threshold for 5m on host-{host}."
            ),
        },
        "generatorURL": format!("http://prometheus:9090/graph?g0.expr=load_rule_{rule}&g0.tab=1"),
        "startsAt": starts_at,
    })
}

/// POST bodies of `batch` alerts each; `endsAt` is omitted, as Prometheus
/// does for alerts it has not resolved.
fn ingest_bodies(alerts: usize, batch: usize) -> Vec<String> {
    let starts_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let all: Vec<usize> = (0..alerts).collect();
    all.chunks(batch.max(1))
        .map(|chunk| {
            let batch: Vec<_> = chunk.iter().map(|&i| alert_json(i, &starts_at)).collect();
            serde_json::Value::Array(batch).to_string()
        })
        .collect()
}

fn silence_bodies(count: usize) -> Vec<String> {
    let now = Utc::now();
    let starts = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let ends = (now + chrono::Duration::hours(24)).to_rfc3339_opts(SecondsFormat::Millis, true);
    (0..count)
        .map(|i| {
            json!({
                "matchers": [
                    {"name": "instance", "value": format!("host-{i}"), "isRegex": false, "isEqual": true}
                ],
                "startsAt": starts,
                "endsAt": ends,
                "createdBy": "loadgen",
                "comment": format!("maintenance of host-{i}"),
            })
            .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Driving requests.

struct Latency {
    p50: Duration,
    p99: Duration,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort_unstable();
    let at = |p: f64| {
        let i = ((samples.len().saturating_sub(1)) as f64 * p).round() as usize;
        samples.get(i).copied().unwrap_or_default()
    };
    Latency {
        p50: at(0.50),
        p99: at(0.99),
    }
}

struct RunReport {
    elapsed: Duration,
    latency: Latency,
}

impl RunReport {
    fn rate(&self, items: usize) -> f64 {
        items as f64 / self.elapsed.as_secs_f64()
    }

    fn describe(&self, alerts: usize) -> String {
        format!(
            "{alerts} alerts in {:.2}s: {:.0} alerts/s, request p50 {} p99 {}",
            self.elapsed.as_secs_f64(),
            self.rate(alerts),
            ms(self.latency.p50),
            ms(self.latency.p99)
        )
    }
}

/// POSTs every body to `url` over `connections` tasks, one request in
/// flight per task, and fails on the first non-2xx answer.
async fn post_all(
    client: &Client,
    url: &str,
    bodies: Vec<String>,
    connections: usize,
) -> anyhow::Result<RunReport> {
    let connections = connections.max(1);
    // Round-robin so each task owns its bodies and needs no shared queue.
    let mut shares: Vec<Vec<String>> = (0..connections).map(|_| Vec::new()).collect();
    for (i, body) in bodies.into_iter().enumerate() {
        shares[i % connections].push(body);
    }
    let url: Arc<str> = url.into();
    let start = Instant::now();
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| tokio::spawn(post_share(client.clone(), url.clone(), share)))
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    Ok(RunReport {
        elapsed: start.elapsed(),
        latency: latency(samples),
    })
}

async fn post_share(
    client: Client,
    url: Arc<str>,
    bodies: Vec<String>,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(bodies.len());
    for body in bodies {
        let t = Instant::now();
        let resp = client
            .post(&*url)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        // Read the body so the connection goes back to the pool.
        let text = resp.text().await?;
        samples.push(t.elapsed());
        ensure!(status.is_success(), "POST {url}: {status}: {text}");
    }
    Ok(samples)
}

async fn ingest(client: &Client, base: &str, load: IngestLoad) -> anyhow::Result<RunReport> {
    let bodies = ingest_bodies(load.alerts, load.batch);
    post_all(client, &api(base, "alerts"), bodies, load.connections).await
}

async fn create_silences(
    client: &Client,
    base: &str,
    count: usize,
    connections: usize,
) -> anyhow::Result<RunReport> {
    post_all(
        client,
        &api(base, "silences"),
        silence_bodies(count),
        connections,
    )
    .await
}

struct QueryReport {
    latency: Latency,
    bytes: usize,
    alerts: usize,
}

/// Times `GET /api/v2/alerts`; the count comes from the last answer, parsed
/// after its timing is taken.
async fn query(client: &Client, base: &str, repeat: usize) -> anyhow::Result<QueryReport> {
    let url = api(base, "alerts");
    let mut samples = Vec::with_capacity(repeat);
    let mut last = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let resp = client.get(&url).send().await?.error_for_status()?;
        last = resp.bytes().await?.to_vec();
        samples.push(t.elapsed());
    }
    let alerts = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&last)
        .context("GET /api/v2/alerts did not answer a JSON array")?
        .len();
    Ok(QueryReport {
        latency: latency(samples),
        bytes: last.len(),
        alerts,
    })
}

fn api(base: &str, resource: &str) -> String {
    format!("{}/api/v2/{resource}", base.trim_end_matches('/'))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------
// Server processes.

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Klaxon,
    Alertmanager,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Klaxon => "klaxon",
            Kind::Alertmanager => "alertmanager",
        }
    }
}

/// `group_wait: 1h` keeps notifications out of the measurement; the long
/// resolve timeout keeps alerts firing however long a 100k run takes, so
/// that every GET and the restore check see all of them.
const CONFIG: &str = "\
global:
  resolve_timeout: 1h
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h
receivers:
  - name: default
";

/// A server child process; dropping it kills the process.
struct Server {
    child: Child,
    pid: u32,
    url: String,
}

fn free_port() -> anyhow::Result<u16> {
    // The port is released before the server binds it; on a quiet loopback
    // nothing else takes it in between.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn spawn_server(kind: Kind, bin: &Path, dir: &Path, port: u16) -> anyhow::Result<Server> {
    let config = dir.join("alertmanager.yml");
    std::fs::write(&config, CONFIG)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))?;
    let mut cmd = Command::new(bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    if kind == Kind::Alertmanager {
        cmd.arg("--cluster.listen-address=");
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id().context("child exited at once")?;
    Ok(Server {
        child,
        pid,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// Polls `/-/ready` until it answers 200; returns the time since `since`.
async fn wait_ready(
    client: &Client,
    server: &mut Server,
    since: Instant,
) -> anyhow::Result<Duration> {
    let url = format!("{}/-/ready", server.url);
    let deadline = since + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = server.child.try_wait()? {
            bail!("server exited before ready: {status}");
        }
        let answer = client
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return Ok(since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("{url} not ready after 60s")
}

/// SIGTERM, then wait for a clean exit so the store is closed properly.
async fn terminate(server: &mut Server) -> anyhow::Result<()> {
    // No signal crate in the dependencies; kill(1) is always present.
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &server.pid.to_string()])
        .status()?;
    ensure!(sent.success(), "kill -TERM {} failed", server.pid);
    let status = tokio::time::timeout(Duration::from_secs(60), server.child.wait())
        .await
        .context("server did not exit within 60s of SIGTERM")??;
    ensure!(status.success(), "server exited with {status} on SIGTERM");
    Ok(())
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32, ticks_per_second: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces; fields are counted after its ')'.
    let rest = stat.rsplit_once(')').context("unexpected /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after ')'.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) as f64 / ticks_per_second)
}

fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS")?
        .parse()?;
    Ok(kib * 1024)
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every mainstream Linux build; getconf confirms it.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Waits until the server's CPU time stops growing, so that work deferred
/// past the last answer (klaxon's group commit, Alertmanager's dispatcher)
/// is counted too. Returns the CPU seconds at that point.
async fn settled_cpu(pid: u32, ticks: f64) -> anyhow::Result<f64> {
    let mut last = cpu_seconds(pid, ticks)?;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_seconds(pid, ticks)?;
        // One tick of background timers is noise, not deferred work.
        if now - last <= 1.0 / ticks {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

// ---------------------------------------------------------------------------
// Comparison.

#[derive(Clone, Copy)]
struct Plan {
    load: IngestLoad,
    silences: usize,
    get_repeat: usize,
}

struct Measurement {
    first_ready: Duration,
    rss_idle: u64,
    ingest: RunReport,
    ingest_cpu: f64,
    rss_loaded: u64,
    silences: RunReport,
    get: QueryReport,
    restart: Option<Restart>,
}

struct Restart {
    ready: Duration,
    restored: usize,
}

async fn measure(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: Plan,
) -> anyhow::Result<Measurement> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("loadgen-{}-", kind.name()))
        .tempdir()?;
    let ticks = clock_ticks();
    let port = free_port()?;
    eprintln!(
        "{}: starting on port {port} in {}",
        kind.name(),
        dir.path().display()
    );
    let spawned = Instant::now();
    let mut server = spawn_server(kind, bin, dir.path(), port)?;
    let first_ready = wait_ready(client, &mut server, spawned).await?;
    let rss_idle = rss_bytes(server.pid)?;

    let alerts = plan.load.alerts;
    eprintln!("{}: ingesting {alerts} alerts", kind.name());
    let cpu_before = cpu_seconds(server.pid, ticks)?;
    let ingest = ingest(client, &server.url, plan.load).await?;
    let ingest_cpu = settled_cpu(server.pid, ticks).await? - cpu_before;
    let rss_loaded = rss_bytes(server.pid)?;
    eprintln!("{}: {}", kind.name(), ingest.describe(alerts));

    eprintln!("{}: creating {} silences", kind.name(), plan.silences);
    let silences =
        create_silences(client, &server.url, plan.silences, plan.load.connections).await?;
    eprintln!("{}: timing GET ×{}", kind.name(), plan.get_repeat);
    let get = query(client, &server.url, plan.get_repeat).await?;
    ensure!(
        get.alerts == alerts,
        "{} lists {} alerts, {alerts} were posted",
        kind.name(),
        get.alerts
    );

    let restart = match kind {
        Kind::Klaxon => {
            Some(restart_on_same_storage(client, kind, bin, dir.path(), &mut server).await?)
        }
        // Alertmanager keeps alerts in memory only: nothing to restore.
        Kind::Alertmanager => None,
    };
    drop(server);
    Ok(Measurement {
        first_ready,
        rss_idle,
        ingest,
        ingest_cpu,
        rss_loaded,
        silences,
        get,
        restart,
    })
}

/// Stops the server, starts it again on the same storage and port, and
/// reports how long it took to answer `/-/ready` and how many alerts it
/// lists.
async fn restart_on_same_storage(
    client: &Client,
    kind: Kind,
    bin: &Path,
    dir: &Path,
    server: &mut Server,
) -> anyhow::Result<Restart> {
    eprintln!("{}: restarting on the same storage", kind.name());
    terminate(server).await?;
    let port: u16 = server
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .context("server URL without port")?;
    let spawned = Instant::now();
    *server = spawn_server(kind, bin, dir, port)?;
    let ready = wait_ready(client, server, spawned).await?;
    let restored = query(client, &server.url, 1).await?.alerts;
    Ok(Restart { ready, restored })
}

/// One row: metric, both values, klaxon ÷ Alertmanager and the target.
fn row(metric: &str, k: String, a: String, ratio: Option<f64>, target: &str) -> String {
    let ratio = ratio.map_or_else(|| "–".to_owned(), |r| format!("{r:.3}"));
    format!("| {metric} | {k} | {a} | {ratio} | {target} |\n")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn comparison_table(k: &Measurement, a: &Measurement, plan: Plan) -> String {
    let n = plan.load.alerts;
    let rate = |m: &Measurement| m.ingest.rate(n);
    let cpu100k = |m: &Measurement| m.ingest_cpu / n as f64 * 100_000.0;
    let get = |m: &Measurement| m.get.latency.p50.as_secs_f64() * 1000.0;
    let mut t = format!(
        "N = {n} alerts, batch {}, {} connections, {} silences, GET median of {}\n\n",
        plan.load.batch, plan.load.connections, plan.silences, plan.get_repeat
    );
    t += "| metric | klaxon | alertmanager | klaxon ÷ AM | target |\n";
    t += "|---|---|---|---|---|\n";
    t += &row(
        "ingest rate (alerts/s)",
        format!("{:.0}", rate(k)),
        format!("{:.0}", rate(a)),
        Some(rate(k) / rate(a)),
        "≥ 10",
    );
    t += &row(
        "ingest wall time",
        format!("{:.2} s", k.ingest.elapsed.as_secs_f64()),
        format!("{:.2} s", a.ingest.elapsed.as_secs_f64()),
        Some(k.ingest.elapsed.as_secs_f64() / a.ingest.elapsed.as_secs_f64()),
        "",
    );
    t += &row(
        "POST latency p50 / p99",
        format!(
            "{} / {}",
            ms(k.ingest.latency.p50),
            ms(k.ingest.latency.p99)
        ),
        format!(
            "{} / {}",
            ms(a.ingest.latency.p50),
            ms(a.ingest.latency.p99)
        ),
        None,
        "",
    );
    t += &row(
        "server CPU-s per 100k alerts",
        format!("{:.2}", cpu100k(k)),
        format!("{:.2}", cpu100k(a)),
        Some(cpu100k(k) / cpu100k(a)),
        "≤ 0.1",
    );
    t += &row(
        "RSS idle",
        mib(k.rss_idle),
        mib(a.rss_idle),
        Some(k.rss_idle as f64 / a.rss_idle as f64),
        "",
    );
    t += &row(
        &format!("RSS after {n} alerts"),
        mib(k.rss_loaded),
        mib(a.rss_loaded),
        Some(k.rss_loaded as f64 / a.rss_loaded as f64),
        "≤ 0.25 (at 100k)",
    );
    t += &row(
        &format!("create {} silences (per s)", plan.silences),
        format!("{:.0}", k.silences.rate(plan.silences)),
        format!("{:.0}", a.silences.rate(plan.silences)),
        Some(k.silences.rate(plan.silences) / a.silences.rate(plan.silences)),
        "",
    );
    t += &row(
        "GET /api/v2/alerts p50",
        ms(k.get.latency.p50),
        ms(a.get.latency.p50),
        Some(get(k) / get(a)),
        "≤ 0.1 (at 20k)",
    );
    t += &row(
        "GET answer size",
        mib(k.get.bytes as u64),
        mib(a.get.bytes as u64),
        Some(k.get.bytes as f64 / a.get.bytes as f64),
        "",
    );
    t += &row(
        "start to ready (empty store)",
        ms(k.first_ready),
        ms(a.first_ready),
        None,
        "",
    );
    if let Some(r) = &k.restart {
        t += &row(
            &format!("restart to ready ({n} stored alerts)"),
            ms(r.ready),
            "n/a (alerts not persisted)".into(),
            None,
            "< 1 s (at 100k)",
        );
        t += &row(
            "alerts listed after restart",
            format!("{} of {n}", r.restored),
            "n/a".into(),
            None,
            "all",
        );
    }
    t
}
