//! The body of `GET /api/v1/traces/{trace_id}`, streamed: a blocking producer reads the stored
//! chunks one at a time, decodes them span by span and sends the JSON in pieces through a
//! bounded channel, so one answer holds a few MiB in the server whatever the trace's size.

use axum::body::{Body, Bytes};
use futures_util::stream;
use tokio::sync::mpsc;

use super::trace_cache::TraceCache;
use crate::store::{SeenSpans, Store, StoreError};

/// The JSON sent in one piece of the body.
pub(crate) const PIECE_BYTES: usize = 64 << 10;
/// Pieces queued between the producer and the connection: with `PIECE_BYTES`, at most 512 KiB
/// waits for a slow reader.
const PIECES_IN_FLIGHT: usize = 8;
/// Answers up to this size are also kept whole for `TraceCache`; larger ones are never held.
pub(crate) const CACHE_ENTRY_MAX: usize = 4 << 20;

/// Why a trace answer stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TraceBodyError {
    #[error("trace {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts producing `{"trace_id": ..., "spans": [...]}` for `trace_id` (32 lowercase hex
/// digits), spans in stored order, each once; `version` is the trace's stored span count
/// (`Store::trace_version`). A whole answer of at most `CACHE_ENTRY_MAX` goes into `cache`
/// before its last piece is sent. The first piece is awaited, so a missing trace or a failing
/// store is still an error status.
pub(crate) async fn start(
    store: std::sync::Arc<dyn Store>,
    cache: TraceCache,
    trace_id: String,
    version: u64,
) -> Result<Body, TraceBodyError> {
    let (tx, mut rx) = mpsc::channel(PIECES_IN_FLIGHT);
    let span = crate::selftrace::SelfTelemetry::child_of_current("store.trace");
    tokio::task::spawn_blocking(move || {
        let _span = span.map(crate::selftrace::EndOnDrop);
        let mut producer = Producer {
            tx,
            piece: Vec::new(),
            copy: Some(Vec::new()),
            cache: (cache, (trace_id.clone(), version)),
        };
        if let Err(error) = producer.run(&*store, &trace_id, version) {
            let _ = producer.tx.blocking_send(Err(error));
        }
    });
    // The first piece decides the status: after it the answer is a 200 whatever happens.
    let first = match rx.recv().await {
        Some(Ok(first)) => first,
        Some(Err(error)) => return Err(error),
        None => return Err(StoreError::Unavailable("trace reader stopped".into()).into()),
    };
    let rest = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Ok(Body::from_stream(futures_util::StreamExt::chain(
        stream::once(async move { Ok::<_, TraceBodyError>(first) }),
        rest,
    )))
}

/// The blocking side: JSON written into `piece`, sent when it holds `PIECE_BYTES`.
struct Producer {
    tx: mpsc::Sender<Result<Bytes, TraceBodyError>>,
    piece: Vec<u8>,
    /// The answer so far while it stays under `CACHE_ENTRY_MAX`; `None` once it grew past.
    copy: Option<Vec<u8>>,
    cache: (TraceCache, (String, u64)),
}

impl Producer {
    /// Writes the whole answer; `Ok(false)` when the reader went away first. An error after
    /// the first piece ends the body unfinished, so no reader takes a cut answer for whole.
    fn run(
        &mut self,
        store: &dyn Store,
        trace_id: &str,
        expected: u64,
    ) -> Result<bool, TraceBodyError> {
        let Some(mut chunk) = store.trace_chunk(trace_id, i64::MIN)? else {
            return Err(TraceBodyError::NotFound(trace_id.to_owned()));
        };
        let mut seen = SeenSpans::with_capacity(usize::try_from(expected).unwrap_or(0));
        let mut first = true;
        self.piece
            .extend_from_slice(format!("{{\"trace_id\":\"{trace_id}\",\"spans\":[").as_bytes());
        loop {
            let mut failed = None;
            let complete = chunk.for_each_span(&mut |span| {
                if !seen.first_time(&span.span_id) {
                    return true;
                }
                if !std::mem::take(&mut first) {
                    self.piece.push(b',');
                }
                if let Err(e) = serde_json::to_writer(&mut self.piece, &span) {
                    failed = Some(StoreError::Corrupt(e.to_string()));
                    return false;
                }
                self.piece.len() < PIECE_BYTES || self.send(false)
            })?;
            if let Some(error) = failed {
                return Err(error.into());
            }
            if !complete {
                return Ok(false);
            }
            match store.trace_chunk(trace_id, chunk.id)? {
                Some(next) => chunk = next,
                None => break,
            }
        }
        self.piece.extend_from_slice(b"]}");
        Ok(self.send(true))
    }

    /// Sends the piece written so far; `false` when the reader is gone. Before the `last`
    /// piece, a small whole answer is cached, so it is there once a reader has the answer.
    fn send(&mut self, last: bool) -> bool {
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(PIECE_BYTES + 1024));
        if let Some(copy) = &mut self.copy {
            if copy.len() + piece.len() <= CACHE_ENTRY_MAX {
                copy.extend_from_slice(&piece);
            } else {
                self.copy = None;
            }
        }
        if let (true, Some(whole)) = (last, self.copy.take()) {
            let (cache, key) = &self.cache;
            // A blocking thread of the runtime: waiting here holds up no async worker.
            tokio::runtime::Handle::current().block_on(cache.insert(key.clone(), whole.into()));
        }
        self.tx.blocking_send(Ok(Bytes::from(piece))).is_ok()
    }
}
