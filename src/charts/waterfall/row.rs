//! One waterfall row: the tree cell (toggle, kind icon, name and what the span is from its
//! semantic conventions (`model::span_summary`), service chip, badges for hidden spans,
//! orphans, cache hits, attempts and backoff) and the bar cell (bar, critical-path parts,
//! error edge, event ticks, the wait since the previous attempt, the duration label).

use dioxus::prelude::*;

use crate::model::{kind_icon, span_summary};
use crate::words::format_duration;

use super::bars;
use super::labels::{self, EventKind};
use super::marks::RowMarks;
use super::zoom::Window;
use super::{SharedLayout, SharedSpans};

#[component]
pub(crate) fn WaterfallRow(
    /// The trace and its layout, shared (compared by identity): a row reads its own span and
    /// layout row from them, so drawing a row copies neither.
    spans: SharedSpans,
    layout: SharedLayout,
    row_index: usize,
    /// The trace's colour for the span's service.
    color: String,
    marks: RowMarks,
    /// The span has a log record at ERROR or above.
    error_logs: bool,
    /// The one row Tab stops at (roving tabindex).
    tab_stop: bool,
    top: f64,
    collapsed: bool,
    selected: bool,
    matched: bool,
    /// A search is on and this span does not match it.
    dimmed: bool,
    /// Of the spans this collapsed row hides, how many match the search.
    hidden_matches: usize,
    on_toggle: EventHandler<usize>,
    on_select: EventHandler<usize>,
    /// Pages without scripts make the name a link that selects the span.
    href: Option<String>,
    /// The time window the track shows: bars outside it keep their row, as a stub at its edge.
    window: Window,
) -> Element {
    let layout = &layout.0;
    let row = &layout.rows[row_index];
    let span = &spans.0[row.span];
    // The trace's duration places an attempt's wait; its start, the span's events.
    let (trace_ns, trace_start_ns) = (layout.end_ns - layout.start_ns, layout.start_ns);
    let mut class = String::from("wf-row");
    for (on, name) in [
        (selected, " selected"),
        (matched, " match"),
        (dimmed, " dim"),
        (span.is_error(), " error"),
        (row.critical, " critical"),
    ] {
        if on {
            class.push_str(name);
        }
    }
    let indent = row.depth.min(40) * 14;
    let placed_bar = window.place(row.offset, row.width);
    let (offset, bar_width) = (placed_bar.left, placed_bar.width);
    let left = offset * 100.0;
    let width = bar_width * 100.0;
    let wait_share = marks.wait_ns.unwrap_or(0) as f64 / trace_ns.max(1) as f64 / window.width();
    let wait_width = (wait_share * 100.0).min(left);
    let duration = format_duration(span.duration_ns());
    let wait_from = (left - wait_width) / 100.0;
    let wait_text = marks.wait_ns.map(|wait| format!("waited {}", format_duration(wait)));
    let placed = labels::place_row_labels(
        offset,
        bar_width,
        &duration,
        wait_text.as_deref().map(|text| (wait_from, text)),
    );
    let place = placed.duration.unwrap_or(bars::Place::Inside);
    // Only the rows drawn are described (the viewport draws a screenful).
    let summary = span_summary(span);
    let (icon, kind_words) = kind_icon(span.kind);
    let tooltip = format!("{summary} · {kind_words} · {}", span.service);
    let extra = (summary != span.name).then_some(summary);
    let (side, at, pad) = match place {
        bars::Place::Inside => ("left", left, 0),
        bars::Place::Right => ("left", left + width, 4),
        bars::Place::Left => ("right", 100.0 - left, 4),
    };
    // A page without scripts (its names are links) moves no focus between rows.
    let tabindex = if tab_stop {
        Some("0")
    } else if href.is_some() {
        None
    } else {
        Some("-1")
    };
    rsx! {
        div {
            class: "{class}",
            role: "row",
            tabindex: tabindex,
            "aria-level": "{row.depth + 1}",
            "aria-expanded": if row.descendants > 0 { Some(if collapsed { "false" } else { "true" }) } else { None },
            "aria-selected": if selected { "true" } else { "false" },
            "data-row": "{row_index}",
            "data-depth": "{row.depth}",
            style: "top: {top}px",
            onclick: move |_| on_select.call(row_index),

            div { class: "wf-label", role: "gridcell", style: "padding-left: {indent}px", title: "{tooltip}",
                if row.descendants > 0 {
                    button {
                        r#type: "button",
                        class: "wf-toggle",
                        tabindex: "-1",
                        "aria-expanded": if collapsed { "false" } else { "true" },
                        title: if collapsed { "Expand ({row.descendants} spans)" } else { "Collapse" },
                        onclick: move |e| {
                            e.stop_propagation();
                            on_toggle.call(row_index);
                        },
                        if collapsed { "▸" } else { "▾" }
                    }
                } else {
                    span { class: "wf-leaf" }
                }
                if collapsed {
                    span { class: "badge hidden-count", title: "Spans hidden below this one",
                        if hidden_matches > 0 { "+{row.descendants} · {hidden_matches} match" } else { "+{row.descendants}" }
                    }
                }
                span { class: "kind-icon", role: "img", "aria-label": "{kind_words}", "{icon}" }
                if let Some(href) = href {
                    a { class: "op", href: "{href}", "{span.name}" }
                } else {
                    span { class: "op", "{span.name}" }
                }
                if let Some(extra) = extra {
                    span { class: "op-summary", "{extra}" }
                }
                span { class: "svc-chip", style: "background: {color}", "{span.service}" }
                if row.orphan {
                    span { class: "badge", title: "Its parent span has not arrived", "orphan" }
                }
                if let Some(hit) = marks.cache_hit {
                    span { class: if hit { "badge cache-hit" } else { "badge cache-miss" }, title: "cache.hit = {hit}",
                        if hit { "hit" } else { "miss" }
                    }
                }
                if let Some(index) = marks.attempt.filter(|_| marks.show_attempt) {
                    // The number the span's own `retry.attempt` says: retry 1 is the second try.
                    span { class: "badge attempt", title: "Attempt index {index} (0 is the first try)",
                        if index == 0 { "first try" } else { "retry {index}" }
                    }
                }
                if error_logs {
                    span { class: "badge error-logs", title: "This span has log records at ERROR or above", "error log" }
                }
                // One number for one thing: the measured wait when there is one (the declared
                // backoff is in its card), else the declared backoff.
                if let Some(ms) = marks.backoff_ms.filter(|_| marks.wait_ns.is_none()) {
                    span { class: "badge backoff", title: "retry.delay_ms of its retry event", "backoff {ms} ms" }
                }

            }
            div { class: "wf-track", role: "gridcell",
                if let Some(wait) = marks.wait_ns {
                    // The gap since the previous attempt: a dashed line up to the bar, labelled
                    // above it from its start when the label fits there (else its card says it).
                    div { class: "wf-wait", style: "left: {left - wait_width:.3}%; width: {wait_width:.3}%",
                        title: "{labels::wait_card(wait, marks.backoff_ms)}",
                    }
                    if placed.wait {
                        span { class: "wf-wait-label", style: "left: {left - wait_width:.3}%",
                            title: "{labels::wait_card(wait, marks.backoff_ms)}",
                            "waited {format_duration(wait)}"
                        }
                    }
                }
                div { class: "wf-bar", style: "left: {left:.3}%; width: max({width:.3}%, 2px); background: {color}" }
                for (i, part) in row.critical_parts.iter().map(|&(at, long)| window.place(at, long)).enumerate().filter(|(_, p)| p.width > 0.0) {
                    div { key: "{i}", class: "wf-crit", style: "left: {part.left * 100.0:.3}%; width: max({part.width * 100.0:.3}%, 1px)" }
                }
                if let Some(edge) = bars::error_edge(span, row.offset).and_then(|at| window.point(at)) {
                    span { class: "wf-err", role: "img", "aria-label": "error", style: "left: {edge * 100.0:.3}%",
                        title: "Error: {span.status.message}",
                    }
                }
                // Each event a marker of its kind's shape and colour; its card shows on hover
                // and on focus (a click focuses it), and is its name for screen readers.
                for (i, at) in bars::event_ticks(span, trace_start_ns, trace_ns).filter_map(|(i, at)| Some((i, window.point(at)?))) {
                    span { key: "{i}", class: EventKind::of(&span.events[i]).class(), tabindex: "-1",
                        style: "left: {at * 100.0:.3}%",
                        "aria-label": "{labels::event_card(&span.events[i], trace_start_ns)}",
                        span { class: if at > 0.6 { "ev-card end" } else { "ev-card" }, role: "tooltip",
                            "{labels::event_card(&span.events[i], trace_start_ns)}"
                        }
                    }
                }
                if placed.duration.is_some() {
                    span { class: place.class(), style: "{side}: calc({at:.3}% + {pad}px)", "{duration}" }
                }
            }
        }
    }
}
