//! Label names, label sets and the alert fingerprint.
//!
//! Everything that identifies an alert starts here: a `LabelSet` is the
//! alert's identity and its `Fingerprint` is the same 64-bit FNV-1a hash
//! Alertmanager computes, so IDs shown by klaxon match the ones users see in
//! Alertmanager, amtool and Grafana.

use std::borrow::Cow;
use std::fmt;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

mod packed;
use crate::cow_str::CowStr;
use packed::Packed;

/// Why a label name or set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Alertmanager's words (`validateLs`).
    #[error("invalid name {0:?}")]
    InvalidName(String),
    #[error("at least one label pair required")]
    Empty,
}

/// Which label names are valid and how matchers are read: Alertmanager's
/// three modes (its `matcher/compat`), chosen with `--enable-feature`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameMode {
    /// Any non-empty UTF-8 name; matchers by the UTF-8 parser, falling back
    /// to the classic one (with a warning) for input only it reads.
    #[default]
    Fallback,
    /// `utf8-strict-mode`: any non-empty UTF-8 name; the UTF-8 parser only.
    Utf8Strict,
    /// `classic-mode`: classic names only; the classic parser only.
    Classic,
}

impl NameMode {
    pub fn from_features(features: &crate::features::Features) -> Self {
        if features.classic_mode {
            NameMode::Classic
        } else if features.utf8_strict_mode {
            NameMode::Utf8Strict
        } else {
            NameMode::Fallback
        }
    }

    /// Whether `name` is a valid label name in this mode. A `str` is always
    /// valid UTF-8: input that is not is refused (or, for an alert body,
    /// replaced) where it is decoded.
    pub fn is_valid(self, name: &str) -> bool {
        match self {
            NameMode::Classic => is_valid_label_name(name),
            NameMode::Fallback | NameMode::Utf8Strict => !name.is_empty(),
        }
    }
}

/// Prometheus' classic label-name rule: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A validated label name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LabelName(String);

impl LabelName {
    pub fn parse(name: &str) -> Result<Self, LabelError> {
        if is_valid_label_name(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(LabelError::InvalidName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for LabelName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for LabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of labels, kept sorted by name (byte order, as Go's `sort.Strings`).
///
/// Packed: every name and value back to back in one allocation with their
/// offsets (see [`packed`]). An alert holds two sets (labels and
/// annotations), and 100k alerts must fit in a fraction of Alertmanager's
/// memory: one allocation per string cost fifteen allocations per set,
/// each with malloc's overhead.
///
/// Names are not checked on deserialisation so that the API can report an
/// invalid alert in a batch without rejecting the whole body; call
/// [`LabelSet::validate`] before trusting one.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSet {
    pairs: Packed,
}

impl LabelSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.get(name)
    }

    /// Sets one label; rebuilds the set, so meant for building sets, not
    /// for hot paths.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        let mut pairs: Vec<(&str, &str)> = self.iter().collect();
        pairs.push((&name, &value));
        *self = Self::from_pairs(&mut pairs);
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.len() == 0
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.pairs.pairs()
    }

    /// Where the set's bytes start in memory, for a prefetch; reads none
    /// of them (unlike [`LabelSet::text`], which reads the header).
    pub fn as_ptr(&self) -> *const u8 {
        self.pairs.as_ptr()
    }

    /// Bytes of names and values together.
    pub fn text_len(&self) -> usize {
        self.pairs.text().len()
    }

    /// Every name and value run together, in order: a check over all of
    /// them at once (does any need escaping?) without a walk over pairs.
    pub fn text(&self) -> &str {
        self.pairs.text()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(name, _)| name)
    }

    /// Alertmanager drops labels with empty values before validating.
    pub fn remove_empty_values(&mut self) {
        if self.pairs.has_empty_value() {
            let mut kept: Vec<(&str, &str)> = self.iter().filter(|(_, v)| !v.is_empty()).collect();
            *self = Self::from_pairs(&mut kept);
        }
    }

    /// Checks every name; an empty set is refused, as Alertmanager does.
    pub fn validate(&self, mode: NameMode) -> Result<(), LabelError> {
        if self.is_empty() {
            return Err(LabelError::Empty);
        }
        self.validate_names(mode)
    }

    /// Checks every name but allows an empty set (annotations).
    pub fn validate_names(&self, mode: NameMode) -> Result<(), LabelError> {
        // Every posted alert comes through here; in the UTF-8 modes only an
        // empty name is invalid, which the offsets tell without a walk.
        if mode != NameMode::Classic && !self.pairs.has_empty_name() {
            return Ok(());
        }
        match self.names().find(|k| !mode.is_valid(k)) {
            Some(bad) => Err(LabelError::InvalidName(bad.to_string())),
            None => Ok(()),
        }
    }

    /// The labels whose names are in `names`, in a new set.
    pub fn subset<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> LabelSet {
        let mut pairs: Vec<(&str, &str)> = names
            .into_iter()
            .filter_map(|n| self.get(n).map(|v| (n, v)))
            .collect();
        Self::from_pairs(&mut pairs)
    }

    /// Computed on every call; an alert caches its own (see `Alert`).
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(self.iter())
    }

    /// `self.subset(names).fingerprint()` without building the subset:
    /// routing needs the group's fingerprint for every alert, the group's
    /// labels only when it opens a new group. `names` must be sorted and
    /// without repeats (a route sorts its `group_by` once), so the pairs
    /// are hashed as they are found.
    pub fn subset_fingerprint<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Fingerprint {
        let mut last: Option<&str> = None;
        fingerprint_of(names.into_iter().filter_map(|n| {
            debug_assert!(last.is_none_or(|l| l < n), "names sorted, no repeats");
            last = Some(n);
            self.get(n).map(|v| (n, v))
        }))
    }

    /// Prometheus' `LabelSet.Before`: smaller sets first, then the first
    /// differing label (a missing name sorts first).
    pub fn before(&self, other: &LabelSet) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match self.len().cmp(&other.len()) {
            Ordering::Equal => {}
            o => return o,
        }
        let mut names: Vec<&str> = self.names().chain(other.names()).collect();
        names.sort_unstable();
        for n in names {
            match (self.get(n), other.get(n)) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(a), Some(b)) if a != b => return a.cmp(b),
                _ => {}
            }
        }
        Ordering::Equal
    }

    /// Sorts by name; for a repeated name the last value wins, as Go's JSON
    /// decoder does.
    fn from_pairs<S: AsRef<str>>(pairs: &mut [(S, S)]) -> Self {
        // Prometheus sends labels sorted, each name once: checked in one
        // pass. Otherwise a stable sort, so equal names keep their input
        // order and the last one wins.
        if pairs.is_sorted_by(|a, b| name_precedes(a.0.as_ref(), b.0.as_ref())) {
            return Self {
                pairs: Packed::from_unique(pairs),
            };
        }
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        Self {
            pairs: Packed::from_sorted(pairs),
        }
    }
}

/// `a < b`, deciding on the first bytes where they differ, as they do for
/// most neighbouring label names, without a `memcmp` call.
fn name_precedes(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

/// Alertmanager's fingerprint: FNV-1a 64 over sorted pairs, each name and
/// value followed by 0xff.
fn fingerprint_of<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Fingerprint {
    let mut h = fnv::FnvHasher::default();
    for (k, v) in pairs {
        h.write(k.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    Fingerprint(h.finish())
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for LabelSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for LabelSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = LabelSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of label names to string values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<LabelSet, A::Error> {
                // Borrowed from the body where it has no escapes, and
                // collected on the stack for a typical set: the packed set
                // is the only allocation.
                let mut pairs: SmallVec<[(Cow<'de, str>, Cow<'de, str>); 12]> = SmallVec::new();
                while let Some((k, v)) = map.next_entry::<CowStr<'de>, CowStr<'de>>()? {
                    pairs.push((k.0, v.0));
                }
                Ok(LabelSet::from_pairs(&mut pairs))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl FromIterator<(String, String)> for LabelSet {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Self::from_pairs(&mut iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for LabelSet {
    fn from_iter<T: IntoIterator<Item = (&'a str, &'a str)>>(iter: T) -> Self {
        Self::from_pairs(&mut iter.into_iter().collect::<Vec<_>>())
    }
}

/// Formats as Prometheus' `LabelSet.String()`: `{a="1", b="2"}`. Group keys
/// are built from this, so the quoting must match Go's `strconv.Quote`.
impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={}", go_quote(v))?;
        }
        f.write_str("}")
    }
}

/// Go's `strconv.Quote`: printable characters stay, everything else is escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !is_go_printable(c) => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, as far as it matters for label values: letters,
/// marks, numbers, punctuation and symbols print, and of the spaces only
/// U+0020; controls, other spaces, format characters, private use and
/// noncharacters are escaped. (Unassigned code points, which Go escapes
/// too, print here: that needs Unicode's tables.)
fn is_go_printable(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0x00ad, 0x00ad),
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];
    let n = c as u32;
    if c == ' ' {
        return true;
    }
    let private_use = (0xe000..=0xf8ff).contains(&n) || n >= 0xf0000;
    let noncharacter = (0xfdd0..=0xfdef).contains(&n) || n & 0xfffe == 0xfffe;
    !(c.is_whitespace()
        || c.is_control()
        || private_use
        || noncharacter
        || FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&n)))
}

/// An alert's identity: FNV-1a 64 over its sorted labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    pub fn parse(s: &str) -> Option<Self> {
        u64::from_str_radix(s, 16).ok().map(Self)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    #[test]
    fn fingerprint_matches_alertmanager() {
        let ls = set(&[
            ("alertname", "Foo"),
            ("instance", "a:1"),
            ("severity", "critical"),
            ("team", "x"),
        ]);
        assert_eq!(ls.fingerprint().to_string(), "308a0a6e5bc19c4a");
    }

    #[test]
    fn fingerprint_of_reference_capture() {
        let ls = set(&[
            ("alertname", "ApiShapeA"),
            ("instance", "host1"),
            ("severity", "warning"),
        ]);
        assert_eq!(ls.fingerprint().to_string(), "16bb263311e62381");
    }

    #[test]
    fn a_subset_fingerprint_is_the_fingerprint_of_the_subset() {
        let ls = set(&[("alertname", "A"), ("team", "x"), ("env", "prod")]);
        for names in [
            &["alertname", "team"][..],
            &["alertname", "missing"],
            &[],
            &["alertname", "env", "team"],
        ] {
            assert_eq!(
                ls.subset_fingerprint(names.iter().copied()),
                ls.subset(names.iter().copied()).fingerprint(),
                "{names:?}"
            );
        }
    }

    #[test]
    fn label_set_formats_like_prometheus() {
        let ls = set(&[("team", "x"), ("alertname", "Fo\"o")]);
        assert_eq!(ls.to_string(), r#"{alertname="Fo\"o", team="x"}"#);
    }

    #[test]
    fn label_names_follow_the_classic_rule() {
        for good in ["a", "_x", "A_1", "alertname"] {
            assert!(is_valid_label_name(good), "{good}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é", "a:b"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn json_maps_round_trip_sorted_and_last_duplicate_wins() {
        let ls: LabelSet = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).unwrap();
        assert_eq!(ls.get("b"), Some("3"));
        assert_eq!(serde_json::to_string(&ls).unwrap(), r#"{"a":"2","b":"3"}"#);
        let mut ls = ls;
        ls.insert("c", "4");
        ls.insert("a", "5");
        assert_eq!(ls.to_string(), r#"{a="5", b="3", c="4"}"#);
    }

    #[test]
    fn go_quote_escapes_controls_and_keeps_unicode() {
        assert_eq!(go_quote("é\n\u{1}"), "\"é\\n\\x01\"");
        // As Go's strconv.Quote: only the ASCII space prints of the spaces.
        assert_eq!(
            go_quote("a b\u{a0}\u{200b}\u{2028}\u{feff}🙂\u{e000}\u{10ffff}"),
            r#""a b\u00a0\u200b\u2028\ufeff🙂\ue000\U0010ffff""#
        );
    }

    #[test]
    fn utf8_names_sort_fingerprint_and_print_as_alertmanager() {
        let ls = set(&[("service.name", "api"), ("alertname", "Up")]);
        // prometheus/common's fingerprint of these labels.
        assert_eq!(ls.fingerprint().to_string(), "c932e448e4e56a05");
        // Names are printed as they are in group keys, values Go-quoted.
        let ls = set(&[("service.name", "api"), ("ключ", "é"), ("Zed", "x")]);
        assert_eq!(ls.to_string(), r#"{Zed="x", service.name="api", ключ="é"}"#);
        let back: LabelSet = serde_json::from_str(&serde_json::to_string(&ls).unwrap()).unwrap();
        assert_eq!(back, ls);
        assert_eq!(back.get("ключ"), Some("é"));
    }
}
