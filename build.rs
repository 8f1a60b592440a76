//! Build identity for `--version` and `/api/v2/status` `versionInfo`:
//! the git revision and branch, who built it and when, and rustc's version.
//!
//! Builds without `.git` (the Docker image) pass them in the environment:
//! `KLAXON_BUILD_REVISION`, `KLAXON_BUILD_BRANCH`, `KLAXON_BUILD_DATE`,
//! `KLAXON_BUILD_USER`. The script reruns only when one of those or the
//! checked-out commit changes, so an ordinary edit does not rerun it; the
//! date is therefore that of the build that saw the current commit.

use std::process::Command;

fn main() {
    for var in [
        "KLAXON_BUILD_REVISION",
        "KLAXON_BUILD_BRANCH",
        "KLAXON_BUILD_DATE",
        "KLAXON_BUILD_USER",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    // HEAD moves on checkout; the branch's ref (or packed-refs) on commit.
    // A missing path would make cargo rerun the script on every build, so
    // only existing ones are named.
    for path in ["HEAD", "packed-refs"]
        .into_iter()
        .map(str::to_owned)
        .chain(git(&["symbolic-ref", "-q", "HEAD"]))
        .filter_map(|p| git(&["rev-parse", "--git-path", &p]))
    {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }

    let revision = env_or("KLAXON_BUILD_REVISION", || git(&["rev-parse", "HEAD"]));
    let branch = env_or("KLAXON_BUILD_BRANCH", || {
        git(&["rev-parse", "--abbrev-ref", "HEAD"])
    });
    let date = env_or("KLAXON_BUILD_DATE", || {
        run("date", &["-u", "+%Y%m%d-%H:%M:%S"])
    });
    let user = env_or("KLAXON_BUILD_USER", || {
        let name = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .or_else(|| run("id", &["-un"]))?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        Some(match host {
            Some(host) => format!("{name}@{host}"),
            None => name,
        })
    });
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = run(&rustc, &["--version"])
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into());

    println!("cargo:rustc-env=KLAXON_BUILD_REVISION={revision}");
    println!("cargo:rustc-env=KLAXON_BUILD_BRANCH={branch}");
    println!("cargo:rustc-env=KLAXON_BUILD_DATE={date}");
    println!("cargo:rustc-env=KLAXON_BUILD_USER={user}");
    println!("cargo:rustc-env=KLAXON_BUILD_RUSTC={rustc_version}");
}

fn env_or(var: &str, fallback: impl FnOnce() -> Option<String>) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(fallback)
        .map(|v| v.trim().replace(['\n', '\r'], " "))
        .unwrap_or_else(|| "unknown".into())
}

fn git(args: &[&str]) -> Option<String> {
    run("git", args)
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
