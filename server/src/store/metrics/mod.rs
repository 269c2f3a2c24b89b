//! Metric series as the store keeps them: what identifies a series (`SeriesKey`, hashed into the
//! `metric_series` table), the samples read back (`Sample`, lean: no strings per point), the
//! requests of the metric `Store` methods, and the block codec (`codec/`). The layout is in
//! `schema.rs`'s doc; the semantics (rates, percentiles, …) in `query::metrics`.

pub(super) mod codec;
pub(super) mod thin;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use otelscope_app::model::{
    Exemplar, HistogramValue, KeyValue, MetricKind, MetricPoint, Scope, Temporality,
};

/// The most series one `metric_rows` call reads (after its filters); past it `truncated`.
pub const MAX_SERIES_READ: usize = 5_000;
/// The most samples one `metric_rows` call holds (about 100 bytes each, more for histograms).
pub const MAX_SAMPLES_READ: usize = 300_000;

/// What identifies a series: metric name, unit, type, temporality (and monotonicity),
/// resource, scope and point attributes. Two points with equal keys are one series.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesMeta {
    /// The store's id of the series (stable while the series is kept).
    pub id: i64,
    pub name: String,
    pub kind: MetricKind,
    pub unit: String,
    pub temporality: Temporality,
    pub monotonic: bool,
    pub description: String,
    pub service: String,
    pub resource: Vec<KeyValue>,
    pub scope: Option<Scope>,
    pub attributes: Vec<KeyValue>,
}

impl SeriesMeta {
    /// The series `point` belongs to (id 0: not yet stored).
    pub fn of(point: &MetricPoint) -> SeriesMeta {
        SeriesMeta {
            id: 0,
            name: point.name.clone(),
            kind: point.kind,
            unit: point.unit.clone(),
            temporality: point.temporality,
            monotonic: point.monotonic,
            description: point.description.clone(),
            service: point.service.clone(),
            resource: point.resource.clone(),
            scope: point.scope.clone(),
            attributes: point.attributes.clone(),
        }
    }

    /// A 64-bit hash of the identity (FNV-1a over a canonical text: stable across builds, as
    /// it is stored). The description is not part of the identity.
    pub fn identity_hash(&self) -> i64 {
        let mut h = Fnv::default();
        h.stream(
            &self.name,
            &self.unit,
            self.kind,
            self.temporality,
            self.monotonic,
            &self.service,
            &self.resource,
            &self.scope,
        );
        h.json(&self.attributes);
        h.0 as i64
    }

    /// The value of attribute `key` as text: point attributes first, then the resource
    /// (`service.name` is the service).
    pub fn label(&self, key: &str) -> Option<String> {
        if key == "service" || key == "service.name" {
            return Some(self.service.clone());
        }
        self.attributes
            .iter()
            .chain(&self.resource)
            .find(|kv| kv.key == key)
            .map(|kv| otelscope_app::model::value_text(&kv.value))
    }
}

/// `SeriesMeta::identity_hash` of points, fast for a batch's points in their order: the hash
/// of what points of one metric stream share (name … scope) is kept and reused while the next
/// point has the same, so a point costs the hash of its own attributes (no allocation).
#[derive(Default)]
pub struct PointHasher<'a> {
    last: Option<(&'a MetricPoint, Fnv)>,
}

impl<'a> PointHasher<'a> {
    pub fn hash(&mut self, p: &'a MetricPoint) -> i64 {
        let same = self.last.as_ref().is_some_and(|(q, _)| {
            q.name == p.name
                && q.unit == p.unit
                && q.kind == p.kind
                && q.temporality == p.temporality
                && q.monotonic == p.monotonic
                && q.service == p.service
                && q.resource == p.resource
                && q.scope == p.scope
        });
        let mut h = match (&self.last, same) {
            (Some((_, state)), true) => *state,
            _ => {
                let mut h = Fnv::default();
                h.stream(
                    &p.name,
                    &p.unit,
                    p.kind,
                    p.temporality,
                    p.monotonic,
                    &p.service,
                    &p.resource,
                    &p.scope,
                );
                h
            }
        };
        self.last = Some((p, h));
        h.json(&p.attributes);
        h.0 as i64
    }
}

/// The identity hash of each of `points`, in order (`PointHasher` over a batch), so the
/// receiver works them out instead of the writer thread.
pub fn hashes(points: &[MetricPoint]) -> Vec<i64> {
    let mut hasher = PointHasher::default();
    points.iter().map(|p| hasher.hash(p)).collect()
}

#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn text(&mut self, s: &str) {
        for b in s.as_bytes() {
            self.byte(*b);
        }
        // A separator no UTF-8 text contains, so ("ab", "c") and ("a", "bc") differ.
        self.byte(0xff);
    }
    /// The JSON text of `value` (serialized straight into the hash), then the separator.
    fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // Model types always serialize; writing into the hash cannot fail.
        let _ = serde_json::to_writer(&mut *self, value);
        self.byte(0xff);
    }
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &mut self,
        name: &str,
        unit: &str,
        kind: MetricKind,
        temporality: Temporality,
        monotonic: bool,
        service: &str,
        resource: &[KeyValue],
        scope: &Option<Scope>,
    ) {
        self.text(name);
        self.text(unit);
        self.text(kind_text(kind));
        self.text(temporality_text(temporality));
        self.byte(monotonic as u8);
        self.text(service);
        self.json(resource);
        self.json(scope);
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for b in buf {
            self.byte(*b);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn kind_text(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Gauge => "gauge",
        MetricKind::Sum => "sum",
        MetricKind::Histogram => "histogram",
        MetricKind::ExponentialHistogram => "exponential_histogram",
        MetricKind::Summary => "summary",
    }
}

pub fn parse_kind(text: &str) -> Option<MetricKind> {
    [
        MetricKind::Gauge,
        MetricKind::Sum,
        MetricKind::Histogram,
        MetricKind::ExponentialHistogram,
        MetricKind::Summary,
    ]
    .into_iter()
    .find(|k| kind_text(*k) == text)
}

pub fn temporality_text(t: Temporality) -> &'static str {
    match t {
        Temporality::Unspecified => "unspecified",
        Temporality::Delta => "delta",
        Temporality::Cumulative => "cumulative",
    }
}

pub fn parse_temporality(text: &str) -> Temporality {
    match text {
        "delta" => Temporality::Delta,
        "cumulative" => Temporality::Cumulative,
        _ => Temporality::Unspecified,
    }
}

/// One point of a series as read back: times, the number (gauges, sums; a summary's sum; a
/// histogram's count), and for distributions and exemplars the rest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub start_ns: u64,
    pub time_ns: u64,
    pub value: f64,
    pub histogram: Option<Box<HistogramValue>>,
    pub exemplars: Vec<Exemplar>,
}

impl Sample {
    /// The number a point keeps: its value, else its histogram's count.
    pub fn value_of(point: &MetricPoint) -> f64 {
        match (&point.histogram, point.value) {
            (_, Some(v)) => v,
            (Some(h), None) => h.count as f64,
            (None, None) => f64::NAN,
        }
    }

    pub fn of(point: &MetricPoint) -> Sample {
        Sample {
            start_ns: point.start_ns,
            time_ns: point.time_ns,
            value: Sample::value_of(point),
            histogram: point.histogram.clone().map(Box::new),
            exemplars: point.exemplars.clone(),
        }
    }
}

/// `Store::metric_catalog`: metrics whose name contains `q` (case-insensitive), of `service`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricCatalogQuery {
    pub q: Option<String>,
    pub service: Option<String>,
    /// Also otelscope's own services' metrics.
    pub include_self: bool,
    pub limit: usize,
}

/// `Store::metric_rows`: the series of one metric (`name`, and `kind`/`unit` when the name has
/// several identities) with their samples in `[since_ns, until_ns)` (`until` exclusive, as on every route).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricRowsQuery {
    pub name: String,
    pub kind: Option<MetricKind>,
    pub unit: Option<String>,
    pub service: Option<String>,
    /// `KEY=VALUE` pairs a series must carry (point attributes or resource; compared as text).
    pub attrs: Vec<(String, String)>,
    pub since_ns: u64,
    pub until_ns: u64,
    /// At most this many series (≤ `MAX_SERIES_READ`) and samples (≤ `MAX_SAMPLES_READ`).
    pub max_series: usize,
    pub max_samples: usize,
    /// `(since_ns, step_ns)` of the chart the samples are read for: of a cumulative
    /// explicit-bucket histogram series, a store may then give histograms only to the points
    /// that chart needs (`codec::Thin`; the others' `histogram` is `None`). A read for the raw
    /// points leaves it unset.
    pub chart_steps: Option<(u64, u64)>,
}

/// What `metric_rows` read: each series with its samples in time order.
#[derive(Clone, Debug, Default)]
pub struct MetricRows {
    pub series: Vec<(SeriesMeta, Vec<Sample>)>,
    /// Series or samples were left out by the bounds (the newest samples are kept).
    pub truncated: bool,
    /// Other identities (kind/unit) stored under the same name, not read.
    pub other_identities: Vec<(MetricKind, String)>,
}

/// Points a store refused while writing one batch (a series that changed its type or unit):
/// the receiver keeps a handle and reports them in `partial_success` once the batch is durable.
#[derive(Debug, Default)]
pub struct Refusals {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Refusals {
    pub fn refuse(&self, why: impl FnOnce() -> String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(why());
        }
    }

    /// How many were refused and why the first was.
    pub fn take(&self) -> (u64, Option<String>) {
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        (self.count.swap(0, Ordering::Relaxed), first)
    }
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::AttrValue;

    use super::*;

    /// The hash as v12 first computed it (JSON texts made, then hashed): stored hashes must
    /// stay what they were, or a series of an older store would be split in two.
    fn hash_as_first_made(m: &SeriesMeta) -> i64 {
        let mut h = Fnv::default();
        h.text(&m.name);
        h.text(&m.unit);
        h.text(kind_text(m.kind));
        h.text(temporality_text(m.temporality));
        h.byte(m.monotonic as u8);
        h.text(&m.service);
        h.text(&serde_json::to_string(&m.resource).unwrap());
        h.text(&serde_json::to_string(&m.scope).unwrap());
        h.text(&serde_json::to_string(&m.attributes).unwrap());
        h.0 as i64
    }

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue { key: key.into(), value: AttrValue::String(value.into()) }
    }

    #[test]
    fn identity_hashes_are_those_stored_before_and_the_batch_hasher_agrees() {
        let mut points = Vec::new();
        for (i, name) in ["a.b", "a.b", "c\"d", "c\"d"].into_iter().enumerate() {
            points.push(MetricPoint {
                name: name.into(),
                unit: "ms".into(),
                kind: MetricKind::Histogram,
                temporality: Temporality::Cumulative,
                service: "api".into(),
                resource: vec![kv("service.name", "api"), kv("host", "h\u{e9}")],
                scope: (i > 1).then(|| Scope { name: "s".into(), ..Scope::default() }),
                attributes: vec![kv("route", &format!("/r{i}"))],
                ..MetricPoint::default()
            });
        }
        let mut hasher = PointHasher::default();
        let mut seen = std::collections::HashSet::new();
        for p in &points {
            let meta = SeriesMeta::of(p);
            assert_eq!(meta.identity_hash(), hash_as_first_made(&meta));
            assert_eq!(hasher.hash(p), meta.identity_hash());
            seen.insert(hasher.hash(p));
        }
        assert_eq!(seen.len(), 4);
    }
}
