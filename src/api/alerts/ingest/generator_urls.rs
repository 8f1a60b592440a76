//! Alerts' generator URLs: checked as Alertmanager checks them and
//! shared between alerts.

use std::borrow::Cow;

use crate::intern::{Interner, SharedStr};

/// A batch's generator URLs, each looked up in the shared interner once: a
/// batch repeats a few URLs (one per rule), and the interner's lock is
/// shared with every other ingest thread.
pub(super) struct BatchUrls<'a, 'i> {
    shared: &'i Interner,
    seen: hashbrown::HashMap<&'a str, SharedStr>,
}

impl<'a, 'i> BatchUrls<'a, 'i> {
    pub(super) fn new(shared: &'i Interner) -> Self {
        Self {
            shared,
            seen: hashbrown::HashMap::new(),
        }
    }

    /// The shared copy of a valid URL; an invalid one is handed back.
    pub(super) fn resolve(&mut self, url: Cow<'a, str>) -> Result<SharedStr, Cow<'a, str>> {
        if let Cow::Borrowed(s) = url
            && let Some(known) = self.seen.get(s)
        {
            return Ok(known.clone());
        }
        // Only valid URLs are interned, so a known one needs no second check.
        let shared = match self.shared.get(&url) {
            Some(shared) => shared,
            None if url.is_empty() || is_request_uri(&url) => self.shared.intern(&url),
            None => return Err(url),
        };
        if let Cow::Borrowed(s) = url {
            self.seen.insert(s, shared.clone());
        }
        Ok(shared)
    }
}

/// Go's `url.ParseRequestURI`, which Alertmanager's `uri` format uses: an
/// absolute URL or an absolute path, no control characters, valid escapes.
fn is_request_uri(s: &str) -> bool {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f || b == b' ') {
        return false;
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: Option<&u8>| b.is_some_and(u8::is_ascii_hexdigit);
            if !(hex(bytes.get(i + 1)) && hex(bytes.get(i + 2))) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    s.starts_with('/') || url::Url::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::{BatchUrls, is_request_uri};
    use crate::intern::{Interner, SharedStr};
    use std::borrow::Cow;

    /// A batch's URLs share one copy, whether seen in this batch, in an
    /// earlier one, or written with escapes (an owned string); an invalid
    /// one is refused every time and never interned.
    #[test]
    fn batch_urls_share_valid_copies_and_refuse_invalid_ones() {
        let interner = Interner::default();
        let earlier = interner.intern("http://prom/graph?g0.expr=up");
        let mut urls = BatchUrls::new(&interner);
        let a = urls
            .resolve(Cow::Borrowed("http://prom/graph?g0.expr=up"))
            .unwrap();
        let b = urls
            .resolve(Cow::Borrowed("http://prom/graph?g0.expr=up"))
            .unwrap();
        let c = urls
            .resolve(Cow::Owned("http://prom/graph?g0.expr=up".into()))
            .unwrap();
        assert!(
            SharedStr::ptr_eq(&a, &earlier)
                && SharedStr::ptr_eq(&b, &a)
                && SharedStr::ptr_eq(&c, &a)
        );
        for _ in 0..2 {
            assert_eq!(
                urls.resolve(Cow::Borrowed("not a uri")).unwrap_err(),
                "not a uri"
            );
        }
        let fresh = urls.resolve(Cow::Borrowed("/graph")).unwrap();
        assert_eq!(&*fresh, "/graph");
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn generator_urls_follow_parse_request_uri() {
        for ok in [
            "/relative",
            "mailto:x",
            "http://prometheus:9090/graph?g0.expr=up",
        ] {
            assert!(is_request_uri(ok), "{ok}");
        }
        for bad in [
            "not a uri",
            "foo",
            "http://x/%zz",
            "::",
            ":foo",
            "http://x/\u{1}",
        ] {
            assert!(!is_request_uri(bad), "{bad}");
        }
    }
}
