//! `otelscope serve --demo`: a small instrumented service inside the process (a catalog API
//! with a cache-aside read path, a retrying client of a flaky upstream, and a queue its views
//! are published to and consumed from: `messaging.rs`) that sends real OTLP to this server's
//! own receiver through the OpenTelemetry SDK, never to the store.
//!
//! Failures stay inside: a request that fails is a span with an error, a demo that cannot
//! start is a log line, and the server goes on either way.

mod breaker;
mod catalog;
mod exemplars;
mod keys;
mod l2;
mod logs;
mod messaging;
mod redis_server;
mod retry;
mod telemetry;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use otelscope_app::model::DemoStatus;

use crate::cli::DemoArgs;
use catalog::{CacheAside, Lookup, Origin};

/// Products in the catalog table.
const PRODUCTS: u64 = 10_000;
/// Zipf exponent of product popularity.
const POPULARITY: f64 = 1.1;
/// Share of lookups for ids that cannot exist.
const IMPOSSIBLE_SHARE: f64 = 0.03;
/// Catalog requests in flight at most; past it, ticks are skipped (counted in the log).
const MAX_IN_FLIGHT: usize = 256;

/// The running demo.
pub struct Demo {
    status: DemoStatus,
    tasks: tokio::task::JoinSet<()>,
    telemetry: Arc<telemetry::Telemetry>,
    redis: Option<redis_server::PrivateRedis>,
}

impl Demo {
    /// What the L2 tier is, for `/api/v1/health`.
    pub fn status(&self) -> DemoStatus {
        self.status.clone()
    }

    /// Stops the workload, exports what its SDKs still hold, and stops a private Redis.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        let telemetry = self.telemetry.clone();
        let flushed = tokio::task::spawn_blocking(move || telemetry.shutdown());
        if tokio::time::timeout(Duration::from_secs(5), flushed).await.is_err() {
            tracing::warn!("The demo's telemetry took over 5 s to flush; leaving it.");
        }
        if let Some(redis) = self.redis.take() {
            redis.stop().await;
        }
    }
}

/// Starts the demo: its L2 tier (a Redis, a private `redis-server`, or in-process), the
/// SQLite origin, the flaky upstream and the request loop, exporting to `otlp_http`.
pub async fn start(
    args: &DemoArgs,
    otlp_http: SocketAddr,
    api_key: Option<&str>,
) -> Result<Demo, String> {
    let telemetry = Arc::new(telemetry::Telemetry::new(otlp_http, api_key)?);
    let origin = tokio::task::spawn_blocking(|| Origin::create(PRODUCTS))
        .await
        .map_err(|e| e.to_string())??;
    let (l2, redis, status) = l2::choose(args.redis.as_deref(), 4 * PRODUCTS).await;
    let catalog_tracer = telemetry.catalog.tracer("otelscope-demo");
    let meter = telemetry.meters.meter("otelscope-demo");
    let catalog_logs = logs::DemoLogs::new(&telemetry.catalog_logs);
    let cache = CacheAside::new(Arc::new(origin), PRODUCTS, l2, catalog_tracer.clone(), &meter)
        .with_logs(catalog_logs.clone());
    let mut tasks = tokio::task::JoinSet::new();
    let faults = upstream::Faults {
        error_rate: args.upstream_error_rate,
        timeout_rate: args.upstream_timeout_rate,
        throttle_rate: args.upstream_429_rate,
        outage_every: args.upstream_outage_every,
        outage_for: args.upstream_outage_for,
    };
    let upstream_tracer = telemetry.upstream.tracer("otelscope-demo");
    let upstream_logs = logs::DemoLogs::new(&telemetry.upstream_logs);
    let port = upstream::start(faults, upstream_tracer, upstream_logs, &mut tasks)
        .await
        .map_err(|e| format!("cannot listen for the demo's upstream: {e}"))?;
    // Room for every call to retry, and then some: the limit only bites on bursts.
    let attempts_per_second = (args.rate * 3.0).ceil().clamp(10.0, 10_000.0) as u32;
    let prices = retry::PriceClient::new(port, attempts_per_second, catalog_tracer.clone())
        .with_logs(catalog_logs.clone());
    let views = messaging::start(
        catalog_tracer.clone(),
        telemetry.recommendations.tracer("otelscope-demo"),
        &mut tasks,
    );
    let delta_meter = telemetry.delta_meters.meter("otelscope-demo");
    let durations = Arc::new(exemplars::ServerDurations::new(
        &HTTP_BOUNDS,
        telemetry::CATALOG_SERVICE,
        crate::ingest::now_ns(),
    ));
    let app = Arc::new(App {
        cache,
        prices,
        views,
        tracer: catalog_tracer,
        keys: keys::Keys::new(PRODUCTS, POPULARITY, IMPOSSIBLE_SHARE),
        instruments: Instruments::new(&meter, &delta_meter),
        durations: durations.clone(),
    });
    tasks.spawn(exemplars::export_every(
        durations,
        format!("{}/v1/metrics", telemetry::base_url(otlp_http)),
        api_key.filter(|k| !k.is_empty()).map(str::to_owned),
        telemetry::METRIC_INTERVAL,
    ));
    let rate = if args.rate.is_finite() && args.rate > 0.0 { args.rate } else { 5.0 };
    tasks.spawn(drive(app, rate));
    tracing::info!(rate, l2 = %status.l2, "The demo workload is running: {}", status.l2_detail);
    catalog_logs.emit(
        None,
        opentelemetry::logs::Severity::Info,
        format!("catalog-api started: {rate} requests/s, L2 {}", status.l2),
        [
            ("demo.rate", opentelemetry::logs::AnyValue::Double(rate)),
            ("demo.l2", opentelemetry::logs::AnyValue::from(status.l2_detail.clone())),
        ],
    );
    Ok(Demo { status, tasks, telemetry, redis })
}

/// The demo service: what one catalog request uses.
struct App {
    cache: CacheAside,
    prices: retry::PriceClient,
    /// Publishes each product served to the `product-views` queue.
    views: messaging::Publisher,
    tracer: SdkTracer,
    keys: keys::Keys,
    instruments: Instruments,
    /// `http.server.request.duration`, with exemplars.
    durations: Arc<exemplars::ServerDurations>,
}

/// The metrics a user would recognise, one of each chart type: semantic-convention HTTP
/// durations (histograms), a delta counter, a gauge, an exponential histogram (`cache.gets`
/// is the cache's own, in `catalog.rs`; `http.server.request.duration`, with exemplars, the
/// demo's own: `exemplars.rs`).
struct Instruments {
    client_duration: opentelemetry::metrics::Histogram<f64>,
    /// Exponential (a view in `telemetry.rs`).
    lookup_duration: opentelemetry::metrics::Histogram<f64>,
    /// Delta temporality.
    requests: opentelemetry::metrics::Counter<u64>,
    /// Kept so its callback stays registered.
    _memory: opentelemetry::metrics::ObservableGauge<u64>,
}

/// Seconds of a request's durations, as HTTP semantic conventions bucket them.
const HTTP_BOUNDS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

impl Instruments {
    fn new(
        meter: &opentelemetry::metrics::Meter,
        delta: &opentelemetry::metrics::Meter,
    ) -> Instruments {
        Instruments {
            client_duration: meter
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP client requests (the pricing upstream).")
                .with_boundaries(HTTP_BOUNDS.to_vec())
                .build(),
            lookup_duration: meter
                .f64_histogram(telemetry::EXPONENTIAL)
                .with_unit("s")
                .with_description("Time to read a product through the caches.")
                .build(),
            requests: delta
                .u64_counter("catalog.requests")
                .with_unit("{request}")
                .with_description("Catalog requests served (delta temporality).")
                .build(),
            _memory: meter
                .u64_observable_gauge("process.memory.usage")
                .with_unit("By")
                .with_description("Resident memory of the otelscope process.")
                .with_callback(|o| {
                    if let Some(rss) = resident_bytes() {
                        o.observe(rss, &[]);
                    }
                })
                .build(),
        }
    }
}

/// The process's resident memory (Linux `/proc/self/statm`); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Starts `rate` catalog requests a second (open loop: a slow request does not slow the next).
async fn drive(app: Arc<App>, rate: f64) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut skipped = 0u64;
    loop {
        tick.tick().await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            skipped += 1;
            if skipped.is_power_of_two() {
                tracing::warn!(
                    skipped,
                    "The demo has {MAX_IN_FLIGHT} requests in flight; skipping ticks."
                );
            }
            continue;
        };
        let id = app.keys.sample(&mut rand::rng());
        let app = app.clone();
        tokio::spawn(async move {
            app.request(id).await;
            drop(permit);
        });
    }
}

impl App {
    /// `GET /products/{id}`: the product through the caches, then its price from upstream.
    async fn request(&self, id: u64) {
        let span = self
            .tracer
            .span_builder("GET /products/{id}")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("http.route", "/products/{id}"),
                KeyValue::new("url.path", format!("/products/{id}")),
                KeyValue::new("product.id", id as i64),
            ])
            .start_with_context(&self.tracer, &Context::new());
        let cx = Context::new().with_span(span);
        let started = std::time::Instant::now();
        let found = self.cache.get(&cx, id).await;
        self.instruments.lookup_duration.record(started.elapsed().as_secs_f64(), &[]);
        let status = match found {
            Lookup::Found(_) => {
                let asked = std::time::Instant::now();
                let priced = self.prices.fetch_price(&cx, id).await.is_some();
                self.instruments.client_duration.record(
                    asked.elapsed().as_secs_f64(),
                    &[
                        KeyValue::new("http.request.method", "GET"),
                        KeyValue::new("server.address", telemetry::UPSTREAM_SERVICE),
                        KeyValue::new("outcome", if priced { "priced" } else { "failed" }),
                    ],
                );
                cx.span().set_attribute(KeyValue::new("catalog.priced", priced));
                self.views.publish(&cx, id);
                200
            }
            Lookup::Missing | Lookup::Rejected => 404,
            Lookup::Failed => {
                cx.span().set_status(Status::error("the catalog could not be read"));
                500
            }
        };
        cx.span().set_attribute(KeyValue::new("http.response.status_code", status));
        let attrs = [
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/products/{id}"),
            KeyValue::new("http.response.status_code", status),
        ];
        self.durations.record(
            started.elapsed().as_secs_f64(),
            "GET",
            "/products/{id}",
            status,
            cx.span().span_context(),
            crate::ingest::now_ns(),
        );
        self.instruments.requests.add(1, &attrs[2..]);
        cx.span().end();
    }
}
