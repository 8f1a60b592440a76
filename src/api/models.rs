//! API v2 wire types, field for field as Alertmanager's OpenAPI spec, and
//! the timestamp format its answers use.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::labels::{Fingerprint, LabelSet};
use crate::silence::{Silence, SilenceMatcher, SilenceState};

/// API answers carry RFC 3339 timestamps with milliseconds (`strfmt.DateTime`).
pub fn api_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Same text as [`api_time`], written straight into the answer: a listing
/// has three timestamps per alert, so no `String` each.
fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match rfc3339_millis(t) {
        Some(buf) => s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default()),
        // Years outside 0..=9999 need chrono's general formatter.
        None => s.collect_str(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
    }
}

/// A time as the API writes it.
pub(super) struct ApiTime(pub DateTime<Utc>);

impl Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser_time(&self.0, s)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` by hand: chrono's format-string machinery was
/// the largest single cost of a `GET /api/v2/alerts` answer.
pub(super) fn rfc3339_millis(t: &DateTime<Utc>) -> Option<[u8; 24]> {
    use chrono::{Datelike, Timelike};
    // Each accessor of a `DateTime` applies its offset again (a third of
    // this function's cost, even for UTC); the naive value has none.
    let t = t.naive_utc();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    // Leap seconds show as nanoseconds ≥ 1e9; chrono's `%.3f` prints them
    // the same way (a millisecond value ≥ 1000 is not representable here).
    let millis = t.nanosecond() / 1_000_000;
    if millis > 999 {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (0..width).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 3, millis);
    Some(b)
}

/// Treats Go's zero time as absent.
pub fn non_zero(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.filter(|t| *t != crate::alert::go_zero_time())
}

#[cfg(test)]
mod time_format_tests {
    use super::*;

    #[test]
    fn posted_times_parse_strict_and_relaxed_forms_alike() {
        let parse = |v: &str| -> Result<Option<DateTime<Utc>>, String> {
            let body = format!(r#"{{"labels":{{"a":"b"}},"startsAt":{v}}}"#);
            serde_json::from_str::<PostableAlert>(&body)
                .map(|a| a.starts_at)
                .map_err(|e| e.to_string())
        };
        let utc = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert_eq!(
            parse(r#""2026-01-01T02:00:00.123456789+02:00""#).unwrap(),
            utc("2026-01-01T00:00:00.123456789Z")
        );
        assert_eq!(
            parse(r#""2026-01-01 00:00:00Z""#).unwrap(),
            utc("2026-01-01T00:00:00Z")
        );
        assert_eq!(parse("null").unwrap(), None);
        assert!(
            parse(r#""yesterday""#)
                .unwrap_err()
                .contains("input contains invalid characters")
        );
        assert!(
            parse("5")
                .unwrap_err()
                .contains("invalid type: integer `5`")
        );
    }

    #[test]
    fn both_timestamp_writers_agree() {
        #[derive(Serialize)]
        struct T(#[serde(serialize_with = "ser_time")] DateTime<Utc>);
        for text in [
            "2026-11-21T23:34:02.497123Z",
            "2026-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59.001Z",
            "+10000-01-01T00:00:00Z",
        ] {
            let t: DateTime<Utc> = text.parse().unwrap();
            assert_eq!(
                serde_json::to_string(&T(t)).unwrap(),
                format!("\"{}\"", api_time(&t))
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_hand_written_format_matches_chronos(secs in 0i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            #[derive(Serialize)]
            struct T(#[serde(serialize_with = "ser_time")] DateTime<Utc>);
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            proptest::prop_assert_eq!(
                serde_json::to_string(&T(t)).unwrap(),
                format!("\"{}\"", api_time(&t))
            );
        }
    }
}

/// A time as `DateTime<Utc>`'s own `Deserialize` reads it, but trying
/// chrono's strict RFC 3339 parser first: it is what Prometheus sends, and
/// the relaxed parser behind `FromStr` took a twentieth of ingest CPU. The
/// relaxed parser still decides every other input (and words its errors).
fn rfc3339_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Time;
    impl serde::de::Visitor<'_> for Time {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a formatted date and time string or a unix timestamp")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Ok(t.with_timezone(&Utc)),
                Err(_) => s.parse().map_err(E::custom),
            }
        }
    }
    struct OptTime;
    impl<'de> serde::de::Visitor<'de> for OptTime {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a formatted date and time string or a unix timestamp")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Time).map(Some)
        }
    }
    d.deserialize_option(OptTime)
}

/// One alert of a `POST /api/v2/alerts` body. `labels` is optional here so
/// that a missing one is reported as Alertmanager does (422), not as a
/// type error. Serializable too: amctl's `alert add` posts it.
#[derive(Debug, Deserialize, Serialize)]
pub struct PostableAlert<'a> {
    pub labels: Option<LabelSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<LabelSet>,
    #[serde(
        default,
        rename = "startsAt",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "rfc3339_opt"
    )]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        rename = "endsAt",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "rfc3339_opt"
    )]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        rename = "generatorURL",
        skip_serializing_if = "Option::is_none",
        borrow,
        deserialize_with = "crate::cow_str::optional"
    )]
    /// Borrowed from the body: most alerts repeat a URL klaxon already
    /// holds (see `intern`), so copying it would be wasted.
    pub generator_url: Option<Cow<'a, str>>,
}

#[derive(Debug, Serialize)]
pub struct Receiver {
    pub name: String,
}

/// One entry of `/api/v2/receivers`.
#[derive(Debug, Serialize)]
pub struct GettableReceiver {
    pub name: String,
    pub labels: LabelSet,
}

/// A receiver name borrowed from the running config.
#[derive(Debug, Serialize)]
pub struct ReceiverRef<'a> {
    pub name: &'a str,
}

/// An alert's status as one listing shows it; the silences' IDs are
/// borrowed from the silences the listing reads (a listing makes one status
/// per alert, and nearly every one has no silence or one).
#[derive(Debug, Serialize)]
pub struct AlertStatus<'a> {
    #[serde(rename = "inhibitedBy")]
    pub inhibited_by: Vec<String>,
    #[serde(rename = "mutedBy")]
    pub muted_by: Vec<String>,
    #[serde(rename = "silencedBy")]
    pub silenced_by: crate::silence::SilenceIds<'a>,
    pub state: AlertState,
}

/// The receivers one listed alert is routed to; nearly always one.
pub type ReceiverRefs<'a> = smallvec::SmallVec<[ReceiverRef<'a>; 2]>;

/// An alert's state in the API. klaxon processes an alert as it is
/// posted, so `unprocessed` is never shown; it stays for the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Active,
    Suppressed,
    Unprocessed,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
            AlertState::Unprocessed => "unprocessed",
        }
    }
}

/// Borrows from the stored alert: listing thousands of alerts copies nothing.
#[derive(Debug, Serialize)]
pub struct GettableAlert<'a> {
    pub annotations: &'a LabelSet,
    #[serde(rename = "endsAt", serialize_with = "ser_time")]
    pub ends_at: DateTime<Utc>,
    pub fingerprint: Fingerprint,
    pub receivers: ReceiverRefs<'a>,
    #[serde(rename = "startsAt", serialize_with = "ser_time")]
    pub starts_at: DateTime<Utc>,
    pub status: AlertStatus<'a>,
    #[serde(rename = "updatedAt", serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    #[serde(rename = "generatorURL", skip_serializing_if = "str::is_empty")]
    pub generator_url: &'a str,
    pub labels: &'a LabelSet,
}

#[derive(Debug, Serialize)]
pub struct AlertGroup<'a> {
    pub alerts: Vec<GettableAlert<'a>>,
    pub labels: LabelSet,
    pub receiver: Receiver,
    /// The route's `labels` rendered against the group (Alertmanager 0.34).
    #[serde(rename = "routeLabels")]
    pub route_labels: LabelSet,
}

/// Deserializable too: amctl reads silences back. Alertmanager before 0.22
/// did not send `isEqual`; absent means `true`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiMatcher {
    #[serde(rename = "isEqual", default = "is_equal_default")]
    pub is_equal: bool,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    pub name: String,
    pub value: String,
}

fn is_equal_default() -> bool {
    true
}

/// A posted matcher; required fields are optional here so that a missing
/// one is a 422 naming it, as Alertmanager answers.
#[derive(Debug, Deserialize, Serialize)]
pub struct PostableMatcher {
    #[serde(rename = "isEqual", skip_serializing_if = "Option::is_none")]
    pub is_equal: Option<bool>,
    #[serde(rename = "isRegex", skip_serializing_if = "Option::is_none")]
    pub is_regex: Option<bool>,
    pub name: Option<String>,
    pub value: Option<String>,
}

impl PostableMatcher {
    /// Checks required fields in the order Alertmanager's schema lists them.
    pub fn into_matcher(self, index: usize) -> Result<SilenceMatcher, String> {
        let missing = |f: &str| format!("matchers.{index}.{f}");
        Ok(SilenceMatcher {
            is_regex: self.is_regex.ok_or_else(|| missing("isRegex"))?,
            name: self.name.ok_or_else(|| missing("name"))?,
            value: self.value.ok_or_else(|| missing("value"))?,
            is_equal: self.is_equal.unwrap_or(true),
        })
    }
}

impl From<&SilenceMatcher> for ApiMatcher {
    fn from(m: &SilenceMatcher) -> Self {
        Self {
            is_equal: m.is_equal,
            is_regex: m.is_regex,
            name: m.name.clone(),
            value: m.value.clone(),
        }
    }
}

/// Body of `POST /api/v2/silences`; required fields are optional here so
/// their absence becomes a 422 naming them rather than a parse error.
#[derive(Debug, Deserialize, Serialize)]
pub struct PostableSilence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub matchers: Option<Vec<PostableMatcher>>,
    #[serde(rename = "startsAt")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(rename = "endsAt")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(rename = "createdBy")]
    pub created_by: Option<String>,
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<LabelSet>,
}

#[derive(Debug, Serialize)]
pub struct SilenceStatus {
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
pub struct GettableSilence {
    pub id: String,
    pub status: SilenceStatus,
    #[serde(rename = "updatedAt", serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    pub comment: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    #[serde(rename = "endsAt", serialize_with = "ser_time")]
    pub ends_at: DateTime<Utc>,
    pub matchers: Vec<ApiMatcher>,
    #[serde(rename = "startsAt", serialize_with = "ser_time")]
    pub starts_at: DateTime<Utc>,
    /// Omitted when empty, as Alertmanager's `omitempty`.
    #[serde(skip_serializing_if = "LabelSet::is_empty")]
    pub annotations: LabelSet,
}

impl GettableSilence {
    pub fn new(s: &Silence, state: SilenceState) -> Self {
        Self {
            id: s.id.clone(),
            status: SilenceStatus {
                state: state.as_str(),
            },
            updated_at: s.updated_at,
            comment: s.comment.clone(),
            created_by: s.created_by.clone(),
            ends_at: s.ends_at,
            matchers: s.matchers.iter().map(ApiMatcher::from).collect(),
            starts_at: s.starts_at,
            annotations: s.annotations.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PostSilenceOk {
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}

#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    /// This peer's name; absent when clustering is disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub peers: Vec<PeerStatus>,
    /// `ready`, `settling` or `disabled`.
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PeerStatus {
    pub address: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct ConfigStatus {
    pub original: String,
}

#[derive(Debug, Serialize)]
pub struct VersionInfo {
    pub branch: &'static str,
    #[serde(rename = "buildDate")]
    pub build_date: &'static str,
    #[serde(rename = "buildUser")]
    pub build_user: &'static str,
    #[serde(rename = "goVersion")]
    pub go_version: &'static str,
    pub revision: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub cluster: ClusterStatus,
    pub config: ConfigStatus,
    #[serde(serialize_with = "ser_time")]
    pub uptime: DateTime<Utc>,
    #[serde(rename = "versionInfo")]
    pub version_info: VersionInfo,
}

/// One integration's answer to `POST /api/klaxon/receivers/{name}/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverTestResult {
    /// The integration kind (`webhook`, `discord`, `email`).
    pub integration: String,
    /// Position among the receiver's integrations of that kind.
    pub index: usize,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
