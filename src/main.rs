//! The klaxon server: Alertmanager's flags → logging → `App::start` →
//! signals (SIGHUP reloads, SIGINT/SIGTERM stop).

use anyhow::Context;
use clap::Parser;
use klaxon::app::{App, Options};
use klaxon::clock::Clock;
use klaxon::features::Features;
use klaxon::flags::Flags;
use klaxon::web::{LiveWeb, WebSettings};

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

fn options(flags: &Flags, features: Features, port: u16) -> anyhow::Result<Options> {
    let external_url = match &flags.external_url {
        Some(u) => url::Url::parse(u).with_context(|| format!("--web.external-url {u:?}"))?,
        None => url::Url::parse(&format!("http://{}:{port}/", hostname()))?,
    };
    let route_prefix = flags
        .route_prefix
        .clone()
        .unwrap_or_else(|| external_url.path().to_owned());
    let route_prefix = format!("/{}", route_prefix.trim_matches('/'));
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
        retention: flags.retention,
        gc_interval: flags.gc_interval,
        clock: Clock::system(),
        web,
        features,
        tuning: flags.tuning(),
    })
}

/// The sockets to serve on: systemd's (socket activation) with
/// `--web.systemd-socket`, else each `--web.listen-address`.
async fn listeners(flags: &Flags) -> anyhow::Result<Vec<tokio::net::TcpListener>> {
    if flags.systemd_socket {
        return systemd_listeners();
    }
    let mut out = Vec::new();
    for address in &flags.listen_address {
        let listen = bind_address(address);
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        out.push(listener);
    }
    Ok(out)
}

/// sd_listen_fds(3): the sockets systemd passed, from fd 3 on, when
/// `LISTEN_PID` names this process.
fn systemd_listeners() -> anyhow::Result<Vec<tokio::net::TcpListener>> {
    use std::os::fd::FromRawFd;
    let for_us = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count: i32 = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if !for_us || count < 1 {
        anyhow::bail!(
            "--web.systemd-socket: no socket was passed by systemd (LISTEN_PID/LISTEN_FDS)"
        );
    }
    (3..3 + count)
        .map(|fd| {
            // SAFETY: systemd passed these descriptors to this process
            // (LISTEN_PID checked above) and nothing else owns them.
            let std_listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            std_listener.set_nonblocking(true)?;
            Ok(tokio::net::TcpListener::from_std(std_listener)?)
        })
        .collect()
}

fn main() -> std::process::ExitCode {
    // Before the runtime starts its threads, so their arenas are made
    // with these settings.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tune_malloc();
    // Before flag parsing, as Alertmanager's `--version` wins over the rest.
    if klaxon::build_info::version_requested(std::env::args_os()) {
        println!("{}", klaxon::build_info::version_text("klaxon"));
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("klaxon: error: starting the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line (with its causes), not a backtrace.
            eprintln!("klaxon: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc malloc settings, set before any thread starts: a thread's arena
/// is made with the top pad in force at its first allocation.
///
/// glibc raises its mmap threshold (up to 32 MiB) each time a large block
/// is freed; from then on the store's write buffers and other large
/// transient buffers come from the malloc arenas and leave them fragmented
/// (measured with 100k alerts: 80 MiB RSS instead of 68). A fixed threshold
/// keeps large blocks in mappings of their own, returned when freed.
///
/// Pinning it also pins the trim threshold at its default, 128 KiB: every
/// free that left that much unused at the top of an arena gave it back to
/// the kernel, and the next listing faulted it in again, page by page (a
/// 13 MB group list: 3,300 page faults, a fifth of its CPU time). A few
/// MiB kept per arena let listings reuse their buffers.
///
/// A thread's arena grows by `mprotect`, in steps as small as the
/// allocation that needed room (a page, as alerts are stored): 7,300 calls
/// over a 100k-alert ingest, each taking the arena's lock and the
/// process's memory map lock while the other threads wait for them. The
/// top pad is the room an arena's first heap is opened with (and what a
/// trim leaves): with 16 MiB, 1,350 calls, futex waits cut to a third, and
/// 5–10% less CPU per ingested alert, for 5–9 bytes more RSS per stored
/// alert (benches/RESULTS.md, "2026-12-05 17:25–18:25 UTC").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
    const TRIM_THRESHOLD: libc::c_int = 4 * 1024 * 1024;
    const TOP_PAD: libc::c_int = 16 * 1024 * 1024;
    // SAFETY: mallopt only sets allocator parameters; it has no memory
    // preconditions and may be called at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
    }
}

async fn run() -> anyhow::Result<()> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("installing the TLS crypto provider"))?;
    let flags = Flags::parse();
    init_logging(&flags);
    let features = flags.features()?;
    flags.log_effects(&features);
    let mut listeners = listeners(&flags).await?.into_iter();
    let listener = listeners
        .next()
        .context("--web.listen-address: no address to listen on")?;
    let port = listener.local_addr()?.port();
    // Before serving: once /-/ready answers, a SIGHUP must reload, not kill.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut app = App::start(options(&flags, features, port)?, listener).await?;
    for more in listeners {
        app.serve_also(more)?;
    }
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
