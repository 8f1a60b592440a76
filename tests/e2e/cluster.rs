//! Three replicas of the real binary on loopback, with Alertmanager's
//! cluster flags: they form a Raft cluster, and a silence made, changed or
//! expired on any replica shows on all of them, through a leader's death
//! and, without a quorum, once the quorum is back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BinaryServer, client, eventually, free_port, silence_json};

struct Replica {
    dir: PathBuf,
    port: u16,
    args: Vec<String>,
    server: Option<BinaryServer>,
}

impl Replica {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn start(&mut self) {
        let base = format!("http://127.0.0.1:{}", self.port);
        self.server = Some(
            BinaryServer::start_with_args(&self.args, base.clone(), &format!("{base}/-/ready"))
                .await,
        );
    }

    async fn kill(&mut self) {
        if let Some(s) = self.server.take() {
            s.kill9().await;
        }
    }

    async fn get(&self, path: &str) -> Value {
        client()
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    async fn silence_state(&self, id: &str) -> Option<String> {
        let answer = client()
            .get(self.url(&format!("/api/v2/silence/{id}")))
            .send()
            .await
            .ok()?;
        if !answer.status().is_success() {
            return None;
        }
        let v: Value = answer.json().await.ok()?;
        v["status"]["state"].as_str().map(str::to_owned)
    }

    async fn post_silence(&self, body: &Value) -> String {
        let answer = client()
            .post(self.url("/api/v2/silences"))
            .json(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
        let v: Value = answer.json().await.unwrap();
        v["silenceID"].as_str().unwrap().to_owned()
    }
}

/// Three replicas that list each other, as a StatefulSet would.
fn replicas(root: &Path) -> Vec<Replica> {
    let config = "route:\n  receiver: r\nreceivers:\n- name: r\n";
    let cluster_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers: Vec<String> = cluster_ports
        .iter()
        .map(|p| format!("--cluster.peer=127.0.0.1:{p}"))
        .collect();
    (0..3)
        .map(|i| {
            let dir = root.join(format!("am{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
            let port = free_port();
            let mut args = vec![
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--cluster.listen-address=127.0.0.1:{}", cluster_ports[i]),
                format!("--cluster.peer-name=am-{i}"),
                "--cluster.label=klaxon-test".to_owned(),
            ];
            args.extend(peers.iter().cloned());
            Replica {
                dir,
                port,
                args,
                server: None,
            }
        })
        .collect()
}

async fn all_ready(replicas: &[&Replica]) {
    for r in replicas {
        eventually(Duration::from_secs(20), "a ready cluster", || async {
            let status = r.get("/api/v2/status").await;
            (status["cluster"]["status"] == "ready").then_some(())
        })
        .await;
    }
}

async fn on_all(replicas: &[&Replica], id: &str, state: &str) {
    for r in replicas {
        eventually(
            Duration::from_secs(10),
            &format!("silence {id} {state} on {}", r.dir.display()),
            || async { (r.silence_state(id).await.as_deref() == Some(state)).then_some(()) },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_are_replicated_across_three_replicas() {
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    for r in &mut set {
        r.start().await;
    }
    let [a, b, c] = &mut set[..] else {
        unreachable!()
    };
    all_ready(&[a, b, c]).await;
    let status = a.get("/api/v2/status").await;
    let names: Vec<&str> = status["cluster"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["am-0", "am-1", "am-2"]);

    // Made on one replica: active on all.
    let started = std::time::Instant::now();
    let id = b
        .post_silence(&silence_json("DiskFull", "replicated"))
        .await;
    on_all(&[a, b, c], &id, "active").await;
    let spread = started.elapsed();
    eprintln!("a silence was active on all three replicas {spread:?} after the POST");
    assert!(spread < Duration::from_secs(3), "took {spread:?}");
    // Expired on another: expired on all.
    let r = client()
        .delete(c.url(&format!("/api/v2/silence/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    on_all(&[a, b, c], &id, "expired").await;

    // One replica killed: the other two still agree.
    a.kill().await;
    let id2 = c
        .post_silence(&silence_json("CpuHot", "two of three"))
        .await;
    on_all(&[b, c], &id2, "active").await;
    // It catches up when it comes back.
    a.start().await;
    on_all(&[a], &id2, "active").await;

    // Two killed: the last one still takes a silence (no quorum), and the
    // others get it once they are back.
    a.kill().await;
    b.kill().await;
    let id3 = c
        .post_silence(&silence_json("NetDown", "without quorum"))
        .await;
    on_all(&[c], &id3, "active").await;
    a.start().await;
    b.start().await;
    on_all(&[a, b], &id3, "active").await;
    for r in [a, b, c] {
        r.kill().await;
    }
}

/// A replica whose `--cluster.label` differs is refused on the cluster port.
#[tokio::test]
async fn another_clusters_label_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let mut set = replicas(root.path());
    let cluster_port = set[0]
        .args
        .iter()
        .find_map(|a| a.strip_prefix("--cluster.listen-address=127.0.0.1:"))
        .unwrap()
        .to_owned();
    set[0].start().await;
    let id_url = format!("http://127.0.0.1:{cluster_port}/cluster/v1/id");
    let other = client()
        .get(&id_url)
        .header("x-klaxon-cluster-label", "someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let same = client()
        .get(&id_url)
        .header("x-klaxon-cluster-label", "klaxon-test")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    let me: Value = same.json().await.unwrap();
    assert_eq!(me["name"], json!("am-0"));
    set[0].kill().await;
}
