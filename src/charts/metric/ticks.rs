//! Value-axis ticks on round numbers (1, 2, 2.5 or 5 times a power of ten), covering a range.

/// The axis' range and its ticks, the first at `lo` and the last at `hi`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NiceTicks {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

/// About `count` round ticks covering `lo..=hi` (`lo < hi`).
pub(crate) fn nice_ticks(lo: f64, hi: f64, count: usize) -> NiceTicks {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let ticks: Vec<f64> = (0..=((last - first) as i64).clamp(1, 50))
        .map(|i| {
            let t = (first + i as f64) * step;
            // 0.6000000000000001 → 0.6: ticks print as the round numbers they are.
            let scale = 10f64.powi(((-step.log10()).ceil() as i32 + 2).clamp(0, 15));
            (t * scale).round() / scale
        })
        .collect();
    NiceTicks { lo: ticks[0], hi: *ticks.last().unwrap_or(&hi), ticks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = nice_ticks(0.0, 0.93, 5);
        assert_eq!(t.ticks, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!((t.lo, t.hi), (0.0, 1.0));
        let t = nice_ticks(0.0, 37.0, 5);
        assert_eq!(t.ticks, [0.0, 10.0, 20.0, 30.0, 40.0]);
        let t = nice_ticks(-3.0, 12.0, 5);
        assert_eq!((t.lo, t.hi), (-5.0, 15.0));
        let t = nice_ticks(0.0, 1e-9, 4);
        assert!(t.hi >= 1e-9 && t.ticks.len() <= 6, "{t:?}");
    }
}
