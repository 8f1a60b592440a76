//! How long each claim has gone without news, on this replica's monotonic
//! clock. A claim lapses when its holder neither renewed, sent nor
//! released it for its ttl as *this* replica measured it, so wall clocks
//! that disagree (a replica hours ahead) change nothing. Only proposers
//! read this; applying the log never does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::claims::{Claim, Claims};
use super::types::NodeId;

#[derive(Default)]
pub struct Leases {
    seen: Mutex<HashMap<String, Seen>>,
    /// The leader this replica last knew of (`None`: none, or not yet
    /// asked).
    leader: Mutex<Option<NodeId>>,
}

struct Seen {
    claim: Claim,
    at: Instant,
}

impl Leases {
    /// `claim` on `key` was granted or renewed just now.
    pub fn saw(&self, key: &str, claim: &Claim) {
        let seen = Seen {
            claim: claim.clone(),
            at: Instant::now(),
        };
        self.lock().insert(key.to_owned(), seen);
    }

    /// `key`'s claim ended (sent or released).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// After loading or installing state: every claim counts from now.
    pub fn reset(&self, claims: &Claims) {
        let now = Instant::now();
        let mut seen = self.lock();
        seen.clear();
        for (key, claim) in claims {
            seen.insert(
                key.clone(),
                Seen {
                    claim: claim.clone(),
                    at: now,
                },
            );
        }
    }

    /// The leader is `leader` now: if that is news, every claim counts
    /// from now. While no replica led, a holder could neither renew its
    /// claim nor record its send, so its silence said nothing of whether
    /// it is alive; counting through an election would let a survivor
    /// take over a claim whose notification already went out (its `Sent`
    /// waiting for the new leader) and send it a second time.
    pub fn leader_is(&self, leader: Option<NodeId>) {
        let mut known = self.leader.lock().unwrap_or_else(|e| e.into_inner());
        if *known != leader {
            *known = leader;
            let now = Instant::now();
            for seen in self.lock().values_mut() {
                seen.at = now;
            }
        }
    }

    /// The token of another node's claim on `key` that went its ttl
    /// without news.
    pub fn lapsed(&self, key: &str, me: NodeId) -> Option<u64> {
        let seen = self.lock();
        let s = seen.get(key)?;
        (s.claim.node != me && s.at + ttl(&s.claim) <= Instant::now()).then_some(s.claim.token)
    }

    /// How long another node's live claim on `key` has left here: while
    /// it has, asking the log would only be told "held".
    pub fn held_by_other(&self, key: &str, me: NodeId) -> Option<Duration> {
        let seen = self.lock();
        let s = seen.get(key).filter(|s| s.claim.node != me)?;
        let left = (s.at + ttl(&s.claim)).saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// How long until `key`'s claim under `token` lapses here (zero when
    /// it has, or is not known).
    pub fn left(&self, key: &str, token: u64) -> Duration {
        let seen = self.lock();
        seen.get(key)
            .filter(|s| s.claim.token == token)
            .map(|s| (s.at + ttl(&s.claim)).saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn ttl(claim: &Claim) -> Duration {
    Duration::from_millis(claim.ttl_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_claim_lapses_after_its_ttl_without_news_and_renewing_restarts_it() {
        let leases = Leases::default();
        let claim = Claim {
            token: 7,
            node: 2,
            ttl_ms: 2000,
        };
        leases.saw("k", &claim);
        assert_eq!(leases.lapsed("k", 1), None);
        assert_eq!(leases.left("k", 7), Duration::from_secs(2));
        assert_eq!(leases.held_by_other("k", 1), Some(Duration::from_secs(2)));
        assert_eq!(leases.held_by_other("k", 2), None);
        tokio::time::advance(Duration::from_millis(1500)).await;
        leases.saw("k", &claim);
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(leases.lapsed("k", 1), None, "renewed 1.5 s ago");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(leases.lapsed("k", 1), Some(7));
        assert_eq!(leases.held_by_other("k", 1), None);
        assert_eq!(
            leases.lapsed("k", 2),
            None,
            "a holder never takes over itself"
        );
        leases.forget("k");
        assert_eq!(leases.lapsed("k", 1), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_leader_restarts_every_claims_count() {
        let leases = Leases::default();
        leases.leader_is(Some(1));
        let claim = Claim {
            token: 7,
            node: 2,
            ttl_ms: 2000,
        };
        leases.saw("k", &claim);
        tokio::time::advance(Duration::from_millis(1500)).await;
        // The leader dies: the holder can record nothing until another
        // is elected, a second later.
        leases.leader_is(None);
        tokio::time::advance(Duration::from_millis(1000)).await;
        leases.leader_is(Some(3));
        assert_eq!(leases.lapsed("k", 1), None, "2.5 s, but only now a leader");
        leases.leader_is(Some(3));
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert_eq!(leases.left("k", 7), Duration::from_millis(1));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(leases.lapsed("k", 1), Some(7), "a ttl under the new leader");
    }
}
