//! Writing a block: each run's times, starts and values, then its histograms, then the
//! exemplars of the block as one JSON list.

use otelscope_app::model::{Exemplar, HistogramValue};
use serde::Serialize;

use super::{
    compress, varint, zigzag, Point, EXP, HAS, MAX, MIN, QUANTILES, SAME_BOUNDS, SUM, VERSION,
};

/// `Extra` as written, borrowing the exemplars.
#[derive(Serialize)]
struct ExtraRef<'a> {
    run: u32,
    index: u32,
    e: &'a [Exemplar],
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
