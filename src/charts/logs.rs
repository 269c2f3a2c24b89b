//! Pure layouts of the `/logs` page: the histogram's stacked bars (per severity band, most
//! severe at the bottom), a pattern's sparkline and severity mix, and how a long body folds.
//! No Dioxus: `views::logs` draws what these return.

use crate::model::{BandCount, LogHistogram, SeverityBand};

/// The histogram's drawing box (SVG user units; the chart stretches to its width).
pub const HIST_WIDTH: f64 = 1000.0;
pub const HIST_HEIGHT: f64 = 80.0;

/// One bucket of the histogram as drawn: its place, its range (what a click zooms to) and its
/// stacked parts.
#[derive(Clone, Debug, PartialEq)]
pub struct HistBar {
    pub x: f64,
    pub width: f64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub total: u64,
    /// Bottom to top, most severe first; zero counts left out.
    pub parts: Vec<BarPart>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BarPart {
    pub band: SeverityBand,
    pub count: u64,
    pub y: f64,
    pub height: f64,
}

/// The bars of `histogram` in a `HIST_WIDTH` × `HIST_HEIGHT` box: one per bucket, empty
/// buckets included (with no parts), heights linear in the count with the largest bucket
/// full height; a gap of a tenth of a bar between bars, none when bars are thinner than 3.
pub fn histogram_bars(histogram: &LogHistogram) -> Vec<HistBar> {
    let n = histogram.buckets.len();
    if n == 0 {
        return Vec::new();
    }
    let totals: Vec<u64> =
        histogram.buckets.iter().map(|b| b.counts.iter().map(|c| c.count).sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = HIST_WIDTH / n as f64;
    let gap = if slot >= 3.0 { slot / 10.0 } else { 0.0 };
    let mut bars = Vec::with_capacity(n);
    for (i, (bucket, &total)) in histogram.buckets.iter().zip(&totals).enumerate() {
        let mut parts = Vec::new();
        let mut top = HIST_HEIGHT;
        for band in SeverityBand::ALL.iter().rev() {
            let count: u64 =
                bucket.counts.iter().filter(|c| c.band == *band).map(|c| c.count).sum();
            if count == 0 {
                continue;
            }
            let height = count as f64 / max * HIST_HEIGHT;
            top -= height;
            parts.push(BarPart { band: *band, count, y: top, height });
        }
        bars.push(HistBar {
            x: i as f64 * slot + gap / 2.0,
            width: slot - gap,
            start_ns: bucket.start_ns,
            end_ns: bucket_end(histogram, bucket.start_ns),
            total,
            parts,
        });
    }
    bars
}

/// Where the bucket from `start_ns` ends: a step later, not past the histogram's range.
fn bucket_end(histogram: &LogHistogram, start_ns: u64) -> u64 {
    let end = start_ns.saturating_add(histogram.step_ns.max(1));
    if histogram.until_ns > start_ns {
        end.min(histogram.until_ns)
    } else {
        end
    }
}

/// A sparkline's `points` (SVG polyline) for `counts` in a `width` × `height` box, oldest at
/// the left, the largest count at the top; a single count is a flat line; none is empty.
pub fn sparkline_points(counts: &[u64], width: f64, height: f64) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if counts.len() > 1 { width / (counts.len() - 1) as f64 } else { 0.0 };
    let y = |c: u64| height - c as f64 / max * height;
    let mut points: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{:.1},{:.1}", i as f64 * step, y(c)))
        .collect();
    if counts.len() == 1 {
        points.push(format!("{width:.1},{:.1}", y(counts[0])));
    }
    points.join(" ")
}

/// A severity mix as shares of 100 (percent widths), most severe first, zero counts left out.
pub fn severity_mix(counts: &[BandCount]) -> Vec<(SeverityBand, f64)> {
    let total: u64 = counts.iter().map(|c| c.count).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut mix: Vec<(SeverityBand, f64)> = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.band, c.count as f64 * 100.0 / total as f64))
        .collect();
    mix.sort_by_key(|m| std::cmp::Reverse(m.0));
    mix
}

/// The characters of a body shown before it folds.
pub const FOLD_CHARS: usize = 200;

/// How a body shows in the list: all of it, or its start and the rest behind a toggle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fold {
    Whole,
    /// The first line, cut at `FOLD_CHARS` characters; `chars` is the whole body's length.
    Folded {
        head: String,
        chars: usize,
    },
}

/// A body folds when it is longer than `FOLD_CHARS` characters or more than one line.
pub fn fold_body(body: &str) -> Fold {
    let first_line = body.lines().next().unwrap_or("");
    let chars = body.chars().count();
    let one_line = first_line.len() == body.trim_end_matches(['\n', '\r']).len();
    if chars <= FOLD_CHARS && one_line {
        return Fold::Whole;
    }
    Fold::Folded { head: first_line.chars().take(FOLD_CHARS).collect(), chars }
}

/// What the severity column says: the sender's text, else the band's name in capitals
/// (`UNSET` for severity 0).
pub fn severity_label(number: i32, text: &str) -> String {
    if text.trim().is_empty() {
        SeverityBand::of(number).as_str().to_ascii_uppercase()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogBucket;

    fn bucket(start_ns: u64, counts: &[(SeverityBand, u64)]) -> LogBucket {
        LogBucket {
            start_ns,
            counts: counts.iter().map(|&(band, count)| BandCount { band, count }).collect(),
        }
    }

    #[test]
    fn bars_stack_the_most_severe_at_the_bottom_and_scale_to_the_largest() {
        use SeverityBand::*;
        let histogram = LogHistogram {
            since_ns: 0,
            until_ns: 400,
            step_ns: 100,
            buckets: vec![
                bucket(0, &[(Info, 6), (Error, 2)]),
                bucket(100, &[]),
                bucket(200, &[(Warn, 4)]),
                bucket(300, &[(Fatal, 1), (Debug, 1)]),
            ],
        };
        let bars = histogram_bars(&histogram);
        assert_eq!(bars.len(), 4);
        assert_eq!((bars[0].x, bars[0].width), (12.5, 225.0), "a tenth of each 250 is gap");
        assert_eq!((bars[3].start_ns, bars[3].end_ns), (300, 400));
        let parts = |i: usize| {
            bars[i].parts.iter().map(|p| (p.band, p.count, p.y, p.height)).collect::<Vec<_>>()
        };
        assert_eq!(parts(0), [(Error, 2, 60.0, 20.0), (Info, 6, 0.0, 60.0)]);
        assert!(parts(1).is_empty() && bars[1].total == 0);
        assert_eq!(parts(2), [(Warn, 4, 40.0, 40.0)]);
        assert_eq!(parts(3), [(Fatal, 1, 70.0, 10.0), (Debug, 1, 60.0, 10.0)]);
        assert!(histogram_bars(&LogHistogram::default()).is_empty());
    }

    #[test]
    fn thin_bars_have_no_gap_and_the_last_ends_at_the_range() {
        let histogram = LogHistogram {
            since_ns: 0,
            until_ns: 950,
            step_ns: 1,
            buckets: (0..500).map(|i| bucket(i, &[(SeverityBand::Info, 1)])).collect(),
        };
        let bars = histogram_bars(&histogram);
        assert_eq!((bars[1].x, bars[1].width), (2.0, 2.0));
        assert_eq!(bars[499].end_ns, 500);
    }

    #[test]
    fn sparklines_span_the_box() {
        assert_eq!(sparkline_points(&[0, 5, 10], 100.0, 20.0), "0.0,20.0 50.0,10.0 100.0,0.0");
        assert_eq!(sparkline_points(&[3], 100.0, 20.0), "0.0,0.0 100.0,0.0");
        assert_eq!(sparkline_points(&[0, 0], 10.0, 4.0), "0.0,4.0 10.0,4.0");
        assert_eq!(sparkline_points(&[], 10.0, 4.0), "");
    }

    #[test]
    fn mixes_are_percent_most_severe_first() {
        use SeverityBand::*;
        let counts = [
            BandCount { band: Info, count: 3 },
            BandCount { band: Error, count: 1 },
            BandCount { band: Warn, count: 0 },
        ];
        assert_eq!(severity_mix(&counts), [(Error, 25.0), (Info, 75.0)]);
        assert!(severity_mix(&[]).is_empty());
    }

    #[test]
    fn long_or_multi_line_bodies_fold_at_their_first_line() {
        assert_eq!(fold_body("short"), Fold::Whole);
        assert_eq!(fold_body("ends with a newline\n"), Fold::Whole);
        assert_eq!(
            fold_body("Traceback:\n  at x\n  at y"),
            Fold::Folded { head: "Traceback:".into(), chars: 24 }
        );
        let long = "é".repeat(500);
        assert_eq!(fold_body(&long), Fold::Folded { head: "é".repeat(200), chars: 500 });
        assert_eq!(fold_body(&"a".repeat(200)), Fold::Whole);
    }

    #[test]
    fn severity_labels_prefer_the_senders_text() {
        assert_eq!(severity_label(17, "Error"), "Error");
        assert_eq!(severity_label(13, ""), "WARN");
        assert_eq!(severity_label(0, " "), "UNSET");
        assert_eq!(severity_label(99, ""), "UNSET");
    }
}
