//! Loads every config of the shared corpus (real-world alertmanager.yml
//! files, never copied into this repo): supported ones must load after
//! their placeholders are filled as their entrypoints would; the others
//! must fail naming the unsupported integration and its line.

use std::path::{Path, PathBuf};

use klaxon::config::Config;
use regex::Regex;

pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/configs");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping corpus tests: {} not found", dir.display());
        None
    }
}

pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

/// A plausible value for a placeholder, as the corpus collectors'
/// `tools/substitute_placeholders.py` chose them.
pub(crate) fn dummy(name: &str) -> String {
    let n = name.to_uppercase();
    let v = if n.contains("RECEIVER") {
        "email-notifications"
    } else if n.contains("REQUIRE_TLS") || n.contains("SEND_RESOLVED") {
        "true"
    } else if n.contains("CHAT_ID") {
        "-1001234567890"
    } else if n.contains("SMARTHOST") || n.contains("SMTP_HOST") || n.contains("SMTP_SERVER") {
        "smtp.example.com:587"
    } else if n.contains("URL") || n == "TO_REPLACE" {
        "https://example.com/hook"
    } else if n.contains("EMAIL")
        || n.ends_with("_TO")
        || n.ends_with("_FROM")
        || n.contains("USER")
    {
        "alerts@example.com"
    } else if n.contains("TOKEN") {
        "123456:ABCDEF"
    } else {
        "dummy"
    };
    v.to_owned()
}

/// What the sed-based entrypoints do before Alertmanager starts; `${VAR}`
/// is left to klaxon's own expansion.
pub(crate) fn sed_placeholders(text: &str) -> String {
    let percent = Regex::new(r"%%([A-Z_]+)%%").unwrap();
    let under = Regex::new(r"__([A-Z][A-Z_]*[A-Z])__").unwrap();
    let text = percent.replace_all(text, |c: &regex::Captures| dummy(&c[1]));
    let text = under.replace_all(&text, |c: &regex::Captures| dummy(&c[1]));
    // 1Password's `op inject` references, filled before Alertmanager runs.
    let op = Regex::new(r"\{\{ op://[^}]*?([A-Za-z-]+) \}\}").unwrap();
    let text = op.replace_all(&text, |c: &regex::Captures| dummy(&c[1].replace('-', "_")));
    text.replace(
        "DISCORD_WEBHOOK_URL_PLACEHOLDER",
        "https://discord.com/api/webhooks/1/x",
    )
}

pub(crate) fn env(name: &str) -> Option<String> {
    Some(dummy(name))
}

/// Paths of `*_file:` values in the text.
pub(crate) fn file_refs(text: &str) -> Vec<String> {
    let re = Regex::new(r"(?m)^[ \t-]*[a-z_]+_file:\s*['\x22]?([^'\x22\s#]+)").unwrap();
    re.captures_iter(text).map(|c| c[1].to_owned()).collect()
}

pub(crate) fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn supported_corpus_configs_load() {
    let Some(dir) = corpus_dir() else { return };
    let mut loaded = 0;
    for path in files(&dir.join("supported")) {
        let file = name(&path);
        let text = sed_placeholders(&std::fs::read_to_string(&path).unwrap());
        if file.starts_with("07-") || file.starts_with("29-") {
            continue; // genuinely invalid, see invalid_corpus_configs_fail_naming_field_and_line
        }
        let refs = file_refs(&text);
        if refs.is_empty() {
            let config = Config::load_str(&text, &path, &env)
                .unwrap_or_else(|e| panic!("{file} should load: {e}"));
            // Building the notifiers checks what only they check (email TLS).
            crate::harness::init();
            let templates = std::sync::Arc::new(klaxon::template::Templates::builtin());
            let metrics = std::sync::Arc::new(klaxon::metrics::Metrics::new());
            klaxon::notify::pipeline::build_receivers(&config.receivers, &templates, &metrics)
                .unwrap_or_else(|e| panic!("{file} should build its notifiers: {e}"));
            loaded += 1;
            continue;
        }
        // The secret files are not here: Alertmanager starts anyway (they
        // are read at each send), and so does klaxon...
        if let Err(e) = Config::load_str(&text, &path, &env) {
            panic!("{file} should load without its secret files: {e}");
        }
        // ...and with them in place too.
        let tmp = tempfile::tempdir().unwrap();
        let mut text = text.clone();
        for (i, r) in refs.iter().enumerate() {
            let secret = tmp.path().join(format!("secret{i}"));
            std::fs::write(&secret, "https://discord.com/api/webhooks/1/x").unwrap();
            text = text.replace(r.as_str(), &secret.to_string_lossy());
        }
        if let Err(e) = Config::load_str(&text, &path, &env) {
            panic!("{file} should load with its secret files: {e}");
        }
        loaded += 1;
    }
    assert_eq!(loaded, 29);
}

#[test]
fn invalid_corpus_configs_fail_naming_field_and_line() {
    let Some(dir) = corpus_dir() else { return };
    for (prefix, fields) in [("07-", ["subject", "body"]), ("29-", ["title", "text"])] {
        let path = files(&dir.join("supported"))
            .into_iter()
            .find(|p| name(p).starts_with(prefix))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let err = Config::load_str(&text, &path, &env).unwrap_err();
        let field = err.field.clone().unwrap_or_default();
        let key = field.rsplit('.').next().unwrap();
        assert!(fields.contains(&key), "{prefix}: {err}");
        let line = err.line.expect("line") as usize;
        let source_line = text.lines().nth(line - 1).unwrap();
        assert!(
            source_line.trim_start().starts_with(&format!("{key}:")),
            "{prefix}: {err} / {source_line}"
        );
        assert!(err.to_string().contains(&format!(":{line}:")), "{err}");
    }
}

/// Alertmanager 0.25's verdict on a corpus file (`verdicts.tsv`): whether
/// it starts, as stored or after its placeholders are filled.
fn alertmanager_accepts(dir: &Path, file: &str) -> bool {
    let verdicts = std::fs::read_to_string(dir.join("../verdicts.tsv")).unwrap();
    let row = verdicts
        .lines()
        .find(|l| l.split('\t').next().is_some_and(|f| f.ends_with(file)))
        .unwrap_or_else(|| panic!("{file} has no verdict"));
    let cols: Vec<&str> = row.split('\t').collect();
    cols[3] == "PASS" || (cols[3] == "-" && cols[2] == "PASS")
}

#[test]
fn other_receiver_corpus_configs_load_as_alertmanager_does() {
    let Some(dir) = corpus_dir() else { return };
    let kinds = Regex::new(r"\b([a-z0-9]+_configs)\b").unwrap();
    let supported: Vec<&str> = klaxon::config::INTEGRATION_KINDS
        .iter()
        .map(|(key, _)| *key)
        .collect();
    let (mut loaded, mut refused) = (0, 0);
    for path in files(&dir.join("other-receivers")) {
        let file = name(&path);
        let text = sed_placeholders(&std::fs::read_to_string(&path).unwrap());
        let result = Config::load_str(&text, &path, &env);
        let unsupported: Vec<&str> = kinds
            .captures_iter(&text)
            .map(|c| c.get(1).unwrap().as_str())
            .filter(|k| !supported.contains(k))
            .collect();
        if !unsupported.is_empty() {
            // Still missing: refused, naming the integration and its line.
            let err = result.expect_err(&file);
            let shown = err.to_string();
            assert!(shown.contains("klaxon does not support"), "{file}: {shown}");
            let kind = &kinds.captures(&err.message).expect("a receiver type")[1];
            assert!(unsupported.contains(&kind), "{file}: {shown}");
            let line = err.line.expect("line") as usize;
            let source_line = text.lines().nth(line - 1).unwrap_or_default();
            assert!(
                source_line.contains(kind),
                "{file}: {shown} / {source_line}"
            );
            refused += 1;
        } else if alertmanager_accepts(&dir, &file) {
            let config = result.unwrap_or_else(|e| panic!("{file} should load: {e}"));
            crate::harness::init();
            let templates = std::sync::Arc::new(klaxon::template::Templates::builtin());
            let metrics = std::sync::Arc::new(klaxon::metrics::Metrics::new());
            klaxon::notify::pipeline::build_receivers(&config.receivers, &templates, &metrics)
                .unwrap_or_else(|e| panic!("{file} should build its notifiers: {e}"));
            loaded += 1;
        } else {
            // Refused for Alertmanager's reason (0.34's wording).
            let err = result.expect_err(&file);
            // 09 has two errors: a time range that ends before it starts
            // (which Alertmanager reports first) and a receiver-level
            // `send_resolved` (which it reports once that is fixed).
            let why = [
                ("07-", "no Slack API URL nor App token set"),
                ("09-", "unknown field `send_resolved`"),
            ]
            .iter()
            .find(|(prefix, _)| file.starts_with(prefix))
            .map(|(_, why)| *why)
            .unwrap_or_else(|| panic!("{file}: no expected reason for {err}"));
            assert!(err.to_string().contains(why), "{file}: {err}");
            assert!(err.line.is_some(), "{file}: {err}");
            refused += 1;
        }
    }
    eprintln!("other-receivers corpus: {loaded} load, {refused} refused");
    assert_eq!((loaded, refused), (7, 2), "as Alertmanager decides");
}
