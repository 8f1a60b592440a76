//! The parsers against the cases of Alertmanager 0.34's own tests
//! (`matcher/parse/parse_test.go`, `matcher/compat/parse_test.go`,
//! `pkg/labels/parse_test.go`): input → matchers, or the exact error.

use super::*;

type Expected<'a> = Result<&'a [(&'a str, &'a str, &'a str)], &'a str>;

fn show(ms: &[Matcher]) -> Vec<(String, String, String)> {
    ms.iter()
        .map(|m| (m.name.clone(), m.kind.as_str().to_owned(), m.value.clone()))
        .collect()
}

fn check(what: &str, input: &str, got: Result<Vec<Matcher>, MatcherError>, want: Expected<'_>) {
    match (got, want) {
        (Ok(got), Ok(want)) => {
            let want: Vec<_> = want
                .iter()
                .map(|(n, o, v)| (n.to_string(), o.to_string(), v.to_string()))
                .collect();
            assert_eq!(show(&got), want, "{what}: {input:?}");
        }
        (Err(e), Err(want)) => assert_eq!(e.to_string(), want, "{what}: {input:?}"),
        (got, want) => panic!("{what}: {input:?}: got {got:?}, want {want:?}"),
    }
}

const FOO_BAR: &[(&str, &str, &str)] = &[("foo", "=", "bar")];

#[test]
fn the_utf8_parser_reads_matcher_lists_as_alertmanager() {
    let cases: &[(&str, Expected<'_>)] = &[
        ("", Ok(&[])),
        ("{}", Ok(&[])),
        ("{foo=bar}", Ok(FOO_BAR)),
        ("{foo=bar,}", Ok(FOO_BAR)),
        ("{foo!=bar}", Ok(&[("foo", "!=", "bar")])),
        ("{foo=~[a-z]+}", Ok(&[("foo", "=~", "[a-z]+")])),
        ("{foo!~[a-z]+}", Ok(&[("foo", "!~", "[a-z]+")])),
        ("{foo=🙂}", Ok(&[("foo", "=", "🙂")])),
        ("{foo=🙂bar}", Ok(&[("foo", "=", "🙂bar")])),
        ("foo=bar", Ok(FOO_BAR)),
        ("foo=bar,", Ok(FOO_BAR)),
        ("foo!=bar", Ok(&[("foo", "!=", "bar")])),
        ("foo=~[a-z]+", Ok(&[("foo", "=~", "[a-z]+")])),
        ("foo!~[a-z]+", Ok(&[("foo", "!~", "[a-z]+")])),
        (r#"{"foo"="bar"}"#, Ok(FOO_BAR)),
        (r#"{"foo"="bar",}"#, Ok(FOO_BAR)),
        (r#"{"foo"!="bar"}"#, Ok(&[("foo", "!=", "bar")])),
        (r#"{"foo"=~"[a-z]+"}"#, Ok(&[("foo", "=~", "[a-z]+")])),
        (r#"{"foo"=~"\\d+"}"#, Ok(&[("foo", "=~", r"\d+")])),
        (r#"{"foo"!~"[a-z]+"}"#, Ok(&[("foo", "!~", "[a-z]+")])),
        (r#"{"foo"="🙂"}"#, Ok(&[("foo", "=", "🙂")])),
        (r#"{"foo"="\xf0\x9f\x99\x82"}"#, Ok(&[("foo", "=", "🙂")])),
        (r#"{"foo"="\U0001f642"}"#, Ok(&[("foo", "=", "🙂")])),
        (r#"{"foo"="🙂bar"}"#, Ok(&[("foo", "=", "🙂bar")])),
        (r#"{"foo"="bar\n"}"#, Ok(&[("foo", "=", "bar\n")])),
        (r#"{"foo"="bar\t"}"#, Ok(&[("foo", "=", "bar\t")])),
        (r#"{"foo"="\"bar\""}"#, Ok(&[("foo", "=", "\"bar\"")])),
        (r#"{"foo"="bar\\"}"#, Ok(&[("foo", "=", "bar\\")])),
        (r#""foo"="bar""#, Ok(FOO_BAR)),
        (r#""foo"="bar","#, Ok(FOO_BAR)),
        (
            "{foo=bar,bar!=baz}",
            Ok(&[("foo", "=", "bar"), ("bar", "!=", "baz")]),
        ),
        (
            r#"{foo="bar",bar!="baz"}"#,
            Ok(&[("foo", "=", "bar"), ("bar", "!=", "baz")]),
        ),
        (
            "foo=bar,bar!=baz",
            Ok(&[("foo", "=", "bar"), ("bar", "!=", "baz")]),
        ),
        (
            r#"foo="bar",bar!="baz""#,
            Ok(&[("foo", "=", "bar"), ("bar", "!=", "baz")]),
        ),
        (",", Err("0:1: unexpected ,: expected label name")),
        ("{,}", Err("1:2: unexpected ,: expected label name")),
        ("{", Err("0:1: end of input: expected close brace")),
        ("}", Err("0:1: }: expected opening brace")),
        ("foo=bar}", Err("0:8: }: expected opening brace")),
        ("{foo=bar", Err("0:8: end of input: expected close brace")),
        (
            r#"{foo=:"bar"}"#,
            Err(r#"6:11: unexpected "bar": expected a comma or close brace"#),
        ),
        (r#"{foo="bar\w"}"#, Err(r#"5:12: "bar\w": invalid input"#)),
        (r#"{"foo"=~"\d+"}"#, Err(r#"8:13: "\d+": invalid input"#)),
        (
            r"{foo=bar\n}",
            Err(r"8:9: \: invalid input: expected a comma or close brace"),
        ),
        (
            r#"{"foo"="\xf0\x9f"}"#,
            Err(r#"7:17: "\xf0\x9f": invalid input"#),
        ),
        // UTF-8 label names, the point of the parser.
        (
            r#"{"service.name"="api"}"#,
            Ok(&[("service.name", "=", "api")]),
        ),
        ("service.name=api", Ok(&[("service.name", "=", "api")])),
        (
            r#""my label"!~"a|b", "ключ"=значение"#,
            Ok(&[("my label", "!~", "a|b"), ("ключ", "=", "значение")]),
        ),
        (r#"""="x""#, Ok(&[("", "=", "x")])),
        // Unclosed quotes and stray characters.
        (
            r#"foo="bar"#,
            Err(r#"4:8: "bar: missing end ": expected label value"#),
        ),
        (
            r#""service.name=api"#,
            Err(r#"0:17: "service.name=api: missing end ""#),
        ),
        (
            "foo=bar baz",
            Err("8:11: unexpected baz: expected a comma or close brace"),
        ),
        ("{foo=bar}x", Err("9:10: x: expected end of input")),
        (
            "foo!bar",
            Err(
                "3:4: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'",
            ),
        ),
        ("foo=", Err("end of input: expected label value")),
    ];
    for (input, want) in cases {
        check("utf8", input, utf8::parse_matchers(input), *want);
    }
}

#[test]
fn the_utf8_parser_takes_exactly_one_matcher_where_one_is_asked() {
    let cases: &[(&str, Expected<'_>)] = &[
        ("{foo=bar,}", Ok(FOO_BAR)),
        (r#""foo"="bar","#, Ok(FOO_BAR)),
        ("", Err("no matchers")),
        ("{}", Err("no matchers")),
        ("foo=bar,bar=baz", Err("expected 1 matcher, found 2")),
        (
            r#"foo="\xf0\x9f""#,
            Err(r#"4:14: "\xf0\x9f": invalid input"#),
        ),
    ];
    for (input, want) in cases {
        check(
            "utf8 one",
            input,
            utf8::parse_matcher(input).map(|m| vec![m]),
            *want,
        );
    }
}

#[test]
fn the_classic_parser_keeps_its_tolerances_and_messages() {
    let cases: &[(&str, Expected<'_>)] = &[
        ("{foo=bar}", Ok(FOO_BAR)),
        (r#"{foo="bar"}"#, Ok(FOO_BAR)),
        ("foo=bar,", Ok(FOO_BAR)),
        (
            r#"{foo = "bar", dings != "bums", }"#,
            Ok(&[("foo", "=", "bar"), ("dings", "!=", "bums")]),
        ),
        (
            r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
            Ok(&[(
                "quote",
                "=",
                r#"She said: "Hi, ladies! That's gender-neutral…""#,
            )]),
        ),
        (
            r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
            Ok(&[
                ("contains_quote", "!=", "\""),
                ("contains_comma", "!~", "foo,bar"),
            ]),
        ),
        ("foo=!bar\\n", Ok(&[("foo", "=", "!bar\n")])),
        (
            r#"foo="\xf0\x9f\x99\x82""#,
            Ok(&[("foo", "=", r"\xf0\x9f\x99\x82")]),
        ),
        ("job=", Ok(&[("job", "=", "")])),
        (r"a=b\", Ok(&[("a", "=", "b\\")])),
        ("{,}", Err("bad matcher format: ")),
        ("foo!bar", Err("bad matcher format: foo!bar")),
        (
            r#"job="value"#,
            Err(r#"matcher value contains unescaped double quote: "value"#),
        ),
        (
            r#"job=value""#,
            Err(r#"matcher value contains unescaped double quote: value""#),
        ),
        (
            r#"trickier==\\=\=\"""#,
            Err(r#"matcher value contains unescaped double quote: =\\=\=\"""#),
        ),
        (r#""foo=\"bar""#, Err(r#"bad matcher format: "foo=\"bar""#)),
        ("{{foo=", Err("bad matcher format: {foo=")),
        (
            r#"{"service.name"="api"}"#,
            Err(r#"bad matcher format: "service.name"="api""#),
        ),
        ("foo🙂=bar", Err("bad matcher format: foo🙂=bar")),
    ];
    for (input, want) in cases {
        check("classic", input, classic::parse_matchers(input), *want);
    }
}

#[test]
fn the_default_mode_falls_back_to_the_classic_parser() {
    let cases: &[(&str, Expected<'_>)] = &[
        ("foo=bar", Ok(FOO_BAR)),
        ("foo!bar", Err("bad matcher format: foo!bar")),
        ("foo🙂=bar", Ok(&[("foo🙂", "=", "bar")])),
        ("foo=!bar\\n", Ok(&[("foo", "=", "!bar\n")])),
        // Both read it, differently: the classic result wins.
        (
            r#"foo="\xf0\x9f\x99\x82""#,
            Ok(&[("foo", "=", r"\xf0\x9f\x99\x82")]),
        ),
        (
            "{foo=bar}",
            Err("unexpected open or close brace: {foo=bar}"),
        ),
        (
            r#""service.name"="api""#,
            Ok(&[("service.name", "=", "api")]),
        ),
        // Unclosed quotes: neither reads it, the classic message stands.
        (
            r#"foo="bar"#,
            Err(r#"matcher value contains unescaped double quote: "bar"#),
        ),
    ];
    for (input, want) in cases {
        let got = Matcher::parse_in(input, NameMode::Fallback, "test").map(|m| vec![m]);
        check("fallback one", input, got, *want);
    }
    let lists: &[(&str, Expected<'_>)] = &[
        (
            "{foo=bar,bar=baz}",
            Ok(&[("foo", "=", "bar"), ("bar", "=", "baz")]),
        ),
        ("{foo!bar}", Err("bad matcher format: foo!bar")),
        (
            "{foo🙂=bar,bar=baz🙂}",
            Ok(&[("foo🙂", "=", "bar"), ("bar", "=", "baz🙂")]),
        ),
        (
            "{foo=!bar,bar=$baz\\n}",
            Ok(&[("foo", "=", "!bar"), ("bar", "=", "$baz\n")]),
        ),
        (
            r#"{foo="\xf0\x9f\x99\x82"}"#,
            Ok(&[("foo", "=", r"\xf0\x9f\x99\x82")]),
        ),
    ];
    for (input, want) in lists {
        let got = Matchers::parse_in(input, NameMode::Fallback, "test").map(|m| m.0);
        check("fallback list", input, got, *want);
    }
}

#[test]
fn each_mode_uses_only_its_parser() {
    let quoted = r#""service.name"="api""#;
    assert!(Matcher::parse_in(quoted, NameMode::Utf8Strict, "test").is_ok());
    assert_eq!(
        Matcher::parse_in(quoted, NameMode::Classic, "test")
            .unwrap_err()
            .to_string(),
        format!("bad matcher format: {quoted}")
    );
    // Only the classic parser reads an unquoted backslash.
    assert!(Matcher::parse_in(r"foo=a\b", NameMode::Classic, "test").is_ok());
    assert_eq!(
        Matcher::parse_in(r"foo=a\b", NameMode::Utf8Strict, "test")
            .unwrap_err()
            .to_string(),
        r"5:6: \: invalid input: expected a comma or close brace"
    );
    assert_eq!(
        Matcher::parse_in("{foo=bar}", NameMode::Utf8Strict, "test")
            .unwrap_err()
            .to_string(),
        "unexpected open or close brace: {foo=bar}"
    );
}

#[test]
fn names_are_valid_as_the_mode_says() {
    for (name, classic, utf8) in [
        ("foo", true, true),
        ("_foo1", true, true),
        ("0foo", false, true),
        ("foo🙂", false, true),
        ("service.name", false, true),
        ("", false, false),
    ] {
        assert_eq!(NameMode::Classic.is_valid(name), classic, "{name:?}");
        assert_eq!(NameMode::Fallback.is_valid(name), utf8, "{name:?}");
        assert_eq!(NameMode::Utf8Strict.is_valid(name), utf8, "{name:?}");
    }
}

#[test]
fn matchers_print_as_alertmanager_prints_them() {
    let m = |name: &str, kind, value: &str| Matcher::new(name, kind, value).unwrap().to_string();
    assert_eq!(
        m("service.name", MatchType::Equal, "api"),
        r#"service.name="api""#
    );
    assert_eq!(
        m("my label", MatchType::Regex, "a|b"),
        r#""my label"=~"a|b""#
    );
    assert_eq!(m("a=b", MatchType::NotEqual, "x\ty"), r#""a=b"!="x\ty""#);
    // A classic-looking name: OpenMetrics escaping, a tab stays a tab.
    assert_eq!(
        m("team", MatchType::Equal, "x\ty\"\n\\"),
        "team=\"x\ty\\\"\\n\\\\\""
    );
    // What is printed parses back to the same matcher in the default mode.
    for (name, value) in [
        ("my label", "a\"b\\c\n"),
        ("team", "x\"y\\z\n"),
        ("é", "ü"),
        ("", "-"),
    ] {
        let printed = m(name, MatchType::Equal, value);
        let back = Matcher::parse(&printed).unwrap();
        assert_eq!((back.name.as_str(), back.value.as_str()), (name, value));
    }
}

#[test]
fn the_parsers_never_panic_on_odd_input() {
    let pieces = [
        "{", "}", ",", "=", "!", "~", "\"", "\\", "'", "`", " ", "a", "é", "🙂", "\n", "\\x", "\\u",
    ];
    // Every string of up to three pieces.
    let mut inputs = vec![String::new()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for s in &inputs {
            for p in pieces {
                next.push(format!("{s}{p}"));
            }
        }
        inputs.extend(next);
    }
    for input in &inputs {
        for mode in [NameMode::Fallback, NameMode::Utf8Strict, NameMode::Classic] {
            let _ = Matchers::parse_in(input, mode, "test");
            let _ = Matcher::parse_in(input, mode, "test");
        }
    }
}
