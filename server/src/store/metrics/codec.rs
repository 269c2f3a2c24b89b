//! The block format of `metric_blocks`: the points of one metric, as runs (one per series, in
//! time order), zstd-compressed. Per run: the series id, the count, times as delta-of-delta
//! varints, start times as a code (same as the previous start, the previous time, or a delta),
//! values XOR'd with the previous value of the run (Gorilla's idea; zstd then squeezes the zero
//! bytes); then, for runs of distributions, each point's histogram in binary (count, sum,
//! min, max, explicit bounds unless the same as the point before, bucket counts as varints,
//! exponential scale/offsets/counts, summary quantiles); exemplars follow as one JSON list of
//! the points that have them (they are few).

use std::cell::RefCell;

use otelscope_app::model::{Exemplar, ExpBuckets, HistogramValue, MetricPoint, QuantileValue};
use serde::{Deserialize, Serialize};

use super::Sample;

const VERSION: u8 = 1;
/// zstd level: 3 is zstd's default; blocks are small, so the level costs little.
const LEVEL: i32 = 3;

/// What a point carries besides its number, kept as JSON inside the block.
#[derive(Deserialize)]
struct Extra {
    run: u32,
    index: u32,
    e: Vec<Exemplar>,
}

/// `Extra` as written, borrowing the exemplars.
#[derive(Serialize)]
struct ExtraRef<'a> {
    run: u32,
    index: u32,
    e: &'a [Exemplar],
}

/// A point as the encoder reads it: a stored `Sample`, or a received `MetricPoint` written
/// without copying it into a sample first.
pub trait Point {
    fn start_ns(&self) -> u64;
    fn time_ns(&self) -> u64;
    /// The number kept (`Sample::value`).
    fn value(&self) -> f64;
    fn histogram(&self) -> Option<&HistogramValue>;
    fn exemplars(&self) -> &[Exemplar];
}

impl Point for Sample {
    fn start_ns(&self) -> u64 {
        self.start_ns
    }
    fn time_ns(&self) -> u64 {
        self.time_ns
    }
    fn value(&self) -> f64 {
        self.value
    }
    fn histogram(&self) -> Option<&HistogramValue> {
        self.histogram.as_deref()
    }
    fn exemplars(&self) -> &[Exemplar] {
        &self.exemplars
    }
}

impl Point for &MetricPoint {
    fn start_ns(&self) -> u64 {
        self.start_ns
    }
    fn time_ns(&self) -> u64 {
        self.time_ns
    }
    fn value(&self) -> f64 {
        Sample::value_of(self)
    }
    fn histogram(&self) -> Option<&HistogramValue> {
        self.histogram.as_ref()
    }
    fn exemplars(&self) -> &[Exemplar] {
        &self.exemplars
    }
}

thread_local! {
    /// zstd contexts kept per thread: making one per block cost more than the block.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

fn compress(raw: Vec<u8>) -> Vec<u8> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(LEVEL).ok();
        }
        match c.as_mut().map(|c| c.compress(&raw)) {
            Some(Ok(out)) => out,
            _ => zstd::bulk::compress(&raw, LEVEL).unwrap_or(raw),
        }
    })
}

fn decompress(blob: &[u8], size: usize) -> Result<Vec<u8>, String> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = zstd::bulk::Decompressor::new().ok();
        }
        match d.as_mut() {
            Some(d) => d.decompress(blob, size).map_err(|e| e.to_string()),
            None => zstd::bulk::decompress(blob, size).map_err(|e| e.to_string()),
        }
    })
}

/// Encodes `runs` (series id, points in time order).
pub fn encode<P: Point>(runs: &[(i64, Vec<P>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + runs.iter().map(|r| r.1.len() * 10).sum::<usize>());
    out.push(VERSION);
    varint(&mut out, runs.len() as u64);
    let mut extras = Vec::new();
    for (run, (series, samples)) in runs.iter().enumerate() {
        varint(&mut out, zigzag(*series));
        varint(&mut out, samples.len() as u64);
        let (mut prev_t, mut prev_d) = (0i64, 0i64);
        for (i, s) in samples.iter().enumerate() {
            let t = s.time_ns() as i64;
            if i == 0 {
                varint(&mut out, s.time_ns());
            } else {
                let d = t.wrapping_sub(prev_t);
                varint(&mut out, zigzag(d.wrapping_sub(prev_d)));
                prev_d = d;
            }
            prev_t = t;
        }
        let (mut prev_start, mut prev_time) = (0u64, 0u64);
        for s in samples {
            if s.start_ns() == prev_start {
                out.push(0);
            } else if s.start_ns() == prev_time {
                out.push(1);
            } else {
                out.push(2);
                varint(&mut out, zigzag((s.start_ns() as i64).wrapping_sub(prev_start as i64)));
            }
            prev_start = s.start_ns();
            prev_time = s.time_ns();
        }
        let mut prev = 0u64;
        for s in samples {
            let bits = s.value().to_bits();
            out.extend_from_slice(&(bits ^ prev).to_le_bytes());
            prev = bits;
        }
        let histograms = samples.iter().any(|s| s.histogram().is_some());
        out.push(u8::from(histograms));
        if histograms {
            let mut bounds: &[f64] = &[];
            for s in samples {
                put_histogram(&mut out, s.histogram(), &mut bounds);
            }
        }
        for (index, s) in samples.iter().enumerate() {
            if !s.exemplars().is_empty() {
                extras.push(ExtraRef { run: run as u32, index: index as u32, e: s.exemplars() });
            }
        }
    }
    // Serializing plain model types cannot fail.
    let json = serde_json::to_vec(&extras).unwrap_or_else(|_| b"[]".to_vec());
    out.extend_from_slice(&json);
    compress(out)
}

/// Decodes a block; `keep(series)` picks the runs wanted (the others are skipped, their
/// extras not parsed).
pub fn decode(
    blob: &[u8],
    mut keep: impl FnMut(i64) -> bool,
) -> Result<Vec<(i64, Vec<Sample>)>, String> {
    let take = |series| if keep(series) { Take::All } else { Take::Skip };
    let runs = decode_runs(blob, take, &mut Arena::default())?;
    Ok(runs.into_iter().map(|(series, samples, _)| (series, samples)).collect())
}

/// What `decode_runs` makes of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Take {
    /// Skipped (its points are read past, not kept).
    Skip,
    /// Every point whole.
    All,
    /// Every point, its histogram parsed into the arena (a `Slot` each) and left `None`: a
    /// reader then makes whole only those it needs (`store::metrics::thin`).
    Lean,
}

/// Histograms of `Take::Lean` runs, parsed without an allocation per point.
#[derive(Debug, Default)]
pub struct Arena {
    /// The bucket counts of every plain histogram, one after the other.
    pub counts: Vec<u64>,
    /// Explicit bounds, each set once while it repeats.
    pub bounds: Vec<Vec<f64>>,
    /// Histograms that are not plain explicit-bucket ones (exponential, with quantiles), whole.
    pub whole: Vec<HistogramValue>,
}

/// Where a `Take::Lean` point's histogram is in the `Arena`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Slot {
    /// The point has no histogram.
    #[default]
    None,
    /// An explicit-bucket histogram: its counts are `counts[at..at + len]`.
    Plain {
        count: u64,
        sum: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
        bounds: u32,
        at: u32,
        len: u32,
    },
    /// `whole[index]`.
    Whole(u32),
}

impl Arena {
    /// Files `h` and says where.
    fn put(&mut self, h: &Hist) -> Slot {
        if h.flags & HAS == 0 {
            return Slot::None;
        }
        let fits = self.counts.len() + h.counts.len() <= u32::MAX as usize;
        if h.flags & (EXP | QUANTILES) != 0 || !fits {
            self.whole.extend(h.value());
            return Slot::Whole(self.whole.len() as u32 - 1);
        }
        if self.bounds.last().is_none_or(|b| *b != h.bounds) {
            self.bounds.push(h.bounds.clone());
        }
        let at = self.counts.len() as u32;
        self.counts.extend_from_slice(&h.counts);
        Slot::Plain {
            count: h.count,
            sum: h.sum,
            min: h.min,
            max: h.max,
            bounds: self.bounds.len() as u32 - 1,
            at,
            len: h.counts.len() as u32,
        }
    }

    /// The bucket counts of a plain slot (empty otherwise).
    pub fn counts(&self, slot: &Slot) -> &[u64] {
        match slot {
            Slot::Plain { at, len, .. } => {
                self.counts.get(*at as usize..(*at + *len) as usize).unwrap_or_default()
            }
            _ => &[],
        }
    }

    /// The histogram of `slot`, whole.
    pub fn value(&self, slot: &Slot) -> Option<HistogramValue> {
        match slot {
            Slot::None => None,
            Slot::Whole(i) => self.whole.get(*i as usize).cloned(),
            Slot::Plain { count, sum, min, max, bounds, .. } => Some(HistogramValue {
                count: *count,
                sum: *sum,
                bounds: self.bounds.get(*bounds as usize).cloned().unwrap_or_default(),
                bucket_counts: self.counts(slot).to_vec(),
                min: *min,
                max: *max,
                exponential: None,
                quantiles: Vec::new(),
            }),
        }
    }
}

/// One series' run of a block: its id, its samples, and their lean histograms (`Take::Lean`).
pub type DecodedRun = (i64, Vec<Sample>, Vec<Slot>);

/// Decodes a block; `take(series)` says what to make of each run.
// The loops read every point but fill `samples` only for runs kept (empty otherwise).
#[allow(clippy::needless_range_loop)]
pub fn decode_runs(
    blob: &[u8],
    mut take: impl FnMut(i64) -> Take,
    arena: &mut Arena,
) -> Result<Vec<DecodedRun>, String> {
    let size = zstd::zstd_safe::get_frame_content_size(blob)
        .map_err(|_| "a metric block is not zstd".to_owned())?
        .ok_or("a metric block has no size")?;
    if size > 256 << 20 {
        return Err("a metric block is too large".into());
    }
    let raw = decompress(blob, size as usize)?;
    let mut r = Reader { buf: &raw, at: 0 };
    if r.byte()? != VERSION {
        return Err("unknown metric block version".into());
    }
    let runs = r.varint()? as usize;
    let mut out: Vec<(i64, Vec<Sample>, Vec<Slot>)> = Vec::new();
    let mut kept_runs: Vec<Option<usize>> = Vec::with_capacity(runs.min(1 << 16));
    // Scratch histograms, reused across points and runs.
    let (mut prev, mut cur) = (Hist::default(), Hist::default());
    for _ in 0..runs {
        let series = unzigzag(r.varint()?);
        let n = r.varint()? as usize;
        // Each point takes at least 10 bytes (a time, a start code, 8 value bytes).
        if n.saturating_mul(10) > raw.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        let how = take(series);
        let wanted = how != Take::Skip;
        let mut samples = Vec::with_capacity(if wanted { n } else { 0 });
        let (mut prev_t, mut prev_d) = (0i64, 0i64);
        for i in 0..n {
            let t = if i == 0 {
                r.varint()? as i64
            } else {
                let d = prev_d.wrapping_add(unzigzag(r.varint()?));
                prev_d = d;
                prev_t.wrapping_add(d)
            };
            prev_t = t;
            if wanted {
                // Made in place (cloning a default sample per point showed in profiles).
                samples.push(Sample {
                    start_ns: 0,
                    time_ns: t as u64,
                    value: 0.0,
                    histogram: None,
                    exemplars: Vec::new(),
                });
            }
        }
        let (mut prev_start, mut prev_time) = (0u64, 0u64);
        for i in 0..n {
            let start = match r.byte()? {
                0 => prev_start,
                1 => prev_time,
                _ => (prev_start as i64).wrapping_add(unzigzag(r.varint()?)) as u64,
            };
            prev_start = start;
            // A skipped run's starts are not kept, so its times need not be either.
            if wanted {
                prev_time = samples[i].time_ns;
                samples[i].start_ns = start;
            }
        }
        let mut prev_bits = 0u64;
        for i in 0..n {
            let bits = r.u64()? ^ prev_bits;
            prev_bits = bits;
            if wanted {
                samples[i].value = f64::from_bits(bits);
            }
        }
        let mut slots = Vec::new();
        if r.byte()? == 1 {
            prev.clear();
            if how == Take::Lean {
                slots.reserve(n);
            }
            for i in 0..n {
                read_hist(&mut r, &prev.bounds, &mut cur)?;
                match how {
                    Take::Skip => {}
                    Take::All => samples[i].histogram = cur.value().map(Box::new),
                    Take::Lean => slots.push(arena.put(&cur)),
                }
                std::mem::swap(&mut prev, &mut cur);
            }
        } else if how == Take::Lean {
            slots = vec![Slot::None; n];
        }
        if wanted {
            kept_runs.push(Some(out.len()));
            out.push((series, samples, slots));
        } else {
            kept_runs.push(None);
        }
    }
    let extras: Vec<Extra> = if r.at < raw.len() && raw[r.at..] != *b"[]" {
        serde_json::from_slice(&raw[r.at..]).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    for extra in extras {
        let Some(Some(run)) = kept_runs.get(extra.run as usize) else { continue };
        if let Some(s) = out[*run].1.get_mut(extra.index as usize) {
            s.exemplars = extra.e;
        }
    }
    Ok(out)
}

const HAS: u8 = 1;
const SUM: u8 = 2;
const MIN: u8 = 4;
const MAX: u8 = 8;
const SAME_BOUNDS: u8 = 16;
const EXP: u8 = 32;
const QUANTILES: u8 = 64;

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_counts(out: &mut Vec<u8>, counts: &[u64]) {
    varint(out, counts.len() as u64);
    for c in counts {
        varint(out, *c);
    }
}

/// One point's histogram; `bounds` is the previous point's explicit bounds (kept once).
fn put_histogram<'a>(out: &mut Vec<u8>, h: Option<&'a HistogramValue>, bounds: &mut &'a [f64]) {
    let Some(h) = h else {
        out.push(0);
        return;
    };
    let mut flags = HAS;
    flags |= if h.sum.is_some() { SUM } else { 0 };
    flags |= if h.min.is_some() { MIN } else { 0 };
    flags |= if h.max.is_some() { MAX } else { 0 };
    flags |= if h.bounds.as_slice() == *bounds { SAME_BOUNDS } else { 0 };
    flags |= if h.exponential.is_some() { EXP } else { 0 };
    flags |= if h.quantiles.is_empty() { 0 } else { QUANTILES };
    out.push(flags);
    varint(out, h.count);
    for v in [h.sum, h.min, h.max].into_iter().flatten() {
        put_f64(out, v);
    }
    if flags & SAME_BOUNDS == 0 {
        varint(out, h.bounds.len() as u64);
        for b in &h.bounds {
            put_f64(out, *b);
        }
        *bounds = &h.bounds;
    }
    put_counts(out, &h.bucket_counts);
    if let Some(e) = &h.exponential {
        varint(out, zigzag(i64::from(e.scale)));
        varint(out, e.zero_count);
        put_f64(out, e.zero_threshold);
        varint(out, zigzag(i64::from(e.positive_offset)));
        put_counts(out, &e.positive);
        varint(out, zigzag(i64::from(e.negative_offset)));
        put_counts(out, &e.negative);
    }
    if flags & QUANTILES != 0 {
        varint(out, h.quantiles.len() as u64);
        for q in &h.quantiles {
            put_f64(out, q.quantile);
            put_f64(out, q.value);
        }
    }
}

fn get_counts(r: &mut Reader<'_>) -> Result<Vec<u64>, String> {
    let mut counts = Vec::new();
    read_counts(r, &mut counts)?;
    Ok(counts)
}

/// Reads counts into `counts` (reused: a histogram point is mostly its counts).
fn read_counts(r: &mut Reader<'_>, counts: &mut Vec<u64>) -> Result<(), String> {
    let n = r.varint()? as usize;
    if n > r.buf.len() - r.at {
        return Err("a metric block is damaged".into());
    }
    counts.clear();
    counts.reserve(n);
    for _ in 0..n {
        counts.push(r.varint()?);
    }
    Ok(())
}

fn get_i32(r: &mut Reader<'_>) -> Result<i32, String> {
    i32::try_from(unzigzag(r.varint()?)).map_err(|_| "a metric block is damaged".to_owned())
}

/// One point's histogram as parsed, in buffers reused from point to point.
#[derive(Default)]
struct Hist {
    flags: u8,
    count: u64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    /// The explicit bounds in effect (a point without a histogram keeps the last ones).
    bounds: Vec<f64>,
    counts: Vec<u64>,
    exponential: Option<ExpBuckets>,
    quantiles: Vec<QuantileValue>,
}

impl Hist {
    fn clear(&mut self) {
        self.flags = 0;
        self.bounds.clear();
    }

    fn value(&self) -> Option<HistogramValue> {
        (self.flags & HAS != 0).then(|| HistogramValue {
            count: self.count,
            sum: self.sum,
            bounds: self.bounds.clone(),
            bucket_counts: self.counts.clone(),
            min: self.min,
            max: self.max,
            exponential: self.exponential.clone(),
            quantiles: self.quantiles.clone(),
        })
    }
}

/// Parses one point's histogram into `h`; `bounds` are those of the point before (kept when
/// the point says its bounds are the same, or has no histogram).
fn read_hist(r: &mut Reader<'_>, bounds: &[f64], h: &mut Hist) -> Result<(), String> {
    let flags = r.byte()?;
    h.flags = flags;
    if flags & HAS == 0 || flags & SAME_BOUNDS != 0 {
        h.bounds.clear();
        h.bounds.extend_from_slice(bounds);
    }
    if flags & HAS == 0 {
        return Ok(());
    }
    h.count = r.varint()?;
    let f = |bit: u8, r: &mut Reader<'_>| -> Result<Option<f64>, String> {
        if flags & bit != 0 {
            Ok(Some(f64::from_bits(r.u64()?)))
        } else {
            Ok(None)
        }
    };
    (h.sum, h.min, h.max) = (f(SUM, r)?, f(MIN, r)?, f(MAX, r)?);
    if flags & SAME_BOUNDS == 0 {
        let n = r.varint()? as usize;
        if n.saturating_mul(8) > r.buf.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        h.bounds.clear();
        for _ in 0..n {
            h.bounds.push(f64::from_bits(r.u64()?));
        }
    }
    read_counts(r, &mut h.counts)?;
    h.exponential = if flags & EXP != 0 {
        Some(ExpBuckets {
            scale: get_i32(r)?,
            zero_count: r.varint()?,
            zero_threshold: f64::from_bits(r.u64()?),
            positive_offset: get_i32(r)?,
            positive: get_counts(r)?,
            negative_offset: get_i32(r)?,
            negative: get_counts(r)?,
        })
    } else {
        None
    };
    h.quantiles.clear();
    if flags & QUANTILES != 0 {
        let n = r.varint()? as usize;
        if n.saturating_mul(16) > r.buf.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        for _ in 0..n {
            h.quantiles.push(QuantileValue {
                quantile: f64::from_bits(r.u64()?),
                value: f64::from_bits(r.u64()?),
            });
        }
    }
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.at).ok_or("a metric block ends early")?;
        self.at += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, String> {
        // Most varints of a block (time deltas, bucket counts) are one byte.
        if let Some(b) = self.buf.get(self.at).filter(|b| **b < 0x80) {
            self.at += 1;
            return Ok(u64::from(*b));
        }
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a metric block has a bad varint".into());
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a metric block has a bad varint".into())
    }
    fn u64(&mut self) -> Result<u64, String> {
        let bytes = self.buf.get(self.at..self.at + 8).ok_or("a metric block ends early")?;
        self.at += 8;
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| "a metric block ends early")?))
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(start: u64, time: u64, value: f64) -> Sample {
        Sample { start_ns: start, time_ns: time, value, ..Sample::default() }
    }

    #[test]
    fn runs_round_trip_with_their_distributions_and_exemplars() {
        let mut h = sample(5, 20, 3.0);
        h.histogram = Some(Box::new(HistogramValue {
            count: 3,
            bounds: vec![1.0],
            bucket_counts: vec![1, 2],
            ..HistogramValue::default()
        }));
        h.exemplars = vec![Exemplar {
            time_ns: 19,
            value: 0.5,
            trace_id: Some("ab".repeat(16)),
            span_id: None,
            attributes: vec![],
        }];
        let mut e = sample(5, 30, 6.0);
        e.histogram = Some(Box::new(HistogramValue {
            count: 6,
            min: Some(-3.0),
            exponential: Some(ExpBuckets {
                scale: -2,
                zero_count: 1,
                zero_threshold: 0.001,
                positive_offset: -3,
                positive: vec![1, 0, 2],
                negative_offset: 4,
                negative: vec![2],
            }),
            quantiles: vec![QuantileValue { quantile: 0.5, value: 1.5 }],
            ..HistogramValue::default()
        }));
        let runs = vec![
            (7, vec![sample(0, 10, 1.5), sample(0, 20, 2.5), sample(20, 31, -1.0)]),
            (-3, vec![sample(5, 10, 0.0), h.clone(), h, e]),
        ];
        let blob = encode(&runs);
        assert_eq!(decode(&blob, |_| true).unwrap(), runs);
        assert_eq!(decode(&blob, |s| s == -3).unwrap(), runs[1..].to_vec());
    }

    #[test]
    fn a_regular_gauge_takes_a_few_bytes_a_point() {
        let samples: Vec<Sample> = (0..1000)
            .map(|i| sample(0, 1_700_000_000_000_000_000 + i * 10_000_000_000, (i % 17) as f64))
            .collect();
        let blob = encode(&[(1, samples)]);
        assert!(blob.len() < 4 * 1000, "{} bytes", blob.len());
    }

    #[test]
    fn damaged_blocks_are_errors_not_panics() {
        let blob = encode(&[(1, vec![sample(0, 10, 1.0)])]);
        for cut in 0..blob.len() {
            let _ = decode(&blob[..cut], |_| true);
        }
        assert!(decode(b"nonsense", |_| true).is_err());
        let raw = zstd::bulk::compress(&[1, 5, 2, 200, 200, 200, 200][..], 1).unwrap();
        assert!(decode(&raw, |_| true).is_err());
    }
}
