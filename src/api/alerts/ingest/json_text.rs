//! Where Go's JSON decoder and serde_json read a body differently.

/// Go's decoder reads a `\u` escape of a lone UTF-16 surrogate (`"\ud800"`,
/// which has no UTF-8 form) as U+FFFD; serde_json refuses it. The escape
/// is rewritten as `\ufffd` first, so such an alert is kept as in
/// Alertmanager. A body without `\u` is not copied.
pub(super) fn replace_lone_surrogates(
    text: std::borrow::Cow<'_, str>,
) -> std::borrow::Cow<'_, str> {
    fn hex4(b: &[u8]) -> Option<u16> {
        let s = std::str::from_utf8(b.get(..4)?).ok()?;
        u16::from_str_radix(s, 16).ok()
    }
    if !text.contains("\\u") {
        return text;
    }
    let bytes = text.as_bytes();
    let mut lone = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'u') {
            i += 2; // another escape, `\\` included
            continue;
        }
        let Some(unit) = hex4(&bytes[i + 2..]) else {
            i += 2;
            continue;
        };
        match unit {
            0xD800..=0xDBFF => {
                let low = (bytes.get(i + 6..i + 8) == Some(b"\\u".as_slice()))
                    .then(|| hex4(&bytes[i + 8..]))
                    .flatten();
                if low.is_some_and(|l| (0xDC00..=0xDFFF).contains(&l)) {
                    i += 12;
                } else {
                    lone.push(i);
                    i += 6;
                }
            }
            0xDC00..=0xDFFF => {
                lone.push(i);
                i += 6;
            }
            _ => i += 6,
        }
    }
    if lone.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for at in lone {
        out.push_str(&text[from..at]);
        out.push_str("\\ufffd");
        from = at + 6;
    }
    out.push_str(&text[from..]);
    std::borrow::Cow::Owned(out)
}

/// serde_json names a lone surrogate (`"\ud800"`, which has no UTF-8
/// form) by what it expected next; say what is wrong instead.
pub(super) fn explain_escape(message: String) -> String {
    if message.contains("surrogate") || message.contains("hex escape") {
        format!("{message} (a \\u escape of a lone UTF-16 surrogate is not valid UTF-8)")
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::replace_lone_surrogates;

    fn fix(s: &str) -> String {
        replace_lone_surrogates(s.into()).into_owned()
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(fix(r#"{"a":"\ud800"}"#), r#"{"a":"\ufffd"}"#);
        assert_eq!(
            fix(r#"{"a":"x\udc00y\ud83d"}"#),
            r#"{"a":"x\ufffdy\ufffd"}"#
        );
        // A pair, an escaped backslash and other escapes stay.
        let kept = r#"{"a":"\ud83d\ude00 \\ud800 \u00e9 \n"}"#;
        assert_eq!(fix(kept), kept);
        let v: serde_json::Value = serde_json::from_str(&fix(r#"{"\ud800":"v"}"#)).unwrap();
        assert_eq!(v["\u{fffd}"], "v");
    }
}
