//! Cutting a field to a service's length limit as Alertmanager does
//! (`notify.TruncateInRunes` / `TruncateInBytes`): the kept text ends in
//! `…`, so that the same long alert gives the same message in both.

use std::borrow::Cow;

use crate::metrics::Metrics;

/// The mark left where text was cut.
pub const MARKER: &str = "…";

/// Keeps at most `n` characters; the last one kept is the marker.
pub fn in_runes(s: &str, n: usize) -> (Cow<'_, str>, bool) {
    // The byte offset of character `n` exists only when there are more.
    let Some((nth, _)) = s.char_indices().nth(n) else {
        return (Cow::Borrowed(s), false);
    };
    if n <= 3 {
        return (Cow::Borrowed(&s[..nth]), true);
    }
    let end = s.char_indices().nth(n - 1).map_or(nth, |(i, _)| i);
    (Cow::Owned(format!("{}{MARKER}", &s[..end])), true)
}

/// Keeps at most `n` bytes, never splitting a character; the marker (three
/// bytes) ends the kept text. Below four bytes there is no room for text.
pub fn in_bytes(s: &str, n: usize) -> (Cow<'_, str>, bool) {
    if s.len() <= n {
        return (Cow::Borrowed(s), false);
    }
    match n {
        3 => return (Cow::Borrowed(MARKER), true),
        0..=2 => return (Cow::Owned(".".repeat(n)), true),
        _ => {}
    }
    let mut end = n - MARKER.len();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (Cow::Owned(format!("{}{MARKER}", &s[..end])), true)
}

/// Keeps at most `n` bytes, never splitting a character, with no marker
/// (SNS marks a cut message with an attribute instead).
pub fn in_bytes_plain(s: &str, n: usize) -> (Cow<'_, str>, bool) {
    if s.len() <= n {
        return (Cow::Borrowed(s), false);
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (Cow::Borrowed(&s[..end]), true)
}

/// Cuts `text` with `cut` and, when it was cut, logs a warning naming the
/// integration and field and counts it in
/// `klaxon_notification_truncations_total`.
pub fn field(
    metrics: &Metrics,
    integration: &'static str,
    field: &'static str,
    text: String,
    max: usize,
    cut: fn(&str, usize) -> (Cow<'_, str>, bool),
) -> String {
    let (short, truncated) = cut(&text, max);
    if !truncated {
        return text;
    }
    tracing::warn!(
        integration,
        field,
        max,
        "truncated {field} to the service's length limit"
    );
    metrics.truncated(integration, field);
    short.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runes_keep_n_characters_ending_in_the_marker() {
        assert_eq!(in_runes("hello", 5), (Cow::Borrowed("hello"), false));
        assert_eq!(in_runes("hello!", 5).0, "hell…");
        assert_eq!(in_runes("héllo wörld", 4).0, "hél…");
        assert_eq!(in_runes("hello", 2).0, "he");
        assert!(in_runes("hello", 2).1);
    }

    #[test]
    fn bytes_keep_n_bytes_without_splitting_a_character() {
        assert_eq!(in_bytes("hello", 5), (Cow::Borrowed("hello"), false));
        assert_eq!(in_bytes("hello world", 8).0, "hello…");
        // "é" is two bytes: cutting at 5 would split it.
        assert_eq!(in_bytes("aéébcdef", 7).0, "aé…");
        assert!(in_bytes("aéébcdef", 7).0.len() <= 7);
        assert_eq!(in_bytes("hello", 3).0, "…");
        assert_eq!(in_bytes("hello", 2).0, "..");
    }
}
