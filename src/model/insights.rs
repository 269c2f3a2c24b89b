//! The answers of `GET /api/v1/cache` and `GET /api/v1/retries`: cache hit rates and retry
//! behaviour per operation, as the server's rollups give them.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/cache`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheAnswer {
    /// The range the answer covers (Unix ns), widened to whole rollup buckets.
    pub since_ns: u64,
    pub until_ns: u64,
    /// The width of each point of `series` (a multiple of the 10 s rollup bucket).
    pub step_ns: u64,
    pub caches: Vec<CacheStats>,
}

/// One cache as one source reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheStats {
    pub name: String,
    /// `cache.layer` (e.g. `l1`, `l2`, `redis`); empty when the telemetry names none.
    #[serde(default)]
    pub layer: String,
    pub service: String,
    /// Where the numbers come from.
    pub source: CacheSource,
    pub hits: u64,
    pub misses: u64,
    /// `hits / (hits + misses)`; absent when there was no lookup.
    #[serde(default)]
    pub hit_rate: Option<f64>,
    /// One point per step that saw lookups, in time order.
    #[serde(default)]
    pub series: Vec<CachePoint>,
    /// Trace ids of a few misses, newest first (spans only: counters name no trace).
    #[serde(default)]
    pub miss_examples: Vec<String>,
    /// The mean duration of the lookup spans that hit and that missed (spans only; absent
    /// without such spans, or for lookups stored before schema v16).
    #[serde(default)]
    pub hit_mean_ns: Option<u64>,
    #[serde(default)]
    pub miss_mean_ns: Option<u64>,
}

/// Where a cache's numbers come from (`"spans"`, `"metrics"` on the wire).
/// Declared in the order of their text, so sorting by either gives the same order.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CacheSource {
    /// Hit and miss counters.
    Metrics,
    /// Spans' `cache.hit` attributes (which name their traces).
    #[default]
    Spans,
}

wire_kind!(CacheSource { Spans = "spans", Metrics = "metrics" });

/// Lookups in one step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CachePoint {
    /// The step's start (Unix ns).
    pub time_ns: u64,
    pub hits: u64,
    pub misses: u64,
    #[serde(default)]
    pub hit_rate: Option<f64>,
}

/// `GET /api/v1/retries`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetriesAnswer {
    pub since_ns: u64,
    pub until_ns: u64,
    pub operations: Vec<RetryStats>,
    /// The width of each point of the operations' `series` (a multiple of the 10 s rollup
    /// bucket, chosen for the range as for `/api/v1/cache`; 0 from servers before it).
    #[serde(default)]
    pub step_ns: u64,
}

/// One step of an operation's retries over time (only steps that saw a call or a resend).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPoint {
    /// The step's start (Unix ns).
    pub time_ns: u64,
    pub calls: u64,
    pub resends: u64,
    pub give_ups: u64,
    pub circuit_open: u64,
}

/// One example trace of a retry kind, with its call's start, duration and outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryExampleCall {
    pub kind: RetryExampleKind,
    pub trace_id: String,
    /// The span's start (Unix ns).
    pub start_ns: u64,
    /// The span's duration; absent for examples stored before the server kept it.
    #[serde(default)]
    pub duration_ns: Option<u64>,
    /// `retry.outcome` (`success`, `exhausted`, `circuit_open`), else `error` or `ok` from the
    /// span's status; empty for examples stored before the server kept it.
    #[serde(default)]
    pub outcome: String,
}

/// Retry behaviour of one operation (service + name of the span carrying the retry data).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetryStats {
    pub service: String,
    pub name: String,
    /// Logical calls (a first attempt, or a span with `retry.outcome`).
    pub calls: u64,
    /// Calls that needed more than one attempt.
    pub retried_calls: u64,
    /// Attempts after the first, over all calls.
    pub resends: u64,
    /// How many calls took how many attempts, by attempts.
    #[serde(default)]
    pub attempts: Vec<AttemptCount>,
    /// Calls that ended with `retry.outcome = exhausted`.
    #[serde(default)]
    pub give_ups: u64,
    /// Calls refused by an open circuit breaker (`retry.outcome = circuit_open`). Such a call
    /// counts in `calls`, but with the attempts it really made: 0 when the breaker refused it
    /// before any (so `attempts` lists it under 0 attempts, and it adds no resend).
    #[serde(default)]
    pub circuit_open: u64,
    /// Backoff delays (`retry` events' `retry.delay_ms`), within 1%.
    #[serde(default)]
    pub delays: u64,
    #[serde(default)]
    pub delay_p50_ns: Option<u64>,
    #[serde(default)]
    pub delay_p95_ns: Option<u64>,
    #[serde(default)]
    pub delay_p99_ns: Option<u64>,
    #[serde(default)]
    pub examples: RetryExamples,
    /// The same examples with their time, duration and outcome (per kind newest first, kinds in
    /// `RetryExampleKind::ALL` order).
    #[serde(default)]
    pub example_calls: Vec<RetryExampleCall>,
    /// Calls, resends, give-ups and circuit-open refusals per step of `RetriesAnswer::step_ns`,
    /// in time order.
    #[serde(default)]
    pub series: Vec<RetryPoint>,
}

/// `calls` calls took `attempts` attempts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptCount {
    pub attempts: u64,
    pub calls: u64,
}

/// The kinds of retry examples (`"retried"`, `"gave_up"`, `"circuit_open"` in storage).
/// Declared in the order of their text, so sorting by either gives the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryExampleKind {
    /// A call refused by an open circuit breaker.
    CircuitOpen,
    /// A call that ended with `retry.outcome = exhausted`.
    GaveUp,
    /// A call that took more than one attempt.
    Retried,
}

wire_kind!(RetryExampleKind { Retried = "retried", GaveUp = "gave_up", CircuitOpen = "circuit_open" });

impl RetryExampleKind {
    /// Every kind, in the order the retries page lists them.
    pub const ALL: [RetryExampleKind; 3] =
        [RetryExampleKind::Retried, RetryExampleKind::GaveUp, RetryExampleKind::CircuitOpen];
}

/// A few trace ids of each kind, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryExamples {
    #[serde(default)]
    pub retried: Vec<String>,
    #[serde(default)]
    pub gave_up: Vec<String>,
    #[serde(default)]
    pub circuit_open: Vec<String>,
}

impl RetryExamples {
    /// The examples of `kind`.
    pub fn of(&self, kind: RetryExampleKind) -> &Vec<String> {
        match kind {
            RetryExampleKind::Retried => &self.retried,
            RetryExampleKind::GaveUp => &self.gave_up,
            RetryExampleKind::CircuitOpen => &self.circuit_open,
        }
    }

    /// The examples of `kind`, to add to.
    pub fn of_mut(&mut self, kind: RetryExampleKind) -> &mut Vec<String> {
        match kind {
            RetryExampleKind::Retried => &mut self.retried,
            RetryExampleKind::GaveUp => &mut self.gave_up,
            RetryExampleKind::CircuitOpen => &mut self.circuit_open,
        }
    }
}
