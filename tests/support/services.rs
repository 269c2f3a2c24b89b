//! The services fixture (issue 25), sent by the official Rust SDK as three services with their
//! own resources, joined by W3C context as an instrumented call would be:
//! `web-front` serves `GET /checkout` six times, each calling `checkout`'s `POST /pay` (a client
//! span, then the server span), which queries the `orders` PostgreSQL database
//! (`SELECT orders`, a client span with `db.system`/`db.namespace`). Calls 5 and 6 fail (both
//! halves error) and carry `cache.hit=false`, the others `cache.hit=true`. [`HOSTILE_SERVICE`]
//! serves one `tick` that calls `POST /pay` once more (no query).
//!
//! So, by hand: edges `user → web-front` 6 calls, `web-front → checkout` 6 calls 2 errors,
//! `HOSTILE → checkout` 1 call, `checkout → orders` 6 calls; `checkout`'s `POST /pay` (server)
//! 7 requests, 2 errors; "what changed" for its errors: `cache.hit=false` on 100% of the 2
//! failing spans against 0% of the 5 others (the hostile call has no `cache.hit`).
//! `services_fixture_server` then sends `services_queue`'s part: a queue, and Kubernetes
//! namespaces.

use std::time::{Duration, SystemTime};

/// A service name that is markup.
pub const HOSTILE_SERVICE: &str = "<img src=x onerror=alert(1)>svc";

/// Every sparkline of a `/services` page (`html`, from any renderer) draws: three per card,
/// each a polyline of at least two points. The fixture's seconds of data fill one step of the
/// default range's (the cards fit to it), and a polyline of one point would draw nothing.
pub fn assert_sparklines_draw(html: &str) {
    use kuchikiki::traits::TendrilSink;
    let doc = kuchikiki::parse_html().one(html).document_node;
    let cards = doc.select("li.service-card").unwrap().count();
    let points: Vec<String> = doc
        .select("svg.sparkline polyline")
        .unwrap()
        .map(|p| p.attributes.borrow().get("points").unwrap_or_default().to_owned())
        .collect();
    assert!(cards >= 3 && points.len() == 3 * cards, "{cards} cards: {points:?}");
    for p in &points {
        assert!(p.split(' ').filter(|xy| xy.contains(',')).count() >= 2, "one point: {points:?}");
    }
}

/// A running server with the fixture sent, and the range (`since=..&until=..`, Unix ns) that
/// pages and API calls share.
pub async fn services_fixture_server() -> (super::Server, String) {
    let server = super::Server::start().await;
    let url = server.otlp_http_url.clone();
    tokio::task::spawn_blocking(move || {
        send_services_fixture(&url);
        super::services_queue::send_queue_fixture(&url);
    })
    .await
    .unwrap();
    let now = super::now_ns();
    let range = format!("since={}&until={}", now - 600_000_000_000, now + 60_000_000_000);
    (server, range)
}

/// Sends the fixture (see the module doc). Blocking: call it from `spawn_blocking`.
pub fn send_services_fixture(otlp_http_url: &str) {
    use opentelemetry::trace::{
        Span as _, SpanKind, Status, TraceContextExt, Tracer, TracerProvider,
    };
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    let provider = |service: &str| {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{otlp_http_url}/v1/traces"))
            .build()
            .expect("HTTP exporter");
        SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(service.to_owned()).build())
            .build()
    };
    let (front_p, checkout_p, hostile_p) =
        (provider("web-front"), provider("checkout"), provider(HOSTILE_SERVICE));
    let (front, checkout, hostile) = (
        front_p.tracer("services-fixture"),
        checkout_p.tracer("services-fixture"),
        hostile_p.tracer("services-fixture"),
    );
    let t0 = SystemTime::now() - Duration::from_secs(40);
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    for i in 0..6u64 {
        let failing = i >= 4;
        let start = i * 1_000;
        let root = front
            .span_builder("GET /checkout")
            .with_kind(SpanKind::Server)
            .with_start_time(at(start))
            .start(&front);
        let root_cx = Context::current_with_span(root);
        let mut call = front
            .span_builder("POST /pay")
            .with_kind(SpanKind::Client)
            .with_start_time(at(start + 5))
            .with_attributes([KeyValue::new("peer.service", "checkout")])
            .start_with_context(&front, &root_cx);
        if failing {
            call.set_status(Status::error("502"));
        }
        let call_cx = root_cx.with_span(call);
        let mut server = checkout
            .span_builder("POST /pay")
            .with_kind(SpanKind::Server)
            .with_start_time(at(start + 10))
            .with_attributes([KeyValue::new("cache.hit", !failing)])
            .start_with_context(&checkout, &call_cx);
        let server_end = if failing { 300 } else { 60 };
        if failing {
            server.set_status(Status::error("card declined"));
        }
        let server_cx = Context::current_with_span(server);
        let mut query = checkout
            .span_builder("SELECT orders")
            .with_kind(SpanKind::Client)
            .with_start_time(at(start + 20))
            .with_attributes([
                KeyValue::new("db.system", "postgresql"),
                KeyValue::new("db.namespace", "orders"),
            ])
            .start_with_context(&checkout, &server_cx);
        query.end_with_timestamp(at(start + 40));
        server_cx.span().end_with_timestamp(at(start + server_end));
        call_cx.span().end_with_timestamp(at(start + server_end + 5));
        root_cx.span().end_with_timestamp(at(start + server_end + 10));
    }
    let start = 7_000;
    let root = hostile
        .span_builder("tick")
        .with_kind(SpanKind::Server)
        .with_start_time(at(start))
        .start(&hostile);
    let root_cx = Context::current_with_span(root);
    let call = hostile
        .span_builder("POST /pay")
        .with_kind(SpanKind::Client)
        .with_start_time(at(start + 5))
        .start_with_context(&hostile, &root_cx);
    let call_cx = root_cx.with_span(call);
    let server = checkout
        .span_builder("POST /pay")
        .with_kind(SpanKind::Server)
        .with_start_time(at(start + 10))
        .start_with_context(&checkout, &call_cx);
    Context::current_with_span(server).span().end_with_timestamp(at(start + 50));
    call_cx.span().end_with_timestamp(at(start + 55));
    root_cx.span().end_with_timestamp(at(start + 60));
    for p in [front_p, checkout_p, hostile_p] {
        p.force_flush().expect("flush");
        p.shutdown().expect("shutdown");
    }
}
