//! `MetricChart`: one chart of a metric's page (a plotters drawing at its box's width), its
//! exemplars as links to their traces, its legend (each line a link that hides or shows it, so
//! the toggles work without scripts too) and, for histograms, the bucket counts as a table.

use dioxus::prelude::*;

use super::layout::{bucket_totals, metric_chart, Chart, Line, WIDTH};
use super::series::{chart_title, legend_rows, lines_of, per};
use super::units::format_value;
use crate::charts::plot::{Plot, PALETTE};
use crate::charts::track_width;
use crate::filters::MetricPageFilters;
use crate::model::{MetricAgg, MetricSeriesAnswer};
use crate::routes::Route;

#[component]
pub(crate) fn MetricChart(
    name: String,
    filters: MetricPageFilters,
    answers: Vec<(MetricAgg, MetricSeriesAnswer)>,
) -> Element {
    let width = use_signal(|| f64::from(WIDTH));
    let Some((first_agg, first)) = answers.first() else { return rsx! {} };
    let aggs: Vec<MetricAgg> = answers.iter().map(|(agg, _)| *agg).collect();
    let refs: Vec<(MetricAgg, &MetricSeriesAnswer)> =
        answers.iter().map(|(a, s)| (*a, s)).collect();
    let lines = lines_of(&refs);
    let hidden = filters.hidden();
    let shown: Vec<Line> =
        lines.iter().filter(|l| !hidden.contains(&l.key.as_str())).cloned().collect();
    let unit = first.info.unit.clone();
    let per = per(*first_agg);
    let heatmap = answers.iter().find_map(|(_, a)| a.heatmap.as_ref());
    let chart = Chart {
        since_ns: first.since_ns,
        until_ns: first.until_ns,
        step_ns: first.step_ns,
        unit: &unit,
        per,
        lines: &shown,
        heatmap: if crate::filters::is_percentile(*first_agg) { heatmap } else { None },
        exemplars: &first.exemplars,
    };
    let (drawing, dots) = metric_chart(&chart, width() as u32);
    let buckets = chart.heatmap.map(|h| bucket_totals(h, &unit));
    let rows = legend_rows(&lines, &hidden);
    let title = chart_title(&aggs);
    let chart_id = aggs.iter().map(|a| a.as_str()).collect::<Vec<_>>().join("-");
    let fmt = move |v: Option<f64>| v.map(|v| format_value(v, &unit, per)).unwrap_or_default();
    let exact = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    rsx! {
        section { class: "metric-chart", "data-chart": "{chart_id}",
            h2 { "{title}" }
            div { class: "plot-box metric-plot", onresize: track_width(width),
                Plot { drawing, label: "{name}: {title}", class: "metric-svg" }
                for dot in dots {
                    Link {
                        class: "exemplar",
                        to: Route::TraceDetail { trace_id: dot.trace_id.clone() },
                        style: "left: {dot.left_pct:.2}%; top: {dot.top_pct:.2}%",
                        title: "{dot.title}",
                        "aria-label": "{dot.title}, open trace {dot.trace_id}",
                        "data-trace": "{dot.trace_id}",
                    }
                }
            }
            table { class: "results metric-legend",
                thead {
                    tr {
                        th { "Line" }
                        th { class: "num", "Last" }
                        th { class: "num", "Min" }
                        th { class: "num", "Max" }
                        th { class: "num", "Mean" }
                    }
                }
                tbody {
                    for row in rows {
                        tr { key: "{row.key}", "data-line": "{row.key}", class: if row.hidden { "hidden-line" },
                            td {
                                Link {
                                    class: "legend-toggle",
                                    to: filters.toggled(&row.key).route(&name),
                                    title: if row.hidden { "Show this line" } else { "Hide this line" },
                                    "data-on": if row.hidden { "false" } else { "true" },
                                    span { class: "swatch", style: "background: {swatch(row.color)}" }
                                    "{row.label}"
                                }
                            }
                            td { class: "num", "data-field": "last", "data-value": exact(row.last), {fmt(row.last)} }
                            td { class: "num", "data-field": "min", "data-value": exact(row.min), {fmt(row.min)} }
                            td { class: "num", "data-field": "max", "data-value": exact(row.max), {fmt(row.max)} }
                            td { class: "num", "data-field": "mean", "data-value": exact(row.mean), {fmt(row.mean)} }
                        }
                    }
                }
            }
            if let Some(buckets) = buckets {
                details { class: "metric-buckets",
                    summary { "Bucket counts over the range" }
                    table { class: "results",
                        thead { tr { th { "Bucket" } th { class: "num", "Observations" } } }
                        tbody {
                            for (i, (label, count)) in buckets.into_iter().enumerate() {
                                tr { key: "{i}", "data-bucket": "{i}",
                                    td { "{label}" }
                                    td { class: "num", "data-field": "count", "{count}" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The CSS colour of palette entry `i`.
fn swatch(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("rgb({},{},{})", c.0, c.1, c.2)
}
