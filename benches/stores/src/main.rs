//! sled 0.34 against redb and fjall on klaxon's write pattern; see README.md.

mod store;
mod sys;
mod workload;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use store::Result;
use workload::Scale;

const USAGE: &str = "\
usage: klaxon-store-bench run [--dir DIR] [--out FILE] [--crash-after SECS] [--silence-count N]
                              [--alerts N] [--minutes M] [--silences S] [--notifications R]
                              [--retention MIN] [STORE...]
       klaxon-store-bench churn STORE DIR [scale flags] [--report-durable]
       klaxon-store-bench recover STORE DIR [--expect-seq N] [--expect-silence ID]
       klaxon-store-bench silences STORE DIR [--count N]
STORE is one of sled, redb, fjall, fjall-tuned (run: all four by default, in the order given).";

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = dispatch(&mut args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Removes `--name VALUE` from `args`.
fn take_flag(args: &mut Vec<String>, name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    let v = args.get(i + 1).cloned();
    args.drain(i..(i + 2).min(args.len()));
    v
}

fn take_switch(args: &mut Vec<String>, name: &str) -> bool {
    let found = args.iter().position(|a| a == name);
    if let Some(i) = found {
        args.remove(i);
    }
    found.is_some()
}

fn result_line(fields: &[(&str, String)]) {
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", line.join(" "));
}

fn dispatch(args: &mut Vec<String>) -> Result<()> {
    let cmd = if args.is_empty() {
        String::new()
    } else {
        args.remove(0)
    };
    match cmd.as_str() {
        "run" => run(args),
        "churn" => {
            let scale = Scale::parse(args)?;
            let report = take_switch(args, "--report-durable");
            let [kind, dir] = two(args)?;
            let stats = workload::churn(&kind, Path::new(&dir), &scale, report)?;
            result_line(&stats.fields);
            Ok(())
        }
        "recover" => {
            let seq = take_flag(args, "--expect-seq")
                .map(|s| s.parse())
                .transpose()?;
            let silence = take_flag(args, "--expect-silence");
            let [kind, dir] = two(args)?;
            let out = workload::recover(&kind, Path::new(&dir), seq, silence.as_deref())?;
            result_line(&out);
            Ok(())
        }
        "silences" => {
            let count = take_flag(args, "--count").map_or(Ok(1000), |s| s.parse())?;
            let [kind, dir] = two(args)?;
            let out = workload::silence_latency(&kind, Path::new(&dir), count)?;
            result_line(&out);
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

fn two(args: &[String]) -> Result<[String; 2]> {
    match args {
        [a, b] => Ok([a.clone(), b.clone()]),
        _ => Err(USAGE.into()),
    }
}

type Fields = HashMap<String, String>;

fn parse_result(stdout: &str) -> Result<Fields> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or("child printed no RESULT line")?;
    Ok(line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Runs this binary with `args` in a fresh process and parses its result.
fn child(args: &[String]) -> Result<Fields> {
    let out = Command::new(std::env::current_exe()?)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("child {args:?} failed: {}", out.status).into());
    }
    parse_result(&String::from_utf8_lossy(&out.stdout))
}

struct Crash {
    ran_s: f64,
    /// False if the churn finished before the kill.
    killed: bool,
    durable: String,
    recovered: Result<Fields>,
}

/// Churn in a child, SIGKILL after `after`, then open and read the store
/// in another fresh process.
fn crash(kind: &str, dir: &Path, scale: &Scale, after: Duration) -> Result<Crash> {
    let mut args = vec!["churn".to_string(), kind.into(), dir.display().to_string()];
    args.extend(scale.args());
    args.push("--report-durable".into());
    let mut proc = Command::new(std::env::current_exe()?)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let last = Arc::new(Mutex::new(String::new()));
    let reader = {
        let last = last.clone();
        let out = proc.stdout.take().ok_or("no stdout")?;
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if let Some(d) = line.strip_prefix("DURABLE ") {
                    *last.lock().unwrap() = d.to_string();
                }
            }
        })
    };
    let start = Instant::now();
    let mut killed = true;
    while start.elapsed() < after {
        if proc.try_wait()?.is_some() {
            killed = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Child::kill sends SIGKILL on Unix.
    if killed {
        proc.kill()?;
    }
    let ran_s = start.elapsed().as_secs_f64();
    proc.wait()?;
    reader.join().map_err(|_| "reader panicked")?;
    let durable = last.lock().unwrap().clone();
    let mut rargs = vec![
        "recover".to_string(),
        kind.into(),
        dir.display().to_string(),
    ];
    let mut parts = durable.split_whitespace();
    if let Some(seq) = parts.next().filter(|s| !s.starts_with('-')) {
        rargs.extend(["--expect-seq".into(), seq.to_string()]);
    }
    if let Some(id) = parts.next().filter(|s| *s != "-") {
        rargs.extend(["--expect-silence".into(), id.to_string()]);
    }
    Ok(Crash {
        ran_s,
        killed,
        durable,
        recovered: child(&rargs),
    })
}

struct StoreRun {
    churn: Fields,
    recover: Vec<Fields>,
    crash: Crash,
    silences: Fields,
}

fn fresh(dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(dir.to_path_buf())
}

fn run(args: &mut Vec<String>) -> Result<()> {
    let command = format!(
        "klaxon-store-bench run {}",
        std::env::args().skip(2).collect::<Vec<_>>().join(" ")
    );
    let base =
        PathBuf::from(take_flag(args, "--dir").unwrap_or_else(|| "/tmp/klaxon-store-bench".into()));
    let out_file = take_flag(args, "--out");
    let crash_after: f64 = take_flag(args, "--crash-after").map_or(Ok(15.0), |s| s.parse())?;
    let silence_count = take_flag(args, "--silence-count").unwrap_or_else(|| "1000".into());
    let scale = Scale::parse(args)?;
    let kinds: Vec<String> = if args.is_empty() {
        store::KINDS.iter().map(|s| s.to_string()).collect()
    } else {
        args.clone()
    };
    for k in &kinds {
        if !store::KINDS.contains(&k.as_str()) {
            return Err(format!("unknown store {k}\n{USAGE}").into());
        }
    }
    let (steal0, total0) = sys::cpu_ticks();
    let load0 = sys::loadavg();
    let started = Instant::now();
    let mut runs = Vec::new();
    for kind in &kinds {
        eprintln!("[{kind}] churn ({:?})", scale);
        let dir = fresh(&base.join(format!("{kind}-churn")))?;
        let mut cargs = vec!["churn".to_string(), kind.clone(), dir.display().to_string()];
        cargs.extend(scale.args());
        let churn = child(&cargs)?;
        eprintln!("[{kind}] churn: {churn:?}");
        let mut recover = Vec::new();
        for _ in 0..3 {
            let r = child(&["recover".into(), kind.clone(), dir.display().to_string()])?;
            eprintln!("[{kind}] recover: {r:?}");
            recover.push(r);
        }
        std::fs::remove_dir_all(&dir)?;
        let cdir = fresh(&base.join(format!("{kind}-crash")))?;
        let crash = crash(kind, &cdir, &scale, Duration::from_secs_f64(crash_after))?;
        eprintln!(
            "[{kind}] kill -9 after {:.1} s, durable {}: {:?}",
            crash.ran_s, crash.durable, crash.recovered
        );
        std::fs::remove_dir_all(&cdir)?;
        let sdir = fresh(&base.join(format!("{kind}-silences")))?;
        let silences = child(&[
            "silences".into(),
            kind.clone(),
            sdir.display().to_string(),
            "--count".into(),
            silence_count.clone(),
        ])?;
        eprintln!("[{kind}] silences: {silences:?}");
        std::fs::remove_dir_all(&sdir)?;
        runs.push(StoreRun {
            churn,
            recover,
            crash,
            silences,
        });
    }
    let (steal1, total1) = sys::cpu_ticks();
    let load = format!("{load0} at the start, {} at the end", sys::loadavg());
    let report = report(
        &command,
        &scale,
        &kinds,
        &runs,
        started.elapsed(),
        steal1 - steal0,
        total1 - total0,
        &silence_count,
        crash_after,
        &load,
    );
    println!("{report}");
    if let Some(f) = out_file {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(f)?;
        writeln!(file, "{report}")?;
    }
    Ok(())
}

/// The stores' versions, pinned exactly in Cargo.toml (no lockfile is kept).
fn crate_versions() -> String {
    "sled 0.34.7, redb 5.0.0, fjall 3.1.13, lz4_flex 0.11.7".into()
}

fn shell(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn mib(v: Option<&String>) -> String {
    v.and_then(|s| s.parse::<f64>().ok())
        .map_or("?".into(), |b| format!("{:.1}", b / 1048576.0))
}

fn kib_mib(v: Option<&String>) -> String {
    v.and_then(|s| s.parse::<f64>().ok())
        .map_or("?".into(), |k| format!("{:.1}", k / 1024.0))
}

#[allow(clippy::too_many_arguments)]
fn report(
    command: &str,
    scale: &Scale,
    kinds: &[String],
    runs: &[StoreRun],
    wall: Duration,
    steal: u64,
    total: u64,
    silence_count: &str,
    crash_after: f64,
    load: &str,
) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, f: &dyn Fn(&StoreRun) -> String| {
        rows.push((name.to_string(), runs.iter().map(f).collect()));
    };
    let c = |r: &StoreRun, k: &str| r.churn.get(k).cloned().unwrap_or_else(|| "?".into());
    row("churn wall time (s)", &|r| c(r, "wall_s"));
    row("churn process CPU, user+sys (s)", &|r| c(r, "cpu_s"));
    row("  of wall: in flush calls (s), flushes", &|r| {
        format!("{}, {}", c(r, "flush_s"), c(r, "flushes"))
    });
    row("close after churn (s)", &|r| c(r, "close_s"));
    row("logical bytes handed to store (MiB)", &|r| {
        mib(r.churn.get("logical"))
    });
    row("write_bytes to block layer (MiB)", &|r| {
        mib(r.churn.get("write_bytes"))
    });
    row("**write amplification**", &|r| {
        format!("**{}**", c(r, "wa"))
    });
    row("cancelled_write_bytes (MiB)", &|r| {
        mib(r.churn.get("cancelled"))
    });
    row("**disk size at end, du (MiB)**", &|r| {
        format!("**{}**", mib(r.churn.get("du")))
    });
    row("disk size at end, file lengths (MiB)", &|r| {
        mib(r.churn.get("apparent"))
    });
    row("**peak RSS during churn (MiB)**", &|r| {
        format!("**{}**", kib_mib(r.churn.get("peak_rss_kib")))
    });
    let rec = |r: &StoreRun, k: &str, f: &dyn Fn(Option<&String>) -> String| {
        r.recover
            .iter()
            .map(|x| f(x.get(k)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let plain = |v: Option<&String>| v.cloned().unwrap_or_else(|| "?".into());
    row("**recovery: open + read all (ms), 3 runs**", &|r| {
        format!("**{}**", rec(r, "recover_ms", &plain))
    });
    row("  of which open (ms)", &|r| rec(r, "open_ms", &plain));
    row("**RSS after recovery (MiB)**", &|r| {
        format!("**{}**", rec(r, "rss_kib", &kib_mib))
    });
    row("peak RSS in recovery (MiB)", &|r| {
        rec(r, "peak_rss_kib", &kib_mib)
    });
    row(
        "recovered: records / alerts / silences / nflog / history",
        &|r| {
            let x = &r.recover[0];
            let g = |k: &str| x.get(k).cloned().unwrap_or_else(|| "?".into());
            format!(
                "{} / {} / {} / {} / {}",
                g("records"),
                g("alerts"),
                g("silences"),
                g("nflog"),
                g("history")
            )
        },
    );
    row("kill -9: churn ran (s) before SIGKILL", &|r| {
        if r.crash.killed {
            format!("{:.1}", r.crash.ran_s)
        } else {
            format!("{:.1} (finished, not killed)", r.crash.ran_s)
        }
    });
    row(
        "kill -9: reopens, open + read all (ms)",
        &|r| match &r.crash.recovered {
            Ok(f) => format!("yes, {}", plain(f.get("recover_ms"))),
            Err(e) => format!("NO: {}", e.to_string().replace('|', "/")),
        },
    );
    row(
        "kill -9: acknowledged writes all there",
        &|r| match &r.crash.recovered {
            Ok(f) => format!(
                "{} (alerts {}, max seq {} ≥ {})",
                plain(f.get("durable_ok")),
                plain(f.get("alerts")),
                plain(f.get("max_seq")),
                r.crash.durable.split_whitespace().next().unwrap_or("?")
            ),
            Err(_) => "–".into(),
        },
    );
    row(
        "kill -9: RSS after recovery (MiB)",
        &|r| match &r.crash.recovered {
            Ok(f) => kib_mib(f.get("rss_kib")),
            Err(_) => "–".into(),
        },
    );
    let s = |r: &StoreRun, k: &str| r.silences.get(k).cloned().unwrap_or_else(|| "?".into());
    row("**silence create + flush p50 (ms)**", &|r| {
        format!("**{}**", s(r, "p50_ms"))
    });
    row("silence create + flush p99 / max (ms)", &|r| {
        format!("{} / {}", s(r, "p99_ms"), s(r, "max_ms"))
    });
    row("steal ticks during the churn", &|r| c(r, "steal"));

    let mut out = String::new();
    use std::fmt::Write;
    let first = &runs[0].churn;
    let g = |k: &str| first.get(k).cloned().unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "### Run at {} ({:.0} s wall)\n",
        shell("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        wall.as_secs_f64()
    );
    let _ = writeln!(out, "- command: `{command}`");
    let _ = writeln!(
        out,
        "- crates: {}; {}",
        crate_versions(),
        shell("rustc", &["--version"])
    );
    let _ = writeln!(
        out,
        "- scale: {} alerts re-sent once per simulated minute for {} simulated minutes = {} commits \
         of a 200 ms window ({} alerts each, {} records in all, {} alerts sent, ~{} B per alert, \
         LZ4 {}×), {} compactions (klaxon's rule: log > 2 × live + 16 MiB); {} silences \
         created (one flush each), deleted {} min after creation; {} notifications/s \
         ({} nflog puts + {} history puts, no flush of their own); nflog, history and expired \
         silences deleted every 15 simulated minutes, retention {} min; recovery \
         ×3 in fresh processes; kill -9 after {crash_after} s; {silence_count} silence creates \
         for latency",
        scale.alerts,
        scale.minutes,
        g("commits"),
        scale.alerts / 300,
        g("records"),
        g("alerts_sent"),
        g("alert_bytes"),
        g("lz4_ratio"),
        g("compactions"),
        g("silences"),
        2 * scale.retention_min,
        scale.notifications_per_s,
        g("notifications"),
        g("notifications"),
        scale.retention_min,
    );
    let _ = writeln!(
        out,
        "- machine: nproc {}; steal over the whole run: {steal} ticks of {total} ({:.1} %); \
         load average (1, 5, 15 min, other work included): {load}\n",
        sys::nproc(),
        100.0 * steal as f64 / total.max(1) as f64
    );
    let _ = writeln!(out, "| metric | {} |", kinds.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(kinds.len()));
    for (name, cells) in rows {
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    out
}
