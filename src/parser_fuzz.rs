//! Property tests over the parsers that take user input: matchers (both
//! modes), label names, durations, alert and silence JSON bodies and
//! `alertmanager.yml`. Arbitrary input must give a value or an error,
//! never a panic; a matcher that parsed prints back to one that parses
//! the same. A bounded run is part of `cargo test`; a long one:
//! `PROPTEST_CASES=100000 cargo test --lib parser_fuzz`.

use proptest::prelude::*;

use crate::api::models::{PostableAlert, PostableSilence};
use crate::config::Config;
use crate::labels::LabelName;
use crate::labels::NameMode;
use crate::matcher::{Matcher, Matchers};

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
