//! Server processes: start klaxon or Alertmanager on a loopback port with
//! a given config, wait for readiness, stop them, and read their CPU time
//! and memory from `/proc`.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::Client;
use tokio::process::{Child, Command};

// ---------------------------------------------------------------------------
// Server processes.

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Klaxon,
    Alertmanager,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Klaxon => "klaxon",
            Kind::Alertmanager => "alertmanager",
        }
    }
}

/// `group_wait: 1h` keeps notifications out of the measurement; the long
/// resolve timeout keeps alerts firing however long a 100k run takes, so
/// that every GET and the restore check see all of them.
pub const CONFIG: &str = "\
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
pub struct Server {
    pub child: Child,
    pub pid: u32,
    pub url: String,
}

pub fn free_port() -> anyhow::Result<u16> {
    // The port is released before the server binds it; on a quiet loopback
    // nothing else takes it in between.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn spawn_server(
    kind: Kind,
    bin: &Path,
    dir: &Path,
    port: u16,
    config_text: &str,
) -> anyhow::Result<Server> {
    spawn_server_with(kind, bin, dir, port, config_text, &[])
}

/// [`spawn_server`] with more flags (a replica's cluster flags).
pub fn spawn_server_with(
    kind: Kind,
    bin: &Path,
    dir: &Path,
    port: u16,
    config_text: &str,
    extra: &[String],
) -> anyhow::Result<Server> {
    let config = dir.join("alertmanager.yml");
    std::fs::write(&config, config_text)?;
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
    if kind == Kind::Alertmanager && extra.is_empty() {
        cmd.arg("--cluster.listen-address=");
    }
    cmd.args(extra);
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
pub async fn wait_ready(
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
pub async fn terminate(server: &mut Server) -> anyhow::Result<()> {
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
pub fn cpu_seconds(pid: u32, ticks_per_second: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces; fields are counted after its ')'.
    let rest = stat.rsplit_once(')').context("unexpected /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after ')'.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) as f64 / ticks_per_second)
}

pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
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

pub fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every mainstream Linux build; getconf confirms it.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU time a process spends from a starting point, read per thread in
/// nanoseconds.
///
/// `/proc/<pid>/stat` counts in clock ticks (10 ms): over a 20k-alert
/// ingest, which klaxon does in 60–80 ms, a tick is 15% of the figure.
/// Each thread's `schedstat` holds the same scheduler total in ns. A thread
/// that exits takes its time with it, so the tick total guards the sum: if
/// it grew by more, that count is used. Neither server ends threads it used
/// in a measured window (tokio's blocking threads exit after 10 s idle).
pub struct CpuMeter {
    pid: u32,
    ticks_per_second: f64,
    ticks_at_start: f64,
    /// Nanoseconds on the CPU so far, by thread id.
    threads_at_start: std::collections::HashMap<u32, u64>,
}

impl CpuMeter {
    pub fn start(pid: u32) -> anyhow::Result<Self> {
        let ticks_per_second = clock_ticks();
        Ok(Self {
            pid,
            ticks_per_second,
            ticks_at_start: cpu_seconds(pid, ticks_per_second)?,
            threads_at_start: thread_nanos(pid),
        })
    }

    /// CPU seconds since `start`.
    pub fn seconds(&self) -> anyhow::Result<f64> {
        let by_ticks = cpu_seconds(self.pid, self.ticks_per_second)? - self.ticks_at_start;
        if self.threads_at_start.is_empty() {
            // No schedstat on this kernel: ticks are all there is.
            return Ok(by_ticks);
        }
        let nanos: u64 = thread_nanos(self.pid)
            .iter()
            .map(|(tid, now)| {
                now.saturating_sub(self.threads_at_start.get(tid).copied().unwrap_or(0))
            })
            .sum();
        let by_threads = nanos as f64 / 1e9;
        // Both read the same total: they differ by the ticks' rounding
        // (under one at each end) unless a thread exited with time in it.
        if by_ticks - by_threads > 2.0 / self.ticks_per_second {
            Ok(by_ticks)
        } else {
            Ok(by_threads)
        }
    }

    /// Waits until the process's CPU time stops growing, so that work
    /// deferred past the last answer (klaxon's group commit,
    /// Alertmanager's dispatcher) is counted too. Returns the CPU seconds
    /// since `start` at that point.
    pub async fn settled(&self) -> anyhow::Result<f64> {
        // Background timers of an idle server take well under this per
        // half second.
        const IDLE: f64 = 0.005;
        let mut last = self.seconds()?;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.seconds()?;
            if now - last <= IDLE {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }
}

/// Each thread's time on the CPU in ns: the first field of
/// `/proc/<pid>/task/<tid>/schedstat`. Empty where the kernel has none.
fn thread_nanos(pid: u32) -> std::collections::HashMap<u32, u64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Default::default();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            Some((tid, stat.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}
