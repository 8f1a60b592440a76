//! A regex matcher's pattern: what its literals say without compiling it,
//! and the compiled regex for the rest, built on first use.
//!
//! A silence store holds thousands of regex matchers, most of them in
//! silences that have expired and are only kept to be listed. Compiling
//! each at load was nearly all of a restart's time and memory (10,000
//! silences of two regexes: 1.7 s and 288 MiB to ready). Most patterns
//! people write are literal alternations (`warning|critical`) or have a
//! literal start or end (`db-.*`): those are answered from the literals,
//! and a regex is compiled only for a value the literals cannot rule out.

use std::sync::{Arc, OnceLock};

use regex_automata::meta::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, Look};

/// The pattern's text is the matcher's value, passed in: a store of
/// silences holds many patterns, so nothing here is kept twice, and
/// what is worked out is boxed (a pattern never matched costs a pointer).
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    /// Worked out on first use, or up front for [`Pattern::compiled`].
    known: OnceLock<Box<Known>>,
}

#[derive(Debug, Clone)]
struct Known {
    shape: Shape,
    /// Only for a [`Shape::Bounded`] pattern, once a value got past its
    /// bounds. `None` if compiling failed.
    regex: OnceLock<Option<Regex>>,
}

/// What the pattern's literals decide on their own.
#[derive(Debug, Clone)]
enum Shape {
    /// The pattern matches exactly these values, sorted.
    Exactly(Arc<[Box<[u8]>]>),
    /// Every match starts with one of `starts` and ends with one of `ends`
    /// (`None`: no such bound); the regex decides the rest.
    Bounded {
        starts: Option<Arc<[Box<[u8]>]>>,
        ends: Option<Arc<[Box<[u8]>]>>,
    },
    /// A pattern stored by a release with other limits that no longer
    /// parses or compiles: it matches no value, so a `!~` silence mutes
    /// nothing rather than everything.
    Broken,
}

impl Pattern {
    /// Checked and compiled now: the caller wants every error up front.
    /// (A literal set needs no regex, and is far below any size limit.)
    pub(super) fn compiled(value: &str) -> Result<Self, String> {
        // As Alertmanager reads it: `(?x)a#` parses alone but not wrapped.
        regex_automata::util::syntax::parse(&anchored(value)).map_err(|e| e.to_string())?;
        let shape = Shape::of(value)?;
        let regex = OnceLock::new();
        if let Shape::Bounded { .. } = shape {
            let _ = regex.set(Some(compile(&anchored(value))?));
        }
        Ok(Self {
            known: OnceLock::from(Box::new(Known { shape, regex })),
        })
    }

    /// For patterns that were valid when they were stored: nothing is done
    /// until a value is matched, so a silence that expired before it was
    /// ever matched costs only its text.
    pub(super) fn deferred() -> Self {
        Self {
            known: OnceLock::new(),
        }
    }

    /// Whether the whole of `value` matches `pattern` (this pattern's
    /// text); `None` when the pattern does not compile.
    pub(super) fn is_match(&self, pattern: &str, value: &str) -> Option<bool> {
        let known = self.known.get_or_init(|| {
            Box::new(Known {
                shape: Shape::of(pattern).unwrap_or_else(|reason| broken(pattern, &reason)),
                regex: OnceLock::new(),
            })
        });
        let bytes = value.as_bytes();
        match &known.shape {
            Shape::Exactly(values) => {
                return Some(values.binary_search_by(|v| (**v).cmp(bytes)).is_ok());
            }
            Shape::Broken => return None,
            Shape::Bounded { starts, ends } => {
                let outside = |bound: &Option<Arc<[Box<[u8]>]>>, fits: fn(&[u8], &[u8]) -> bool| {
                    bound
                        .as_ref()
                        .is_some_and(|lits| !lits.iter().any(|l| fits(bytes, l)))
                };
                if outside(starts, <[u8]>::starts_with) || outside(ends, <[u8]>::ends_with) {
                    return Some(false);
                }
            }
        }
        known
            .regex
            .get_or_init(|| {
                compile(&anchored(pattern))
                    .map_err(|reason| broken(pattern, &reason))
                    .ok()
            })
            .as_ref()
            .map(|re| re.is_match(value))
    }

    #[cfg(test)]
    pub(super) fn is_compiled(&self) -> bool {
        self.known
            .get()
            .is_some_and(|k| k.regex.get().is_some_and(Option::is_some))
    }
}

fn broken(pattern: &str, reason: &str) -> Shape {
    tracing::warn!(
        pattern,
        %reason,
        "a stored regex matcher no longer compiles; it matches nothing"
    );
    Shape::Broken
}

/// As Alertmanager anchors a matcher's regex.
fn anchored(value: &str) -> String {
    format!("^(?:{value})$")
}

impl Shape {
    /// The pattern's literal shape, or why it does not parse.
    fn of(value: &str) -> Result<Shape, String> {
        let parse = |p: &str| regex_automata::util::syntax::parse(p).map_err(|e| e.to_string());
        // Parsed once as written, the anchors added to the tree rather
        // than parsed again. A pattern that only parses wrapped (`a)|(b`
        // reads as `^(?:a)|(b)$`, anchored at one end per branch) gets no
        // bounds: its matches need not span the value.
        let inner = match parse(value) {
            Ok(inner) => inner,
            Err(_) => {
                parse(&anchored(value))?;
                return Ok(Shape::Bounded {
                    starts: None,
                    ends: None,
                });
            }
        };
        // Literals are exact only if nothing but them constrains a match:
        // extraction reads a look-around (`a\bb`, `a^b`) as matching
        // anywhere. The anchors are implied by a whole match.
        if inner.properties().look_set().is_empty() {
            let seq = extractor(ExtractKind::Prefix).extract(&inner);
            if seq.is_exact() {
                let mut values = literals(&seq).unwrap_or_default();
                values.sort();
                values.dedup();
                return Ok(Shape::Exactly(values.into()));
            }
        }
        let hir = Hir::concat(vec![Hir::look(Look::Start), inner, Hir::look(Look::End)]);
        // An empty literal bounds nothing: every value starts with it.
        let bound = |kind| {
            literals(&extractor(kind).extract(&hir))
                .filter(|lits| lits.iter().all(|l| !l.is_empty()))
                .map(Arc::from)
        };
        Ok(Shape::Bounded {
            starts: bound(ExtractKind::Prefix),
            ends: bound(ExtractKind::Suffix),
        })
    }
}

/// Extraction that stays cheap: a class of more than a few characters
/// (`[0-9]`) ends a literal instead of multiplying it. With the default
/// of 10, `host-1\.example:9[0-9]{3}` grows a thousand literals, and
/// 10,000 such silences took a second to load.
fn extractor(kind: ExtractKind) -> Extractor {
    let mut e = Extractor::new();
    e.kind(kind).limit_class(4);
    e
}

/// The sequence's literals; `None` when it is infinite.
fn literals(seq: &Seq) -> Option<Vec<Box<[u8]>>> {
    Some(
        seq.literals()?
            .iter()
            .map(|l| l.as_bytes().into())
            .collect(),
    )
}

/// Compiles an anchored pattern. Not `regex::Regex`: with the full-DFA
/// feature on (tracing-subscriber's filter turns it on for the whole
/// build) that determinizes every small pattern at compile time (10,000
/// silences of two regexes each took 2.35 s and 335 MiB to ready with
/// it, 1.7 s and 288 MiB without). The lazy DFA matches as fast once warm
/// and only grows for the patterns that are used.
///
/// An invalid pattern is described by `regex`'s own message (the meta
/// builder's says only "error parsing pattern 0").
fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .configure(Regex::config().dfa(false))
        .build(pattern)
        .map_err(|e| match regex::Regex::new(pattern) {
            Err(described) => described.to_string(),
            Ok(_) => e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literals' answer for each value, and the regex's, agree.
    fn agree(pattern: &str, values: &[&str]) -> Pattern {
        let p = Pattern::deferred();
        let re = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
        for v in values {
            assert_eq!(
                p.is_match(pattern, v),
                Some(re.is_match(v)),
                "{pattern} on {v:?}"
            );
        }
        p
    }

    #[test]
    fn literal_sets_need_no_regex() {
        for pattern in [
            "warning|critical",
            "node",
            "(node|mysql)-7",
            "(?i)Prod",
            "|x",
            "[^\\s\\S]",
        ] {
            let p = agree(
                pattern,
                &[
                    "warning",
                    "critical",
                    "warn",
                    "node",
                    "node-7",
                    "mysql-7",
                    "PROD",
                    "prod",
                    "",
                    "x",
                    "critical ",
                ],
            );
            assert!(
                matches!(p.known.get().unwrap().shape, Shape::Exactly(_)),
                "{pattern}"
            );
            assert!(!p.is_compiled(), "{pattern}");
        }
    }

    #[test]
    fn look_arounds_are_left_to_the_regex() {
        for pattern in ["a\\bb", "a^b", "a$|b", "\\bx\\b"] {
            let p = agree(pattern, &["ab", "a", "b", "x", ""]);
            assert!(
                matches!(p.known.get().unwrap().shape, Shape::Bounded { .. }),
                "{pattern}"
            );
        }
    }

    #[test]
    fn a_literal_start_or_end_rules_values_out_before_compiling() {
        let p = agree(
            "db-.*|host-[0-9]+\\.example",
            &[
                "web-1",
                "db-",
                "db-1",
                "host-12.example",
                "host-x.example",
                "host-1",
            ],
        );
        assert!(p.is_compiled(), "db-1 needed the regex");
        let p = Pattern::deferred();
        assert_eq!(p.is_match(".*-prod", "api-staging"), Some(false));
        assert!(!p.is_compiled(), "ruled out by its end");
        assert_eq!(p.is_match(".*-prod", "api-prod"), Some(true));
        // No literal bound at all: the regex decides.
        agree(".*", &["", "anything"]);
        agree("(a|)b*", &["", "a", "abbb", "bb", "c"]);
    }

    proptest::proptest! {
        /// Patterns built from pieces that exercise the literal analysis
        /// (alternation, classes, repetition, case folding, look-arounds):
        /// the answer never differs from the regex's.
        #[test]
        fn the_literals_never_contradict_the_regex(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "a", "b", "ab", "-", "|", "(", ")", "*", "+", "?", ".", "[ab]", "[^a]",
                "\\b", "^", "$", "(?i)", "A", "{2}", "(?:", "\\d", "x|", "(?x)", "#", "\n", " ",
            ][..]), 0..8),
            values in proptest::collection::vec("[abAB1x-]{0,5}", 1..6),
        ) {
            let pattern = pieces.concat();
            let Ok(re) = regex::Regex::new(&format!("^(?:{pattern})$")) else {
                return Ok(());
            };
            let p = Pattern::deferred();
            for v in &values {
                proptest::prop_assert_eq!(p.is_match(&pattern, v), Some(re.is_match(v)), "{} on {:?}", pattern, v);
            }
        }
    }
}
