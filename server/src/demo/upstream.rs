//! The flaky upstream the demo calls for prices: an in-process axum endpoint on a free
//! loopback port (service `pricing-upstream`) that fails, stalls past the client's timeout and
//! answers 429 with `Retry-After` at the rates the `--demo-upstream-*` flags set, and has a
//! short outage at a fixed period so give-ups and circuit-open rejections show up early.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

use super::logs::DemoLogs;

/// How the upstream misbehaves.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Faults {
    /// Share of requests answered 500.
    pub error_rate: f64,
    /// Share of requests that stall for `STALL` (past the client's timeout).
    pub timeout_rate: f64,
    /// Share of requests answered 429 with `Retry-After: 1`.
    pub throttle_rate: f64,
    /// Every `outage_every` (zero: never), the last `outage_for` of the period answers 503.
    pub outage_every: Duration,
    pub outage_for: Duration,
}

/// What one request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Error,
    Stall,
    Throttle,
    Outage,
}

/// How long a stalled answer takes: well past `retry::ATTEMPT_TIMEOUT`.
const STALL: Duration = Duration::from_secs(2);

impl Faults {
    /// The fault for a request `elapsed` after the upstream started, `unit` a uniform draw in
    /// `[0, 1)`. Pure.
    pub(crate) fn pick(&self, elapsed: Duration, unit: f64) -> Fault {
        if !self.outage_every.is_zero() && !self.outage_for.is_zero() {
            let period = self.outage_every.as_nanos();
            let into = elapsed.as_nanos() % period;
            if into >= period.saturating_sub(self.outage_for.as_nanos()) {
                return Fault::Outage;
            }
        }
        let mut edge = self.error_rate;
        if unit < edge {
            return Fault::Error;
        }
        edge += self.timeout_rate;
        if unit < edge {
            return Fault::Stall;
        }
        edge += self.throttle_rate;
        if unit < edge {
            return Fault::Throttle;
        }
        Fault::None
    }
}

struct Upstream {
    faults: Faults,
    started: Instant,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
    logs: DemoLogs,
}

/// Serves the upstream on a free loopback port until the task is aborted; returns the port.
pub(crate) async fn start(
    faults: Faults,
    tracer: SdkTracer,
    logs: DemoLogs,
    tasks: &mut tokio::task::JoinSet<()>,
) -> std::io::Result<u16> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let state = Arc::new(Upstream {
        faults,
        started: Instant::now(),
        tracer,
        propagator: TraceContextPropagator::new(),
        logs,
    });
    let app = Router::new().route("/prices/{id}", get(price)).with_state(state);
    tasks.spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::warn!(%error, "The demo's upstream stopped.");
        }
    });
    Ok(port)
}

async fn price(
    State(upstream): State<Arc<Upstream>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let parent = upstream.propagator.extract(&opentelemetry_http::HeaderExtractor(&headers));
    let span = upstream
        .tracer
        .span_builder("GET /prices/{id}")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/prices/{id}"),
            KeyValue::new("url.path", format!("/prices/{id}")),
        ])
        .start_with_context(&upstream.tracer, &parent);
    let cx = parent.with_span(span);
    let fault = upstream.faults.pick(upstream.started.elapsed(), rand::random::<f64>());
    let logged = match fault {
        Fault::None => None,
        Fault::Outage => Some((Severity::Error, format!("outage: answering 503 for product {id}"))),
        Fault::Error => {
            Some((Severity::Error, format!("pricing failed for product {id}: answering 500")))
        }
        Fault::Throttle => Some((
            Severity::Warn,
            format!("throttling product {id}: answering 429, retry after 1 s"),
        )),
        Fault::Stall => {
            Some((Severity::Warn, format!("stalling product {id} for {} ms", STALL.as_millis())))
        }
    };
    if let Some((severity, body)) = logged {
        upstream.logs.emit(Some(&cx), severity, body, [("product.id", AnyValue::Int(id as i64))]);
    }
    let (status, response) = match fault {
        Fault::Outage => (
            StatusCode::SERVICE_UNAVAILABLE,
            (StatusCode::SERVICE_UNAVAILABLE, "outage").into_response(),
        ),
        Fault::Error => (
            StatusCode::INTERNAL_SERVER_ERROR,
            (StatusCode::INTERNAL_SERVER_ERROR, "pricing failed").into_response(),
        ),
        Fault::Throttle => (
            StatusCode::TOO_MANY_REQUESTS,
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        ),
        Fault::Stall | Fault::None => {
            if fault == Fault::Stall {
                // The client gives up first; dropping this future ends the span then.
                tokio::time::sleep(STALL).await;
            }
            let cents = 199 + (id % 97) * 100;
            (StatusCode::OK, cents.to_string().into_response())
        }
    };
    crate::selftrace::end_server_span(&cx, status);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> Faults {
        Faults {
            error_rate: 0.1,
            timeout_rate: 0.05,
            throttle_rate: 0.05,
            outage_every: Duration::from_secs(60),
            outage_for: Duration::from_secs(5),
        }
    }

    #[test]
    fn shares_are_stacked_in_order() {
        let f = faults();
        let t = Duration::from_secs(1);
        assert_eq!(f.pick(t, 0.0), Fault::Error);
        assert_eq!(f.pick(t, 0.099), Fault::Error);
        assert_eq!(f.pick(t, 0.1), Fault::Stall);
        assert_eq!(f.pick(t, 0.16), Fault::Throttle);
        assert_eq!(f.pick(t, 0.2), Fault::None);
        assert_eq!(f.pick(t, 0.99), Fault::None);
    }

    #[test]
    fn the_outage_is_the_end_of_each_period() {
        let f = faults();
        assert_eq!(f.pick(Duration::from_secs(54), 0.99), Fault::None);
        assert_eq!(f.pick(Duration::from_secs(55), 0.99), Fault::Outage);
        assert_eq!(f.pick(Duration::from_millis(59_999), 0.99), Fault::Outage);
        assert_eq!(f.pick(Duration::from_secs(60), 0.99), Fault::None);
        assert_eq!(f.pick(Duration::from_secs(175), 0.99), Fault::Outage);
        let never = Faults { outage_every: Duration::ZERO, ..f };
        assert_eq!(never.pick(Duration::from_secs(59), 0.99), Fault::None);
    }
}
