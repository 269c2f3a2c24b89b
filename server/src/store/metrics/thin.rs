//! Which points of a cumulative explicit-bucket histogram series a chart needs whole: the
//! series is read lean (`codec::Take::Lean`: histograms parsed into an arena, none made),
//! merged in time order, then only those points get their histogram (`Thin::apply`).

use super::codec::{Arena, Slot};
use super::Sample;

/// A chart of a cumulative explicit-bucket histogram in steps of `step_ns` from `since_ns`,
/// over the points in `[lo_ns, hi_ns]`. A point gets its histogram when it is the first or
/// last, the last of its step, or at either end of an increase that is not ordinary.
/// Ordinary: from a plain explicit-bucket histogram with a finite sum to another, later, with
/// the same start time, bounds and bucket count, and no count or bucket lower. Between two
/// points that get theirs every increase is ordinary, so the increases telescope (the later
/// minus the earlier is their sum: counts and buckets exactly, observation sums as the chart
/// adds them, see `query::metrics::series`), and a chart's step needs nothing else.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thin {
    pub since_ns: u64,
    pub step_ns: u64,
    pub lo_ns: u64,
    pub hi_ns: u64,
}

impl Thin {
    /// Gives the points of one series (in time order, their `slots` beside them) the
    /// histograms the chart needs; the others keep `None`.
    pub fn apply(&self, samples: &mut [Sample], slots: &[Slot], arena: &Arena) {
        let n = samples.len().min(slots.len());
        // Each pair's step and break are worked out once, carried from point to point.
        let mut step = samples.first().map(|s| self.step_of(s.time_ns));
        let mut broke_before = true;
        for k in 0..n {
            let next = (k + 1 < n).then(|| {
                let next_step = self.step_of(samples[k + 1].time_ns);
                let broke =
                    breaks(arena, (&slots[k], &samples[k]), (&slots[k + 1], &samples[k + 1]));
                (next_step, broke)
            });
            let keep = match next {
                None => true,
                Some((next_step, broke_after)) => {
                    broke_before || broke_after || Some(next_step) != step
                }
            };
            if keep {
                samples[k].histogram = arena.value(&slots[k]).map(Box::new);
            }
            if let Some((next_step, broke_after)) = next {
                (step, broke_before) = (Some(next_step), broke_after);
            }
        }
    }

    /// The step of `time_ns`; times outside the range each side get a step of their own.
    fn step_of(&self, time_ns: u64) -> i128 {
        if time_ns < self.lo_ns {
            return i128::MIN;
        }
        if time_ns > self.hi_ns {
            return i128::MAX;
        }
        let step = self.step_ns.max(1);
        // In u64 when the time is at or after `since_ns` (a 128-bit division showed in profiles).
        match time_ns.checked_sub(self.since_ns) {
            Some(from) => i128::from(from / step),
            None => (i128::from(time_ns) - i128::from(self.since_ns)).div_euclid(i128::from(step)),
        }
    }
}

/// Is the increase from `p` to `c` not ordinary (see `Thin`)?
fn breaks(arena: &Arena, (p, ps): (&Slot, &Sample), (c, cs): (&Slot, &Sample)) -> bool {
    let (
        Slot::Plain { count: pn, sum: Some(psum), bounds: pb, .. },
        Slot::Plain { count: cn, sum: Some(csum), bounds: cb, .. },
    ) = (p, c)
    else {
        return true;
    };
    let (pc, cc) = (arena.counts(p), arena.counts(c));
    !psum.is_finite()
        || !csum.is_finite()
        || cs.time_ns <= ps.time_ns
        || cs.start_ns != ps.start_ns
        || cn < pn
        || pb != cb
        || pc.len() != cc.len()
        || pc.iter().zip(cc).any(|(a, b)| b < a)
}
