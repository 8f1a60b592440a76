//! The notification log: what was last sent for each (group, receiver,
//! integration), and the pure decision whether a flush needs a new
//! notification.
//!
//! Entries live in memory and in the store, so that after a restart an
//! unchanged group is not notified again before its repeat interval.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::storage::{Rewrite, Storage, StorageError};

/// Identifies one integration of one receiver for one aggregation group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NflogKey {
    pub group_key: String,
    pub receiver: String,
    pub integration: String,
    /// Position of the integration among the receiver's configs of its kind.
    pub index: usize,
}

impl NflogKey {
    /// Stable text form, used as the store key.
    pub fn encode(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            self.group_key, self.receiver, self.integration, self.index
        )
    }
}

/// What the last successful notification contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NflogEntry {
    pub key: NflogKey,
    pub firing: BTreeSet<u64>,
    pub resolved: BTreeSet<u64>,
    pub timestamp: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// What the integration keeps for the group between notifications
    /// (Slack's channel and message `ts` for `update_message`;
    /// Alertmanager's nflog `ReceiverData`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state: BTreeMap<String, String>,
}

/// The alerts of one flush, by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushSets {
    pub firing: BTreeSet<u64>,
    pub resolved: BTreeSet<u64>,
}

/// Why a notification goes out: the webhook's `notification_reason`, the
/// templates' `.NotificationReason` and the history all carry
/// Alertmanager 0.34's words for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    FirstNotification,
    NewAlertsInGroup,
    AllResolved,
    NewResolved,
    RepeatInterval,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FirstNotification => "first notification",
            Reason::NewAlertsInGroup => "new alerts added",
            Reason::AllResolved => "all alerts resolved",
            Reason::NewResolved => "some alerts resolved",
            Reason::RepeatInterval => "repeat interval elapsed",
        }
    }
}

/// Alertmanager's `DedupStage.needsUpdate`, as a pure function.
pub fn needs_update(
    entry: Option<&NflogEntry>,
    now: &FlushSets,
    send_resolved: bool,
    repeat_interval: Duration,
    at: DateTime<Utc>,
) -> Option<Reason> {
    let Some(entry) = entry else {
        // Never notified: only a group with something firing is worth it.
        return (!now.firing.is_empty()).then_some(Reason::FirstNotification);
    };
    if !now.firing.is_subset(&entry.firing) {
        // After an all-resolved notification the receiver knows of nothing
        // firing: Alertmanager 0.34 calls this a first notification again.
        if entry.firing.is_empty() {
            return Some(Reason::FirstNotification);
        }
        return Some(Reason::NewAlertsInGroup);
    }
    if now.firing.is_empty() {
        // Sent even without send_resolved, so the log forgets the firing
        // alerts; nothing if the receiver never heard of them.
        return (!entry.firing.is_empty()).then_some(Reason::AllResolved);
    }
    if send_resolved && !now.resolved.is_subset(&entry.resolved) {
        return Some(Reason::NewResolved);
    }
    // A repeat interval reaching before the earliest time chrono can hold
    // (a huge, accepted value) means "never repeat", not an overflow.
    let due = chrono::Duration::from_std(repeat_interval)
        .ok()
        .and_then(|repeat| at.checked_sub_signed(repeat));
    due.is_some_and(|due| entry.timestamp < due)
        .then_some(Reason::RepeatInterval)
}

/// All entries, in memory and in the store.
pub struct NotificationLog {
    entries: Mutex<HashMap<NflogKey, NflogEntry>>,
    /// In a cluster: sends this replica made without a quorum, not yet in
    /// the replicated log. They count for this replica's own decisions
    /// (it does not send them again), never for the cluster's.
    unreplicated: Mutex<HashMap<NflogKey, NflogEntry>>,
    storage: Storage,
    retention: chrono::Duration,
}

impl Rewrite for NotificationLog {
    fn name(&self) -> &'static str {
        "notification log"
    }

    fn rewrite<'a>(
        &'a self,
        storage: &'a Storage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + 'a>>
    {
        Box::pin(storage.replace_nflog(self.list()))
    }
}

impl NotificationLog {
    pub fn load(storage: Storage, retention: Duration) -> Result<Self, StorageError> {
        let entries = storage
            .load_nflog()?
            .into_iter()
            .map(|e: NflogEntry| (e.key.clone(), e))
            .collect();
        Ok(Self {
            entries: Mutex::new(entries),
            unreplicated: Mutex::default(),
            storage,
            retention: chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX),
        })
    }

    /// The newest entry for `key`, this replica's unreplicated sends
    /// included.
    pub fn get(&self, key: &NflogKey) -> Option<NflogEntry> {
        let replicated = self.get_replicated(key);
        let local = self
            .unreplicated
            .lock()
            .expect("nflog lock")
            .get(key)
            .cloned();
        match (replicated, local) {
            (Some(r), Some(l)) if l.timestamp > r.timestamp => Some(l),
            (None, l) => l,
            (r, _) => r,
        }
    }

    /// The entry the store (in a cluster: the replicated log) holds.
    pub fn get_replicated(&self, key: &NflogKey) -> Option<NflogEntry> {
        self.entries.lock().expect("nflog lock").get(key).cloned()
    }

    /// A send made without a quorum (see `unreplicated`).
    pub fn put_unreplicated(&self, entry: NflogEntry) {
        self.unreplicated
            .lock()
            .expect("nflog lock")
            .insert(entry.key.clone(), entry);
    }

    /// The entry a successful notification at `at` makes.
    pub fn entry(
        &self,
        key: NflogKey,
        sets: FlushSets,
        at: DateTime<Utc>,
        state: BTreeMap<String, String>,
    ) -> NflogEntry {
        NflogEntry {
            key,
            firing: sets.firing,
            resolved: sets.resolved,
            timestamp: at,
            expires_at: at
                .checked_add_signed(self.retention)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            state,
        }
    }

    /// Records a successful notification; durable before it returns, so a
    /// crash right after sending does not send again.
    pub async fn log(
        &self,
        key: NflogKey,
        sets: FlushSets,
        at: DateTime<Utc>,
        state: BTreeMap<String, String>,
    ) -> Result<(), StorageError> {
        self.put(self.entry(key, sets, at, state)).await
    }

    /// Stores an entry as given (replicated from the cluster), unless a
    /// newer one for its key is held: the last notification wins.
    ///
    /// The entry is held in memory even when the store fails to write it:
    /// the notification went out, and forgetting that would send it again
    /// every group interval. While the store cannot write that is not an
    /// error (it wrote the log line); the entry is stored with the rest of
    /// the log once it recovers (see [`Rewrite`]).
    pub async fn put(&self, entry: NflogEntry) -> Result<(), StorageError> {
        if self.keep(&entry) {
            self.insert(entry.clone());
            match self.storage.put_nflog(vec![entry]).await {
                Err(e) if !self.storage.is_healthy() => {
                    tracing::debug!(error = %e, "notification log entry kept in memory until the store recovers");
                }
                other => return other,
            }
        }
        Ok(())
    }

    /// [`NotificationLog::put`] without waiting for the disk: an entry
    /// applied from the cluster's log, which holds it durably already.
    pub fn put_applied(&self, entry: NflogEntry) -> Result<(), StorageError> {
        if self.keep(&entry) {
            self.storage
                .put_nflog_unflushed(std::slice::from_ref(&entry))?;
            self.insert(entry);
        }
        Ok(())
    }

    fn insert(&self, entry: NflogEntry) {
        self.entries
            .lock()
            .expect("nflog lock")
            .insert(entry.key.clone(), entry);
    }

    /// Whether `entry` is the newest for its key (this replica's own
    /// unreplicated send of it, if older, is then forgotten).
    fn keep(&self, entry: &NflogEntry) -> bool {
        {
            let mut local = self.unreplicated.lock().expect("nflog lock");
            if local
                .get(&entry.key)
                .is_some_and(|l| l.timestamp <= entry.timestamp)
            {
                local.remove(&entry.key);
            }
        }
        self.get_replicated(&entry.key)
            .is_none_or(|held| held.timestamp <= entry.timestamp)
    }

    /// Every entry (a cluster snapshot).
    pub fn list(&self) -> Vec<NflogEntry> {
        self.entries
            .lock()
            .expect("nflog lock")
            .values()
            .cloned()
            .collect()
    }

    /// Drops expired entries.
    pub async fn gc(&self, now: DateTime<Utc>) -> Result<usize, StorageError> {
        let doomed: Vec<NflogKey> = self
            .entries
            .lock()
            .expect("nflog lock")
            .values()
            .filter(|e| e.expires_at < now)
            .map(|e| e.key.clone())
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        self.storage
            .delete_nflog(doomed.iter().map(NflogKey::encode).collect())
            .await?;
        let mut entries = self.entries.lock().expect("nflog lock");
        for k in &doomed {
            entries.remove(k);
        }
        Ok(doomed.len())
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("nflog lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn sets(firing: &[u64], resolved: &[u64]) -> FlushSets {
        FlushSets {
            firing: firing.iter().copied().collect(),
            resolved: resolved.iter().copied().collect(),
        }
    }

    fn entry(firing: &[u64], resolved: &[u64], at: i64) -> NflogEntry {
        NflogEntry {
            key: NflogKey {
                group_key: "{}:{}".into(),
                receiver: "r".into(),
                integration: "webhook".into(),
                index: 0,
            },
            firing: firing.iter().copied().collect(),
            resolved: resolved.iter().copied().collect(),
            timestamp: t(at),
            expires_at: t(at + 1000),
            state: BTreeMap::new(),
        }
    }

    #[test]
    fn dedup_decision_table() {
        let hour = Duration::from_secs(3600);
        type Case<'a> = (
            &'a str,
            Option<NflogEntry>,
            FlushSets,
            bool,
            i64,
            Option<Reason>,
        );
        let cases: Vec<Case> = vec![
            (
                "first notification with firing alerts",
                None,
                sets(&[1], &[]),
                false,
                0,
                Some(Reason::FirstNotification),
            ),
            (
                "first flush with only resolved alerts is silent",
                None,
                sets(&[], &[1]),
                true,
                0,
                None,
            ),
            (
                "a new firing alert is sent",
                Some(entry(&[1], &[], 0)),
                sets(&[1, 2], &[]),
                false,
                10,
                Some(Reason::NewAlertsInGroup),
            ),
            (
                "unchanged group waits for the repeat interval",
                Some(entry(&[1], &[], 0)),
                sets(&[1], &[]),
                false,
                10,
                None,
            ),
            (
                "unchanged group is repeated after the interval",
                Some(entry(&[1], &[], 0)),
                sets(&[1], &[]),
                false,
                3601,
                Some(Reason::RepeatInterval),
            ),
            (
                "all resolved is sent even without send_resolved",
                Some(entry(&[1], &[], 0)),
                sets(&[], &[1]),
                false,
                10,
                Some(Reason::AllResolved),
            ),
            (
                "fired and resolved unseen: nothing to say",
                Some(entry(&[], &[1], 0)),
                sets(&[], &[2]),
                true,
                10,
                None,
            ),
            (
                "a new resolved alert with send_resolved",
                Some(entry(&[1, 2], &[], 0)),
                sets(&[1], &[2]),
                true,
                10,
                Some(Reason::NewResolved),
            ),
            (
                "a new resolved alert without send_resolved",
                Some(entry(&[1, 2], &[], 0)),
                sets(&[1], &[2]),
                false,
                10,
                None,
            ),
            (
                "firing again after an all-resolved notification is a first notification",
                Some(entry(&[], &[1], 0)),
                sets(&[1], &[]),
                false,
                10,
                Some(Reason::FirstNotification),
            ),
            (
                "a repeat interval beyond chrono's range never repeats",
                Some(entry(&[1], &[], 0)),
                sets(&[1], &[]),
                false,
                3601,
                None,
            ),
            (
                "a firing subset is not news",
                Some(entry(&[1, 2], &[], 0)),
                sets(&[1], &[]),
                false,
                10,
                None,
            ),
        ];
        for (name, e, now, send_resolved, at, want) in cases {
            let repeat = if name.contains("beyond chrono") {
                Duration::from_secs(u64::MAX / 2)
            } else {
                hour
            };
            assert_eq!(
                needs_update(e.as_ref(), &now, send_resolved, repeat, t(at)),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn reasons_read_as_alertmanager_0_34_writes_them() {
        let words: Vec<&str> = [
            Reason::FirstNotification,
            Reason::NewAlertsInGroup,
            Reason::NewResolved,
            Reason::AllResolved,
            Reason::RepeatInterval,
        ]
        .into_iter()
        .map(Reason::as_str)
        .collect();
        assert_eq!(
            words,
            [
                "first notification",
                "new alerts added",
                "some alerts resolved",
                "all alerts resolved",
                "repeat interval elapsed"
            ]
        );
    }

    #[tokio::test]
    async fn entries_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let key = entry(&[], &[], 0).key;
        {
            let log = NotificationLog::load(
                Storage::open(dir.path()).unwrap(),
                Duration::from_secs(3600),
            )
            .unwrap();
            log.log(key.clone(), sets(&[7], &[]), t(0), BTreeMap::new())
                .await
                .unwrap();
        }
        let log = NotificationLog::load(
            Storage::open(dir.path()).unwrap(),
            Duration::from_secs(3600),
        )
        .unwrap();
        assert_eq!(log.get(&key).unwrap().firing, [7].into_iter().collect());
        assert_eq!(log.gc(t(4000)).await.unwrap(), 1);
        assert!(log.is_empty());
    }
}

/// Property test: the dedup decision and the entries the log makes with
/// extreme repeat intervals, retentions and timestamps never panic, and a
/// repeat is never due before its interval has passed.
#[cfg(test)]
mod extreme_tests {
    use super::*;
    use proptest::prelude::*;

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        prop_oneof![
            Just(DateTime::<Utc>::MIN_UTC),
            Just(DateTime::<Utc>::MAX_UTC),
            Just(DateTime::<Utc>::UNIX_EPOCH),
            (-62_135_596_800i64..=253_402_300_799)
                .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        ]
    }

    fn span() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            Just(Duration::from_millis(i64::MAX as u64 / 1_000_000)),
            any::<u64>().prop_map(Duration::from_secs),
            any::<u64>().prop_map(Duration::from_millis),
        ]
    }

    proptest! {
        #[test]
        fn extreme_intervals_and_times_never_panic(
            sent in instant(),
            now in instant(),
            repeat in span(),
            retention in span(),
            firing in proptest::collection::btree_set(0u64..4, 0..3),
            send_resolved in any::<bool>(),
        ) {
            let sets = FlushSets { firing: firing.clone(), resolved: BTreeSet::new() };
            let dir = tempfile::tempdir().unwrap();
            let log = NotificationLog::load(Storage::open(dir.path()).unwrap(), retention).unwrap();
            let key = NflogKey {
                group_key: "{}".into(),
                receiver: "r".into(),
                integration: "webhook".into(),
                index: 0,
            };
            let entry = log.entry(key, sets.clone(), sent, BTreeMap::new());
            prop_assert!(entry.expires_at >= entry.timestamp);
            let reason = needs_update(Some(&entry), &sets, send_resolved, repeat, now);
            if reason == Some(Reason::RepeatInterval) {
                let elapsed = now.signed_duration_since(sent).to_std().unwrap_or_default();
                prop_assert!(elapsed > repeat, "{elapsed:?} <= {repeat:?}");
            }
            let _ = needs_update(None, &sets, send_resolved, repeat, now);
        }
    }
}
