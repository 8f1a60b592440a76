//! What the binary says about itself: `--version`, `versionInfo` in
//! `/api/v2/status`, and its log lines in `--log.format` logfmt and json.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{BinaryServer, PLAIN_CONFIG, client, free_port, wait_ready};

#[tokio::test]
async fn version_flag_prints_alertmanagers_layout_with_the_build() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .args(["--log.level=debug", "--version"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "klaxon, version {} (branch: ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(lines[0].contains(", revision: "), "{text}");
    assert!(lines[1].starts_with("  build user:       "), "{text}");
    assert!(lines[2].starts_with("  build date:       "), "{text}");
    assert!(lines[3].starts_with("  rustc version:    rustc "), "{text}");
    assert!(lines[4].starts_with("  platform:         linux/"), "{text}");
}

#[tokio::test]
async fn status_version_info_carries_the_build_identity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    let info = server.get_json("/api/v2/status").await["versionInfo"].clone();
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    for (key, label) in [
        ("branch", "branch: "),
        ("revision", "revision: "),
        ("buildUser", "build user:       "),
        ("buildDate", "build date:       "),
        ("goVersion", "rustc version:    "),
    ] {
        let value = info[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {info}"));
        assert!(!value.is_empty(), "{key}");
        assert!(
            version.contains(&format!("{label}{value}")),
            "{key}={value} not in {version}"
        );
    }
    assert!(info["goVersion"].as_str().unwrap().starts_with("rustc "));
}

/// Starts the binary with `args`, waits until ready, stops it and returns
/// its stderr lines.
async fn log_lines(args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let log = dir.path().join("stderr.log");
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg(format!(
            "--config.file={}",
            dir.path().join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(args)
        .env_remove("KLAXON_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_ready(&format!("http://127.0.0.1:{port}/-/ready")).await;
    // A request that logs nothing harmful, then a clean stop.
    let _ = client()
        .post(format!("http://127.0.0.1:{port}/-/reload"))
        .send()
        .await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("klaxon stops on SIGTERM")
        .unwrap();
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn logfmt_is_the_default_and_uses_slogs_keys() {
    let lines = log_lines(&[]).await;
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line.starts_with("time="), "{line}");
        let level = line.split(' ').nth(1).unwrap();
        assert!(
            ["level=DEBUG", "level=INFO", "level=WARN", "level=ERROR"].contains(&level),
            "{line}"
        );
        let source = line.split(' ').nth(2).unwrap();
        assert!(
            source.starts_with("source=") && source.contains(".rs:"),
            "{line}"
        );
        assert!(
            line.split(' ').nth(3).unwrap().starts_with("msg="),
            "{line}"
        );
        assert!(!line.contains("\x1b["), "no colour codes: {line}");
    }
    let explicit = log_lines(&["--log.format=logfmt"]).await;
    assert!(explicit.iter().all(|l| l.starts_with("time=")));
}

#[tokio::test]
async fn json_lines_use_slogs_field_names() {
    let lines = log_lines(&["--log.format=json", "--log.level=debug"]).await;
    assert!(!lines.is_empty());
    for line in &lines {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in ["time", "level", "source", "msg"] {
            assert!(
                value.get(key).is_some_and(Value::is_string),
                "{key}: {line}"
            );
        }
        assert!(line.starts_with("{\"time\":"), "{line}");
    }
    assert!(
        lines.iter().any(|l| l.contains("\"level\":\"INFO\"")),
        "{lines:?}"
    );
}
