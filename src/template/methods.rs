//! Go's methods on Alertmanager's data types (`.Alerts.Firing`,
//! `.SortedPairs`, `.Remove`, time `.Format`, …). gotmpl cannot call Go
//! methods, so go.rs rewrites every field step into a call of
//! [`CALL`](super::functions::CALL), which [`call`] answers: a method when
//! the receiver has one of that name, a field lookup otherwise (a missing
//! label is `""`, as with Go's `map[string]string`).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{TemplateError, Value};

use super::duration;
use super::functions::{R, arg_count, err, in_location, string_list, text_arg, time_arg};
use super::gotime::GoTime;
use super::value::{GoType, map, sorted_pairs, string};

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
                .then(|| duration::parse_duration(s))
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
            duration::parse_duration(s).ok_or_else(|| err(format!("bad duration {s:?}")))
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
            Ok(string(duration::duration_string(t.sub_nanos(&other))))
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
        "String" => Ok(string(duration::duration_string(d))),
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
