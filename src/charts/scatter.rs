//! The duration-over-time scatter of trace search results: `layout` is pure (points → dots
//! as fractions of the plot, with axis labels; `log_scale` decides the y axis); `DurationScatter`
//! draws it, dots linking to their traces. It plots every match of the search in its range (the
//! answer's `points`, up to the count cap), not only the page's rows.

use dioxus::prelude::*;

use crate::components::Zone;
use crate::model::{TracePoint, TraceSummary};
use crate::platform;
use crate::routes::Route;
use crate::words::{format_duration, format_start};

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dot {
    /// Where the dot goes, as fractions of the plot area: start time left to right, duration
    /// bottom (0) to top (the longest).
    pub x: f64,
    pub y: f64,
    pub trace_id: String,
    pub error: bool,
    pub title: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Scatter {
    pub dots: Vec<Dot>,
    /// Label of the top of the y axis (the longest duration).
    pub y_max_label: String,
    /// Label of the bottom: `0` on a linear axis, the shortest duration on a log one.
    pub y_min_label: String,
    /// Whether the y axis is logarithmic (`log_scale`).
    pub log: bool,
    /// Time axis labels: (fraction from the left, start time), at the first, middle and last
    /// start (one when all start together).
    pub x_labels: Vec<(f64, String)>,
}

/// Whether durations spread so far that a linear axis would flatten most dots: the longest is
/// over 20 times the median (one outlier over a cluster) and over 100 times the shortest.
/// Fewer than 3 points never need it.
pub(crate) fn log_scale(durations: &[u64]) -> bool {
    if durations.len() < 3 {
        return false;
    }
    let mut sorted: Vec<u64> = durations.iter().map(|d| (*d).max(1)).collect();
    sorted.sort_unstable();
    let (min, median, max) = (sorted[0], sorted[sorted.len() / 2], sorted[sorted.len() - 1]);
    max >= median.saturating_mul(20) && max >= min.saturating_mul(100)
}

/// The points of a page's rows, for answers without `points` (servers before them).
pub(crate) fn points_of(traces: &[TraceSummary]) -> Vec<TracePoint> {
    traces
        .iter()
        .map(|t| TracePoint {
            trace_id: t.trace_id.clone(),
            start_ns: t.start_ns,
            duration_ns: t.duration_ns,
            error_count: t.error_count,
        })
        .collect()
}

/// Places one dot per point: x by start time, y by duration (0 at the bottom, or the shortest
/// on a log axis); times in a zone `offset_min` east of UTC, as seen at `now_ns`.
pub(crate) fn layout(points: &[TracePoint], offset_min: i32, now_ns: u64) -> Scatter {
    let Some(t0) = points.iter().map(|t| t.start_ns).min() else { return Scatter::default() };
    let t1 = points.iter().map(|t| t.start_ns).max().unwrap_or(t0);
    let durations: Vec<u64> = points.iter().map(|t| t.duration_ns).collect();
    let d_max = durations.iter().copied().max().unwrap_or(0).max(1);
    let d_min = durations.iter().copied().min().unwrap_or(0).max(1);
    let log = log_scale(&durations);
    let y = |d: u64| {
        if log {
            ((d.max(1) as f64).ln() - (d_min as f64).ln())
                / ((d_max as f64).ln() - (d_min as f64).ln())
        } else {
            d as f64 / d_max as f64
        }
    };
    let span = (t1 - t0).max(1) as f64;
    let dots = points
        .iter()
        .map(|t| Dot {
            x: if t1 == t0 { 0.5 } else { (t.start_ns - t0) as f64 / span },
            y: y(t.duration_ns),
            trace_id: t.trace_id.clone(),
            error: t.error_count > 0,
            title: format!(
                "{} — {}",
                format_duration(t.duration_ns),
                format_start(t.start_ns, now_ns, offset_min)
            ),
        })
        .collect();
    let label = |ns: u64| format_start(ns, now_ns, offset_min);
    let x_labels = if t1 == t0 {
        vec![(0.5, label(t0))]
    } else {
        vec![(0.0, label(t0)), (0.5, label(t0 + (t1 - t0) / 2)), (1.0, label(t1))]
    };
    let y_min_label = if log { format_duration(d_min) } else { "0".into() };
    Scatter { dots, y_max_label: format_duration(d_max), y_min_label, log, x_labels }
}

/// The scatter as HTML over the panel's whole width: dots are links to their traces (out of
/// the tab order: the table below has the same links), the axes say what they measure.
#[component]
pub(crate) fn DurationScatter(points: Vec<TracePoint>) -> Element {
    let now_ms = platform::now_ms();
    let offset = use_context::<Zone>().offset_at(now_ms);
    let scatter = layout(&points, offset, (now_ms * 1e6) as u64);
    let count = scatter.dots.len();
    rsx! {
        div { class: "scatter", "aria-hidden": "true", "data-points": "{count}", "data-scale": if scatter.log { "log" } else { "linear" },
            span { class: "axis-title y-title", if scatter.log { "duration (log)" } else { "duration" } }
            span { class: "axis-label y-max", "{scatter.y_max_label}" }
            span { class: "axis-label y-zero", "{scatter.y_min_label}" }
            div { class: "scatter-plot",
                for dot in scatter.dots {
                    Link {
                        key: "{dot.trace_id}",
                        class: if dot.error { "dot dot-error" } else { "dot" },
                        to: Route::TraceDetail { trace_id: dot.trace_id.clone() },
                        tabindex: "-1",
                        style: "left: {dot.x * 100.0:.2}%; bottom: {dot.y * 100.0:.2}%",
                        "data-trace-id": "{dot.trace_id}",
                        title: "{dot.title}",
                    }
                }
            }
            div { class: "scatter-x",
                for (at, text) in scatter.x_labels {
                    span { class: "axis-label", style: "left: {at * 100.0:.1}%", "{text}" }
                }
                span { class: "axis-title x-title", "start time" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, start: u64, duration: u64, errors: u64) -> TraceSummary {
        TraceSummary {
            trace_id: id.into(),
            root_service: "api".into(),
            root_name: "GET /".into(),
            start_ns: start,
            duration_ns: duration,
            span_count: 1,
            error_count: errors,
            ..TraceSummary::default()
        }
    }

    /// 2026-11-27 10:00:00 UTC, in ns.
    const NOW: u64 = 1_795_773_600_000_000_000;

    fn lay(traces: &[TraceSummary], offset: i32, now: u64) -> Scatter {
        layout(&points_of(traces), offset, now)
    }

    #[test]
    fn a_log_axis_only_when_one_outlier_would_flatten_the_rest() {
        const MS: u64 = 1_000_000;
        assert!(!log_scale(&[]) && !log_scale(&[1, 1_000_000]), "two points: linear");
        assert!(!log_scale(&[10 * MS, 12 * MS, 30 * MS, 90 * MS]), "a normal spread");
        assert!(log_scale(&[MS, 2 * MS, 2 * MS, 3 * MS, 5_000 * MS]), "one 5 s outlier over ms");
        // A wide but even spread (no cluster under the top) stays linear.
        assert!(!log_scale(&[MS, 50 * MS, 100 * MS, 150 * MS, 200 * MS]));
        assert!(log_scale(&[0, 0, 0, 1_000]), "zero durations count as 1 ns");

        let traces: Vec<TraceSummary> = [MS, 2 * MS, 10 * MS, 1_000 * MS]
            .iter()
            .enumerate()
            .map(|(i, d)| summary(&i.to_string(), NOW - 1_000 + i as u64, *d, 0))
            .collect();
        let s = lay(&traces, 0, NOW);
        assert!(s.log);
        let ys: Vec<f64> = s.dots.iter().map(|d| (d.y * 1_000.0).round() / 1_000.0).collect();
        assert_eq!(ys, [0.0, 0.1, 0.333, 1.0], "each decade a third of the height");
        assert_eq!((s.y_min_label.as_str(), s.y_max_label.as_str()), ("1.00 ms", "1.00 s"));
    }

    #[test]
    fn dots_span_the_plot_area_and_the_time_axis_is_labelled() {
        let (a, b) = (NOW - 60_000_000_000, NOW - 30_000_000_000);
        let s = lay(&[summary("a", a, 2_000_000, 0), summary("b", b, 1_000_000, 1)], 0, NOW);
        assert!(!s.log);
        assert_eq!(s.y_min_label, "0");
        assert_eq!(s.y_max_label, "2.00 ms");
        let (a, b) = (&s.dots[0], &s.dots[1]);
        assert_eq!((a.x, a.y), (0.0, 1.0), "earliest and slowest: top left");
        assert_eq!((b.x, b.y), (1.0, 0.5));
        assert!(b.error && !a.error);
        let labels: Vec<(f64, &str)> = s.x_labels.iter().map(|(x, t)| (*x, t.as_str())).collect();
        assert_eq!(labels, [(0.0, "09:59:00.000"), (0.5, "09:59:15.000"), (1.0, "09:59:30.000")]);
        // In a zone an hour east, the same instants an hour later.
        let east = lay(&[summary("a", NOW - 60_000_000_000, 1, 0)], 60, NOW);
        assert_eq!(east.x_labels, [(0.5, "10:59:00.000".to_owned())]);
        assert_eq!(east.dots[0].x, 0.5, "a lone trace sits in the middle");
        assert!(lay(&[], 0, NOW).dots.is_empty());
    }
}
