//! Silences: creation, update-or-replace, expiry, matching and garbage
//! collection, with Alertmanager's rules for each.
//!
//! Every change is written to the store and flushed before the caller gets
//! an answer. Matching goes through an index keyed by one equality matcher
//! of each silence, so thousands of silences do not make every alert scan
//! all of them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::labels::{LabelSet, NameMode};
use crate::matcher::{MatchType, Matcher, MatcherError, Matchers};
use crate::storage::{Storage, StorageError};

/// A matcher as silences store and show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    pub is_equal: bool,
}

impl SilenceMatcher {
    fn kind(&self) -> MatchType {
        MatchType::from_flags(self.is_regex, self.is_equal)
    }

    fn compile(&self) -> Result<Matcher, MatcherError> {
        Matcher::new(&self.name, self.kind(), &self.value)
    }

    /// For a silence that was validated when it was stored: its regexes
    /// are read when first matched (see `Matcher::stored`).
    fn reload(&self) -> Matcher {
        Matcher::stored(&self.name, self.kind(), &self.value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<SilenceMatcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
    /// Alertmanager 0.33's free-form notes on a silence (a ticket, a
    /// runbook); stored and shown, never matched.
    #[serde(default, skip_serializing_if = "LabelSet::is_empty")]
    pub annotations: LabelSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now < self.ends_at {
            SilenceState::Active
        } else {
            SilenceState::Expired
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("silence not found")]
    NotFound,
    #[error("invalid silence: {0}")]
    Invalid(String),
    /// `--silences.max-silences` or `--silences.max-silence-size-bytes`.
    #[error(transparent)]
    Limit(#[from] crate::silence_limits::SilenceLimitError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Checks what Alertmanager's `validateSilence` checks; label names as
/// `mode` allows.
fn validate(s: &Silence, mode: NameMode) -> Result<Vec<Matcher>, SilenceError> {
    if s.matchers.is_empty() {
        return Err(SilenceError::Invalid(
            "at least one matcher required".into(),
        ));
    }
    let mut compiled = Vec::with_capacity(s.matchers.len());
    for (i, m) in s.matchers.iter().enumerate() {
        if !mode.is_valid(&m.name) {
            return Err(SilenceError::Invalid(format!(
                "invalid label matcher {i}: invalid label name {:?}",
                m.name
            )));
        }
        let c = m
            .compile()
            .map_err(|e| SilenceError::Invalid(format!("invalid label matcher {i}: {e}")))?;
        compiled.push(c);
    }
    // As Alertmanager: only positive matchers can "match the empty string".
    if compiled.iter().all(|m| m.kind.is_equal() && m.matches("")) {
        return Err(SilenceError::Invalid(
            "at least one matcher must not match the empty string".into(),
        ));
    }
    if s.ends_at < s.starts_at {
        return Err(SilenceError::Invalid(
            "end time must not be before start time".into(),
        ));
    }
    Ok(compiled)
}

struct Entry {
    silence: Silence,
    matchers: Matchers,
    /// The matcher the index finds this entry by, which a lookup through
    /// the index has already matched.
    key: Option<usize>,
}

impl Entry {
    fn new(silence: Silence, matchers: Matchers) -> Self {
        Self {
            key: State::index_position(&matchers),
            silence,
            matchers,
        }
    }

    /// Whether the matchers other than the indexed one match.
    fn matches_beyond_key(&self, labels: &LabelSet) -> bool {
        self.matchers
            .iter()
            .enumerate()
            .all(|(i, m)| Some(i) == self.key || m.matches_labels(labels))
    }

    fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.silence.state(now) == SilenceState::Active
    }
}

/// IDs of the silences muting one alert, borrowed from the silences: nearly
/// always none or one.
pub type SilenceIds<'a> = smallvec::SmallVec<[&'a str; 2]>;

/// foldhash (hashbrown's default): these maps are probed for every listed
/// alert, and it hashes several bytes a step where FNV takes one.
type FastMap<K, V> = hashbrown::HashMap<K, V>;

#[derive(Default)]
struct State {
    by_id: FastMap<String, Arc<Entry>>,
    /// label name → value of one equality matcher → the silences with that
    /// matcher. Nested so that lookups by `&str` need no allocation; the
    /// entries themselves, not their IDs, so a match costs no second lookup.
    index: FastMap<String, FastMap<String, Vec<Arc<Entry>>>>,
    /// Silences without an equality matcher; checked for every alert.
    unindexed: Vec<Arc<Entry>>,
}

impl State {
    /// The matcher a silence is indexed by: its first equality matcher
    /// with a value (one that only a label with that value can meet).
    fn index_position(matchers: &Matchers) -> Option<usize> {
        matchers
            .iter()
            .position(|m| m.kind == MatchType::Equal && !m.value.is_empty())
    }

    fn index_key(matchers: &Matchers) -> Option<(&str, &str)> {
        Self::index_position(matchers)
            .map(|i| (matchers.0[i].name.as_str(), matchers.0[i].value.as_str()))
    }

    fn insert(&mut self, silence: Silence, matchers: Matchers) {
        self.remove(&silence.id.clone());
        let entry = Arc::new(Entry::new(silence, matchers));
        match Self::index_key(&entry.matchers) {
            Some((name, value)) => {
                self.index
                    .entry_ref(name)
                    .or_default()
                    .entry_ref(value)
                    .or_default()
                    .push(entry.clone());
            }
            None => self.unindexed.push(entry.clone()),
        }
        self.by_id.insert(entry.silence.id.clone(), entry);
    }

    fn remove(&mut self, id: &str) {
        let Some(e) = self.by_id.remove(id) else {
            return;
        };
        let Some((name, value)) = Self::index_key(&e.matchers) else {
            self.unindexed.retain(|u| u.silence.id != id);
            return;
        };
        if let Some(values) = self.index.get_mut(name) {
            if let Some(entries) = values.get_mut(value) {
                entries.retain(|u| u.silence.id != id);
                if entries.is_empty() {
                    values.remove(value);
                }
            }
            if values.is_empty() {
                self.index.remove(name);
            }
        }
    }

    fn mutes<'s>(&'s self, labels: &LabelSet, now: DateTime<Utc>) -> SilenceIds<'s> {
        let mut out = SilenceIds::new();
        let mut found = |entries: &'s [Arc<Entry>]| {
            for e in entries {
                if e.is_active(now) && e.matches_beyond_key(labels) {
                    out.push(e.silence.id.as_str());
                }
            }
        };
        // Walk whichever side is shorter: silences usually key on one or
        // two label names, alerts carry many more.
        if self.index.len() <= labels.len() {
            for (name, values) in &self.index {
                if let Some(entries) = labels.get(name).and_then(|v| values.get(v)) {
                    found(entries);
                }
            }
        } else {
            for (name, value) in labels.iter() {
                if let Some(entries) = self.index.get(name).and_then(|values| values.get(value)) {
                    found(entries);
                }
            }
        }
        for e in &self.unindexed {
            if e.is_active(now) && e.matchers.matches(labels) {
                out.push(e.silence.id.as_str());
            }
        }
        out.sort_unstable();
        out
    }
}

/// The silences as of one moment, for checking many alerts under one read
/// lock (a listing checks every alert; taking the lock for each would bounce
/// its cache line between the listing threads).
pub struct SilenceReader<'a>(std::sync::RwLockReadGuard<'a, State>);

impl SilenceReader<'_> {
    /// IDs of the active silences that match `labels`, sorted.
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> SilenceIds<'_> {
        self.0.mutes(labels, now)
    }
}

/// All silences, in memory and in the store.
///
/// A change is decided under `write`, which puts it in the store and in the
/// queue of unpublished changes, and is published once a flush has covered
/// it. Writers queue only for the decision; their flushes overlap, and one
/// flush covers every change stored before it began (see the storage's
/// flush gate), so concurrent changes share the wait for the disk.
pub struct Silences {
    shared: Arc<Shared>,
    /// Serialises decisions, so that each sees every earlier change and
    /// store order equals decision order; readers never wait on it.
    write: tokio::sync::Mutex<()>,
    next_change: std::sync::atomic::AtomicU64,
    limits: crate::silence_limits::SilenceLimits,
    /// Which matcher names a new or changed silence may use.
    name_mode: NameMode,
    /// In a cluster: where decided changes go instead of the local store
    /// (the replicated log, which applies them on every replica).
    replicator: std::sync::OnceLock<Arc<dyn Replicator>>,
}

/// Carries decided silence changes to every replica (the cluster's log);
/// each replica stores them through [`Silences::apply_replicated`].
pub trait Replicator: Send + Sync {
    fn replicate(
        &self,
        silences: Vec<Silence>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SilenceError>> + Send + '_>>;
}

/// What publishing needs; shared with the task that publishes a change,
/// which outlives a request whose client went away.
struct Shared {
    /// Read for every listed alert, from one thread per core.
    state: std::sync::RwLock<State>,
    /// Stored changes not yet visible, in decision order. Published in
    /// that order, a prefix at a time, so memory never shows a change
    /// without every one decided before it.
    unpublished: std::sync::Mutex<std::collections::VecDeque<Change>>,
    storage: Storage,
}

/// One decided change: its place in decision order and the silences it
/// writes, with their compiled matchers.
struct Change {
    seq: u64,
    items: Vec<(Silence, Vec<Matcher>)>,
}

impl Silences {
    /// Loads the stored silences. They were validated when stored, so
    /// their regexes are left for their first match: a restart over a
    /// store of 10,000 regex silences, most of them expired, was nearly all
    /// regex compiling.
    pub fn load(storage: Storage) -> Result<Self, SilenceError> {
        let mut state = State::default();
        for s in storage.load_silences()? {
            let matchers = s.matchers.iter().map(SilenceMatcher::reload).collect();
            state.insert(s, Matchers(matchers));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                state: std::sync::RwLock::new(state),
                unpublished: Default::default(),
                storage,
            }),
            write: tokio::sync::Mutex::new(()),
            next_change: std::sync::atomic::AtomicU64::new(1),
            limits: Default::default(),
            name_mode: NameMode::default(),
            replicator: std::sync::OnceLock::new(),
        })
    }

    /// From now on, changes go through `replicator` (cluster mode).
    pub fn replicate_through(&self, replicator: Arc<dyn Replicator>) {
        let _ = self.replicator.set(replicator);
    }

    /// Stores silences decided on some replica, as the replicated log
    /// delivers them: a version older than the one held is skipped (the
    /// last writer wins, by `updated_at`), so applying twice changes
    /// nothing. A record that no longer compiles is logged and skipped:
    /// the log must keep applying.
    pub async fn apply_replicated(&self, records: Vec<Silence>) -> Result<(), SilenceError> {
        let writer = self.write.lock().await;
        let mut items = Vec::with_capacity(records.len());
        for s in records {
            if self
                .latest(&s.id)
                .is_some_and(|held| held.updated_at > s.updated_at)
            {
                continue;
            }
            match validate(&s, NameMode::Fallback) {
                Ok(compiled) => items.push((s, compiled)),
                Err(e) => {
                    tracing::warn!(silence = %s.id, error = %e, "skipping a replicated silence")
                }
            }
        }
        if items.is_empty() {
            return Ok(());
        }
        self.commit_local(writer, items).await
    }

    /// Replaces every silence with `records` (a replica catching up from
    /// a snapshot of another).
    pub async fn replace_all(&self, records: Vec<Silence>) -> Result<(), SilenceError> {
        let keep: std::collections::HashSet<&str> = records.iter().map(|s| s.id.as_str()).collect();
        let gone: Vec<String> = self
            .list()
            .into_iter()
            .map(|s| s.id)
            .filter(|id| !keep.contains(id.as_str()))
            .collect();
        if !gone.is_empty() {
            let _writer = self.write.lock().await;
            self.shared.storage.delete_silences(gone.clone()).await?;
            let mut state = self.lock_mut();
            for id in &gone {
                state.remove(id);
            }
        }
        let writer = self.write.lock().await;
        let items = records
            .into_iter()
            .filter_map(|s| validate(&s, NameMode::Fallback).ok().map(|c| (s, c)))
            .collect::<Vec<_>>();
        if items.is_empty() {
            return Ok(());
        }
        self.commit_local(writer, items).await
    }

    /// Enforces `limits` on every later change (none by default).
    pub fn with_limits(mut self, limits: crate::silence_limits::SilenceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Silences kept, decided changes included (a new silence is in the
    /// queue before it is shown), as a limit must count them.
    fn count_for_limit(&self) -> usize {
        let queue = self.queue();
        let state = self.lock();
        let queued_new = queue
            .iter()
            .flat_map(|c| c.items.iter())
            .filter(|(s, _)| !state.by_id.contains_key(&s.id))
            .map(|(s, _)| s.id.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len();
        state.by_id.len() + queued_new
    }

    /// Validates label names in `mode` from now on (the default is
    /// Alertmanager's: any non-empty UTF-8 name).
    pub fn with_name_mode(mut self, mode: NameMode) -> Self {
        self.name_mode = mode;
        self
    }

    fn lock(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.shared.lock()
    }

    fn lock_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.shared.lock_mut()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Change>> {
        self.shared.queue()
    }

    pub fn get(&self, id: &str) -> Option<Silence> {
        self.lock().by_id.get(id).map(|e| e.silence.clone())
    }

    pub fn list(&self) -> Vec<Silence> {
        self.lock()
            .by_id
            .values()
            .map(|e| e.silence.clone())
            .collect()
    }

    pub fn count_by_state(&self, now: DateTime<Utc>) -> [(SilenceState, usize); 3] {
        let mut counts = [
            (SilenceState::Active, 0),
            (SilenceState::Pending, 0),
            (SilenceState::Expired, 0),
        ];
        for e in self.lock().by_id.values() {
            let st = e.silence.state(now);
            if let Some(c) = counts.iter_mut().find(|(s, _)| *s == st) {
                c.1 += 1;
            }
        }
        counts
    }

    /// IDs of the active silences that match `labels`, sorted.
    pub fn mutes(&self, labels: &LabelSet, now: DateTime<Utc>) -> Vec<String> {
        let state = self.lock();
        let ids = state.mutes(labels, now);
        ids.iter().map(|id| id.to_string()).collect()
    }

    /// A read view for checking many alerts; hold it briefly, as silence
    /// changes wait for it.
    pub fn reader(&self) -> SilenceReader<'_> {
        SilenceReader(self.lock())
    }

    /// Creates or updates a silence, as Alertmanager's `Silences.Set`:
    /// an update that only moves times in allowed ways keeps the ID;
    /// anything else expires the old silence and creates a new one.
    pub async fn set(&self, mut sil: Silence, now: DateTime<Utc>) -> Result<String, SilenceError> {
        let writer = self.write.lock().await;
        let prev = if sil.id.is_empty() {
            None
        } else {
            Some(self.latest(&sil.id).ok_or(SilenceError::NotFound)?)
        };
        let mut to_store = Vec::new();
        if let Some(prev) = prev {
            if can_update(&prev, &sil, now) {
                sil.updated_at = now;
                let compiled = validate(&sil, self.name_mode)?;
                self.limits.check_size(&sil)?;
                self.limits.log("update silence", &sil);
                to_store.push((sil.clone(), compiled));
                return self.commit(writer, to_store).await.map(|()| sil.id);
            }
            if prev.state(now) != SilenceState::Expired {
                let mut expired = prev.clone();
                expire_at(&mut expired, now);
                // Stored silences passed when made: a later mode change
                // must not stop them from being expired.
                let compiled = validate(&expired, NameMode::Fallback)?;
                to_store.push((expired, compiled));
            }
        }
        sil.id = uuid::Uuid::new_v4().to_string();
        if sil.starts_at < now {
            sil.starts_at = now;
        }
        sil.updated_at = now;
        let compiled = validate(&sil, self.name_mode)?;
        // A new silence or a replacement (the old one stays, expired)
        // needs room, as in Alertmanager.
        self.limits.check_count(|| self.count_for_limit())?;
        self.limits.check_size(&sil)?;
        // Validate the new one before expiring the old one, so a rejected
        // update leaves the previous silence in force.
        if let Some((expired, _)) = to_store.first() {
            self.limits.log("expire silence", expired);
        }
        self.limits.log("create silence", &sil);
        to_store.push((sil.clone(), compiled));
        self.commit(writer, to_store).await.map(|()| sil.id)
    }

    /// Expires a silence now. Expiring an expired silence is a no-op.
    pub async fn expire(&self, id: &str, now: DateTime<Utc>) -> Result<(), SilenceError> {
        let writer = self.write.lock().await;
        let mut sil = self.latest(id).ok_or(SilenceError::NotFound)?;
        if sil.state(now) == SilenceState::Expired {
            // Expired by a change still on its way: answer once it is
            // durable and shown, as its own caller will.
            let queued = self.queue().back().map(|c| c.seq);
            drop(writer);
            return match queued {
                Some(seq) => self.settle(seq).await,
                None => Ok(()),
            };
        }
        expire_at(&mut sil, now);
        let compiled = validate(&sil, NameMode::Fallback)?;
        self.limits.log("expire silence", &sil);
        self.commit(writer, vec![(sil, compiled)]).await
    }

    /// Drops silences that ended more than `retention` ago.
    pub async fn gc(
        &self,
        now: DateTime<Utc>,
        retention: chrono::Duration,
    ) -> Result<usize, SilenceError> {
        let _writer = self.write.lock().await;
        let doomed: Vec<String> = {
            // A silence with a change on its way is not dropped under it.
            let unpublished = self.queue();
            let changing = |id: &str| {
                unpublished
                    .iter()
                    .any(|c| c.items.iter().any(|(s, _)| s.id == id))
            };
            self.lock()
                .by_id
                .values()
                .filter(|e| crate::alert::add_saturating(e.silence.ends_at, retention) < now)
                .filter(|e| !changing(&e.silence.id))
                .map(|e| e.silence.id.clone())
                .collect()
        };
        if doomed.is_empty() {
            return Ok(0);
        }
        self.shared.storage.delete_silences(doomed.clone()).await?;
        let mut state = self.lock_mut();
        for id in &doomed {
            state.remove(id);
        }
        Ok(doomed.len())
    }

    /// The newest version of a silence, decided or published: a decision
    /// must see the changes queued ahead of it.
    fn latest(&self, id: &str) -> Option<Silence> {
        let unpublished = self.queue();
        let queued = unpublished
            .iter()
            .rev()
            .find_map(|c| c.items.iter().rev().find(|(s, _)| s.id == id));
        match queued {
            Some((s, _)) => Some(s.clone()),
            None => self.get(id),
        }
    }

    /// Hands the decided change to the cluster when there is one, else
    /// stores it here.
    async fn commit(
        &self,
        writer: tokio::sync::MutexGuard<'_, ()>,
        items: Vec<(Silence, Vec<Matcher>)>,
    ) -> Result<(), SilenceError> {
        match self.replicator.get() {
            Some(r) => {
                drop(writer);
                r.replicate(items.into_iter().map(|(s, _)| s).collect())
                    .await
            }
            None => self.commit_local(writer, items).await,
        }
    }

    /// Stores the decided change, lets the next writer decide, and
    /// answers once the change is on disk and shown: a silence is visible
    /// only once durable.
    async fn commit_local(
        &self,
        writer: tokio::sync::MutexGuard<'_, ()>,
        items: Vec<(Silence, Vec<Matcher>)>,
    ) -> Result<(), SilenceError> {
        self.shared.storage.writable()?;
        // Newest first: a crash between the two writes of a replacement
        // leaves both silences rather than neither.
        self.shared
            .storage
            .insert_silences(items.iter().rev().map(|(s, _)| s))?;
        let seq = self
            .next_change
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.queue().push_back(Change { seq, items });
        drop(writer);
        self.settle(seq).await
    }

    /// Waits until change `seq` is durable and shown. The work runs in a
    /// task of its own, so a request dropped midway (its client went away)
    /// still leaves the change published.
    async fn settle(&self, seq: u64) -> Result<(), SilenceError> {
        tokio::spawn(self.shared.clone().publish_through(seq))
            .await
            .expect("silence publish task")
    }
}

/// After the store reopens: changes whose write failed (their writers were
/// answered with the error) are dropped, and the stored silences become
/// exactly the ones shown.
impl crate::storage::Rewrite for Silences {
    fn name(&self) -> &'static str {
        "silences"
    }

    fn rewrite<'a>(
        &'a self,
        storage: &'a Storage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + 'a>>
    {
        Box::pin(async move {
            let _writer = self.write.lock().await;
            let dropped = {
                let mut unpublished = self.queue();
                let n = unpublished.len();
                unpublished.clear();
                n
            };
            if dropped > 0 {
                tracing::warn!(
                    changes = dropped,
                    "silence changes refused while the store could not write are not applied"
                );
            }
            storage.replace_silences(self.list()).await
        })
    }
}

impl Shared {
    fn lock(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().expect("silence state lock")
    }

    fn lock_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().expect("silence state lock")
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Change>> {
        self.unpublished.lock().expect("silence queue lock")
    }

    /// Flushes, then shows every change decided up to `seq`: each was
    /// stored before this flush began, so it is durable too.
    async fn publish_through(self: Arc<Self>, seq: u64) -> Result<(), SilenceError> {
        let flushed = self.storage.flush().await;
        let mut unpublished = self.queue();
        // The queue is drained front first: a change missing from it was
        // published by a writer whose flush covered it.
        if unpublished.front().is_none_or(|c| c.seq > seq) {
            return Ok(());
        }
        // A failed flush leaves the queue as it is: later changes may rest
        // on this one, and a later flush that succeeds shows them all.
        flushed?;
        let end = unpublished.partition_point(|c| c.seq <= seq);
        // Under the queue lock, so prefixes are shown in order.
        let mut state = self.lock_mut();
        for (s, m) in unpublished.drain(..end).flat_map(|c| c.items) {
            state.insert(s, Matchers(m));
        }
        Ok(())
    }
}

fn expire_at(sil: &mut Silence, now: DateTime<Utc>) {
    if sil.state(now) == SilenceState::Pending {
        sil.starts_at = now;
    }
    sil.ends_at = now;
    sil.updated_at = now;
}

/// Alertmanager's `canUpdate`.
fn can_update(prev: &Silence, next: &Silence, now: DateTime<Utc>) -> bool {
    if prev.matchers != next.matchers {
        return false;
    }
    match prev.state(now) {
        // Compared to the second, as Alertmanager does: the API shows
        // milliseconds, so a client can never echo the stored start exactly.
        SilenceState::Active => {
            next.starts_at.timestamp() == prev.starts_at.timestamp() && next.ends_at >= now
        }
        SilenceState::Pending => next.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// Alertmanager's filter semantics for `GET /api/v2/silences?filter=`: each
/// filter matcher is applied to the value of the silence matcher with the
/// same name.
pub fn matches_filter(sil: &Silence, filter: &Matchers) -> bool {
    let by_name: HashMap<&str, &str> = sil
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.value.as_str()))
        .collect();
    filter_labels(filter, |n| by_name.get(n).copied())
}

/// The rule Alertmanager uses for both alert and silence filters: an empty
/// filter value on an absent (or, for negative matchers, present) label is
/// skipped.
pub fn filter_labels<'a>(filter: &Matchers, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    filter.iter().all(|m| {
        let v = get(&m.name);
        let skip = m.value.is_empty()
            && match m.kind {
                MatchType::NotEqual | MatchType::NotRegex => v.is_some(),
                MatchType::Equal | MatchType::Regex => v.is_none(),
            };
        skip || m.matches(v.unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn matcher(name: &str, value: &str) -> SilenceMatcher {
        SilenceMatcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }

    fn silence(id: &str, start: i64, end: i64) -> Silence {
        Silence {
            id: id.into(),
            matchers: vec![matcher("alertname", "A")],
            starts_at: t(start),
            ends_at: t(end),
            updated_at: t(0),
            created_by: "me".into(),
            comment: "c".into(),
            annotations: Default::default(),
        }
    }

    fn store() -> (tempfile::TempDir, Silences) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        (dir, Silences::load(storage).unwrap())
    }

    #[test]
    fn state_follows_the_clock() {
        let s = silence("x", 10, 20);
        assert_eq!(s.state(t(0)), SilenceState::Pending);
        assert_eq!(s.state(t(10)), SilenceState::Active);
        assert_eq!(s.state(t(20)), SilenceState::Expired);
    }

    #[test]
    fn active_silence_updates_in_place_only_when_start_unchanged() {
        let prev = silence("x", 0, 100);
        let mut next = prev.clone();
        next.ends_at = t(200);
        assert!(can_update(&prev, &next, t(50)));
        next.starts_at = t(1);
        assert!(!can_update(&prev, &next, t(50)));
    }

    #[test]
    fn changed_matchers_never_update_in_place() {
        let prev = silence("x", 0, 100);
        let mut next = prev.clone();
        next.matchers.push(matcher("env", "prod"));
        assert!(!can_update(&prev, &next, t(50)));
    }

    #[tokio::test]
    async fn replacing_an_active_silence_expires_the_old_one() {
        let (_dir, s) = store();
        let mut sil = silence("", 0, 1000);
        let id1 = s.set(sil.clone(), t(10)).await.unwrap();
        sil.id = id1.clone();
        sil.matchers.push(matcher("env", "prod"));
        let id2 = s.set(sil, t(20)).await.unwrap();
        assert_ne!(id1, id2);
        assert_eq!(s.get(&id1).unwrap().state(t(20)), SilenceState::Expired);
        assert_eq!(s.get(&id2).unwrap().state(t(20)), SilenceState::Active);
    }

    #[tokio::test]
    async fn matching_uses_only_active_silences() {
        let (_dir, s) = store();
        let id = s.set(silence("", 0, 1000), t(0)).await.unwrap();
        let labels: LabelSet = [("alertname", "A"), ("x", "y")].into_iter().collect();
        assert_eq!(s.mutes(&labels, t(5)), vec![id.clone()]);
        assert!(s.mutes(&labels, t(2000)).is_empty());
        let other: LabelSet = [("alertname", "B")].into_iter().collect();
        assert!(s.mutes(&other, t(5)).is_empty());
    }

    #[tokio::test]
    async fn silences_without_equality_matchers_still_match() {
        let (_dir, s) = store();
        let mut sil = silence("", 0, 1000);
        sil.matchers = vec![SilenceMatcher {
            name: "alertname".into(),
            value: "A|B".into(),
            is_regex: true,
            is_equal: true,
        }];
        let id = s.set(sil, t(0)).await.unwrap();
        let labels: LabelSet = [("alertname", "B")].into_iter().collect();
        assert_eq!(s.mutes(&labels, t(1)), vec![id]);
    }

    /// The index is walked from its side or the alert's, whichever is
    /// shorter; both find the same silences, and removed ones leave it.
    #[tokio::test]
    async fn the_index_finds_silences_from_either_side_and_forgets_removed_ones() {
        let (_dir, s) = store();
        let mut ids = Vec::new();
        for (name, value) in [("alertname", "A"), ("instance", "h1"), ("job", "node")] {
            let mut sil = silence("", 0, 5000);
            sil.matchers = vec![matcher(name, value)];
            ids.push(s.set(sil, t(0)).await.unwrap());
        }
        let mut sorted = ids.clone();
        sorted.sort();
        // Two labels, three indexed names: walked from the alert's side.
        let short: LabelSet = [("alertname", "A"), ("instance", "h1")]
            .into_iter()
            .collect();
        let mut expected = vec![ids[0].clone(), ids[1].clone()];
        expected.sort();
        assert_eq!(s.reader().mutes(&short, t(1)).to_vec(), expected);
        // Four labels: walked from the index's side.
        let long: LabelSet = [
            ("alertname", "A"),
            ("instance", "h1"),
            ("job", "node"),
            ("env", "prod"),
        ]
        .into_iter()
        .collect();
        assert_eq!(s.reader().mutes(&long, t(1)).to_vec(), sorted);
        // Extended in place: the old entry leaves the index, or the
        // silence would be listed twice.
        let mut extended = s.get(&ids[1]).unwrap();
        extended.ends_at = t(6000);
        assert_eq!(s.set(extended, t(2)).await.unwrap(), ids[1]);
        assert_eq!(s.reader().mutes(&long, t(1500)).to_vec(), sorted);
        s.expire(&ids[1], t(1600)).await.unwrap();
        let mut left = vec![ids[0].clone(), ids[2].clone()];
        left.sort();
        assert_eq!(s.reader().mutes(&long, t(1700)).to_vec(), left);
    }

    /// The index matches one matcher; the others are still checked.
    #[tokio::test]
    async fn an_indexed_silence_checks_its_other_matchers() {
        let (_dir, s) = store();
        let mut sil = silence("", 0, 1000);
        sil.matchers.push(matcher("env", "prod"));
        let id = s.set(sil, t(0)).await.unwrap();
        let prod: LabelSet = [("alertname", "A"), ("env", "prod")].into_iter().collect();
        let dev: LabelSet = [("alertname", "A"), ("env", "dev")].into_iter().collect();
        assert_eq!(s.mutes(&prod, t(1)), [id]);
        assert!(s.mutes(&dev, t(1)).is_empty());
    }

    #[tokio::test]
    async fn a_decision_sees_the_change_queued_before_it() {
        let (_dir, s) = store();
        let x = s.set(silence("", 0, 1000), t(0)).await.unwrap();
        let mut replace = s.get(&x).unwrap();
        replace.matchers.push(matcher("env", "prod"));
        let mut extend = s.get(&x).unwrap();
        extend.ends_at = t(3000);
        // The second decision runs while the first waits for its flush: it
        // must see `x` expired, not extend it in place and undo the expiry.
        let (replaced, extended) = tokio::join!(s.set(replace, t(10)), s.set(extend, t(10)));
        let (y, z) = (replaced.unwrap(), extended.unwrap());
        assert_ne!(y, x);
        assert_ne!(z, x);
        assert_eq!(s.get(&x).unwrap().state(t(11)), SilenceState::Expired);
        assert_eq!(s.get(&z).unwrap().ends_at, t(3000));
        assert_eq!(s.list().len(), 3);
    }

    #[tokio::test]
    async fn expiring_twice_answers_only_once_the_expiry_is_shown() {
        let (_dir, s) = store();
        let x = s.set(silence("", 0, 1000), t(0)).await.unwrap();
        let expired = || s.get(&x).unwrap().state(t(11)) == SilenceState::Expired;
        let first = s.expire(&x, t(10));
        let second = s.expire(&x, t(10));
        tokio::pin!(first, second);
        // The second call finds the first one's expiry queued, not yet on
        // disk: its answer must wait for it like the first one's.
        tokio::select! {
            biased;
            r = &mut first => {
                r.unwrap();
                assert!(expired());
                second.await.unwrap();
            }
            r = &mut second => {
                r.unwrap();
                assert!(expired(), "answered before the expiry was shown");
                first.await.unwrap();
            }
        }
        assert!(expired());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_changes_are_all_durable_and_visible() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(Silences::load(Storage::open(dir.path()).unwrap()).unwrap());
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut sil = silence("", 0, 1000);
                    sil.matchers = vec![matcher("instance", &format!("host-{i}"))];
                    let id = s.set(sil, t(0)).await.unwrap();
                    // Visible as soon as it is acknowledged.
                    assert!(s.get(&id).is_some());
                    id
                })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap());
        }
        assert_eq!(s.list().len(), 64);
        drop(s);
        let reopened = Silences::load(Storage::open(dir.path()).unwrap()).unwrap();
        for id in &ids {
            assert!(reopened.get(id).is_some(), "{id} lost");
        }
    }

    #[tokio::test]
    async fn silences_survive_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let s = Silences::load(Storage::open(dir.path()).unwrap()).unwrap();
            s.set(silence("", 0, 1000), t(0)).await.unwrap()
        };
        let s = Silences::load(Storage::open(dir.path()).unwrap()).unwrap();
        assert_eq!(s.get(&id).unwrap().comment, "c");
    }

    #[tokio::test]
    async fn a_silence_matching_everything_is_refused() {
        let (_dir, s) = store();
        let mut sil = silence("", 0, 1000);
        sil.matchers = vec![matcher("alertname", "")];
        assert!(matches!(
            s.set(sil, t(0)).await,
            Err(SilenceError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn gc_drops_only_silences_past_retention() {
        let (_dir, s) = store();
        let id = s.set(silence("", 0, 100), t(0)).await.unwrap();
        assert_eq!(
            s.gc(t(150), chrono::Duration::seconds(100)).await.unwrap(),
            0
        );
        assert_eq!(
            s.gc(t(250), chrono::Duration::seconds(100)).await.unwrap(),
            1
        );
        assert!(s.get(&id).is_none());
    }
}
