//! The block format of `metric_blocks`: the points of one metric, as runs (one per series, in
//! time order), zstd-compressed. Per run: the series id, the count, times as delta-of-delta
//! varints, start times as a code (same as the previous start, the previous time, or a delta),
//! values XOR'd with the previous value of the run (Gorilla's idea; zstd then squeezes the zero
//! bytes); then, for runs of distributions, each point's histogram in binary (count, sum,
//! min, max, explicit bounds unless the same as the point before, bucket counts as varints,
//! exponential scale/offsets/counts, summary quantiles); exemplars follow as one JSON list of
//! the points that have them (they are few).
//! `encode.rs` writes a block, `decode.rs` reads it back, `lean.rs` keeps histograms in an arena
//! for reads that chart only some of them.

mod decode;
mod encode;
mod hist;
mod lean;

use std::cell::RefCell;

use otelscope_app::model::{Exemplar, HistogramValue, MetricPoint};

use super::Sample;

pub use decode::{decode, decode_runs};
pub use encode::encode;
pub use lean::{Arena, Slot, Take};

const VERSION: u8 = 1;
/// zstd level: 3 is zstd's default; blocks are small, so the level costs little.
const LEVEL: i32 = 3;

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

const HAS: u8 = 1;
const SUM: u8 = 2;
const MIN: u8 = 4;
const MAX: u8 = 8;
const SAME_BOUNDS: u8 = 16;
const EXP: u8 = 32;
const QUANTILES: u8 = 64;

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
    use otelscope_app::model::{ExpBuckets, QuantileValue};

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
