//! Alertmanager's own acceptance suite, run against klaxon.
//!
//! Debian's `golang-github-prometheus-alertmanager-dev` ships Alertmanager's
//! source with its acceptance tests (`test/with_api_v2/acceptance/`, which
//! drive the server over API v2, and `test/cli/acceptance/`, which drive it
//! with amtool). Their harnesses start the server binary with Alertmanager's
//! flags. This test copies that tree, patches the harness in three places,
//! builds the two test binaries offline with Debian's Go in GOPATH mode and
//! runs them with klaxon as the server:
//! - Debian's copy passes `--template.default` and `--web.ui-path`, which
//!   Alertmanager itself rejects; dropping them gives back upstream's list.
//! - The server and amtool paths come from `$GOPATH/bin`; they are read from
//!   `KLAXON_ACCEPTANCE_SERVER` and `KLAXON_ACCEPTANCE_AMTOOL` instead.
//!
//! amtool warns on stderr when its version differs from the server's, which
//! the cli harness reads as output; klaxon reports its own version, so the
//! run gives amtool a config file (in a temporary `$HOME`) that turns the
//! check off, as a user of a newer or older amtool would.
//!
//! Every test must pass, the cluster ones too ([`CLUSTER_TESTS`]: three
//! servers started with each other as `--cluster.peer`, where klaxon's
//! replicas must send one notification between them); those run with a
//! shorter timeout, as a cluster that never forms would hang them.
//!
//! The Go build cache lives in the cargo target directory
//! (`target/acceptance-gocache`), so only the first run compiles Alertmanager
//! (about 80 s on two cores); later runs link in seconds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::peer;

/// Where Debian's package puts Alertmanager's source.
const GOCODE: &str = "/usr/share/gocode";
const SOURCE: &str = "/usr/share/gocode/src/github.com/prometheus/alertmanager";

/// Tests that start several servers as one cluster.
const CLUSTER_TESTS: &[&str] = &["TestClusterDeduplication", "TestClusterVSInstance"];

/// Bound for each `go test` binary run: the suite's slowest test takes about
/// 26 s; the cluster tests (13 s against Alertmanager 0.25) can hang when a
/// member never joins.
const SUITE_TIMEOUT: Duration = Duration::from_secs(240);
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Skip,
}

#[tokio::test]
async fn alertmanager_acceptance_suite_passes_against_klaxon() {
    let started = Instant::now();
    let Some(go) = peer("go") else { return };
    let Some(amtool) = peer("amtool") else { return };
    if !Path::new(SOURCE)
        .join("test/with_api_v2/acceptance.go")
        .is_file()
    {
        let required = std::env::var("KLAXON_REQUIRE_PEERS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{SOURCE} is required (KLAXON_REQUIRE_PEERS=1): apt-get install golang-github-prometheus-alertmanager-dev"
        );
        eprintln!(
            "SKIPPED: Alertmanager's Go source not installed (apt-get install golang-github-prometheus-alertmanager-dev)"
        );
        return;
    }

    let work = tempfile::tempdir().expect("work dir");
    let gopath = work.path().join("gopath");
    let copy = gopath.join("src/github.com/prometheus/alertmanager");
    copy_tree(Path::new(SOURCE), &copy);
    for harness in ["test/with_api_v2/acceptance.go", "test/cli/acceptance.go"] {
        patch_harness(&copy.join(harness));
    }
    let home = work.path().join("home");
    std::fs::create_dir_all(home.join(".config/prometheus")).expect("home");
    std::fs::write(
        home.join(".config/prometheus/amtool.yml"),
        "version-check: false\n",
    )
    .expect("amtool.yml");

    let gocache = target_dir().join("acceptance-gocache");
    let go_env = GoEnv {
        go,
        gopath: format!("{}:{GOCODE}", gopath.display()),
        gocache,
        home,
        amtool,
    };
    let build_started = Instant::now();
    let api = go_env
        .compile(&copy.join("test/with_api_v2/acceptance"), work.path())
        .await;
    let cli = go_env
        .compile(&copy.join("test/cli/acceptance"), work.path())
        .await;
    eprintln!("acceptance: built in {:?}", build_started.elapsed());

    let non_cluster = format!("^({})$", {
        let listed = go_env.list(&api, work.path()).await;
        listed
            .into_iter()
            .filter(|t| !CLUSTER_TESTS.contains(&t.as_str()))
            .collect::<Vec<_>>()
            .join("|")
    });
    let cluster = format!("^({})$", CLUSTER_TESTS.join("|"));
    // The API tests check notification times within a tolerance, so they
    // run alone; the short amtool tests share their time with the cluster
    // tests, which may hang until their timeout.
    let mut results = go_env
        .run(&api, &non_cluster, SUITE_TIMEOUT, work.path())
        .await;
    let (mut cli_results, mut cluster_results) = tokio::join!(
        go_env.run(&cli, ".*", SUITE_TIMEOUT, work.path()),
        go_env.run(&api, &cluster, CLUSTER_TIMEOUT, work.path()),
    );
    // These tests expect a notification within a second or two of a
    // server's start; on a loaded 2-core machine (the other e2e tests run
    // beside this one) that can slip. A failed test runs once more, alone,
    // and must pass then.
    for (binary, list) in [
        (&api, &mut results),
        (&cli, &mut cli_results),
        (&api, &mut cluster_results),
    ] {
        let failed: Vec<String> = list
            .iter()
            .filter(|(_, o)| **o == Outcome::Fail)
            .map(|(n, _)| n.clone())
            .collect();
        if failed.is_empty() {
            continue;
        }
        eprintln!("acceptance: running {failed:?} again, alone");
        let again = go_env
            .run(
                binary,
                &format!("^({})$", failed.join("|")),
                SUITE_TIMEOUT,
                work.path(),
            )
            .await;
        for (name, outcome) in again {
            if let Some(o) = list.get_mut(&name) {
                *o = outcome;
            }
        }
    }
    results.extend(cli_results);
    results.extend(cluster_results);

    eprintln!("acceptance results ({:?} in all):", started.elapsed());
    for (name, outcome) in &results {
        eprintln!("  {outcome:?}\t{name}");
    }
    assert!(
        results.len() >= 17,
        "too few acceptance tests reported a result: {results:?}"
    );
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, o)| **o == Outcome::Fail)
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "acceptance tests failed against klaxon: {failed:?} (output in {}/acceptance-*.log)",
        target_dir().display()
    );
    for name in CLUSTER_TESTS {
        assert_eq!(
            results.get(*name),
            Some(&Outcome::Pass),
            "{name} must run and pass"
        );
    }
}

struct GoEnv {
    go: PathBuf,
    gopath: String,
    gocache: PathBuf,
    home: PathBuf,
    amtool: PathBuf,
}

impl GoEnv {
    fn command(&self, program: &Path, dir: &Path) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.current_dir(dir)
            .env("GO111MODULE", "off")
            .env("GOPATH", &self.gopath)
            .env("GOCACHE", &self.gocache)
            .env("GOFLAGS", "")
            .env("HOME", &self.home)
            .env("KLAXON_ACCEPTANCE_SERVER", env!("CARGO_BIN_EXE_klaxon"))
            .env("KLAXON_ACCEPTANCE_AMTOOL", &self.amtool)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so a timeout also ends the servers
            // the suite started.
            .process_group(0);
        cmd
    }

    /// `go test -c`: one test binary for the package.
    async fn compile(&self, package: &Path, out_dir: &Path) -> PathBuf {
        let name = package
            .parent()
            .and_then(|p| p.file_name())
            .expect("package name")
            .to_string_lossy()
            .into_owned();
        let out = out_dir.join(format!("{name}.test"));
        let output = bounded(
            self.command(&self.go, package)
                .args(["test", "-c", "-o"])
                .arg(&out)
                .arg("."),
            Duration::from_secs(600),
        )
        .await
        .expect("go test -c finished in time");
        assert!(
            output.status.success(),
            "go test -c {}: {}",
            package.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        out
    }

    async fn list(&self, binary: &Path, dir: &Path) -> Vec<String> {
        let output = bounded(
            self.command(binary, dir).args(["-test.list", ".*"]),
            Duration::from_secs(30),
        )
        .await
        .expect("test list in time");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.starts_with("Test"))
            .map(str::to_owned)
            .collect()
    }

    /// Runs the tests matching `pattern`; a test the timeout cut short is
    /// reported as failed.
    async fn run(
        &self,
        binary: &Path,
        pattern: &str,
        timeout: Duration,
        dir: &Path,
    ) -> BTreeMap<String, Outcome> {
        let go_timeout = format!("{}s", timeout.as_secs().saturating_sub(5));
        let mut cmd = self.command(binary, dir);
        cmd.args(["-test.v", "-test.count", "1", "-test.timeout", &go_timeout])
            .args(["-test.run", pattern]);
        let output = bounded(&mut cmd, timeout).await;
        let stdout = match &output {
            Some(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            None => String::new(),
        };
        let mut results = parse_results(&stdout);
        // The full output (servers' logs included) of the last run, for a
        // failure's details.
        let name = binary.file_stem().unwrap_or_default().to_string_lossy();
        let cluster = if pattern.contains("Cluster") {
            "-cluster"
        } else {
            ""
        };
        let _ = std::fs::write(
            target_dir().join(format!("acceptance-{name}{cluster}.log")),
            &stdout,
        );
        for started in stdout
            .lines()
            .filter_map(|l| l.strip_prefix("=== RUN   "))
            .filter(|n| !n.contains('/'))
        {
            results.entry(started.to_owned()).or_insert(Outcome::Fail);
        }
        if results.is_empty() {
            eprintln!("{stdout}");
        }
        results
    }
}

/// Runs a command to completion or kills its process group at `timeout`.
async fn bounded(
    cmd: &mut tokio::process::Command,
    timeout: Duration,
) -> Option<std::process::Output> {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let group = child.id();
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => {
            kill_group(group);
            Some(output.expect("wait"))
        }
        Err(_) => {
            kill_group(group);
            None
        }
    }
}

/// Ends whatever the run left behind (servers started by a test that
/// panicked). The group is the one `process_group(0)` created.
fn kill_group(group: Option<u32>) {
    if let Some(pid) = group {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Top-level results of `go test -v`: `--- PASS: TestX (1.00s)`.
fn parse_results(stdout: &str) -> BTreeMap<String, Outcome> {
    stdout
        .lines()
        .filter_map(|line| {
            let (outcome, rest) = if let Some(r) = line.strip_prefix("--- PASS: ") {
                (Outcome::Pass, r)
            } else if let Some(r) = line.strip_prefix("--- FAIL: ") {
                (Outcome::Fail, r)
            } else if let Some(r) = line.strip_prefix("--- SKIP: ") {
                (Outcome::Skip, r)
            } else {
                return None;
            };
            let name = rest.split_whitespace().next()?;
            Some((name.to_owned(), outcome))
        })
        .collect()
}

fn patch_harness(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read harness");
    let patched: String = text
        .lines()
        .filter(|l| !l.contains("\"--template.default\"") && !l.contains("\"--web.ui-path\""))
        .map(|l| {
            l.replace(
                r#"filepath.Join(os.Getenv("GOPATH"), "bin/prometheus-alertmanager")"#,
                r#"os.Getenv("KLAXON_ACCEPTANCE_SERVER")"#,
            )
            .replace(
                r#"filepath.Join(os.Getenv("GOPATH"), "bin/amtool")"#,
                r#"os.Getenv("KLAXON_ACCEPTANCE_AMTOOL")"#,
            ) + "\n"
        })
        .collect();
    assert!(
        patched.contains("KLAXON_ACCEPTANCE_SERVER"),
        "{}: the server path was not found to patch",
        path.display()
    );
    std::fs::write(path, patched).expect("write harness");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read link");
            std::os::unix::fs::symlink(link, &target).expect("symlink");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The cargo target directory: the klaxon binary is `<target>/debug/klaxon`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_klaxon"))
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

#[test]
fn go_test_output_is_parsed_per_test() {
    let out = "=== RUN   TestA\n--- PASS: TestA (0.10s)\n=== RUN   TestB\n    x_test.go:1: boom\n--- FAIL: TestB (2.00s)\n    --- PASS: TestB/sub (0.01s)\n--- SKIP: TestC (0.00s)\nFAIL\n";
    let parsed = parse_results(out);
    assert_eq!(parsed.get("TestA"), Some(&Outcome::Pass));
    assert_eq!(parsed.get("TestB"), Some(&Outcome::Fail));
    assert_eq!(parsed.get("TestC"), Some(&Outcome::Skip));
    assert_eq!(parsed.len(), 3);
}
