//! The write path: a bounded queue of batches and one writer thread that commits them in
//! groups. A request is answered only after its batch is committed, so a 200 means durable; a
//! full queue is refused at once, which the receivers turn into 503 + Retry-After.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::arrivals::Arrivals;
use super::memory::MemoryBudget;
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
    /// Bytes all export requests in flight may hold together (see `memory.rs`).
    pub memory_bytes: u64,
}

impl IngestSettings {
    /// The defaults of `otelscope serve`, with `retention`.
    pub fn new(retention: Retention) -> IngestSettings {
        IngestSettings { queue_capacity: 64, retention, memory_bytes: 512 << 20 }
    }
}

/// Why a batch was not stored. The messages are stable and say nothing of the store's
/// internals (those go to the server log).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the ingest queue is full; retry later")]
    Overloaded,
    #[error("the store could not write the batch; retry later")]
    Store,
}

struct Job {
    batch: WriteBatch,
    done: oneshot::Sender<Result<(), IngestError>>,
}

/// What the writer thread last did, for `/api/v1/health`.
#[derive(Clone, Debug, Default)]
pub struct WriterState {
    /// Why the last group failed, while the writer has not committed since.
    pub failing: Option<String>,
    /// Groups that panicked in the writer (each was answered with an error; it went on).
    pub panics: u64,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<Job>,
    state: Arc<std::sync::Mutex<WriterState>>,
    /// Requests decoded or waiting for the writer: taken once a body is in, so slow senders
    /// never hold a place.
    admission: Arc<Semaphore>,
    /// What requests in flight may hold in memory, reading included.
    memory: MemoryBudget,
    /// When each signal last arrived, and the misdirected requests logged.
    arrivals: Arc<Arrivals>,
}

/// How often retention also runs without ingest (it runs after every commit too).
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How often settled traces are folded into the flame graph rollup.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Ingest {
    /// Starts the writer thread; it ends when every `Ingest` handle is dropped.
    pub fn start(store: Arc<dyn Store>, settings: IngestSettings) -> Ingest {
        let capacity = settings.queue_capacity.max(1);
        let (queue, jobs) = mpsc::channel(capacity);
        let writer_store = store.clone();
        let state = Arc::new(std::sync::Mutex::new(WriterState::default()));
        let writer_state = state.clone();
        std::thread::Builder::new()
            .name("otelscope-writer".into())
            .spawn(move || writer(writer_store, jobs, settings.retention, writer_state))
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
        // Folds settled traces into the flame graph rollup, off the writer thread (decoding is
        // done on a read connection; the writer connection is held only to apply).
        let weak = Arc::downgrade(&store);
        std::thread::Builder::new()
            .name("otelscope-flames".into())
            .spawn(move || loop {
                std::thread::sleep(FOLD_EVERY);
                let Some(store) = weak.upgrade() else { return };
                loop {
                    let pass = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        store.fold_flames(now_ns())
                    }));
                    match pass {
                        Ok(Ok(n)) if n >= crate::store::TRACES_PER_PASS => continue,
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => tracing::warn!(%error, "Flame graph fold pass failed."),
                        Err(_) => tracing::error!("The store panicked in a flame graph fold pass."),
                    }
                    break;
                }
            })
            .expect("spawn the flame fold thread");
        // Twice the queue: one set waiting in the queue, one being read and decoded.
        Ingest {
            queue,
            state,
            admission: Arc::new(Semaphore::new(2 * capacity)),
            memory: MemoryBudget::new(settings.memory_bytes),
            arrivals: Arc::default(),
        }
    }

    /// What the writer last did; `None` when its thread is gone (the process then exits, see
    /// `serve`).
    pub fn writer_state(&self) -> Option<WriterState> {
        if self.queue.is_closed() {
            return None;
        }
        Some(self.state.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// Resolves when the writer thread has ended (it only ends when every handle is dropped, or
    /// if it died), so `serve` can exit non-zero instead of refusing data forever.
    pub async fn writer_stopped(&self) {
        self.queue.closed().await
    }

    /// The memory budget every request reserves from.
    pub fn memory(&self) -> &MemoryBudget {
        &self.memory
    }

    /// When each signal last arrived (see `arrivals`).
    pub fn arrivals(&self) -> &Arrivals {
        &self.arrivals
    }

    /// A permit to decode and convert one request whose body is in, or `None` when too many
    /// are in flight (the caller answers 503). Hold it until the batch is submitted.
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
        committed.await.unwrap_or(Err(IngestError::Store))
    }
}

fn writer(
    store: Arc<dyn Store>,
    mut jobs: mpsc::Receiver<Job>,
    retention: Retention,
    state: Arc<std::sync::Mutex<WriterState>>,
) {
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
        // A panic inside the store fails this group only: its senders get an error (and
        // retry), and the writer goes on with the next group.
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.write(&batches)));
        let results: Vec<Result<(), IngestError>> = match outcome {
            Ok(Ok(results)) => {
                let mut failed = None;
                let results = results
                    .into_iter()
                    .map(|r| {
                        r.map_err(|error| {
                            tracing::error!(%error, "Writing a batch failed; its sender is told to retry.");
                            failed.get_or_insert_with(|| error.to_string());
                            IngestError::Store
                        })
                    })
                    .collect();
                set_state(&state, |s| s.failing = failed);
                results
            }
            Ok(Err(error)) => {
                tracing::error!(%error, batches = batches.len(), "Writing a batch group failed; its senders are told to retry.");
                set_state(&state, |s| s.failing = Some(error.to_string()));
                batches.iter().map(|_| Err(IngestError::Store)).collect()
            }
            Err(_) => {
                tracing::error!(
                    batches = batches.len(),
                    "The store panicked writing a batch group; its senders are told to retry."
                );
                set_state(&state, |s| {
                    s.failing = Some("the store panicked".into());
                    s.panics += 1;
                });
                batches.iter().map(|_| Err(IngestError::Store)).collect()
            }
        };
        drop(batches);
        for (ack, result) in acks.into_iter().zip(results) {
            let _ = ack.send(result);
        }
        let pass = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.enforce_retention(retention, now_ns(), RETENTION_BUDGET)
        }));
        match pass {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "Retention pass failed."),
            Err(_) => tracing::error!("The store panicked in a retention pass."),
        }
    }
}

fn set_state(state: &std::sync::Mutex<WriterState>, change: impl FnOnce(&mut WriterState)) {
    change(&mut state.lock().unwrap_or_else(|p| p.into_inner()));
}

pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
