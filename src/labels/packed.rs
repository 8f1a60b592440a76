//! One allocation for a whole label set: the offsets and the text share a
//! single string.
//!
//! A set is stored as `[lead][count?][end…][text]`. Numbers are written in
//! `w` bytes (1 to 5) of seven bits each, least significant first, so the
//! header is plain ASCII and the whole buffer stays a valid `str` without
//! unsafe code. The lead byte holds `w` in its low three bits and, for up
//! to 15 pairs, the pair count above them; a larger count follows the lead
//! in `w` bytes. Each pair has two ends (name, then value) counted from the
//! start of the text. A typical alert's labels (under 128 bytes of text,
//! under 16 pairs) pay one byte per offset plus one, and the set is one
//! malloc, not two.
//!
//! The encoding is canonical (the smallest width that fits; the count in
//! the lead byte whenever it fits), so two buffers are equal exactly when
//! their pairs are: equality and hashing work on the buffer.

/// Seven bits per header byte keeps every header byte below 0x80 (ASCII).
const DIGIT_BITS: u32 = 7;
const MAX_WIDTH: usize = 5;
/// Low bits of the lead byte: the width.
const WIDTH_MASK: u8 = 0b111;
/// Pair counts up to this fit in the lead byte (four bits above the width).
const MAX_LEAD_COUNT: usize = 15;

/// Where a set's parts are, decoded from its lead byte.
#[derive(Clone, Copy)]
struct Layout {
    width: usize,
    count: usize,
    /// Byte offset of the first end.
    ends_at: usize,
}

impl Layout {
    fn text_start(&self) -> usize {
        self.ends_at + 2 * self.count * self.width
    }
}

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
        let lead_count = if count <= MAX_LEAD_COUNT { count } else { 0 };
        let mut out = String::with_capacity(1 + w * (1 + 2 * count) + text);
        out.push(char::from(w as u8 | (lead_count as u8) << 3));
        if lead_count == 0 {
            push_number(&mut out, count, w);
        }
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

    /// The whole buffer, to check its size.
    #[cfg(test)]
    fn as_raw(&self) -> &str {
        &self.0
    }

    /// Only for a non-empty set.
    fn layout(&self) -> Layout {
        let lead = self.0.as_bytes()[0];
        let width = usize::from(lead & WIDTH_MASK);
        match usize::from(lead >> 3) {
            0 => Layout {
                width,
                count: self.number(1, width),
                ends_at: 1 + width,
            },
            count => Layout {
                width,
                count,
                ends_at: 1,
            },
        }
    }

    /// The number written in `w` bytes at byte offset `at`.
    fn number(&self, at: usize, w: usize) -> usize {
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
            self.layout().count
        }
    }

    pub(super) fn text(&self) -> &str {
        if self.0.is_empty() {
            ""
        } else {
            &self.0[self.layout().text_start()..]
        }
    }

    /// End of slot `slot` in the text: slot `2i` is name `i`, `2i + 1` its
    /// value.
    fn end(&self, layout: Layout, slot: usize) -> usize {
        self.number(layout.ends_at + slot * layout.width, layout.width)
    }

    pub(super) fn slot(&self, slot: usize) -> &str {
        let layout = self.layout();
        let start = if slot == 0 {
            0
        } else {
            self.end(layout, slot - 1)
        };
        &self.0[layout.text_start()..][start..self.end(layout, slot)]
    }

    pub(super) fn pairs(&self) -> Pairs<'_> {
        let layout = (!self.0.is_empty()).then(|| self.layout());
        Pairs {
            packed: self,
            layout: layout.unwrap_or(Layout {
                width: 1,
                count: 0,
                ends_at: 0,
            }),
            text: self.text(),
            next: 0,
            start: 0,
        }
    }
}

/// The pairs in order, decoding each end once.
#[derive(Clone)]
pub(super) struct Pairs<'a> {
    packed: &'a Packed,
    layout: Layout,
    text: &'a str,
    next: usize,
    start: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.layout.count {
            return None;
        }
        let name_end = self.packed.end(self.layout, 2 * self.next);
        let value_end = self.packed.end(self.layout, 2 * self.next + 1);
        let pair = (
            &self.text[self.start..name_end],
            &self.text[name_end..value_end],
        );
        self.start = value_end;
        self.next += 1;
        Some(pair)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.layout.count - self.next;
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
        assert_eq!(Packed::from_sorted(&p.pairs().collect::<Vec<_>>()), p);
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
        let names: Vec<String> = (0..40).map(|i| format!("l{i:02}")).collect();
        let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        round_trip(&many[..15]);
        round_trip(&many[..16]);
        round_trip(&many);
    }

    #[test]
    fn utf8_names_round_trip_in_byte_order() {
        // Byte order is Go's string order: ASCII, then Cyrillic, then emoji.
        round_trip(&[
            ("Zed", "1"),
            ("service.name", "api"),
            ("ключ", "значение"),
            ("🙂", "é"),
        ]);
    }

    #[test]
    fn the_last_of_a_repeated_name_wins() {
        let p = Packed::from_sorted(&[("a", "1"), ("a", "2"), ("b", "3"), ("b", "4")]);
        assert_eq!(p.pairs().collect::<Vec<_>>(), [("a", "2"), ("b", "4")]);
    }

    #[test]
    fn short_sets_take_one_byte_per_offset() {
        let p = Packed::from_sorted(&[("alertname", "A"), ("job", "node")]);
        assert_eq!(p.as_raw().len(), 1 + 4 + "alertnameAjobnode".len());
    }
}
