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

/// The number written in `w` header bytes at `bytes[at..]` (see
/// [`push_number`]).
fn read_number(bytes: &[u8], at: usize, w: usize) -> usize {
    if w == 1 {
        // Nearly every set: under 128 bytes of text. Checked before
        // slicing, which costs a walk over pairs a tenth of its time.
        return usize::from(bytes[at]);
    }
    bytes[at..at + w]
        .iter()
        .rev()
        .fold(0, |n, &b| (n << DIGIT_BITS) | usize::from(b))
}

/// Appends `n` as `w` header bytes, seven bits each, least significant
/// first: ASCII, so the buffer is built as a `str` and never re-checked.
fn push_number(out: &mut String, mut n: usize, w: usize) {
    for _ in 0..w {
        out.push(char::from((n & 0x7f) as u8));
        n >>= DIGIT_BITS;
    }
}

impl Packed {
    /// Where the packed bytes start; reads none of them.
    pub(super) fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    /// Packs pairs sorted by name (stably); of pairs with the same name,
    /// the last one is kept. Repeats are dropped in one pass before
    /// packing: only input out of order or with repeats comes here.
    pub(super) fn from_sorted<S: AsRef<str>>(pairs: &[(S, S)]) -> Self {
        let mut kept: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            match kept.last_mut() {
                Some(last) if last.0 == name => *last = (name, value),
                _ => kept.push((name, value)),
            }
        }
        Self::from_unique(&kept)
    }

    /// Packs pairs whose names strictly increase: what Prometheus sends,
    /// so the ingest path comes here straight, without looking for repeats.
    ///
    /// Three passes: one to size the buffer exactly (a larger one was
    /// shrunk by a `realloc` per set), one to write the header, one the text.
    pub(super) fn from_unique<S: AsRef<str>>(pairs: &[(S, S)]) -> Self {
        debug_assert!(pairs.is_sorted_by(|a, b| a.0.as_ref() < b.0.as_ref()));
        let count = pairs.len();
        if count == 0 {
            return Self::default();
        }
        let text: usize = pairs
            .iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len())
            .sum();
        assert!(
            text < 1 << (DIGIT_BITS as usize * MAX_WIDTH).min(usize::BITS as usize - 1),
            "a label set under 32 GiB"
        );
        let w = width_for(text.max(count));
        let lead_count = if count <= MAX_LEAD_COUNT { count } else { 0 };
        let header = 1 + w * (usize::from(lead_count == 0) + 2 * count);
        // Header first, then the text: pushed as strings, so the buffer is
        // valid UTF-8 by construction (checking it after cost more than
        // writing it).
        let mut out = String::with_capacity(header + text);
        out.push(char::from(w as u8 | (lead_count as u8) << 3));
        if lead_count == 0 {
            push_number(&mut out, count, w);
        }
        let mut end = 0;
        for (k, v) in pairs {
            for part in [k.as_ref(), v.as_ref()] {
                end += part.len();
                push_number(&mut out, end, w);
            }
        }
        for (k, v) in pairs {
            out.push_str(k.as_ref());
            out.push_str(v.as_ref());
        }
        debug_assert_eq!(out.len(), header + text, "sized exactly");
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
        read_number(self.0.as_bytes(), at, w)
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

    /// Start of slot `slot` in the text.
    fn start(&self, layout: Layout, slot: usize) -> usize {
        match slot {
            0 => 0,
            s => self.end(layout, s - 1),
        }
    }

    #[cfg(test)]
    fn slot(&self, slot: usize) -> &str {
        let layout = self.layout();
        &self.0[layout.text_start()..][self.start(layout, slot)..self.end(layout, slot)]
    }

    /// The value of `name`: routing asks this of every alert for each
    /// `group_by` label and matcher. The header is decoded once; a small
    /// set is scanned comparing lengths first (most names differ in
    /// length, so few are compared byte by byte), a larger one searched
    /// by halves (the names are sorted).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        /// Up to this many pairs a scan beats a search: each probe of a
        /// search compares whole names.
        const SCAN: usize = 8;
        if self.0.is_empty() {
            return None;
        }
        let layout = self.layout();
        let text = &self.0[layout.text_start()..];
        let name_at = |i: usize| (self.start(layout, 2 * i), self.end(layout, 2 * i));
        let value_of = |name_end: usize, i: usize| &text[name_end..self.end(layout, 2 * i + 1)];
        if layout.count <= SCAN {
            return (0..layout.count).find_map(|i| {
                let (start, end) = name_at(i);
                (end - start == name.len() && &text[start..end] == name).then(|| value_of(end, i))
            });
        }
        let (mut lo, mut hi) = (0, layout.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (start, end) = name_at(mid);
            match text[start..end].cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(value_of(end, mid)),
            }
        }
        None
    }

    /// Whether any value is empty, from the offsets alone: asked of every
    /// posted alert's labels.
    pub(super) fn has_empty_value(&self) -> bool {
        self.has_empty_slot(1)
    }

    /// Whether any name is empty, from the offsets alone: the whole of
    /// validation in the UTF-8 name modes.
    pub(super) fn has_empty_name(&self) -> bool {
        self.has_empty_slot(0)
    }

    /// Whether any slot `2i + parity` (0: names, 1: values) is empty.
    fn has_empty_slot(&self, parity: usize) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let layout = self.layout();
        if layout.width == 1 {
            // Nearly every set: one byte per end, read pair by pair (a
            // slot's start is the end before it).
            let ends = &self.0.as_bytes()[layout.ends_at..layout.text_start()];
            let mut name_start = 0;
            for pair in ends.chunks_exact(2) {
                let (name_end, value_end) = (pair[0], pair[1]);
                let empty = match parity {
                    0 => name_end == name_start,
                    _ => value_end == name_end,
                };
                if empty {
                    return true;
                }
                name_start = value_end;
            }
            return false;
        }
        (0..layout.count)
            .map(|i| 2 * i + parity)
            .any(|slot| self.start(layout, slot) == self.end(layout, slot))
    }

    pub(super) fn pairs(&self) -> Pairs<'_> {
        if self.0.is_empty() {
            return Pairs {
                ends: &[],
                width: 1,
                rest: "",
                start: 0,
            };
        }
        let layout = self.layout();
        let text_start = layout.text_start();
        Pairs {
            ends: &self.0.as_bytes()[layout.ends_at..text_start],
            width: layout.width,
            rest: &self.0[text_start..],
            start: 0,
        }
    }
}

/// The pairs in order, decoding each end once. Every walk over a set
/// (fingerprint, validation, encoding, matching) comes through here.
#[derive(Clone)]
pub(super) struct Pairs<'a> {
    /// The ends not yet read, two per pair.
    ends: &'a [u8],
    width: usize,
    /// The text from the next pair on.
    rest: &'a str,
    /// Where `rest` starts in the set's text (ends count from there).
    start: usize,
}

impl Pairs<'_> {
    fn end(&self, i: usize) -> usize {
        read_number(self.ends, i * self.width, self.width)
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (name_end, pair_end, ends) = match (self.width, self.ends) {
            // Nearly every set: one byte per end, read without a loop.
            (1, [name_end, pair_end, ends @ ..]) => {
                (usize::from(*name_end), usize::from(*pair_end), ends)
            }
            (_, []) => return None,
            (w, _) => (self.end(0), self.end(1), &self.ends[2 * w..]),
        };
        let name_len = name_end - self.start;
        let pair_len = pair_end - self.start;
        let (pair, rest) = self.rest.split_at(pair_len);
        let pair = pair.split_at(name_len);
        self.ends = ends;
        self.rest = rest;
        self.start += pair_len;
        Some(pair)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.ends.len() / (2 * self.width);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(pairs: &[(&str, &str)]) {
        let p = Packed::from_sorted(pairs);
        assert_eq!(Packed::from_unique(pairs), p);
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

    proptest::proptest! {
        #[test]
        fn any_sorted_pairs_round_trip(
            mut pairs in proptest::collection::vec(("[a-c]{0,2}", ".{0,40}"), 0..40),
            long in proptest::option::of(".{100,300}"),
        ) {
            if let Some(long) = long {
                pairs.push(("zz".into(), long));
            }
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let kept: Vec<(&str, &str)> = pairs
                .iter()
                .enumerate()
                // A pair is kept unless the next one has its name.
                .filter(|(i, (k, _))| pairs.get(i + 1).is_none_or(|(next, _)| next != k))
                .map(|(_, (k, v))| (k.as_str(), v.as_str()))
                .collect();
            let p = Packed::from_sorted(&pairs);
            proptest::prop_assert_eq!(&Packed::from_unique(&kept), &p);
            proptest::prop_assert_eq!(p.pairs().collect::<Vec<_>>(), kept.clone());
            proptest::prop_assert_eq!(p.pairs().len(), kept.len());
            proptest::prop_assert_eq!(p.len(), kept.len());
            for (i, (k, v)) in kept.iter().enumerate() {
                proptest::prop_assert_eq!(p.slot(2 * i), *k);
                proptest::prop_assert_eq!(p.slot(2 * i + 1), *v);
                proptest::prop_assert_eq!(p.get(k), Some(*v));
            }
            for absent in ["", "0", "a0", "b", "bb0", "d", "zz0"] {
                let want = kept.iter().find(|(k, _)| *k == absent).map(|(_, v)| *v);
                proptest::prop_assert_eq!(p.get(absent), want);
            }
            proptest::prop_assert_eq!(p.has_empty_value(), kept.iter().any(|(_, v)| v.is_empty()));
            proptest::prop_assert_eq!(p.has_empty_name(), kept.iter().any(|(k, _)| k.is_empty()));
        }
    }

    #[test]
    fn empty_values_are_found_from_the_offsets() {
        assert!(!Packed::from_sorted::<&str>(&[]).has_empty_value());
        assert!(!Packed::from_sorted(&[("a", "1"), ("b", "2")]).has_empty_value());
        assert!(Packed::from_sorted(&[("a", "1"), ("b", "")]).has_empty_value());
        assert!(Packed::from_sorted(&[("", ""), ("b", "2")]).has_empty_value());
        assert!(Packed::from_sorted(&[("", "1"), ("b", "2")]).has_empty_name());
        assert!(!Packed::from_sorted(&[("a", ""), ("b", "")]).has_empty_name());
        let big = "x".repeat(300);
        assert!(Packed::from_sorted(&[("a", big.as_str()), ("b", "")]).has_empty_value());
        assert!(!Packed::from_sorted(&[("a", big.as_str()), ("b", "c")]).has_empty_value());
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
