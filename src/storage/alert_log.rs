//! The alert log's record format: batches of alert puts and deletes.
//!
//! Version 2 (written now) is a compact binary encoding (postcard) of each
//! alert, compressed with LZ4 per record; label sets are written as maps
//! (a count, then names and values), which says nothing of how klaxon holds
//! them in memory, so a change there is not a storage migration. Alerts
//! repeat label names and most values from one to the next, so a record
//! shrinks several times; that matters beyond disk space, because the store
//! keeps recently written values in memory, and because encoding is on the
//! ingest path.
//!
//! Version 3, written by the previous release, put label sets in their
//! packed in-memory form; it is still read, by [`v3_label_set`], a reader
//! of that layout as it was, independent of today's `labels::packed`.
//! Version 1 (JSON) was only written before the first release and is
//! refused with a message saying so.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::labels::{Fingerprint, LabelSet};

/// JSON, before the first release: no longer read.
const VERSION_JSON: u8 = 1;
/// LZ4 over postcard: a count, that many alerts, then the deletes; label
/// sets as maps.
pub const VERSION_BINARY: u8 = 2;
/// As version 2, with label sets in the previous release's packed form.
const VERSION_PACKED: u8 = 3;

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
/// packed strings (version 3) or maps (version 2). Written by
/// [`encode_alert`], in the bytes postcard would make of it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
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

/// What follows an alert's two label sets in its record: the rest of
/// [`AlertRecord`], field for field. postcard writes a struct as its fields
/// one after another, so these bytes are the record's tail.
#[derive(Serialize)]
struct RecordTail<'a> {
    starts_at: Stamp,
    ends_at: Stamp,
    updated_at: Stamp,
    generator_url: &'a str,
    timeout: bool,
}

/// One alert, encoded on its own (into `out`, replacing what it held) so a
/// caller can check its size and cut records between any two alerts.
///
/// The bytes are postcard's for [`AlertRecord`] (the reader decodes them
/// with postcard; `alerts_are_encoded_as_postcard_writes_them` holds the
/// two together), but the label sets are written here: through serde,
/// each name and value went through a map serializer's generic calls,
/// 200 instructions a pair, a tenth of an ingested alert's cost.
pub fn encode_alert(alert: &Alert, out: &mut Vec<u8>) {
    let tail = RecordTail {
        starts_at: stamp(alert.starts_at),
        ends_at: stamp(alert.ends_at),
        updated_at: stamp(alert.updated_at),
        generator_url: &alert.generator_url,
        timeout: alert.timeout,
    };
    // A set's map takes at most its text and a length per name and value,
    // plus its count.
    let set_bound = |set: &LabelSet| set.text_len() + (2 * set.len() + 1) * MAX_VARINT_BYTES;
    let tail_bound = alert.generator_url.len() + MAX_VARINT_BYTES + 3 * MAX_STAMP_BYTES + 1;
    out.clear();
    out.reserve(set_bound(&alert.labels) + set_bound(&alert.annotations) + tail_bound);
    write_map(&alert.labels, out);
    write_map(&alert.annotations, out);
    // Serialised into a slice sized for the worst case: postcard's
    // growable-vector output pushes byte by byte.
    let at = out.len();
    out.resize(at + tail_bound, 0);
    let used = postcard::to_slice(&tail, &mut out[at..])
        .expect("the bound fits")
        .len();
    out.truncate(at + used);
}

/// A label set as postcard writes a map of strings: the pair count, then
/// each name and value as its length and its bytes.
fn write_map(set: &LabelSet, out: &mut Vec<u8>) {
    push_varint(out, set.len());
    for (name, value) in set.iter() {
        push_varint(out, name.len());
        out.extend_from_slice(name.as_bytes());
        push_varint(out, value.len());
        out.extend_from_slice(value.as_bytes());
    }
}

/// postcard's varint: seven bits a byte, least significant first, the top
/// bit set on every byte but the last.
fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Collects encoded alerts into one record.
///
/// The batch starts with its count, known only at the end: room for the
/// longest count is kept in front of the alerts, so the batch is
/// compressed where it was written, not copied behind its count first.
pub struct RecordWriter {
    /// `MAX_VARINT_BYTES` of room, then the encoded alerts.
    batch: Vec<u8>,
    count: usize,
}

impl RecordWriter {
    pub fn new(capacity: usize) -> Self {
        let mut batch = Vec::with_capacity(MAX_VARINT_BYTES + capacity);
        batch.resize(MAX_VARINT_BYTES, 0);
        Self { batch, count: 0 }
    }

    /// Bytes of encoded alerts so far (before compression).
    pub fn len(&self) -> usize {
        self.batch.len() - MAX_VARINT_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn push(&mut self, encoded: &[u8]) {
        self.batch.extend_from_slice(encoded);
        self.count += 1;
    }

    /// The record: version byte, the batch's size, then the batch
    /// compressed.
    pub fn finish(mut self, deletes: &[Fingerprint]) -> Vec<u8> {
        let mut count = [0u8; MAX_VARINT_BYTES];
        let count = postcard::to_slice(&self.count, &mut count).expect("a count encodes");
        let start = MAX_VARINT_BYTES - count.len();
        self.batch[start..MAX_VARINT_BYTES].copy_from_slice(count);
        let deletes: Vec<u64> = deletes.iter().map(|fp| fp.0).collect();
        let batch = postcard::to_extend(&deletes, self.batch).expect("fingerprints encode");
        let raw = &batch[start..];
        assert!(u32::try_from(raw.len()).is_ok(), "a record under 4 GiB");
        // A little-endian u32 size, then the block. lz4_flex writes it into
        // uninitialised room; a zeroed buffer of the worst-case size cost a
        // 32 KiB memset per record, more than the alerts' encoding. The
        // version byte goes in front after, within the room left over.
        let mut record = lz4_flex::block::compress_prepend_size(raw);
        record.insert(0, VERSION_BINARY);
        record
    }
}

/// One record as read back.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub puts: Vec<Alert>,
    pub deletes: Vec<u64>,
}

/// Reads a record of version 2 or 3. The error is the reason, for the
/// caller to wrap with the record's key.
pub fn decode(record: &[u8]) -> Result<Batch, String> {
    match record.split_first() {
        Some((&VERSION_BINARY, body)) => decode_binary(body, mapped_alert),
        Some((&VERSION_PACKED, body)) => decode_binary(body, packed_alert),
        Some((&VERSION_JSON, _)) => Err(
            "record version 1 was written by a pre-release klaxon and is no longer read; \
             move the store aside to start afresh"
                .into(),
        ),
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
    Ok((a.into_alert(v3_label_set)?, rest))
}

/// A label set as version 3 wrote it, the previous release's in-memory
/// layout, kept here as it was: `[lead][count?][end…][text]`. Numbers
/// take `w` bytes of seven bits each, least significant first; the lead
/// byte holds `w` (1 to 5) in its low three bits and the pair count above
/// them when it is 1 to 15, else 0 and the count follows in `w` bytes.
/// Each pair has two ends (name, then value) counted from the start of
/// the text. Everything is checked: a corrupt set is an error.
fn v3_label_set(raw: &str) -> Result<LabelSet, String> {
    let bad = |what: &str| format!("label set: {what}");
    let bytes = raw.as_bytes();
    let Some(&lead) = bytes.first() else {
        return Ok(LabelSet::default());
    };
    let w = usize::from(lead & 0b111);
    if !(1..=5).contains(&w) || lead >= 0x80 {
        return Err(bad(&format!("bad lead byte {lead}")));
    }
    let number = |at: usize| -> Result<usize, String> {
        let digits = bytes
            .get(at..at + w)
            .ok_or_else(|| bad("truncated header"))?;
        Ok(digits
            .iter()
            .rev()
            .fold(0, |n, &b| (n << 7) | usize::from(b & 0x7f)))
    };
    let (count, ends_at) = match usize::from(lead >> 3) {
        0 => (number(1)?, 1 + w),
        n => (n, 1),
    };
    let text_start = count
        .checked_mul(2 * w)
        .and_then(|n| n.checked_add(ends_at))
        .filter(|&t| t <= bytes.len())
        .ok_or_else(|| bad(&format!("bad pair count {count}")))?;
    let text = &raw[text_start..];
    let mut pairs = Vec::with_capacity(count);
    let mut start = 0;
    for pair in 0..count {
        let mut slot = |i: usize| -> Result<&str, String> {
            let end = number(ends_at + (2 * pair + i) * w)?;
            let s = text
                .get(start..end)
                .ok_or_else(|| bad(&format!("bad offset {end}")))?;
            start = end;
            Ok(s)
        };
        let name = slot(0)?;
        let value = slot(1)?;
        pairs.push((name, value));
    }
    if start != text.len() {
        return Err(bad("text left over"));
    }
    Ok(pairs.into_iter().collect())
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
        assert_eq!(record[0], VERSION_BINARY);
        let batch = decode(&record).unwrap();
        assert_eq!(batch.puts, [a.clone(), a]);
        assert_eq!(batch.puts[0].ends_at, go_zero_time());
        assert_eq!(batch.deletes, [7, u64::MAX]);
    }

    /// The record's bytes are what the previous writer (a count, the
    /// alerts, the deletes, through `compress_prepend_size`) made of them,
    /// for every width of the count, and with no alerts at all.
    #[test]
    fn records_keep_their_layout() {
        let mut buf = Vec::new();
        encode_alert(&alert(), &mut buf);
        for (count, deletes) in [
            (0, vec![Fingerprint(3)]),
            (1, vec![]),
            (200, vec![Fingerprint(9)]),
        ] {
            let mut w = RecordWriter::new(0);
            let mut raw = postcard::to_allocvec(&count).unwrap();
            for _ in 0..count {
                w.push(&buf);
                raw.extend_from_slice(&buf);
            }
            let fps: Vec<u64> = deletes.iter().map(|fp| fp.0).collect();
            raw = postcard::to_extend(&fps, raw).unwrap();
            let mut old = vec![VERSION_BINARY];
            old.extend_from_slice(&lz4_flex::block::compress_prepend_size(&raw));
            let record = w.finish(&deletes);
            assert_eq!(record, old, "{count} alerts");
            assert_eq!(decode(&record).unwrap().puts.len(), count);
        }
    }

    /// `encode_alert` writes what postcard writes for the whole record,
    /// whatever the lengths: counts and lengths of one, two and three
    /// varint bytes, empty sets and values, multi-byte characters.
    #[test]
    fn alerts_are_encoded_as_postcard_writes_them() {
        let long = "v".repeat(200);
        let longer = "é".repeat(10_000);
        let names: Vec<String> = (0..130).map(|i| format!("n{i:03}")).collect();
        let mut sets: Vec<LabelSet> = vec![
            LabelSet::default(),
            [("a", "")].into_iter().collect(),
            [("alertname", "A"), ("instance", "h\"1")]
                .into_iter()
                .collect(),
            [("description", long.as_str()), ("summary", longer.as_str())]
                .into_iter()
                .collect(),
        ];
        sets.push(names.iter().map(|n| (n.as_str(), "x")).collect());
        let mut buf = Vec::new();
        for labels in &sets {
            for annotations in &sets {
                let mut a = alert();
                a.labels = labels.clone();
                a.annotations = annotations.clone();
                a.generator_url = long.as_str().into();
                encode_alert(&a, &mut buf);
                let record = AlertRecord {
                    labels: &a.labels,
                    annotations: &a.annotations,
                    starts_at: stamp(a.starts_at),
                    ends_at: stamp(a.ends_at),
                    updated_at: stamp(a.updated_at),
                    generator_url: &a.generator_url,
                    timeout: a.timeout,
                };
                assert_eq!(buf, postcard::to_allocvec(&record).unwrap());
                let (back, rest) = mapped_alert(&buf).unwrap();
                assert!(rest.is_empty());
                assert_eq!(back, a);
            }
        }
    }

    /// Label sets are written as maps: the bytes do not depend on how
    /// klaxon holds a set in memory.
    #[test]
    fn label_sets_are_written_as_maps_of_names_and_values() {
        let a = alert();
        let mut buf = Vec::new();
        encode_alert(&a, &mut buf);
        let want = postcard::to_allocvec(&a.labels).unwrap();
        assert_eq!(want[0], 2, "a count, then the pairs");
        assert!(buf.starts_with(&want));
    }

    /// A record as the previous release wrote it (format version 3, label
    /// sets in that release's packed layout, kept as bytes in
    /// `fixtures/`) reads back as the alerts it held.
    #[test]
    fn a_record_of_the_previous_release_still_reads() {
        let record = include_bytes!("fixtures/alert_log_v3.bin");
        assert_eq!(record[0], VERSION_PACKED);
        let want: Vec<Alert> =
            serde_json::from_slice(include_bytes!("fixtures/alert_log_v3.json")).unwrap();
        let batch = decode(record).unwrap();
        assert_eq!(batch.puts, want);
        assert_eq!(
            batch.puts.last().unwrap().labels.len(),
            40,
            "a set of over 15 pairs"
        );
        assert_eq!(batch.deletes, [42]);
    }

    #[test]
    fn version_3_label_sets_are_checked_before_use() {
        // [lead: width 1, 2 pairs][ends 1 2 3 4][text]
        let good = "\u{11}\u{1}\u{2}\u{3}\u{4}axby";
        let set = v3_label_set(good).unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), [("a", "x"), ("b", "y")]);
        assert!(v3_label_set("").unwrap().is_empty());
        // Every cut and every flipped bit is an error or a readable set.
        let raw = good.as_bytes();
        for cut in 1..raw.len() {
            if let Ok(s) = std::str::from_utf8(&raw[..cut]) {
                assert!(v3_label_set(s).is_err(), "cut {cut}");
            }
        }
        for at in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.to_vec();
                bad[at] ^= 1 << bit;
                if let Ok(s) = std::str::from_utf8(&bad)
                    && let Ok(set) = v3_label_set(s)
                {
                    let _ = set.iter().count();
                }
            }
        }
        // A count beyond the header, and a separate count of 40 pairs that
        // is not there.
        assert!(v3_label_set("\u{79}\u{1}").is_err());
        assert!(v3_label_set("\u{1}\u{28}\u{1}").is_err());
    }

    #[test]
    fn a_pre_release_json_record_is_refused_with_a_reason() {
        let mut record = vec![VERSION_JSON];
        record.extend_from_slice(br#"{"puts":[],"deletes":[5]}"#);
        let err = decode(&record).unwrap_err();
        assert!(err.contains("pre-release"), "{err}");
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
        let mut huge = vec![VERSION_PACKED];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).unwrap_err().contains("claims"));
    }
}
