//! `cluster`: what high availability costs. The same workload against one
//! klaxon and against three replicas (on loopback, each alert posted to
//! all three as Prometheus does): dispatch of many groups (notifications/s,
//! notifications sent, writes to the replicated log) and POST → webhook
//! latency.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{SecondsFormat, Utc};
use reqwest::Client;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::compare::row;
use crate::server::{Kind, Server, free_port, spawn_server_with, wait_ready};
use crate::sink::Sink;
use crate::workload::{Latency, alert_json, api, batch_bodies, latency, ms, post_all};

#[derive(Clone)]
pub struct ClusterPlan {
    pub alerts: usize,
    pub groups: usize,
    pub latency_alerts: usize,
    pub connections: usize,
}

pub struct ClusterMeasurement {
    replicas: usize,
    /// Time until every alert was delivered, from the first POST.
    elapsed: Duration,
    /// First to last notification.
    window: Duration,
    notifications: usize,
    /// Entries proposed to the replicated log, all replicas, by command.
    log_writes: std::collections::BTreeMap<String, f64>,
    latency: Latency,
}

/// `n` klaxon processes in their own directories (one: no cluster flags).
struct Replicas {
    servers: Vec<Server>,
    _dir: tempfile::TempDir,
}

async fn start(client: &Client, bin: &Path, n: usize, config: &str) -> anyhow::Result<Replicas> {
    let mut dir = tempfile::Builder::new()
        .prefix("loadgen-cluster-")
        .tempdir()?;
    // The servers' logs, to read after a run.
    dir.disable_cleanup(std::env::var_os("LOADGEN_KEEP").is_some());
    let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect::<Result<_, _>>()?;
    let mut servers = Vec::new();
    for (i, port) in cluster_ports.iter().enumerate() {
        let own = dir.path().join(format!("r{i}"));
        std::fs::create_dir_all(&own)?;
        let mut extra = Vec::new();
        if n > 1 {
            extra.push(format!("--cluster.listen-address=127.0.0.1:{port}"));
            extra.push(format!("--cluster.peer-name=r{i}"));
            extra.extend(
                cluster_ports
                    .iter()
                    .map(|p| format!("--cluster.peer=127.0.0.1:{p}")),
            );
        }
        servers.push(spawn_server_with(
            Kind::Klaxon,
            bin,
            &own,
            free_port()?,
            config,
            &extra,
        )?);
    }
    for s in &mut servers {
        wait_ready(client, s, Instant::now()).await?;
    }
    if n > 1 {
        // Ready to serve is not a formed cluster: wait for a leader.
        let deadline = Instant::now() + Duration::from_secs(30);
        for s in &servers {
            loop {
                let status: serde_json::Value = client
                    .get(format!("{}/api/v2/status", s.url))
                    .send()
                    .await?
                    .json()
                    .await?;
                if status["cluster"]["status"] == "ready" {
                    break;
                }
                ensure!(
                    Instant::now() < deadline,
                    "the cluster did not form in 30 s"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    Ok(Replicas { servers, _dir: dir })
}

fn config(sink: &str, group_by: &str, group_wait: &str) -> String {
    format!(
        "global:\n  resolve_timeout: 1h\nroute:\n  receiver: hook\n  group_by: {group_by}\n  \
         group_wait: {group_wait}\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: hook\n    webhook_configs:\n      - url: {sink}\n"
    )
}

/// `klaxon_cluster_proposals_total` summed over the replicas, by command.
async fn log_writes(
    client: &Client,
    servers: &[Server],
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let mut total = std::collections::BTreeMap::new();
    for s in servers {
        let text = client
            .get(format!("{}/metrics", s.url))
            .send()
            .await?
            .text()
            .await?;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("klaxon_cluster_claims_total{result=\"")
                && let Some((result, value)) = rest.split_once("\"} ")
            {
                eprintln!("  claims {result}: {value}");
            }
            let Some(rest) = line.strip_prefix("klaxon_cluster_proposals_total{command=\"") else {
                continue;
            };
            let Some((command, value)) = rest.split_once("\"} ") else {
                continue;
            };
            *total.entry(command.to_owned()).or_default() += value.parse::<f64>().unwrap_or(0.0);
        }
    }
    Ok(total)
}

pub async fn measure_cluster(
    client: &Client,
    bin: &Path,
    replicas: usize,
    plan: &ClusterPlan,
) -> anyhow::Result<ClusterMeasurement> {
    eprintln!(
        "{replicas} replica(s): dispatch of {} alerts in {} groups",
        plan.alerts, plan.groups
    );
    let sink = Sink::start().await?;
    let set = start(client, bin, replicas, &config(&sink.url, "[group]", "1s")).await?;
    let alerts: Vec<_> = (0..plan.alerts)
        .map(|i| {
            let mut a = alert_json(i, "");
            a["labels"]["group"] = json!(format!("g{}", i % plan.groups.max(1)));
            // Stamped on arrival: every group waits its group_wait.
            if let Some(fields) = a.as_object_mut() {
                fields.remove("startsAt");
            }
            a
        })
        .collect();
    let bodies = batch_bodies(&alerts, 64);
    let urls: Vec<String> = set.servers.iter().map(|s| api(&s.url, "alerts")).collect();
    let started = Instant::now();
    let posts = urls
        .iter()
        .map(|url| post_all(client, url, bodies.clone(), plan.connections));
    for posted in futures_util::future::join_all(posts).await {
        posted?;
    }
    if !sink
        .wait_delivered(plan.alerts, Duration::from_secs(300))
        .await
    {
        bail!("{replicas} replica(s): not every alert was delivered within 300 s");
    }
    let elapsed = started.elapsed();
    // Flushes keep running (group_interval 1s) with nothing due: they
    // must not write to the log. Counted after a few of them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let log_writes = log_writes(client, &set.servers).await?;
    let (window, notifications) = (sink.delivery_window(), sink.notifications());
    drop(set);

    eprintln!("{replicas} replica(s): POST → webhook latency");
    let latency = notification_latency(client, bin, replicas, plan.latency_alerts).await?;
    Ok(ClusterMeasurement {
        replicas,
        elapsed,
        window,
        notifications,
        log_writes,
        latency,
    })
}

/// One fresh alert at a time, posted to every replica at once, each its
/// own group with `group_wait: 0s`: from the POSTs to the first arrival.
async fn notification_latency(
    client: &Client,
    bin: &Path,
    replicas: usize,
    alerts: usize,
) -> anyhow::Result<Latency> {
    let mut sink = Sink::start().await?;
    let set = start(client, bin, replicas, &config(&sink.url, "['...']", "0s")).await?;
    let mut samples = Vec::with_capacity(alerts);
    for i in 0..alerts + 20 {
        let name = format!("Latency{i}");
        let starts = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let body = json!([{"labels": {"alertname": name}, "startsAt": starts}]).to_string();
        let sent = Instant::now();
        let posts = set.servers.iter().map(|s| {
            client
                .post(api(&s.url, "alerts"))
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
        });
        for resp in futures_util::future::join_all(posts).await {
            ensure!(resp?.status().is_success(), "POST failed");
        }
        let arrived = loop {
            let (at, got) = tokio::time::timeout(Duration::from_secs(10), sink.arrivals.recv())
                .await
                .with_context(|| format!("no notification for {name} within 10s"))?
                .context("sink stopped")?;
            if got == name {
                break at;
            }
        };
        if i >= 20 {
            samples.push(arrived.duration_since(sent));
        }
    }
    Ok(latency(samples))
}

pub fn cluster_table(
    one: &ClusterMeasurement,
    three: &ClusterMeasurement,
    plan: &ClusterPlan,
) -> String {
    let mut t = format!(
        "Dispatch of {} alerts in {} groups (group_wait 1s, group_interval 1s), each alert posted to every replica; \
         latency over {} alerts, each its own group (group_wait 0s)\n\n",
        plan.alerts, plan.groups, plan.latency_alerts
    );
    t += &format!(
        "| metric | 1 instance | {} replicas | replicas ÷ 1 | target |\n|---|---|---|---|---|\n",
        three.replicas
    );
    let secs = |d: Duration| d.as_secs_f64();
    let rate = |m: &ClusterMeasurement| m.notifications as f64 / secs(m.window).max(1e-3);
    t += &row(
        "notifications/s, first to last notification",
        format!("{:.0} ({:.2} s)", rate(one), secs(one.window)),
        format!("{:.0} ({:.2} s)", rate(three), secs(three.window)),
        Some(rate(three) / rate(one)),
        "≥ 0.5",
    );
    t += &row(
        "time until every alert was delivered",
        format!("{:.2} s", secs(one.elapsed)),
        format!("{:.2} s", secs(three.elapsed)),
        Some(secs(three.elapsed) / secs(one.elapsed)),
        "",
    );
    t += &row(
        "notifications sent",
        one.notifications.to_string(),
        three.notifications.to_string(),
        None,
        "one per group",
    );
    let writes: f64 = three.log_writes.values().sum();
    let by_command: Vec<String> = three
        .log_writes
        .iter()
        .map(|(c, n)| format!("{c} {n:.0}"))
        .collect();
    t += &row(
        "writes to the replicated log per notification (3 s of idle flushes included)",
        "–".into(),
        format!(
            "{:.2} ({})",
            writes / three.notifications.max(1) as f64,
            by_command.join(", ")
        ),
        None,
        "≤ 2",
    );
    t += &row(
        "POST → webhook p50",
        ms(one.latency.p50),
        ms(three.latency.p50),
        None,
        "",
    );
    t += &row(
        "POST → webhook p99",
        ms(one.latency.p99),
        ms(three.latency.p99),
        None,
        "+ < 20 ms",
    );
    t
}
