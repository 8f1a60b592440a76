//! Alertmanager's template functions and Go's methods on its data types.
//!
//! gotmpl cannot call Go methods, so go.rs rewrites every field step
//! (`.Alerts.Firing`, `.StartsAt.Format "…"`) into a call of [`CALL`],
//! which [`call`] answers: a method when the receiver has one of that name,
//! a field lookup otherwise (a missing label is `""`, as with Go's
//! `map[string]string`).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, SafeKind, TemplateError, Value};

use super::gotime::{self, GoTime};
use super::value::{GoType, as_text, map, sorted_pairs, string, to_go_json};

/// The dispatch function field steps are rewritten into. Not a valid Go
/// identifier prefix users would pick, so it cannot shadow theirs.
pub(crate) const CALL: &str = "__klaxon_call";

/// The functions gotmpl itself provides (Go's builtins).
pub(crate) const GO_BUILTINS: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// Alertmanager's functions, as registered by `template.DefaultFuncs`.
pub(crate) const ALERTMANAGER_FUNCS: &[&str] = &[
    "toUpper",
    "toLower",
    "title",
    "trimSpace",
    "join",
    "match",
    "safeHtml",
    "safeUrl",
    "urlUnescape",
    "reReplaceAll",
    "stringSlice",
    "date",
    "tz",
    "since",
    "humanizeDuration",
    "toJson",
];

type R = Result<Value, TemplateError>;

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn arg_count(name: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(TemplateError::ArgCount {
            name: name.into(),
            expected: n,
            got: args.len(),
        })
    }
}

fn text_arg(name: &str, v: &Value) -> Result<String, TemplateError> {
    as_text(v).ok_or_else(|| err(format!("{name}: expected a string, got {}", v.type_name())))
}

fn time_arg(name: &str, v: &Value) -> Result<GoTime, TemplateError> {
    as_text(v)
        .and_then(|s| GoTime::parse(&s))
        .ok_or_else(|| err(format!("{name}: expected a time, got {v}")))
}

fn string_list(name: &str, v: &Value) -> Result<Vec<String>, TemplateError> {
    match v {
        Value::List(items) => items.iter().map(|i| text_arg(name, i)).collect(),
        Value::Nil => Ok(Vec::new()),
        other => Err(err(format!(
            "{name}: expected a list of strings, got {}",
            other.type_name()
        ))),
    }
}

fn regex(pattern: &str) -> Result<regex::Regex, TemplateError> {
    regex::Regex::new(pattern).map_err(|e| err(format!("bad regexp {pattern:?}: {e}")))
}

/// Go's `cases.Title(language.AmericanEnglish)` as Alertmanager uses it:
/// the first letter of each word upper case, the rest lower case. Words
/// follow Unicode word boundaries closely enough: `-` and spaces split,
/// `_` does not, and `.` `:` `'` between letters do not.
pub(crate) fn title(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    let mut seen_letter = false;
    for (i, &c) in chars.iter().enumerate() {
        let word_char = c.is_alphanumeric() || c == '_' || {
            let joins = matches!(c, '.' | ':' | '\'' | '\u{2019}' | '\u{00B7}');
            let prev = i.checked_sub(1).and_then(|j| chars.get(j));
            let next = chars.get(i + 1);
            joins
                && in_word
                && prev.is_some_and(|p| p.is_alphanumeric())
                && next.is_some_and(|n| n.is_alphanumeric())
        };
        if !word_char {
            in_word = false;
            seen_letter = false;
            out.push(c);
            continue;
        }
        in_word = true;
        if c.is_alphabetic() && !seen_letter {
            seen_letter = true;
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn query_unescape(s: &str) -> Result<String, TemplateError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).filter(|h| h.len() == 2);
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(byte) = byte else {
                    let bad: String = s[i..].chars().take(3).collect();
                    return Err(err(format!("invalid URL escape {bad:?}")));
                };
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Prometheus' `ConvertToFloat`, plus Go duration strings (what `since`
/// returns here).
fn to_seconds(v: &Value) -> Result<f64, TemplateError> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::Float(f) => Ok(*f),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .or_else(|| gotime::parse_duration(s).map(|n| n as f64 / 1e9))
            .ok_or_else(|| err(format!("can't convert {s:?} to float"))),
        other => Err(err(format!("can't convert {} to float", other.type_name()))),
    }
}

/// Alertmanager's functions, plus [`CALL`] and an `index` that gives `""`
/// for a missing label as Go does for `map[string]string`.
pub(crate) fn func_map() -> FuncMap {
    let mut m: BTreeMap<String, gotmpl::ValueFunc> = BTreeMap::new();
    let mut add = |name: &str, f: fn(&[Value]) -> R| {
        m.insert(name.to_owned(), Arc::new(f));
    };
    add(CALL, call);
    add("index", |args| {
        if args.len() < 2 {
            return Err(TemplateError::ArgCount {
                name: "index".into(),
                expected: 2,
                got: args.len(),
            });
        }
        let mut v = args[0].clone();
        for idx in &args[1..] {
            v = match (&v, idx) {
                (Value::Map(m), Value::String(k)) if GoType::of(m) == GoType::Kv => {
                    m.get(&**k).cloned().unwrap_or_else(|| string(""))
                }
                _ => v.index(idx)?,
            };
        }
        Ok(v)
    });
    add("toUpper", |a| {
        arg_count("toUpper", a, 1)?;
        Ok(string(text_arg("toUpper", &a[0])?.to_uppercase()))
    });
    add("toLower", |a| {
        arg_count("toLower", a, 1)?;
        Ok(string(text_arg("toLower", &a[0])?.to_lowercase()))
    });
    add("title", |a| {
        arg_count("title", a, 1)?;
        Ok(string(title(&text_arg("title", &a[0])?)))
    });
    add("trimSpace", |a| {
        arg_count("trimSpace", a, 1)?;
        Ok(string(text_arg("trimSpace", &a[0])?.trim()))
    });
    add("join", |a| {
        arg_count("join", a, 2)?;
        let sep = text_arg("join", &a[0])?;
        Ok(string(string_list("join", &a[1])?.join(&sep)))
    });
    add("match", |a| {
        arg_count("match", a, 2)?;
        let re = regex(&text_arg("match", &a[0])?)?;
        Ok(Value::Bool(re.is_match(&text_arg("match", &a[1])?)))
    });
    add("reReplaceAll", |a| {
        arg_count("reReplaceAll", a, 3)?;
        let re = regex(&text_arg("reReplaceAll", &a[0])?)?;
        let repl = text_arg("reReplaceAll", &a[1])?;
        let text = text_arg("reReplaceAll", &a[2])?;
        Ok(string(re.replace_all(&text, repl.as_str()).into_owned()))
    });
    add("safeHtml", |a| {
        arg_count("safeHtml", a, 1)?;
        Ok(Value::Safe {
            kind: SafeKind::Html,
            s: text_arg("safeHtml", &a[0])?.into(),
        })
    });
    add("safeUrl", |a| {
        arg_count("safeUrl", a, 1)?;
        Ok(Value::Safe {
            kind: SafeKind::Url,
            s: text_arg("safeUrl", &a[0])?.into(),
        })
    });
    add("urlUnescape", |a| {
        arg_count("urlUnescape", a, 1)?;
        Ok(string(query_unescape(&text_arg("urlUnescape", &a[0])?)?))
    });
    add("stringSlice", |a| {
        let items: Result<Vec<Value>, _> = a
            .iter()
            .map(|v| text_arg("stringSlice", v).map(string))
            .collect();
        Ok(Value::List(items?.into()))
    });
    add("date", |a| {
        arg_count("date", a, 2)?;
        let layout = text_arg("date", &a[0])?;
        Ok(string(time_arg("date", &a[1])?.format(&layout)))
    });
    add("tz", |a| {
        arg_count("tz", a, 2)?;
        let name = text_arg("tz", &a[0])?;
        let t = time_arg("tz", &a[1])?;
        Ok(string(in_location(&t, &name)?.to_string()))
    });
    add("since", |a| {
        arg_count("since", a, 1)?;
        let t = time_arg("since", &a[0])?;
        let now = GoTime::from_utc(chrono::Utc::now());
        Ok(string(gotime::duration_string(now.sub_nanos(&t))))
    });
    add("humanizeDuration", |a| {
        arg_count("humanizeDuration", a, 1)?;
        Ok(string(gotime::humanize_duration(to_seconds(&a[0])?)))
    });
    add("toJson", |a| {
        arg_count("toJson", a, 1)?;
        to_go_json(&a[0]).map(string).map_err(err)
    });
    m
}

fn in_location(t: &GoTime, name: &str) -> Result<GoTime, TemplateError> {
    match name {
        "" | "UTC" => Ok(t.utc()),
        "Local" => Ok(t.local()),
        _ => name
            .parse::<chrono_tz::Tz>()
            .map(|tz| t.in_zone(tz))
            .map_err(|_| err(format!("unknown time zone {name}"))),
    }
}

/// `receiver.name args…`: a Go method or field step.
pub(crate) fn call(args: &[Value]) -> R {
    let (recv, name, rest) = match args {
        [recv, Value::String(name), rest @ ..] => (recv, &**name, rest),
        _ => return Err(err("internal: malformed field step")),
    };
    match recv {
        Value::Map(m) => {
            let ty = GoType::of(m);
            if ty == GoType::Kv
                && let Some(v) = kv_method(m, name, rest)?
            {
                return Ok(v);
            }
            no_args(name, rest)?;
            match (m.get(name), ty) {
                (Some(v), _) => Ok(v.clone()),
                (None, GoType::Kv) => Ok(string("")),
                (None, ty) => Err(err(format!(
                    "can't evaluate field {name} in type {}",
                    ty.go_name()
                ))),
            }
        }
        Value::List(items) => list_method(items, name, rest),
        Value::String(s) => {
            if let Some(t) = GoTime::parse(s) {
                time_method(&t, name, rest)
            } else if let Some(d) = s
                .parse::<f64>()
                .is_err()
                .then(|| gotime::parse_duration(s))
                .flatten()
            {
                duration_method(d, name, rest)
            } else {
                Err(err(format!("can't evaluate field {name} in type string")))
            }
        }
        // Go would fail on a nil pointer; gotmpl's own rule is to carry nil.
        Value::Nil => Ok(Value::Nil),
        other => Err(err(format!(
            "can't evaluate field {name} in type {}",
            other.type_name()
        ))),
    }
}

fn no_args(name: &str, rest: &[Value]) -> Result<(), TemplateError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(err(format!(
            "{name} has arguments but cannot be invoked as function"
        )))
    }
}

fn pair(name: Arc<str>, value: Value) -> Value {
    map([("Name", Value::String(name)), ("Value", value)])
}

fn kv_method(
    m: &BTreeMap<Arc<str>, Value>,
    name: &str,
    rest: &[Value],
) -> Result<Option<Value>, TemplateError> {
    let pairs = || sorted_pairs(m);
    let v = match name {
        "SortedPairs" => {
            no_args(name, rest)?;
            Value::List(pairs().into_iter().map(|(k, v)| pair(k, v)).collect())
        }
        "Names" => {
            no_args(name, rest)?;
            Value::List(pairs().into_iter().map(|(k, _)| Value::String(k)).collect())
        }
        "Values" => {
            no_args(name, rest)?;
            Value::List(pairs().into_iter().map(|(_, v)| v).collect())
        }
        "Remove" => {
            arg_count("Remove", rest, 1)?;
            let drop = string_list("Remove", &rest[0])?;
            let kept = m
                .iter()
                .filter(|(k, _)| !drop.iter().any(|d| d == &***k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Map(Arc::new(kept))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn list_method(items: &Arc<[Value]>, name: &str, rest: &[Value]) -> R {
    no_args(name, rest)?;
    let with_status = |status: &str| {
        Value::List(
            items
                .iter()
                .filter(|a| matches!(a, Value::Map(m) if m.get("Status").and_then(Value::as_str) == Some(status)))
                .cloned()
                .collect(),
        )
    };
    let pair_field = |field: &str| {
        Value::List(
            items
                .iter()
                .map(|p| match p {
                    Value::Map(m) => m.get(field).cloned().unwrap_or(Value::Nil),
                    other => other.clone(),
                })
                .collect(),
        )
    };
    match name {
        "Firing" => Ok(with_status("firing")),
        "Resolved" => Ok(with_status("resolved")),
        "Names" => Ok(pair_field("Name")),
        "Values" => Ok(pair_field("Value")),
        _ => Err(err(format!("can't evaluate field {name} in type list"))),
    }
}

fn duration_arg(v: &Value) -> Result<i64, TemplateError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Uint(u) => i64::try_from(*u).map_err(|_| err("duration overflows int64")),
        Value::Float(f) => Ok(*f as i64),
        Value::String(s) => {
            gotime::parse_duration(s).ok_or_else(|| err(format!("bad duration {s:?}")))
        }
        other => Err(err(format!(
            "expected a duration, got {}",
            other.type_name()
        ))),
    }
}

fn time_method(t: &GoTime, name: &str, rest: &[Value]) -> R {
    let int = |v: i64| Ok(Value::Int(v));
    let time = |t: GoTime| Ok(string(t.to_string()));
    if !matches!(
        name,
        "Format" | "In" | "Add" | "Sub" | "Before" | "After" | "Equal"
    ) {
        no_args(name, rest)?;
    }
    match name {
        "String" => Ok(string(t.to_string())),
        "Format" => {
            arg_count("Format", rest, 1)?;
            Ok(string(t.format(&text_arg("Format", &rest[0])?)))
        }
        "In" => {
            arg_count("In", rest, 1)?;
            time(in_location(t, &text_arg("In", &rest[0])?)?)
        }
        "UTC" => time(t.utc()),
        "Local" => time(t.local()),
        "Add" => {
            arg_count("Add", rest, 1)?;
            time(t.add_nanos(duration_arg(&rest[0])?))
        }
        "Sub" => {
            arg_count("Sub", rest, 1)?;
            let other = time_arg("Sub", &rest[0])?;
            Ok(string(gotime::duration_string(t.sub_nanos(&other))))
        }
        "Before" | "After" | "Equal" => {
            arg_count(name, rest, 1)?;
            let other = time_arg(name, &rest[0])?;
            Ok(Value::Bool(match name {
                "Before" => t.at < other.at,
                "After" => t.at > other.at,
                _ => t.at == other.at,
            }))
        }
        "IsZero" => Ok(Value::Bool(t.is_zero())),
        "Unix" => int(t.at.timestamp()),
        "UnixMilli" => int(t.at.timestamp_millis()),
        "UnixNano" => int(t.at.timestamp_nanos_opt().unwrap_or(i64::MIN)),
        "Year" => int(t.format("2006").parse().unwrap_or(0)),
        "Month" => Ok(string(t.format("January"))),
        "Day" => int(t.format("2").parse().unwrap_or(0)),
        "Hour" => int(t.format("15").parse().unwrap_or(0)),
        "Minute" => int(t.format("4").parse().unwrap_or(0)),
        "Second" => int(t.format("5").parse().unwrap_or(0)),
        "Weekday" => Ok(string(t.format("Monday"))),
        "YearDay" => int(t.format("002").parse().unwrap_or(0)),
        _ => Err(err(format!(
            "can't evaluate field {name} in type time.Time"
        ))),
    }
}

fn duration_method(d: i64, name: &str, rest: &[Value]) -> R {
    no_args(name, rest)?;
    match name {
        "String" => Ok(string(gotime::duration_string(d))),
        "Seconds" => Ok(Value::Float(d as f64 / 1e9)),
        "Minutes" => Ok(Value::Float(d as f64 / 60e9)),
        "Hours" => Ok(Value::Float(d as f64 / 3600e9)),
        "Milliseconds" => Ok(Value::Int(d / 1_000_000)),
        "Nanoseconds" => Ok(Value::Int(d)),
        _ => Err(err(format!(
            "can't evaluate field {name} in type time.Duration"
        ))),
    }
}
