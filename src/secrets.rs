//! Secrets out of error texts. A receiver may echo its request back in an
//! error body — the URL's path (where webhook tokens live), the
//! `Authorization` header — and that body reaches the history, the
//! receiver-test answer and the logs. Every secret is removed in each form
//! a server may write it: as is, JSON-escaped (`\/`), percent-encoded,
//! base64 (a `user:password` pair), and any fragment of 8 characters or
//! more of it.

use base64::Engine;

/// What is removed, and what takes its place.
const REDACTED: &str = "<redacted>";
/// Fragments of a secret this long or longer are removed too.
const FRAGMENT: usize = 8;

/// The secrets of one request.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Every form of every secret, longest first once sealed.
    forms: Vec<String>,
    /// The secrets as given, for the fragment search.
    raw: Vec<String>,
}

impl Secrets {
    /// A secret: every form a server may echo it in, and its fragments.
    pub fn add(&mut self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        self.add_exact(secret);
        self.raw.push(secret.to_owned());
    }

    /// Text that holds a secret among words that are not (a whole URL, a
    /// signed header): every form of it, but not its fragments, which
    /// would take ordinary words out of error texts.
    pub fn add_exact(&mut self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_owned();
        let forms = [
            secret.to_owned(),
            json.replace('/', "\\/"),
            json,
            percent_encoded(secret),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        ];
        for form in forms {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// A URL: the whole, its path and query (exactly), and each segment
    /// and query value long enough to be a token and any password in it
    /// (with their fragments).
    pub fn add_url(&mut self, url: &url::Url) {
        self.add_exact(url.as_str());
        if url.path().len() > 1 {
            self.add_exact(url.path());
        }
        if let Some(q) = url.query().filter(|q| !q.is_empty()) {
            self.add_exact(q);
        }
        for segment in url.path_segments().into_iter().flatten() {
            if segment.len() >= FRAGMENT {
                self.add(segment);
            }
        }
        for (_, value) in url.query_pairs() {
            if value.len() >= FRAGMENT {
                self.add(&value);
            }
        }
        if let Some(p) = url.password() {
            self.add(p);
        }
    }

    /// An `Authorization` header's value: its credentials, and for Basic
    /// the `user:password` pair and the password. Structured credentials
    /// (a signature with its parameters) are removed whole, not by
    /// fragment.
    pub fn add_authorization(&mut self, value: &str) {
        let (kind, credentials) = value.split_once(' ').unwrap_or(("", value));
        let credentials = credentials.trim();
        if credentials.contains([' ', ',', '=', '/']) && !kind.eq_ignore_ascii_case("basic") {
            self.add_exact(credentials);
            for part in credentials.split([' ', ',']) {
                if let Some((_, v)) = part.split_once('=')
                    && v.len() >= 16
                    && !v.contains('/')
                {
                    // A signature's value is a secret on its own.
                    self.add(v);
                }
            }
        } else {
            self.add(credentials);
        }
        if kind.eq_ignore_ascii_case("basic")
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials)
            && let Ok(pair) = String::from_utf8(decoded)
        {
            self.add(&pair);
            if let Some((_, password)) = pair.split_once(':') {
                self.add(password);
            }
        }
    }

    /// `text` with every form of every secret, and every fragment of
    /// [`FRAGMENT`] characters or more, replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        for secret in &self.raw {
            out = without_fragments(&out, secret);
        }
        out
    }
}

/// Every byte but ASCII letters and digits as `%XX` (what a server that
/// re-encodes a path writes; `-._~` kept as RFC 3986 leaves them too).
fn percent_encoded(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with each run of [`FRAGMENT`] or more bytes that also occurs in
/// `secret` replaced (cut only at character boundaries).
fn without_fragments(text: &str, secret: &str) -> String {
    let (t, s) = (text.as_bytes(), secret.as_bytes());
    if s.len() < FRAGMENT || t.len() < FRAGMENT {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut kept = 0;
    while i + FRAGMENT <= t.len() {
        let longest = (0..s.len())
            .map(|j| {
                t[i..]
                    .iter()
                    .zip(&s[j..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= FRAGMENT && text.is_char_boundary(i) && text.is_char_boundary(i + longest) {
            out.push_str(&text[kept..i]);
            out.push_str(REDACTED);
            i += longest;
            kept = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[kept..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_and_fragment_of_a_secret_is_removed() {
        let mut s = Secrets::default();
        let url =
            url::Url::parse("https://hooks.example/hook/T0KEN-abcdef123456?key=sEcReTvAlUe99")
                .unwrap();
        s.add_url(&url);
        s.add_authorization("Basic dXNlcjpodW50ZXIyLXBhc3N3b3Jk"); // user:hunter2-password
        let echoed = [
            "https://hooks.example/hook/T0KEN-abcdef123456?key=sEcReTvAlUe99",
            "\\/hook\\/T0KEN-abcdef123456",
            "%2Fhook%2FT0KEN-abcdef123456",
            "path was /hook/T0KEN-abcdef123456 ok",
            "only the tail: abcdef123456",
            "key=sEcReTvAlUe99",
            "Authorization: Basic dXNlcjpodW50ZXIyLXBhc3N3b3Jk",
            "the password hunter2-password leaked",
            "user:hunter2-password",
            "a fragment: 2-passwo and more",
        ];
        for text in echoed {
            let clean = s.scrub(text);
            for leak in [
                "T0KEN-abcdef123456",
                "abcdef12",
                "sEcReTvAlUe99",
                "dXNlcjpodW50ZXIyLXBhc3N3b3Jk",
                "hunter2-password",
                "2-passwo",
            ] {
                assert!(
                    !clean.contains(leak),
                    "{leak:?} left in {clean:?} (from {text:?})"
                );
            }
        }
        assert_eq!(s.scrub("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn fragments_shorter_than_eight_stay_and_text_stays_valid_utf8() {
        let mut s = Secrets::default();
        s.add("zyxwvuts-secret");
        assert_eq!(s.scrub("zyxwvut é"), "zyxwvut é");
        assert_eq!(s.scrub("é zyxwvuts é"), "é <redacted> é");
    }
}
