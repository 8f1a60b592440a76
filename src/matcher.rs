//! Label matchers (`name="v"`, `!=`, `=~`, `!~`): parsing and matching.
//!
//! Used by routes, inhibit rules, silences and the API's `filter` parameter.
//! The text syntax is Alertmanager 0.34's: in the default mode the UTF-8
//! parser ([`utf8`], quoted names such as `"service.name"="api"`) and, when
//! it refuses the input, the classic one ([`classic`]); `--enable-feature`
//! picks either alone ([`NameMode`]). Regexes are fully anchored as
//! `^(?:re)$`.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::labels::NameMode;
use crate::labels::{LabelSet, go_quote};
use pattern::Pattern;

mod classic;
mod go_string;
mod pattern;
#[cfg(test)]
mod parse_tests;
mod utf8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error("bad matcher format: {0}")]
    Format(String),
    #[error("invalid label name {0:?}")]
    LabelName(String),
    #[error("invalid regular expression {value:?}: {reason}")]
    Regex { value: String, reason: String },
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    /// The UTF-8 parser's messages, positions included.
    #[error("{0}")]
    Parse(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regex => "=~",
            MatchType::NotRegex => "!~",
        }
    }

    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regex | MatchType::NotRegex)
    }

    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regex)
    }

    pub fn from_flags(is_regex: bool, is_equal: bool) -> Self {
        match (is_regex, is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regex,
            (true, false) => MatchType::NotRegex,
        }
    }
}

/// One matcher. Regex matchers carry their anchored regex.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub kind: MatchType,
    pub value: String,
    re: Option<Pattern>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.kind == other.kind && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// Builds a matcher; the name is not checked here (filters accept any
    /// name), use [`Matcher::validate_name`] where Alertmanager checks it.
    pub fn new(name: &str, kind: MatchType, value: &str) -> Result<Self, MatcherError> {
        let re = if kind.is_regex() {
            Some(
                Pattern::compiled(value).map_err(|reason| MatcherError::Regex {
                    value: value.to_owned(),
                    reason,
                })?,
            )
        } else {
            None
        };
        Ok(Self {
            name: name.to_owned(),
            kind,
            value: value.to_owned(),
            re,
        })
    }

    /// As [`Matcher::new`] for a matcher that was valid when it was
    /// stored: a regex is looked at only when it is first matched (and
    /// then matches nothing if it no longer compiles).
    pub fn stored(name: &str, kind: MatchType, value: &str) -> Self {
        let re = kind.is_regex().then(Pattern::deferred);
        Self {
            name: name.to_owned(),
            kind,
            value: value.to_owned(),
            re,
        }
    }

    /// The name must be valid in `mode` (any non-empty name unless in
    /// classic mode).
    pub fn validate_name(&self, mode: NameMode) -> Result<(), MatcherError> {
        if mode.is_valid(&self.name) {
            Ok(())
        } else {
            Err(MatcherError::LabelName(self.name.clone()))
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        match self.kind {
            MatchType::Equal => self.value == value,
            MatchType::NotEqual => self.value != value,
            MatchType::Regex => self.regex_match(value) == Some(true),
            MatchType::NotRegex => self.regex_match(value) == Some(false),
        }
    }

    fn regex_match(&self, value: &str) -> Option<bool> {
        self.re
            .as_ref()
            .and_then(|r| r.is_match(&self.value, value))
    }

    /// Matches a label set; a missing label is the empty string.
    pub fn matches_labels(&self, labels: &LabelSet) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }

    /// Parses a single matcher such as `severity=~"warn|crit"` or
    /// `"service.name"="api"` in the default (fallback) mode.
    pub fn parse(text: &str) -> Result<Self, MatcherError> {
        Self::parse_in(text, NameMode::default(), "")
    }

    /// Alertmanager's `compat.Matcher`: exactly one matcher, without braces,
    /// parsed as `mode` says. `origin` (`config`, `api`, `cli`) is logged
    /// when the fallback is taken.
    pub fn parse_in(text: &str, mode: NameMode, origin: &str) -> Result<Self, MatcherError> {
        if mode != NameMode::Classic && (text.starts_with('{') || text.ends_with('}')) {
            return Err(MatcherError::Parse(format!(
                "unexpected open or close brace: {text}"
            )));
        }
        match mode {
            NameMode::Classic => classic::parse_matcher(text),
            NameMode::Utf8Strict => utf8::parse_matcher(text),
            NameMode::Fallback => {
                let (new, old) = (utf8::parse_matcher(text), classic::parse_matcher(text));
                fallback(text, origin, new, old, |m| m.to_string())
            }
        }
    }

    fn order(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.kind.cmp(&other.kind))
    }
}

/// The default mode's choice: the UTF-8 parser's result, unless only the
/// classic parser accepts the input or the two disagree (then the classic
/// result, as Alertmanager, with a warning saying how to fix the input).
fn fallback<T: PartialEq>(
    input: &str,
    origin: &str,
    new: Result<T, MatcherError>,
    old: Result<T, MatcherError>,
    show: impl Fn(&T) -> String,
) -> Result<T, MatcherError> {
    match (new, old) {
        (Err(_), Err(e)) => Err(e),
        (Err(e), Ok(old)) => {
            tracing::warn!(
                input,
                origin,
                err = %e,
                suggestion = %show(&old),
                "Alertmanager is moving to a new parser for labels and matchers, and this input \
                 is incompatible. Alertmanager has instead parsed the input using the classic \
                 matchers parser as a fallback. To make this input compatible with the UTF-8 \
                 matchers parser please make sure all regular expressions and values are \
                 double-quoted and backslashes are escaped."
            );
            Ok(old)
        }
        (Ok(new), Ok(old)) if new != old => {
            tracing::warn!(input, origin, "Matchers input has disagreement");
            Ok(old)
        }
        (Ok(new), _) => Ok(new),
    }
}

/// OpenMetrics escaping, which the classic parser reads back.
fn open_metrics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// As Alertmanager prints a matcher (in route keys, group keys and the
/// status config): a name the classic parser cannot read is quoted, and
/// then the value is Go-quoted too; otherwise the value is OpenMetrics
/// escaped. An empty name (`""="x"` parses) is quoted too, where
/// Alertmanager prints `="x"`, which no parser reads back.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.kind.as_str();
        if self.name.is_empty() || self.name.chars().any(utf8::is_reserved) {
            write!(f, "{}{op}{}", go_quote(&self.name), go_quote(&self.value))
        } else {
            write!(
                f,
                "{}{op}\"{}\"",
                self.name,
                open_metrics_escape(&self.value)
            )
        }
    }
}

/// A list of matchers, all of which must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Parses `{a="b", c=~"d"}` or `a="b", c=~"d"` in the default
    /// (fallback) mode; an empty string is no matchers.
    pub fn parse(text: &str) -> Result<Self, MatcherError> {
        Self::parse_in(text, NameMode::default(), "")
    }

    /// Alertmanager's `compat.Matchers`: zero or more matchers, braces
    /// optional, parsed as `mode` says; `origin` is logged when the
    /// fallback is taken.
    pub fn parse_in(text: &str, mode: NameMode, origin: &str) -> Result<Self, MatcherError> {
        match mode {
            NameMode::Classic => classic::parse_matchers(text),
            NameMode::Utf8Strict => utf8::parse_matchers(text),
            NameMode::Fallback => {
                let (new, old) = (utf8::parse_matchers(text), classic::parse_matchers(text));
                fallback(text, origin, new, old, |ms: &Vec<Matcher>| {
                    ms.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                })
            }
        }
        .map(Matchers)
    }

    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.0.iter().all(|m| m.matches_labels(labels))
    }

    /// Sorted as Alertmanager sorts a route's matchers: name, value, type.
    pub fn sort(&mut self) {
        self.0.sort_by(Matcher::order);
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `{a="b", c=~"d"}`, the form group keys and route keys use.
impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

impl Serialize for Matchers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|m| m.to_string()))
    }
}

/// Matchers as written in a config file (a list of strings, each holding
/// one or more matchers), kept as text until the config is validated in
/// the running [`NameMode`]: serde has no way to pass the mode in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct MatcherLines(pub Vec<String>);

impl MatcherLines {
    /// Every line's matchers, sorted as Alertmanager sorts them, each name
    /// valid in `mode`; an error comes with the index of its line.
    pub fn parse(&self, mode: NameMode) -> Result<Matchers, (usize, MatcherError)> {
        let mut all = Matchers::default();
        for (i, line) in self.0.iter().enumerate() {
            let parsed = Matchers::parse_in(line, mode, "config").map_err(|e| (i, e))?;
            for m in &parsed.0 {
                m.validate_name(mode).map_err(|e| (i, e))?;
            }
            all.0.extend(parsed.0);
        }
        all.sort();
        Ok(all)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    #[test]
    fn parses_every_operator() {
        let cases = [
            (r#"a="b""#, MatchType::Equal, "b"),
            (r#"a!="b""#, MatchType::NotEqual, "b"),
            (r#"a=~"b|c""#, MatchType::Regex, "b|c"),
            (r#"a!~"b""#, MatchType::NotRegex, "b"),
            ("a = b", MatchType::Equal, "b"),
            ("severity =~ warning|info", MatchType::Regex, "warning|info"),
            (r#"a="x\"y""#, MatchType::Equal, "x\"y"),
        ];
        for (text, kind, value) in cases {
            let m = Matcher::parse(text).unwrap();
            let name = if text.starts_with("severity") {
                "severity"
            } else {
                "a"
            };
            assert_eq!(
                (m.name.as_str(), m.kind, m.value.as_str()),
                (name, kind, value),
                "{text}"
            );
        }
    }

    #[test]
    fn regexes_are_fully_anchored() {
        let m = Matcher::parse(r#"job=~"node""#).unwrap();
        assert!(m.matches("node"));
        assert!(!m.matches("node-exporter"));
        assert!(!m.matches("my-node"));
    }

    #[test]
    fn stored_regexes_are_compiled_on_first_match() {
        let m = Matcher::stored("job", MatchType::Regex, "node|db-.*");
        let pattern = m.re.as_ref().unwrap();
        assert!(
            !m.matches("web") && !pattern.is_compiled(),
            "ruled out by its literals"
        );
        assert!(m.matches("db-1") && pattern.is_compiled());
    }

    #[test]
    fn a_stored_regex_that_no_longer_parses_or_compiles_matches_nothing() {
        // Parses, but is far past the compiled-size limit.
        let huge = r"\w{1000}{1000}";
        assert!(Matcher::new("a", MatchType::Regex, huge).is_err());
        for kind in [MatchType::Regex, MatchType::NotRegex] {
            let m = Matcher::stored("a", kind, huge);
            assert!(!m.matches("x") && !m.matches(""), "{kind:?}");
            let m = Matcher::stored("a", kind, "(");
            assert!(!m.matches("x") && !m.matches("("), "{kind:?}");
        }
    }

    #[test]
    fn missing_label_matches_as_empty_string() {
        let m = Matcher::parse(r#"team!="a""#).unwrap();
        assert!(m.matches_labels(&labels(&[("x", "y")])));
        let m = Matcher::parse(r#"team="""#).unwrap();
        assert!(m.matches_labels(&labels(&[("x", "y")])));
    }

    #[test]
    fn parses_lists_with_braces_and_quoted_commas() {
        let ms = Matchers::parse(r#"{a="1,2", b=~"x|y"}"#).unwrap();
        assert_eq!(ms.0.len(), 2);
        assert_eq!(ms.0[0].value, "1,2");
        assert_eq!(ms.to_string(), r#"{a="1,2",b=~"x|y"}"#);
    }

    #[test]
    fn rejects_bad_matchers() {
        for bad in ["a", "=b", r#"a=~"(""#, r#"a="x"y""#, r#"a=""#, r#""a"#] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
        assert!(Matcher::parse_in("1a=b", NameMode::Classic, "test").is_err());
    }

    #[test]
    fn empty_text_is_no_matchers() {
        assert!(Matchers::parse("").unwrap().is_empty());
        assert!(Matchers::parse("{}").unwrap().is_empty());
    }
}
