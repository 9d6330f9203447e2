//! The routing audit log writer: decisions are queued by the request path and written in
//! batches by one background task, so routing never waits on the database. The queue is
//! bounded; when it is full, requests wait rather than drop entries.

use std::time::Duration;
use switchyard_store::{DecisionEntry, Store};
use tokio::sync::mpsc;

/// Entries per database batch.
const BATCH: usize = 2000;

/// Where handlers send decisions.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::Sender<DecisionEntry>,
}

impl DecisionLog {
    /// Starts the writer task on `store`; it ends when every sender is dropped and the queue
    /// is drained.
    pub fn start(store: Store) -> (DecisionLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<DecisionEntry>(100_000);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                // Under load, wait a moment for a fuller batch: fewer, larger transactions.
                if batch.len() < BATCH / 4 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(entry) => batch.push(entry),
                            Err(_) => break,
                        }
                    }
                }
                loop {
                    match store.insert_decisions(&batch).await {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, entries = batch.len(), "decision log write failed; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
                metrics::counter!("switchyard_decisions_logged_total")
                    .increment(batch.len() as u64);
                batch.clear();
            }
        });
        (DecisionLog { tx }, task)
    }

    /// Queues a decision.
    pub async fn record(&self, entry: DecisionEntry) {
        if self.tx.send(entry).await.is_err() {
            tracing::error!("decision log writer has stopped");
        }
    }
}
