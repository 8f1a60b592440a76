//! `pipeline`: the notification benchmarks, each on a fresh server with its
//! own config, klaxon and Alertmanager one after the other:
//! - POST → webhook latency with `group_wait: 0s` and `group_by: ['...']`;
//! - `GET /api/v2/alerts` with kube-prometheus-style inhibit rules at
//!   growing alert counts (Alertmanager's inhibition check is quadratic);
//! - dispatch: many alerts in many groups with many silences, until every
//!   unsilenced alert was delivered.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{SecondsFormat, Utc};
use reqwest::Client;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::compare::{mib, row};
use crate::server::{
    CONFIG, CpuMeter, Kind, Server, free_port, rss_bytes, spawn_server, wait_ready,
};
use crate::sink::Sink;
use crate::workload::{
    Latency, alert_json, api, batch_bodies, create_silences, latency, ms, post_all, query,
};

#[derive(Clone)]
pub struct PipelinePlan {
    pub latency_alerts: usize,
    pub inhibition_sizes: Vec<usize>,
    pub dispatch_alerts: usize,
    pub dispatch_groups: usize,
    pub dispatch_silences: usize,
    pub connections: usize,
}

pub struct PipelineMeasurement {
    latency: Latency,
    inhibition: Vec<(usize, Duration)>,
    dispatch: Dispatch,
}

struct Dispatch {
    elapsed: Duration,
    /// First to last notification.
    window: Duration,
    notifications: usize,
    cpu: f64,
    rss: u64,
}

/// A server in its own temporary directory, removed with it.
struct Fresh {
    server: Server,
    _dir: tempfile::TempDir,
}

async fn fresh(client: &Client, kind: Kind, bin: &Path, config: &str) -> anyhow::Result<Fresh> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("loadgen-pipeline-{}-", kind.name()))
        .tempdir()?;
    let mut server = spawn_server(kind, bin, dir.path(), free_port()?, config)?;
    wait_ready(client, &mut server, Instant::now()).await?;
    Ok(Fresh { server, _dir: dir })
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn measure_pipeline(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: &PipelinePlan,
) -> anyhow::Result<PipelineMeasurement> {
    eprintln!("{}: POST → webhook latency", kind.name());
    let latency = notification_latency(client, kind, bin, plan.latency_alerts).await?;
    let mut inhibition = Vec::new();
    for &n in &plan.inhibition_sizes {
        eprintln!("{}: GET with inhibit rules, {n} alerts", kind.name());
        inhibition.push((n, inhibited_get(client, kind, bin, n).await?));
    }
    eprintln!(
        "{}: dispatch of {} alerts in {} groups with {} silences",
        kind.name(),
        plan.dispatch_alerts,
        plan.dispatch_groups,
        plan.dispatch_silences
    );
    let dispatch = dispatch(client, kind, bin, plan).await?;
    Ok(PipelineMeasurement {
        latency,
        inhibition,
        dispatch,
    })
}

fn webhook_config(sink: &str, group_by: &str, group_wait: &str, group_interval: &str) -> String {
    format!(
        "\
global:
  resolve_timeout: 1h
route:
  receiver: hook
  group_by: {group_by}
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {sink}
"
    )
}

/// One fresh alert at a time, each its own group: the time from sending the
/// POST to the webhook's arrival. Twenty warm-up alerts are not counted.
async fn notification_latency(
    client: &Client,
    kind: Kind,
    bin: &Path,
    alerts: usize,
) -> anyhow::Result<Latency> {
    let mut sink = Sink::start().await?;
    let config = webhook_config(&sink.url, "['...']", "0s", "1h");
    let f = fresh(client, kind, bin, &config).await?;
    let url = api(&f.server.url, "alerts");
    let mut samples = Vec::with_capacity(alerts);
    for i in 0..alerts + 20 {
        let name = format!("Latency{i}");
        let body = json!([{"labels": {"alertname": name}, "startsAt": now_rfc3339()}]).to_string();
        let sent = Instant::now();
        let resp = client
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        ensure!(resp.status().is_success(), "POST: {}", resp.status());
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

/// Two kube-prometheus-style inhibit rules over `n` alerts in 40
/// namespaces, a third of them critical sources; the median of five GETs.
async fn inhibited_get(
    client: &Client,
    kind: Kind,
    bin: &Path,
    n: usize,
) -> anyhow::Result<Duration> {
    let config = format!(
        "{CONFIG}\
inhibit_rules:
  - source_matchers: ['severity=\"critical\"']
    target_matchers: ['severity=~\"warning|info\"']
    equal: [namespace, alertname]
  - source_matchers: ['severity=\"warning\"']
    target_matchers: ['severity=\"info\"']
    equal: [namespace, alertname]
"
    );
    let f = fresh(client, kind, bin, &config).await?;
    let starts = now_rfc3339();
    let alerts: Vec<_> = (0..n)
        .map(|i| {
            let severity = ["critical", "warning", "info"][i % 3];
            json!({
                "labels": {
                    "alertname": format!("KubeRule{:02}", (i / 3) % 50),
                    "namespace": format!("ns-{}", (i / 150) % 40),
                    "pod": format!("pod-{i}"),
                    "severity": severity,
                },
                "annotations": {"summary": format!("alert {i}")},
                "startsAt": starts,
            })
        })
        .collect();
    let bodies = batch_bodies(&alerts, 64);
    post_all(client, &api(&f.server.url, "alerts"), bodies, 8).await?;
    let r = query(client, &f.server.url, 5).await?;
    ensure!(
        r.alerts == n,
        "{} lists {} of {n} alerts",
        kind.name(),
        r.alerts
    );
    Ok(r.latency.p50)
}

/// Silences first, then the alerts (unsilenced ones first, so every group
/// has something to send at its first flush); done when every unsilenced
/// alert reached the webhook. CPU is the server's over the whole run.
async fn dispatch(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: &PipelinePlan,
) -> anyhow::Result<Dispatch> {
    let sink = Sink::start().await?;
    let config = webhook_config(&sink.url, "[group]", "1s", "1s");
    let f = fresh(client, kind, bin, &config).await?;
    create_silences(
        client,
        &f.server.url,
        plan.dispatch_silences,
        plan.connections,
    )
    .await?;

    let starts = now_rfc3339();
    // `alert_json` puts alert i on host i / 20; the silences cover the
    // first `dispatch_silences` hosts.
    let silenced = |i: usize| i / 20 < plan.dispatch_silences;
    let mut order: Vec<usize> = (0..plan.dispatch_alerts).collect();
    order.sort_by_key(|&i| silenced(i));
    let expected = order.iter().filter(|&&i| !silenced(i)).count();
    let alerts: Vec<_> = order
        .iter()
        .map(|&i| {
            let mut a = alert_json(i, &starts);
            a["labels"]["group"] = json!(format!("g{}", i % plan.dispatch_groups.max(1)));
            // Without `startsAt` the server stamps each alert on arrival,
            // so every group waits its `group_wait`. With a start taken
            // before the bodies were built, alerts could arrive already
            // older than `group_wait`, flush at once one by one, and the
            // count of notifications then depended on how long building
            // the bodies took.
            if let Some(fields) = a.as_object_mut() {
                fields.remove("startsAt");
            }
            a
        })
        .collect();
    let bodies = batch_bodies(&alerts, 64);
    let meter = CpuMeter::start(f.server.pid)?;
    let started = Instant::now();
    post_all(
        client,
        &api(&f.server.url, "alerts"),
        bodies,
        plan.connections,
    )
    .await?;
    if !sink
        .wait_delivered(expected, Duration::from_secs(300))
        .await
    {
        bail!(
            "{}: not every unsilenced alert was delivered within 300s",
            kind.name()
        );
    }
    let elapsed = started.elapsed();
    let cpu = meter.seconds()?;
    Ok(Dispatch {
        elapsed,
        window: sink.delivery_window(),
        notifications: sink.notifications(),
        cpu,
        rss: rss_bytes(f.server.pid)?,
    })
}

pub fn pipeline_table(
    k: &PipelineMeasurement,
    a: &PipelineMeasurement,
    plan: &PipelinePlan,
) -> String {
    let mut t = format!(
        "Latency over {} alerts; inhibition with 2 rules; dispatch of {} alerts in {} groups with {} silences\n\n",
        plan.latency_alerts, plan.dispatch_alerts, plan.dispatch_groups, plan.dispatch_silences
    );
    t += "| metric | klaxon | alertmanager | klaxon ÷ AM | target |\n";
    t += "|---|---|---|---|---|\n";
    let secs = |d: Duration| d.as_secs_f64();
    t += &row(
        "POST → webhook p50",
        ms(k.latency.p50),
        ms(a.latency.p50),
        Some(secs(k.latency.p50) / secs(a.latency.p50)),
        "",
    );
    t += &row(
        "POST → webhook p99",
        ms(k.latency.p99),
        ms(a.latency.p99),
        Some(secs(k.latency.p99) / secs(a.latency.p99)),
        "≤ 1 ms",
    );
    for ((n, kd), (_, ad)) in k.inhibition.iter().zip(&a.inhibition) {
        t += &row(
            &format!("GET /api/v2/alerts, {n} alerts, inhibit rules"),
            ms(*kd),
            ms(*ad),
            Some(secs(*kd) / secs(*ad)),
            "linear; ≤ 20 ms at 4k",
        );
    }
    let rate = |d: &Dispatch| d.notifications as f64 / secs(d.elapsed);
    t += &row(
        "dispatch: time until every unsilenced alert was delivered",
        format!("{:.2} s", secs(k.dispatch.elapsed)),
        format!("{:.2} s", secs(a.dispatch.elapsed)),
        Some(secs(k.dispatch.elapsed) / secs(a.dispatch.elapsed)),
        "",
    );
    t += &row(
        "dispatch: notifications sent",
        k.dispatch.notifications.to_string(),
        a.dispatch.notifications.to_string(),
        None,
        "",
    );
    t += &row(
        "dispatch: notifications/s, whole run (group_wait included)",
        format!("{:.0}", rate(&k.dispatch)),
        format!("{:.0}", rate(&a.dispatch)),
        Some(rate(&k.dispatch) / rate(&a.dispatch)),
        "",
    );
    let window_rate = |d: &Dispatch| d.notifications as f64 / secs(d.window).max(1e-3);
    t += &row(
        "dispatch: notifications/s, first to last notification",
        format!(
            "{:.0} ({:.2} s)",
            window_rate(&k.dispatch),
            secs(k.dispatch.window)
        ),
        format!(
            "{:.0} ({:.2} s)",
            window_rate(&a.dispatch),
            secs(a.dispatch.window)
        ),
        Some(window_rate(&k.dispatch) / window_rate(&a.dispatch)),
        "≥ 10",
    );
    t += &row(
        "dispatch: server CPU-s (ingest + dispatch)",
        format!("{:.2}", k.dispatch.cpu),
        format!("{:.2}", a.dispatch.cpu),
        Some(k.dispatch.cpu / a.dispatch.cpu),
        "≤ 0.1",
    );
    t += &row(
        "dispatch: RSS at the end",
        mib(k.dispatch.rss),
        mib(a.dispatch.rss),
        Some(k.dispatch.rss as f64 / a.dispatch.rss as f64),
        "",
    );
    t
}
