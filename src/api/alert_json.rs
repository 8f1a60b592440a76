//! A listed alert as JSON, byte for byte what `serde_json` writes for
//! [`GettableAlert`], for the alert list's hot loop.
//!
//! A listing is tens of MiB of label text. serde_json looks up every byte of
//! every string in its escape table, one at a time, and formats
//! fingerprints through `fmt`; here a string is checked eight bytes a step
//! and copied whole when nothing in it needs escaping (label text almost
//! never does). Any string that does need it still goes through
//! serde_json, so escaping has one implementation.

use chrono::{DateTime, NaiveDate, Utc};

use super::models::{GettableAlert, rfc3339_millis};
use crate::labels::{Fingerprint, LabelSet};

/// The text of the last time written in each of an alert's three time
/// fields, by second. Neighbouring alerts mostly share them (the alerts of
/// one rule evaluation start and end together and arrive in one POST), and
/// formatting a date costs several times what copying its text does; a
/// hit only writes the milliseconds.
#[derive(Default)]
pub struct TimeText {
    ends_at: Option<SecondText>,
    starts_at: Option<SecondText>,
    updated_at: Option<SecondText>,
}

struct SecondText {
    date: NaiveDate,
    second_of_day: u32,
    text: [u8; 24],
}

/// Appends `alert` to `out` as serde_json would serialize it; `times` is
/// kept from one alert to the next.
pub fn write_alert(
    out: &mut Vec<u8>,
    alert: &GettableAlert<'_>,
    times: &mut TimeText,
) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"annotations\":");
    write_label_set(out, alert.annotations)?;
    out.extend_from_slice(b",\"endsAt\":");
    write_time(out, &alert.ends_at, &mut times.ends_at)?;
    out.extend_from_slice(b",\"fingerprint\":");
    write_fingerprint(out, alert.fingerprint);
    out.extend_from_slice(b",\"receivers\":[");
    for (i, r) in alert.receivers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        write_str(out, r.name)?;
        out.push(b'}');
    }
    out.push(b']');
    out.extend_from_slice(b",\"startsAt\":");
    write_time(out, &alert.starts_at, &mut times.starts_at)?;
    let status = &alert.status;
    out.extend_from_slice(b",\"status\":{\"inhibitedBy\":");
    write_strs(out, &status.inhibited_by)?;
    out.extend_from_slice(b",\"mutedBy\":");
    write_strs(out, &status.muted_by)?;
    out.extend_from_slice(b",\"silencedBy\":");
    write_strs(out, &status.silenced_by)?;
    out.extend_from_slice(b",\"state\":");
    write_str(out, status.state.as_str())?;
    out.push(b'}');
    out.extend_from_slice(b",\"updatedAt\":");
    write_time(out, &alert.updated_at, &mut times.updated_at)?;
    if !alert.generator_url.is_empty() {
        out.extend_from_slice(b",\"generatorURL\":");
        write_str(out, alert.generator_url)?;
    }
    out.extend_from_slice(b",\"labels\":");
    write_label_set(out, alert.labels)?;
    out.push(b'}');
    Ok(())
}

/// Opens an alert group (Alertmanager's `AlertGroup`); its alerts follow,
/// comma-separated, then [`close_group`].
pub fn open_group(out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"alerts\":[");
}

/// Ends a group opened with [`open_group`], as serde_json writes
/// [`super::models::AlertGroup`].
pub fn close_group(
    out: &mut Vec<u8>,
    labels: &LabelSet,
    receiver: &str,
    route_labels: &LabelSet,
) -> serde_json::Result<()> {
    out.extend_from_slice(b"],\"labels\":");
    write_label_set(out, labels)?;
    out.extend_from_slice(b",\"receiver\":{\"name\":");
    write_str(out, receiver)?;
    out.extend_from_slice(b"},\"routeLabels\":");
    write_label_set(out, route_labels)?;
    out.push(b'}');
    Ok(())
}

fn write_label_set(out: &mut Vec<u8>, set: &LabelSet) -> serde_json::Result<()> {
    // Checked once for the whole set, not per name and value: label text
    // almost never needs escaping, and most names and values are shorter
    // than a word of the check.
    let escape = needs_escape(set.text().as_bytes());
    // `"name":"value",` per pair.
    out.reserve(set.text_len() + 6 * set.len() + 2);
    out.push(b'{');
    for (i, (name, value)) in set.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if escape {
            write_str(out, name)?;
            out.push(b':');
            write_str(out, value)?;
        } else {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":\"");
            out.extend_from_slice(value.as_bytes());
            out.push(b'"');
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_strs(out: &mut Vec<u8>, strs: &[impl AsRef<str>]) -> serde_json::Result<()> {
    out.push(b'[');
    for (i, s) in strs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s.as_ref())?;
    }
    out.push(b']');
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if needs_escape(s.as_bytes()) {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

fn write_time(
    out: &mut Vec<u8>,
    t: &DateTime<Utc>,
    last: &mut Option<SecondText>,
) -> serde_json::Result<()> {
    use chrono::Timelike;
    let naive = t.naive_utc();
    let (date, second_of_day) = (naive.date(), naive.num_seconds_from_midnight());
    let millis = naive.nanosecond() / 1_000_000;
    let text = match last {
        // A leap second's milliseconds (≥ 1000) are not the memo's to write.
        Some(l) if l.date == date && l.second_of_day == second_of_day && millis <= 999 => {
            let digits = [millis / 100, millis / 10 % 10, millis % 10];
            for (at, d) in l.text[20..23].iter_mut().zip(digits) {
                *at = b'0' + d as u8;
            }
            &l.text
        }
        _ => match rfc3339_millis(t) {
            Some(text) => {
                let l = last.insert(SecondText {
                    date,
                    second_of_day,
                    text,
                });
                &l.text
            }
            // Years outside 0..=9999: the serde path knows how.
            None => return serde_json::to_writer(&mut *out, &super::models::ApiTime(*t)),
        },
    };
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
    Ok(())
}

fn write_fingerprint(out: &mut Vec<u8>, fp: Fingerprint) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'"'; 18];
    for (i, digit) in text[1..17].iter_mut().enumerate() {
        *digit = HEX[((fp.0 >> (60 - 4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&text);
}

/// Whether serde_json would escape anything in `bytes`: a control character,
/// `"` or `\`. Checked a word at a time with the classic bit tricks: a byte
/// below 0x20, or one equal to either quote character, sets its high bit in
/// the result. Bytes of multi-byte UTF-8 characters are all ≥ 0x80 and
/// never match.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let has_below_space = |w: u64| w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0;
    let escaped = |w: u64| {
        has_below_space(w)
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
    };
    let mut words = bytes.chunks_exact(8);
    if words.any(|w| escaped(u64::from_ne_bytes(w.try_into().expect("eight bytes")))) {
        return true;
    }
    // The last few bytes as one more word, padded with spaces (which never
    // need escaping): checked byte by byte, they were most of the time.
    let rest = words.remainder();
    let mut last = [b' '; 8];
    last[..rest.len()].copy_from_slice(rest);
    escaped(u64::from_ne_bytes(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Alert;
    use crate::api::models::{AlertStatus, ReceiverRef};
    use chrono::TimeZone;

    fn gettable<'a>(alert: &'a Alert, status: AlertStatus<'a>) -> GettableAlert<'a> {
        GettableAlert {
            annotations: &alert.annotations,
            ends_at: alert.ends_at,
            fingerprint: alert.fingerprint(),
            receivers: smallvec::smallvec![
                ReceiverRef { name: "team \"x\"" },
                ReceiverRef { name: "b" },
            ],
            starts_at: alert.starts_at,
            status,
            updated_at: alert.updated_at,
            generator_url: &alert.generator_url,
            labels: &alert.labels,
        }
    }

    /// Every byte value that matters, in every position of a word.
    #[test]
    fn the_escape_check_agrees_with_a_byte_by_byte_one() {
        let slow = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
        for special in (0u8..=0x7f).chain([0x80, 0xc3, 0xff]) {
            for len in 1..20 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert_eq!(
                        needs_escape(&bytes),
                        slow(&bytes),
                        "{special:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn alerts_are_written_exactly_as_serde_json_writes_them() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
            + chrono::Duration::milliseconds(7);
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        let texts = [
            "plain",
            "",
            "quote \" and backslash \\",
            "new\nline\ttab\u{1}\u{1f}\u{7f}",
            "ünïcödé ✓ 🚨 and a long tail that spans several eight-byte words",
            "</script>",
        ];
        let mut times = TimeText::default();
        for (i, text) in texts.iter().enumerate() {
            let mut alert = Alert::for_test(
                &[("alertname", text), ("instance", "host-1"), ("z", "last")],
                &[("summary", text), ("description", "d")],
                at,
            );
            alert.generator_url = if i % 2 == 0 {
                (*text).into()
            } else {
                "".into()
            };
            if i == 3 {
                alert.ends_at = far;
            }
            let status = AlertStatus {
                inhibited_by: vec![format!("{i:016x}"), "second".into()],
                muted_by: if i == 1 {
                    vec!["weekends".into()]
                } else {
                    vec![]
                },
                silenced_by: smallvec::smallvec![*text],
                state: crate::api::models::AlertState::Suppressed,
            };
            let g = gettable(&alert, status);
            let mut ours = Vec::new();
            write_alert(&mut ours, &g, &mut times).unwrap();
            let theirs = serde_json::to_vec(&g).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    #[test]
    fn groups_are_written_exactly_as_serde_json_writes_them() {
        use crate::api::models::{AlertGroup, AlertState, Receiver};
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let alerts: Vec<Alert> = (0..3)
            .map(|i| Alert::for_test(&[("alertname", "A"), ("i", &i.to_string())], &[], at))
            .collect();
        for shown in 0..3 {
            let status = || AlertStatus {
                inhibited_by: vec![],
                muted_by: vec![],
                silenced_by: smallvec::smallvec![],
                state: AlertState::Active,
            };
            let group = AlertGroup {
                alerts: alerts[..shown]
                    .iter()
                    .map(|a| gettable(a, status()))
                    .collect(),
                labels: [("alertname", "A"), ("team", "\"quoted\"")]
                    .into_iter()
                    .collect(),
                receiver: Receiver {
                    name: "ops \\ night".into(),
                },
                route_labels: [("tier", "1")].into_iter().collect(),
            };
            let mut ours = Vec::new();
            let mut times = TimeText::default();
            open_group(&mut ours);
            for (i, a) in group.alerts.iter().enumerate() {
                if i > 0 {
                    ours.push(b',');
                }
                write_alert(&mut ours, a, &mut times).unwrap();
            }
            close_group(
                &mut ours,
                &group.labels,
                &group.receiver.name,
                &group.route_labels,
            )
            .unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&group).unwrap()
            );
        }
    }

    /// One memo over a run of times that share a second, a day, nothing,
    /// or are a leap second or past year 9999: each written as serde does.
    #[test]
    fn remembered_times_are_written_as_serde_json_writes_them() {
        use chrono::NaiveDate;
        let base = Utc.with_ymd_and_hms(2026, 12, 4, 23, 59, 59).unwrap();
        let ms = chrono::Duration::milliseconds;
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        let times = [
            base,
            base + ms(7),
            base + ms(999),
            base + ms(1000),
            base + ms(1001),
            base,
            leap,
            leap - ms(500),
            leap,
            far,
            far + ms(12),
            base + ms(90),
        ];
        let mut memo = None;
        for t in times {
            let mut ours = Vec::new();
            write_time(&mut ours, &t, &mut memo).unwrap();
            let theirs = serde_json::to_vec(&crate::api::models::ApiTime(t)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn fingerprints_are_sixteen_hex_digits() {
        for fp in [0, 1, 0xdead_beef, u64::MAX] {
            let mut out = Vec::new();
            write_fingerprint(&mut out, Fingerprint(fp));
            assert_eq!(out, serde_json::to_vec(&Fingerprint(fp)).unwrap());
        }
    }
}
