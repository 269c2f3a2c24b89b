//! Per series, the OTLP metrics data model's rules that turn stored points into what a chart
//! shows: increases of counters (cumulative: the difference from the point before in the same
//! run; a reset, a lower value or a new start time, starts a new run and the first point of a
//! run gives nothing; delta: the point's own value over its own interval), gauge values, and
//! distributions made deltas the same way. Pure functions over `store::Sample`s in time order.

use otelscope_app::model::Temporality;

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
}
