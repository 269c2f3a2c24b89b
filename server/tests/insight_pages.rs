//! `/ssr/cache` and `/ssr/retries` rendered by the server: the fixture's exact numbers in the
//! tables, the charts as SVG, and hostile cache and operation names as text in table cells and
//! in chart labels and legends.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{AttrValue, Span, SpanEvent};
use otelscope_server::store::WriteBatch;
use otelscope_server::{router, AppState};
use support::{kv, render_with, shop_span, state_with_batches};
use tower::ServiceExt;

mod support;

const HOSTILE_CACHE: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_OP: &str = "</svg><script>alert(2)</script>";
/// The fixture's range, pinned so the numbers cannot move.
const RANGE: &str = "since=0&until=59000000000";

async fn page(state: &AppState, uri: &str) -> String {
    let response = router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(!html.contains("<script") && !html.contains("<img"), "markup got in: {html}");
    // One spelling of the entities (dioxus-ssr writes `&#60;`).
    html.replace("&#60;", "&lt;").replace("&#62;", "&gt;").replace("&#34;", "&quot;")
}

fn escaped(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

/// The `<tr>` whose attribute `attr` is `key` (escaped as the HTML has it).
fn row<'a>(html: &'a str, attr: &str, key: &str) -> &'a str {
    let start = html
        .find(&format!("{attr}=\"{}\"", escaped(key)))
        .unwrap_or_else(|| panic!("no row {attr}={key:?} in {html}"));
    let end = start + html[start..].find("</tr>").expect("row end");
    &html[start..end]
}

fn cell(row: &str, field: &str, text: &str) {
    let needle = format!("data-field=\"{field}\"");
    let at = row.find(&needle).unwrap_or_else(|| panic!("no {field} in {row}"));
    let after = &row[at..];
    let value = &after[after.find('>').unwrap() + 1..after.find("</td>").unwrap()];
    assert_eq!(value, escaped(text), "{field} in {row}");
}

/// A state whose store got `spans` in one request.
fn state_with(spans: Vec<Span>) -> AppState {
    state_with_batches(vec![WriteBatch { received_ns: 1, spans, ..WriteBatch::default() }])
}

#[tokio::test]
async fn cache_page_shows_the_numbers_a_chart_and_hostile_names_as_text() {
    let lookup = |id, start_s, name: &str, hit| {
        shop_span(
            id,
            id,
            "get",
            start_s,
            vec![
                kv("cache.hit", AttrValue::Bool(hit)),
                kv("cache.name", AttrValue::String(name.into())),
                kv("cache.layer", AttrValue::String("l1".into())),
            ],
        )
    };
    let state = state_with(vec![
        lookup(1, 1, HOSTILE_CACHE, true),
        lookup(2, 2, HOSTILE_CACHE, false),
        lookup(3, 31, HOSTILE_CACHE, true),
        lookup(4, 5, HOSTILE_OP, true),
    ]);
    let html = page(&state, &format!("/ssr/cache?{RANGE}")).await;
    let hostile = row(&html, "data-cache", &format!("{HOSTILE_CACHE}|l1|shop"));
    cell(hostile, "name", HOSTILE_CACHE);
    cell(hostile, "hits", "2");
    cell(hostile, "misses", "1");
    cell(hostile, "hit_rate", "66.7%");
    assert!(hostile.contains(r#"data-value="0.6666666666666666""#), "{hostile}");
    assert!(hostile.contains("cache.hit%3Dfalse"), "a search for its misses: {hostile}");
    let other = row(&html, "data-cache", &format!("{HOSTILE_OP}|l1|shop"));
    cell(other, "hits", "1");
    cell(other, "hit_rate", "100.0%");
    // The chart: an SVG whose legend names both caches as text, with percent ticks.
    let chart = &html[html.find("<svg class=\"plot hit-rate-chart\"").expect("chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    for label in [
        format!(">{}</text>", escaped(HOSTILE_CACHE)),
        format!(">{}</text>", escaped(HOSTILE_OP)),
        ">l1 · shop (spans)</text>".to_owned(),
        ">100%</text>".to_owned(),
        ">00:00:30</text>".to_owned(),
    ] {
        assert!(chart.contains(&label), "{label} missing from {chart}");
    }
    assert!(chart.contains("<polyline"), "a line for the cache with two points");
}

#[tokio::test]
async fn retries_page_shows_the_numbers_a_histogram_examples_and_hostile_names_as_text() {
    let retry = |delay_ms: i64| SpanEvent {
        time_ns: 0,
        name: "retry".into(),
        attributes: vec![kv("retry.delay_ms", AttrValue::Int(delay_ms))],
    };
    let call = |trace, start_s, outcome: &str, attempt: i64, delays: &[i64]| {
        let mut s = shop_span(
            trace,
            1,
            HOSTILE_OP,
            start_s,
            vec![
                kv("retry.outcome", AttrValue::String(outcome.into())),
                kv("retry.attempt", AttrValue::Int(attempt)),
            ],
        );
        s.events = delays.iter().map(|&d| retry(d)).collect();
        s
    };
    let state = state_with(vec![
        call(1, 1, "success", 0, &[]),
        call(2, 2, "success", 2, &[100, 200]),
        call(3, 3, "exhausted", 4, &[100, 200, 400, 800]),
        call(4, 4, "circuit_open", 0, &[]),
    ]);
    let html = page(&state, &format!("/ssr/retries?{RANGE}")).await;
    let op = row(&html, "data-op", &format!("shop|{HOSTILE_OP}"));
    for (field, text) in [
        ("service", "shop"),
        ("calls", "4"),
        ("retried_calls", "2"),
        ("resends", "6"),
        ("give_ups", "1"),
        ("circuit_open", "1"),
        // The circuit-open call made no attempt.
        ("attempts", "0×1 · 1×1 · 3×1 · 5×1"),
        ("delays", "6"),
    ] {
        cell(op, field, text);
    }
    assert!(op.contains(&format!(">{}</button>", escaped(HOSTILE_OP))), "{op}");
    assert!(op.contains(r#"data-field="delay_p50_ns" data-value=""#), "{op}");
    // The histogram of the operation: a bar count per attempt number, its name as text above.
    let panel = &html[html.find("class=\"attempts-panel\"").expect("histogram panel")..];
    assert!(panel.contains(&format!("<span class=\"op\">{}</span>", escaped(HOSTILE_OP))));
    let chart = &panel[panel.find("<svg").unwrap()..panel.find("</svg>").unwrap()];
    for label in [">attempts</text>", ">calls</text>", ">5</text>", ">2</text>"] {
        assert!(chart.contains(label), "{label} missing from {chart}");
    }
    // Example traces per kind link to the traces.
    for (kind, trace) in [("retried", 3), ("gave_up", 3), ("circuit_open", 4)] {
        let dd = &panel[panel.find(&format!("data-kind=\"{kind}\"")).expect(kind)..];
        let dd = &dd[..dd.find("</dd>").unwrap()];
        assert!(dd.contains(&format!("href=\"/traces/{trace:032x}\"")), "{kind}: {dd}");
    }
}

#[tokio::test]
async fn empty_pages_say_what_fills_them() {
    let state = state_with(Vec::new());
    let cache = page(&state, &format!("/ssr/cache?{RANGE}")).await;
    assert!(cache.contains("No cache lookups in this range."), "{cache}");
    assert!(cache.contains("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let retries = page(&state, &format!("/ssr/retries?{RANGE}")).await;
    assert!(retries.contains("No retried operations in this range."), "{retries}");
}

/// Issue 26 point 6: a service whose Redis (or Memcached) client spans have no `cache.hit` is
/// named, with the one line per SDK that fills the page, and the Collector's redis receiver
/// for Redis only.
#[tokio::test]
async fn an_empty_cache_page_names_the_service_whose_cache_client_spans_lack_cache_hit() {
    let client = |system_key: &str, system: &str| {
        let mut span =
            shop_span(7, 7, "GET", 3, vec![kv(system_key, AttrValue::String(system.into()))]);
        span.kind = otelscope_app::model::SpanKind::Client;
        span
    };
    let redis =
        page(&state_with(vec![client("db.system", "redis")]), &format!("/ssr/cache?{RANGE}")).await;
    let note = &redis[redis.find("cache-spans-seen").expect("the note on Redis spans")..];
    let note = &note[..note.find("</div>").unwrap()];
    assert!(note.contains(r#"data-system="Redis""#), "{note}");
    assert!(note.contains("<strong>shop</strong>"), "the service is named: {note}");
    for (sdk, line) in [
        ("Python", "trace.get_current_span().set_attribute(&quot;cache.hit&quot;, hit)"),
        ("Node", "trace.getActiveSpan()?.setAttribute("),
        ("Rust", "span.set_attribute(KeyValue::new(&quot;cache.hit&quot;, hit))"),
    ] {
        assert!(note.contains(&format!("<dt>{sdk}</dt>")) && note.contains(line), "{sdk}: {note}");
    }
    assert!(note.contains("redis.keyspace.hits"), "the Collector's redis receiver: {note}");
    assert!(redis.contains("No cache lookups in this range."), "{redis}");
    assert!(!redis.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "it already sends here: {redis}");

    let memcached = client("db.system.name", "memcached");
    let html = page(&state_with(vec![memcached]), &format!("/ssr/cache?{RANGE}")).await;
    assert!(html.contains(r#"data-system="Memcached""#), "{html}");
    assert!(!html.contains("redis.keyspace.hits"), "no redis receiver for Memcached: {html}");
    // Outside the page's range, the spans are not claimed.
    let later = page(
        &state_with(vec![client("db.system", "redis")]),
        "/ssr/cache?since=4000000000&until=59000000000",
    )
    .await;
    assert!(!later.contains("cache-spans-seen"), "{later}");
}

#[test]
fn cache_rows_link_their_miss_examples_and_the_page_names_an_in_process_l2() {
    use serde_json::json;
    let cache = json!({"since_ns": 0, "until_ns": 60_000_000_000u64, "step_ns": 10_000_000_000u64,
        "caches": [{"name": "catalog", "layer": "l2", "service": "shop", "source": "spans",
                    "hits": 5, "misses": 2, "hit_rate": 5.0 / 7.0, "series": [],
                    "miss_examples": ["aa".repeat(16), "bb".repeat(16)]}]});
    let health = json!({"status": "ok", "version": "1", "writer": "ok",
        "demo": {"l2": "in-process", "l2_detail": "L2 is a second in-process cache: redis-server is not installed."}});
    let (cache, health) = (cache.to_string(), health.to_string());
    let answers = [
        ("/api/v1/cache?since=1h", &*cache),
        ("/api/v1/health", &*health),
        ("/api/v1/services", r#"{"services":[]}"#),
    ];
    // Compared as the browser reads the text (`render_ssr` writes `<` and `>` as numbers).
    let html = render_with("/cache", &answers).replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    let row = row(&html, "data-cache", "catalog|l2|shop");
    for id in ["aa".repeat(16), "bb".repeat(16)] {
        assert!(row.contains(&format!("href=\"/traces/{id}\"")), "{row}");
    }
    // "find misses" keeps the row's layer and the page's range (issue 26 point 6).
    assert!(
        row.contains(
            r#"href="/traces?service=shop&#38;attr=cache.hit%3Dfalse&#38;attr=cache.layer%3Dl2&#38;since=1h""#
        ),
        "{row}"
    );
    cell(row, "hit_rate", "71.4%");
    assert!(html.contains("data-l2=\"in-process\""), "{html}");
    assert!(html.contains("redis-server is not installed."), "{html}");
    // The chart says there is nothing to plot (the answer has no points).
    assert!(html.contains("No cache lookups in this range."), "{html}");
}

/// Issue 26 point 6: a cache that both lookup spans and counters report is one row, the two
/// sources side by side, with the spans' hit vs miss latency; the chart draws it once.
#[test]
fn a_cache_with_spans_and_metrics_is_one_row_with_both_and_its_latencies() {
    use serde_json::json;
    let entry = |source: &str, hits: u64, misses: u64| {
        json!({"name": "catalog", "layer": "l2", "service": "shop", "source": source,
               "hits": hits, "misses": misses, "hit_rate": hits as f64 / (hits + misses) as f64,
               "series": [{"time_ns": 1_700_000_000_000_000_000u64, "hits": hits, "misses": misses,
                           "hit_rate": hits as f64 / (hits + misses) as f64}]})
    };
    let mut spans = entry("spans", 3, 1);
    spans["hit_mean_ns"] = json!(250_000);
    spans["miss_mean_ns"] = json!(4_200_000);
    let cache = json!({"since_ns": 1_700_000_000_000_000_000u64, "until_ns": 1_700_000_060_000_000_000u64,
        "step_ns": 10_000_000_000u64, "caches": [entry("metrics", 8, 2), spans]});
    let health = json!({"status": "ok", "version": "1", "writer": "ok"});
    let (cache, health) = (cache.to_string(), health.to_string());
    let answers = [
        ("/api/v1/cache?since=1h", &*cache),
        ("/api/v1/health", &*health),
        ("/api/v1/services", r#"{"services":[]}"#),
    ];
    let html = render_with("/cache", &answers);
    assert_eq!(html.matches("data-cache=").count(), 1, "one row: {html}");
    let row = row(&html, "data-cache", "catalog|l2|shop");
    assert!(row.contains(r#"data-sources="spans metrics""#), "{row}");
    let source_cell = |field: &str, source: &str| {
        let needle = format!(r#"data-field="{field}" data-source="{source}""#);
        let at = row.find(&needle).unwrap_or_else(|| panic!("no {needle} in {row}"));
        let after = &row[at..];
        after[after.find('>').unwrap() + 1..after.find("</td>").unwrap()].to_owned()
    };
    assert_eq!(source_cell("hits", "spans"), "3");
    assert_eq!(source_cell("misses", "spans"), "1");
    assert_eq!(source_cell("hit_rate", "spans"), "75.0%");
    assert_eq!(source_cell("hits", "metrics"), "8");
    assert_eq!(source_cell("hit_rate", "metrics"), "80.0%");
    cell(row, "hit_mean_ns", "250 µs");
    cell(row, "miss_mean_ns", "4.20 ms");
    // The chart has one line and one legend entry for it, from the spans.
    let chart = &html[html.find("<svg class=\"plot hit-rate-chart\"").expect("chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches(">catalog</text>").count(), 1, "{chart}");
    assert!(chart.contains(">l2 · shop (spans)</text>"), "{chart}");
}
