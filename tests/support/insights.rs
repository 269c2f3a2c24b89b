//! The cache and retries pages against the API: `assert_pages_match_api` checks that a page's
//! HTML or DOM (SSR, Chromium, the desktop window) shows exactly the numbers `/api/v1/cache`
//! and `/api/v1/retries` gave, and `assert_text_not_markup` that hostile strings stayed text.
//! `send_fixture` sends cache and retry spans with hostile names through the official exporter.

use std::time::{Duration, SystemTime};

use kuchikiki::traits::*;
use kuchikiki::NodeRef;
use serde_json::Value;

/// A cache name and an operation name that would be markup if anyone pasted them as HTML.
pub const HOSTILE_CACHE: &str = "<img src=x onerror=alert(1)>";
pub const HOSTILE_OP: &str = "</svg><script>alert(2)</script>";

/// Checks both pages (HTML of `/cache` and `/retries`, any renderer) against both answers.
pub fn assert_pages_match_api(
    cache_html: &str,
    retries_html: &str,
    cache: &Value,
    retries: &Value,
) {
    assert_cache_page_matches(cache_html, cache);
    assert_retries_page_matches(retries_html, retries);
}

/// How many rows the cache page shows for `answer`: one per cache and layer (and service).
pub fn cache_rows(answer: &Value) -> usize {
    let caches = answer["caches"].as_array().expect("caches");
    let key = |c: &Value| (c["name"].to_string(), c["layer"].to_string(), c["service"].to_string());
    caches.iter().map(key).collect::<std::collections::BTreeSet<_>>().len()
}

/// Every cache and layer of `answer` is one table row (`data-cache="name|layer|service"`) with
/// each source's hits, misses and exact hit rate side by side (`data-source`), a dash in the
/// cells of a source that says nothing of it, and one legend entry of the chart (the spans'
/// line when both report); no other rows.
pub fn assert_cache_page_matches(html: &str, answer: &Value) {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let caches = answer["caches"].as_array().expect("caches");
    let key_of = |c: &Value| {
        format!("{}|{}|{}", str_of(&c["name"]), str_of(&c["layer"]), str_of(&c["service"]))
    };
    let mut groups: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for c in caches {
        groups.entry(key_of(c)).or_default().push(str_of(&c["source"]));
    }
    let rows = doc.select("tr[data-cache]").unwrap().count();
    assert_eq!(rows, groups.len(), "one row per cache and layer of {answer}");
    let legend = texts(&doc, "svg.hit-rate-chart text");
    for (key, sources) in &groups {
        let row = find_row(&doc, "data-cache", key);
        let both = sources.len() == 2;
        let shown =
            row.as_element().unwrap().attributes.borrow().get("data-sources").map(str::to_owned);
        let expected = if both { "spans metrics" } else { sources[0] };
        assert_eq!(shown.as_deref(), Some(expected), "{key}: the sources the row says");
        for source in ["spans", "metrics"].into_iter().filter(|s| !sources.contains(s)) {
            for name in ["hits", "misses", "hit_rate"] {
                let (text, _) = source_field(&row, name, source);
                assert_eq!(text, "–", "{key}: {source} say nothing of it, so its {name} is a dash");
            }
        }
        // One legend entry (name, then `layer · service (source)`) per row, naming the source
        // its line is drawn from: the spans when both report.
        let mut parts = key.splitn(3, '|');
        let (name, layer, service) =
            (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let drawn = if sources.contains(&"spans") { "spans" } else { "metrics" };
        let detail = match layer {
            "" => format!("{service} ({drawn})"),
            layer => format!("{layer} · {service} ({drawn})"),
        };
        let cut = |text: &str, n: usize| text.chars().take(n).collect::<String>();
        let entries = legend
            .windows(2)
            .filter(|w| w[0].starts_with(&cut(name, 20)) && w[1].starts_with(&cut(&detail, 20)))
            .count();
        if groups.len() <= 7 {
            assert_eq!(entries, 1, "{key}: one legend entry ({name:?}, {detail:?}) in {legend:?}");
        }
    }
    for c in caches {
        let key = key_of(c);
        let source = str_of(&c["source"]);
        let row = find_row(&doc, "data-cache", &key);
        assert_eq!(field(&row, "name").0, str_of(&c["name"]), "{key}");
        for name in ["hits", "misses"] {
            assert_eq!(
                source_field(&row, name, source).0,
                c[name].as_u64().expect(name).to_string(),
                "{key} {source} {name}"
            );
        }
        let (text, exact) = source_field(&row, "hit_rate", source);
        match c["hit_rate"].as_f64() {
            Some(rate) => {
                assert_eq!(exact.parse::<f64>().ok(), Some(rate), "{key} exact hit rate");
                assert_eq!(text, format!("{:.1}%", rate * 100.0), "{key} hit rate");
            }
            None => assert_eq!(text, "–", "{key} without lookups"),
        }
        // Hit vs miss latency: the spans' means, exact in `data-value`.
        if source == "spans" {
            for name in ["hit_mean_ns", "miss_mean_ns"] {
                let exact = c[name].as_u64().map(|n| n.to_string()).unwrap_or_default();
                assert_eq!(field(&row, name).1, exact, "{key} {name}");
            }
        }
        // The legend cuts long names with `…`; the start is always there, as text.
        let name = str_of(&c["name"]);
        let start: String = name.chars().take(30).collect();
        assert!(
            legend.iter().any(|t| t.starts_with(&start)),
            "{name:?} not in the legend {legend:?}"
        );
    }
}

/// Every operation of `answer` is one row (`data-op="service|name"`) with its counts, attempts
/// and delay percentiles; the histogram shown has the shown operation's call counts.
/// The page at its default (`all` unset) lists only the operations that retried, gave up, met
/// an open circuit or waited a backoff; the others are counted in the toggle that shows them.
pub fn assert_retries_page_matches(html: &str, answer: &Value) {
    assert_retries_page_lists(html, answer, false)
}

/// As `assert_retries_page_matches`, for the page with `all=1` (`all`) or without.
pub fn assert_retries_page_lists(html: &str, answer: &Value, all: bool) {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let every = answer["operations"].as_array().expect("operations");
    let retried = |op: &&Value| {
        ["retried_calls", "resends", "give_ups", "circuit_open", "delays"]
            .iter()
            .any(|k| op[*k].as_u64() > Some(0))
    };
    let ops: Vec<&Value> = every.iter().filter(|op| all || retried(op)).collect();
    let hidden = every.len() - every.iter().filter(retried).count();
    assert_eq!(doc.select("tr[data-op]").unwrap().count(), ops.len(), "one row per operation");
    match doc.select_first(".no-retry-toggle") {
        Ok(toggle) => {
            let attrs = toggle.attributes.borrow();
            assert_eq!(attrs.get("data-hidden"), Some(hidden.to_string().as_str()));
            assert_eq!(attrs.get("data-state"), Some(if all { "shown" } else { "hidden" }));
        }
        Err(()) => assert_eq!(hidden, 0, "{hidden} operations hidden without a toggle"),
    }
    if !every.is_empty() {
        // The chart over time stacks resends, give-ups and refusals: drawn when there are any.
        let chart = doc.select_first("svg.retry-steps-chart").expect("the retries-over-time chart");
        let any = ops.iter().any(|op| {
            op["series"].as_array().into_iter().flatten().any(|p| {
                ["resends", "give_ups", "circuit_open"].iter().any(|k| p[*k].as_u64() > Some(0))
            })
        });
        let empty = chart.attributes.borrow().get("data-empty") == Some("true");
        assert_eq!(empty, !any, "the chart is empty exactly when nothing retried");
        let labels = texts(&doc, "svg.retry-steps-chart text");
        for name in ["resends", "gave up", "circuit open"] {
            assert!(!any || labels.iter().any(|l| l == name), "{name} not in {labels:?}");
        }
    }
    if !ops.is_empty() {
        let legend =
            doc.select_first(".retry-legend").expect("the columns' legend").text_contents();
        assert!(legend.contains("Resends") && legend.contains("Delays"), "{legend}");
    }
    for op in &ops {
        let key = format!("{}|{}", str_of(&op["service"]), str_of(&op["name"]));
        let row = find_row(&doc, "data-op", &key);
        assert_eq!(field(&row, "name").0, str_of(&op["name"]), "{key}");
        for name in ["calls", "retried_calls", "resends", "give_ups", "circuit_open", "delays"] {
            assert_eq!(
                field(&row, name).0,
                op[name].as_u64().expect(name).to_string(),
                "{key} {name}"
            );
        }
        let attempts: Vec<String> = op["attempts"]
            .as_array()
            .expect("attempts")
            .iter()
            .filter(|a| a["calls"].as_u64() > Some(0))
            .map(|a| format!("{}×{}", a["attempts"], a["calls"]))
            .collect();
        let attempts = if attempts.is_empty() { "–".to_owned() } else { attempts.join(" · ") };
        assert_eq!(field(&row, "attempts").0, attempts, "{key} attempts");
        for name in ["delay_p50_ns", "delay_p95_ns", "delay_p99_ns"] {
            let expected = op[name].as_u64().map(|n| n.to_string()).unwrap_or_default();
            assert_eq!(field(&row, name).1, expected, "{key} {name}");
        }
    }
    if let Ok(panel) = doc.select_first(".attempts-panel") {
        let key = panel.attributes.borrow().get("data-op").unwrap_or_default().to_owned();
        let op = ops
            .iter()
            .find(|op| format!("{}|{}", str_of(&op["service"]), str_of(&op["name"])) == key)
            .unwrap_or_else(|| panic!("the histogram's operation {key:?} is not in the answer"));
        // Each example with its outcome and duration, as the answer has them.
        for e in op["example_calls"].as_array().into_iter().flatten() {
            let id = str_of(&e["trace_id"]);
            let li = doc
                .select("li.example-call")
                .unwrap()
                .find(|li| li.attributes.borrow().get("data-trace") == Some(id))
                .unwrap_or_else(|| panic!("example {id} not shown"));
            let li = li.as_node();
            let outcome = li.select_first("[data-outcome]").expect("an outcome");
            assert_eq!(outcome.attributes.borrow().get("data-outcome"), e["outcome"].as_str());
            let duration = li.select_first(".duration").expect("a duration");
            assert_eq!(
                duration.attributes.borrow().get("data-value").map(str::to_owned),
                e["duration_ns"].as_u64().map(|d| d.to_string())
            );
            assert!(li.select_first(".start-time").is_ok(), "example {id} has no time");
        }
        let labels = texts(&doc, ".attempts-panel svg.attempts-chart text");
        for a in op["attempts"].as_array().unwrap().iter().filter(|a| a["calls"].as_u64() > Some(0))
        {
            for number in [&a["attempts"], &a["calls"]] {
                assert!(
                    labels.contains(&number.to_string()),
                    "{number} not in the histogram {labels:?}"
                );
            }
        }
    } else {
        assert!(ops.is_empty(), "operations but no histogram");
    }
}

/// No element came out of `hostile` strings (no `img`, no script running them), and each is
/// there as text inside the app.
pub fn assert_text_not_markup(html: &str, hostile: &[&str]) {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let app = doc.select_first("#app").expect("the app's root");
    if let Some(img) = app.as_node().select("img").unwrap().next() {
        panic!("an img element was created: {:?}", img.attributes.borrow().map);
    }
    for script in doc.select("script").unwrap() {
        let text = script.text_contents();
        assert!(!text.contains("alert("), "a script element came from telemetry: {text:?}");
    }
    let text = app.text_contents();
    for h in hostile {
        assert!(text.contains(h), "{h:?} is not text in the page");
    }
}

fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn texts(doc: &NodeRef, css: &str) -> Vec<String> {
    doc.select(css).unwrap().map(|t| t.text_contents()).collect()
}

fn find_row(doc: &NodeRef, attr: &str, key: &str) -> NodeRef {
    doc.select(&format!("tr[{attr}]"))
        .unwrap()
        .find(|row| row.attributes.borrow().get(attr) == Some(key))
        .unwrap_or_else(|| panic!("no row with {attr}={key:?}"))
        .as_node()
        .clone()
}

/// A source's cell (`data-source`): its text and its `data-value`.
fn source_field(row: &NodeRef, name: &str, source: &str) -> (String, String) {
    let cell = row
        .select_first(&format!("td[data-field=\"{name}\"][data-source=\"{source}\"]"))
        .unwrap_or_else(|_| panic!("no {source} {name} cell"));
    let value = cell.attributes.borrow().get("data-value").unwrap_or_default().to_owned();
    (cell.text_contents().trim().to_owned(), value)
}

/// A cell's text and its `data-value` (empty when it has none).
fn field(row: &NodeRef, name: &str) -> (String, String) {
    let cell = row
        .select_first(&format!("td[data-field=\"{name}\"]"))
        .unwrap_or_else(|_| panic!("no {name} cell"));
    let value = cell.attributes.borrow().get("data-value").unwrap_or_default().to_owned();
    (cell.text_contents().trim().to_owned(), value)
}

/// A running server with the fixture sent (`send_fixture`), the range (`since=..&until=..`,
/// Unix ns) that pages and API calls share so they read the same rollups, and the API's
/// `/api/v1/cache` and `/api/v1/retries` answers for it.
pub async fn fixture_server() -> (super::Server, String, Value, Value) {
    let server = super::Server::start().await;
    let url = server.otlp_http_url.clone();
    let spans_url = url.clone();
    tokio::task::spawn_blocking(move || send_fixture(&spans_url)).await.unwrap();
    send_cache_counters(&url).await;
    let now = super::now_ns();
    let range = format!("since={}&until={}", now - 600_000_000_000, now + 60_000_000_000);
    let cache: Value = server.get_json(&format!("/api/v1/cache?{range}")).await;
    let retries: Value = server.get_json(&format!("/api/v1/retries?{range}")).await;
    (server, range, cache, retries)
}

/// Sends service `shop`'s cache counters through the official Rust metrics exporter (OTLP/HTTP
/// protobuf, cumulative): `cache.gets` of `catalog` l2 (8 hits, 2 misses), the cache its lookup
/// spans report too, so the page shows one row with both sources; and `redis.keyspace.hits`/
/// `misses` (5, 5) with no cache name, as the Collector's redis receiver sends them: a row
/// (`shop`, layer `redis`) from metrics only.
pub async fn send_cache_counters(otlp_http_url: &str) {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig};
    use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
    use opentelemetry_sdk::metrics::SdkMeterProvider;
    use opentelemetry_sdk::Resource;

    let exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{otlp_http_url}/v1/metrics"))
        .build()
        .expect("metric exporter");
    let reader = PeriodicReader::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
    let provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(Resource::builder().with_service_name("shop").build())
        .build();
    let meter = provider.meter("insights-fixture");
    let gets = meter.u64_counter("cache.gets").build();
    let catalog = |result: &'static str| {
        [
            KeyValue::new("cache.name", "catalog"),
            KeyValue::new("cache.layer", "l2"),
            KeyValue::new("result", result),
        ]
    };
    gets.add(8, &catalog("hit"));
    gets.add(2, &catalog("miss"));
    meter.u64_counter("redis.keyspace.hits").build().add(5, &[]);
    meter.u64_counter("redis.keyspace.misses").build().add(5, &[]);
    let flushing = provider.clone();
    tokio::task::spawn_blocking(move || flushing.force_flush().expect("flush metrics"))
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || provider.shutdown().expect("shutdown metrics"))
        .await
        .unwrap();
}

/// Sends, through the official Rust exporter (OTLP/HTTP protobuf, simple processor), service
/// `shop`'s cache lookups (`HOSTILE_CACHE` l1: 3 hits, 1 miss; `catalog` l2: 1 hit, 1 miss) and
/// retried calls of `HOSTILE_OP` (attempts 1, 2 and 3; outcomes success, success, exhausted;
/// `retry` events with 100 and 200 ms), all within the last minute. Blocking: call it from
/// `spawn_blocking`.
pub fn send_fixture(otlp_http_url: &str) {
    use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider};
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{otlp_http_url}/v1/traces"))
        .build()
        .expect("HTTP exporter");
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("shop").build())
        .build();
    let tracer = provider.tracer("insights-fixture");
    let t0 = SystemTime::now() - Duration::from_secs(30);
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let lookups = [
        (HOSTILE_CACHE, "l1", true),
        (HOSTILE_CACHE, "l1", true),
        (HOSTILE_CACHE, "l1", false),
        (HOSTILE_CACHE, "l1", true),
        ("catalog", "l2", true),
        ("catalog", "l2", false),
    ];
    for (i, (name, layer, hit)) in lookups.into_iter().enumerate() {
        let start = i as u64 * 10;
        let mut span = tracer
            .span_builder("cache get")
            .with_start_time(at(start))
            .with_attributes([
                KeyValue::new("cache.hit", hit),
                KeyValue::new("cache.name", name),
                KeyValue::new("cache.layer", layer),
            ])
            .start(&tracer);
        span.end_with_timestamp(at(start + 2));
    }
    for (i, (attempts, outcome)) in
        [(1, "success"), (2, "success"), (3, "exhausted")].into_iter().enumerate()
    {
        let start = 1_000 + i as u64 * 1_000;
        let call = tracer
            .span_builder(HOSTILE_OP)
            .with_start_time(at(start))
            .with_attributes([KeyValue::new("retry.outcome", outcome)])
            .start(&tracer);
        let cx = Context::current_with_span(call);
        let mut offset = 0;
        for attempt in 0..attempts {
            if attempt > 0 {
                let delay = 100 * attempt;
                cx.span().add_event_with_timestamp(
                    "retry",
                    at(start + offset),
                    vec![KeyValue::new("retry.delay_ms", delay as i64)],
                );
                offset += delay;
            }
            let mut try_span = tracer
                .span_builder("upstream GET")
                .with_start_time(at(start + offset))
                .with_attributes([KeyValue::new("retry.attempt", attempt as i64)])
                .start_with_context(&tracer, &cx);
            try_span.end_with_timestamp(at(start + offset + 20));
            offset += 20;
        }
        cx.span().end_with_timestamp(at(start + offset));
    }
    // An HTTP client that never retried (hidden from the page by default), and a call the open
    // circuit refused before any attempt (0 attempts).
    let mut plain = tracer
        .span_builder("GET /health")
        .with_kind(opentelemetry::trace::SpanKind::Client)
        .with_start_time(at(5_000))
        .with_attributes([KeyValue::new("http.request.method", "GET")])
        .start(&tracer);
    plain.end_with_timestamp(at(5_010));
    let mut refused = tracer
        .span_builder("pay")
        .with_start_time(at(6_000))
        .with_attributes([KeyValue::new("retry.outcome", "circuit_open")])
        .start(&tracer);
    refused.end_with_timestamp(at(6_001));
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
}
