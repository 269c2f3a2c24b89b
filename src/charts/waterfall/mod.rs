//! The trace waterfall. `layout` turns a trace's spans into rows (order, depth, bar position,
//! self time, critical path); `Waterfall` draws only the rows in view, with collapse/expand,
//! span search, a minimap with a draggable window, a time ruler, duration labels placed where
//! they can be read, error and event marks on the bars, keyboard navigation (a roving-tabindex
//! tree) and a details panel.

pub mod bars;
pub mod keys;
pub mod layout;
pub mod marks;
pub mod ruler;

use std::collections::HashSet;
use std::rc::Rc;

use dioxus::prelude::*;

use crate::components::CopyButton;
use crate::env::{use_render_mode, Env, PlatformKind, RenderMode};
use crate::model::{AttrValue, KeyValue, Span};
use crate::routes::Route;
use crate::words::format_duration;
use bars::ServiceColours;
use keys::{navigate, scroll_to_show, NavAction, NavKey};
use layout::{centred_scroll, layout, page_of, shown_ancestor, visible_rows, Layout};
use marks::{row_marks, RowMarks};

const ROW_HEIGHT: f64 = 24.0;
const VIEW_HEIGHT: f64 = 560.0;
/// Rows drawn above and below the viewport so fast scrolling shows no gaps.
const OVERSCAN: usize = 12;
const MINIMAP_HEIGHT: f64 = 64.0;
/// Most rows a page without scripts draws at once (it links to the pages before and after):
/// past that the HTML alone would take seconds to make and to load.
const SSR_ROWS: usize = 2000;
/// Most bars the minimap draws; rows are bucketed beyond that.
const MINIMAP_BARS: usize = 400;

/// A trace's spans, compared by identity so large traces are never compared element-wise.
#[derive(Clone)]
pub struct SharedSpans(pub Rc<Vec<Span>>);

impl PartialEq for SharedSpans {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// `focus`: the id of a span to select and scroll to (from the page's URL).
#[component]
pub fn Waterfall(spans: SharedSpans, focus: Option<String>) -> Element {
    let env = use_context::<Env>();
    // A preview (SSR that the WASM app replaces) draws what the app's first frame draws; only
    // a page without scripts draws every row, since it cannot scroll them in.
    let mode = use_render_mode();
    let full_ssr = mode.is_static();
    let laid = use_memo(use_reactive!(|spans| Rc::new(layout(&spans.0))));
    let layout: Rc<Layout> = laid();
    let marked = use_memo(use_reactive!(|spans| Rc::new(row_marks(&spans.0, &laid()))));
    let marks: Rc<Vec<RowMarks>> = marked();
    let coloured = use_memo(use_reactive!(|spans| {
        Rc::new(ServiceColours::new(&spans.0, laid().rows.iter().map(|r| r.span)))
    }));
    let colours: Rc<ServiceColours> = coloured();
    let focus_row = focus
        .as_deref()
        .and_then(|id| layout.rows.iter().position(|r| spans.0[r.span].span_id == id));
    let mut collapsed = use_signal(HashSet::<usize>::new);
    // The focused span, else the root (first row), starts selected, so its details show
    // without a click (and in SSR); nothing is collapsed yet, so its row is its position.
    let mut selected = use_signal(|| Some(focus_row.unwrap_or(0)));
    let mut query = use_signal(String::new);
    let mut match_pos = use_signal(|| 0usize);
    let mut scroll_top =
        use_signal(|| focus_row.map_or(0.0, |row| centred_scroll(row, ROW_HEIGHT, VIEW_HEIGHT)));
    let mut dragging = use_signal(|| false);
    // The row keyboard navigation moved to: focused once it is drawn.
    let mut focus_request = use_signal(|| None::<usize>);
    use_effect(move || {
        if let Some(row) = focus_request() {
            crate::platform::focus_and_reveal(&format!("#wf-scroll [data-row=\"{row}\"]"));
        }
    });

    let visible = visible_rows(&layout, &collapsed.read());
    let matches = find_matches(&spans.0, &layout, &query.read());
    let match_set: HashSet<usize> = matches.iter().copied().collect();
    let total_height = visible.len() as f64 * ROW_HEIGHT;
    // SSR has no scrolling: it draws the rows fully expanded, up to SSR_ROWS.
    let (first, last) = if full_ssr {
        let at = focus_row.and_then(|row| visible.iter().position(|&r| r == row)).unwrap_or(0);
        let page = page_of(at, visible.len(), SSR_ROWS);
        (page.start, page.end)
    } else {
        drawn(scroll_top(), visible.len())
    };

    // Server-rendered HTML cannot set a scroll position: it draws its rows from the top of the
    // canvas. Live renderers place each row at its place in the whole list and scroll.
    let rows_from_top = mode.on_server();
    let canvas_height =
        if rows_from_top { (last - first) as f64 * ROW_HEIGHT } else { total_height };
    let mut scroll_to = move |y: f64| {
        let y = y.max(0.0);
        scroll_top.set(y);
        crate::platform::set_scroll_top("wf-scroll", y);
    };
    let mut reveal = move |row: usize, layout: &Layout| {
        // Expand every collapsed ancestor, then scroll the row into the middle of the view.
        collapsed.write().retain(|&c| !(c < row && c + layout.rows[c].descendants >= row));
        selected.set(Some(row));
        let position =
            visible_rows(layout, &collapsed.peek()).iter().position(|&r| r == row).unwrap_or(0);
        scroll_to(centred_scroll(position, ROW_HEIGHT, VIEW_HEIGHT));
    };
    // In a live renderer, a focused span (first render or a link within the trace) is
    // revealed: ancestors expanded, selected, scrolled into view. Only a new focus does this:
    // the effect peeks, so collapsing or searching afterwards does not re-run it.
    use_effect(use_reactive!(|focus_row| {
        if let Some(row) = focus_row {
            reveal(row, &laid.peek());
        }
    }));
    let trace_id = spans.0.first().map(|s| s.trace_id.clone()).unwrap_or_default();
    // The browser's URL names the selected span (replaced, not pushed: selecting is not a
    // page), so a copied URL opens this view.
    let in_url = {
        let spans = spans.clone();
        let layout = layout.clone();
        let web = env.platform == PlatformKind::Web;
        move |row: usize| {
            if web {
                let span = &spans.0[layout.rows[row].span];
                let url = format!("/traces/{}/spans/{}", span.trace_id, span.span_id);
                crate::platform::replace_url(&url);
            }
        }
    };
    // Links of the script-free page: to a span (selects it) and to the pages of rows around.
    let ssr_link = |row: usize| {
        format!("/ssr/traces/{trace_id}/spans/{}", spans.0[layout.rows[row].span].span_id)
    };
    let previous_page =
        (full_ssr && first > 0).then(|| ssr_link(visible[first - SSR_ROWS.min(first)]));
    let next_page = (full_ssr && last < visible.len()).then(|| ssr_link(visible[last]));

    let minimap = minimap_bars(&layout, &visible);
    // One ruler per render, for the rows and the minimap alike (both show the whole trace).
    let trace_ns = layout.end_ns - layout.start_ns;
    let ticks = ruler::ticks(0, trace_ns);
    // Roving tabindex: the selected row if it is drawn, else the first drawn row.
    let tab_row = if mode.on_server() {
        None
    } else {
        selected().filter(|s| visible[first..last].contains(s)).or(visible.get(first).copied())
    };
    // One handler for the tree. The focused row is the tab stop (keys and clicks move both):
    // the selected row while it is drawn, read when the key comes (keys can come faster than
    // renders), else the first drawn row.
    let on_key = {
        let layout = layout.clone();
        let in_url = in_url.clone();
        move |e: KeyboardEvent| {
            let Some(key) = row_key(&e.key()) else {
                return;
            };
            e.prevent_default();
            let visible = visible_rows(&layout, &collapsed.peek());
            let (first, last) = drawn(*scroll_top.peek(), visible.len());
            let Some(row) = selected
                .peek()
                .filter(|s| visible[first..last].contains(s))
                .or(visible.get(first).copied())
            else {
                return;
            };
            match key {
                RowKey::Search => {
                    crate::platform::focus(".wf-search");
                }
                RowKey::Open => {
                    selected.set(Some(row));
                }
                RowKey::Nav(key) => {
                    let action = navigate(&layout, &visible, &collapsed.peek(), row, key);
                    match action {
                        NavAction::Move(to) => {
                            selected.set(Some(to));
                            in_url(to);
                            let at = visible.partition_point(|&r| r < to);
                            let shown = VIEW_HEIGHT.min(total_height) - 2.0;
                            // Read first: a read borrow must not live across `scroll_to`.
                            let now = *scroll_top.peek();
                            if let Some(y) = scroll_to_show(at, ROW_HEIGHT, shown, now) {
                                scroll_to(y);
                            }
                            focus_request.set(Some(to));
                        }
                        NavAction::Collapse(at) => {
                            collapsed.write().insert(at);
                        }
                        NavAction::Expand(at) => {
                            collapsed.write().remove(&at);
                        }
                        NavAction::Stay => {}
                    }
                }
            }
        }
    };
    let window_y = if visible.is_empty() {
        0.0
    } else {
        scroll_top() / total_height.max(1.0) * MINIMAP_HEIGHT
    };
    let window_h = (VIEW_HEIGHT / total_height.max(VIEW_HEIGHT) * MINIMAP_HEIGHT).max(2.0);
    let jump = move |y: f64, total: f64| (y / MINIMAP_HEIGHT * total - VIEW_HEIGHT / 2.0).max(0.0);

    let searching = !query.read().trim().is_empty();
    let current_match = if matches.is_empty() { None } else { Some(match_pos() % matches.len()) };
    let match_label = match (current_match, query.read().is_empty()) {
        (_, true) => String::new(),
        (None, false) => "no match".to_owned(),
        (Some(i), false) => format!("{} of {}", i + 1, matches.len()),
    };

    rsx! {
        div { class: "waterfall",
            div { class: "wf-toolbar",
                // Find and expand need scripts: a page without them leaves them out.
                if !full_ssr {
                    input {
                        class: "wf-search",
                        r#type: "search",
                        placeholder: "Find spans (name, id, attribute, event…)",
                        "aria-label": "Find spans",
                        value: "{query}",
                        oninput: move |e| {
                            query.set(e.value());
                            match_pos.set(0);
                        },
                        onkeydown: {
                            let layout = layout.clone();
                            let matches = matches.clone();
                            move |e: KeyboardEvent| {
                                if e.key() == Key::Enter && !matches.is_empty() {
                                    let next = if e.modifiers().shift() { match_pos() + matches.len() - 1 } else { match_pos() + 1 };
                                    match_pos.set(next % matches.len());
                                    reveal(matches[next % matches.len()], &layout);
                                }
                            }
                        },
                    }
                    button {
                        r#type: "button",
                        class: "wf-next",
                        disabled: matches.is_empty(),
                        onclick: {
                            let layout = layout.clone();
                            let matches = matches.clone();
                            move |_| {
                                if !matches.is_empty() {
                                    let next = if selected().is_some_and(|s| matches.contains(&s)) { match_pos() + 1 } else { match_pos() };
                                    match_pos.set(next % matches.len());
                                    reveal(matches[next % matches.len()], &layout);
                                }
                            }
                        },
                        "Next match"
                    }
                    span { class: "wf-matches", "{match_label}" }
                    button { r#type: "button", onclick: move |_| collapsed.write().clear(), "Expand all" }
                    button {
                        r#type: "button",
                        class: "wf-collapse-all",
                        title: "Collapse every span below the top level",
                        onclick: {
                            let layout = layout.clone();
                            move |_| {
                                let all: HashSet<usize> = layout.rows.iter().enumerate()
                                    .filter(|(_, r)| r.depth > 0 && r.descendants > 0)
                                    .map(|(i, _)| i)
                                    .collect();
                                // The details follow the selection up to the row that hides it.
                                let now = *selected.peek();
                                if let Some(row) = now {
                                    selected.set(Some(shown_ancestor(&layout, &all, row)));
                                }
                                collapsed.set(all);
                            }
                        },
                        "Collapse all"
                    }
                }
                span { class: "legend", title: "The parts of spans the trace's end waited on: their own work, not their children's", span { class: "legend-critical" } "critical path" }
            }
            div { class: "wf-legend", role: "list", "aria-label": "Services in this trace",
                for (name, colour) in colours.services.iter() {
                    span { class: "svc-chip", role: "listitem", style: "background: {colour}", "{name}" }
                }
            }
            div { class: "wf-minimap",
            svg {
                class: "minimap",
                view_box: "0 0 1000 {MINIMAP_HEIGHT}",
                preserve_aspect_ratio: "none",
                onmousedown: move |e| {
                    dragging.set(true);
                    scroll_to(jump(e.element_coordinates().y, total_height));
                },
                onmousemove: move |e| {
                    if dragging() {
                        scroll_to(jump(e.element_coordinates().y, total_height));
                    }
                },
                onmouseup: move |_| dragging.set(false),
                onmouseleave: move |_| dragging.set(false),
                for (i, bar) in minimap.into_iter().enumerate() {
                    rect { key: "{i}", x: "{bar.0:.1}", y: "{bar.1:.2}", width: "{bar.2:.1}", height: "{bar.3:.2}", class: "mm-bar", fill: colours.of(layout.rows[bar.4].span) }
                }
                rect { class: "mm-window", x: "0", y: "{window_y:.2}", width: "1000", height: "{window_h:.2}" }
            }
                div { class: "mm-ruler", {tick_marks(&ticks, "mm-label")} }
            }
            div { class: "wf-body",
                div { class: "wf-main",
                div { class: "wf-ruler",
                    div { class: "wf-ruler-pad" }
                    div { class: "wf-ruler-track", {tick_marks(&ticks, "wf-tick")} }
                }
                div {
                    class: "wf-scroll",
                    id: "wf-scroll",
                    // A short trace's box is only as tall as its rows (plus its 1 px borders).
                    style: if full_ssr { "".to_owned() } else { format!("height: {}px", VIEW_HEIGHT.min(canvas_height.max(ROW_HEIGHT) + 2.0)) },
                    onscroll: move |e| scroll_top.set(e.data().scroll_top()),
                    div { class: "wf-canvas", role: "treegrid", "aria-label": "Spans", "aria-readonly": "true", onkeydown: on_key, style: "height: {canvas_height}px",
                        for (offset, &row_index) in visible[first..last].iter().enumerate() {
                            WaterfallRow {
                                key: "{row_index}",
                                span: spans.0[layout.rows[row_index].span].clone(),
                                color: colours.of(layout.rows[row_index].span).to_owned(),
                                row: layout.rows[row_index].clone(),
                                marks: marks.get(row_index).copied().unwrap_or_default(),
                                trace_ns,
                                trace_start_ns: layout.start_ns,
                                tab_stop: tab_row == Some(row_index),
                                row_index,
                                top: (if rows_from_top { offset } else { first + offset }) as f64 * ROW_HEIGHT,
                                collapsed: collapsed.read().contains(&row_index),
                                selected: selected() == Some(row_index),
                                matched: match_set.contains(&row_index),
                                dimmed: searching && !match_set.contains(&row_index),
                                hidden_matches: if searching && collapsed.read().contains(&row_index) { matches_below(&layout, &matches, row_index) } else { 0 },
                                on_toggle: {
                                    let layout = layout.clone();
                                    move |row: usize| {
                                        let mut set = collapsed.write();
                                        if !set.remove(&row) {
                                            set.insert(row);
                                            // A selected span collapsed away: its row takes the selection.
                                            let now = *selected.peek();
                                            if now.is_some_and(|s| s > row && s <= row + layout.rows[row].descendants) {
                                                selected.set(Some(row));
                                            }
                                        }
                                    }
                                },
                                on_select: {
                                    let in_url = in_url.clone();
                                    move |row: usize| {
                                        selected.set(Some(row));
                                        in_url(row);
                                    }
                                },
                                href: full_ssr.then(|| ssr_link(row_index)),
                            }
                        }
                    }
                }
                // Below the rows, in the rows' column: beside them it would squeeze them.
                if mode == RenderMode::Preview {
                    noscript {
                        p { class: "wf-more",
                            "JavaScript is off: "
                            a {
                                href: match focus_row { Some(row) => ssr_link(row), None => format!("/ssr/traces/{trace_id}") },
                                "the page without scripts"
                            }
                            " lists the spans."
                        }
                    }
                }
                if last - first < visible.len() && full_ssr {
                    p { class: "wf-more",
                        "Spans {first + 1}–{last} of {visible.len()}. "
                        if let Some(href) = previous_page {
                            a { class: "wf-page", rel: "prev", href: "{href}", "← previous {SSR_ROWS}" }
                            " "
                        }
                        if let Some(href) = next_page {
                            a { class: "wf-page", rel: "next", href: "{href}", "next {SSR_ROWS} →" }
                            " "
                        }
                        "The app (with JavaScript) scrolls through all of them; "
                        a { href: "/api/v1/traces/{trace_id}", "the JSON API" }
                        " has them too."
                    }
                }
                }
                if let Some(row) = selected().filter(|&r| r < layout.rows.len()) {
                    SpanDetails { span: spans.0[layout.rows[row].span].clone(), self_ns: layout.rows[row].self_ns, trace_start_ns: layout.start_ns }
                }
            }
        }
    }
}

#[component]
fn WaterfallRow(
    span: Span,
    /// The trace's colour for the span's service.
    color: String,
    row: layout::Row,
    marks: RowMarks,
    /// The trace's duration, to place an attempt's wait.
    trace_ns: u64,
    /// When the trace starts, to place the span's events.
    trace_start_ns: u64,
    /// The one row Tab stops at (roving tabindex).
    tab_stop: bool,
    row_index: usize,
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
) -> Element {
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
    let left = row.offset * 100.0;
    let width = row.width * 100.0;
    let wait_width = (marks.wait_ns.unwrap_or(0) as f64 / trace_ns.max(1) as f64 * 100.0).min(left);
    let duration = format_duration(span.duration_ns());
    let place = bars::place_label(row.offset, row.width, &duration);
    let (side, at, pad) = match place {
        bars::Place::Inside => ("left", left, 0),
        bars::Place::Right => ("left", left + width, 4),
        bars::Place::Left => ("right", 100.0 - left, 4),
    };
    rsx! {
        div {
            class: "{class}",
            role: "row",
            tabindex: if tab_stop { "0" } else { "-1" },
            "aria-level": "{row.depth + 1}",
            "aria-expanded": if row.descendants > 0 { Some(if collapsed { "false" } else { "true" }) } else { None },
            "aria-selected": if selected { "true" } else { "false" },
            "data-row": "{row_index}",
            "data-depth": "{row.depth}",
            style: "top: {top}px",
            onclick: move |_| on_select.call(row_index),

            div { class: "wf-label", role: "gridcell", style: "padding-left: {indent}px", title: "{span.name} · {span.service}",
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
                if let Some(href) = href {
                    a { class: "op", href: "{href}", "{span.name}" }
                } else {
                    span { class: "op", "{span.name}" }
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
                if let Some(index) = marks.attempt {
                    span { class: "badge attempt", title: "Attempt index {index} (0 is the first try)", "attempt {index + 1}" }
                }
                if let Some(ms) = marks.backoff_ms {
                    span { class: "badge backoff", title: "retry.delay_ms of its retry event", "backoff {ms} ms" }
                }

            }
            div { class: "wf-track", role: "gridcell",
                if let Some(wait) = marks.wait_ns {
                    // The gap since the previous attempt: a dashed line up to the bar, labelled
                    // above it from its start.
                    div { class: "wf-wait", style: "left: {left - wait_width:.3}%; width: {wait_width:.3}%" }
                    span { class: "wf-wait-label", style: "left: {left - wait_width:.3}%",
                        title: "Time since the previous attempt ended",
                        "waited {format_duration(wait)}"
                    }
                }
                div { class: "wf-bar", style: "left: {left:.3}%; width: max({width:.3}%, 2px); background: {color}" }
                for (i, (at, long)) in row.critical_parts.iter().enumerate() {
                    div { key: "{i}", class: "wf-crit", style: "left: {at * 100.0:.3}%; width: max({long * 100.0:.3}%, 1px)" }
                }
                if let Some(edge) = bars::error_edge(&span, row.offset) {
                    span { class: "wf-err", role: "img", "aria-label": "error", style: "left: {edge * 100.0:.3}%",
                        title: "Error: {span.status.message}",
                    }
                }
                if !span.events.is_empty() {
                    svg { class: "wf-events", view_box: "0 0 1000 10", preserve_aspect_ratio: "none",
                        for (i, at) in bars::event_ticks(&span, trace_start_ns, trace_ns) {
                            line { key: "{i}", class: "wf-event", x1: "{at * 1000.0:.1}", x2: "{at * 1000.0:.1}", y1: "0", y2: "10",
                                title { "{span.events[i].name} at +{format_duration(span.events[i].time_ns.saturating_sub(span.start_ns))}" }
                            }
                        }
                    }
                }
                span { class: place.class(), style: "{side}: calc({at:.3}% + {pad}px)", "{duration}" }
            }
        }
    }
}

/// Values longer than this (in characters) are folded: their start, and the rest on demand.
const FOLD_CHARS: usize = 160;

#[component]
fn SpanDetails(span: Span, self_ns: u64, trace_start_ns: u64) -> Element {
    let status = span.status.code.name();
    let api_base = use_context::<Env>().api_base;
    let (exceptions, events): (Vec<_>, Vec<_>) =
        span.events.iter().partition(|e| e.name == "exception");
    rsx! {
        aside { class: "span-details", "aria-label": "Span details",
            h2 { "{span.name}" }
            dl {
                dt { "Service" } dd { "{span.service}" }
                dt { "Kind" } dd { {span.kind.name()} }
                dt { "Starts at" } dd { class: "offset", "+{format_duration(span.start_ns.saturating_sub(trace_start_ns))}" }
                dt { "Duration" } dd { "{format_duration(span.duration_ns())} (self {format_duration(self_ns)})" }
                dt { "Status" } dd { class: "status-{status}", "{status} {span.status.message}" }
                dt { "Span id" } dd { code { "{span.span_id}" } CopyButton { text: span.span_id.clone(), what: "span id" } }
                if let Some(parent) = &span.parent_span_id { dt { "Parent" } dd { code { "{parent}" } } }
                if !span.scope.name.is_empty() { dt { "Scope" } dd { "{span.scope.name} {span.scope.version}" } }
                dt { "Logs" } dd { a { class: "logs-link", href: "{api_base}/api/v1/logs?trace_id={span.trace_id}", "this trace's logs (JSON)" } }
            }
            for exception in exceptions {
                ExceptionBlock { event: exception.clone(), offset_ns: exception.time_ns.saturating_sub(span.start_ns) }
            }
            AttributeTable { title: "Attributes", attributes: span.attributes.clone() }
            if !events.is_empty() {
                h3 { "Events" }
                ul { class: "events",
                    for event in events {
                        li {
                            span { class: "event-time", "+{format_duration(event.time_ns.saturating_sub(span.start_ns))}" }
                            " "
                            strong { "{event.name}" }
                            AttributeTable { title: "", attributes: event.attributes.clone() }
                        }
                    }
                }
            }
            if !span.links.is_empty() {
                h3 { "Links" }
                ul { class: "links",
                    for link in span.links.iter() {
                        li {
                            Link { to: Route::TraceSpan { trace_id: link.trace_id.clone(), span_id: link.span_id.clone() }, code { "{link.trace_id}" } }
                            " span "
                            code { "{link.span_id}" }
                        }
                    }
                }
            }
            AttributeTable { title: "Resource", attributes: span.resource.clone() }
        }
    }
}

/// An `exception` event (OpenTelemetry's semantic conventions): type and message first, then
/// the stack trace line by line, then its other attributes.
#[component]
fn ExceptionBlock(event: crate::model::SpanEvent, offset_ns: u64) -> Element {
    let text = |key: &str| {
        event.attributes.iter().find(|kv| kv.key == key).map(|kv| value_text(&kv.value))
    };
    let kind = text("exception.type").unwrap_or_else(|| "Exception".into());
    let message = text("exception.message");
    let stack = text("exception.stacktrace");
    let rest: Vec<KeyValue> = event
        .attributes
        .iter()
        .filter(|kv| {
            !matches!(
                kv.key.as_str(),
                "exception.type" | "exception.message" | "exception.stacktrace"
            )
        })
        .cloned()
        .collect();
    rsx! {
        section { class: "exception", "aria-label": "Exception",
            h3 { "Exception " span { class: "event-time", "at +{format_duration(offset_ns)}" } }
            p { class: "exception-head",
                strong { class: "exception-type", "{kind}" }
                if let Some(message) = message { ": " span { class: "exception-message", "{message}" } }
            }
            if let Some(stack) = stack {
                pre { class: "stacktrace", "{stack}" }
            }
            AttributeTable { title: "", attributes: rest }
        }
    }
}

#[component]
fn AttributeTable(title: String, attributes: Vec<KeyValue>) -> Element {
    if attributes.is_empty() {
        return rsx! {};
    }
    rsx! {
        if !title.is_empty() { h3 { "{title}" } }
        table { class: "attributes",
            for kv in attributes {
                tr { th { "{kv.key}" } td { {folded(value_text(&kv.value))} } }
            }
        }
    }
}

/// A value as text; a long one folded: its start, and the whole behind a `details` toggle
/// (which works without scripts).
fn folded(text: String) -> Element {
    let chars = text.chars().count();
    if chars <= FOLD_CHARS {
        return rsx! { "{text}" };
    }
    let head: String = text.chars().take(FOLD_CHARS).collect();
    rsx! {
        details { class: "long-value",
            summary { span { class: "preview", "{head}…" } " " span { class: "fold-note", "({chars} characters)" } }
            div { class: "full-value", "{text}" }
        }
    }
}

/// An attribute value as the details panel shows it.
pub(crate) fn value_text(value: &AttrValue) -> String {
    match value {
        AttrValue::String(s) => s.clone(),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Double(d) => d.to_string(),
        AttrValue::Bytes(b) => format!("base64:{b}"),
        AttrValue::Array(items) => {
            format!("[{}]", items.iter().map(value_text).collect::<Vec<_>>().join(", "))
        }
        AttrValue::KvList(list) => {
            format!(
                "{{{}}}",
                list.iter()
                    .map(|kv| format!("{}: {}", kv.key, value_text(&kv.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        AttrValue::Empty => String::new(),
    }
}

/// Rows (in layout order) whose span matches `query`, ignoring case: its name, service, span
/// id, status message, attribute keys and values, event names and their attributes, and its
/// resource's attributes.
pub(crate) fn find_matches(spans: &[Span], layout: &Layout, query: &str) -> Vec<usize> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let hit = |s: &str| s.to_lowercase().contains(&query);
    let any_kv =
        |list: &[KeyValue]| list.iter().any(|kv| hit(&kv.key) || hit(&value_text(&kv.value)));
    layout
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            let span = &spans[row.span];
            hit(&span.name)
                || hit(&span.service)
                || hit(&span.span_id)
                || hit(&span.status.message)
                || any_kv(&span.attributes)
                || span.events.iter().any(|e| hit(&e.name) || any_kv(&e.attributes))
                || any_kv(&span.resource)
        })
        .map(|(i, _)| i)
        .collect()
}

/// How many of `matches` (sorted rows) lie in the subtree of `row` below it.
pub(crate) fn matches_below(layout: &Layout, matches: &[usize], row: usize) -> usize {
    let end = row + layout.rows[row].descendants;
    matches.partition_point(|&m| m <= end) - matches.partition_point(|&m| m <= row)
}

/// The minimap's bars, one per visible row or per bucket of rows past MINIMAP_BARS: x, y, width, height (in its 1000-wide box) and the row whose service
/// colours it (the first of the rows it stands for).
pub(crate) fn minimap_bars(layout: &Layout, visible: &[usize]) -> Vec<(f64, f64, f64, f64, usize)> {
    if visible.is_empty() {
        return Vec::new();
    }
    let per_bar = visible.len().div_ceil(MINIMAP_BARS);
    let bar_height = MINIMAP_HEIGHT / visible.len().div_ceil(per_bar) as f64;
    visible
        .chunks(per_bar)
        .enumerate()
        .map(|(i, chunk)| {
            let start = chunk.iter().map(|&r| layout.rows[r].offset).fold(f64::MAX, f64::min);
            let end = chunk
                .iter()
                .map(|&r| layout.rows[r].offset + layout.rows[r].width)
                .fold(0.0, f64::max);
            (
                start * 1000.0,
                i as f64 * bar_height,
                ((end - start) * 1000.0).max(1.0),
                bar_height.max(0.5),
                chunk[0],
            )
        })
        .collect()
}

/// The ruler's ticks as `class` elements (the rows' ruler and the minimap's).
fn tick_marks(ticks: &[ruler::Tick], class: &str) -> Element {
    rsx! {
        for tick in ticks {
            span { class: "{class}", style: "left: {tick.at * 100.0:.3}%", "{tick.label}" }
        }
    }
}

/// The positions of the rows a live renderer draws when scrolled to `scroll_top`: the rows
/// in view and `OVERSCAN` around them.
fn drawn(scroll_top: f64, len: usize) -> (usize, usize) {
    let first = ((scroll_top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN).min(len);
    (first, (first + (VIEW_HEIGHT / ROW_HEIGHT) as usize + 2 * OVERSCAN).min(len))
}

/// A key a focused row handles.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowKey {
    Nav(NavKey),
    /// Enter: show the span's details.
    Open,
    /// `/`: to the span search box.
    Search,
}

fn row_key(key: &Key) -> Option<RowKey> {
    Some(match key {
        Key::ArrowUp => RowKey::Nav(NavKey::Up),
        Key::ArrowDown => RowKey::Nav(NavKey::Down),
        Key::ArrowLeft => RowKey::Nav(NavKey::Left),
        Key::ArrowRight => RowKey::Nav(NavKey::Right),
        Key::Home => RowKey::Nav(NavKey::Home),
        Key::End => RowKey::Nav(NavKey::End),
        Key::Enter => RowKey::Open,
        Key::Character(c) if c == "/" => RowKey::Search,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "details_tests.rs"]
mod details_tests;
