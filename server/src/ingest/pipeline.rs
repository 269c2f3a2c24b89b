//! The write path: a bounded queue of batches and one writer thread that commits them in
//! groups. A request is answered only after its batch is committed, so a 200 means durable; a
//! full queue is refused at once, which the receivers turn into 503 + Retry-After.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::store::{Retention, Store, WriteBatch};

/// Most batches committed in one transaction.
const GROUP_COMMIT: usize = 64;
/// Most spans retention may drop per pass, so one pass never stalls ingest for long.
const RETENTION_BUDGET: u64 = 50_000;

#[derive(Clone, Copy, Debug)]
pub struct IngestSettings {
    /// Batches that may wait for the writer before requests are refused.
    pub queue_capacity: usize,
    pub retention: Retention,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the ingest queue is full; retry later")]
    Overloaded,
    #[error("the store could not write the batch: {0}")]
    Store(String),
}

struct Job {
    batch: WriteBatch,
    done: oneshot::Sender<Result<(), String>>,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
    /// Requests being read, decoded or waiting: taken before a body is read, so memory stays
    /// bounded however many senders push at once.
    admission: Arc<Semaphore>,
}

/// How often retention also runs without ingest (it runs after every commit too).
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Ingest {
    /// Starts the writer thread; it ends when every `Ingest` handle is dropped.
    pub fn start(store: Arc<dyn Store>, settings: IngestSettings) -> Ingest {
        let capacity = settings.queue_capacity.max(1);
        let (queue, jobs) = mpsc::channel(capacity);
        let writer_store = store.clone();
        std::thread::Builder::new()
            .name("otelscope-writer".into())
            .spawn(move || writer(writer_store, jobs, settings.retention))
            .expect("spawn the writer thread");
        let weak = Arc::downgrade(&store);
        std::thread::Builder::new()
            .name("otelscope-retention".into())
            .spawn(move || loop {
                std::thread::sleep(RETENTION_EVERY);
                let Some(store) = weak.upgrade() else { return };
                if let Err(error) =
                    store.enforce_retention(settings.retention, now_ns(), RETENTION_BUDGET)
                {
                    tracing::warn!(%error, "Timed retention pass failed.");
                }
            })
            .expect("spawn the retention thread");
        // Twice the queue: one set waiting in the queue, one being read and decoded.
        Ingest { queue, admission: Arc::new(Semaphore::new(2 * capacity)) }
    }

    /// A permit to read and convert one request, or `None` when too many are in flight (the
    /// caller answers 503). Hold it until the batch is submitted.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.admission.clone().try_acquire_owned().ok()
    }

    /// Batches waiting for the writer (not counting the group it is writing).
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Queues `batch` and waits until it is committed.
    pub async fn submit(&self, batch: WriteBatch) -> Result<(), IngestError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.queue.try_send(Job { batch, done }).map_err(|_| IngestError::Overloaded)?;
        match committed.await {
            Ok(result) => result.map_err(IngestError::Store),
            Err(_) => Err(IngestError::Store("the writer stopped".into())),
        }
    }
}

fn writer(store: Arc<dyn Store>, mut jobs: mpsc::Receiver<Job>, retention: Retention) {
    while let Some(first) = jobs.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP_COMMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (batches, acks): (Vec<_>, Vec<_>) =
            group.into_iter().map(|j| (j.batch, j.done)).unzip();
        let result = store.write(&batches).map_err(|e| e.to_string());
        if let Err(error) = &result {
            tracing::error!(%error, batches = batches.len(), "Writing a batch group failed.");
        }
        drop(batches);
        for ack in acks {
            let _ = ack.send(result.clone());
        }
        if let Err(error) = store.enforce_retention(retention, now_ns(), RETENTION_BUDGET) {
            tracing::warn!(%error, "Retention pass failed.");
        }
    }
}

pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
