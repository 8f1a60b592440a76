//! Property tests over the parsers that take user input: matchers (all
//! modes), label names, durations, alert and silence JSON bodies,
//! `alertmanager.yml` (time intervals included), templates (compiled and
//! rendered, both flavours) and the web config. Arbitrary input must give a value or an error,
//! never a panic; a matcher that parsed prints back to one that parses
//! the same. A bounded run is part of `cargo test`; a long one:
//! `PROPTEST_CASES=100000 cargo test --lib parser_fuzz`.

use proptest::prelude::*;

use crate::api::models::{PostableAlert, PostableSilence};
use crate::config::Config;
use crate::labels::LabelName;
use crate::labels::NameMode;
use crate::matcher::{Matcher, Matchers};
use crate::template::{Data, Flavor, Templates};

/// Text near the grammar: matcher and YAML punctuation, quotes, escapes,
/// unicode, digits and units, so that the search reaches deep states.
fn near_grammar() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("=".to_owned()),
            Just("!=".to_owned()),
            Just("=~".to_owned()),
            Just("!~".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just(",".to_owned()),
            Just(" ".to_owned()),
            Just(":".to_owned()),
            Just("\n".to_owned()),
            Just("- ".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("ms".to_owned()),
            Just("h".to_owned()),
            Just("99999999999999999999".to_owned()),
            Just("é".to_owned()),
            Just("\u{0}".to_owned()),
            "[a-z_]{1,6}",
            "[0-9]{1,3}",
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn matchers_never_panic_and_print_back(text in near_grammar()) {
        for mode in [NameMode::Classic, NameMode::Utf8Strict, NameMode::Fallback] {
            let _ = Matchers::parse_in(&text, mode, "");
            let _ = Matcher::parse_in(&text, mode, "");
        }
        if let Ok(m) = Matcher::parse(&text) {
            let again = Matcher::parse(&m.to_string());
            prop_assert!(again.is_ok(), "{:?} printed as {:?} does not parse", text, m.to_string());
            prop_assert_eq!(again.unwrap().to_string(), m.to_string());
        }
        let _ = Matchers::parse(&text);
    }

    #[test]
    fn label_names_and_durations_never_panic(text in near_grammar()) {
        let _ = LabelName::parse(&text);
        let _ = crate::cli::parse_duration("--duration", &text);
        let _ = text.parse::<crate::config::Duration>();
    }

    #[test]
    fn alert_and_silence_bodies_never_panic(text in near_grammar(), wrap in any::<bool>()) {
        let body = if wrap {
            format!(r#"[{{"labels": {{"alertname": "{text}"}}, "startsAt": "{text}", "endsAt": "{text}"}}]"#)
        } else {
            text.clone()
        };
        let _ = serde_json::from_str::<Vec<PostableAlert<'_>>>(&body);
        let silence = format!(
            r#"{{"matchers": [{{"name": "{text}", "value": "{text}", "isRegex": {wrap}}}], "startsAt": "{text}", "endsAt": "{text}", "createdBy": "x", "comment": "y"}}"#
        );
        let _ = serde_json::from_str::<PostableSilence>(&silence);
    }

    #[test]
    fn configs_never_panic(text in near_grammar()) {
        let yaml = format!("route:\n  receiver: r\n  group_by: [{text}]\n  group_wait: {text}\n  matchers: ['{text}']\nreceivers:\n- name: r\n{text}");
        let _ = Config::load_str(&yaml, std::path::Path::new("alertmanager.yml"), &|_| None);
        let _ = Config::load_str(&text, std::path::Path::new("alertmanager.yml"), &|_| None);
    }
}

/// Text near Go's template grammar: actions, pipelines, the functions
/// Alertmanager adds, the fields of its data, and the recursion a
/// template can ask for.
fn near_template() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{{".to_owned()),
            Just("}}".to_owned()),
            Just("{{-".to_owned()),
            Just(" -}}".to_owned()),
            Just(" ".to_owned()),
            Just("|".to_owned()),
            Just("\"".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(".".to_owned()),
            Just("$".to_owned()),
            Just(":=".to_owned()),
            Just("range ".to_owned()),
            Just("if ".to_owned()),
            Just("else".to_owned()),
            Just("end".to_owned()),
            Just("with ".to_owned()),
            Just("define \"x\"".to_owned()),
            Just("template \"x\" .".to_owned()),
            Just("index ".to_owned()),
            Just("printf \"%s %d %v\" ".to_owned()),
            Just("toUpper ".to_owned()),
            Just("reReplaceAll \"(a\" \"b\" ".to_owned()),
            Just("join \",\" ".to_owned()),
            Just("safeHtml ".to_owned()),
            Just("humanizeDuration ".to_owned()),
            Just("tz \"Nowhere/Else\" ".to_owned()),
            Just(".Alerts".to_owned()),
            Just(".Labels.alertname".to_owned()),
            Just(".CommonAnnotations.SortedPairs".to_owned()),
            Just(".StartsAt".to_owned()),
            Just("99999999999999999999".to_owned()),
            "[a-z]{1,5}",
            "[0-9]{1,3}",
            any::<char>().prop_map(String::from),
        ],
        0..20,
    )
    .prop_map(|parts| parts.concat())
}

fn sample_data() -> Data {
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let alert = std::sync::Arc::new(crate::alert::Alert::for_test(
        &[("alertname", "Fuzz"), ("severity", "page")],
        &[("summary", "a <b>summary</b>")],
        at,
    ));
    Data::new(&crate::notification::Notification {
        receiver: "r".into(),
        group_key: "{}:{alertname=\"Fuzz\"}".into(),
        group_labels: [("alertname", "Fuzz")].into_iter().collect(),
        alerts: vec![alert],
        external_url: "http://klaxon:9093".into(),
        now: at,
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    })
}

proptest! {
    /// Compiling and rendering any text near the grammar gives a result or
    /// an error; a template that calls itself forever is cut off by the
    /// engine's depth limit, not the stack.
    #[test]
    fn templates_never_panic(text in near_template()) {
        let templates = Templates::default();
        let data = sample_data();
        for flavor in [Flavor::Text, Flavor::Html] {
            let _ = templates.check(&text, flavor);
            let _ = templates.render(&text, flavor, &data);
        }
    }

    /// The web config (TLS, basic auth, headers) from any text near YAML,
    /// whole or in each field: an error naming the file, never a panic.
    #[test]
    fn web_configs_never_panic(text in near_grammar()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        for body in [
            text.clone(),
            format!("basic_auth_users:\n  {text}: {text}\nhttp_server_config:\n  headers:\n    {text}: {text}\n"),
            format!("tls_server_config:\n  cert_file: {text}\n  key_file: x\n  min_version: {text}\n  cipher_suites: [{text}]\n  client_auth_type: {text}\n"),
        ] {
            std::fs::write(&path, body).unwrap();
            let _ = crate::web::WebSettings::load(&path);
        }
    }

    /// Time intervals: every field from near-grammar text.
    #[test]
    fn time_intervals_never_panic(text in near_grammar()) {
        let yaml = format!(
            "route:\n  receiver: r\n  routes:\n  - receiver: r\n    mute_time_intervals: [t]\nreceivers:\n- name: r\ntime_intervals:\n- name: t\n  time_intervals:\n  - times: [{{start_time: '{text}', end_time: '{text}'}}]\n    weekdays: ['{text}']\n    days_of_month: ['{text}']\n    months: ['{text}']\n    years: ['{text}']\n    location: '{text}'\n"
        );
        let _ = Config::load_str(&yaml, std::path::Path::new("alertmanager.yml"), &|_| None);
    }
}

/// The recursion the generator may not happen upon: a template that
/// calls itself without end is an error, not a stack overflow.
#[test]
fn a_template_calling_itself_forever_is_an_error() {
    let text = r#"{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}"#;
    let err = Templates::default()
        .render(text, Flavor::Text, &sample_data())
        .expect_err("endless recursion must fail");
    assert!(!err.to_string().is_empty());
}
