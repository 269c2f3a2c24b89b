//! Per series, the OTLP metrics data model's rules that turn stored points into what a chart
//! shows: increases of counters (cumulative: the difference from the point before in the same
//! run; a reset, a lower value or a new start time, starts a new run and the first point of a
//! run gives nothing; delta: the point's own value over its own interval), gauge values, and
//! distributions made deltas the same way. Pure functions over `store::Sample`s in time order.

use otelscope_app::model::{HistogramValue, Temporality};

use super::dist::Dist;
use crate::store::Sample;

/// What one point adds over its own interval `(from_ns, to_ns]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Increase {
    pub from_ns: u64,
    pub to_ns: u64,
    pub value: f64,
}

/// Is `s` the start of a new run after `prev` (a cumulative series was reset)?
fn new_run(prev: &Sample, s: &Sample, lower: bool) -> bool {
    lower || (s.start_ns != 0 && prev.start_ns != 0 && s.start_ns != prev.start_ns)
}

/// The increases of a sum (or of a histogram's or summary's count or sum, picked by `value`).
/// Cumulative: each point minus the one before it in its run; delta: the point itself over
/// `(start, time]` (a point without a start gets the interval since the point before).
pub fn increases(
    samples: &[Sample],
    temporality: Temporality,
    value: impl Fn(&Sample) -> Option<f64>,
) -> Vec<Increase> {
    let mut out = Vec::new();
    let mut prev: Option<(&Sample, f64)> = None;
    for s in samples {
        let Some(v) = value(s).filter(|v| v.is_finite()) else { continue };
        match temporality {
            Temporality::Delta => {
                let from = if s.start_ns != 0 && s.start_ns < s.time_ns {
                    s.start_ns
                } else {
                    prev.map_or(s.time_ns, |(p, _)| p.time_ns)
                };
                out.push(Increase { from_ns: from, to_ns: s.time_ns, value: v });
            }
            _ => {
                if let Some((p, pv)) = prev {
                    if !new_run(p, s, v < pv) && s.time_ns > p.time_ns {
                        out.push(Increase { from_ns: p.time_ns, to_ns: s.time_ns, value: v - pv });
                    }
                }
            }
        }
        prev = Some((s, v));
    }
    out
}

/// The distributions a histogram series adds, each over its own interval (cumulative points
/// made deltas as `increases` does, a bucket going down being a reset).
pub fn dist_increases(samples: &[Sample], temporality: Temporality) -> Vec<(u64, u64, Dist, f64)> {
    let mut out = Vec::new();
    let mut prev: Option<(&Sample, Dist, f64)> = None;
    for s in samples {
        let Some(h) = &s.histogram else { continue };
        let d = Dist::of(h);
        let sum = h.sum.unwrap_or(f64::NAN);
        match temporality {
            Temporality::Delta => {
                let from = if s.start_ns != 0 && s.start_ns < s.time_ns {
                    s.start_ns
                } else {
                    prev.as_ref().map_or(s.time_ns, |(p, _, _)| p.time_ns)
                };
                out.push((from, s.time_ns, d.clone(), sum));
            }
            _ => {
                if let Some((p, pd, psum)) = &prev {
                    let count_lower = h.count < p.histogram.as_ref().map_or(0, |h| h.count);
                    if !new_run(p, s, count_lower) && s.time_ns > p.time_ns {
                        if let Some(delta) = d.minus(pd) {
                            out.push((p.time_ns, s.time_ns, delta, sum - psum));
                        }
                    }
                }
            }
        }
        prev = Some((s, d, sum));
    }
    out
}

/// `dist_increases` summed per step, for what a chart needs: a cumulative explicit-bucket
/// series' increases that end in one step, one after the other in a run, telescope into one
/// (the last point minus the one before the first), so a step costs two distributions however
/// many points it holds, and each point only a comparison of its counts. The sums over a step
/// (counts, buckets, time covered) are those of `dist_increases`; so is the sum of
/// observations, which leaves out increases whose sum is not a number and telescopes too (over
/// each stretch of points with sums: the last one's minus the first one's). Points without a
/// histogram are passed over, so a read that kept only the histograms a chart needs
/// (`MetricRowsQuery::chart_steps`) gives the same answer. Delta and exponential series go point by point.
pub fn dist_increases_per_step(
    samples: &[Sample],
    temporality: Temporality,
    step_of: impl Fn(u64) -> Option<usize>,
) -> Vec<(u64, u64, Dist, f64)> {
    let exponential =
        samples.iter().any(|s| s.histogram.as_ref().is_some_and(|h| h.exponential.is_some()));
    if temporality == Temporality::Delta || exponential {
        return dist_increases(samples, temporality)
            .into_iter()
            .map(|(from, to, d, sum)| (from, to, d, if sum.is_finite() { sum } else { 0.0 }))
            .collect();
    }
    /// Consecutive increases ending in step `step`: from `first` to `last`.
    struct Chain<'a> {
        first: &'a Sample,
        last: &'a Sample,
        step: usize,
        /// The observations' sum of the stretches with sums closed so far.
        sum: f64,
        /// Where the open stretch of increases with a sum began.
        from: Option<&'a Sample>,
    }
    fn sum_of(s: &Sample) -> f64 {
        s.histogram.as_ref().and_then(|h| h.sum).unwrap_or(f64::NAN)
    }
    impl<'a> Chain<'a> {
        /// Adds the increase `p` → `s` (`p` is `self.last`, or the chain is new).
        fn add(&mut self, p: &'a Sample, s: &'a Sample) {
            if (sum_of(s) - sum_of(p)).is_finite() {
                self.from.get_or_insert(p);
            } else if let Some(from) = self.from.take() {
                self.sum += sum_of(p) - sum_of(from);
            }
            self.last = s;
        }
    }
    fn flush(chain: Option<Chain<'_>>, out: &mut Vec<(u64, u64, Dist, f64)>) {
        let Some(mut c) = chain else { return };
        if let Some(from) = c.from.take() {
            c.sum += sum_of(c.last) - sum_of(from);
        }
        let (Some(first), Some(last)) = (&c.first.histogram, &c.last.histogram) else { return };
        if let Some(delta) = Dist::of(last).minus(&Dist::of(first)) {
            out.push((c.first.time_ns, c.last.time_ns, delta, c.sum));
        }
    }
    let mut out = Vec::new();
    let mut chain: Option<Chain<'_>> = None;
    let mut prev: Option<&Sample> = None;
    for s in samples {
        let Some(h) = &s.histogram else { continue };
        if let Some(p) = prev {
            let ph = p.histogram.as_deref().unwrap_or(h);
            let valid =
                !new_run(p, s, h.count < ph.count) && s.time_ns > p.time_ns && not_lower(ph, h);
            match (valid.then(|| step_of(s.time_ns)).flatten(), &mut chain) {
                (Some(i), Some(c)) if c.step == i && std::ptr::eq(c.last, p) => c.add(p, s),
                (Some(i), _) => {
                    flush(chain.take(), &mut out);
                    let mut c = Chain { first: p, last: p, step: i, sum: 0.0, from: None };
                    c.add(p, s);
                    chain = Some(c);
                }
                (None, _) => flush(chain.take(), &mut out),
            }
        }
        prev = Some(s);
    }
    flush(chain, &mut out);
    out
}

/// Is `later - earlier` a distribution (`Dist::minus` is some), without making either?
fn not_lower(earlier: &HistogramValue, later: &HistogramValue) -> bool {
    let plain = |h: &HistogramValue| h.exponential.is_none() && !h.bucket_counts.is_empty();
    if plain(earlier) && plain(later) {
        return earlier.bounds == later.bounds
            && earlier.bucket_counts.len() == later.bucket_counts.len()
            && earlier.bucket_counts.iter().zip(&later.bucket_counts).all(|(e, l)| l >= e);
    }
    Dist::of(later).minus(&Dist::of(earlier)).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start_s: u64, time_s: u64, value: f64) -> Sample {
        Sample {
            start_ns: start_s * 1_000_000_000,
            time_ns: time_s * 1_000_000_000,
            value,
            ..Sample::default()
        }
    }

    fn values(inc: &[Increase]) -> Vec<(u64, u64, f64)> {
        inc.iter().map(|i| (i.from_ns / 1_000_000_000, i.to_ns / 1_000_000_000, i.value)).collect()
    }

    #[test]
    fn a_counter_reset_starts_a_new_run_instead_of_a_negative_spike() {
        // 0..30 s counting up, then the process restarts at 40 s (lower value, new start).
        let points =
            [at(0, 10, 5.0), at(0, 20, 15.0), at(0, 30, 30.0), at(35, 40, 2.0), at(35, 50, 12.0)];
        let inc = increases(&points, Temporality::Cumulative, |s| Some(s.value));
        // The first point of each run gives nothing; no negative increase at the reset.
        assert_eq!(values(&inc), vec![(10, 20, 10.0), (20, 30, 15.0), (40, 50, 10.0)]);
    }

    #[test]
    fn a_new_start_time_is_a_reset_even_when_the_value_is_higher() {
        let points = [at(1, 10, 5.0), at(9, 20, 50.0), at(9, 30, 60.0)];
        let inc = increases(&points, Temporality::Cumulative, |s| Some(s.value));
        assert_eq!(values(&inc), vec![(20, 30, 10.0)]);
    }

    #[test]
    fn delta_points_count_over_their_own_interval() {
        let points = [at(1, 10, 5.0), at(10, 20, 10.0), at(20, 30, 15.0)];
        let inc = increases(&points, Temporality::Delta, |s| Some(s.value));
        assert_eq!(values(&inc), vec![(1, 10, 5.0), (10, 20, 10.0), (20, 30, 15.0)]);
        // Without a start time, the interval since the point before.
        let unset = [at(0, 10, 5.0), at(0, 20, 10.0)];
        let inc = increases(&unset, Temporality::Delta, |s| Some(s.value));
        assert_eq!(values(&inc), vec![(10, 10, 5.0), (10, 20, 10.0)]);
    }

    fn hist(start_s: u64, time_s: u64, counts: &[u64], sum: Option<f64>) -> Sample {
        let mut s = at(start_s, time_s, counts.iter().sum::<u64>() as f64);
        s.histogram = Some(Box::new(HistogramValue {
            count: counts.iter().sum(),
            sum,
            bounds: vec![1.0, 2.0],
            bucket_counts: counts.to_vec(),
            ..HistogramValue::default()
        }));
        s
    }

    #[test]
    fn per_step_distributions_are_the_sums_of_the_point_by_point_ones() {
        // Steps of 30 s; a reset at 70 s (new start), a bucket going down at 110 s, a point
        // without a sum, and one without a histogram.
        let points = vec![
            hist(0, 10, &[1, 0, 0], Some(1.0)),
            hist(0, 20, &[2, 1, 0], Some(4.0)),
            hist(0, 30, &[2, 3, 1], Some(9.5)),
            hist(0, 40, &[4, 3, 1], None),
            at(0, 45, 1.0),
            hist(0, 50, &[5, 3, 2], Some(15.0)),
            hist(0, 60, &[5, 4, 2], Some(16.0)),
            hist(65, 70, &[1, 0, 0], Some(0.5)),
            hist(65, 80, &[1, 2, 0], Some(4.0)),
            hist(65, 100, &[3, 2, 1], Some(9.0)),
            hist(65, 110, &[2, 2, 1], Some(9.0)),
            hist(65, 120, &[2, 5, 1], Some(14.0)),
        ];
        let step_of = |t: u64| Some((t / 30_000_000_000) as usize);
        let mut expected: Vec<(u64, Dist, f64)> = vec![(0, Dist::Empty, 0.0); 5];
        for (from, to, d, sum) in dist_increases(&points, Temporality::Cumulative) {
            let e = &mut expected[step_of(to).unwrap()];
            e.0 += to - from;
            assert!(e.1.merge(&d));
            if sum.is_finite() {
                e.2 += sum;
            }
        }
        let mut got: Vec<(u64, Dist, f64)> = vec![(0, Dist::Empty, 0.0); 5];
        let per_step = dist_increases_per_step(&points, Temporality::Cumulative, step_of);
        assert!(per_step.len() < 9, "{} increases", per_step.len());
        for (from, to, d, sum) in per_step {
            let e = &mut got[step_of(to).unwrap()];
            e.0 += to - from;
            assert!(e.1.merge(&d));
            e.2 += sum;
        }
        assert_eq!(got, expected);
        // Hand-checked: step 1 (30..60 s) holds the increases ending at 30, 40 and 50 s:
        // 20→50 s, the point at 50 s minus the one at 20 s.
        assert_eq!(got[1].0, 30_000_000_000);
        assert_eq!(got[1].1, Dist::Explicit { bounds: vec![1.0, 2.0], counts: vec![3, 2, 2] });
    }
}
