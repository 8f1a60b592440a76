//! The klaxon server: Alertmanager's flags → logging → `App::start` →
//! signals (SIGHUP reloads, SIGINT/SIGTERM stop).

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use clap::Parser;
use klaxon::app::{App, Options};
use klaxon::clock::Clock;
use klaxon::config::Duration;
use klaxon::web::{LiveWeb, WebSettings};

/// Flags keep Alertmanager's names so a unit file or compose service only
/// needs the binary name changed.
#[derive(Debug, Parser)]
#[command(
    name = "klaxon",
    version,
    about = "A drop-in replacement for Prometheus Alertmanager"
)]
struct Flags {
    /// Alertmanager configuration file name.
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    config_file: PathBuf,
    /// Base path for data storage (the sled store).
    #[arg(long = "storage.path", default_value = "data/")]
    storage_path: PathBuf,
    /// How long to keep expired silences and resolved alerts.
    #[arg(long = "data.retention", default_value = "120h")]
    retention: String,
    /// Interval between garbage collections of alerts and silences.
    #[arg(long = "alerts.gc-interval", default_value = "30m")]
    gc_interval: String,
    /// Address to listen on for the web interface and API.
    #[arg(long = "web.listen-address", default_value = ":9093")]
    listen_address: String,
    /// The URL under which klaxon is externally reachable (for example when
    /// behind a reverse proxy); used in notifications and links.
    #[arg(long = "web.external-url")]
    external_url: Option<String>,
    /// Prefix for the internal routes; defaults to the external URL's path.
    #[arg(long = "web.route-prefix")]
    route_prefix: Option<String>,
    /// TLS and basic-auth settings file (Prometheus web config format).
    #[arg(long = "web.config.file")]
    web_config_file: Option<PathBuf>,
    /// Accepted for compatibility; klaxon does not limit GET concurrency.
    #[arg(long = "web.get-concurrency", hide = true)]
    _get_concurrency: Option<String>,
    /// Accepted for compatibility; klaxon has a fixed request timeout.
    #[arg(long = "web.timeout", hide = true)]
    _web_timeout: Option<String>,
    /// Only log messages at or above this level: debug, info, warn, error.
    #[arg(long = "log.level", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    log_level: String,
    /// Log format: logfmt or json.
    #[arg(long = "log.format", default_value = "logfmt", value_parser = ["logfmt", "json"])]
    log_format: String,
    /// Cluster listen address; empty disables clustering (klaxon has none yet).
    #[arg(long = "cluster.listen-address", default_value = "")]
    cluster_listen_address: String,
    /// Accepted for compatibility: clustering is not implemented.
    #[arg(long = "cluster.peer", hide = true)]
    _cluster_peer: Vec<String>,
    #[arg(long = "cluster.advertise-address", hide = true)]
    _cluster_advertise: Option<String>,
}

fn init_logging(flags: &Flags) {
    klaxon::logging::init(
        &flags.log_level,
        klaxon::logging::LogFormat::from_flag(&flags.log_format),
    );
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Go's `:9093` means every interface.
fn bind_address(listen: &str) -> String {
    if listen.starts_with(':') {
        format!("0.0.0.0{listen}")
    } else {
        listen.to_owned()
    }
}

fn options(flags: &Flags, port: u16) -> anyhow::Result<Options> {
    let external_url = match &flags.external_url {
        Some(u) => url::Url::parse(u).with_context(|| format!("--web.external-url {u:?}"))?,
        None => url::Url::parse(&format!("http://{}:{port}/", hostname()))?,
    };
    let route_prefix = flags
        .route_prefix
        .clone()
        .unwrap_or_else(|| external_url.path().to_owned());
    let route_prefix = format!("/{}", route_prefix.trim_matches('/'));
    let retention = Duration::from_str(&flags.retention)
        .map_err(|e| anyhow::anyhow!("--data.retention: {e}"))?;
    let gc_interval = Duration::from_str(&flags.gc_interval)
        .map_err(|e| anyhow::anyhow!("--alerts.gc-interval: {e}"))?;
    let web = match &flags.web_config_file {
        Some(path) => LiveWeb::new(
            Some(path.clone()),
            WebSettings::load(path).context("--web.config.file")?,
        ),
        None => LiveWeb::none(),
    };
    Ok(Options {
        config_file: flags.config_file.clone(),
        storage_path: flags.storage_path.clone(),
        external_url,
        route_prefix,
        retention: retention.as_std(),
        gc_interval: gc_interval.as_std(),
        clock: Clock::system(),
        web,
        features: Default::default(),
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pin_malloc_mmap_threshold();
    // Before flag parsing, as Alertmanager's `--version` wins over the rest.
    if klaxon::build_info::version_requested(std::env::args_os()) {
        println!("{}", klaxon::build_info::version_text("klaxon"));
        return std::process::ExitCode::SUCCESS;
    }
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line (with its causes), not a backtrace.
            eprintln!("klaxon: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold (up to 32 MiB) each time a large block
/// is freed; from then on sled's 512 KiB write buffers and other large
/// transient buffers come from the malloc arenas and leave them fragmented
/// (measured with 100k alerts: 80 MiB RSS instead of 68). A fixed threshold
/// keeps large blocks in mappings of their own, returned when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin_malloc_mmap_threshold() {
    const THRESHOLD: libc::c_int = 128 * 1024;
    // SAFETY: mallopt only sets an allocator parameter; it has no memory
    // preconditions and may be called at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

async fn run() -> anyhow::Result<()> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("installing the TLS crypto provider"))?;
    let flags = Flags::parse();
    init_logging(&flags);
    if !flags.cluster_listen_address.is_empty() {
        tracing::warn!(
            address = %flags.cluster_listen_address,
            "clustering is not implemented yet; running as a single instance"
        );
    }
    let listen = bind_address(&flags.listen_address);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let port = listener.local_addr()?.port();
    // Before serving: once /-/ready answers, a SIGHUP must reload, not kill.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let app = App::start(options(&flags, port)?, listener).await?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                // Errors are logged by reload; the old config keeps running.
                let _ = app.state().reload().await;
            }
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = app.stopped() => break,
        }
    }
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
}
