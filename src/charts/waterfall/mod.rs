//! The trace waterfall, as state and view. Pure parts: `layout` turns a trace's spans into rows
//! (order, depth, bar position, self time, critical path), `viewport` says which rows a render
//! draws and where (and the minimap's bars and window), `search` finds spans, `keys` moves
//! through the tree, `marks`, `bars` and `labels` decorate a row, `ruler` places the time ticks. The
//! `Waterfall` component here holds the signals and wires the events; `row` draws one row and
//! `details` the selected span's panel.

pub mod bars;
mod details;
pub mod keys;
pub mod labels;
pub mod layout;
mod linked;
pub mod logs;
pub mod marks;
mod row;
pub mod ruler;
mod search;
mod state;
mod viewport;
pub mod zoom;

use std::collections::HashSet;
use std::rc::Rc;

use dioxus::prelude::*;

use crate::env::{use_render_mode, Env, PlatformKind, RenderMode};
use crate::model::Span;
use crate::words::format_duration;
use bars::ServiceColours;
use details::SpanDetails;
use labels::EventKind;
use layout::{layout, visible_rows, Layout};
use marks::{row_marks, RowMarks};
use row::WaterfallRow;
use search::{find_matches, match_label, matches_below, Step};
use state::{SpanUrl, State};
use viewport::{
    minimap_bars, minimap_paths, minimap_window, tab_stop, Viewport, MINIMAP_HEIGHT, SSR_ROWS,
};
use zoom::Window;

/// A trace's spans, compared by identity so large traces are never compared element-wise.
#[derive(Clone)]
pub struct SharedSpans(pub Rc<Vec<Span>>);

impl PartialEq for SharedSpans {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A trace's layout, compared by identity: it is laid out again only for another trace.
#[derive(Clone)]
pub(crate) struct SharedLayout(pub Rc<Layout>);

impl PartialEq for SharedLayout {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A trace's log records by span, compared by identity.
#[derive(Clone)]
pub struct SharedLogs(pub Rc<logs::SpanLogs>);

impl PartialEq for SharedLogs {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// `focus`: the id of a span to select and scroll to (from the page's URL); `logs`: the
/// trace's log records, once they are in.
#[component]
pub fn Waterfall(spans: SharedSpans, focus: Option<String>, logs: Option<SharedLogs>) -> Element {
    let env = use_context::<Env>();
    let mode = use_render_mode();
    let laid = use_memo(use_reactive!(|spans| Rc::new(layout(&spans.0))));
    let layout: Rc<Layout> = laid();
    let marked = use_memo(use_reactive!(|spans| Rc::new(row_marks(&spans.0, &laid()))));
    let coloured = use_memo(use_reactive!(|spans| {
        Rc::new(ServiceColours::new(&spans.0, laid().rows.iter().map(|r| r.span)))
    }));
    let kinds = use_memo(use_reactive!(|spans| {
        let kinds: std::collections::BTreeSet<EventKind> =
            spans.0.iter().flat_map(|s| s.events.iter().map(EventKind::of)).collect();
        Rc::new(kinds.into_iter().collect::<Vec<_>>())
    }));
    let focus_row = focus
        .as_deref()
        .and_then(|id| layout.rows.iter().position(|r| spans.0[r.span].span_id == id));
    let state = State::use_new(focus_row);
    use_effect(move || {
        if let Some(row) = (state.focus_request)() {
            crate::platform::focus_and_reveal(&format!("#wf-scroll [data-row=\"{row}\"]"));
        }
    });
    // In a live renderer, a focused span (first render or a link within the trace) is
    // revealed: ancestors expanded, selected, scrolled into view. Only a new focus does this:
    // the effect peeks, so collapsing or searching afterwards does not re-run it.
    use_effect(use_reactive!(|focus_row| {
        if let Some(row) = focus_row {
            state.reveal(row, &laid.peek());
        }
    }));

    let visible = visible_rows(&layout, &state.collapsed.read());
    let matches = Rc::new(find_matches(&spans.0, &layout, &state.query.read()));
    let focus_at = focus_row.and_then(|row| visible.iter().position(|&r| r == row));
    let frame = Frame {
        mode,
        url: SpanUrl {
            spans: spans.clone(),
            layout: layout.clone(),
            web: env.platform == PlatformKind::Web,
            zoom: (state.zoom)(),
        },
        window: (state.zoom)(),
        view: Viewport::new(mode, visible.len(), (state.scroll_top)(), focus_at),
        match_set: matches.iter().copied().collect(),
        searching: !state.query.read().trim().is_empty(),
        trace_id: spans.0.first().map(|s| s.trace_id.clone()).unwrap_or_default(),
        marks: marked(),
        colours: coloured(),
        event_kinds: kinds(),
        spans,
        layout,
        visible,
        matches,
        focus_row,
        logs: logs.clone(),
    };
    // One ruler per render for the rows (the window shown) and one for the minimap (the
    // whole trace).
    let trace_ns = frame.layout.end_ns - frame.layout.start_ns;
    let (from_ns, to_ns) = frame.window.range_ns(trace_ns);
    let ticks = ruler::ticks(from_ns, to_ns);
    let whole_ticks = ruler::ticks(0, trace_ns);
    let selected = (state.selected)().filter(|&r| r < frame.layout.rows.len());
    // A window the page was opened with (the router drops the query): written back into the
    // URL once, so the address bar shows what is drawn.
    use_hook({
        let url = frame.url.clone();
        move || {
            if !url.zoom.is_whole() {
                url.replace_with(focus_row, url.zoom);
            }
        }
    });

    rsx! {
        div { class: "waterfall",
            {toolbar(&frame, state)}
            div { class: "wf-legend", role: "list", "aria-label": "Services in this trace",
                for (name, colour) in frame.colours.services.iter() {
                    span { class: "svc-chip", role: "listitem", style: "background: {colour}", "{name}" }
                }
            }
            {minimap(&frame, state, &whole_ticks)}
            div { class: "wf-body",
                div { class: "wf-main",
                    div { class: "wf-ruler",
                        div { class: "wf-ruler-pad" }
                        div { class: "wf-ruler-track",
                            {tick_marks(&ticks, "wf-tick")}
                            {zoom_pad(&frame, state)}
                        }
                    }
                    {rows(&frame, state)}
                    {notes(&frame)}
                }
                if let Some(row) = selected {
                    SpanDetails {
                        span: frame.spans.0[frame.layout.rows[row].span].clone(),
                        self_ns: frame.layout.rows[row].self_ns,
                        trace_start_ns: frame.layout.start_ns,
                        logs: frame.logs.clone(),
                    }
                }
            }
        }
    }
}

/// What one render draws from: the trace, what is derived from it, and the rows in view.
struct Frame {
    mode: RenderMode,
    spans: SharedSpans,
    layout: Rc<Layout>,
    marks: Rc<Vec<RowMarks>>,
    colours: Rc<ServiceColours>,
    /// The time window the track shows.
    window: Window,
    /// The kinds of the trace's span events, for the markers' legend.
    event_kinds: Rc<Vec<EventKind>>,
    /// The rows not hidden by a collapsed ancestor, in order.
    visible: Vec<usize>,
    view: Viewport,
    /// The rows matching the search, sorted, and the same as a set.
    matches: Rc<Vec<usize>>,
    match_set: HashSet<usize>,
    /// A search is typed (not only spaces).
    searching: bool,
    trace_id: String,
    focus_row: Option<usize>,
    url: SpanUrl,
    logs: Option<SharedLogs>,
}

impl Frame {
    /// The script-free page's link to a span (which selects it), in the window shown.
    fn ssr_link(&self, row: usize) -> String {
        self.ssr_href(Some(row), self.window)
    }

    /// The script-free page of the trace (with `row` selected) showing `window`.
    fn ssr_href(&self, row: Option<usize>, window: Window) -> String {
        let mut href = match row {
            Some(row) => {
                let span = &self.spans.0[self.layout.rows[row].span];
                format!("/ssr/traces/{}/spans/{}", self.trace_id, span.span_id)
            }
            None => format!("/ssr/traces/{}", self.trace_id),
        };
        if !window.is_whole() {
            href.push_str("?zoom=");
            href.push_str(&window.to_param());
        }
        href
    }
}

/// The toolbar: the find box, Next match, Expand all and Collapse all (which need scripts: a
/// page without them leaves them out), and the critical path's legend.
fn toolbar(f: &Frame, state: State) -> Element {
    let count = f.matches.len();
    let label = match_label(&state.query.read(), (state.match_pos)(), count);
    let (on_enter, on_next, on_collapse_all) =
        (f.layout.clone(), f.layout.clone(), f.layout.clone());
    let (enter_matches, next_matches) = (f.matches.clone(), f.matches.clone());
    rsx! {
        div { class: "wf-toolbar",
            if !f.mode.is_static() {
                input {
                    class: "wf-search",
                    r#type: "search",
                    placeholder: "Find spans (name, id, attribute, event…)",
                    "aria-label": "Find spans",
                    value: "{state.query}",
                    oninput: move |e| state.search(e.value()),
                    onkeydown: move |e: KeyboardEvent| {
                        if e.key() == Key::Enter {
                            let step = if e.modifiers().shift() { Step::Back } else { Step::Forward };
                            state.go_to_match(&enter_matches, step, &on_enter);
                        }
                    },
                }
                button {
                    r#type: "button",
                    class: "wf-next",
                    disabled: count == 0,
                    onclick: move |_| {
                        let on_a_match = state.selected.peek().is_some_and(|s| next_matches.contains(&s));
                        state.go_to_match(&next_matches, Step::Next { on_a_match }, &on_next);
                    },
                    "Next match"
                }
                span { class: "wf-matches", "{label}" }
                button { r#type: "button", onclick: move |_| state.expand_all(), "Expand all" }
                button {
                    r#type: "button",
                    class: "wf-collapse-all",
                    title: "Collapse every span below the top level",
                    onclick: move |_| state.collapse_all(&on_collapse_all),
                    "Collapse all"
                }
            }
            {zoom_controls(f, state)}
            span { class: "legend", title: "The parts of spans the trace's end waited on: their own work, not their children's", span { class: "legend-critical" } "critical path" }
            if !f.event_kinds.is_empty() {
                span { class: "legend wf-event-legend", role: "list", "aria-label": "Event markers",
                    for kind in f.event_kinds.iter() {
                        span { role: "listitem", span { class: kind.class(), "aria-hidden": "true" } "{kind.legend()}" }
                    }
                }
            }
        }
    }
}

/// The minimap: every visible row (bucketed past a few hundred) with a window over the rows
/// in view, which a press or a drag moves; its own time ruler below.
fn minimap(f: &Frame, state: State, ticks: &[ruler::Tick]) -> Element {
    let total = f.view.total_height;
    let (window_y, window_h) = minimap_window((state.scroll_top)(), total, f.visible.len());
    let bars = minimap_bars(&f.layout, &f.visible);
    let paths = minimap_paths(&bars, |bar| f.colours.of(f.layout.rows[bar.row].span));
    let (release, leave) = (f.url.clone(), f.url.clone());
    let selecting = (state.mm_select)();
    rsx! {
        div { class: "wf-minimap",
            svg {
                class: "minimap",
                view_box: "0 0 1000 {MINIMAP_HEIGHT}",
                preserve_aspect_ratio: "none",
                onmounted: move |e| state.measure_minimap(e.data()),
                onmousedown: move |e| {
                    e.prevent_default();
                    state.press_minimap(e.client_coordinates().x, e.element_coordinates().y, total);
                },
                onmousemove: move |e| state.drag_minimap(e.client_coordinates().x, e.element_coordinates().y, total),
                onmouseup: move |e| state.release_minimap(Some(e.client_coordinates().x), &release),
                onmouseleave: move |_| state.release_minimap(None, &leave),
                for (colour, d) in paths {
                    path { key: "{colour}", class: "mm-bar", fill: colour, d }
                }
                rect { class: "mm-window", x: "0", y: "{window_y:.2}", width: "1000", height: "{window_h:.2}" }
                if !f.window.is_whole() {
                    rect { class: "mm-zoom", x: "{f.window.from * 1000.0:.2}", y: "0", width: "{f.window.width() * 1000.0:.2}", height: "{MINIMAP_HEIGHT}" }
                }
                if let Some((a, b)) = selecting {
                    rect { class: "mm-select", x: "{a.min(b) * 1000.0:.2}", y: "0", width: "{(a - b).abs() * 1000.0:.2}", height: "{MINIMAP_HEIGHT}" }
                }
            }
            div { class: "mm-ruler", {tick_marks(ticks, "mm-label")} }
        }
    }
}

/// The scroll box and its canvas of rows (a tree grid): only the drawn rows, keyed by row.
fn rows(f: &Frame, state: State) -> Element {
    let (first, last) = (f.view.first, f.view.last);
    let selected = (state.selected)();
    let tab_row = tab_stop(f.mode, selected, &f.visible, (first, last));
    let collapsed = state.collapsed.read();
    let on_key = {
        let (layout, url, shown) = (f.layout.clone(), f.url.clone(), f.view.shown_height());
        move |e: KeyboardEvent| match e.key() {
            // Time zoom around the pointer's last place: `+` (or `=`, its key unshifted), `-`,
            // and `0` for the whole trace.
            Key::Character(c) if c == "+" || c == "=" => {
                e.prevent_default();
                state.zoom_by(zoom::STEP, &url);
            }
            Key::Character(c) if c == "-" => {
                e.prevent_default();
                state.zoom_by(1.0 / zoom::STEP, &url);
            }
            Key::Character(c) if c == "0" => {
                e.prevent_default();
                state.set_zoom(Window::WHOLE, &url);
            }
            _ => state.key(e, &layout, &url, shown),
        }
    };
    let on_wheel = {
        let url = f.url.clone();
        move |e: WheelEvent| state.wheel(e, &url)
    };
    rsx! {
        div {
            class: "wf-scroll",
            id: "wf-scroll",
            style: if f.mode.is_static() { "".to_owned() } else { format!("height: {}px", f.view.box_height()) },
            onscroll: move |e| state.scrolled(e.data().scroll_top()),
            onwheel: on_wheel,
            onmousemove: move |e| {
                state.point_at(e.client_coordinates().x);
            },
            div { class: "wf-canvas", role: "treegrid", "aria-label": "Spans", "aria-readonly": "true", onkeydown: on_key, style: "height: {f.view.canvas_height}px",
                for (offset, &row_index) in f.visible[first..last].iter().enumerate() {
                    WaterfallRow {
                        key: "{row_index}",
                        spans: f.spans.clone(),
                        layout: SharedLayout(f.layout.clone()),
                        color: f.colours.of(f.layout.rows[row_index].span).to_owned(),
                        marks: f.marks.get(row_index).copied().unwrap_or_default(),
                        error_logs: f.logs.as_ref().is_some_and(|l| l.0.has_error(&f.spans.0[f.layout.rows[row_index].span].span_id)),
                        tab_stop: tab_row == Some(row_index),
                        row_index,
                        top: f.view.top(offset),
                        collapsed: collapsed.contains(&row_index),
                        selected: selected == Some(row_index),
                        matched: f.match_set.contains(&row_index),
                        dimmed: f.searching && !f.match_set.contains(&row_index),
                        hidden_matches: if f.searching && collapsed.contains(&row_index) { matches_below(&f.layout, &f.matches, row_index) } else { 0 },
                        on_toggle: {
                            let layout = f.layout.clone();
                            move |row: usize| state.toggle(row, &layout)
                        },
                        on_select: {
                            let url = f.url.clone();
                            move |row: usize| state.select(row, &url)
                        },
                        href: f.mode.is_static().then(|| f.ssr_link(row_index)),
                        window: f.window,
                    }
                }
            }
        }
    }
}

/// Below the rows, in the rows' column (beside them it would squeeze them): a preview's
/// pointer to the page without scripts, and that page's links to the pages of rows around.
fn notes(f: &Frame) -> Element {
    let (first, last, len) = (f.view.first, f.view.last, f.visible.len());
    let trace_id = &f.trace_id;
    if f.mode == RenderMode::Preview {
        let href = f.ssr_href(f.focus_row, f.window);
        return rsx! {
            noscript {
                p { class: "wf-more",
                    "JavaScript is off: "
                    a { href: "{href}", "the page without scripts" }
                    " lists the spans."
                }
            }
        };
    }
    if !f.mode.is_static() || last - first >= len {
        return rsx! {};
    }
    let previous_page = (first > 0).then(|| f.ssr_link(f.visible[first - SSR_ROWS.min(first)]));
    let next_page = (last < len).then(|| f.ssr_link(f.visible[last]));
    rsx! {
        p { class: "wf-more",
            "Spans {first + 1}–{last} of {len}. "
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

/// Over the rows' ruler: a drag selects the window to show (its extent drawn while dragging);
/// it also measures the track, so the wheel and the keys know where the pointer is.
fn zoom_pad(f: &Frame, state: State) -> Element {
    if f.mode.is_static() {
        return rsx! {};
    }
    let release = f.url.clone();
    let drag = (state.zoom_drag)();
    rsx! {
        div {
            class: "wf-zoom-pad",
            title: "Drag to zoom into a time window (ctrl+wheel or + and − zoom around the pointer)",
            onmounted: move |e| state.measure_track(e.data()),
            onmouseenter: move |e| {
                state.point_at(e.client_coordinates().x);
            },
            onmousedown: move |e| {
                e.prevent_default();
                state.ruler_press(e.client_coordinates().x);
            },
            onmousemove: move |e| state.ruler_move(e.client_coordinates().x),
            onmouseup: move |e| state.ruler_release(e.client_coordinates().x, &release),
            onmouseleave: move |_| {
                let mut drag = state.zoom_drag;
                drag.set(None);
            },
            if let Some((a, b)) = drag {
                div { class: "wf-zoom-sel", style: "left: {a.min(b) * 100.0:.3}%; width: {(a - b).abs() * 100.0:.3}%" }
            }
        }
    }
}

/// Zoom in, out and back to the whole trace, and the window shown when zoomed; without
/// scripts, links to the pages of those windows (around the window's middle).
fn zoom_controls(f: &Frame, state: State) -> Element {
    let trace_ns = f.layout.end_ns - f.layout.start_ns;
    let (from_ns, to_ns) = f.window.range_ns(trace_ns);
    let shown = rsx! {
        if !f.window.is_whole() {
            span { class: "wf-zoomed", "+{format_duration(from_ns)} – +{format_duration(to_ns)}" }
        }
    };
    if f.mode.is_static() {
        let href = |window: Window| f.ssr_href(f.focus_row, window);
        return rsx! {
            span { class: "wf-zoom", role: "group", "aria-label": "Time zoom",
                a { class: "wf-zoom-in", href: href(f.window.zoom_at(0.5, zoom::STEP)), "Zoom in" }
                if !f.window.is_whole() {
                    " "
                    a { class: "wf-zoom-out", href: href(f.window.zoom_at(0.5, 1.0 / zoom::STEP)), "Zoom out" }
                    " "
                    {shown}
                    " "
                    a { class: "wf-zoom-reset", href: href(Window::WHOLE), "Whole trace" }
                }
            }
        };
    }
    let (zoom_in, zoom_out, reset) = (f.url.clone(), f.url.clone(), f.url.clone());
    rsx! {
        span { class: "wf-zoom", role: "group", "aria-label": "Time zoom",
            button { r#type: "button", class: "wf-zoom-in", title: "Zoom in (+, ctrl+wheel)", "aria-label": "Zoom in",
                onclick: move |_| state.zoom_around(0.5, zoom::STEP, &zoom_in), "+" }
            button { r#type: "button", class: "wf-zoom-out", title: "Zoom out (−, ctrl+wheel)", "aria-label": "Zoom out",
                disabled: f.window.is_whole(),
                onclick: move |_| state.zoom_around(0.5, 1.0 / zoom::STEP, &zoom_out), "−" }
            if !f.window.is_whole() {
                {shown}
                button { r#type: "button", class: "wf-zoom-reset", title: "Show the whole trace (0)",
                    onclick: move |_| state.set_zoom(Window::WHOLE, &reset), "Whole trace" }
            }
        }
    }
}

/// The ruler's ticks as `class` elements (the rows' ruler and the minimap's).
fn tick_marks(ticks: &[ruler::Tick], class: &str) -> Element {
    rsx! {
        for tick in ticks {
            span { class: "{class}", style: "left: {tick.at * 100.0:.3}%", "{tick.label}" }
        }
    }
}
