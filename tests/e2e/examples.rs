//! Every `examples/*.yml` loads and builds its notifiers, with each
//! `${VAR}` it names set to a value of the right shape.

use std::path::Path;
use std::sync::Arc;

/// A value for an example's variable: a URL where the name says URL or
/// hook, a plain token otherwise.
pub(crate) fn stand_in(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.contains("url") || lower.contains("hook") {
        "https://example.com/hook/x".to_owned()
    } else {
        "stand-in-secret".to_owned()
    }
}

#[test]
fn every_example_config_loads_and_builds() {
    crate::harness::init();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "{paths:?}");
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let env = |name: &str| Some(stand_in(name));
        let config = klaxon::config::Config::load_str(&text, &path, &env)
            .unwrap_or_else(|e| panic!("{} should load: {e}", path.display()));
        let templates = Arc::new(klaxon::template::Templates::builtin());
        let metrics = Arc::new(klaxon::metrics::Metrics::new());
        klaxon::notify::pipeline::build_receivers(&config.receivers, &templates, &metrics)
            .unwrap_or_else(|e| panic!("{} should build: {e}", path.display()));
    }
}

/// `examples/ha/`: each replica's command line is one klaxon accepts, they
/// all list the same peers, and those are the addresses they advertise;
/// the config loads.
#[test]
fn the_ha_example_is_one_consistent_cluster() {
    use clap::Parser;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ha");
    let compose = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    let mut replicas = Vec::new();
    for block in compose
        .split("\n  klaxon-")
        .skip(1)
        .filter(|b| b.contains("command:"))
    {
        let args: Vec<&str> = block
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- --"))
            .collect();
        let flags = klaxon::flags::Flags::try_parse_from(
            std::iter::once("klaxon".to_owned()).chain(args.iter().map(|a| format!("--{a}"))),
        )
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        replicas.push(flags.tuning().cluster.expect("a cluster member"));
    }
    assert_eq!(replicas.len(), 3);
    let advertised: std::collections::BTreeSet<_> =
        replicas.iter().map(|c| c.address.clone()).collect();
    for c in &replicas {
        let peers: std::collections::BTreeSet<_> = c.peers.iter().cloned().collect();
        assert_eq!(
            peers, advertised,
            "every replica lists every advertised address"
        );
        assert_eq!(c.label, "example");
    }
    let text = std::fs::read_to_string(dir.join("alertmanager.yml")).unwrap();
    let env = |name: &str| Some(stand_in(name));
    klaxon::config::Config::load_str(&text, &dir.join("alertmanager.yml"), &env).unwrap();
}
