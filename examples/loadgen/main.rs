//! Load generator for klaxon and any Alertmanager-compatible server.
//!
//! `ingest`, `query` and `silences` load a server that is already running;
//! `compare` starts klaxon and Alertmanager one after the other on loopback,
//! runs the same workload against each and prints a markdown table (see
//! `benches/RESULTS.md`). Server CPU and memory come from `/proc`, so the
//! numbers are the server's own, not the load generator's.
//!
//! `pipeline` runs the notification benchmarks (POST → webhook latency,
//! inhibition cost, dispatch throughput) against both servers; `floor`
//! puts klaxon's ingest beside servers that only parse.

mod cluster;
mod compare;
mod floor;
mod pipeline;
mod readers;
mod server;
mod sink;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use reqwest::Client;

use cluster::{ClusterPlan, cluster_table, measure_cluster};
use compare::{Plan, comparison_table, earlier_rounds, measure};
use pipeline::{PipelinePlan, measure_pipeline, pipeline_table};
use server::Kind;
use workload::{IngestLoad, create_silences, ingest, ms, query};

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
    /// Time `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`.
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
        /// Ingests timed per server, each into a fresh one; the table shows
        /// their median and range.
        #[arg(long, default_value_t = 5)]
        ingest_rounds: usize,
        /// Silences created before the GET timing.
        #[arg(long, default_value_t = 1000)]
        silences: usize,
        /// GET runs whose median is reported.
        #[arg(long, default_value_t = 5)]
        get_repeat: usize,
    },
    /// The notification benchmarks against klaxon and Alertmanager.
    Pipeline {
        #[arg(long)]
        klaxon: PathBuf,
        #[arg(long)]
        alertmanager: PathBuf,
        /// Alerts timed from POST to webhook arrival.
        #[arg(long, default_value_t = 1000)]
        latency_alerts: usize,
        /// Alert counts for the inhibition GET timing.
        #[arg(long, value_delimiter = ',', default_value = "2000,4000")]
        inhibition: Vec<usize>,
        #[arg(long, default_value_t = 100_000)]
        dispatch_alerts: usize,
        #[arg(long, default_value_t = 10_000)]
        dispatch_groups: usize,
        #[arg(long, default_value_t = 2000)]
        dispatch_silences: usize,
    },
    /// Server memory while slow clients read a large alert list.
    Readers {
        /// klaxon binary (a release build).
        #[arg(long)]
        klaxon: PathBuf,
        /// Alertmanager binary, measured the same way after klaxon.
        #[arg(long)]
        alertmanager: Option<PathBuf>,
        /// Alerts stored (about 600 bytes of listing each).
        #[arg(long, default_value_t = 85_000)]
        alerts: usize,
        /// Concurrent slow readers.
        #[arg(long, default_value_t = 30)]
        readers: usize,
        /// Each reader's pace, KiB per second.
        #[arg(long, default_value_t = 2048)]
        kib_per_s: usize,
    },
    /// klaxon's ingest CPU beside servers on the same HTTP stack that only
    /// parse the batches.
    Floor {
        /// klaxon binary (a release build).
        #[arg(long)]
        klaxon: Option<PathBuf>,
        /// Alertmanager binary, measured in the same turns.
        #[arg(long)]
        alertmanager: Option<PathBuf>,
        #[command(flatten)]
        load: IngestLoad,
        /// Ingests per server, each into a fresh one.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// The server `floor` starts: parses posted alerts, keeps nothing.
    #[command(hide = true)]
    FloorServer {
        #[arg(long)]
        listen: std::net::SocketAddr,
        #[arg(long, value_enum)]
        parse: floor::Parse,
    },
    /// What high availability costs: one klaxon against three replicas.
    Cluster {
        /// klaxon binary (a release build).
        #[arg(long)]
        klaxon: PathBuf,
        #[arg(long, default_value_t = 20_000)]
        alerts: usize,
        #[arg(long, default_value_t = 10_000)]
        groups: usize,
        /// Alerts timed from POST to webhook arrival.
        #[arg(long, default_value_t = 300)]
        latency_alerts: usize,
        /// Replicas of the cluster.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
    },
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
                "GET /api/v2/alerts ×{repeat}: p50 {} p99 {}, {} alerts, {} bytes; \
                 /alerts/groups: p50 {} p99 {}",
                ms(r.latency.p50),
                ms(r.latency.p99),
                r.alerts,
                r.bytes,
                ms(r.groups.p50),
                ms(r.groups.p99)
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
            ingest_rounds,
            silences,
            get_repeat,
        } => {
            let plan = Plan {
                load,
                ingest_rounds,
                silences,
                get_repeat,
            };
            let (k_rounds, a_rounds) =
                earlier_rounds(&client, &klaxon, &alertmanager, plan).await?;
            let k = measure(&client, Kind::Klaxon, &klaxon, plan, k_rounds).await?;
            let a = measure(&client, Kind::Alertmanager, &alertmanager, plan, a_rounds).await?;
            print!("{}", comparison_table(&k, &a, plan));
        }
        Cmd::Pipeline {
            klaxon,
            alertmanager,
            latency_alerts,
            inhibition,
            dispatch_alerts,
            dispatch_groups,
            dispatch_silences,
        } => {
            let plan = PipelinePlan {
                latency_alerts,
                inhibition_sizes: inhibition,
                dispatch_alerts,
                dispatch_groups,
                dispatch_silences,
                connections: 8,
            };
            let k = measure_pipeline(&client, Kind::Klaxon, &klaxon, &plan).await?;
            let a = measure_pipeline(&client, Kind::Alertmanager, &alertmanager, &plan).await?;
            print!("{}", pipeline_table(&k, &a, &plan));
        }
        Cmd::Readers {
            klaxon,
            alertmanager,
            alerts,
            readers,
            kib_per_s,
        } => {
            let plan = readers::ReadersPlan {
                alerts,
                readers,
                kib_per_s,
            };
            let mut runs = vec![readers::measure(&client, Kind::Klaxon, &klaxon, &plan).await?];
            if let Some(am) = alertmanager {
                runs.push(readers::measure(&client, Kind::Alertmanager, &am, &plan).await?);
            }
            print!("{}", readers::table(&runs, &plan));
        }
        Cmd::Floor {
            klaxon,
            alertmanager,
            load,
            rounds,
        } => {
            let runs = floor::measure(
                &client,
                klaxon.as_deref(),
                alertmanager.as_deref(),
                load,
                rounds,
            )
            .await?;
            print!("{}", floor::table(&runs, load));
        }
        Cmd::FloorServer { listen, parse } => floor::serve(listen, parse).await?,
        Cmd::Cluster {
            klaxon,
            alerts,
            groups,
            latency_alerts,
            replicas,
        } => {
            let plan = ClusterPlan {
                alerts,
                groups,
                latency_alerts,
                connections: 8,
            };
            let one = measure_cluster(&client, &klaxon, 1, &plan).await?;
            let many = measure_cluster(&client, &klaxon, replicas, &plan).await?;
            print!("{}", cluster_table(&one, &many, &plan));
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
