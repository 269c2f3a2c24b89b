//! The duration-over-time scatter of trace search results: `layout` is pure (summaries → dots
//! in SVG coordinates, with axis labels); `DurationScatter` draws it and opens a trace on click.

use dioxus::prelude::*;

use crate::model::TraceSummary;
use crate::routes::Route;
use crate::words::format_duration;

pub(crate) const WIDTH: f64 = 900.0;
pub(crate) const HEIGHT: f64 = 160.0;
const PAD_LEFT: f64 = 56.0;
const PAD: f64 = 12.0;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dot {
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
}

/// Places one dot per trace: x by start time, y by duration (0 at the bottom).
pub(crate) fn layout(traces: &[TraceSummary]) -> Scatter {
    let Some(t0) = traces.iter().map(|t| t.start_ns).min() else { return Scatter::default() };
    let t1 = traces.iter().map(|t| t.start_ns).max().unwrap_or(t0);
    let d_max = traces.iter().map(|t| t.duration_ns).max().unwrap_or(0).max(1);
    let span = (t1 - t0).max(1) as f64;
    let (w, h) = (WIDTH - PAD_LEFT - PAD, HEIGHT - 2.0 * PAD);
    let dots = traces
        .iter()
        .map(|t| Dot {
            x: if t1 == t0 {
                PAD_LEFT + w / 2.0
            } else {
                PAD_LEFT + (t.start_ns - t0) as f64 / span * w
            },
            y: PAD + h - t.duration_ns as f64 / d_max as f64 * h,
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
    Scatter { dots, y_max_label: format_duration(d_max) }
}

#[component]
pub(crate) fn DurationScatter(traces: Vec<TraceSummary>) -> Element {
    let scatter = layout(&traces);
    let navigator = use_navigator();
    rsx! {
        svg {
            class: "scatter",
            view_box: "0 0 {WIDTH} {HEIGHT}",
            role: "img",
            "aria-label": "Trace duration over time",
            line { x1: "{PAD_LEFT}", y1: "{HEIGHT - PAD}", x2: "{WIDTH - PAD}", y2: "{HEIGHT - PAD}", class: "axis" }
            line { x1: "{PAD_LEFT}", y1: "{PAD}", x2: "{PAD_LEFT}", y2: "{HEIGHT - PAD}", class: "axis" }
            text { x: "{PAD_LEFT - 6.0}", y: "{PAD + 4.0}", class: "axis-label", "text-anchor": "end", "{scatter.y_max_label}" }
            text { x: "{PAD_LEFT - 6.0}", y: "{HEIGHT - PAD}", class: "axis-label", "text-anchor": "end", "0" }
            for dot in scatter.dots {
                circle {
                    key: "{dot.trace_id}",
                    cx: "{dot.x:.1}",
                    cy: "{dot.y:.1}",
                    r: "4",
                    class: if dot.error { "dot dot-error" } else { "dot" },
                    "data-trace-id": "{dot.trace_id}",
                    onclick: {
                        let trace_id = dot.trace_id.clone();
                        move |_| {
                            navigator.push(Route::TraceDetail { trace_id: trace_id.clone() });
                        }
                    },
                    title { "{dot.title}" }
                }
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

    #[test]
    fn dots_span_the_plot_area() {
        let s = layout(&[summary("a", 100, 2_000_000, 0), summary("b", 200, 1_000_000, 1)]);
        assert_eq!(s.y_max_label, "2.00 ms");
        let (a, b) = (&s.dots[0], &s.dots[1]);
        assert_eq!((a.x, a.y), (PAD_LEFT, PAD), "earliest and slowest: top left");
        assert_eq!(b.x, WIDTH - PAD);
        assert_eq!(b.y, PAD + (HEIGHT - 2.0 * PAD) / 2.0);
        assert!(b.error && !a.error);
        assert!(layout(&[]).dots.is_empty());
    }
}
