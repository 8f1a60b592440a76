//! Limits on silences and the silence log, from Alertmanager 0.34's flags
//! `--silences.max-silences`, `--silences.max-silence-size-bytes` and
//! `--log.silences`: the checks, their exact messages, and the log lines.
//!
//! A silence's size is what Alertmanager measures: the length of its
//! protobuf encoding as stored and gossiped (`MeshSilence`), computed here
//! from the wire format without encoding it, so a limit tuned for an
//! Alertmanager refuses the same silences in klaxon.

use chrono::{DateTime, Utc};

use crate::silence::Silence;

/// The limits a [`crate::silence::Silences`] enforces; `Default` has none.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilenceLimits {
    /// Silences kept at once, expired ones included; 0: no limit.
    pub max_silences: usize,
    /// Encoded size of one silence; 0: no limit.
    pub max_silence_size_bytes: usize,
    /// Log each silence created, updated or expired.
    pub log_silences: bool,
    /// `--data.retention`: part of the size, as a stored silence carries
    /// the time it is dropped.
    pub retention: std::time::Duration,
}

/// Alertmanager's messages, which its API answers with a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceLimitError {
    #[error("exceeded maximum number of silences: {count} (limit: {limit})")]
    TooMany { count: usize, limit: usize },
    #[error("silence exceeded maximum size: {size} bytes (limit: {limit} bytes)")]
    TooLarge { size: usize, limit: usize },
}

impl SilenceLimits {
    /// Room for one more silence; `count` (how many are kept now) is only
    /// asked for when there is a limit.
    pub fn check_count(&self, count: impl FnOnce() -> usize) -> Result<(), SilenceLimitError> {
        if self.max_silences == 0 {
            return Ok(());
        }
        let count = count();
        if count + 1 > self.max_silences {
            return Err(SilenceLimitError::TooMany {
                count,
                limit: self.max_silences,
            });
        }
        Ok(())
    }

    /// The silence, about to be stored, fits the size limit.
    pub fn check_size(&self, silence: &Silence) -> Result<(), SilenceLimitError> {
        if self.max_silence_size_bytes == 0 {
            return Ok(());
        }
        let size = encoded_size(silence, self.retention);
        if size > self.max_silence_size_bytes {
            return Err(SilenceLimitError::TooLarge {
                size,
                limit: self.max_silence_size_bytes,
            });
        }
        Ok(())
    }

    /// Alertmanager's silence log line (`msg` is "create silence",
    /// "update silence" or "expire silence"), with its keys.
    pub fn log(&self, msg: &str, silence: &Silence) {
        if !self.log_silences {
            return;
        }
        let matchers = silence
            .matchers
            .iter()
            .map(|m| {
                let op = match (m.is_equal, m.is_regex) {
                    (true, false) => "=",
                    (true, true) => "=~",
                    (false, false) => "!=",
                    (false, true) => "!~",
                };
                format!("{}{op}{}", m.name, m.value)
            })
            .collect::<Vec<_>>()
            .join(",");
        tracing::info!(
            Id = %silence.id,
            CreatedBy = %silence.created_by,
            Comment = %silence.comment,
            StartsAt = %silence.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            EndsAt = %silence.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Matchers = %matchers,
            "{msg}"
        );
    }
}

/// Bytes a varint takes.
fn varint(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A string or bytes field (tag below 16): absent when empty.
fn bytes_field(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        1 + varint(len as u64) + len
    }
}

/// A set message field: present even when empty.
fn message_field(len: usize) -> usize {
    1 + varint(len as u64) + len
}

/// `google.protobuf.Timestamp`: seconds and nanos, each absent when 0.
fn timestamp(t: DateTime<Utc>) -> usize {
    let seconds = t.timestamp();
    let nanos = t.timestamp_subsec_nanos();
    // Negative int64s take ten bytes as a varint.
    let seconds = if seconds == 0 {
        0
    } else {
        1 + varint(seconds as u64)
    };
    let nanos = if nanos == 0 {
        0
    } else {
        1 + varint(u64::from(nanos))
    };
    seconds + nanos
}

/// The size of Alertmanager's `MeshSilence` for this silence: the silence
/// (its matchers as one matcher set, as Alertmanager 0.34 stores them) and
/// the time it expires from the store.
pub fn encoded_size(s: &Silence, retention: std::time::Duration) -> usize {
    let matcher_set: usize = s
        .matchers
        .iter()
        .map(|m| {
            // EQUAL is 0 and so absent; the others are one byte.
            let kind = if m.is_equal && !m.is_regex { 0 } else { 2 };
            message_field(kind + bytes_field(m.name.len()) + bytes_field(m.value.len()))
        })
        .sum();
    let silence = bytes_field(s.id.len())
        + message_field(timestamp(s.starts_at))
        + message_field(timestamp(s.ends_at))
        + message_field(timestamp(s.updated_at))
        + bytes_field(s.created_by.len())
        + bytes_field(s.comment.len())
        + message_field(matcher_set)
        + s.annotations
            .iter()
            .map(|(k, v)| message_field(bytes_field(k.len()) + bytes_field(v.len())))
            .sum::<usize>();
    let expires_at = chrono::Duration::from_std(retention)
        .ok()
        .and_then(|r| s.ends_at.checked_add_signed(r))
        .unwrap_or(s.ends_at);
    message_field(silence) + message_field(timestamp(expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::silence::SilenceMatcher;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn silence() -> Silence {
        Silence {
            id: "d3a2c9a6-6c0e-4a1b-9d1e-0f4a2b3c4d5e".into(),
            matchers: vec![SilenceMatcher {
                name: "alertname".into(),
                value: "Foo".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: at("2026-01-01T00:00:00Z"),
            ends_at: at("2026-01-01T01:00:00Z"),
            updated_at: at("2026-01-01T00:00:00.5Z"),
            created_by: "me".into(),
            comment: "maintenance".into(),
            annotations: Default::default(),
        }
    }

    /// Counted by hand from the protobuf wire format: each timestamp has
    /// 5-byte seconds (and `updated_at` 5-byte nanos for its half second),
    /// each with a 1-byte tag.
    #[test]
    fn the_size_is_the_protobuf_encodings() {
        let s = silence();
        let matcher = 1 + 1 + (1 + 1 + 9) + (1 + 1 + 3);
        let set = 1 + 1 + matcher;
        let inner = (1 + 1 + 36) + 3 * (1 + 1 + 6) + 6 + (1 + 1 + 2) + (1 + 1 + 11) + set;
        let mesh = (1 + 1 + inner) + (1 + 1 + 6);
        assert_eq!(encoded_size(&s, std::time::Duration::from_secs(3600)), mesh);
        // A regex matcher adds its type byte pair.
        let mut re = s.clone();
        re.matchers[0].is_regex = true;
        assert_eq!(encoded_size(&re, std::time::Duration::ZERO), mesh + 2);
    }

    /// A writer that keeps what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// `--log.silences`: creating and expiring a silence each log a line
    /// with Alertmanager's message and keys; without the flag, nothing.
    #[tokio::test]
    async fn log_silences_logs_each_change_with_alertmanagers_keys() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::Storage::open(dir.path()).unwrap();
        let silences = crate::silence::Silences::load(storage)
            .unwrap()
            .with_limits(SilenceLimits {
                log_silences: true,
                ..SilenceLimits::default()
            });
        let now = at("2026-01-01T00:00:00Z");
        let mut s = silence();
        s.id.clear();
        s.matchers.push(SilenceMatcher {
            name: "env".into(),
            value: "dev.*".into(),
            is_regex: true,
            is_equal: false,
        });
        let id = silences.set(s, now).await.unwrap();
        silences
            .expire(&id, now + chrono::Duration::minutes(1))
            .await
            .unwrap();
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("create silence"), "{text}");
        assert!(lines[1].contains("expire silence"), "{text}");
        for key in [
            format!("Id={id}"),
            "CreatedBy=me".into(),
            "Comment=maintenance".into(),
            "StartsAt=2026-01-01T00:00:00Z".into(),
            "Matchers=alertname=Foo,env!~dev.*".into(),
        ] {
            assert!(lines[0].contains(&key), "{key} in {text}");
        }
        assert!(lines[1].contains("EndsAt=2026-01-01T00:01:00Z"), "{text}");

        // Off by default.
        captured.0.lock().unwrap().clear();
        let quiet_dir = tempfile::tempdir().unwrap();
        let quiet = crate::silence::Silences::load(
            crate::storage::Storage::open(quiet_dir.path()).unwrap(),
        )
        .unwrap();
        let mut s = silence();
        s.id.clear();
        quiet.set(s, now).await.unwrap();
        assert!(captured.0.lock().unwrap().is_empty());
    }

    /// Checked against Go: Debian's Alertmanager 0.25 `silencepb` (gogo
    /// protobuf) sizes this silence at 129 bytes with its matchers in the
    /// old field 2; 0.34 wraps them in one `MatcherSet` (field 11), which
    /// adds its tag and length: 131.
    #[test]
    fn the_size_matches_gos_protobuf_size() {
        let mut s = silence();
        s.matchers.push(SilenceMatcher {
            name: "env".into(),
            value: "dev.*".into(),
            is_regex: true,
            is_equal: false,
        });
        assert_eq!(encoded_size(&s, std::time::Duration::from_secs(3600)), 131);
    }

    #[test]
    fn the_count_limit_counts_expired_silences_too() {
        let limits = SilenceLimits {
            max_silences: 2,
            ..SilenceLimits::default()
        };
        assert!(limits.check_count(|| 1).is_ok());
        assert_eq!(
            limits.check_count(|| 2).unwrap_err().to_string(),
            "exceeded maximum number of silences: 2 (limit: 2)"
        );
        assert!(SilenceLimits::default().check_count(|| 1_000_000).is_ok());
    }

    #[test]
    fn the_size_limit_names_both_sizes() {
        let s = silence();
        let size = encoded_size(&s, std::time::Duration::ZERO);
        let limits = SilenceLimits {
            max_silence_size_bytes: size - 1,
            ..SilenceLimits::default()
        };
        assert_eq!(
            limits.check_size(&s).unwrap_err().to_string(),
            format!(
                "silence exceeded maximum size: {size} bytes (limit: {} bytes)",
                size - 1
            )
        );
        let fits = SilenceLimits {
            max_silence_size_bytes: size,
            ..SilenceLimits::default()
        };
        assert!(fits.check_size(&s).is_ok());
    }
}
