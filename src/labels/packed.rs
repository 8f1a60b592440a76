//! One allocation for a whole label set: the offsets and the text share a
//! single string.
//!
//! A set is stored as `[w][count][end…][text]`. `w` (1 to 5) is how many
//! bytes each number takes; every number is written in `w` bytes of seven
//! bits each, least significant first, so the header is plain ASCII and the
//! whole buffer stays a valid `str` without unsafe code. `count` is the
//! number of pairs; each pair has two ends (name, then value) counted from
//! the start of the text. A typical alert's labels (under 128 bytes of
//! text) pay one byte per offset, and the set is one malloc, not two.
//!
//! The encoding is canonical (the width is the smallest that fits), so two
//! buffers are equal exactly when their pairs are: equality and hashing
//! work on the buffer.

/// Seven bits per header byte keeps every header byte below 0x80 (ASCII).
const DIGIT_BITS: u32 = 7;
const MAX_WIDTH: usize = 5;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Packed(Box<str>);

fn width_for(max: usize) -> usize {
    let mut w = 1;
    while w < MAX_WIDTH && (max >> (DIGIT_BITS as usize * w)) != 0 {
        w += 1;
    }
    w
}

/// The pairs without those a later pair of the same name overrides.
fn last_of_each_name<S: AsRef<str>>(pairs: &[(S, S)]) -> impl Iterator<Item = (&str, &str)> {
    pairs
        .iter()
        .enumerate()
        .filter(|(i, (k, _))| {
            pairs
                .get(i + 1)
                .is_none_or(|(next, _)| next.as_ref() != k.as_ref())
        })
        .map(|(_, (k, v))| (k.as_ref(), v.as_ref()))
}

fn push_number(out: &mut String, mut n: usize, w: usize) {
    for _ in 0..w {
        out.push(char::from((n & 0x7f) as u8));
        n >>= DIGIT_BITS;
    }
}

impl Packed {
    /// Packs pairs sorted by name (stably); of pairs with the same name,
    /// the last one is kept.
    pub(super) fn from_sorted<S: AsRef<str>>(pairs: &[(S, S)]) -> Self {
        let kept = || last_of_each_name(pairs);
        let count = kept().count();
        if count == 0 {
            return Self::default();
        }
        let text: usize = kept().map(|(k, v)| k.len() + v.len()).sum();
        assert!(
            text < 1 << (DIGIT_BITS as usize * MAX_WIDTH).min(usize::BITS as usize - 1),
            "a label set under 32 GiB"
        );
        let w = width_for(text.max(count));
        let mut out = String::with_capacity(1 + w * (1 + 2 * count) + text);
        out.push(char::from(w as u8));
        push_number(&mut out, count, w);
        let mut end = 0;
        for (k, v) in kept() {
            end += k.len();
            push_number(&mut out, end, w);
            end += v.len();
            push_number(&mut out, end, w);
        }
        for (k, v) in kept() {
            out.push_str(k);
            out.push_str(v);
        }
        Self(out.into_boxed_str())
    }

    /// The raw buffer, for storage; [`Packed::from_raw`] reads it back.
    pub(super) fn as_raw(&self) -> &str {
        &self.0
    }

    /// Reads a buffer written by [`Packed::as_raw`], checking everything a
    /// corrupt one could get wrong (bounds, order, char boundaries,
    /// canonical width), so that no later access can panic.
    pub(super) fn from_raw(raw: &str) -> Result<Self, String> {
        let packed = Self(raw.into());
        if raw.is_empty() {
            return Ok(packed);
        }
        let bytes = raw.as_bytes();
        let w = usize::from(bytes[0]);
        if !(1..=MAX_WIDTH).contains(&w) {
            return Err(format!("label set: bad width {w}"));
        }
        let header_numbers = (bytes.len() - 1) / w;
        if header_numbers == 0 {
            return Err("label set: truncated header".into());
        }
        let count = packed.number(0, w);
        if count == 0 || count > (header_numbers - 1) / 2 {
            return Err(format!("label set: bad pair count {count}"));
        }
        let text_start = packed.text_start();
        if !bytes[..text_start].is_ascii() {
            return Err("label set: bad header".into());
        }
        let text = &raw[text_start..];
        let mut prev = 0;
        let mut prev_name: Option<&str> = None;
        for slot in 0..2 * count {
            let end = packed.end(slot);
            if end < prev || end > text.len() || !text.is_char_boundary(end) {
                return Err(format!("label set: bad offset {end}"));
            }
            if slot % 2 == 0 {
                let name = &text[prev..end];
                if prev_name.is_some_and(|p| p >= name) {
                    return Err("label set: names out of order".into());
                }
                prev_name = Some(name);
            }
            prev = end;
        }
        if prev != text.len() || w != width_for(text.len().max(count)) {
            return Err("label set: not in canonical form".into());
        }
        Ok(packed)
    }

    fn width(&self) -> usize {
        usize::from(self.0.as_bytes()[0])
    }

    /// The `index`th number of the header (0 is the count).
    fn number(&self, index: usize, w: usize) -> usize {
        let at = 1 + index * w;
        if w == 1 {
            // Nearly every set: under 128 bytes of text.
            return usize::from(self.0.as_bytes()[at]);
        }
        self.0.as_bytes()[at..at + w]
            .iter()
            .rev()
            .fold(0, |n, &b| (n << DIGIT_BITS) | usize::from(b))
    }

    pub(super) fn len(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.number(0, self.width())
        }
    }

    fn text_start(&self) -> usize {
        let w = self.width();
        1 + w * (1 + 2 * self.number(0, w))
    }

    pub(super) fn text(&self) -> &str {
        if self.0.is_empty() {
            ""
        } else {
            &self.0[self.text_start()..]
        }
    }

    /// End of slot `slot` in the text: slot `2i` is name `i`, `2i + 1` its
    /// value.
    fn end(&self, slot: usize) -> usize {
        self.number(1 + slot, self.width())
    }

    pub(super) fn slot(&self, slot: usize) -> &str {
        let start = if slot == 0 { 0 } else { self.end(slot - 1) };
        &self.text()[start..self.end(slot)]
    }

    pub(super) fn pairs(&self) -> Pairs<'_> {
        Pairs {
            packed: self,
            text: self.text(),
            next: 0,
            len: self.len(),
            start: 0,
        }
    }
}

/// The pairs in order, decoding each end once.
#[derive(Clone)]
pub(super) struct Pairs<'a> {
    packed: &'a Packed,
    text: &'a str,
    next: usize,
    len: usize,
    start: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.len {
            return None;
        }
        let name_end = self.packed.end(2 * self.next);
        let value_end = self.packed.end(2 * self.next + 1);
        let pair = (
            &self.text[self.start..name_end],
            &self.text[name_end..value_end],
        );
        self.start = value_end;
        self.next += 1;
        Some(pair)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(pairs: &[(&str, &str)]) {
        let p = Packed::from_sorted(pairs);
        assert_eq!(p.pairs().collect::<Vec<_>>(), pairs);
        assert_eq!(p.len(), pairs.len());
        assert_eq!(Packed::from_raw(p.as_raw()).unwrap(), p);
    }

    #[test]
    fn small_and_large_sets_round_trip() {
        round_trip(&[]);
        round_trip(&[("a", "")]);
        round_trip(&[("", ""), ("a", "é")]);
        round_trip(&[("alertname", "A"), ("instance", "host-1:9100")]);
        let big = "x".repeat(20_000);
        round_trip(&[("a", &big), ("b", "1")]);
        let huge = "y".repeat(3_000_000);
        round_trip(&[("description", &huge)]);
    }

    #[test]
    fn the_last_of_a_repeated_name_wins() {
        let p = Packed::from_sorted(&[("a", "1"), ("a", "2"), ("b", "3"), ("b", "4")]);
        assert_eq!(p.pairs().collect::<Vec<_>>(), [("a", "2"), ("b", "4")]);
    }

    #[test]
    fn short_sets_take_one_byte_per_offset() {
        let p = Packed::from_sorted(&[("alertname", "A"), ("job", "node")]);
        assert_eq!(p.as_raw().len(), 1 + 1 + 4 + "alertnameAjobnode".len());
    }

    #[test]
    fn every_corruption_is_an_error_not_a_panic() {
        let p = Packed::from_sorted(&[("alertname", "Ä"), ("job", "node")]);
        let raw = p.as_raw().as_bytes().to_vec();
        for cut in 0..raw.len() {
            if let Ok(s) = std::str::from_utf8(&raw[..cut]) {
                assert!(cut == 0 || Packed::from_raw(s).is_err(), "cut {cut}");
            }
        }
        for at in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.clone();
                bad[at] ^= 1 << bit;
                if let Ok(s) = std::str::from_utf8(&bad)
                    && let Ok(q) = Packed::from_raw(s)
                {
                    // Whatever was accepted must be fully readable.
                    let _ = q.pairs().count();
                }
            }
        }
        let unsorted = "\u{1}\u{2}\u{1}\u{2}\u{3}\u{4}bxay";
        assert!(Packed::from_raw(unsorted).is_err());
        let wide = "\u{2}\u{1}\u{0}\u{1}\u{0}\u{2}\u{0}ab";
        assert!(Packed::from_raw(wide).is_err(), "non-canonical width");
    }
}
