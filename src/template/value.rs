//! [`Data`] as the Go engine sees it (a gotmpl [`Value`] shaped like
//! Alertmanager's `template.Data`), the handlebars context derived from it,
//! and Go's `encoding/json` output for `toJson`.
//!
//! gotmpl values carry no Go type, so the Go struct types are recognised by
//! their field names (see [`GoType`]); labels and annotations are plain maps
//! (Alertmanager's `KV`).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;
use serde_json::json;

use super::data::{AlertData, Data};
use super::gotime::GoTime;
use crate::labels::LabelSet;

/// The Go type a map stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoType {
    /// `template.Data`
    Data,
    /// `template.Alert`
    Alert,
    /// `template.Pair` (an element of `.SortedPairs`)
    Pair,
    /// `template.KV`: labels or annotations, where a missing key is `""`.
    Kv,
}

impl GoType {
    pub(crate) fn of(map: &BTreeMap<Arc<str>, Value>) -> GoType {
        let has = |k: &str| map.contains_key(k);
        if has("Receiver") && has("Alerts") && has("GroupLabels") && has("CommonLabels") {
            GoType::Data
        } else if has("Fingerprint") && has("GeneratorURL") && has("StartsAt") && has("Labels") {
            GoType::Alert
        } else if map.len() == 2 && has("Name") && has("Value") {
            GoType::Pair
        } else {
            GoType::Kv
        }
    }

    pub(crate) fn go_name(self) -> &'static str {
        match self {
            GoType::Data => "*template.Data",
            GoType::Alert => "template.Alert",
            GoType::Pair => "template.Pair",
            GoType::Kv => "template.KV",
        }
    }
}

pub(crate) fn string(s: impl Into<Arc<str>>) -> Value {
    Value::String(s.into())
}

pub(crate) fn map(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Map(Arc::new(
        entries
            .into_iter()
            .map(|(k, v)| (Arc::from(k), v))
            .collect(),
    ))
}

pub(crate) fn kv(labels: &LabelSet) -> Value {
    Value::Map(Arc::new(
        labels
            .iter()
            .map(|(k, v)| (Arc::from(k), string(v)))
            .collect(),
    ))
}

/// `.` of a notification template.
pub fn to_go(data: &Data) -> Value {
    map([
        ("Receiver", string(data.receiver.as_str())),
        ("Status", string(data.status.as_str())),
        (
            "Alerts",
            Value::List(data.alerts.iter().map(alert_to_go).collect()),
        ),
        ("GroupLabels", kv(&data.group_labels)),
        ("CommonLabels", kv(&data.common_labels)),
        ("CommonAnnotations", kv(&data.common_annotations)),
        ("ExternalURL", string(data.external_url.as_str())),
        ("GroupKey", string(data.group_key.as_str())),
        ("NotificationReason", string(data.notification_reason)),
        ("RouteLabels", kv(&data.route_labels)),
    ])
}

fn alert_to_go(a: &AlertData) -> Value {
    let ends = a.ends_at.map(GoTime::from_utc).unwrap_or_else(GoTime::zero);
    map([
        ("Status", string(a.status.as_str())),
        ("Labels", kv(&a.labels)),
        ("Annotations", kv(&a.annotations)),
        (
            "StartsAt",
            string(GoTime::from_utc(a.starts_at).to_string()),
        ),
        ("EndsAt", string(ends.to_string())),
        ("GeneratorURL", string(a.generator_url.as_str())),
        ("Fingerprint", string(a.fingerprint.as_str())),
    ])
}

/// `.` from Alertmanager's `template.Data` in JSON (what `amtool template
/// render --template.data` reads, and what a webhook body holds), read as
/// Go's `encoding/json` reads it: keys matched case-insensitively, a
/// missing or `null` field its zero value, unknown keys ignored, times in
/// RFC 3339. The errors are Go's wording.
pub(crate) fn from_json(data: &serde_json::Value) -> Result<Value, String> {
    let fields = JsonStruct::new(data, "Data")?;
    let alerts = match fields.get("alerts") {
        None => Vec::new(),
        Some(serde_json::Value::Array(list)) => {
            list.iter().map(alert_from_json).collect::<Result<_, _>>()?
        }
        Some(other) => return Err(mismatch(other, "Data.alerts", "template.Alerts")),
    };
    Ok(map([
        ("Receiver", string(fields.string("receiver")?)),
        ("Status", string(fields.string("status")?)),
        ("Alerts", Value::List(alerts.into())),
        ("GroupLabels", fields.kv("groupLabels")?),
        ("CommonLabels", fields.kv("commonLabels")?),
        ("CommonAnnotations", fields.kv("commonAnnotations")?),
        ("ExternalURL", string(fields.string("externalURL")?)),
        // klaxon's additions to `.`, from a webhook body that has them.
        ("GroupKey", string(fields.string("groupKey")?)),
        (
            "NotificationReason",
            string(fields.string("notificationReason")?),
        ),
        ("RouteLabels", fields.kv("routeLabels")?),
    ]))
}

fn alert_from_json(a: &serde_json::Value) -> Result<Value, String> {
    let fields = JsonStruct::new(a, "Alert")?;
    Ok(map([
        ("Status", string(fields.string("status")?)),
        ("Labels", fields.kv("labels")?),
        ("Annotations", fields.kv("annotations")?),
        ("StartsAt", string(fields.time("startsAt")?.to_string())),
        ("EndsAt", string(fields.time("endsAt")?.to_string())),
        ("GeneratorURL", string(fields.string("generatorURL")?)),
        ("Fingerprint", string(fields.string("fingerprint")?)),
    ]))
}

/// A JSON object read into a Go struct named `name`.
struct JsonStruct<'a> {
    name: &'static str,
    object: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> JsonStruct<'a> {
    fn new(v: &'a serde_json::Value, name: &'static str) -> Result<Self, String> {
        match v {
            serde_json::Value::Object(object) => Ok(JsonStruct { name, object }),
            other => Err(mismatch(other, name, &format!("template.{name}"))),
        }
    }

    /// The field's value: the exact key first, then any key equal to it
    /// ignoring case (Go's rule); `null` counts as missing.
    fn get(&self, key: &str) -> Option<&'a serde_json::Value> {
        self.object
            .get(key)
            .or_else(|| {
                self.object
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(mismatch(other, &format!("{}.{key}", self.name), "string")),
        }
    }

    fn kv(&self, key: &str) -> Result<Value, String> {
        let at = || format!("{}.{key}", self.name);
        let Some(v) = self.get(key) else {
            return Ok(Value::Map(Arc::default()));
        };
        let serde_json::Value::Object(entries) = v else {
            return Err(mismatch(v, &at(), "template.KV"));
        };
        let mut out = BTreeMap::new();
        for (k, v) in entries {
            match v {
                serde_json::Value::String(s) => {
                    out.insert(Arc::from(k.as_str()), string(s.as_str()))
                }
                // Go leaves a null map value as the zero string.
                serde_json::Value::Null => out.insert(Arc::from(k.as_str()), string("")),
                other => return Err(mismatch(other, &at(), "string")),
            };
        }
        Ok(Value::Map(Arc::new(out)))
    }

    /// A `time.Time`: Go's zero time when missing; `Z` is UTC, an offset
    /// that is the local zone's at that instant is the local zone (as Go
    /// reads it), any other offset a zone without a name.
    fn time(&self, key: &str) -> Result<GoTime, String> {
        let Some(v) = self.get(key) else {
            return Ok(GoTime::zero());
        };
        let serde_json::Value::String(text) = v else {
            return Err(mismatch(v, &format!("{}.{key}", self.name), "time.Time"));
        };
        let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
            format!(r#"parsing time "\"{text}\"" as "\"2006-01-02T15:04:05Z07:00\"": {e}"#)
        })?;
        if text.ends_with(['Z', 'z']) {
            return Ok(GoTime::from_utc(at.to_utc()));
        }
        let unnamed = GoTime {
            at,
            zone: String::new(),
        };
        let local = unnamed.local();
        Ok(if local.at.offset() == at.offset() {
            local
        } else {
            unnamed
        })
    }
}

/// Go's `json: cannot unmarshal number into Go struct field Data.receiver
/// of type string`.
fn mismatch(v: &serde_json::Value, field: &str, go_type: &str) -> String {
    let kind = match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    };
    format!("json: cannot unmarshal {kind} into Go struct field {field} of type {go_type}")
}

/// A value as a string argument; Go would insist on `string`, klaxon
/// accepts any scalar rather than failing a notification over it.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        Value::Safe { s, .. } => Some(s.to_string()),
        Value::Int(_) | Value::Uint(_) | Value::Float(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Alertmanager's `KV.SortedPairs` order: `alertname` first, then by name.
pub(crate) fn sorted_pairs(m: &BTreeMap<Arc<str>, Value>) -> Vec<(Arc<str>, Value)> {
    let mut pairs: Vec<(Arc<str>, Value)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    // BTreeMap order is Go's sort.Strings order (bytes); only alertname moves.
    if let Some(i) = pairs.iter().position(|(k, _)| &**k == "alertname") {
        let p = pairs.remove(i);
        pairs.insert(0, p);
    }
    pairs
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.get(name),
        _ => None,
    }
}

fn text_field(v: &Value, name: &str) -> String {
    field(v, name).and_then(as_text).unwrap_or_default()
}

fn kv_json(v: Option<&Value>) -> (serde_json::Value, Vec<serde_json::Value>, Vec<String>) {
    let mut obj = serde_json::Map::new();
    let mut pairs = Vec::new();
    let mut values = Vec::new();
    if let Some(Value::Map(m)) = v {
        for (k, val) in sorted_pairs(m) {
            let text = as_text(&val).unwrap_or_default();
            obj.insert(k.to_string(), json!(text));
            pairs.push(json!({"name": &*k, "value": text}));
            values.push(text);
        }
    }
    (serde_json::Value::Object(obj), pairs, values)
}

fn alert_json(a: &Value) -> serde_json::Value {
    let (labels, label_pairs, _) = kv_json(field(a, "Labels"));
    let (annotations, annotation_pairs, _) = kv_json(field(a, "Annotations"));
    let ends = text_field(a, "EndsAt");
    let ended = GoTime::parse(&ends).filter(|t| !t.is_zero());
    let short = |t: &GoTime| t.format("2006-01-02 15:04:05 MST");
    let starts = text_field(a, "StartsAt");
    json!({
        "status": text_field(a, "Status"),
        "firing": text_field(a, "Status") == "firing",
        "labels": labels,
        "labelPairs": label_pairs,
        "annotations": annotations,
        "annotationPairs": annotation_pairs,
        "startsAtText": GoTime::parse(&starts).map(|t| short(&t)).unwrap_or_default(),
        "endsAtText": ended.as_ref().map(short).unwrap_or_default(),
        "startsAt": starts,
        "endsAt": if ended.is_some() { ends } else { String::new() },
        "generatorURL": text_field(a, "GeneratorURL"),
        "fingerprint": text_field(a, "Fingerprint"),
    })
}

/// The handlebars context of a layout, from `.` of a Go template (so a Go
/// `{{ template "discord.default.title" . }}` and a direct layout render
/// see the same thing). Documented in `templates/README.md`.
pub fn layout_context(dot: &Value) -> serde_json::Value {
    let alerts: Vec<serde_json::Value> = match field(dot, "Alerts") {
        Some(Value::List(l)) => l.iter().map(alert_json).collect(),
        _ => Vec::new(),
    };
    let pick = |status: &str| -> Vec<serde_json::Value> {
        alerts
            .iter()
            .filter(|a| a["status"] == status)
            .cloned()
            .collect()
    };
    let (firing, resolved) = (pick("firing"), pick("resolved"));
    let (group_labels, _, group_values) = kv_json(field(dot, "GroupLabels"));
    let (common_labels, common_pairs, _) = kv_json(field(dot, "CommonLabels"));
    let (common_annotations, common_annotation_pairs, common_annotation_values) =
        kv_json(field(dot, "CommonAnnotations"));
    let extra_common: Vec<&serde_json::Value> = common_pairs
        .iter()
        .filter(|p| {
            p["name"]
                .as_str()
                .is_some_and(|n| group_labels.get(n).is_none())
        })
        .map(|p| &p["value"])
        .collect();
    let status = text_field(dot, "Status");
    let external_url = text_field(dot, "ExternalURL");
    let receiver = text_field(dot, "Receiver");
    json!({
        "receiver": receiver,
        "status": status,
        "firing": status == "firing",
        "alerts": alerts,
        "firingAlerts": firing,
        "resolvedAlerts": resolved,
        "groupLabels": group_labels,
        "groupLabelValues": group_values,
        "commonLabels": common_labels,
        "commonLabelPairs": common_pairs,
        "extraCommonLabelValues": extra_common,
        "commonAnnotations": common_annotations,
        "commonAnnotationPairs": common_annotation_pairs,
        "commonAnnotationValues": common_annotation_values,
        "externalURL": external_url,
        "alertmanagerURL": format!(
            "{external_url}/#/alerts?receiver={}",
            url::form_urlencoded::byte_serialize(receiver.as_bytes()).collect::<String>()
        ),
        "groupKey": text_field(dot, "GroupKey"),
    })
}

/// Go's `json.Marshal`, as Alertmanager's `toJson` calls it: struct fields
/// in declaration order with their json tags, map keys sorted, times in
/// RFC 3339, and `<`, `>`, `&` escaped.
pub(crate) fn to_go_json(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, false)?;
    Ok(out)
}

fn write_json(out: &mut String, v: &Value, is_time: bool) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) if f.is_finite() => out.push_str(&f.to_string()),
        Value::Float(f) => return Err(format!("json: unsupported value: {f}")),
        Value::String(s) | Value::Safe { s, .. } => {
            let time = is_time.then(|| GoTime::parse(s)).flatten();
            match time {
                Some(t) => json_string(out, &rfc3339(&t)),
                None => json_string(out, s),
            }
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, false)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            let fields: Vec<(&str, &str)> = match GoType::of(m) {
                GoType::Data => vec![
                    ("receiver", "Receiver"),
                    ("status", "Status"),
                    ("alerts", "Alerts"),
                    ("notification_reason", "NotificationReason"),
                    ("groupLabels", "GroupLabels"),
                    ("commonLabels", "CommonLabels"),
                    ("commonAnnotations", "CommonAnnotations"),
                    ("externalURL", "ExternalURL"),
                    ("groupKey", "GroupKey"),
                ],
                GoType::Alert => vec![
                    ("status", "Status"),
                    ("labels", "Labels"),
                    ("annotations", "Annotations"),
                    ("startsAt", "StartsAt"),
                    ("endsAt", "EndsAt"),
                    ("generatorURL", "GeneratorURL"),
                    ("fingerprint", "Fingerprint"),
                ],
                GoType::Pair => vec![("Name", "Name"), ("Value", "Value")],
                GoType::Kv => m.keys().map(|k| (&**k, &**k)).collect(),
            };
            out.push('{');
            let mut first = true;
            for (tag, key) in fields {
                let Some(val) = m.get(key) else { continue };
                if !first {
                    out.push(',');
                }
                first = false;
                json_string(out, tag);
                out.push(':');
                write_json(out, val, matches!(key, "StartsAt" | "EndsAt"))?;
            }
            out.push('}');
        }
        Value::Function(_) => return Err("json: unsupported type: func".into()),
    }
    Ok(())
}

/// Go's `time.Time.MarshalJSON` (RFC 3339 with trimmed nanoseconds).
fn rfc3339(t: &GoTime) -> String {
    t.format("2006-01-02T15:04:05.999999999Z07:00")
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
