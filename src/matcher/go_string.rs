//! Go's double-quoted string literals, as `strconv.Unquote` reads them:
//! the UTF-8 matcher parser takes quoted names and values in this form.

/// Go's `strconv.Unquote` for a double-quoted string, then a UTF-8 check
/// (`\x` and octal escapes write single bytes). `None` for a syntax error.
pub(super) fn go_unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    let mut utf8 = [0; 4];
    let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' | '"' => return None,
            '\\' => {
                let e = chars.next()?;
                let byte = match e {
                    'a' => 7,
                    'b' => 8,
                    'f' => 0xc,
                    'n' => b'\n',
                    'r' => b'\r',
                    't' => b'\t',
                    'v' => 0xb,
                    '\\' => b'\\',
                    '"' => b'"',
                    'x' => hex(&mut chars, 2)? as u8,
                    'u' | 'U' => {
                        let v = hex(&mut chars, if e == 'u' { 4 } else { 8 })?;
                        let c = char::from_u32(v)?;
                        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        continue;
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8)?;
                        for _ in 0..2 {
                            v = v * 8 + chars.next()?.to_digit(8)?;
                        }
                        u8::try_from(v).ok()?
                    }
                    _ => return None,
                };
                out.push(byte);
            }
            c => out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes()),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::go_unquote;

    #[test]
    fn reads_every_go_escape_and_refuses_what_go_refuses() {
        let ok = [
            (
                r#""a\a\b\f\n\r\t\v\\\"""#,
                "a\u{7}\u{8}\u{c}\n\r\t\u{b}\\\"",
            ),
            (r#""\101\x42\u0043\U00000044""#, "ABCD"),
            (r#""\303\251""#, "é"),
            ("\"tab\tstays\"", "tab\tstays"),
            (r#""""#, ""),
        ];
        for (quoted, want) in ok {
            assert_eq!(go_unquote(quoted).as_deref(), Some(want), "{quoted}");
        }
        let bad = [
            r#""\'""#,
            r#""\d""#,
            r#""\400""#,
            r#""\x4""#,
            r#""\ud800""#,
            r#""\U00110000""#,
            r#""\xff""#,
            "\"new\nline\"",
            r#""a"b""#,
            r#""\""#,
        ];
        for quoted in bad {
            assert_eq!(go_unquote(quoted), None, "{quoted}");
        }
    }
}
