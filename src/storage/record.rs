//! The envelope of every record but the alert log's: a one-byte format
//! version, then JSON. An unknown version stops startup instead of being
//! silently dropped, so a future klaxon can read or migrate what an older
//! one wrote.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StorageError;

/// Format of each record's payload.
const RECORD_VERSION: u8 = 1;

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_VERSION];
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

pub(super) fn decode<T: DeserializeOwned>(
    value: &[u8],
    table: &'static str,
    key: &[u8],
) -> Result<T, StorageError> {
    let corrupt = |reason: String| StorageError::Corrupt {
        table,
        key: String::from_utf8_lossy(key).escape_debug().to_string(),
        reason,
    };
    match value.split_first() {
        Some((&RECORD_VERSION, body)) => {
            serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown record version {v}"))),
        None => Err(corrupt("empty record".into())),
    }
}
