//! The workload: alert and silence bodies, built before the clock starts,
//! and the loops that POST them and time the answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::{SecondsFormat, Utc};
use reqwest::Client;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::server::{clock_ticks, cpu_seconds};

#[derive(clap::Args, Clone, Copy)]
pub struct IngestLoad {
    /// Distinct alerts to post.
    #[arg(long, default_value_t = 20_000)]
    pub alerts: usize,
    /// Alerts per POST; Prometheus sends up to 64 by default.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
}

// ---------------------------------------------------------------------------
// Workload: bodies are built before the clock starts, so the load
// generator's JSON encoding does not compete with the server for the CPU
// inside the timed window (the machine has two cores).

/// Twenty alert rules over `alerts / 20` hosts: label sets are distinct,
/// and `instance` values line up with the silences' matchers.
pub fn alert_json(i: usize, starts_at: &str) -> serde_json::Value {
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
pub fn ingest_bodies(alerts: usize, batch: usize) -> Vec<String> {
    let starts_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let all: Vec<_> = (0..alerts).map(|i| alert_json(i, &starts_at)).collect();
    batch_bodies(&all, batch)
}

/// POST bodies of at most `batch` alerts each, as Prometheus sends them.
pub fn batch_bodies(alerts: &[serde_json::Value], batch: usize) -> Vec<String> {
    alerts
        .chunks(batch.max(1))
        .map(|c| serde_json::Value::Array(c.to_vec()).to_string())
        .collect()
}

pub fn silence_bodies(count: usize) -> Vec<String> {
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

pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
}

pub fn latency(mut samples: Vec<Duration>) -> Latency {
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

pub struct RunReport {
    pub elapsed: Duration,
    pub latency: Latency,
    /// CPU-seconds this load generator spent while the clock ran: it shares
    /// the machine's cores with the server.
    pub client_cpu: f64,
}

impl RunReport {
    pub fn rate(&self, items: usize) -> f64 {
        items as f64 / self.elapsed.as_secs_f64()
    }

    pub fn describe(&self, alerts: usize) -> String {
        format!(
            "{alerts} alerts in {:.2}s: {:.0} alerts/s, request p50 {} p99 {}, load generator CPU {:.2} s",
            self.elapsed.as_secs_f64(),
            self.rate(alerts),
            ms(self.latency.p50),
            ms(self.latency.p99),
            self.client_cpu
        )
    }
}

/// POSTs every body to `url` over `connections` tasks, one request in
/// flight per task, and fails on the first non-2xx answer.
pub async fn post_all(
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
    // Parsed once: the client's own CPU shares the cores with the server.
    let url: Arc<reqwest::Url> = Arc::new(url.parse()?);
    let ticks = clock_ticks();
    let own_cpu = || cpu_seconds(std::process::id(), ticks);
    let cpu_before = own_cpu()?;
    let start = Instant::now();
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| tokio::spawn(post_share(client.clone(), url.clone(), share)))
        .collect();
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    let elapsed = start.elapsed();
    Ok(RunReport {
        elapsed,
        latency: latency(samples),
        client_cpu: own_cpu()? - cpu_before,
    })
}

async fn post_share(
    client: Client,
    url: Arc<reqwest::Url>,
    bodies: Vec<String>,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(bodies.len());
    for body in bodies {
        let t = Instant::now();
        let resp = client
            .post((*url).clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        // Read the body so the connection goes back to the pool.
        let answer = resp.bytes().await?;
        samples.push(t.elapsed());
        ensure!(
            status.is_success(),
            "POST {url}: {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(samples)
}

pub async fn ingest(client: &Client, base: &str, load: IngestLoad) -> anyhow::Result<RunReport> {
    let bodies = ingest_bodies(load.alerts, load.batch);
    post_all(client, &api(base, "alerts"), bodies, load.connections).await
}

pub async fn create_silences(
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

pub struct QueryReport {
    pub latency: Latency,
    pub bytes: usize,
    pub alerts: usize,
    /// `GET /api/v2/alerts/groups`, timed as many times.
    pub groups: Latency,
}

/// Times `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`, taking
/// turns; the count comes from the last alert list, parsed after its
/// timing is taken.
pub async fn query(client: &Client, base: &str, repeat: usize) -> anyhow::Result<QueryReport> {
    let (url, groups_url) = (api(base, "alerts"), api(base, "alerts/groups"));
    let mut samples = Vec::with_capacity(repeat);
    let mut group_samples = Vec::with_capacity(repeat);
    let mut last = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let resp = client.get(&url).send().await?.error_for_status()?;
        last = resp.bytes().await?.to_vec();
        samples.push(t.elapsed());
        let t = Instant::now();
        let resp = client.get(&groups_url).send().await?.error_for_status()?;
        resp.bytes().await?;
        group_samples.push(t.elapsed());
    }
    let alerts = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&last)
        .context("GET /api/v2/alerts did not answer a JSON array")?
        .len();
    Ok(QueryReport {
        latency: latency(samples),
        bytes: last.len(),
        alerts,
        groups: latency(group_samples),
    })
}

pub fn api(base: &str, resource: &str) -> String {
    format!("{}/api/v2/{resource}", base.trim_end_matches('/'))
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
