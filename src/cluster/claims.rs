//! The claim rules, apart from storage: who may send a notification, and
//! whether a `Sent` is the claim holder's. Pure, so that a property test
//! can drive any interleaving of commands through them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::types::{Applied, NodeId};

/// Who may send a notification, until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub token: u64,
    pub node: NodeId,
    pub until: DateTime<Utc>,
}

/// Every key's claim (live or lapsed), by encoded notification-log key.
pub type Claims = BTreeMap<String, Claim>;

/// `node` asks at `at` to send `key`, believing it last sent at `expect`
/// while the log says `sent`.
pub struct Ask {
    pub key: String,
    pub expect: Option<DateTime<Utc>>,
    pub sent: Option<DateTime<Utc>>,
    pub node: NodeId,
    pub at: DateTime<Utc>,
    pub ttl_ms: u64,
}

/// Decides `ask`; the claim, if granted, is `token`'s.
pub fn claim(claims: &mut Claims, ask: Ask, token: u64) -> Applied {
    let Ask {
        key,
        expect,
        sent,
        node,
        at,
        ttl_ms,
    } = ask;
    if sent != expect {
        return Applied::Stale;
    }
    let held = claims.get(&key);
    if let Some(live) = held.filter(|c| c.until > at && c.node != node) {
        return Applied::Held(live.until);
    }
    let took_over = held.is_some_and(|c| c.node != node && c.until <= at);
    let ttl = chrono::Duration::milliseconds(ttl_ms.min(i64::MAX as u64) as i64);
    claims.insert(
        key,
        Claim {
            token,
            node,
            until: crate::alert::add_saturating(at, ttl),
        },
    );
    if took_over {
        Applied::TookOver(token)
    } else {
        Applied::Granted(token)
    }
}

/// A notification went out under `token`: `true` when that was the live
/// holder's claim (it ends), `false` when it had been taken (fenced).
pub fn sent(claims: &mut Claims, key: &str, token: u64) -> bool {
    let ours = claims.get(key).is_some_and(|c| c.token == token);
    if ours {
        claims.remove(key);
    }
    ours
}

/// The send under `token` failed: its claim ends (if still its).
pub fn release(claims: &mut Claims, key: &str, token: u64) {
    if claims.get(key).is_some_and(|c| c.token == token) {
        claims.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// A node claims with what it believes (version index into history).
        Claim {
            node: u64,
            stale: bool,
            dt: i64,
        },
        /// The node's latest granted token reports a send.
        Sent {
            node: u64,
            dt: i64,
        },
        Release {
            node: u64,
            dt: i64,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1..4u64, any::<bool>(), 0..3000i64).prop_map(|(node, stale, dt)| Step::Claim {
                node,
                stale,
                dt
            }),
            (1..4u64, 0..3000i64).prop_map(|(node, dt)| Step::Sent { node, dt }),
            (1..4u64, 0..3000i64).prop_map(|(node, dt)| Step::Release { node, dt }),
        ]
    }

    proptest! {
        /// Any interleaving of claims, sends and releases from three nodes,
        /// with claims lapsing as time moves: for each version of the log
        /// (each "last sent"), at most one `Sent` is its holder's.
        #[test]
        fn at_most_one_holders_send_per_version(steps in prop::collection::vec(step(), 1..80)) {
            let key = "k".to_owned();
            let mut claims = Claims::new();
            let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
            let mut now = start;
            let mut sent_at: Option<DateTime<Utc>> = None;
            let mut previous: Option<DateTime<Utc>> = None;
            let mut tokens: BTreeMap<u64, u64> = BTreeMap::new();
            let mut holders_sends: BTreeMap<Option<DateTime<Utc>>, u32> = BTreeMap::new();
            for (i, s) in steps.into_iter().enumerate() {
                let index = i as u64 + 1;
                match s {
                    Step::Claim { node, stale, dt } => {
                        now += chrono::Duration::milliseconds(dt);
                        let expect = if stale { previous } else { sent_at };
                        let ask = Ask { key: key.clone(), expect, sent: sent_at, node, at: now, ttl_ms: 2000 };
                        match claim(&mut claims, ask, index) {
                            Applied::Granted(t) | Applied::TookOver(t) => {
                                prop_assert_eq!(t, index);
                                tokens.insert(node, t);
                            }
                            Applied::Held(until) => prop_assert!(until > now),
                            Applied::Stale => prop_assert!(expect != sent_at),
                            other => prop_assert!(false, "unexpected {:?}", other),
                        }
                    }
                    Step::Sent { node, dt } => {
                        now += chrono::Duration::milliseconds(dt);
                        let Some(&token) = tokens.get(&node) else { continue };
                        let version = sent_at;
                        if sent(&mut claims, &key, token) {
                            *holders_sends.entry(version).or_default() += 1;
                            prop_assert!(holders_sends[&version] <= 1, "two holders' sends for {:?}", version);
                        }
                        // The entry is recorded either way: the log moves on.
                        previous = sent_at;
                        sent_at = Some(now + chrono::Duration::milliseconds(index as i64));
                        tokens.remove(&node);
                    }
                    Step::Release { node, dt } => {
                        now += chrono::Duration::milliseconds(dt);
                        if let Some(token) = tokens.remove(&node) {
                            release(&mut claims, &key, token);
                        }
                    }
                }
            }
        }
    }
}
