//! `compare`: the ingest, memory, silence, GET and restart measurements,
//! klaxon and Alertmanager one after the other, as a markdown table.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use reqwest::Client;

use crate::server::{
    CONFIG, CpuMeter, Kind, Server, free_port, rss_bytes, spawn_server, terminate, wait_ready,
};
use crate::workload::{IngestLoad, QueryReport, RunReport, create_silences, ingest, ms, query};

// ---------------------------------------------------------------------------
// Comparison.

#[derive(Clone, Copy)]
pub struct Plan {
    pub load: IngestLoad,
    /// Ingests timed per server, each into a fresh one, the two servers
    /// taking turns; the table reports their median. klaxon's ingest lasts
    /// a fraction of a second, so one burst of hypervisor CPU steal can
    /// halve a single timing.
    pub ingest_rounds: usize,
    pub silences: usize,
    pub get_repeat: usize,
}

pub struct Measurement {
    first_ready: Duration,
    rss_idle: u64,
    /// The ingest into the server measured further on (the last round).
    ingest: RunReport,
    rounds: Vec<Round>,
    rss_loaded: u64,
    silences: RunReport,
    get: QueryReport,
    restart: Option<Restart>,
}

/// One timed ingest of `plan.load.alerts` alerts into an empty server.
#[derive(Clone, Copy)]
pub struct Round {
    rate: f64,
    cpu_per_100k: f64,
}

impl Round {
    fn new(run: &RunReport, cpu: f64, alerts: usize) -> Self {
        Round {
            rate: run.rate(alerts),
            cpu_per_100k: cpu / alerts as f64 * 100_000.0,
        }
    }
}

/// Median, minimum and maximum of one figure over the rounds.
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

fn spread(rounds: &[Round], figure: impl Fn(&Round) -> f64) -> Spread {
    spread_of(rounds.iter().map(figure))
}

/// The spread of `values`, of which there is at least one.
pub fn spread_of(values: impl IntoIterator<Item = f64>) -> Spread {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    // An even count takes the mean of the middle two.
    let mid = v.len() / 2;
    let median = if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    };
    Spread {
        median,
        min: v[0],
        max: v[v.len() - 1],
    }
}

impl Spread {
    fn show(&self, decimals: usize) -> String {
        if self.min == self.max {
            return format!("{:.decimals$}", self.median);
        }
        format!(
            "{:.decimals$} ({:.decimals$}–{:.decimals$})",
            self.median, self.min, self.max
        )
    }
}

pub struct Restart {
    ready: Duration,
    restored: usize,
}

/// All but the last ingest round of each server, taking turns (klaxon,
/// Alertmanager, klaxon, …): a stretch of CPU steal then slows both, not
/// only whichever server ran through it. Returns klaxon's rounds, then
/// Alertmanager's.
pub async fn earlier_rounds(
    client: &Client,
    klaxon: &Path,
    alertmanager: &Path,
    plan: Plan,
) -> anyhow::Result<(Vec<Round>, Vec<Round>)> {
    let (mut k, mut a) = (Vec::new(), Vec::new());
    for round in 1..plan.ingest_rounds.max(1) {
        k.push(fresh_round(client, Kind::Klaxon, klaxon, plan, round).await?);
        a.push(fresh_round(client, Kind::Alertmanager, alertmanager, plan, round).await?);
    }
    Ok((k, a))
}

/// One timed ingest into a server started for it alone.
async fn fresh_round(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: Plan,
    round: usize,
) -> anyhow::Result<Round> {
    eprintln!("{}: ingest round {round} on a fresh server", kind.name());
    let scratch = tempfile::Builder::new()
        .prefix(&format!("loadgen-{}-round-", kind.name()))
        .tempdir()?;
    let mut server = spawn_server(kind, bin, scratch.path(), free_port()?, CONFIG)?;
    wait_ready(client, &mut server, Instant::now()).await?;
    let (run, cpu) = timed_ingest(client, &server, plan.load).await?;
    eprintln!("{}: {}", kind.name(), run.describe(plan.load.alerts));
    terminate(&mut server).await?;
    Ok(Round::new(&run, cpu, plan.load.alerts))
}

/// The measurements on one server; its ingest is the last of `rounds`.
pub async fn measure(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: Plan,
    mut rounds: Vec<Round>,
) -> anyhow::Result<Measurement> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("loadgen-{}-", kind.name()))
        .tempdir()?;
    let port = free_port()?;
    eprintln!(
        "{}: starting on port {port} in {}",
        kind.name(),
        dir.path().display()
    );
    let spawned = Instant::now();
    let mut server = spawn_server(kind, bin, dir.path(), port, CONFIG)?;
    let first_ready = wait_ready(client, &mut server, spawned).await?;
    let rss_idle = rss_bytes(server.pid)?;

    let alerts = plan.load.alerts;
    eprintln!("{}: ingesting {alerts} alerts", kind.name());
    let (ingest, cpu) = timed_ingest(client, &server, plan.load).await?;
    rounds.push(Round::new(&ingest, cpu, alerts));
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
        rounds,
        rss_loaded,
        silences,
        get,
        restart,
    })
}

/// Posts the load and returns the run with the server CPU it took,
/// including work the server finished after the last answer.
pub async fn timed_ingest(
    client: &Client,
    server: &Server,
    load: IngestLoad,
) -> anyhow::Result<(RunReport, f64)> {
    let meter = CpuMeter::start(server.pid)?;
    let run = ingest(client, &server.url, load).await?;
    let cpu = meter.settled().await?;
    Ok((run, cpu))
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
    *server = spawn_server(kind, bin, dir, port, CONFIG)?;
    let ready = wait_ready(client, server, spawned).await?;
    let restored = query(client, &server.url, 1).await?.alerts;
    Ok(Restart { ready, restored })
}

/// One row: metric, both values, klaxon ÷ Alertmanager and the target.
pub fn row(metric: &str, k: String, a: String, ratio: Option<f64>, target: &str) -> String {
    let ratio = ratio.map_or_else(|| "–".to_owned(), |r| format!("{r:.3}"));
    format!("| {metric} | {k} | {a} | {ratio} | {target} |\n")
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn comparison_table(k: &Measurement, a: &Measurement, plan: Plan) -> String {
    let n = plan.load.alerts;
    let rate = |m: &Measurement| spread(&m.rounds, |r| r.rate);
    let cpu100k = |m: &Measurement| spread(&m.rounds, |r| r.cpu_per_100k);
    let get = |m: &Measurement| m.get.latency.p50.as_secs_f64() * 1000.0;
    let mut t = format!(
        "N = {n} alerts, batch {}, {} connections, {} silences, GET median of {}; \
         ingest rate and CPU: median (min–max) of {} ingests, each into a fresh server, the servers taking turns\n\n",
        plan.load.batch,
        plan.load.connections,
        plan.silences,
        plan.get_repeat,
        k.rounds.len()
    );
    t += "| metric | klaxon | alertmanager | klaxon ÷ AM | target |\n";
    t += "|---|---|---|---|---|\n";
    let (rk, ra) = (rate(k), rate(a));
    t += &row(
        "ingest rate (alerts/s)",
        rk.show(0),
        ra.show(0),
        Some(rk.median / ra.median),
        "≥ 10",
    );
    t += &row(
        "ingest wall time (last round)",
        format!("{:.2} s", k.ingest.elapsed.as_secs_f64()),
        format!("{:.2} s", a.ingest.elapsed.as_secs_f64()),
        Some(k.ingest.elapsed.as_secs_f64() / a.ingest.elapsed.as_secs_f64()),
        "",
    );
    t += &row(
        "POST latency p50 / p99 (last round)",
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
    let (ck, ca) = (cpu100k(k), cpu100k(a));
    t += &row(
        "server CPU-s per 100k alerts",
        ck.show(2),
        ca.show(2),
        Some(ck.median / ca.median),
        "≤ 0.1",
    );
    t += &row(
        "load generator CPU-s during ingest (last round)",
        format!("{:.2}", k.ingest.client_cpu),
        format!("{:.2}", a.ingest.client_cpu),
        None,
        "",
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
    let groups = |m: &Measurement| m.get.groups.p50.as_secs_f64() * 1000.0;
    t += &row(
        "GET /api/v2/alerts/groups p50",
        ms(k.get.groups.p50),
        ms(a.get.groups.p50),
        Some(groups(k) / groups(a)),
        "≤ 0.05 (at 20k)",
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
