//! `http.server.request.duration` with exemplars. The Rust SDK (0.33) records no exemplars,
//! so the demo keeps this one histogram itself: cumulative, the HTTP semantic conventions'
//! bounds, one series per method, route and status, and per bucket the latest request's
//! duration with its trace and span (the SDK's aligned-bucket reservoir). Every 5 s it exports
//! the points as OTLP/HTTP JSON to the same receiver as the SDKs, each with at most
//! `MAX_EXEMPLARS` exemplars (the slowest buckets' since the export before), so the metric page
//! shows dots that open the trace of a slow request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::SpanContext;
use serde_json::{json, Value};

/// The histogram's name.
pub(crate) const NAME: &str = "http.server.request.duration";
/// Exemplars sent with one point (otelscope keeps at most 4).
const MAX_EXEMPLARS: usize = 4;

/// One series' cumulative state.
#[derive(Clone, Debug)]
struct Series {
    counts: Vec<u64>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    /// Per bucket: the latest measurement since the last export, with its span.
    exemplars: Vec<Option<Sampled>>,
}

#[derive(Clone, Debug)]
struct Sampled {
    time_ns: u64,
    value: f64,
    trace_id: String,
    span_id: String,
}

/// The histogram: what `record` adds, `export` sends.
pub(crate) struct ServerDurations {
    bounds: Vec<f64>,
    start_ns: u64,
    service: &'static str,
    series: Mutex<BTreeMap<(String, String, i64), Series>>,
}

impl ServerDurations {
    pub(crate) fn new(bounds: &[f64], service: &'static str, start_ns: u64) -> ServerDurations {
        ServerDurations {
            bounds: bounds.to_vec(),
            start_ns,
            service,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds one request of `seconds`, served inside `span` (its exemplar when sampled).
    pub(crate) fn record(
        &self,
        seconds: f64,
        method: &str,
        route: &str,
        status: i64,
        span: &SpanContext,
        now_ns: u64,
    ) {
        if !seconds.is_finite() {
            return;
        }
        let bucket = self.bounds.partition_point(|b| *b < seconds);
        let mut all = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s =
            all.entry((method.to_owned(), route.to_owned(), status)).or_insert_with(|| Series {
                counts: vec![0; self.bounds.len() + 1],
                count: 0,
                sum: 0.0,
                min: seconds,
                max: seconds,
                exemplars: vec![None; self.bounds.len() + 1],
            });
        s.counts[bucket] += 1;
        s.count += 1;
        s.sum += seconds;
        s.min = s.min.min(seconds);
        s.max = s.max.max(seconds);
        if span.is_valid() && span.is_sampled() {
            s.exemplars[bucket] = Some(Sampled {
                time_ns: now_ns,
                value: seconds,
                trace_id: span.trace_id().to_string(),
                span_id: span.span_id().to_string(),
            });
        }
    }

    /// The OTLP/JSON export request of every series at `now_ns` (cumulative since the start),
    /// taking the exemplars recorded since the last call; `None` before the first request.
    pub(crate) fn export(&self, now_ns: u64) -> Option<Value> {
        let mut all = self.series.lock().unwrap_or_else(|p| p.into_inner());
        if all.is_empty() {
            return None;
        }
        let text =
            |key: &str, value: &str| json!({ "key": key, "value": { "stringValue": value } });
        let points: Vec<Value> = all
            .iter_mut()
            .map(|((method, route, status), s)| {
                let exemplars: Vec<Value> = s
                    .exemplars
                    .iter_mut()
                    .rev()
                    .filter_map(Option::take)
                    .take(MAX_EXEMPLARS)
                    .map(|e| {
                        json!({
                            "timeUnixNano": e.time_ns.to_string(),
                            "asDouble": e.value,
                            "traceId": e.trace_id,
                            "spanId": e.span_id,
                        })
                    })
                    .collect();
                // Older ones not sent are dropped: each export shows the interval's own.
                s.exemplars.iter_mut().for_each(|e| *e = None);
                json!({
                    "attributes": [
                        text("http.request.method", method),
                        text("http.route", route),
                        { "key": "http.response.status_code", "value": { "intValue": status.to_string() } },
                    ],
                    "startTimeUnixNano": self.start_ns.to_string(),
                    "timeUnixNano": now_ns.to_string(),
                    "count": s.count.to_string(),
                    "sum": s.sum,
                    "min": s.min,
                    "max": s.max,
                    "bucketCounts": s.counts.iter().map(u64::to_string).collect::<Vec<_>>(),
                    "explicitBounds": self.bounds,
                    "exemplars": exemplars,
                })
            })
            .collect();
        Some(json!({
            "resourceMetrics": [{
                "resource": { "attributes": [
                    text("service.name", self.service),
                    text("service.namespace", "otelscope-demo"),
                ] },
                "scopeMetrics": [{
                    "scope": { "name": "otelscope-demo" },
                    "metrics": [{
                        "name": NAME,
                        "unit": "s",
                        "description": "Duration of HTTP server requests.",
                        "histogram": { "aggregationTemporality": 2, "dataPoints": points },
                    }],
                }],
            }],
        }))
    }
}

/// Exports `durations` to `url` (OTLP/HTTP JSON, with the API key when there is one) every
/// `every`, until the task is aborted.
pub(crate) async fn export_every(
    durations: Arc<ServerDurations>,
    url: String,
    api_key: Option<String>,
    every: Duration,
) {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(body) = durations.export(crate::ingest::now_ns()) else { continue };
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .timeout(Duration::from_secs(10))
            .body(body.to_string());
        if let Some(key) = &api_key {
            request = request.header("x-otlp-api-key", key);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::debug!(status = %response.status(), "The demo's durations were refused.")
            }
            Err(error) => tracing::debug!(%error, "The demo's durations were not sent."),
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    fn span(n: u8, sampled: bool) -> SpanContext {
        let flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n; 8]),
            flags,
            false,
            TraceState::default(),
        )
    }

    #[test]
    fn points_are_cumulative_and_carry_the_slowest_buckets_latest_requests() {
        let h = ServerDurations::new(&[0.01, 0.1, 1.0], "svc", 5);
        assert!(h.export(6).is_none(), "nothing before the first request");
        for (n, seconds) in [(1, 0.005), (2, 0.05), (3, 0.07), (4, 0.5), (5, 3.0), (6, 0.008)] {
            h.record(seconds, "GET", "/p/{id}", 200, &span(n, n != 6), 100 + u64::from(n));
        }
        h.record(0.2, "GET", "/p/{id}", 500, &span(7, true), 107);
        let sent = h.export(1_000).unwrap();
        let metric = &sent["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0];
        assert_eq!(metric["name"], NAME);
        let points = metric["histogram"]["dataPoints"].as_array().unwrap();
        assert_eq!(points.len(), 2, "one series per status");
        let ok = &points[0];
        assert_eq!(ok["count"], "6");
        assert_eq!(ok["bucketCounts"], json!(["2", "2", "1", "1"]));
        assert_eq!((ok["min"].as_f64(), ok["max"].as_f64()), (Some(0.005), Some(3.0)));
        // The slowest buckets first, the latest of each; the unsampled span left out.
        let ex: Vec<(&str, f64)> = ok["exemplars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["traceId"].as_str().unwrap(), e["asDouble"].as_f64().unwrap()))
            .collect();
        let id = |n: u8| format!("{n:02x}").repeat(16);
        assert_eq!(
            ex,
            [
                (id(5).as_str(), 3.0),
                (id(4).as_str(), 0.5),
                (id(3).as_str(), 0.07),
                (id(1).as_str(), 0.005)
            ]
        );
        assert_eq!(ok["exemplars"][0]["spanId"], "05".repeat(8));
        assert_eq!(points[1]["attributes"][2]["value"]["intValue"], "500");
        // The next export: still cumulative, without the exemplars already sent.
        h.record(0.02, "GET", "/p/{id}", 200, &span(8, true), 2_000);
        let again = h.export(3_000).unwrap();
        let ok = &again["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["histogram"]
            ["dataPoints"][0];
        assert_eq!(ok["count"], "7");
        assert_eq!(ok["exemplars"].as_array().unwrap().len(), 1);
        assert_eq!(ok["startTimeUnixNano"], "5");
    }
}
