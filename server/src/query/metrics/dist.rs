//! Distributions: explicit-bucket and exponential histogram points as bucket counts that can
//! be subtracted (cumulative → delta), merged across series (exponential: downscaled to the
//! lowest scale), turned into percentiles and heatmap rows.
//!
//! Percentiles (the method the API states): the rank `q × count` is found in the cumulative
//! bucket counts, and the value interpolated linearly between the bucket's lower and upper
//! bound by the rank's place inside the bucket. The first explicit bucket's lower bound is 0
//! (or its upper bound when that is ≤ 0), the overflow bucket's upper bound is its lower bound
//! (values past the last bound are not known); an exponential bucket `i` at scale `s` spans
//! `(2^(i·2^-s), 2^((i+1)·2^-s)]` (negated for negative buckets), the zero bucket is 0.

use std::collections::BTreeMap;

use otelscope_app::model::{ExpBuckets, HistogramValue};

/// Bucket counts of one step or one point (deltas, never cumulative).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Dist {
    #[default]
    Empty,
    /// Explicit bounds (`bounds.len() + 1` counts).
    Explicit { bounds: Vec<f64>, counts: Vec<u64> },
    /// Exponential buckets at `scale`: index → count, negative side apart; `zero` counts 0.
    Exp { scale: i32, zero: u64, positive: BTreeMap<i32, u64>, negative: BTreeMap<i32, u64> },
}

impl Dist {
    /// The buckets of a histogram point (as sent: cumulative or delta).
    pub fn of(h: &HistogramValue) -> Dist {
        if let Some(e) = &h.exponential {
            return Dist::exp(e);
        }
        if h.bucket_counts.is_empty() {
            return Dist::Empty;
        }
        Dist::Explicit { bounds: h.bounds.clone(), counts: h.bucket_counts.clone() }
    }

    fn exp(e: &ExpBuckets) -> Dist {
        let side = |offset: i32, counts: &[u64]| -> BTreeMap<i32, u64> {
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| (offset.saturating_add(i as i32), *c))
                .collect()
        };
        Dist::Exp {
            scale: e.scale,
            zero: e.zero_count,
            positive: side(e.positive_offset, &e.positive),
            negative: side(e.negative_offset, &e.negative),
        }
    }

    pub fn count(&self) -> u64 {
        match self {
            Dist::Empty => 0,
            Dist::Explicit { counts, .. } => counts.iter().sum(),
            Dist::Exp { zero, positive, negative, .. } => {
                zero + positive.values().sum::<u64>() + negative.values().sum::<u64>()
            }
        }
    }

    /// The same buckets at a lower `scale` (each bucket joins the one that contains it).
    pub fn downscale(&self, to: i32) -> Dist {
        match self {
            Dist::Exp { scale, zero, positive, negative } if *scale > to => {
                let shift = (scale - to) as u32;
                let down = |side: &BTreeMap<i32, u64>| {
                    let mut out = BTreeMap::new();
                    for (i, c) in side {
                        *out.entry(i >> shift.min(31)).or_insert(0) += c;
                    }
                    out
                };
                Dist::Exp {
                    scale: to,
                    zero: *zero,
                    positive: down(positive),
                    negative: down(negative),
                }
            }
            other => other.clone(),
        }
    }

    /// Adds `other` (another series or point). Exponential buckets meet at the lower scale;
    /// explicit buckets must share their bounds (else `false`, nothing added).
    pub fn merge(&mut self, other: &Dist) -> bool {
        match (&mut *self, other) {
            (_, Dist::Empty) => true,
            (Dist::Empty, o) => {
                *self = o.clone();
                true
            }
            (Dist::Explicit { bounds, counts }, Dist::Explicit { bounds: b, counts: c }) => {
                if bounds != b || counts.len() != c.len() {
                    return false;
                }
                for (x, y) in counts.iter_mut().zip(c) {
                    *x += y;
                }
                true
            }
            (Dist::Exp { scale, .. }, Dist::Exp { scale: s, .. }) => {
                let to = (*scale).min(*s);
                let mut mine = self.downscale(to);
                let theirs = other.downscale(to);
                if let (
                    Dist::Exp { zero, positive, negative, .. },
                    Dist::Exp { zero: z, positive: p, negative: n, .. },
                ) = (&mut mine, theirs)
                {
                    *zero += z;
                    for (i, c) in p {
                        *positive.entry(i).or_insert(0) += c;
                    }
                    for (i, c) in n {
                        *negative.entry(i).or_insert(0) += c;
                    }
                }
                *self = mine;
                true
            }
            _ => false,
        }
    }

    /// `self - earlier` (a cumulative point minus the one before), or `None` when a bucket
    /// went down (a reset) or the layout changed.
    pub fn minus(&self, earlier: &Dist) -> Option<Dist> {
        match (self, earlier) {
            (d, Dist::Empty) => Some(d.clone()),
            (Dist::Explicit { bounds, counts }, Dist::Explicit { bounds: b, counts: c }) => {
                if bounds != b || counts.len() != c.len() {
                    return None;
                }
                let counts = counts
                    .iter()
                    .zip(c)
                    .map(|(x, y)| x.checked_sub(*y))
                    .collect::<Option<Vec<u64>>>()?;
                Some(Dist::Explicit { bounds: bounds.clone(), counts })
            }
            (Dist::Exp { scale: s1, .. }, Dist::Exp { scale: s2, .. }) => {
                let to = (*s1).min(*s2);
                let (
                    Dist::Exp { zero, positive, negative, .. },
                    Dist::Exp { zero: z, positive: p, negative: n, .. },
                ) = (self.downscale(to), earlier.downscale(to))
                else {
                    return None;
                };
                let side = |mine: BTreeMap<i32, u64>, theirs: &BTreeMap<i32, u64>| {
                    let mut out = mine;
                    for (i, c) in theirs {
                        let left = out.get(i).copied().unwrap_or(0).checked_sub(*c)?;
                        out.insert(*i, left);
                    }
                    out.retain(|_, c| *c > 0);
                    Some(out)
                };
                Some(Dist::Exp {
                    scale: to,
                    zero: zero.checked_sub(z)?,
                    positive: side(positive, &p)?,
                    negative: side(negative, &n)?,
                })
            }
            _ => None,
        }
    }

    /// The buckets as (lower, upper, count), lowest first.
    pub fn buckets(&self) -> Vec<(f64, f64, u64)> {
        match self {
            Dist::Empty => Vec::new(),
            Dist::Explicit { bounds, counts } => counts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let upper = bounds.get(i).copied();
                    let lower = if i == 0 {
                        upper.map_or(0.0, |u| if u > 0.0 { 0.0 } else { u })
                    } else {
                        bounds[i - 1]
                    };
                    (lower, upper.unwrap_or(lower), *c)
                })
                .collect(),
            Dist::Exp { scale, zero, positive, negative } => {
                let mut out = Vec::new();
                for (i, c) in negative.iter().rev() {
                    out.push((-exp_bound(*scale, i + 1), -exp_bound(*scale, *i), *c));
                }
                if *zero > 0 {
                    out.push((0.0, 0.0, *zero));
                }
                for (i, c) in positive {
                    out.push((exp_bound(*scale, *i), exp_bound(*scale, i + 1), *c));
                }
                out
            }
        }
    }

    /// The `q` quantile (0..=1) by linear interpolation inside the bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let buckets = self.buckets();
        let total: u64 = buckets.iter().map(|b| b.2).sum();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut seen = 0.0;
        for (lower, upper, count) in &buckets {
            if *count == 0 {
                continue;
            }
            let next = seen + *count as f64;
            if rank <= next {
                let within = ((rank - seen) / *count as f64).clamp(0.0, 1.0);
                return Some(lower + (upper - lower) * within);
            }
            seen = next;
        }
        buckets.iter().rev().find(|b| b.2 > 0).map(|b| b.1)
    }
}

/// The boundary `base^index` of an exponential histogram at `scale` (`base = 2^(2^-scale)`).
pub fn exp_bound(scale: i32, index: i32) -> f64 {
    (f64::from(index) * (-f64::from(scale)).exp2()).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(scale: i32, offset: i32, positive: &[u64], zero: u64) -> Dist {
        Dist::of(&HistogramValue {
            exponential: Some(ExpBuckets {
                scale,
                zero_count: zero,
                positive_offset: offset,
                positive: positive.to_vec(),
                ..ExpBuckets::default()
            }),
            ..HistogramValue::default()
        })
    }

    fn explicit(bounds: &[f64], counts: &[u64]) -> Dist {
        Dist::Explicit { bounds: bounds.to_vec(), counts: counts.to_vec() }
    }

    #[test]
    fn explicit_percentiles_interpolate_inside_the_bucket() {
        // Buckets (0,10] 10, (10,20] 30, (20,50] 10, (50,+inf) 0: 50 observations.
        let d = explicit(&[10.0, 20.0, 50.0], &[10, 30, 10, 0]);
        // p50: rank 25 → 15 into the second bucket's 30 → 10 + 10 × 15/30 = 15.
        assert_eq!(d.quantile(0.5), Some(15.0));
        // p90: rank 45 → 5 of the third's 10 → 20 + 30 × 0.5 = 35.
        assert_eq!(d.quantile(0.9), Some(35.0));
        // p10: rank 5 → half of the first bucket (0, 10] → 5.
        assert_eq!(d.quantile(0.1), Some(5.0));
        // p99: rank 49.5 → 9.5 of 10 in (20, 50] → 48.5.
        assert!((d.quantile(0.99).unwrap() - 48.5).abs() < 1e-9);
    }

    #[test]
    fn the_overflow_bucket_gives_the_last_bound() {
        let d = explicit(&[1.0], &[0, 4]);
        assert_eq!(d.quantile(0.5), Some(1.0));
    }

    #[test]
    fn exponential_bounds_at_scales_0_3_and_minus_2() {
        assert_eq!(exp_bound(0, 3), 8.0);
        assert!((exp_bound(3, 8) - 2.0).abs() < 1e-12);
        assert_eq!(exp_bound(-2, 1), 16.0);
    }

    #[test]
    fn exponential_buckets_at_scales_0_3_and_minus_2_merge_at_minus_2() {
        // Scale 0: (1,2] 1, (2,4] 2 (indexes 0, 1).
        let a = exp(0, 0, &[1, 2], 1);
        // Scale 3: index 8 = (2, 2^(9/8)] 4; index 16 = (4, ...] 1.
        let b = exp(3, 8, &[4, 0, 0, 0, 0, 0, 0, 0, 1], 0);
        // Scale -2 (base 16): index 0 = (1, 16] 5, index 1 = (16, 256] 2.
        let c = exp(-2, 0, &[5, 2], 0);
        let mut m = Dist::Empty;
        assert!(m.merge(&a) && m.merge(&b) && m.merge(&c));
        let Dist::Exp { scale, zero, positive, .. } = &m else { panic!("{m:?}") };
        assert_eq!(*scale, -2);
        assert_eq!(*zero, 1);
        // At scale -2 a scale-0 index i goes to i >> 2, scale-3 index i to i >> 5: all of a and
        // b land in (1, 16] (index 0), c's second bucket stays at index 1.
        assert_eq!(
            positive.iter().map(|(i, c)| (*i, *c)).collect::<Vec<_>>(),
            vec![(0, 13), (1, 2)]
        );
        assert_eq!(m.count(), 16);
        // p50: rank 8 of 16; the zero bucket holds 1, so 7 of 13 into (1, 16] → 1 + 15 × 7/13.
        let p50 = m.quantile(0.5).unwrap();
        assert!((p50 - (1.0 + 15.0 * 7.0 / 13.0)).abs() < 1e-9, "{p50}");
        // p99: rank 15.84; 14 before (16, 256]: 1.84 of 2 → 16 + 240 × 0.92.
        let p99 = m.quantile(0.99).unwrap();
        assert!((p99 - (16.0 + 240.0 * 0.92)).abs() < 1e-9, "{p99}");
    }

    #[test]
    fn negative_buckets_and_the_zero_bucket_come_before_the_positive() {
        let d = Dist::of(&HistogramValue {
            exponential: Some(ExpBuckets {
                scale: 0,
                zero_count: 2,
                positive_offset: 0,
                positive: vec![2],
                negative_offset: 1,
                negative: vec![2],
                ..ExpBuckets::default()
            }),
            ..HistogramValue::default()
        });
        // Buckets: [-4, -2) 2, 0 2, (1, 2] 2.
        assert_eq!(d.buckets(), vec![(-4.0, -2.0, 2), (0.0, 0.0, 2), (1.0, 2.0, 2)]);
        assert_eq!(d.quantile(0.25), Some(-2.5));
        assert_eq!(d.quantile(0.5), Some(0.0));
        assert_eq!(d.quantile(1.0), Some(2.0));
    }

    #[test]
    fn a_cumulative_point_minus_the_one_before_is_the_delta_and_a_lower_bucket_a_reset() {
        let a = explicit(&[1.0], &[2, 3]);
        let b = explicit(&[1.0], &[5, 3]);
        assert_eq!(b.minus(&a), Some(explicit(&[1.0], &[3, 0])));
        assert_eq!(a.minus(&b), None);
        let e1 = exp(1, 0, &[1, 1], 0);
        let e2 = exp(0, 0, &[3, 1], 1);
        // e1 downscaled to 0: index 0 holds both → 2; e2 - e1 = {0: 1, 1: 1}, zero 1.
        assert_eq!(
            e2.minus(&e1),
            Some(Dist::Exp {
                scale: 0,
                zero: 1,
                positive: [(0, 1), (1, 1)].into_iter().collect(),
                negative: BTreeMap::new()
            })
        );
    }
}
