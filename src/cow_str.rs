//! Strings read from a request body without a copy when they can be.
//!
//! serde's own `Cow<str>` always allocates, and its `borrow` attribute does
//! not reach through an `Option`; a JSON string without escapes can be
//! borrowed from the body as is.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer};

/// A string borrowed from the input, or owned when it had escapes.
pub struct CowStr<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// For an optional string field: `#[serde(deserialize_with = ...)]`.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<CowStr<'de>>::deserialize(d)?.map(|s| s.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed() {
        #[derive(Deserialize)]
        struct T<'a> {
            #[serde(default, borrow, deserialize_with = "optional")]
            s: Option<Cow<'a, str>>,
        }
        let t: T = serde_json::from_str(r#"{"s":"http://x/graph?g0.expr=up"}"#).unwrap();
        assert!(matches!(
            t.s,
            Some(Cow::Borrowed("http://x/graph?g0.expr=up"))
        ));
        let t: T = serde_json::from_str(r#"{"s":"a\"b"}"#).unwrap();
        assert!(matches!(t.s.as_deref(), Some("a\"b")));
        let t: T = serde_json::from_str(r#"{"s":null}"#).unwrap();
        assert!(t.s.is_none());
        let t: T = serde_json::from_str(r#"{}"#).unwrap();
        assert!(t.s.is_none());
        // Malformed: the same words as serde's own string reader.
        for (body, want) in [
            (r#"{"s":5}"#, "invalid type: integer `5`, expected a string"),
            (
                r#"{"s":["x"]}"#,
                "invalid type: sequence, expected a string",
            ),
        ] {
            let e = serde_json::from_str::<T>(body).err().unwrap().to_string();
            assert!(e.starts_with(want), "{e}");
            let theirs = serde_json::from_str::<Option<String>>(&body[5..body.len() - 1]);
            assert!(theirs.unwrap_err().to_string().starts_with(want));
        }
    }
}
