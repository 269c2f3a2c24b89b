//! RED (rate, errors, duration) over time, pure: a `RedSeries` into the three charts' lines (drawn
//! by the metric chart's layout), sparklines as SVG points, and the time under a dragged pixel.
//! The charts' time axis fits the steps with requests when they cover under half of the range
//! (`red_window`, by the one rule `/cache` uses too: `plot::line::fit_to_data`).

use crate::charts::metric::layout::{metric_chart, Chart, Line};
use crate::charts::metric::units::Per;
use crate::charts::plot::line::fit_to_data;
use crate::charts::plot::Drawing;
use crate::model::RedSeries;

/// The metric chart's plot area: 14 px margin and 70 px of y labels on the left, 14 px margin
/// on the right (`charts::metric::layout`; a test holds them to it).
pub(crate) const PLOT_LEFT: f64 = 84.0;
pub(crate) const PLOT_RIGHT: f64 = 14.0;

/// Which of the three charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RedChart {
    Rate,
    Errors,
    Latency,
}

impl RedChart {
    pub(crate) const ALL: [RedChart; 3] = [RedChart::Rate, RedChart::Errors, RedChart::Latency];

    pub(crate) fn title(self) -> &'static str {
        match self {
            RedChart::Rate => "Requests per second",
            RedChart::Errors => "Errors (% of requests)",
            RedChart::Latency => "Latency (p50, p95, p99)",
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            RedChart::Rate => "rate",
            RedChart::Errors => "errors",
            RedChart::Latency => "latency",
        }
    }

    /// The chart's unit and how its values relate to it.
    fn unit(self) -> (&'static str, Per) {
        match self {
            RedChart::Rate => ("1", Per::Second),
            RedChart::Errors => ("%", Per::Value),
            RedChart::Latency => ("ms", Per::Value),
        }
    }
}

fn ms(values: &[Option<u64>]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.map(|ns| ns as f64 / 1e6)).collect()
}

/// The lines of one chart of `series`.
pub(crate) fn red_lines(series: &RedSeries, chart: RedChart) -> Vec<Line> {
    let line = |key: &str, label: &str, values: Vec<Option<f64>>, color: usize| Line {
        key: key.into(),
        label: label.into(),
        values,
        color,
    };
    match chart {
        RedChart::Rate => {
            vec![line(
                "rate",
                "requests/s",
                (0..series.len()).map(|i| Some(series.rate(i))).collect(),
                0,
            )]
        }
        RedChart::Errors => {
            vec![line(
                "errors",
                "error %",
                (0..series.len()).map(|i| series.error_pct(i)).collect(),
                3,
            )]
        }
        RedChart::Latency => vec![
            line("p50", "p50", ms(&series.p50_ns), 1),
            line("p95", "p95", ms(&series.p95_ns), 2),
            line("p99", "p99", ms(&series.p99_ns), 4),
        ],
    }
}

/// The time range the charts of `series` over `since_ns..until_ns` draw: the steps with
/// requests when they cover under half of the range (fitted: `true`), else the whole range.
pub(crate) fn red_window(series: &RedSeries, since_ns: u64, until_ns: u64) -> (u64, u64, bool) {
    let times: Vec<u64> =
        (0..series.len()).filter(|&i| series.requests[i] > 0).map(|i| series.time_ns(i)).collect();
    match fit_to_data(since_ns, until_ns, &times, series.step_ns) {
        Some((from, to)) => {
            // From the start of the step that holds `from`, so steps stay whole.
            let into = from.saturating_sub(series.since_ns) % series.step_ns.max(1);
            (from - into, to, true)
        }
        None => (since_ns, until_ns, false),
    }
}

/// The window every service's sparklines draw, fitted together (one time axis for all the
/// cards): the steps with requests of any of `all`, when they cover under half of the range;
/// `None`: the whole range.
pub(crate) fn spark_window<'a>(all: impl IntoIterator<Item = &'a RedSeries>) -> Option<(u64, u64)> {
    let mut times = Vec::new();
    let mut range: Option<(u64, u64, u64)> = None;
    for s in all {
        let end = s.time_ns(s.len());
        range = Some(match range {
            None => (s.since_ns, end, s.step_ns),
            Some((a, b, step)) => (a.min(s.since_ns), b.max(end), step),
        });
        times.extend((0..s.len()).filter(|&i| s.requests[i] > 0).map(|i| s.time_ns(i)));
    }
    let (since, until, step) = range?;
    fit_to_data(since, until, &times, step)
}

/// The steps of `series` that start in `from..to`.
pub(crate) fn steps_in(series: &RedSeries, from: u64, to: u64) -> RedSeries {
    let keep: Vec<usize> =
        (0..series.len()).filter(|&i| (from..to).contains(&series.time_ns(i))).collect();
    let (Some(&first), Some(&last)) = (keep.first(), keep.last()) else {
        return RedSeries { since_ns: from, step_ns: series.step_ns, ..RedSeries::default() };
    };
    let cut = |v: &Vec<Option<u64>>| v.get(first..=last).unwrap_or_default().to_vec();
    RedSeries {
        since_ns: series.time_ns(first),
        step_ns: series.step_ns,
        requests: series.requests[first..=last].to_vec(),
        errors: series.errors.get(first..=last).unwrap_or_default().to_vec(),
        p50_ns: cut(&series.p50_ns),
        p95_ns: cut(&series.p95_ns),
        p99_ns: cut(&series.p99_ns),
    }
}

/// One of the three charts of `series` over `since_ns..until_ns` (fitted to its data by
/// [`red_window`]), `width` px wide.
pub(crate) fn red_chart(
    series: &RedSeries,
    since_ns: u64,
    until_ns: u64,
    chart: RedChart,
    width: u32,
) -> Drawing {
    let (since_ns, until_ns, fitted) = red_window(series, since_ns, until_ns);
    let part;
    let series = if fitted {
        part = steps_in(series, since_ns, until_ns);
        &part
    } else {
        series
    };
    let lines = red_lines(series, chart);
    let (unit, per) = chart.unit();
    let spec = Chart {
        since_ns,
        until_ns,
        step_ns: series.step_ns,
        unit,
        per,
        lines: &lines,
        heatmap: None,
        exemplars: &[],
    };
    metric_chart(&spec, width).0
}

/// The time (Unix ns) at `fraction` (0..=1) of a chart's box `width` px wide over
/// `since_ns..until_ns`, clamped to the plot area.
pub(crate) fn time_at(fraction: f64, width: f64, since_ns: u64, until_ns: u64) -> u64 {
    let plot = (width - PLOT_LEFT - PLOT_RIGHT).max(1.0);
    let x = (fraction * width - PLOT_LEFT).clamp(0.0, plot);
    let span = until_ns.saturating_sub(since_ns) as f64;
    since_ns + (span * x / plot).round() as u64
}

/// A sparkline's points (`x,y x,y …`) in a `width`×`height` box: each value against the
/// largest (or `top`, when given), the lowest at the bottom; `None` values are gaps, drawn as 0.
/// One value (a new server's first step) is a flat line across the box: a polyline of one
/// point draws nothing.
pub(crate) fn sparkline(
    values: &[Option<f64>],
    width: f64,
    height: f64,
    top: Option<f64>,
) -> String {
    if values.is_empty() {
        return String::new();
    }
    let max = top.unwrap_or_else(|| values.iter().flatten().copied().fold(0.0, f64::max));
    let max = if max > 0.0 { max } else { 1.0 };
    let step = if values.len() > 1 { width / (values.len() - 1) as f64 } else { 0.0 };
    let y =
        |v: &Option<f64>| height - 1.0 - (height - 2.0) * v.unwrap_or(0.0).clamp(0.0, max) / max;
    if let [only] = values {
        let y = y(only);
        return format!("0.0,{y:.1} {width:.1},{y:.1}");
    }
    let mut out = String::with_capacity(values.len() * 10);
    for (i, v) in values.iter().enumerate() {
        let (x, y) = (i as f64 * step, y(v));
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{x:.1},{y:.1}"));
    }
    out
}

/// The three sparklines of a service's series: rate, error % (out of the largest, at least
/// 5 %, so a trickle of errors stays low) and p95 (ms).
pub(crate) fn spark_values(series: &RedSeries) -> [Vec<Option<f64>>; 3] {
    [
        (0..series.len()).map(|i| Some(series.rate(i))).collect(),
        (0..series.len()).map(|i| series.error_pct(i)).collect(),
        ms(&series.p95_ns),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::plot::Primitive;

    fn series() -> RedSeries {
        RedSeries {
            since_ns: 0,
            step_ns: 10_000_000_000,
            requests: vec![10, 20, 0, 40],
            errors: vec![0, 5, 0, 10],
            p50_ns: vec![Some(1_000_000), Some(2_000_000), None, Some(3_000_000)],
            p95_ns: vec![Some(5_000_000), Some(9_000_000), None, Some(12_000_000)],
            p99_ns: vec![Some(8_000_000), Some(20_000_000), None, Some(30_000_000)],
        }
    }

    #[test]
    fn lines_of_each_chart() {
        let s = series();
        let rate = red_lines(&s, RedChart::Rate);
        assert_eq!(rate[0].values, vec![Some(1.0), Some(2.0), Some(0.0), Some(4.0)]);
        let errors = red_lines(&s, RedChart::Errors);
        assert_eq!(errors[0].values, vec![Some(0.0), Some(25.0), None, Some(25.0)]);
        let latency = red_lines(&s, RedChart::Latency);
        assert_eq!(
            latency.iter().map(|l| l.key.as_str()).collect::<Vec<_>>(),
            ["p50", "p95", "p99"]
        );
        assert_eq!(latency[2].values[3], Some(30.0));
    }

    #[test]
    fn plot_area_matches_the_metric_layout() {
        // The x axis line runs from PLOT_LEFT to width - PLOT_RIGHT: drags map to the right time.
        let drawing = red_chart(&series(), 0, 40_000_000_000, RedChart::Latency, 800);
        let xs: Vec<i32> = drawing
            .primitives
            .iter()
            .filter_map(|p| match p {
                Primitive::Line { from, to, .. } if from.1 == to.1 => Some(from.0.min(to.0)),
                Primitive::Path { points, .. }
                    if points.len() == 2 && points[0].1 == points[1].1 =>
                {
                    Some(points[0].0.min(points[1].0))
                }
                _ => None,
            })
            .collect();
        assert!(xs.contains(&(PLOT_LEFT as i32)), "horizontal lines start at {xs:?}");
        assert_eq!(time_at(PLOT_LEFT / 800.0, 800.0, 0, 100), 0);
        assert_eq!(time_at(1.0, 800.0, 0, 100), 100);
        assert_eq!(time_at(0.0, 800.0, 1_000, 2_000), 1_000, "left of the plot clamps");
        let mid = (PLOT_LEFT + (800.0 - PLOT_LEFT - PLOT_RIGHT) / 2.0) / 800.0;
        assert_eq!(time_at(mid, 800.0, 0, 100), 50);
    }

    #[test]
    fn a_few_minutes_of_an_hour_are_fitted() {
        let s = 1_000_000_000u64;
        let (since, until) = (3_600 * s, 7_200 * s);
        // 10 s steps over the hour, requests in the last 3 minutes only.
        let steps = 360;
        let mut series = RedSeries {
            since_ns: since,
            step_ns: 10 * s,
            requests: vec![0; steps],
            errors: vec![0; steps],
            p50_ns: vec![None; steps],
            p95_ns: vec![None; steps],
            p99_ns: vec![None; steps],
        };
        for i in 342..steps {
            series.requests[i] = 5;
            series.p95_ns[i] = Some(7_000_000);
        }
        let (from, to, fitted) = red_window(&series, since, until);
        assert!(fitted);
        assert_eq!((from, to), (since + 3_420 * s, until));
        let part = steps_in(&series, from, to);
        assert_eq!((part.since_ns, part.len()), (from, 18));
        assert!(part.requests.iter().all(|&n| n == 5));
        // The chart's x axis is the fitted window: its tick labels are within the last minutes.
        let drawn = red_chart(&series, since, until, RedChart::Rate, 800);
        assert!(!drawn.empty);
        // Requests over most of the hour: the whole range.
        for i in 10..steps {
            series.requests[i] = 1;
        }
        assert_eq!(red_window(&series, since, until), (since, until, false));
        // Sparklines fit every service's data together.
        let early = RedSeries { requests: vec![0; steps], ..series.clone() };
        assert_eq!(spark_window([&early, &early]), None, "no requests: the whole range");
        let mut other = early.clone();
        other.requests[300] = 1;
        let mut late = early.clone();
        late.requests[350] = 2;
        assert_eq!(spark_window([&late, &other]), Some((since + 3_000 * s, since + 3_510 * s)));
        // No requests at all: the whole range.
        let empty = RedSeries { since_ns: since, step_ns: 10 * s, ..RedSeries::default() };
        assert_eq!(red_window(&empty, since, until), (since, until, false));
    }

    #[test]
    fn sparkline_points() {
        assert_eq!(sparkline(&[], 100.0, 20.0, None), "");
        assert_eq!(
            sparkline(&[Some(0.0), Some(2.0), None], 100.0, 20.0, None),
            "0.0,19.0 50.0,1.0 100.0,19.0"
        );
        // One step of data (a new server's first 10 s): a flat line across the box.
        assert_eq!(sparkline(&[Some(1.0)], 100.0, 20.0, Some(4.0)), "0.0,14.5 100.0,14.5");
        assert_eq!(sparkline(&[None], 100.0, 20.0, None), "0.0,19.0 100.0,19.0");
    }
}
