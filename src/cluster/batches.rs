//! Commands proposed together. Every flush that finds a notification due
//! asks for a claim, and thousands of groups flush at once: one log entry
//! (and, on a follower, one message to the leader) per claim would cap the
//! cluster at what Raft commits one by one. Commands that wait while
//! others are in flight go into the log as one `Batch` entry, applied in
//! order, each answered on its own.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::types::{Applied, Command};
use super::{Cluster, ProposeError, WRITE_TIMEOUT};

/// At most this many commands in one entry (a token's position within
/// its entry takes 16 bits).
const MAX_BATCH: usize = 256;
/// Batches proposed at once: while they are in flight the next gathers.
const IN_FLIGHT: usize = 4;

pub struct Pending {
    command: Command,
    reply: oneshot::Sender<Result<Applied, ProposeError>>,
}

impl Cluster {
    /// Appends `command` to the replicated log (with whatever else waits),
    /// waits until this replica applied it, and gives what applying
    /// answered; gives up after `patience` (a frozen or dead leader would
    /// otherwise hold every caller that long).
    pub(super) async fn propose_within(
        &self,
        command: Command,
        patience: Duration,
    ) -> Result<Applied, ProposeError> {
        self.options.metrics.proposed(command.kind());
        let (reply, answer) = oneshot::channel();
        self.batches
            .send(Pending { command, reply })
            .map_err(|_| ProposeError::Other("the cluster has stopped".into()))?;
        match tokio::time::timeout(patience, answer).await {
            Ok(Ok(answer)) => answer,
            _ => Err(ProposeError::NoQuorum),
        }
    }

    /// Gathers waiting commands into batches and proposes them.
    pub(super) async fn run_batches(
        self: Arc<Self>,
        queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>>,
        cancel: CancellationToken,
    ) {
        // Held for the loop's life; a panic releases it for the restart.
        let mut queue = queue.lock().await;
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            let first = tokio::select! {
                _ = cancel.cancelled() => return,
                next = queue.recv() => match next {
                    Some(p) => p,
                    None => return,
                },
            };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            // Callers that gave up meanwhile need nothing proposed.
            batch.retain(|p| !p.reply.is_closed());
            if batch.is_empty() {
                continue;
            }
            let cluster = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                cluster.propose_batch(batch).await;
            });
        }
    }

    async fn propose_batch(&self, batch: Vec<Pending>) {
        let (commands, replies): (Vec<Command>, Vec<_>) =
            batch.into_iter().map(|p| (p.command, p.reply)).unzip();
        let alone = commands.len() == 1;
        let command = if alone {
            commands.into_iter().next().expect("one command")
        } else {
            Command::Batch(commands)
        };
        let answers = match self.propose_now(command, WRITE_TIMEOUT).await {
            Ok(answer) if alone => vec![Ok(answer)],
            Ok(Applied::Batch(answers)) if answers.len() == replies.len() => {
                answers.into_iter().map(Ok).collect()
            }
            Ok(other) => {
                let e = ProposeError::Other(format!("unexpected answer to a batch: {other:?}"));
                vec![Err(e); replies.len()]
            }
            Err(e) => vec![Err(e); replies.len()],
        };
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}
