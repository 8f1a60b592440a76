//! The alert log's record format: batches of alert puts and deletes.
//!
//! Version 3 (written now) is a compact binary encoding (postcard) of each
//! alert, its label sets in their packed in-memory form, compressed with
//! LZ4 per record. Alerts repeat label names and most values from one to
//! the next, so a record shrinks several times; that matters beyond disk
//! space, because sled keeps recently written values in memory, and
//! because encoding is on the ingest path (JSON was a fifth of its CPU,
//! label sets as postcard maps a tenth). Versions 1 (JSON) and 2 (label
//! sets as maps) are still read, so a store written by an earlier klaxon
//! loads unchanged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::labels::{Fingerprint, LabelSet};

/// JSON: `{"puts":[alert, …],"deletes":[fingerprint, …]}`.
pub const VERSION_JSON: u8 = 1;
/// LZ4 over postcard: a count, that many alerts, then the deletes; label
/// sets as maps.
pub const VERSION_BINARY: u8 = 2;
/// As version 2, with label sets in packed form (see `labels`).
pub const VERSION_PACKED: u8 = 3;

/// A decompressed record may not claim more than this; a corrupt length
/// must not make startup allocate gigabytes.
const MAX_RAW_BYTES: usize = 64 * 1024 * 1024;

/// A timestamp as seconds and nanoseconds since the Unix epoch; covers Go's
/// zero time (year 1), which nanoseconds in an i64 do not.
type Stamp = (i64, u32);

fn stamp(t: DateTime<Utc>) -> Stamp {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

fn unstamp((secs, nanos): Stamp) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| format!("time out of range: {secs}.{nanos}"))
}

/// One alert in a binary record; `L` is how its label sets are written:
/// packed strings (version 3) or maps (version 2).
#[derive(Serialize, Deserialize)]
struct AlertRecord<'a, L> {
    labels: L,
    annotations: L,
    starts_at: Stamp,
    ends_at: Stamp,
    updated_at: Stamp,
    generator_url: &'a str,
    timeout: bool,
}

impl<L> AlertRecord<'_, L> {
    fn into_alert(self, sets: impl Fn(L) -> Result<LabelSet, String>) -> Result<Alert, String> {
        Ok(Alert {
            labels: sets(self.labels)?,
            annotations: sets(self.annotations)?,
            starts_at: unstamp(self.starts_at)?,
            ends_at: unstamp(self.ends_at)?,
            updated_at: unstamp(self.updated_at)?,
            generator_url: self.generator_url.into(),
            timeout: self.timeout,
            fingerprint_cache: Default::default(),
        })
    }
}

/// postcard's varint of a `usize` (a string's length) takes at most this.
const MAX_VARINT_BYTES: usize = 10;
/// A stamp: a zigzag varint `i64` and a varint `u32`.
const MAX_STAMP_BYTES: usize = 10 + 5;

/// One alert, encoded on its own (into `out`, replacing what it held) so a
/// caller can check its size and cut records between any two alerts.
pub fn encode_alert(alert: &Alert, out: &mut Vec<u8>) {
    let packed = AlertRecord {
        labels: alert.labels.as_packed(),
        annotations: alert.annotations.as_packed(),
        starts_at: stamp(alert.starts_at),
        ends_at: stamp(alert.ends_at),
        updated_at: stamp(alert.updated_at),
        generator_url: &alert.generator_url,
        timeout: alert.timeout,
    };
    // Serialised into a slice sized for the worst case: postcard's
    // growable-vector output pushes byte by byte.
    let bound = packed.labels.len()
        + packed.annotations.len()
        + packed.generator_url.len()
        + 3 * MAX_VARINT_BYTES
        + 3 * MAX_STAMP_BYTES
        + 1;
    out.clear();
    out.resize(bound, 0);
    let used = postcard::to_slice(&packed, out)
        .expect("the bound fits")
        .len();
    out.truncate(used);
}

/// Collects encoded alerts into one record.
pub struct RecordWriter {
    alerts: Vec<u8>,
    count: usize,
}

impl RecordWriter {
    pub fn new(capacity: usize) -> Self {
        Self {
            alerts: Vec::with_capacity(capacity),
            count: 0,
        }
    }

    /// Bytes of encoded alerts so far (before compression).
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn push(&mut self, encoded: &[u8]) {
        self.alerts.extend_from_slice(encoded);
        self.count += 1;
    }

    /// The record: version byte, then the compressed batch.
    pub fn finish(self, deletes: &[Fingerprint]) -> Vec<u8> {
        let mut raw = postcard::to_allocvec(&self.count).expect("a count encodes");
        raw.extend_from_slice(&self.alerts);
        let deletes: Vec<u64> = deletes.iter().map(|fp| fp.0).collect();
        raw = postcard::to_extend(&deletes, raw).expect("fingerprints encode");
        let mut record = vec![VERSION_PACKED];
        record.extend_from_slice(&lz4_flex::block::compress_prepend_size(&raw));
        record
    }
}

/// One record as read back.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub puts: Vec<Alert>,
    pub deletes: Vec<u64>,
}

/// Reads a record of either version. The error is the reason, for the
/// caller to wrap with the record's key.
pub fn decode(record: &[u8]) -> Result<Batch, String> {
    match record.split_first() {
        Some((&VERSION_JSON, body)) => serde_json::from_slice(body).map_err(|e| e.to_string()),
        Some((&VERSION_BINARY, body)) => decode_binary(body, mapped_alert),
        Some((&VERSION_PACKED, body)) => decode_binary(body, packed_alert),
        Some((v, _)) => Err(format!("unknown record version {v}")),
        None => Err("empty record".into()),
    }
}

/// Reads one alert from the front of `bytes`, returning the rest.
type AlertReader = fn(&[u8]) -> Result<(Alert, &[u8]), String>;

fn mapped_alert(bytes: &[u8]) -> Result<(Alert, &[u8]), String> {
    let (a, rest) =
        postcard::take_from_bytes::<AlertRecord<LabelSet>>(bytes).map_err(|e| e.to_string())?;
    Ok((a.into_alert(Ok)?, rest))
}

fn packed_alert(bytes: &[u8]) -> Result<(Alert, &[u8]), String> {
    let (a, rest) =
        postcard::take_from_bytes::<AlertRecord<&str>>(bytes).map_err(|e| e.to_string())?;
    Ok((a.into_alert(LabelSet::from_packed)?, rest))
}

fn decode_binary(body: &[u8], read_alert: AlertReader) -> Result<Batch, String> {
    let (size, compressed) = body.split_first_chunk::<4>().ok_or("record too short")?;
    let size = u32::from_le_bytes(*size) as usize;
    if size > MAX_RAW_BYTES {
        return Err(format!(
            "record claims {size} bytes, more than any klaxon writes"
        ));
    }
    let raw = lz4_flex::block::decompress(compressed, size).map_err(|e| e.to_string())?;
    let bad = |e: postcard::Error| e.to_string();
    let (count, mut rest) = postcard::take_from_bytes::<usize>(&raw).map_err(bad)?;
    // Each alert takes well over one byte, so a count beyond the bytes left
    // is corruption, caught before it sizes an allocation.
    let mut puts = Vec::with_capacity(count.min(rest.len()));
    for _ in 0..count {
        let (alert, next) = read_alert(rest)?;
        rest = next;
        puts.push(alert);
    }
    let (deletes, rest) = postcard::take_from_bytes::<Vec<u64>>(rest).map_err(bad)?;
    if !rest.is_empty() {
        return Err(format!("{} stray bytes after the record", rest.len()));
    }
    Ok(Batch { puts, deletes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::go_zero_time;

    fn alert() -> Alert {
        let now = Utc::now();
        Alert {
            labels: [("alertname", "A"), ("instance", "h\"1")]
                .into_iter()
                .collect(),
            annotations: [("summary", "ünïcode\n")].into_iter().collect(),
            starts_at: now,
            ends_at: go_zero_time(),
            generator_url: "http://prom/graph?g0.expr=up".into(),
            updated_at: now,
            timeout: true,
            fingerprint_cache: Default::default(),
        }
    }

    #[test]
    fn a_binary_record_round_trips_alerts_and_deletes() {
        let a = alert();
        let mut w = RecordWriter::new(0);
        let mut buf = Vec::new();
        encode_alert(&a, &mut buf);
        w.push(&buf);
        encode_alert(&a, &mut buf);
        w.push(&buf);
        let record = w.finish(&[Fingerprint(7), Fingerprint(u64::MAX)]);
        assert_eq!(record[0], VERSION_PACKED);
        let batch = decode(&record).unwrap();
        assert_eq!(batch.puts, [a.clone(), a]);
        assert_eq!(batch.puts[0].ends_at, go_zero_time());
        assert_eq!(batch.deletes, [7, u64::MAX]);
    }

    #[test]
    fn a_version_2_record_from_an_older_klaxon_still_reads() {
        let a = alert();
        // Version 2 wrote label sets as maps: `LabelSet`'s own encoding.
        let v2 = AlertRecord {
            labels: &a.labels,
            annotations: &a.annotations,
            starts_at: stamp(a.starts_at),
            ends_at: stamp(a.ends_at),
            updated_at: stamp(a.updated_at),
            generator_url: &a.generator_url,
            timeout: a.timeout,
        };
        let mut raw = postcard::to_allocvec(&1usize).unwrap();
        raw = postcard::to_extend(&v2, raw).unwrap();
        raw = postcard::to_extend(&vec![9u64], raw).unwrap();
        let mut record = vec![VERSION_BINARY];
        record.extend_from_slice(&lz4_flex::block::compress_prepend_size(&raw));
        let batch = decode(&record).unwrap();
        assert_eq!(batch.puts, [a]);
        assert_eq!(batch.deletes, [9]);
    }

    #[test]
    fn a_json_record_from_an_older_klaxon_still_reads() {
        let json = serde_json::to_vec(&alert()).unwrap();
        let mut record = vec![VERSION_JSON];
        record.extend_from_slice(br#"{"puts":["#);
        record.extend_from_slice(&json);
        record.extend_from_slice(br#"],"deletes":[5]}"#);
        let batch = decode(&record).unwrap();
        assert_eq!(batch.puts[0].labels, alert().labels);
        assert_eq!(batch.deletes, [5]);
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        let mut w = RecordWriter::new(0);
        let mut buf = Vec::new();
        encode_alert(&alert(), &mut buf);
        w.push(&buf);
        let good = w.finish(&[]);
        for cut in 0..good.len() {
            let _ = decode(&good[..cut]);
        }
        let mut flipped = good.clone();
        for i in 1..flipped.len() {
            flipped[i] ^= 0x5a;
            let _ = decode(&flipped);
            flipped[i] ^= 0x5a;
        }
        let mut huge = vec![VERSION_BINARY];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).unwrap_err().contains("claims"));
    }
}
