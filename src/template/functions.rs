//! Alertmanager's template functions (`template.DefaultFuncs`), and the
//! lists of names the load-time function check accepts. The methods live
//! in methods.rs.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, SafeKind, TemplateError, Value};

use super::duration;
use super::gotime::GoTime;
use super::methods;
use super::value::{GoType, as_text, string, to_go_json};

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
    "now",
    "base64encode",
    "base64decode",
    "list",
    "append",
    "dict",
    "toDate",
    "mustToDate",
];

pub(super) type R = Result<Value, TemplateError>;

pub(super) fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

pub(super) fn arg_count(name: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
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

pub(super) fn text_arg(name: &str, v: &Value) -> Result<String, TemplateError> {
    as_text(v).ok_or_else(|| err(format!("{name}: expected a string, got {}", v.type_name())))
}

pub(super) fn time_arg(name: &str, v: &Value) -> Result<GoTime, TemplateError> {
    as_text(v)
        .and_then(|s| GoTime::parse(&s))
        .ok_or_else(|| err(format!("{name}: expected a time, got {v}")))
}

pub(super) fn string_list(name: &str, v: &Value) -> Result<Vec<String>, TemplateError> {
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
            .or_else(|| duration::parse_duration(s).map(|n| n as f64 / 1e9))
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
    add(CALL, methods::call);
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
        Ok(string(duration::duration_string(now.sub_nanos(&t))))
    });
    add("humanizeDuration", |a| {
        arg_count("humanizeDuration", a, 1)?;
        Ok(string(duration::humanize_duration(to_seconds(&a[0])?)))
    });
    add("toJson", |a| {
        arg_count("toJson", a, 1)?;
        to_go_json(&a[0]).map(string).map_err(err)
    });
    add_collections(&mut m);
    m
}

/// The functions Alertmanager 0.32–0.33 added: `now`, URL-safe base64,
/// and `list` / `append` / `dict` for building values in templates.
fn add_collections(m: &mut FuncMap) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE;
    let mut add = |name: &str, f: fn(&[Value]) -> R| {
        m.insert(name.into(), Arc::new(f));
    };
    add("now", |a| {
        arg_count("now", a, 0)?;
        // Go's time.Now() is in the local zone.
        Ok(string(
            GoTime::from_utc(chrono::Utc::now()).local().to_string(),
        ))
    });
    add("base64encode", |a| {
        arg_count("base64encode", a, 1)?;
        Ok(string(URL_SAFE.encode(text_arg("base64encode", &a[0])?)))
    });
    add("base64decode", |a| {
        arg_count("base64decode", a, 1)?;
        let decoded = URL_SAFE
            .decode(text_arg("base64decode", &a[0])?)
            .map_err(|e| err(format!("base64decode: {e}")))?;
        String::from_utf8(decoded)
            .map(string)
            .map_err(|_| err("base64decode: the decoded bytes are not UTF-8"))
    });
    add("list", |a| Ok(Value::List(a.to_vec().into())));
    add("append", |a| {
        let Some((first, rest)) = a.split_first() else {
            return Err(TemplateError::ArgCount {
                name: "append".into(),
                expected: 1,
                got: 0,
            });
        };
        let mut items = match first {
            Value::List(items) => items.to_vec(),
            Value::Nil => Vec::new(),
            other => {
                return Err(err(format!(
                    "append: expected a list, got {}",
                    other.type_name()
                )));
            }
        };
        items.extend_from_slice(rest);
        Ok(Value::List(items.into()))
    });
    // Go's zero time for a value that does not parse, the error with `must`.
    add("toDate", |a| {
        arg_count("toDate", a, 2)?;
        let (layout, value) = (text_arg("toDate", &a[0])?, text_arg("toDate", &a[1])?);
        let t =
            super::gotime_parse::parse_in_utc(&layout, &value).unwrap_or_else(|_| GoTime::zero());
        Ok(string(t.to_string()))
    });
    add("mustToDate", |a| {
        arg_count("mustToDate", a, 2)?;
        let (layout, value) = (
            text_arg("mustToDate", &a[0])?,
            text_arg("mustToDate", &a[1])?,
        );
        let t = super::gotime_parse::parse_in_utc(&layout, &value).map_err(err)?;
        Ok(string(t.to_string()))
    });
    add("dict", |a| {
        if a.len() % 2 != 0 {
            return Err(err("dict requires an even number of arguments"));
        }
        let mut map = BTreeMap::new();
        for pair in a.chunks(2) {
            let Value::String(key) = &pair[0] else {
                return Err(err("dict keys must be strings"));
            };
            map.insert(key.clone(), pair[1].clone());
        }
        Ok(Value::Map(Arc::new(map)))
    });
}

pub(super) fn in_location(t: &GoTime, name: &str) -> Result<GoTime, TemplateError> {
    match name {
        "" | "UTC" => Ok(t.utc()),
        "Local" => Ok(t.local()),
        _ => name
            .parse::<chrono_tz::Tz>()
            .map(|tz| t.in_zone(tz))
            .map_err(|_| err(format!("unknown time zone {name}"))),
    }
}
