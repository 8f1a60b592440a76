//! The README's promises: its first command's config delivers somewhere
//! visible (the built-in sink, into klaxon's log) when a test alert is
//! posted the way the README says, and every config snippet it shows is a
//! whole config that loads.
//!
//! Snippet convention: a ```yaml block is an `alertmanager.yml` unless its
//! first line is a comment naming another file — `# amctl settings`,
//! `# web config` (`--web.config.file`) or `# prometheus.yml` — which are
//! checked by their own loaders (or, for Prometheus' file, parsed as YAML
//! and checked by `promtool` in the peer tests).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{BinaryServer, PLAIN_CONFIG, client, eventually, run_tool};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Each ```yaml block of the README, with the line it starts on.
fn yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match current.take() {
            None if line.trim_start().starts_with("```yaml") => {
                current = Some((i + 1, String::new()))
            }
            None => {}
            Some(block) if fence => out.push(block),
            Some((at, mut body)) => {
                body.push_str(line);
                body.push('\n');
                current = Some((at, body));
            }
        }
    }
    out
}

#[test]
fn every_config_snippet_in_the_readme_loads() {
    crate::harness::init();
    let text = readme();
    let blocks = yaml_blocks(&text);
    assert!(blocks.len() >= 3, "{} yaml blocks", blocks.len());
    let mut configs = 0;
    for (line, body) in blocks {
        let first = body.lines().next().unwrap_or("").trim();
        let at = format!("README.md:{line}");
        if first.starts_with("# amctl settings") {
            serde_saphyr::from_str::<std::collections::BTreeMap<String, Value>>(&body)
                .unwrap_or_else(|e| panic!("{at}: amctl settings: {e}"));
        } else if first.starts_with("# web config") {
            // The snippet's files, made real in a directory of its own.
            let dir = tempfile::tempdir().unwrap();
            let (cert, key) = crate::harness::TestCa::new("readme").issue(&["localhost"]);
            std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
            std::fs::write(dir.path().join("tls.key"), key).unwrap();
            let path = dir.path().join("web.yml");
            let local = format!("{}/", dir.path().display());
            // The password hash is a placeholder in the README (`$2y$10$...`).
            let hash = bcrypt::hash("readme", 4).unwrap();
            let body = body
                .replace("/etc/klaxon/", &local)
                .replace("$2y$10$...", &hash);
            std::fs::write(&path, body).unwrap();
            klaxon::web::WebSettings::load(&path)
                .unwrap_or_else(|e| panic!("{at}: web config: {e}"));
        } else if first.starts_with("# prometheus.yml") {
            serde_saphyr::from_str::<std::collections::BTreeMap<String, Value>>(&body)
                .unwrap_or_else(|e| panic!("{at}: prometheus.yml: {e}"));
        } else {
            let env = |name: &str| Some(crate::examples::stand_in(name));
            let config = klaxon::config::Config::load_str(&body, Path::new(&at), &env)
                .unwrap_or_else(|e| panic!("{at} should be a whole config: {e}"));
            let templates = Arc::new(klaxon::template::Templates::builtin());
            let metrics = Arc::new(klaxon::metrics::Metrics::new());
            klaxon::notify::pipeline::build_receivers(&config.receivers, &templates, &metrics)
                .unwrap_or_else(|e| panic!("{at} should build: {e}"));
            configs += 1;
        }
    }
    assert!(configs >= 2, "{configs} alertmanager.yml snippets");
}

/// Text outside ``` fences, where links are links.
fn prose(text: &str) -> String {
    text.split("```").step_by(2).collect::<Vec<_>>().join("\n")
}

/// GitHub's anchors for a Markdown file's headings.
fn anchors(text: &str) -> std::collections::BTreeSet<String> {
    prose(text)
        .lines()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('#'))
        })
        .map(|h| {
            h.trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// Every relative link of the README and of `docs/*.md` names a file
/// that exists and, with `#…`, a heading of it.
#[test]
fn relative_links_of_the_readme_and_docs_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        files.push(e.unwrap().path());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = prose(&text);
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let link = &rest[..rest.find(')').unwrap_or(0)];
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            assert!(target.exists(), "{}: {link} is missing", file.display());
            if !fragment.is_empty() {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                assert!(
                    headings.contains(fragment),
                    "{}: {link} names no heading",
                    file.display()
                );
            }
        }
    }
}

async fn amctl(base: &str, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let url = format!("--alertmanager.url={base}");
    let mut all = vec![url.as_str()];
    all.extend_from_slice(args);
    let amctl = Path::new(env!("CARGO_BIN_EXE_amctl"));
    run_tool(amctl, &all, home.path(), &[], b"", Duration::from_secs(30)).await
}

/// The README's first minutes: klaxon on `examples/alertmanager.yml`, a
/// test alert posted with `amctl alert add`, a test notification with
/// `amctl receiver test` — both arrive at the built-in sink, whose log line
/// says so, and the history lists them as sent.
#[tokio::test]
async fn the_example_config_delivers_to_the_sink_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start_logged(dir.path(), &[]).await;
    // The example points at the default port; this server has its own.
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alertmanager.yml"),
    )
    .unwrap();
    assert!(example.contains("http://127.0.0.1:9093/api/klaxon/sink"));
    let port = server.base.rsplit(':').next().unwrap();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        example.replace("127.0.0.1:9093", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let reload = client().post(server.url("/-/reload")).send().await.unwrap();
    assert_eq!(reload.status(), 200, "{:?}", reload.text().await);

    let added = amctl(
        &server.base,
        &["alert", "add", "alertname=HelloKlaxon", "severity=info"],
    )
    .await;
    assert!(added.status.success(), "{added:?}");
    let tested = amctl(&server.base, &["receiver", "test", "default"]).await;
    assert!(tested.status.success(), "{tested:?}");

    let log = dir.path().join("klaxon.log");
    eventually(
        Duration::from_secs(30),
        "both notifications in the log",
        || async {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let sink_lines: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("notification received by the sink"))
                .collect();
            (sink_lines.iter().any(|l| l.contains("HelloKlaxon"))
                && sink_lines
                    .iter()
                    .any(|l| l.contains("KlaxonTestNotification")))
            .then_some(())
        },
    )
    .await;
    let history = server.get_json("/api/klaxon/notifications").await;
    let to_the_sink: Vec<(&Value, &Value)> = history["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["receiver"] == "default" && n["integration"] == "webhook")
        .map(|n| (&n["reason"], &n["outcome"]))
        .collect();
    assert!(
        to_the_sink
            .iter()
            .any(|(r, o)| *r != "test" && *o == "success")
            && to_the_sink
                .iter()
                .any(|(r, o)| *r == "test" && *o == "success"),
        "the alert's and the test's notifications were delivered: {history}"
    );
}

/// The sink refuses what is not a webhook payload with a 400 saying so,
/// and takes a minimal one.
#[tokio::test]
async fn the_sink_refuses_bad_payloads() {
    let s = crate::harness::TestServer::start(PLAIN_CONFIG).await;
    for bad in ["not json", "[1, 2]", r#"{"alerts": "no"}"#] {
        let r = s
            .client
            .post(s.url("/api/klaxon/sink"))
            .header("Content-Type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().await.unwrap().contains("webhook payload"), "{bad}");
    }
    // Valid JSON with an absurd count: logged, not an overflow.
    let huge = s
        .post_json(
            "/api/klaxon/sink",
            &serde_json::json!({"alerts": [{"status": "firing"}], "truncatedAlerts": u64::MAX}),
        )
        .await;
    assert_eq!(huge.status(), 200);
    let too_big = s
        .client
        .post(s.url("/api/klaxon/sink"))
        .header("Content-Type", "application/json")
        .body(vec![b' '; 5 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let ok = s
        .post_json(
            "/api/klaxon/sink",
            &serde_json::json!({"version": "4", "status": "firing", "alerts": []}),
        )
        .await;
    assert_eq!(ok.status(), 200);
}
