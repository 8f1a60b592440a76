//! Alertmanager's classic matcher parser (`pkg/labels`, the only one up to
//! 0.26): a classic label name, an operator, and a value that may be
//! double-quoted, with only `\"`, `\\` and `\n` as escapes. Ported with its
//! tolerances (unquoted values, spurious escapes kept literally) and its
//! error messages, because the default mode falls back to it.

use super::{MatchType, Matcher, MatcherError};

/// Go's regexp `\s`: ASCII whitespace without `\v`.
fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// Parses a comma-separated list; one leading `{` and one trailing `}` are
/// dropped, commas inside double quotes do not split.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, MatcherError> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);
    let (mut inside_quotes, mut escaped) = (false, false);
    let mut tokens = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(&s[start..i]);
                start = i + 1;
                continue;
            }
            ',' => {}
            '"' if !escaped => inside_quotes = !inside_quotes,
            '"' => escaped = false,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    let last = s[start..].trim_matches(char::is_whitespace);
    if !last.is_empty() {
        tokens.push(last);
    }
    tokens.into_iter().map(parse_matcher).collect()
}

/// Parses one matcher: `name op value`, whitespace around each part
/// ignored.
pub fn parse_matcher(input: &str) -> Result<Matcher, MatcherError> {
    let format = || MatcherError::Format(input.to_owned());
    let rest = input.trim_start_matches(is_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
        })
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return Err(format());
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_space);
    let (kind, rest) = [
        ("=~", MatchType::Regex),
        ("=", MatchType::Equal),
        ("!=", MatchType::NotEqual),
        ("!~", MatchType::NotRegex),
    ]
    .into_iter()
    .find_map(|(op, kind)| rest.strip_prefix(op).map(|r| (kind, r)))
    .ok_or_else(format)?;
    let raw = rest.trim_matches(is_space);
    let value = unescape(raw)?;
    Matcher::new(name, kind, &value)
}

/// OpenMetrics escaping (`\"`, `\\`, `\n`); any other backslash is literal.
/// A value may be wrapped in double quotes; any other `"` must be escaped.
fn unescape(raw: &str) -> Result<String, MatcherError> {
    let unescaped_quote = || MatcherError::UnescapedQuote(raw.to_owned());
    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(body) => (body, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        let last = i + c.len_utf8() == body.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                c => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if !last => escaped = true,
            '\\' => value.push('\\'),
            '"' if !expect_trailing_quote || !last => return Err(unescaped_quote()),
            '"' => expect_trailing_quote = false,
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    Ok(value)
}
