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
