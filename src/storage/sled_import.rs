//! Converting the sled store of earlier klaxons to redb, once, on start.
//!
//! sled was klaxon's first store; redb replaced it (the numbers are in
//! `benches/stores/`). A `--storage.path` that holds a sled store (its
//! `conf` and `db` files) and no `klaxon.redb` is copied record by record,
//! unchanged, into a new redb file, and the sled files are then moved
//! into `sled-before-redb/` beside it, where they stay until someone
//! deletes them: going back to an older klaxon is moving them back.
//!
//! The copy is written under a temporary name and renamed only once it
//! is durable, so a crash at any point either leaves the sled store as it
//! was (the next start converts again) or a complete redb store (the
//! next start only finishes moving the old files aside).

use std::path::Path;
use std::time::Instant;

use super::StorageError;
use super::redb_store::{FILE_NAME, write_converted};

/// Where the sled files go once converted.
pub const SLED_ASIDE: &str = "sled-before-redb";
/// The copy's name until it is complete.
const PARTIAL: &str = "klaxon.redb.converting";
/// The schema version the last sled store of klaxon wrote.
const SLED_SCHEMA: u8 = 1;
/// sled's page cache while it is read once, front to back.
const SLED_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Converts the sled store in `path`, if there is one.
pub(super) fn convert_if_present(path: &Path) -> Result<(), StorageError> {
    if !(path.join("conf").is_file() && path.join("db").is_file()) {
        return Ok(());
    }
    let fail = |reason: String| StorageError::Convert {
        path: path.to_owned(),
        reason,
    };
    if path.join(FILE_NAME).exists() {
        // Converted, then cut off before the old files were moved.
        return move_aside(path).map_err(|e| fail(e.to_string()));
    }
    let started = Instant::now();
    let partial = path.join(PARTIAL);
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(|e| fail(e.to_string()))?;
    }
    let records = {
        let sled = open_sled(path).map_err(|e| fail(e.to_string()))?;
        check_sled_schema(&sled, path)?;
        let names = sled.tree_names();
        write_converted(&partial, |table, put| {
            if !names.iter().any(|n| n.as_ref() == table.as_bytes()) {
                return Ok(());
            }
            let tree = sled.open_tree(table).map_err(|e| fail(e.to_string()))?;
            for entry in tree.iter() {
                let (key, value) = entry.map_err(|e| fail(e.to_string()))?;
                put(&key, &value)?;
            }
            Ok(())
        })
        .map_err(|e| match e {
            StorageError::Convert { .. } => e,
            other => fail(other.to_string()),
        })?
    };
    std::fs::rename(&partial, path.join(FILE_NAME)).map_err(|e| fail(e.to_string()))?;
    sync_dir(path).map_err(|e| fail(e.to_string()))?;
    move_aside(path).map_err(|e| fail(e.to_string()))?;
    tracing::warn!(
        path = %path.display(),
        records,
        took = ?started.elapsed(),
        kept_in = %path.join(SLED_ASIDE).display(),
        "converted the sled store to redb; the sled files are kept aside until you delete them"
    );
    Ok(())
}

fn open_sled(path: &Path) -> Result<sled::Db, sled::Error> {
    // sled's own threads can hold its file lock for a moment after the
    // last handle is gone (the previous owner of the store); wait briefly.
    let deadline = Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let opened = sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            // klaxon never ran sled's own flusher (sled 0.34 deadlocks when
            // two flushes overlap); nothing is written here anyway.
            .flush_every_ms(None)
            .segment_size(segment_size_of(path))
            .open();
        match opened {
            Err(sled::Error::Io(e))
                if (e.kind() == std::io::ErrorKind::WouldBlock
                    || e.to_string().contains("could not acquire lock"))
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn check_sled_schema(sled: &sled::Db, path: &Path) -> Result<(), StorageError> {
    let found = sled
        .open_tree("meta")
        .and_then(|meta| meta.get("schema"))
        .map_err(|e| StorageError::Convert {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    match found.as_deref() {
        None | Some([SLED_SCHEMA]) => Ok(()),
        Some(other) => Err(StorageError::Schema {
            path: path.to_owned(),
            found: other.first().copied().unwrap_or(0),
        }),
    }
}

/// Moves sled's files (`conf`, `db`, `blobs/`, `snap.*`) into
/// [`SLED_ASIDE`].
fn move_aside(path: &Path) -> std::io::Result<()> {
    let aside = path.join(SLED_ASIDE);
    std::fs::create_dir_all(&aside)?;
    for entry in std::fs::read_dir(path)? {
        let name = entry?.file_name();
        let is_sled = name
            .to_str()
            .is_some_and(|n| matches!(n, "conf" | "db" | "blobs") || n.starts_with("snap."));
        if is_sled {
            std::fs::rename(path.join(&name), aside.join(&name))?;
        }
    }
    sync_dir(path)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// The segment size sled recorded when it created the store at `path`
/// (stores made by the first klaxons used 8 MiB, later ones 512 KiB);
/// sled refuses to open a store with another.
fn segment_size_of(path: &Path) -> usize {
    const SLED_DEFAULT: usize = 512 * 1024;
    // The file ends in a binary checksum, so it is not all UTF-8.
    std::fs::read(path.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .filter(|s| s.is_power_of_two())
        .unwrap_or(SLED_DEFAULT)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::alert::Alert;
    use crate::storage::{Storage, alert_log};

    /// A sled store written by the last klaxon on sled (commit 4a456c2,
    /// killed with `kill -9`): two alerts, an active and an expired
    /// silence, two notification-log entries and two delivery attempts.
    fn previous_release_store() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/storage/fixtures/sled_store");
        for file in ["conf", "db"] {
            std::fs::copy(fixture.join(file), dir.path().join(file)).unwrap();
        }
        dir
    }

    fn sorted<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
        items.sort_by_key(key);
        items
    }

    fn assert_has_the_previous_release_data(storage: &Storage) {
        let silences = sorted(storage.load_silences().unwrap(), |s| s.comment.clone());
        let seen: Vec<_> = silences
            .iter()
            .map(|s| (s.id.as_str(), s.comment.as_str(), s.created_by.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "bbc5cbda-9621-419d-ac35-202eedf763b3",
                    "expired one",
                    "ops@example.com"
                ),
                (
                    "39bace4d-5e06-4e16-97bf-621b68567ce6",
                    "maintenance window",
                    "ops@example.com"
                ),
            ]
        );
        assert_eq!(silences[1].matchers.len(), 2);
        let alerts = sorted(storage.load_alerts().unwrap(), |a| {
            a.labels.get("alertname").unwrap().to_owned()
        });
        let names: Vec<_> = alerts
            .iter()
            .map(|a| a.labels.get("alertname").unwrap())
            .collect();
        assert_eq!(names, ["DiskFull", "HighLatency"]);
        assert_eq!(
            alerts[0].annotations.get("runbook_url"),
            Some("https://runbooks.example.com/disk")
        );
        assert_eq!(storage.load_nflog().unwrap().len(), 2);
        let history: Vec<_> = storage
            .history_newest_first()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(history.len(), 2);
        assert!(
            history
                .iter()
                .all(|a| a.receiver == "hook" && a.integration == "webhook")
        );
    }

    #[test]
    fn a_store_of_the_previous_release_is_converted_and_keeps_its_data() {
        let dir = previous_release_store();
        {
            let storage = Storage::open(dir.path()).unwrap();
            assert_has_the_previous_release_data(&storage);
        }
        assert!(dir.path().join(FILE_NAME).is_file());
        for sled_file in ["conf", "db"] {
            assert!(
                !dir.path().join(sled_file).exists(),
                "{sled_file} moved aside"
            );
            assert!(dir.path().join(SLED_ASIDE).join(sled_file).is_file());
        }
        // Opened again: read from redb, not converted again.
        let storage = Storage::open(dir.path()).unwrap();
        assert_has_the_previous_release_data(&storage);
    }

    #[tokio::test]
    async fn a_conversion_cut_off_before_moving_the_old_files_keeps_the_redb_store() {
        let dir = previous_release_store();
        {
            let storage = Storage::open(dir.path()).unwrap();
            storage
                .delete_silences(vec!["bbc5cbda-9621-419d-ac35-202eedf763b3".into()])
                .await
                .unwrap();
        }
        // As if the process died between the rename and the move.
        for file in ["conf", "db"] {
            std::fs::rename(
                dir.path().join(SLED_ASIDE).join(file),
                dir.path().join(file),
            )
            .unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(
            storage.load_silences().unwrap().len(),
            1,
            "redb's state, not the sled copy"
        );
        assert!(!dir.path().join("db").exists());
        assert!(dir.path().join(SLED_ASIDE).join("db").is_file());
    }

    #[test]
    fn a_partial_copy_left_by_a_crash_is_discarded_and_the_conversion_runs_again() {
        let dir = previous_release_store();
        std::fs::write(dir.path().join(PARTIAL), b"half a redb file").unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        assert_has_the_previous_release_data(&storage);
        assert!(!dir.path().join(PARTIAL).exists());
    }

    #[test]
    fn a_sled_store_with_the_first_releases_segment_size_converts() {
        let dir = tempfile::tempdir().unwrap();
        let alert = Arc::new(Alert::for_test(
            &[("alertname", "Old")],
            &[],
            chrono::Utc::now(),
        ));
        {
            let sled = sled::Config::new()
                .path(dir.path())
                .segment_size(8 * 1024 * 1024)
                .open()
                .unwrap();
            sled.open_tree("meta")
                .unwrap()
                .insert("schema", &[SLED_SCHEMA])
                .unwrap();
            let mut chunk = alert_log::RecordWriter::new(4096);
            let mut encoded = Vec::new();
            alert_log::encode_alert(&alert, &mut encoded);
            chunk.push(&encoded);
            sled.open_tree("alert_log")
                .unwrap()
                .insert(0u64.to_be_bytes(), chunk.finish(&[]))
                .unwrap();
            sled.flush().unwrap();
        }
        assert_eq!(segment_size_of(dir.path()), 8 * 1024 * 1024);
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(storage.load_alerts().unwrap(), [(*alert).clone()]);
    }

    #[test]
    fn a_sled_store_of_an_unknown_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        {
            let sled = sled::Config::new().path(dir.path()).open().unwrap();
            sled.open_tree("meta")
                .unwrap()
                .insert("schema", &[7u8])
                .unwrap();
            sled.flush().unwrap();
        }
        let Err(err) = Storage::open(dir.path()) else {
            panic!("must refuse")
        };
        assert!(err.to_string().contains("schema version 7"), "{err}");
        assert!(dir.path().join("db").is_file());
        assert!(!dir.path().join(FILE_NAME).exists());
        assert!(!dir.path().join(PARTIAL).exists());
    }

    /// sled opens some damaged stores as empty ones, running its own
    /// recovery over the files as any start of the previous release did;
    /// either way klaxon does not panic and deletes none of them.
    #[test]
    fn damaged_sled_files_never_panic_and_are_not_deleted() {
        for (conf, db) in [
            (b"garbage conf".as_slice(), b"garbage db".as_slice()),
            (b"".as_slice(), b"".as_slice()),
        ] {
            let dir = previous_release_store();
            std::fs::write(dir.path().join("conf"), conf).unwrap();
            std::fs::write(dir.path().join("db"), db).unwrap();
            match Storage::open(dir.path()) {
                Ok(storage) => {
                    assert!(storage.load_silences().unwrap().is_empty());
                    assert!(dir.path().join(SLED_ASIDE).join("db").is_file());
                }
                Err(err) => {
                    assert!(
                        err.to_string().contains("cannot convert the sled store at"),
                        "{err}"
                    );
                    assert_eq!(std::fs::read(dir.path().join("db")).unwrap(), db);
                    assert!(!dir.path().join(FILE_NAME).exists());
                }
            }
        }
    }
}
