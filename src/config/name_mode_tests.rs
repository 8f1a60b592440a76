//! Label names and matchers in the config under each `--enable-feature`
//! mode: quoted UTF-8 names in route and inhibit matchers, `group_by` and
//! `equal`, and errors that name the field and line.

use std::path::Path;

use super::Config;
use crate::labels::NameMode;

fn load(text: &str, mode: NameMode) -> Result<Config, super::ConfigError> {
    Config::load_str_in(text, Path::new("am.yml"), &|_| None, mode)
}

const UTF8: &str = r#"route:
  receiver: team
  group_by: [service.name]
  routes:
  - receiver: team
    matchers: ['"service.name"="api"', 'service.version=~"1\\..*"']
inhibit_rules:
- source_matchers: ['"service.name"="db"']
  target_matchers: ['{"service.name"="api", severity="warning"}']
  equal: [k8s.cluster.name]
receivers:
- name: team
"#;

#[test]
fn quoted_utf8_names_load_in_the_default_and_strict_modes() {
    for mode in [NameMode::Fallback, NameMode::Utf8Strict] {
        let c = load(UTF8, mode).unwrap();
        let child = &c.route.routes[0];
        assert_eq!(
            child.matchers.to_string(),
            r#"{service.name="api",service.version=~"1\\..*"}"#
        );
        let rule = &c.inhibit_rules[0];
        assert_eq!(rule.source_matchers.to_string(), r#"{service.name="db"}"#);
        assert_eq!(
            rule.target_matchers.to_string(),
            r#"{service.name="api",severity="warning"}"#
        );
        assert_eq!(
            c.route.group_by.as_deref(),
            Some(&["service.name".to_owned()][..])
        );
        // The status page's config shows the parsed matchers.
        assert!(
            c.original().contains(r#"service.name="api""#),
            "{}",
            c.original()
        );
    }
}

#[test]
fn classic_mode_refuses_utf8_names_naming_the_field_and_line() {
    let e = load(UTF8, NameMode::Classic).unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("route.routes[0].matchers[0]"),
        "{e}"
    );
    assert_eq!(e.line, Some(6), "{e}");
    assert!(
        e.message
            .contains(r#"bad matcher format: "service.name"="api""#),
        "{e}"
    );

    let group_by =
        "route:\n  receiver: team\n  group_by: [service.name]\nreceivers:\n- name: team\n";
    let e = load(group_by, NameMode::Classic).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("route.group_by[0]"), "{e}");
    assert!(load(group_by, NameMode::Fallback).is_ok());

    let equal = "route:\n  receiver: team\ninhibit_rules:\n- equal: [k8s.cluster]\nreceivers:\n- name: team\n";
    let e = load(equal, NameMode::Classic).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("inhibit_rules[0].equal[0]"), "{e}");
    assert!(load(equal, NameMode::Fallback).is_ok());
}

#[test]
fn the_default_mode_still_reads_classic_only_matchers() {
    let text = "route:\n  receiver: team\n  routes:\n  - receiver: team\n    matchers: ['foo=~a\\d+']\nreceivers:\n- name: team\n";
    let c = load(text, NameMode::Fallback).unwrap();
    assert_eq!(c.route.routes[0].matchers.to_string(), r#"{foo=~"a\\d+"}"#);
    let e = load(text, NameMode::Utf8Strict).unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("route.routes[0].matchers[0]"),
        "{e}"
    );
    assert!(e.message.contains("invalid input"), "{e}");
}

#[test]
fn bad_names_and_unclosed_quotes_are_errors_at_their_field() {
    let cases = [
        (r#"'"service.name=api'"#, "bad matcher format"),
        (r#"'""="x"'"#, r#"invalid label name """#),
        (r#"'a="b'"#, "unescaped double quote"),
    ];
    for (matcher, needle) in cases {
        let text = format!(
            "route:\n  receiver: team\n  routes:\n  - receiver: team\n    matchers: [{matcher}]\nreceivers:\n- name: team\n"
        );
        let e = load(&text, NameMode::Fallback).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("route.routes[0].matchers[0]"),
            "{e}"
        );
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains(needle), "{matcher}: {e}");
    }
    let e = load(
        "route:\n  receiver: team\ninhibit_rules:\n- target_matchers: ['\"a.b=c']\nreceivers:\n- name: team\n",
        NameMode::Utf8Strict,
    )
    .unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("inhibit_rules[0].target_matchers[0]"),
        "{e}"
    );
    assert!(e.message.contains("missing end"), "{e}");
}
