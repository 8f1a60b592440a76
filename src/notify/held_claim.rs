//! A cluster claim to send, as its holder keeps it: while an attempt is
//! in flight the claim is renewed every half ttl, so a slow receiver never
//! lets it lapse, and an attempt whose claim was lost (this replica was
//! frozen past it and another took over) is dropped (HA.md, step 4).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::integrations::NotifyError;
use crate::nflog::NflogKey;

pub struct HeldClaim<'a> {
    cluster: &'a Cluster,
    key: &'a NflogKey,
    pub token: u64,
    /// From just before the claim (or its last renewal) was asked for:
    /// every other replica counts from later, when it applied it.
    since: Mutex<Instant>,
}

impl<'a> HeldClaim<'a> {
    pub fn new(cluster: &'a Cluster, key: &'a NflogKey, token: u64, since: Instant) -> Self {
        HeldClaim {
            cluster,
            key,
            token,
            since: Mutex::new(since),
        }
    }

    /// Runs `attempt` while keeping the claim; the attempt's result, or an
    /// error (and the attempt dropped) once the claim is lost.
    pub async fn during<F>(&self, attempt: F) -> Result<(), NotifyError>
    where
        F: std::future::Future<Output = Result<(), NotifyError>>,
    {
        tokio::select! {
            biased;
            result = attempt => result,
            lost = self.keep() => Err(lost),
        }
    }

    /// Renews the claim whenever half its ttl has passed; returns only
    /// when a renewal is refused or finds no quorum.
    async fn keep(&self) -> NotifyError {
        let half = self.cluster.claim_ttl() / 2;
        loop {
            tokio::time::sleep_until(self.since() + half.max(Duration::from_millis(10))).await;
            let asked = Instant::now();
            if !self.cluster.renew(self.key, self.token).await {
                return NotifyError::permanent(
                    "this replica's claim to send lapsed or could not be renewed; it stops sending",
                );
            }
            *self.since.lock().unwrap_or_else(|e| e.into_inner()) = asked;
        }
    }

    fn since(&self) -> Instant {
        *self.since.lock().unwrap_or_else(|e| e.into_inner())
    }
}
