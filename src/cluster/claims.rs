//! The claim rules, apart from storage: who may send a notification, and
//! whether a `Sent` is the claim holder's. Pure, so that a property test
//! can drive any interleaving of commands through them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::{Applied, NodeId};

/// Who may send a notification, for how long after it was last seen
/// alive. Lapsing is judged by each replica on its own monotonic clock
/// (see `leases`), never by wall-clock times in the log: a replica whose
/// clock is off can neither keep a claim for ever nor take a live one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub token: u64,
    pub node: NodeId,
    #[serde(default)]
    pub ttl_ms: u64,
}

/// Every key's claim (live or lapsed), by encoded notification-log key.
pub type Claims = BTreeMap<String, Claim>;

/// `node` asks to send `key`, believing it last sent at `expect` while
/// the log says `sent`; `lapsed` is the claim it saw lapse, if any.
pub struct Ask {
    pub key: String,
    pub expect: Option<chrono::DateTime<chrono::Utc>>,
    pub sent: Option<chrono::DateTime<chrono::Utc>>,
    pub node: NodeId,
    pub lapsed: Option<u64>,
    pub ttl_ms: u64,
}

/// Decides `ask`; the claim, if granted, is `token`'s.
pub fn claim(claims: &mut Claims, ask: Ask, token: u64) -> Applied {
    let Ask {
        key,
        expect,
        sent,
        node,
        lapsed,
        ttl_ms,
    } = ask;
    if sent != expect {
        return Applied::Stale;
    }
    let other = claims.get(&key).filter(|c| c.node != node);
    if let Some(live) = other.filter(|c| Some(c.token) != lapsed) {
        return Applied::Held(live.token);
    }
    let took_over = other.is_some();
    claims.insert(
        key,
        Claim {
            token,
            node,
            ttl_ms,
        },
    );
    if took_over {
        Applied::TookOver(token)
    } else {
        Applied::Granted(token)
    }
}

/// The holder of `token` is still sending: `true` when the claim is still
/// its own (every replica then restarts its count of the claim's life).
pub fn renew(claims: &Claims, key: &str, token: u64) -> bool {
    claims.get(key).is_some_and(|c| c.token == token)
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
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// A node claims with what it believes (the current version or the
        /// one before), having seen the current claim lapse or not.
        Claim {
            node: u64,
            stale: bool,
            saw_lapse: bool,
        },
        /// The node's latest granted token asks to keep its claim.
        Renew {
            node: u64,
        },
        /// The node's latest granted token reports a send.
        Sent {
            node: u64,
        },
        Release {
            node: u64,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1..4u64, any::<bool>(), any::<bool>()).prop_map(|(node, stale, saw_lapse)| {
                Step::Claim {
                    node,
                    stale,
                    saw_lapse,
                }
            }),
            (1..4u64).prop_map(|node| Step::Renew { node }),
            (1..4u64).prop_map(|node| Step::Sent { node }),
            (1..4u64).prop_map(|node| Step::Release { node }),
        ]
    }

    proptest! {
        /// Any interleaving of claims (with or without a lapse seen),
        /// renewals, sends and releases from three nodes: for each version
        /// of the log (each "last sent"), at most one `Sent` is its
        /// holder's, and a renewal succeeds only for the live holder.
        #[test]
        fn at_most_one_holders_send_per_version(steps in prop::collection::vec(step(), 1..80)) {
            let key = "k".to_owned();
            let mut claims = Claims::new();
            let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
            let mut sent_at: Option<DateTime<Utc>> = None;
            let mut previous: Option<DateTime<Utc>> = None;
            let mut tokens: BTreeMap<u64, u64> = BTreeMap::new();
            let mut holders_sends: BTreeMap<Option<DateTime<Utc>>, u32> = BTreeMap::new();
            for (i, s) in steps.into_iter().enumerate() {
                let index = i as u64 + 1;
                match s {
                    Step::Claim { node, stale, saw_lapse } => {
                        let expect = if stale { previous } else { sent_at };
                        let lapsed = claims.get(&key).map(|c| c.token).filter(|_| saw_lapse);
                        let before = claims.get(&key).cloned();
                        let ask = Ask { key: key.clone(), expect, sent: sent_at, node, lapsed, ttl_ms: 2000 };
                        match claim(&mut claims, ask, index) {
                            Applied::Granted(t) | Applied::TookOver(t) => {
                                prop_assert_eq!(t, index);
                                tokens.insert(node, t);
                            }
                            Applied::Held(t) => {
                                let held = before.expect("held means a claim");
                                prop_assert_eq!(held.token, t);
                                prop_assert!(held.node != node && !saw_lapse);
                            }
                            Applied::Stale => prop_assert!(expect != sent_at),
                            other => prop_assert!(false, "unexpected {:?}", other),
                        }
                    }
                    Step::Renew { node } => {
                        let Some(&token) = tokens.get(&node) else { continue };
                        let live = claims.get(&key).is_some_and(|c| c.token == token);
                        prop_assert_eq!(renew(&claims, &key, token), live);
                    }
                    Step::Sent { node } => {
                        let Some(&token) = tokens.get(&node) else { continue };
                        let version = sent_at;
                        if sent(&mut claims, &key, token) {
                            *holders_sends.entry(version).or_default() += 1;
                            prop_assert!(holders_sends[&version] <= 1, "two holders' sends for {:?}", version);
                        }
                        // The entry is recorded either way: the log moves on.
                        previous = sent_at;
                        sent_at = Some(start + chrono::Duration::milliseconds(index as i64));
                        tokens.remove(&node);
                    }
                    Step::Release { node } => {
                        if let Some(token) = tokens.remove(&node) {
                            release(&mut claims, &key, token);
                        }
                    }
                }
            }
        }
    }
}
