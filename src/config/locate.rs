//! Finds the line of a field path (`receivers[1].webhook_configs[0].url`)
//! in the YAML text, so that errors found after parsing (validation,
//! `*_file` checks) still point at a line.

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// A YAML tree that keeps only structure and locations.
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    entries.push((k, map.next_value()?));
                }
                Ok(Node::Map(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
        }
        d.deserialize_any(V)
    }
}

/// `(line, column)` of the deepest part of `path` present in `text`.
pub(super) fn locate(text: &str, path: &str) -> Option<(u64, u64)> {
    let root: Node = serde_saphyr::from_str(text).ok()?;
    let mut node = &root;
    let mut found: Option<Location> = None;
    for segment in segments(path) {
        let next = match (node, segment) {
            (Node::Map(entries), Segment::Key(key)) => entries
                .iter()
                .rev() // with merge keys, the last occurrence wins
                .find(|(k, _)| k.value == key)
                .map(|(k, v)| (k.referenced, &v.value)),
            (Node::Seq(items), Segment::Index(i)) => items.get(i).map(|v| (v.referenced, &v.value)),
            _ => None,
        };
        let Some((location, child)) = next else { break };
        found = Some(location);
        node = child;
    }
    found
        .map(|l| (l.line(), l.column()))
        .filter(|(line, _)| *line > 0)
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_fields() {
        let text = "route:\n  receiver: a\n  routes:\n  - receiver: b\n  - receiver: c\nreceivers:\n- name: a\n  webhook_configs:\n  - url: x\n";
        let cases = [
            ("route.receiver", Some(2)),
            ("route.routes[1].receiver", Some(5)),
            ("receivers[0].webhook_configs[0].url", Some(9)),
            ("receivers[0].webhook_configs[0]", Some(9)),
            ("receivers[0].webhook_configs[0].http_config", Some(9)),
            ("nothing", None),
        ];
        for (path, line) in cases {
            assert_eq!(locate(text, path).map(|(l, _)| l), line, "{path}");
        }
    }
}
