//! `readers`: server memory while many slow clients read one large alert
//! list at once. Each reader takes the answer at a fixed pace; the server's
//! RSS is sampled throughout, and its growth over the loaded, idle server
//! is what each reader costs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::ensure;
use reqwest::Client;

use crate::compare::mib;
use crate::server::{CONFIG, Kind, free_port, rss_bytes, spawn_server_with, terminate, wait_ready};
use crate::workload::{IngestLoad, api, ingest};

pub struct ReadersPlan {
    pub alerts: usize,
    pub readers: usize,
    pub kib_per_s: usize,
}

pub struct ReadersRun {
    kind: Kind,
    list_bytes: usize,
    rss_loaded: u64,
    rss_peak: u64,
    slowest: Duration,
    complete: usize,
}

pub async fn measure(
    client: &Client,
    kind: Kind,
    bin: &Path,
    plan: &ReadersPlan,
) -> anyhow::Result<ReadersRun> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("loadgen-readers-{}-", kind.name()))
        .tempdir()?;
    // Both servers refuse GETs beyond a concurrency limit (Alertmanager's
    // default is 8): raised so that every reader is served.
    let limit = format!("--web.get-concurrency={}", plan.readers + 2);
    let mut server = spawn_server_with(kind, bin, dir.path(), free_port()?, CONFIG, &[limit])?;
    wait_ready(client, &mut server, Instant::now()).await?;
    let load = IngestLoad {
        alerts: plan.alerts,
        batch: 64,
        connections: 8,
    };
    eprintln!("{}: ingesting {} alerts", kind.name(), plan.alerts);
    ingest(client, &server.url, load).await?;
    let url = api(&server.url, "alerts");
    // One whole read first: the size, and the server warmed as for readers.
    let list_bytes = client.get(&url).send().await?.bytes().await?.len();
    let rss_loaded = rss_bytes(server.pid)?;
    eprintln!(
        "{}: {} readers of {} at {} KiB/s each",
        kind.name(),
        plan.readers,
        mib(list_bytes as u64),
        plan.kib_per_s
    );
    let pace = plan.kib_per_s.max(1) * 1024;
    let readers: Vec<_> = (0..plan.readers)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { slow_read(&client, &url, pace).await })
        })
        .collect();
    let pid = server.pid;
    let mut rss_peak = rss_loaded;
    while !readers.iter().all(|r| r.is_finished()) {
        rss_peak = rss_peak.max(rss_bytes(pid)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut slowest, mut complete) = (Duration::ZERO, 0);
    for r in readers {
        let (took, bytes) = r.await??;
        slowest = slowest.max(took);
        complete += usize::from(bytes == list_bytes);
    }
    terminate(&mut server).await?;
    ensure!(complete > 0, "no reader got the whole list");
    Ok(ReadersRun {
        kind,
        list_bytes,
        rss_loaded,
        rss_peak,
        slowest,
        complete,
    })
}

/// Reads the answer at `pace` bytes a second; returns how long it took and
/// how many bytes came.
async fn slow_read(client: &Client, url: &str, pace: usize) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let mut resp = client
        .get(url)
        .timeout(Duration::from_secs(600))
        .send()
        .await?;
    let mut bytes = 0usize;
    while let Ok(Some(chunk)) = resp.chunk().await {
        bytes += chunk.len();
        // Ahead of the pace: wait until it catches up.
        let due = Duration::from_secs_f64(bytes as f64 / pace as f64);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    Ok((start.elapsed(), bytes))
}

pub fn table(runs: &[ReadersRun], plan: &ReadersPlan) -> String {
    let mut t = format!(
        "{} alerts stored; {} clients read `GET /api/v2/alerts` at once, each at {} KiB/s\n\n\
         | server | list size | RSS loaded | RSS peak while read | growth | per reader | slowest reader | whole answers |\n\
         |---|---|---|---|---|---|---|---|\n",
        plan.alerts, plan.readers, plan.kib_per_s
    );
    for r in runs {
        let growth = r.rss_peak.saturating_sub(r.rss_loaded);
        t += &format!(
            "| {} | {} | {} | {} | {} | {} | {:.1} s | {} of {} |\n",
            r.kind.name(),
            mib(r.list_bytes as u64),
            mib(r.rss_loaded),
            mib(r.rss_peak),
            mib(growth),
            mib(growth / plan.readers.max(1) as u64),
            r.slowest.as_secs_f64(),
            r.complete,
            plan.readers
        );
    }
    t
}
