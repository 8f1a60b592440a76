//! The store failing under a running klaxon (a full disk that frees up)
//! and before it starts (a store another instance holds, a read-only one).
//! Each runs the real binary on a small tmpfs the test mounts (root only;
//! elsewhere the test says why it skips, or fails under
//! `KLAXON_REQUIRE_PEERS=1`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BinaryServer, PLAIN_CONFIG, client, eventually, silence_json};

/// A tmpfs mounted on `path` for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(path.to_owned())),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                let required = std::env::var("KLAXON_REQUIRE_PEERS").is_ok_and(|v| v == "1");
                assert!(
                    !required,
                    "mounting a tmpfs is required (KLAXON_REQUIRE_PEERS=1): {why}"
                );
                eprintln!("SKIPPED: cannot mount a tmpfs to fill ({why}); run as root");
                None
            }
        }
    }

    /// Only before klaxon opens the store: Linux refuses to remount a
    /// filesystem read-only while a file on it is open for writing.
    fn remount(&self, mode: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a klaxon killed a moment ago may still hold files open.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem under `path` until it refuses more.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

/// `n` alerts with 500 bytes of noise each: the store compresses records,
/// and these must need real space.
fn alerts(prefix: &str, n: usize) -> Value {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ prefix.len() as u64;
    let mut noise = || -> String {
        (0..500)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'!' + (seed % 90) as u8)
            })
            .collect()
    };
    Value::Array(
        (0..n)
            .map(|i| json!({"labels": {"alertname": prefix, "i": i.to_string()}, "annotations": {"note": noise()}}))
            .collect(),
    )
}

async fn wait_metric(server: &BinaryServer, name: &str, want: impl Fn(f64) -> bool) {
    eventually(Duration::from_secs(20), name, || async {
        server.metric(name).await.filter(|v| want(*v))
    })
    .await;
}

async fn ready_status(server: &BinaryServer) -> u16 {
    client()
        .get(server.url("/-/ready"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_silence(server: &BinaryServer, comment: &str) -> reqwest::Response {
    client()
        .post(server.url("/api/v2/silences"))
        .json(&silence_json("Disk", comment))
        .send()
        .await
        .unwrap()
}

fn comments(silences: &Value) -> Vec<String> {
    let mut v: Vec<String> = silences
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["comment"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// While the disk is full klaxon keeps taking alerts (from memory), turns
/// not-ready, says so in metrics and refuses silences with 503; once space
/// is free it recovers by itself, stores what it held, and a `kill -9`
/// then loses nothing that was acknowledged.
#[tokio::test]
async fn a_full_disk_that_frees_up_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let Some(_fs) = Tmpfs::mount(&dir.path().join("data"), "16m") else {
        return;
    };
    let server = BinaryServer::start(dir.path(), &[]).await;
    let c = client();
    assert_eq!(post_silence(&server, "before").await.status(), 200);
    let r = c
        .post(server.url("/api/v2/alerts"))
        .json(&alerts("Before", 100))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_metric(&server, "klaxon_alerts_persisted", |n| n >= 100.0).await;
    assert_eq!(server.metric("klaxon_storage_healthy").await, Some(1.0));

    let filler = dir.path().join("data/filler");
    fill(&filler);
    // Accepted and routed from memory, whatever the disk says.
    for round in 0..5 {
        let r = c
            .post(server.url("/api/v2/alerts"))
            .json(&alerts(&format!("During{round}"), 400))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    wait_metric(&server, "klaxon_storage_healthy", |v| v == 0.0).await;
    wait_metric(&server, "klaxon_storage_write_failures_total", |v| v >= 1.0).await;
    assert_eq!(ready_status(&server).await, 503);
    assert_eq!(
        c.get(server.url("/-/healthy"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the process is alive: only readiness drops"
    );
    let refused = post_silence(&server, "refused").await;
    assert_eq!(refused.status(), 503);
    let body = refused.text().await.unwrap();
    assert!(body.contains("cannot write"), "{body}");
    let listed: Value = server.get_json("/api/v2/alerts").await;
    assert_eq!(listed.as_array().unwrap().len(), 2100);
    // A reopen while the disk is still full fails (one more failure
    // counted) and leaves the store failed rather than flapping.
    wait_metric(&server, "klaxon_storage_write_failures_total", |v| v >= 2.0).await;
    assert_eq!(ready_status(&server).await, 503);
    assert_eq!(server.metric("klaxon_storage_healthy").await, Some(0.0));

    std::fs::remove_file(&filler).unwrap();
    eventually(Duration::from_secs(20), "ready again", || async {
        (ready_status(&server).await == 200).then_some(())
    })
    .await;
    assert_eq!(server.metric("klaxon_storage_healthy").await, Some(1.0));
    assert_eq!(post_silence(&server, "after").await.status(), 200);
    wait_metric(&server, "klaxon_alerts_persisted", |n| n >= 2100.0).await;
    server.kill9().await;

    let server = BinaryServer::start(dir.path(), &[]).await;
    let listed: Value = server.get_json("/api/v2/alerts").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        2100,
        "alerts held in memory were stored"
    );
    let silences: Value = server.get_json("/api/v2/silences").await;
    assert_eq!(comments(&silences), ["after", "before"]);
    server.kill9().await;
}

/// A second instance pointed at a store in use exits with a clear error
/// (after waiting a moment for a previous owner to let go); a read-only
/// store stops startup likewise. Neither touches the running instance.
#[tokio::test]
async fn a_store_held_by_another_instance_or_read_only_stops_startup_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    let second = run_to_exit(dir.path(), &dir.path().join("data")).await;
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("cannot open the store at") && stderr.contains("lock"),
        "{stderr}"
    );
    assert_eq!(ready_status(&server).await, 200);
    server.kill9().await;

    let ro = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&ro.path().join("data"), "4m") else {
        return;
    };
    fs.remount("ro");
    let out = run_to_exit(dir.path(), &ro.path().join("data")).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open the store at") && stderr.contains("Read-only"),
        "{stderr}"
    );
}

async fn run_to_exit(config_dir: &Path, storage: &Path) -> std::process::Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg(format!(
            "--config.file={}",
            config_dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", storage.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("exits within 20 s")
        .unwrap()
}
