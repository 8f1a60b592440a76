//! Label matchers (`name="v"`, `!=`, `=~`, `!~`): parsing and matching.
//!
//! Used by routes, inhibit rules, silences and the API's `filter` parameter.
//! The text syntax is Alertmanager's classic one (`{a="b", c=~"d|e"}`, quotes
//! optional), and regexes are fully anchored as `^(?:re)$`.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::labels::{LabelSet, go_quote, is_valid_label_name};

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

/// One matcher. Regex matchers carry their compiled, anchored regex.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub kind: MatchType,
    pub value: String,
    re: Option<Regex>,
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
            let anchored = format!("^(?:{value})$");
            Some(Regex::new(&anchored).map_err(|e| MatcherError::Regex {
                value: value.to_owned(),
                reason: e.to_string(),
            })?)
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

    pub fn validate_name(&self) -> Result<(), MatcherError> {
        if is_valid_label_name(&self.name) {
            Ok(())
        } else {
            Err(MatcherError::LabelName(self.name.clone()))
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        match self.kind {
            MatchType::Equal => self.value == value,
            MatchType::NotEqual => self.value != value,
            MatchType::Regex => self.re.as_ref().is_some_and(|r| r.is_match(value)),
            MatchType::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// Matches a label set; a missing label is the empty string.
    pub fn matches_labels(&self, labels: &LabelSet) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }

    /// Parses a single matcher such as `severity=~"warn|crit"`.
    pub fn parse(text: &str) -> Result<Self, MatcherError> {
        let text = text.trim();
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(text.len());
        let name = &text[..name_end];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            return Err(MatcherError::Format(text.to_owned()));
        }
        let rest = text[name_end..].trim_start();
        let (kind, rest) = if let Some(r) = rest.strip_prefix("=~") {
            (MatchType::Regex, r)
        } else if let Some(r) = rest.strip_prefix("!~") {
            (MatchType::NotRegex, r)
        } else if let Some(r) = rest.strip_prefix("!=") {
            (MatchType::NotEqual, r)
        } else if let Some(r) = rest.strip_prefix('=') {
            (MatchType::Equal, r)
        } else {
            return Err(MatcherError::Format(text.to_owned()));
        };
        let value = unquote(rest.trim())?;
        Matcher::new(name, kind, &value)
    }

    fn order(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.kind.cmp(&other.kind))
    }
}

/// A quoted value is unescaped (`\"`, `\\`, `\n`); an unquoted one is taken
/// as written, as Alertmanager's classic parser does.
fn unquote(raw: &str) -> Result<String, MatcherError> {
    if !(raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"')) {
        if raw.contains('"') {
            return Err(MatcherError::UnescapedQuote(raw.to_owned()));
        }
        return Ok(raw.to_owned());
    }
    let inner = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    // A spurious escape stays literal.
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '"' => return Err(MatcherError::UnescapedQuote(raw.to_owned())),
            c => out.push(c),
        }
    }
    Ok(out)
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.name,
            self.kind.as_str(),
            go_quote(&self.value)
        )
    }
}

/// A list of matchers, all of which must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Parses `{a="b", c=~"d"}` or `a="b", c=~"d"`; an empty string is no matchers.
    pub fn parse(text: &str) -> Result<Self, MatcherError> {
        let mut body = text.trim();
        if let Some(inner) = body.strip_prefix('{') {
            body = inner
                .strip_suffix('}')
                .ok_or_else(|| MatcherError::Format(text.to_owned()))?;
        }
        split_top_level(body)
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .map(Matcher::parse)
            .collect::<Result<Vec<_>, _>>()
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

/// Splits on commas that are not inside a double-quoted value.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
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

impl<'de> Deserialize<'de> for Matchers {
    /// A YAML list of matcher strings, each of which may itself hold several
    /// comma-separated matchers (Alertmanager allows both).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        let mut all = Vec::new();
        for item in items {
            let parsed = Matchers::parse(&item).map_err(serde::de::Error::custom)?;
            all.extend(parsed.0);
        }
        Ok(Matchers(all))
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
        for bad in ["a", "=b", "1a=b", r#"a=~"(""#, r#"a="x"y""#, r#"a=""#] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_text_is_no_matchers() {
        assert!(Matchers::parse("").unwrap().is_empty());
        assert!(Matchers::parse("{}").unwrap().is_empty());
    }
}
