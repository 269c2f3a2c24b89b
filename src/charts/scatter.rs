//! The duration-over-time scatter of trace search results: `layout` is pure (summaries → dots
//! as fractions of the plot, with axis labels); `DurationScatter` draws it, dots linking to their traces.

use dioxus::prelude::*;

use crate::components::Zone;
use crate::model::TraceSummary;
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
    /// Time axis labels: (fraction from the left, start time), at the first, middle and last
    /// start (one when all start together).
    pub x_labels: Vec<(f64, String)>,
}

/// Places one dot per trace: x by start time, y by duration (0 at the bottom); times in a zone
/// `offset_min` east of UTC, as seen at `now_ns`.
pub(crate) fn layout(traces: &[TraceSummary], offset_min: i32, now_ns: u64) -> Scatter {
    let Some(t0) = traces.iter().map(|t| t.start_ns).min() else { return Scatter::default() };
    let t1 = traces.iter().map(|t| t.start_ns).max().unwrap_or(t0);
    let d_max = traces.iter().map(|t| t.duration_ns).max().unwrap_or(0).max(1);
    let span = (t1 - t0).max(1) as f64;
    let dots = traces
        .iter()
        .map(|t| Dot {
            x: if t1 == t0 { 0.5 } else { (t.start_ns - t0) as f64 / span },
            y: t.duration_ns as f64 / d_max as f64,
            trace_id: t.trace_id.clone(),
            error: t.error_count > 0,
            title: format!(
                "{} {} — {}",
                t.root_service,
                t.root_name,
                format_duration(t.duration_ns)
            ),
        })
        .collect();
    let label = |ns: u64| format_start(ns, now_ns, offset_min);
    let x_labels = if t1 == t0 {
        vec![(0.5, label(t0))]
    } else {
        vec![(0.0, label(t0)), (0.5, label(t0 + (t1 - t0) / 2)), (1.0, label(t1))]
    };
    Scatter { dots, y_max_label: format_duration(d_max), x_labels }
}

/// The scatter as HTML over the panel's whole width: dots are links to their traces (out of
/// the tab order: the table below has the same links), the axes say what they measure.
#[component]
pub(crate) fn DurationScatter(traces: Vec<TraceSummary>) -> Element {
    let now_ms = platform::now_ms();
    let offset = use_context::<Zone>().offset_at(now_ms);
    let scatter = layout(&traces, offset, (now_ms * 1e6) as u64);
    rsx! {
        div { class: "scatter", "aria-hidden": "true",
            span { class: "axis-title y-title", "duration" }
            span { class: "axis-label y-max", "{scatter.y_max_label}" }
            span { class: "axis-label y-zero", "0" }
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
        }
    }

    /// 2026-11-27 10:00:00 UTC, in ns.
    const NOW: u64 = 1_795_773_600_000_000_000;

    #[test]
    fn dots_span_the_plot_area_and_the_time_axis_is_labelled() {
        let (a, b) = (NOW - 60_000_000_000, NOW - 30_000_000_000);
        let s = layout(&[summary("a", a, 2_000_000, 0), summary("b", b, 1_000_000, 1)], 0, NOW);
        assert_eq!(s.y_max_label, "2.00 ms");
        let (a, b) = (&s.dots[0], &s.dots[1]);
        assert_eq!((a.x, a.y), (0.0, 1.0), "earliest and slowest: top left");
        assert_eq!((b.x, b.y), (1.0, 0.5));
        assert!(b.error && !a.error);
        let labels: Vec<(f64, &str)> = s.x_labels.iter().map(|(x, t)| (*x, t.as_str())).collect();
        assert_eq!(labels, [(0.0, "09:59:00.000"), (0.5, "09:59:15.000"), (1.0, "09:59:30.000")]);
        // In a zone an hour east, the same instants an hour later.
        let east = layout(&[summary("a", NOW - 60_000_000_000, 1, 0)], 60, NOW);
        assert_eq!(east.x_labels, [(0.5, "10:59:00.000".to_owned())]);
        assert_eq!(east.dots[0].x, 0.5, "a lone trace sits in the middle");
        assert!(layout(&[], 0, NOW).dots.is_empty());
    }
}
