//! `${VAR}` expansion of string scalars while the YAML is deserialized.
//!
//! Rules (see DESIGN.md): `${NAME}` is replaced from the environment,
//! `${NAME:-default}` falls back to `default` when NAME is unset or empty,
//! `$${NAME}` is the literal text `${NAME}`, and every other `$` stays as
//! written (`pa$$word`, `$1` in a regex, `$labels` in a template). A `${`
//! that is not followed by a valid name and a closing `}` is also kept as
//! written. An unset variable without a default is an error.
//!
//! The expansion happens in a thin [`serde::Deserializer`] wrapper, so that
//! errors carry serde-saphyr's line and column and serde_path_to_error's
//! field path. Keys are never expanded. Bool and number targets accept a
//! string (typically `${VAR}`) and parse its expansion as the target type.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Looks a variable up; `None` means unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is not set (write ${{{0}:-default}} to give a default)")]
pub struct UnsetVariable(pub String);

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands `${NAME}` and `${NAME:-default}` in `s`.
pub fn expand<'s>(s: &'s str, env: EnvLookup<'_>) -> Result<Cow<'s, str>, UnsetVariable> {
    if !s.contains("${") {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            continue;
        }
        let Some(body_start) = tail.strip_prefix("${") else {
            out.push('$');
            rest = &tail[1..];
            continue;
        };
        let Some(close) = body_start.find('}') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let body = &body_start[..close];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_name(name) {
            // Not ours (e.g. `${ x }`): keep it exactly as written.
            out.push_str("${");
            rest = body_start;
            continue;
        }
        match (env(name), default) {
            (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => return Err(UnsetVariable(name.to_owned())),
        }
        rest = &body_start[close + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// A deserializer that expands environment variables in the string scalars
/// the wrapped deserializer produces.
pub struct Expanding<'a, D> {
    pub inner: D,
    pub env: EnvLookup<'a>,
}

#[derive(Clone, Copy)]
enum Target {
    Any,
    Bool,
    I64,
    U64,
    F64,
}

struct Wrap<'a, V> {
    inner: V,
    env: EnvLookup<'a>,
    target: Target,
}

impl<'a, D> Expanding<'a, D> {
    fn wrap<V>(&self, inner: V, target: Target) -> Wrap<'a, V> {
        Wrap {
            inner,
            env: self.env,
            target,
        }
    }
}

macro_rules! scalar_via_any {
    ($($method:ident => $target:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
            let w = self.wrap(v, Target::$target);
            self.inner.deserialize_any(w)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Expanding<'_, D> {
    type Error = D::Error;

    scalar_via_any! {
        deserialize_any => Any,
        deserialize_bool => Bool,
        deserialize_i8 => I64, deserialize_i16 => I64, deserialize_i32 => I64, deserialize_i64 => I64,
        deserialize_u8 => U64, deserialize_u16 => U64, deserialize_u32 => U64, deserialize_u64 => U64,
        deserialize_f32 => F64, deserialize_f64 => F64,
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_char(w)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_string(w)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_string(w)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_bytes(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_byte_buf(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_option(w)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit(v)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_newtype_struct(name, w)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_seq(w)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_tuple(len, w)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_tuple_struct(name, len, w)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_map(w)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        let w = self.wrap(v, Target::Any);
        self.inner.deserialize_struct(name, fields, w)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        // Enum tags are like keys: never expanded.
        self.inner.deserialize_enum(name, variants, v)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(v)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

impl<'de, V: Visitor<'de>> Wrap<'_, V> {
    fn string<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        let expanded = expand(s, self.env).map_err(E::custom)?;
        let text = expanded.as_ref();
        let bad = |what: &str| E::custom(format!("cannot parse {text:?} as {what}"));
        match self.target {
            Target::Any => self.inner.visit_string(expanded.into_owned()),
            Target::Bool => self
                .inner
                .visit_bool(parse_bool(text).ok_or_else(|| bad("a boolean"))?),
            Target::I64 => self
                .inner
                .visit_i64(text.trim().parse().map_err(|_| bad("an integer"))?),
            Target::U64 => self.inner.visit_u64(
                text.trim()
                    .parse()
                    .map_err(|_| bad("a non-negative integer"))?,
            ),
            Target::F64 => self
                .inner
                .visit_f64(text.trim().parse().map_err(|_| bad("a number"))?),
        }
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_bytes(&[u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.string(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.string(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.string(&v)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.visit_some(Expanding {
            inner: d,
            env: self.env,
        })
    }
    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.visit_newtype_struct(Expanding {
            inner: d,
            env: self.env,
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Access {
            inner: seq,
            env: self.env,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Access {
            inner: map,
            env: self.env,
        })
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// Wraps seq and map access so that elements and values are expanded.
struct Access<'a, A> {
    inner: A,
    env: EnvLookup<'a>,
}

struct Seed<'a, S> {
    inner: S,
    env: EnvLookup<'a>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Expanding {
            inner: d,
            env: self.env,
        })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<'_, A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Seed {
            inner: seed,
            env: self.env,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            env: self.env,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("smtp.example.com".into()),
            "EMPTY" => Some(String::new()),
            "DOLLAR" => Some("a$b${c}".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_defaults_and_escapes() {
        let cases = [
            ("${HOST}:587", "smtp.example.com:587"),
            ("${MISSING:-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${HOST:-fallback}", "smtp.example.com"),
            ("$${HOST}", "${HOST}"),
            ("pa$$word", "pa$$word"),
            ("^(.*)$1$", "^(.*)$1$"),
            ("{{ $labels.x }}", "{{ $labels.x }}"),
            ("${ not a name }", "${ not a name }"),
            ("${unclosed", "${unclosed"),
            ("${DOLLAR}", "a$b${c}"),
            ("${MISSING:-}", ""),
            ("x${HOST}y${HOST}", "xsmtp.example.comysmtp.example.com"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &env).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_unset_variable_without_default() {
        let err = expand("url: ${NOPE}", &env).unwrap_err();
        assert_eq!(err, UnsetVariable("NOPE".into()));
        assert!(err.to_string().contains("NOPE"));
    }

    proptest! {
        #[test]
        fn strings_without_dollar_brace_are_unchanged(s in "[^{]*|[^$]*|[a-z$}{ ]*") {
            prop_assume!(!s.contains("${"));
            prop_assert_eq!(expand(&s, &env).unwrap(), s.as_str());
        }

        #[test]
        fn escaped_references_expand_to_the_literal(name in "[A-Za-z_][A-Za-z0-9_]{0,12}") {
            let input = format!("$${{{name}}}");
            prop_assert_eq!(expand(&input, &env).unwrap().into_owned(), format!("${{{name}}}"));
        }
    }
}
