//! Lean decoding: a run's histograms parsed into one `Arena` (a `Slot` per point) instead of a
//! `HistogramValue` each, for readers that make whole only those they chart.

use otelscope_app::model::HistogramValue;

use super::hist::Hist;
use super::{EXP, HAS, QUANTILES};

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
    pub(super) fn put(&mut self, h: &Hist) -> Slot {
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
