//! The demo's resilient client of the flaky upstream: retries with exponential backoff and full
//! jitter that honours `Retry-After` (backon), a circuit breaker (`breaker.rs`) and a
//! client-side rate limit (governor); it emits both retry shapes the retry view reads.
//!
//! One logical `fetch price` span per call carries `retry.outcome` and a `retry` event with
//! `retry.delay_ms` before each resend; under it, one HTTP client span per attempt carries
//! `retry.attempt` and `http.request.resend_count` (from the second attempt on), and its
//! `traceparent` joins the upstream's server span.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

use super::breaker::{Admission, Breaker};
use super::logs::DemoLogs;

/// Tries per call: the first and up to 3 resends.
pub(crate) const MAX_RESENDS: usize = 3;
/// An upstream asking to wait longer than this is not waited for: the call gives up.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Failures in a row that open the circuit, and how long it stays open before a probe.
pub(crate) const BREAKER_THRESHOLD: u32 = 5;
pub(crate) const BREAKER_COOLDOWN: Duration = Duration::from_secs(3);
/// How long one attempt may take before the client gives up on it.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(300);

/// Why one attempt failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AttemptError {
    #[error("upstream answered {status}")]
    Status { status: u16, retry_after: Option<Duration> },
    #[error("upstream did not answer within {ATTEMPT_TIMEOUT:?}")]
    Timeout,
    #[error("upstream unreachable: {0}")]
    Transport(String),
    #[error("the circuit breaker is open")]
    CircuitOpen,
}

impl AttemptError {
    /// Whether another attempt may help (not when the breaker refuses).
    fn retryable(&self) -> bool {
        !matches!(self, AttemptError::CircuitOpen)
    }

    /// Whether it counts against the upstream's health: 429 is the upstream protecting itself,
    /// not failing, so it does not open the circuit.
    fn is_failure(&self) -> bool {
        !matches!(self, AttemptError::Status { status: 429, .. })
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn error_type(&self) -> String {
        match self {
            AttemptError::Status { status, .. } => status.to_string(),
            AttemptError::Timeout => "timeout".into(),
            AttemptError::Transport(_) => "transport".into(),
            AttemptError::CircuitOpen => "circuit_open".into(),
        }
    }
}

/// How a call ended, as `retry.outcome` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Exhausted,
    CircuitOpen,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Exhausted => "exhausted",
            Outcome::CircuitOpen => "circuit_open",
        }
    }
}

/// The wait before a resend: full jitter (uniform in `[0, cap]`, `unit` a uniform draw in
/// `[0, 1)`) over the exponential `cap` backon computed, but never less than what
/// `Retry-After` asked; `None` (give up) when backon has no more tries or the upstream asks
/// for more than `MAX_RETRY_AFTER`.
pub(crate) fn backoff_delay(
    cap: Option<Duration>,
    retry_after: Option<Duration>,
    unit: f64,
) -> Option<Duration> {
    let cap = cap?;
    let jittered = cap.mul_f64(unit.clamp(0.0, 1.0));
    match retry_after {
        Some(wait) if wait > MAX_RETRY_AFTER => None,
        Some(wait) => Some(wait.max(jittered)),
        None => Some(jittered),
    }
}

/// The exponential schedule of caps: 100 ms, 200 ms, 400 ms (at most 2 s), `MAX_RESENDS` of
/// them. Jitter is applied in `backoff_delay`: backon's own jitter adds up to one more delay
/// on top (`d + rand·d`), which is not full jitter.
pub(crate) fn schedule() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_factor(2.0)
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(MAX_RESENDS)
}

/// The client: one per demo, shared by every request.
pub(crate) struct PriceClient {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT` of the upstream.
    base: String,
    port: u16,
    breaker: Breaker,
    limiter: DefaultDirectRateLimiter,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
    logs: DemoLogs,
}

impl PriceClient {
    /// A client of the upstream on `port`, allowed `attempts_per_second` attempts.
    pub(crate) fn new(port: u16, attempts_per_second: u32, tracer: SdkTracer) -> PriceClient {
        let rate = NonZeroU32::new(attempts_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        PriceClient {
            http: reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build().unwrap_or_default(),
            base: format!("http://127.0.0.1:{port}"),
            port,
            breaker: Breaker::new(BREAKER_THRESHOLD, BREAKER_COOLDOWN),
            limiter: RateLimiter::direct(Quota::per_second(rate)),
            tracer,
            propagator: TraceContextPropagator::new(),
            logs: DemoLogs::none(),
        }
    }

    /// Logs retries (warn), give-ups and circuit-open refusals (error) to `logs`.
    pub(crate) fn with_logs(mut self, logs: DemoLogs) -> PriceClient {
        self.logs = logs;
        self
    }

    /// Fetches the price of product `id` under `parent`; `None` when the call failed.
    pub(crate) async fn fetch_price(&self, parent: &Context, id: u64) -> Option<i64> {
        let span = self
            .tracer
            .span_builder("fetch price")
            .with_kind(SpanKind::Internal)
            .with_attributes([KeyValue::new("product.id", id as i64)])
            .start_with_context(&self.tracer, parent);
        let cx = parent.with_span(span);
        let next_index = AtomicU32::new(0);
        let finished = Mutex::new(Vec::new());
        let (cx_ref, next, done) = (&cx, &next_index, &finished);
        let result = (|| async move {
            if self.breaker.admit(Instant::now()) == Admission::Rejected {
                return Err(AttemptError::CircuitOpen);
            }
            self.limiter.until_ready().await;
            let k = next.fetch_add(1, Ordering::Relaxed);
            let (result, attempt) = self.attempt(cx_ref, id, k).await;
            done.lock().unwrap_or_else(|e| e.into_inner()).push(attempt);
            result
        })
        .retry(schedule())
        .when(AttemptError::retryable)
        .adjust(|error, cap| backoff_delay(cap, error.retry_after(), rand::random::<f64>()))
        .notify(|error, delay| {
            cx.span().add_event(
                "retry",
                vec![
                    KeyValue::new("retry.delay_ms", delay.as_millis() as i64),
                    KeyValue::new("error.type", error.error_type()),
                ],
            );
            self.logs.emit(
                Some(&cx),
                Severity::Warn,
                format!(
                    "retrying the price of product {id} in {} ms after: {error}",
                    delay.as_millis()
                ),
                [
                    ("retry.delay_ms", AnyValue::Int(delay.as_millis() as i64)),
                    ("error.type", AnyValue::from(error.error_type())),
                    ("product.id", AnyValue::Int(id as i64)),
                ],
            );
        })
        .await;
        let attempts = next_index.load(Ordering::Relaxed);
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(AttemptError::CircuitOpen) if attempts == 0 => Outcome::CircuitOpen,
            Err(_) => Outcome::Exhausted,
        };
        let span = cx.span();
        span.set_attribute(KeyValue::new("retry.outcome", outcome.as_str()));
        if let Err(error) = &result {
            span.set_attribute(KeyValue::new("error.type", error.error_type()));
            span.set_status(Status::error(error.to_string()));
            let body = match outcome {
                Outcome::CircuitOpen => {
                    format!("circuit open: not asking the upstream for the price of product {id}")
                }
                _ => {
                    let tries = if attempts == 1 { "attempt" } else { "attempts" };
                    format!(
                        "gave up on the price of product {id} after {attempts} {tries}: {error}"
                    )
                }
            };
            let attributes = [
                ("retry.outcome", AnyValue::from(outcome.as_str())),
                ("error.type", AnyValue::from(error.error_type())),
                ("product.id", AnyValue::Int(id as i64)),
            ];
            self.logs.emit(Some(&cx), Severity::Error, body, attributes);
        }
        // The attempts end (at the times they really ended) right before their call, so the
        // batch processor exports them together and the retry view folds them into the call
        // (attempts seen without their call would also count under their own name).
        for (attempt, ended) in finished.into_inner().unwrap_or_else(|e| e.into_inner()) {
            attempt.span().end_with_timestamp(ended);
        }
        span.end();
        result.ok()
    }

    /// Attempt `k` (0 = the first try) as an HTTP client span, returned with its end time for
    /// the caller to end.
    async fn attempt(
        &self,
        call: &Context,
        id: u64,
        k: u32,
    ) -> (Result<i64, AttemptError>, (Context, SystemTime)) {
        let url = format!("{}/prices/{id}", self.base);
        let mut attributes = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.full", url.clone()),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(self.port)),
            KeyValue::new("retry.attempt", i64::from(k)),
        ];
        if k > 0 {
            attributes.push(KeyValue::new("http.request.resend_count", i64::from(k)));
        }
        let span = self
            .tracer
            .span_builder("GET")
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, call);
        let cx = call.with_span(span);
        let mut headers = reqwest::header::HeaderMap::new();
        self.propagator.inject_context(&cx, &mut opentelemetry_http::HeaderInjector(&mut headers));
        let result = match self.http.get(&url).headers(headers).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                cx.span()
                    .set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if response.status().is_success() {
                    match response.text().await {
                        Ok(body) => body
                            .trim()
                            .parse::<i64>()
                            .map_err(|_| AttemptError::Transport("bad body".into())),
                        Err(error) if error.is_timeout() => Err(AttemptError::Timeout),
                        Err(error) => Err(AttemptError::Transport(error.to_string())),
                    }
                } else {
                    Err(AttemptError::Status { status, retry_after })
                }
            }
            Err(error) if error.is_timeout() => Err(AttemptError::Timeout),
            Err(error) => Err(AttemptError::Transport(error.to_string())),
        };
        let failed = result.as_ref().err().is_some_and(AttemptError::is_failure);
        self.breaker.record(Instant::now(), !failed);
        if let Err(error) = &result {
            cx.span().set_attribute(KeyValue::new("error.type", error.error_type()));
            cx.span().set_status(Status::error(error.to_string()));
        }
        (result, (cx, SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use backon::BackoffBuilder;

    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn full_jitter_spans_zero_to_the_cap() {
        assert_eq!(backoff_delay(Some(MS(400)), None, 0.0), Some(MS(0)));
        assert_eq!(backoff_delay(Some(MS(400)), None, 0.5), Some(MS(200)));
        assert_eq!(backoff_delay(Some(MS(400)), None, 0.999_999), Some(MS(400).mul_f64(0.999_999)));
        assert_eq!(backoff_delay(None, None, 0.5), None, "no tries left");
    }

    #[test]
    fn retry_after_is_a_floor_and_too_long_a_wait_is_a_give_up() {
        let asked = Some(Duration::from_secs(1));
        assert_eq!(backoff_delay(Some(MS(400)), asked, 0.3), Some(Duration::from_secs(1)));
        assert_eq!(backoff_delay(Some(MS(4000)), asked, 0.5), Some(MS(2000)), "jitter above it");
        assert_eq!(backoff_delay(Some(MS(400)), Some(Duration::from_secs(60)), 0.3), None);
        assert_eq!(backoff_delay(None, asked, 0.3), None, "Retry-After adds no tries");
    }

    #[test]
    fn the_schedule_doubles_from_100_ms_for_three_resends() {
        // In whole milliseconds: backon multiplies in f32.
        let caps: Vec<u128> = schedule().build().map(|d| d.as_millis()).collect();
        assert_eq!(caps, [100, 200, 400]);
    }

    /// Keeps every span the SDK exports.
    #[derive(Clone, Debug, Default)]
    struct Collect(std::sync::Arc<Mutex<Vec<opentelemetry_sdk::trace::SpanData>>>);

    impl opentelemetry_sdk::trace::SpanExporter for Collect {
        async fn export(
            &self,
            batch: Vec<opentelemetry_sdk::trace::SpanData>,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }

    fn int(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<i64> {
        span.attributes.iter().find(|kv| kv.key.as_str() == key).and_then(|kv| match kv.value {
            opentelemetry::Value::I64(v) => Some(v),
            _ => None,
        })
    }

    fn text(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
        let kv = span.attributes.iter().find(|kv| kv.key.as_str() == key)?;
        Some(kv.value.as_str().into_owned())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_upstream_is_retried_then_the_open_circuit_rejects_without_attempts() {
        use opentelemetry::trace::TracerProvider as _;
        let spans = Collect::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let always_failing = super::super::upstream::Faults {
            error_rate: 1.0,
            timeout_rate: 0.0,
            throttle_rate: 0.0,
            outage_every: Duration::ZERO,
            outage_for: Duration::ZERO,
        };
        let mut tasks = tokio::task::JoinSet::new();
        let port = super::super::upstream::start(
            always_failing,
            provider.tracer("up"),
            DemoLogs::none(),
            &mut tasks,
        )
        .await
        .unwrap();
        let client = PriceClient::new(port, 1_000, provider.tracer("client"));
        // 4 failed attempts (the breaker counts 4), then 1 more opens it mid-call, then a call
        // meets the open circuit before trying at all.
        for _ in 0..3 {
            assert_eq!(client.fetch_price(&Context::new(), 7).await, None);
        }
        let spans = spans.0.lock().unwrap().clone();
        let calls: Vec<_> = spans.iter().filter(|s| s.name == "fetch price").collect();
        let outcomes: Vec<_> = calls.iter().map(|c| text(c, "retry.outcome").unwrap()).collect();
        assert_eq!(outcomes, ["exhausted", "exhausted", "circuit_open"]);
        let attempts_of = |call: &opentelemetry_sdk::trace::SpanData| -> Vec<_> {
            spans
                .iter()
                .filter(|s| s.parent_span_id == call.span_context.span_id())
                .filter(|s| s.span_kind == SpanKind::Client && s.name == "GET")
                .map(|s| {
                    (
                        int(s, "retry.attempt"),
                        int(s, "http.request.resend_count"),
                        int(s, "http.response.status_code"),
                    )
                })
                .collect()
        };
        let first = attempts_of(calls[0]);
        assert_eq!(
            first,
            [
                (Some(0), None, Some(500)),
                (Some(1), Some(1), Some(500)),
                (Some(2), Some(2), Some(500)),
                (Some(3), Some(3), Some(500)),
            ]
        );
        let retry_events: Vec<_> = calls[0].events.iter().filter(|e| e.name == "retry").collect();
        assert_eq!(retry_events.len(), 3, "one retry event before each resend");
        assert!(retry_events
            .iter()
            .all(|e| e.attributes.iter().any(|kv| kv.key.as_str() == "retry.delay_ms")));
        assert_eq!(attempts_of(calls[1]).len(), 1, "the circuit opened after its first attempt");
        assert!(attempts_of(calls[2]).is_empty(), "a circuit-open rejection makes no attempt");
        // Each attempt's traceparent reached the upstream: its server span is the child.
        let attempt_ids: Vec<_> = spans
            .iter()
            .filter(|s| s.span_kind == SpanKind::Client)
            .map(|s| (s.span_context.trace_id(), s.span_context.span_id()))
            .collect();
        let served: Vec<_> = spans.iter().filter(|s| s.span_kind == SpanKind::Server).collect();
        assert_eq!(served.len(), 5);
        assert!(served
            .iter()
            .all(|s| attempt_ids.contains(&(s.span_context.trace_id(), s.parent_span_id))));
        tasks.abort_all();
    }

    #[test]
    fn only_failures_count_against_the_upstream() {
        let throttled = AttemptError::Status { status: 429, retry_after: Some(MS(1000)) };
        assert!(!throttled.is_failure() && throttled.retryable());
        assert_eq!(throttled.retry_after(), Some(MS(1000)));
        assert!(AttemptError::Status { status: 503, retry_after: None }.is_failure());
        assert!(AttemptError::Timeout.is_failure() && AttemptError::Timeout.retryable());
        assert!(!AttemptError::CircuitOpen.retryable());
    }
}
