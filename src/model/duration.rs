//! How a duration that is an estimate reads: percentiles (the store's histograms are within 1%)
//! and other aggregates of many spans, in one rule for every page, renderer and sentence.

/// A percentile or another aggregate of durations (a mean, the slowest of a histogram), with
/// the three significant digits a 1% error allows: `973 ms`, `19.9 ms`, `1.00 s`, `250 µs`,
/// `1.50 µs`; whole nanoseconds below a microsecond (`850 ns`); past two minutes in minutes,
/// past two hours in hours (`2.50 min`, `3.00 h`). Zero is `0`: it has no unit to be wrong in.
pub fn format_estimate(ns: u64) -> String {
    if ns == 0 {
        return "0".into();
    }
    let x = ns as f64;
    // Each unit from where its three digits round to 1.00 (999.5 of the unit below).
    let (value, unit) = if x < 999.5 {
        return format!("{ns} ns");
    } else if x < 999_500.0 {
        (x / 1e3, "µs")
    } else if x < 999_500_000.0 {
        (x / 1e6, "ms")
    } else if x < 120e9 {
        (x / 1e9, "s")
    } else if x < 7200e9 {
        (x / 60e9, "min")
    } else {
        (x / 3600e9, "h")
    };
    let decimals = if value < 9.995 {
        2
    } else if value < 99.95 {
        1
    } else {
        0
    };
    format!("{value:.decimals$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_in_the_unit_that_reads_best() {
        let table: &[(u64, &str)] = &[
            (0, "0"),
            (1, "1 ns"),
            (77, "77 ns"),
            (999, "999 ns"),
            (1_000, "1.00 µs"),
            (1_500, "1.50 µs"),
            (9_994, "9.99 µs"),
            (9_996, "10.0 µs"),
            (99_960, "100 µs"),
            (250_000, "250 µs"),
            (999_499, "999 µs"),
            (999_600, "1.00 ms"),
            (1_250_000, "1.25 ms"),
            (19_920_000, "19.9 ms"),
            (120_061_952, "120 ms"),
            // Issue 26's fixed 1 s, as the old 6.25% histogram read it and as the new one does.
            (973_078_528, "973 ms"),
            (1_002_438_656, "1.00 s"),
            (3_200_000_000, "3.20 s"),
            (119_000_000_000, "119 s"),
            (150_000_000_000, "2.50 min"),
            (3_600_000_000_000, "60.0 min"),
            (10_800_000_000_000, "3.00 h"),
            (u64::MAX, "5124096 h"),
        ];
        for &(ns, want) in table {
            assert_eq!(format_estimate(ns), want, "{ns} ns");
        }
    }
}
