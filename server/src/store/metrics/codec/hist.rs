//! One point's histogram as the decoder parses it, in buffers reused from point to point (read by
//! `decode.rs`, kept in an arena by `lean.rs`).

use otelscope_app::model::{ExpBuckets, HistogramValue, QuantileValue};

use super::HAS;

/// One point's histogram as parsed, in buffers reused from point to point.
#[derive(Default)]
pub(super) struct Hist {
    pub(super) flags: u8,
    pub(super) count: u64,
    pub(super) sum: Option<f64>,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    /// The explicit bounds in effect (a point without a histogram keeps the last ones).
    pub(super) bounds: Vec<f64>,
    pub(super) counts: Vec<u64>,
    pub(super) exponential: Option<ExpBuckets>,
    pub(super) quantiles: Vec<QuantileValue>,
}

impl Hist {
    pub(super) fn clear(&mut self) {
        self.flags = 0;
        self.bounds.clear();
    }

    pub(super) fn value(&self) -> Option<HistogramValue> {
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
