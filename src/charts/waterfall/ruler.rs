//! Pure time ruler of the waterfall and its minimap: ticks on nice steps (1, 2, 2.5, 5 × 10ⁿ,
//! then whole minutes) over the time range in view, labelled from the trace's start in the
//! unit of the step (ns, µs, ms, s, min). Computed once per render, never per row.

/// One tick: where it is across the range (0..=1) and what it says (`25 ms`).
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// At most this many intervals between ticks, so labels of a 400 px track never touch.
pub const MAX_INTERVALS: u64 = 8;

const MINUTE: u64 = 60_000_000_000;

/// Ticks over `from_ns..to_ns`, offsets from the trace's start: a zoomed view passes its own
/// range and the ticks follow it. An empty range has the one tick at its start.
pub fn ticks(from_ns: u64, to_ns: u64) -> Vec<Tick> {
    let span = to_ns.saturating_sub(from_ns);
    let step = step_for(span);
    let (unit, name) = unit_of(step, to_ns);
    let mut out = Vec::new();
    let mut t = from_ns.div_ceil(step) * step;
    while t <= to_ns {
        let at = if span == 0 { 0.0 } else { (t - from_ns) as f64 / span as f64 };
        // As few decimals as the value needs (0.25 s, 0.5 s, 1 s), at most 3.
        let mut decimals = 0;
        while decimals < 3 && t.saturating_mul(10u64.pow(decimals)) % unit != 0 {
            decimals += 1;
        }
        let value = t as f64 / unit as f64;
        out.push(Tick { at, label: format!("{value:.0$} {name}", decimals as usize) });
        t += step;
    }
    out
}

/// The smallest nice step that cuts `span` into at most `MAX_INTERVALS` intervals: 1, 2, 2.5,
/// 5 × 10ⁿ ns up to seconds, then 10, 15, 20, 30 s, then 1, 2, 5, 10, 15, 30 min, then hours.
pub fn step_for(span: u64) -> u64 {
    let fits = |step: u64| span <= step * MAX_INTERVALS;
    let mut decade = 1u64;
    while decade <= 1_000_000_000 {
        for step in [decade, decade * 2, decade * 5 / 2, decade * 5] {
            if step > 0 && fits(step) {
                return step;
            }
        }
        decade *= 10;
    }
    let seconds = [10, 15, 20, 30].map(|s| s * 1_000_000_000);
    let minutes = [1, 2, 5, 10, 15, 30].map(|m| m * MINUTE);
    if let Some(step) = seconds.into_iter().chain(minutes).find(|&s| fits(s)) {
        return step;
    }
    let mut hours = 1;
    while !fits(hours * 60 * MINUTE) {
        hours *= 2;
    }
    hours * 60 * MINUTE
}

/// The unit of the labels: minutes for whole-minute steps, else the largest of ns, µs, ms
/// and s not above the last label (`to_ns`), so `0.5 s` rather than `500 ms` on a 3 s range.
fn unit_of(step: u64, to_ns: u64) -> (u64, &'static str) {
    if step >= MINUTE {
        return (MINUTE, "min");
    }
    match to_ns.max(step) {
        1_000_000_000.. => (1_000_000_000, "s"),
        1_000_000.. => (1_000_000, "ms"),
        1_000.. => (1_000, "µs"),
        _ => (1, "ns"),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;

    fn check(from_ns: u64, to_ns: u64, expected: Expect) {
        let ticks = ticks(from_ns, to_ns);
        let text: Vec<String> = ticks.iter().map(|t| format!("{:.3} {}", t.at, t.label)).collect();
        expected.assert_eq(&text.join(" | "));
    }

    #[test]
    fn microseconds() {
        check(0, 37_000, expect!["0.000 0 µs | 0.135 5 µs | 0.270 10 µs | 0.405 15 µs | 0.541 20 µs | 0.676 25 µs | 0.811 30 µs | 0.946 35 µs"]);
        check(
            0,
            900,
            expect!["0.000 0 ns | 0.222 200 ns | 0.444 400 ns | 0.667 600 ns | 0.889 800 ns"],
        );
    }

    #[test]
    fn milliseconds_on_steps_of_25() {
        check(0, 190_000_000, expect!["0.000 0 ms | 0.132 25 ms | 0.263 50 ms | 0.395 75 ms | 0.526 100 ms | 0.658 125 ms | 0.789 150 ms | 0.921 175 ms"]);
        check(0, 18_000_000, expect!["0.000 0 ms | 0.139 2.5 ms | 0.278 5 ms | 0.417 7.5 ms | 0.556 10 ms | 0.694 12.5 ms | 0.833 15 ms | 0.972 17.5 ms"]);
    }

    #[test]
    fn seconds_and_minutes() {
        check(0, 3_200_000_000, expect!["0.000 0 s | 0.156 0.5 s | 0.312 1 s | 0.469 1.5 s | 0.625 2 s | 0.781 2.5 s | 0.938 3 s"]);
        check(0, 90_000_000_000, expect!["0.000 0 s | 0.167 15 s | 0.333 30 s | 0.500 45 s | 0.667 60 s | 0.833 75 s | 1.000 90 s"]);
        check(0, 1_500_000, expect!["0.000 0 ms | 0.133 0.2 ms | 0.267 0.4 ms | 0.400 0.6 ms | 0.533 0.8 ms | 0.667 1 ms | 0.800 1.2 ms | 0.933 1.4 ms"]);
        check(0, 7 * 60_000_000_000, expect!["0.000 0 min | 0.143 1 min | 0.286 2 min | 0.429 3 min | 0.571 4 min | 0.714 5 min | 0.857 6 min | 1.000 7 min"]);
        check(0, 90 * 60_000_000_000, expect!["0.000 0 min | 0.167 15 min | 0.333 30 min | 0.500 45 min | 0.667 60 min | 0.833 75 min | 1.000 90 min"]);
    }

    #[test]
    fn a_zoomed_range_has_its_own_ticks_labelled_from_the_trace_start() {
        check(40_000_000, 60_000_000, expect!["0.000 40 ms | 0.125 42.5 ms | 0.250 45 ms | 0.375 47.5 ms | 0.500 50 ms | 0.625 52.5 ms | 0.750 55 ms | 0.875 57.5 ms | 1.000 60 ms"]);
    }

    #[test]
    fn an_empty_range_has_one_tick() {
        check(0, 0, expect!["0.000 0 ns"]);
    }

    #[test]
    fn never_more_than_max_intervals() {
        for span in
            [7, 999, 12_345, 1_000_001, 987_654_321, 59_999_999_999, 3_600_000_000_000, 1 << 50]
        {
            let n = ticks(0, span).len() as u64;
            assert!((4..=MAX_INTERVALS + 1).contains(&n), "{span}: {n} ticks");
        }
    }
}
