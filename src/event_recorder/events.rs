//! The events, shaped as Alertmanager's `eventrecorderpb` messages come out
//! of Go's protojson: lowerCamelCase names, 64-bit integers as strings,
//! RFC 3339 timestamps, `"…s"` durations, enum names, and every field with
//! its zero value left out. Consumers written for Alertmanager's events
//! read klaxon's unchanged.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::alert::Alert;
use crate::labels::LabelSet;
use crate::matcher::{MatchType, Matcher};
use crate::silence::Silence;

/// The envelope every output receives.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(rename = "@timestamp")]
    pub timestamp: ProtoTime,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub instance: String,
    pub data: EventData,
    /// The replica's position in its cluster; 0 (left out) without one.
    #[serde(rename = "clusterPosition", skip_serializing_if = "is_zero_u32")]
    pub cluster_position: u32,
}

/// Exactly one event; its JSON key names the kind.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventData {
    AlertmanagerStartupEvent(StartupEvent),
    AlertmanagerShutdownEvent(Empty),
    AlertCreated(AlertEvent),
    AlertResolved(GroupedAlertEvent),
    AlertGrouped(GroupedAlertEvent),
    Notification(Box<NotificationEvent>),
    SilenceCreated(SilenceEvent),
    SilenceUpdated(SilenceEvent),
    SilenceMutedAlert(SilenceMutedAlertEvent),
    InhibitionMutedAlert(InhibitionMutedAlertEvent),
}

impl EventData {
    /// The `event_type` label of the recorder's metrics (Alertmanager's).
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::AlertmanagerStartupEvent(_) => "alertmanager_startup_event",
            EventData::AlertmanagerShutdownEvent(_) => "alertmanager_shutdown_event",
            EventData::AlertCreated(_) => "alert_created",
            EventData::AlertResolved(_) => "alert_resolved",
            EventData::AlertGrouped(_) => "alert_grouped",
            EventData::Notification(_) => "notification",
            EventData::SilenceCreated(_) => "silence_created",
            EventData::SilenceUpdated(_) => "silence_updated",
            EventData::SilenceMutedAlert(_) => "silence_muted_alert",
            EventData::InhibitionMutedAlert(_) => "inhibition_muted_alert",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartupEvent {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub build_context: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertEvent {
    pub alert: AlertInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupedAlertEvent {
    pub alert: GroupedAlert,
    pub group_info: GroupInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEvent {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<GroupedAlert>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub firing_alerts: Vec<GroupedAlert>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_alerts: Vec<GroupedAlert>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub muted_alerts: Vec<GroupedAlert>,
    pub group_info: GroupInfo,
    pub repeat_interval: ProtoDuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "is_zero_u64", serialize_with = "as_string")]
    pub flush_id: u64,
    pub integration: IntegrationInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntegrationInfo {
    pub name: String,
    #[serde(skip_serializing_if = "is_zero_u64", serialize_with = "as_string")]
    pub index: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SilenceEvent {
    pub silence: SilenceInfo,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceMutedAlertEvent {
    pub silence: SilenceInfo,
    pub muted_alert: MutedAlert,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InhibitionMutedAlertEvent {
    pub inhibit_rules: Vec<InhibitRuleInfo>,
    pub muted_alert: MutedAlert,
    #[serde(serialize_with = "all_as_strings")]
    pub inhibiting_fingerprints: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InhibitRuleInfo {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_matchers: Vec<MatcherInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_matchers: Vec<MatcherInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub equal_labels: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MutedAlert {
    pub labels: Labels,
    #[serde(skip_serializing_if = "is_zero_u64", serialize_with = "as_string")]
    pub fingerprint: u64,
}

/// An alert as the events show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertInfo {
    #[serde(skip_serializing_if = "is_zero_u64", serialize_with = "as_string")]
    pub fingerprint: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: ProtoTime,
    pub ends_at: ProtoTime,
    #[serde(skip_serializing_if = "is_false")]
    pub resolved: bool,
}

impl AlertInfo {
    pub fn of(alert: &Alert, now: DateTime<Utc>) -> Self {
        AlertInfo {
            fingerprint: alert.fingerprint().0,
            name: alert.labels.get("alertname").unwrap_or_default().to_owned(),
            labels: Labels::of(&alert.labels),
            annotations: Labels::of(&alert.annotations),
            starts_at: ProtoTime(alert.starts_at),
            ends_at: ProtoTime(alert.ends_at),
            resolved: alert.resolved_at(now),
        }
    }
}

/// An alert in a group: Alertmanager's notification hash of its labels,
/// and the alert itself where the event has it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupedAlert {
    #[serde(skip_serializing_if = "is_zero_u64", serialize_with = "as_string")]
    pub hash: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<AlertInfo>,
}

impl GroupedAlert {
    pub fn of(alert: &Alert, now: DateTime<Utc>) -> Self {
        GroupedAlert {
            hash: alert_hash(&alert.labels),
            details: Some(AlertInfo::of(alert, now)),
        }
    }

    pub fn hash_only(labels: &LabelSet) -> Self {
        GroupedAlert {
            hash: alert_hash(labels),
            details: None,
        }
    }
}

/// Alertmanager's `hashAlert`: XXH64 of the sorted label names and values,
/// each followed by 0xff.
pub fn alert_hash(labels: &LabelSet) -> u64 {
    let mut buf = Vec::with_capacity(labels.text_len() + 2 * labels.len());
    for (name, value) in labels.iter() {
        buf.extend_from_slice(name.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(value.as_bytes());
        buf.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&buf, 0)
}

/// The aggregation group an event happened in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    pub group_key: String,
    pub group_labels: Labels,
    pub group_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub receiver_name: String,
}

impl GroupInfo {
    pub fn new(group_key: &str, group_labels: &LabelSet, receiver: &str) -> Self {
        GroupInfo {
            group_key: group_key.to_owned(),
            group_labels: Labels::of(group_labels),
            group_id: crate::notification::group_key_hash(group_key),
            receiver_name: receiver.to_owned(),
        }
    }
}

/// A label set: its pairs, sorted by name.
#[derive(Debug, Clone, Serialize)]
pub struct Labels {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelPair>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelPair {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

impl Labels {
    pub fn of(set: &LabelSet) -> Self {
        Labels {
            labels: set
                .iter()
                .map(|(k, v)| LabelPair {
                    key: k.to_owned(),
                    value: v.to_owned(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MatcherInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rendered: String,
}

impl MatcherInfo {
    pub fn of(m: &Matcher) -> Self {
        MatcherInfo {
            kind: match m.kind {
                MatchType::Equal => "TYPE_EQUAL",
                MatchType::NotEqual => "TYPE_NOT_EQUAL",
                MatchType::Regex => "TYPE_REGEXP",
                MatchType::NotRegex => "TYPE_NOT_REGEXP",
            },
            name: m.name.clone(),
            pattern: m.value.clone(),
            rendered: m.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceInfo {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<MatcherInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Labels>,
    pub starts_at: ProtoTime,
    pub ends_at: ProtoTime,
    pub updated_at: ProtoTime,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// One set: klaxon's silences have a single matcher list.
    pub matcher_sets: Vec<MatcherSet>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatcherSet {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<MatcherInfo>,
}

impl SilenceInfo {
    pub fn of(s: &Silence) -> Self {
        let matchers: Vec<MatcherInfo> = s
            .matchers
            .iter()
            .map(|m| {
                let kind = match (m.is_equal, m.is_regex) {
                    (true, false) => MatchType::Equal,
                    (false, false) => MatchType::NotEqual,
                    (true, true) => MatchType::Regex,
                    (false, true) => MatchType::NotRegex,
                };
                match Matcher::new(&m.name, kind, &m.value) {
                    Ok(compiled) => MatcherInfo::of(&compiled),
                    // Stored silences were checked when made; keep the
                    // event even if one no longer compiles.
                    Err(_) => MatcherInfo {
                        kind: "TYPE_UNSPECIFIED",
                        name: m.name.clone(),
                        pattern: m.value.clone(),
                        rendered: String::new(),
                    },
                }
            })
            .collect();
        SilenceInfo {
            id: s.id.clone(),
            matchers: matchers.clone(),
            annotations: (!s.annotations.is_empty()).then(|| Labels::of(&s.annotations)),
            starts_at: ProtoTime(s.starts_at),
            ends_at: ProtoTime(s.ends_at),
            updated_at: ProtoTime(s.updated_at),
            created_by: s.created_by.clone(),
            comment: s.comment.clone(),
            matcher_sets: vec![MatcherSet { matchers }],
        }
    }
}

/// `google.protobuf.Timestamp` in JSON: UTC, `Z`, and 0, 3, 6 or 9
/// fractional digits, as few as the value needs.
#[derive(Debug, Clone, Copy)]
pub struct ProtoTime(pub DateTime<Utc>);

impl Serialize for ProtoTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// `google.protobuf.Duration` in JSON: seconds with an `s`, and 0, 3, 6 or
/// 9 fractional digits.
#[derive(Debug, Clone, Copy)]
pub struct ProtoDuration(pub std::time::Duration);

impl Serialize for ProtoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let secs = self.0.as_secs();
        let nanos = self.0.subsec_nanos();
        let text = if nanos == 0 {
            format!("{secs}s")
        } else if nanos.is_multiple_of(1_000_000) {
            format!("{secs}.{:03}s", nanos / 1_000_000)
        } else if nanos.is_multiple_of(1_000) {
            format!("{secs}.{:06}s", nanos / 1_000)
        } else {
            format!("{secs}.{nanos:09}s")
        };
        s.serialize_str(&text)
    }
}

fn as_string<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

fn all_as_strings<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(u64::to_string))
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().into()
    }

    /// protojson's formats for the well-known types and 64-bit integers.
    #[test]
    fn times_durations_and_integers_are_written_as_protojson_writes_them() {
        let t = |s| serde_json::to_string(&ProtoTime(at(s))).unwrap();
        assert_eq!(t("2026-12-04T03:00:00Z"), r#""2026-12-04T03:00:00Z""#);
        assert_eq!(
            t("2026-12-04T03:00:00.120Z"),
            r#""2026-12-04T03:00:00.120Z""#
        );
        assert_eq!(
            t("2026-12-04T03:00:00.000001Z"),
            r#""2026-12-04T03:00:00.000001Z""#
        );
        let d = |d| serde_json::to_string(&ProtoDuration(d)).unwrap();
        assert_eq!(d(std::time::Duration::from_secs(3600)), r#""3600s""#);
        assert_eq!(d(std::time::Duration::from_millis(1500)), r#""1.500s""#);
        assert_eq!(d(std::time::Duration::from_nanos(7)), r#""0.000000007s""#);
        let shutdown = Event {
            timestamp: ProtoTime(at("2026-12-04T03:00:00Z")),
            instance: "host".into(),
            data: EventData::AlertmanagerShutdownEvent(Empty {}),
            cluster_position: 0,
        };
        assert_eq!(
            serde_json::to_string(&shutdown).unwrap(),
            r#"{"@timestamp":"2026-12-04T03:00:00Z","instance":"host","data":{"alertmanagerShutdownEvent":{}}}"#
        );
    }

    /// Alertmanager's `hashAlert` (XXH64 of `name\xffvalue\xff…`), the value
    /// its notification log and events carry.
    #[test]
    fn the_alert_hash_is_xxh64_of_the_sorted_pairs() {
        let mut labels = LabelSet::new();
        labels.insert("b", "2");
        labels.insert("a", "1");
        assert_eq!(
            alert_hash(&labels),
            xxhash_rust::xxh64::xxh64(b"a\xff1\xffb\xff2\xff", 0)
        );
        assert_eq!(
            alert_hash(&LabelSet::new()),
            xxhash_rust::xxh64::xxh64(b"", 0)
        );
    }
}
