//! Unit tests of loading, checking and falling back: errors with their
//! line, the cache, `templates:` overrides, and render failures.

use prometheus_client::metrics::counter::Counter;

use super::tests::firing;
use super::*;

#[test]
fn syntax_errors_and_unknown_functions_are_found_at_check_with_their_line() {
    let t = Templates::builtin();
    let cases = [
        ("{{ .Status ", 1, "unclosed"),
        ("ok\n{{ if .Status }}", 2, "unexpected EOF"),
        (
            "{{ with .Status }}{{ end }}\n{{- end }}rest",
            2,
            "unexpected {{end}}",
        ),
        ("a\n{{ else }}", 2, "unexpected {{else}}"),
        (
            "{{ \"}}{{end}}\" }}{{/* {{ end }} */}}{{ if true }}{{ end }}",
            0,
            "",
        ),
        (
            "line1\nline2\n{{ nope .Status }}",
            3,
            "function \"nope\" not defined",
        ),
        ("{{ if false }}{{ toupper .Status }}{{ end }}", 1, "toupper"),
    ];
    for (text, line, needle) in cases {
        if line == 0 {
            assert!(t.check(text, Flavor::Text).is_ok(), "{text}");
            continue;
        }
        match t.check(text, Flavor::Text) {
            Err(TemplateError::Parse {
                origin,
                line: l,
                message,
            }) => {
                assert_eq!(origin, "inline");
                assert_eq!(l, Some(line), "{text}: {message}");
                assert!(message.contains(needle), "{text}: {message}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(t.check("{{ .Status }}", Flavor::Html).is_ok());
}

#[test]
fn check_caches_what_render_uses() {
    let t = Templates::builtin();
    t.check("{{ .Status }}", Flavor::Text).unwrap();
    t.check("{{ .Status }}", Flavor::Html).unwrap();
    // The integrations' defaults are compiled at load.
    let warm = DEFAULTS.len();
    assert_eq!(t.lock_cache().len(), warm + 2);
    assert_eq!(
        t.render("{{ .Status }}", Flavor::Text, &firing()).unwrap(),
        "firing"
    );
    assert_eq!(t.lock_cache().len(), warm + 2);
    // Plain text never reaches the engine.
    assert_eq!(t.render("plain", Flavor::Text, &firing()).unwrap(), "plain");
    assert_eq!(t.lock_cache().len(), warm + 2);
}

#[test]
fn a_render_error_falls_back_to_the_default_and_is_counted() {
    let t = Templates::builtin();
    let counter = Counter::default();
    t.count_failures_in(counter.clone());
    let out = t.render_or_default(
        "receivers[0].discord_configs[0].title",
        r#"{{ template "does.not.exist" . }}"#,
        DISCORD_TITLE,
        Flavor::Text,
        &firing(),
    );
    assert_eq!(out, "[FIRING:1] DiscordTest (db1 critical)");
    assert_eq!(t.render_failures(), 1);
    assert_eq!(counter.get(), 1);
    let ok = t.render_or_default("f", "{{ .Status }}", DISCORD_TITLE, Flavor::Text, &firing());
    assert_eq!(ok, "firing");
    assert_eq!(t.render_failures(), 1);
}

#[test]
fn templates_files_override_defaults_and_layouts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("custom.tmpl"),
        r#"{{ define "discord.default.title" }}custom {{ .Status }}{{ end }}
{{ define "mine" }}{{ .Receiver | toUpper }}{{ end }}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("email.subject.hbs"), "Mail: {{status}}\n").unwrap();
    std::fs::write(dir.path().join("broken.hbs.txt"), "ignored by the glob").unwrap();
    let t = Templates::load(&["*.tmpl".into(), "*.hbs".into()], dir.path()).unwrap();
    let data = firing();
    let r = |text: &str| t.render(text, Flavor::Text, &data).unwrap();
    assert_eq!(r(DISCORD_TITLE), "custom firing");
    assert_eq!(r(r#"{{ template "mine" . }}"#), "TEAM X");
    assert_eq!(r(EMAIL_SUBJECT), "Mail: firing");
    assert_eq!(
        r(r#"{{ template "__subject" . }}"#),
        "[FIRING:1] DiscordTest (db1 critical)"
    );
    // A glob matching nothing is fine, as in Alertmanager.
    assert!(Templates::load(&["nothing/*.tmpl".into()], dir.path()).is_ok());
}

#[test]
fn broken_templates_files_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tmpl");
    std::fs::write(&path, "{{ define \"x\" }}\nok\n{{ .Status | }}\n{{ end }}").unwrap();
    match Templates::load(&["bad.tmpl".into()], dir.path()) {
        Err(TemplateError::Parse { origin, line, .. }) => {
            assert_eq!(origin, path.display().to_string());
            assert_eq!(line, Some(3));
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&path, "{{ define \"x\" }}\n{{ noSuchFunc }}{{ end }}").unwrap();
    match Templates::load(&["bad.tmpl".into()], dir.path()) {
        Err(TemplateError::Parse { line, message, .. }) => {
            assert_eq!(line, Some(2));
            assert!(message.contains("noSuchFunc"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&path).unwrap();
    std::fs::write(dir.path().join("discord.title.hbs"), "{{#if}}").unwrap();
    assert!(matches!(
        Templates::load(&["*.hbs".into()], dir.path()),
        Err(TemplateError::Parse { .. })
    ));
}

#[test]
fn a_broken_user_redefinition_of_a_default_still_sends_klaxons_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.tmpl"),
        r#"{{ define "discord.default.title" }}{{ template "gone" . }}{{ end }}"#,
    )
    .unwrap();
    let t = Templates::load(&["x.tmpl".into()], dir.path()).unwrap();
    let out = t.render_or_default(
        "title",
        DISCORD_TITLE,
        DISCORD_TITLE,
        Flavor::Text,
        &firing(),
    );
    assert_eq!(out, "[FIRING:1] DiscordTest (db1 critical)");
}

#[test]
fn the_builtin_set_compiles_every_embedded_file() {
    Layouts::builtin().unwrap();
    let known = known_funcs();
    for (name, text) in layouts::GO_DEFAULTS {
        go::parse(name, text, &known).unwrap();
    }
    // Every function the check accepts exists at render time.
    let t = Templates::builtin();
    for f in functions::GO_BUILTINS
        .iter()
        .chain(functions::ALERTMANAGER_FUNCS)
    {
        let err = t
            .render(&format!("{{{{ {f} }}}}"), Flavor::Text, &firing())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!err.contains("undefined function"), "{f}: {err}");
    }
}

#[test]
fn a_missing_template_is_a_render_error_not_a_load_error_as_in_alertmanager() {
    let t = Templates::builtin();
    for flavor in [Flavor::Text, Flavor::Html] {
        t.check(r#"{{ template "defined.elsewhere" . }}"#, flavor)
            .unwrap();
        assert!(
            t.render(r#"{{ template "defined.elsewhere" . }}"#, flavor, &firing())
                .is_err()
        );
    }
    let err = t
        .check(
            r#"<a href="{{ if .Status }}/x?a={{ else }}/y/{{ end }}{{ .Receiver }}">"#,
            Flavor::Html,
        )
        .unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

#[test]
fn templates_are_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Templates>();
}
