//! The count histogram above the records: stacked bars per severity band
//! (`charts::logs::histogram_bars`); a bar's click (its link, on pages without scripts) zooms
//! the range to its bucket.

use dioxus::prelude::*;

use super::{ssr_href, LogsLink};
use crate::charts::logs::{histogram_bars, HistBar, HIST_HEIGHT, HIST_WIDTH};
use crate::components::Zone;
use crate::env::use_render_mode;
use crate::filters::LogFilters;
use crate::hooks::Loadable;
use crate::model::LogHistogram;
use crate::platform;
use crate::routes::Route;
use crate::words::format_start;

#[component]
pub(crate) fn HistogramChart(histogram: Loadable<LogHistogram>, filters: LogFilters) -> Element {
    let mode = use_render_mode();
    let navigator = use_navigator();
    let zone = use_context::<Zone>();
    let Loadable::Ready(histogram) = histogram else {
        return rsx! { div { class: "log-histogram empty" } };
    };
    let bars = histogram_bars(&histogram);
    if bars.iter().all(|b| b.total == 0) {
        return rsx! { div { class: "log-histogram empty" } };
    }
    let now = (platform::now_ms() * 1e6) as u64;
    let offset = zone.offset_at(histogram.since_ns as f64 / 1e6);
    let time = move |ns: u64| format_start(ns, now, offset);
    let zoomed = !filters.until.is_empty() && filters.since.parse::<u64>().is_ok();
    let label = |bar: &HistBar| format!("{} records from {}", bar.total, time(bar.start_ns));
    rsx! {
        figure { class: "log-histogram",
            svg { class: "histogram", view_box: "0 0 {HIST_WIDTH} {HIST_HEIGHT}", preserve_aspect_ratio: "none",
                role: "img", "aria-label": "Records over time by severity",
                for bar in bars.iter().filter(|b| b.total > 0) {
                    if mode.is_static() {
                        a { key: "{bar.start_ns}", href: ssr_href(&filters.zoomed(bar.start_ns, bar.end_ns)),
                            title { "{label(bar)}" }
                            {parts(bar)}
                        }
                    } else {
                        g { key: "{bar.start_ns}", class: "hbar", "data-start": "{bar.start_ns}",
                            onclick: {
                                let to = filters.zoomed(bar.start_ns, bar.end_ns);
                                move |_| { navigator.push(Route::Logs { filters: to.clone() }); }
                            },
                            title { "{label(bar)} · click to zoom" }
                            // The whole slot takes the click, not only the coloured parts.
                            rect { class: "hbar-hit", x: "{bar.x:.2}", y: "0", width: "{bar.width:.2}", height: "{HIST_HEIGHT}" }
                            {parts(bar)}
                        }
                    }
                }
            }
            figcaption { class: "histogram-axis",
                span { "{time(histogram.since_ns)}" }
                span { class: "hint",
                    if zoomed {
                        LogsLink { to: LogFilters { since: String::new(), until: String::new(), ..filters.at_cursor("") }, "Show all times" }
                    } else {
                        "Click a bar to zoom in"
                    }
                }
                span { "{time(histogram.until_ns)}" }
            }
        }
    }
}

fn parts(bar: &HistBar) -> Element {
    rsx! {
        for part in bar.parts.iter() {
            rect { class: "sev-fill sev-{part.band.as_str()}", x: "{bar.x:.2}", y: "{part.y:.2}", width: "{bar.width:.2}", height: "{part.height:.2}" }
        }
    }
}
