//! How far klaxon's ingest is from the floor of its own HTTP stack.
//!
//! `loadgen floor` posts the same batches as `compare` to this program
//! started again as a server (`floor-server`) that only receives and
//! parses them on axum and hyper, as klaxon does, and answers 200: with
//! `nothing` it drops the body unread (HTTP and loopback TCP), with
//! `syntax` it reads the JSON without keeping anything (the cost of HTTP,
//! loopback TCP and the JSON grammar), with `owned` it builds each alert
//! as maps of owned strings and drops them (what a plain serde parse
//! costs). The servers take turns, each round on a fresh process, so a
//! stretch of CPU steal slows all of them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use axum::{Router, body::Bytes, http::StatusCode, routing::get, routing::post};
use reqwest::Client;
use serde::Deserialize;
use tokio::process::Command;

use crate::compare::{Spread, spread_of, timed_ingest};
use crate::server::{CONFIG, Kind, Server, free_port, spawn_server, terminate, wait_ready};
use crate::workload::IngestLoad;

/// What the floor server does with a batch once it has it.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Parse {
    /// Nothing: the body is read and dropped (HTTP and loopback TCP).
    Nothing,
    /// The JSON grammar only: nothing is kept.
    Syntax,
    /// Each alert into maps of owned strings, then dropped.
    Owned,
}

impl Parse {
    /// The flag value clap derives, so `--parse` and the table agree.
    fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// An alert as a plain serde parse builds it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // built to be paid for, never read
struct OwnedAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
}

/// Serves `POST /api/v2/alerts` (and `/-/ready`) on `listen` until killed.
pub async fn serve(listen: SocketAddr, parse: Parse) -> anyhow::Result<()> {
    let app = Router::new()
        .route(
            "/api/v2/alerts",
            post(move |body: Bytes| async move {
                let parsed = match parse {
                    Parse::Nothing => Ok(()),
                    Parse::Syntax => {
                        serde_json::from_slice::<serde::de::IgnoredAny>(&body).map(drop)
                    }
                    Parse::Owned => serde_json::from_slice::<Vec<OwnedAlert>>(&body).map(drop),
                };
                match parsed {
                    Ok(()) => StatusCode::OK,
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            }),
        )
        .route("/-/ready", get(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// A server `floor` measures.
enum Contender<'a> {
    Floor(Parse),
    Real(Kind, &'a Path),
}

impl Contender<'_> {
    fn name(&self) -> String {
        match self {
            Contender::Floor(parse) => format!("floor server, {}", parse.name()),
            Contender::Real(kind, _) => kind.name().to_owned(),
        }
    }
}

/// Server CPU-seconds per 100k alerts of each server's rounds, in the
/// order of `names`.
pub struct FloorRuns {
    pub names: Vec<String>,
    pub per_100k: Vec<Vec<f64>>,
}

/// `rounds` ingests of `load` into each server in turn: the floor server
/// in each mode, then klaxon and Alertmanager where given.
pub async fn measure(
    client: &Client,
    klaxon: Option<&Path>,
    alertmanager: Option<&Path>,
    load: IngestLoad,
    rounds: usize,
) -> anyhow::Result<FloorRuns> {
    let me = std::env::current_exe()?;
    let mut contenders = vec![
        Contender::Floor(Parse::Nothing),
        Contender::Floor(Parse::Syntax),
        Contender::Floor(Parse::Owned),
    ];
    contenders.extend(klaxon.map(|bin| Contender::Real(Kind::Klaxon, bin)));
    contenders.extend(alertmanager.map(|bin| Contender::Real(Kind::Alertmanager, bin)));
    let names: Vec<String> = contenders.iter().map(Contender::name).collect();
    let mut per_100k = vec![Vec::new(); contenders.len()];
    for round in 1..=rounds.max(1) {
        for (i, contender) in contenders.iter().enumerate() {
            // A fresh store for klaxon and Alertmanager (the floor server
            // keeps nothing).
            let scratch = tempfile::Builder::new()
                .prefix("loadgen-floor-")
                .tempdir()?;
            let port = free_port()?;
            let mut server = match contender {
                Contender::Floor(parse) => spawn_floor(&me, *parse, port)?,
                Contender::Real(kind, bin) => {
                    spawn_server(*kind, bin, scratch.path(), port, CONFIG)?
                }
            };
            let cpu = timed(client, &mut server, load).await?;
            if let Contender::Real(..) = contender {
                terminate(&mut server).await?;
            }
            eprintln!("{} round {round}: {cpu:.3}", names[i]);
            per_100k[i].push(cpu);
        }
    }
    Ok(FloorRuns { names, per_100k })
}

fn spawn_floor(me: &Path, parse: Parse, port: u16) -> anyhow::Result<Server> {
    let child = Command::new(me)
        .args(["floor-server", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--parse", &parse.name()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("floor server exited at once"))?;
    Ok(Server {
        child,
        pid,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// Waits for the server, ingests, and returns its CPU-seconds per 100k
/// alerts, work finished after the last answer included.
async fn timed(client: &Client, server: &mut Server, load: IngestLoad) -> anyhow::Result<f64> {
    wait_ready(client, server, Instant::now()).await?;
    let (_, cpu) = timed_ingest(client, server, load).await?;
    Ok(cpu * 100_000.0 / load.alerts as f64)
}

/// Median and range per server, and each one's multiple of the syntax
/// floor's median (the second contender).
pub fn table(runs: &FloorRuns, load: IngestLoad) -> String {
    let median = |v: &[f64]| spread_of(v.iter().copied()).median;
    let floor = median(&runs.per_100k[1]);
    let mut out = format!(
        "N = {} alerts, batch {}, {} connections, {} rounds each, servers taking turns\n\n\
         | server | CPU-s per 100k (median) | range | × syntax floor |\n|---|---|---|---|\n",
        load.alerts,
        load.batch,
        load.connections,
        runs.per_100k[0].len()
    );
    for (name, v) in runs.names.iter().zip(&runs.per_100k) {
        let Spread { median, min, max } = spread_of(v.iter().copied());
        out.push_str(&format!(
            "| {name} | {median:.3} | {min:.3}–{max:.3} | {:.1} |\n",
            median / floor
        ));
    }
    let median_of = |name: &str| {
        let i = runs.names.iter().position(|n| n == name)?;
        Some(median(&runs.per_100k[i]))
    };
    if let (Some(k), Some(a)) = (median_of("klaxon"), median_of("alertmanager")) {
        out.push_str(&format!(
            "\nklaxon ÷ Alertmanager (medians): {:.3}\n",
            k / a
        ));
    }
    out
}
