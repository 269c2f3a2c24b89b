//! `TraceCache`: recent whole-trace answers of `GET /api/v1/traces/{trace_id}`, kept by trace
//! id and version (shared by the API and SSR through `AppState`).

use std::time::Duration;

use axum::body::Bytes;

/// Small whole-trace answers as JSON, by trace id and `Store::trace_version`, so an answer is
/// reused only while no span was added to the trace: a trace page asks twice in a row (its SSR
/// render, then the app's fetch). Only answers up to `trace_body::CACHE_ENTRY_MAX` (4 MiB) are
/// kept, so the cache never holds a huge trace; larger ones are streamed every time. Bounded by
/// size (64 MiB) and kept 30 s.
#[derive(Clone)]
pub struct TraceCache(moka::future::Cache<(String, u64), Bytes>);

impl Default for TraceCache {
    fn default() -> TraceCache {
        let cache = moka::future::Cache::builder()
            .weigher(|_: &(String, u64), body: &Bytes| {
                u32::try_from(body.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(64 << 20)
            .time_to_live(Duration::from_secs(30))
            .build();
        TraceCache(cache)
    }
}

impl TraceCache {
    /// Whether an answer for this trace id and version is kept (for tests of the bound).
    pub async fn holds(&self, trace_id: &str, version: u64) -> bool {
        self.0.get(&(trace_id.to_owned(), version)).await.is_some()
    }

    pub(crate) async fn get(&self, key: &(String, u64)) -> Option<Bytes> {
        self.0.get(key).await
    }

    pub(crate) async fn insert(&self, key: (String, u64), answer: Bytes) {
        self.0.insert(key, answer).await;
    }
}
