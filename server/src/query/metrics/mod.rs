//! `GET /api/v1/metrics/{name}/series`: a metric's stored series (`store::MetricRows`) into
//! one line per group and step, per the OTLP metrics data model:
//! - monotonic sums → `rate` per second: each point's increase (`series::increases`: resets
//!   start a new run, a run's first point is not a rate; delta points over their own interval)
//!   summed over the step and divided by the time those increases cover; a group's rate is
//!   the sum of its series' rates;
//! - gauges and non-monotonic sums → `value` (the sum over the group's series of each one's
//!   last value in the step; delta non-monotonic sums: the sum of the step's values), `avg`,
//!   `min`, `max` over the step's points;
//! - histograms and exponential histograms → `p50` `p90` `p95` `p99` (`dist`: linear
//!   interpolation inside the bucket, exponential buckets merged at the lowest scale),
//!   `count` (observations per second), `sum` (of observations in the step), `avg`
//!   (sum / count), and a heatmap of the whole metric per step;
//! - summaries → `quantiles` (one line per quantile sent: the last value of the step, averaged
//!   over the group's series, since quantiles cannot be merged), `count`, `sum`, `avg`.
//!
//! Bounds of one request: at most `MAX_STEPS` steps (the step grows to fit), `MAX_GROUPS`
//! lines plus "others", the store's `MAX_SERIES_READ` series and `MAX_SAMPLES_READ` samples,
//! one exemplar per step, `MAX_HEATMAP_BUCKETS` heatmap rows.

pub mod dist;
pub mod params;
pub mod series;

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{
    AttrValue, Exemplar, Heatmap, KeyValue, MetricAgg, MetricGroup, MetricInfo, MetricKind,
    MetricSeriesAnswer, Temporality,
};

use self::dist::Dist;
use self::series::{dist_increases_per_step, increases};
use crate::store::{MetricRows, Sample, SeriesMeta};

/// The most steps of an answer.
pub const MAX_STEPS: u64 = 1_000;
/// The most lines (groups) of an answer, besides "others".
pub const MAX_GROUPS: usize = 50;
/// Lines unless `limit` says otherwise.
pub const DEFAULT_GROUPS: usize = 10;
/// The most heatmap rows (exponential buckets are downscaled until they fit).
pub const MAX_HEATMAP_BUCKETS: usize = 48;

/// What the series answer is asked for (parsed by `params::parse_series`).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRequest {
    pub name: String,
    pub service: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub group_by: Vec<String>,
    pub since_ns: u64,
    pub until_ns: u64,
    pub step_ns: u64,
    pub agg: Option<MetricAgg>,
    pub limit: usize,
    /// Also otelscope's own services' series (`include_self=1`, or `service=` naming one).
    pub include_self: bool,
}

/// Why an aggregation cannot be drawn for a metric's type.
#[derive(Debug, PartialEq)]
pub struct WrongAgg(pub String);

/// The aggregation a chart of `kind` shows unless asked.
pub fn default_agg(kind: MetricKind, monotonic: bool) -> MetricAgg {
    match kind {
        MetricKind::Sum if monotonic => MetricAgg::Rate,
        MetricKind::Sum | MetricKind::Gauge => MetricAgg::Value,
        MetricKind::Histogram | MetricKind::ExponentialHistogram => MetricAgg::P95,
        MetricKind::Summary => MetricAgg::Quantiles,
    }
}

/// The aggregations that mean something for `kind`.
pub fn aggs_for(kind: MetricKind, monotonic: bool) -> &'static [MetricAgg] {
    use MetricAgg::*;
    match kind {
        MetricKind::Sum if monotonic => &[Rate, Value],
        MetricKind::Sum | MetricKind::Gauge => &[Value, Avg, Min, Max],
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            &[P50, P90, P95, P99, Count, Sum, Avg]
        }
        MetricKind::Summary => &[Quantiles, Count, Sum, Avg],
    }
}

/// One step of one series or group, before the aggregation is picked.
#[derive(Clone, Debug, Default)]
struct Acc {
    /// Increase per second (sums), observations per second (distributions).
    rate: Option<f64>,
    /// Sum over series of each one's last value (or of a delta series' values).
    value: Option<f64>,
    total: f64,
    n: u64,
    min: Option<f64>,
    max: Option<f64>,
    /// Distributions: sum and count of observations in the step.
    obs_sum: f64,
    obs_count: f64,
    dist: Dist,
    /// Summaries: quantile (bits) → (sum of series' last values, series).
    quantiles: BTreeMap<u64, (f64, u32)>,
    /// Explicit bounds that did not match the group's (left out).
    mismatched: bool,
}

fn add_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, None) => x,
        (None, y) => y,
    }
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.rate = add_opt(self.rate, o.rate);
        self.value = add_opt(self.value, o.value);
        self.total += o.total;
        self.n += o.n;
        self.min = match (self.min, o.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, o.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.obs_sum += o.obs_sum;
        self.obs_count += o.obs_count;
        if !self.dist.merge(&o.dist) {
            self.mismatched = true;
        }
        self.mismatched |= o.mismatched;
        for (q, (sum, n)) in &o.quantiles {
            let e = self.quantiles.entry(*q).or_insert((0.0, 0));
            e.0 += sum;
            e.1 += n;
        }
    }

    fn pick(&self, agg: MetricAgg) -> Option<f64> {
        let v = match agg {
            MetricAgg::Rate => self.rate,
            MetricAgg::Value => self.value,
            MetricAgg::Avg if self.obs_count > 0.0 => Some(self.obs_sum / self.obs_count),
            MetricAgg::Avg => (self.n > 0).then(|| self.total / self.n as f64),
            MetricAgg::Min => self.min,
            MetricAgg::Max => self.max,
            MetricAgg::P50 => self.dist.quantile(0.5),
            MetricAgg::P90 => self.dist.quantile(0.9),
            MetricAgg::P95 => self.dist.quantile(0.95),
            MetricAgg::P99 => self.dist.quantile(0.99),
            MetricAgg::Count => self.rate,
            MetricAgg::Sum => (self.obs_count > 0.0 || self.n > 0).then_some(self.obs_sum),
            MetricAgg::Quantiles => None,
        };
        v.filter(|v| v.is_finite())
    }
}

/// The steps of a range: `step_of(t)` for `t` in it.
struct Steps {
    since: u64,
    step: u64,
    count: usize,
}

impl Steps {
    fn of(t: u64, s: &Steps) -> Option<usize> {
        (t >= s.since).then(|| ((t - s.since) / s.step) as usize).filter(|i| *i < s.count)
    }
}

/// Each step's accumulator for one series.
fn series_steps(meta: &SeriesMeta, samples: &[Sample], steps: &Steps) -> Vec<Acc> {
    let mut accs = vec![Acc::default(); steps.count];
    let monotonic_sum = meta.kind == MetricKind::Sum && meta.monotonic;
    match meta.kind {
        MetricKind::Gauge | MetricKind::Sum => {
            let delta_values = meta.kind == MetricKind::Sum
                && !meta.monotonic
                && meta.temporality == Temporality::Delta;
            for s in samples.iter().filter(|s| s.value.is_finite()) {
                let Some(i) = Steps::of(s.time_ns, steps) else { continue };
                let a = &mut accs[i];
                a.value =
                    if delta_values { add_opt(a.value, Some(s.value)) } else { Some(s.value) };
                a.total += s.value;
                a.n += 1;
                a.min = Some(a.min.map_or(s.value, |m| m.min(s.value)));
                a.max = Some(a.max.map_or(s.value, |m| m.max(s.value)));
            }
            if monotonic_sum {
                rate_into(
                    &mut accs,
                    steps,
                    &increases(samples, meta.temporality, |s| Some(s.value)),
                    |a, r| a.rate = Some(r),
                );
            }
        }
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            let mut covered = vec![0u64; steps.count];
            let per_step =
                dist_increases_per_step(samples, meta.temporality, |t| Steps::of(t, steps));
            for (from, to, d, sum) in per_step {
                let Some(i) = Steps::of(to, steps) else { continue };
                let a = &mut accs[i];
                let count = d.count() as f64;
                a.obs_count += count;
                a.obs_sum += sum;
                if !a.dist.merge(&d) {
                    a.mismatched = true;
                }
                a.total += count;
                covered[i] += to.saturating_sub(from);
            }
            for (a, c) in accs.iter_mut().zip(covered) {
                if c > 0 {
                    a.rate = Some(a.obs_count / (c as f64 / 1e9));
                }
            }
        }
        MetricKind::Summary => {
            let count = increases(samples, meta.temporality, |s| {
                s.histogram.as_ref().map(|h| h.count as f64)
            });
            rate_into(&mut accs, steps, &count, |a, r| a.rate = Some(r));
            for inc in &count {
                if let Some(i) = Steps::of(inc.to_ns, steps) {
                    accs[i].obs_count += inc.value;
                }
            }
            for inc in increases(samples, meta.temporality, |s| s.histogram.as_ref()?.sum) {
                if let Some(i) = Steps::of(inc.to_ns, steps) {
                    accs[i].obs_sum += inc.value;
                }
            }
            for s in samples {
                let (Some(i), Some(h)) = (Steps::of(s.time_ns, steps), &s.histogram) else {
                    continue;
                };
                accs[i].quantiles =
                    h.quantiles.iter().map(|q| (q.quantile.to_bits(), (q.value, 1))).collect();
            }
        }
    }
    accs
}

/// Per step: the increases that end in it, summed, over the time they cover, in seconds.
fn rate_into(
    accs: &mut [Acc],
    steps: &Steps,
    incs: &[series::Increase],
    set: impl Fn(&mut Acc, f64),
) {
    let mut sums = vec![(0.0f64, 0u64); accs.len()];
    for inc in incs {
        if let Some(i) = Steps::of(inc.to_ns, steps) {
            sums[i].0 += inc.value;
            sums[i].1 += inc.to_ns.saturating_sub(inc.from_ns);
        }
    }
    for (a, (sum, covered)) in accs.iter_mut().zip(sums) {
        if covered > 0 {
            set(a, sum / (covered as f64 / 1e9));
        }
    }
}

/// A group's label values: the `group_by` keys' values (`""` when a series has none).
fn labels_of(meta: &SeriesMeta, group_by: &[String]) -> Vec<KeyValue> {
    group_by
        .iter()
        .map(|k| KeyValue {
            key: k.clone(),
            value: AttrValue::String(meta.label(k).unwrap_or_default()),
        })
        .collect()
}

/// Builds the answer from what the store read. `info` describes the metric (from the
/// catalogue); `agg` must be one of `aggs_for` its kind (checked by the caller).
pub fn answer(
    rows: MetricRows,
    info: MetricInfo,
    req: &SeriesRequest,
    agg: MetricAgg,
) -> MetricSeriesAnswer {
    let steps = Steps {
        since: req.since_ns,
        step: req.step_ns.max(1),
        count: (req.until_ns.saturating_sub(req.since_ns).div_ceil(req.step_ns.max(1)) as usize)
            .clamp(1, MAX_STEPS as usize),
    };
    let mut notes = Vec::new();
    if rows.truncated {
        notes.push(format!(
            "only part of the metric was read (at most {} series and {} points a request); narrow the range or filter",
            crate::store::metrics::MAX_SERIES_READ,
            crate::store::metrics::MAX_SAMPLES_READ
        ));
    }
    for (kind, unit) in &rows.other_identities {
        notes.push(format!(
            "series of {:?} with another type or unit ({} {:?}) are not in this chart",
            info.name,
            crate::store::metrics::kind_text(*kind),
            unit
        ));
    }
    // Group the series.
    let mut groups: BTreeMap<Vec<String>, (Vec<KeyValue>, Vec<Acc>)> = BTreeMap::new();
    let mut exemplars: Vec<Option<Exemplar>> = vec![None; steps.count];
    for (meta, samples) in &rows.series {
        let accs = series_steps(meta, samples, &steps);
        let labels = labels_of(meta, &req.group_by);
        let key: Vec<String> =
            labels.iter().map(|kv| otelscope_app::model::value_text(&kv.value)).collect();
        let entry =
            groups.entry(key).or_insert_with(|| (labels, vec![Acc::default(); steps.count]));
        for (g, a) in entry.1.iter_mut().zip(&accs) {
            g.merge(a);
        }
        for s in samples {
            for e in &s.exemplars {
                let Some(i) = Steps::of(e.time_ns, &steps) else { continue };
                let better = exemplars[i].as_ref().is_none_or(|x| e.value > x.value);
                if better {
                    exemplars[i] = Some(e.clone());
                }
            }
        }
    }
    if groups.values().any(|(_, accs)| accs.iter().any(|a| a.mismatched)) {
        notes.push("series with other histogram bounds than the first are left out".into());
    }
    let heatmap = matches!(info.kind, MetricKind::Histogram | MetricKind::ExponentialHistogram)
        .then(|| heatmap(groups.values().map(|(_, a)| a.as_slice()), steps.count));
    let mut lines: Vec<(Vec<KeyValue>, Vec<Acc>)> = groups.into_values().collect();
    let mut out_groups = Vec::new();
    if agg == MetricAgg::Quantiles {
        // One line per group and quantile.
        for (labels, accs) in lines {
            let qs: Vec<u64> = {
                let mut qs: Vec<u64> =
                    accs.iter().flat_map(|a| a.quantiles.keys().copied()).collect();
                qs.sort_by(|a, b| f64::from_bits(*a).total_cmp(&f64::from_bits(*b)));
                qs.dedup();
                qs
            };
            for q in qs {
                let mut labels = labels.clone();
                labels.push(KeyValue {
                    key: "quantile".into(),
                    value: AttrValue::String(format!("{}", f64::from_bits(q))),
                });
                let values = accs
                    .iter()
                    .map(|a| a.quantiles.get(&q).map(|(s, n)| s / f64::from(*n)))
                    .collect();
                out_groups.push(MetricGroup { labels, others: false, values });
            }
        }
        out_groups.truncate(req.limit.max(1) * 8);
    } else {
        let weight =
            |accs: &[Acc]| -> f64 { accs.iter().filter_map(|a| a.pick(agg)).map(f64::abs).sum() };
        lines.sort_by(|a, b| {
            weight(&b.1).total_cmp(&weight(&a.1)).then_with(|| a.0.len().cmp(&b.0.len()))
        });
        let limit = req.limit.clamp(1, MAX_GROUPS);
        let rest: Vec<(Vec<KeyValue>, Vec<Acc>)> =
            if lines.len() > limit { lines.split_off(limit) } else { Vec::new() };
        for (labels, accs) in &lines {
            out_groups.push(MetricGroup {
                labels: labels.clone(),
                others: false,
                values: accs.iter().map(|a| a.pick(agg)).collect(),
            });
        }
        if !rest.is_empty() {
            let mut merged = vec![Acc::default(); steps.count];
            for (_, accs) in &rest {
                for (m, a) in merged.iter_mut().zip(accs) {
                    m.merge(a);
                }
            }
            out_groups.push(MetricGroup {
                labels: Vec::new(),
                others: true,
                values: merged.iter().map(|a| a.pick(agg)).collect(),
            });
        }
    }
    MetricSeriesAnswer {
        info,
        agg,
        since_ns: req.since_ns,
        until_ns: req.since_ns + steps.step * steps.count as u64,
        step_ns: steps.step,
        groups: out_groups,
        heatmap,
        exemplars: exemplars.into_iter().flatten().collect(),
        notes,
    }
}

/// Bucket counts per step of all groups together, over one set of bounds: explicit bounds as
/// sent, exponential buckets at the lowest scale seen (lowered further until at most
/// `MAX_HEATMAP_BUCKETS` buckets span the data).
fn heatmap<'a>(groups: impl Iterator<Item = &'a [Acc]>, steps: usize) -> Heatmap {
    let mut per_step = vec![Dist::Empty; steps];
    for accs in groups {
        for (d, a) in per_step.iter_mut().zip(accs) {
            d.merge(&a.dist);
        }
    }
    let mut all = Dist::Empty;
    for d in &per_step {
        all.merge(d);
    }
    if let Dist::Exp { scale, .. } = &all {
        let mut scale = *scale;
        while all.buckets().len() > MAX_HEATMAP_BUCKETS && scale > -10 {
            scale -= 1;
            all = all.downscale(scale);
        }
    }
    let layout = all.buckets();
    if layout.is_empty() {
        return Heatmap::default();
    }
    let keys: HashMap<(u64, u64), usize> = layout
        .iter()
        .enumerate()
        .map(|(i, (lo, hi, _))| ((lo.to_bits(), hi.to_bits()), i))
        .collect();
    let scale = match &all {
        Dist::Exp { scale, .. } => Some(*scale),
        _ => None,
    };
    let mut bounds: Vec<Option<f64>> = layout.iter().map(|b| Some(b.1)).collect();
    if matches!(all, Dist::Explicit { .. }) {
        if let Some(last) = bounds.last_mut() {
            *last = None;
        }
    }
    let counts = per_step
        .iter()
        .map(|d| {
            let d = match scale {
                Some(s) => d.downscale(s),
                None => d.clone(),
            };
            let mut row = vec![0u64; layout.len()];
            for (lo, hi, c) in d.buckets() {
                if let Some(i) = keys.get(&(lo.to_bits(), hi.to_bits())) {
                    row[*i] += c;
                }
            }
            row
        })
        .collect();
    Heatmap { bounds, counts }
}

#[cfg(test)]
mod tests;
