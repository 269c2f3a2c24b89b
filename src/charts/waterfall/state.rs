//! The waterfall's signals and what its events do to them: select, collapse and expand,
//! reveal a span, step through matches, scroll, drag the minimap (rows, or a time window
//! sideways), zoom in time, and the tree's keys. The
//! maths each handler needs is in the pure modules (`keys`, `search`, `viewport`).

use std::collections::HashSet;

use dioxus::prelude::*;

use super::keys::{navigate, scroll_to_show, NavAction, NavKey};
use super::layout::{centred_scroll, shown_ancestor, visible_rows, Layout};
use super::search::{step, Step};
use super::viewport::{drawn, minimap_jump, ROW_HEIGHT, VIEW_HEIGHT};
use super::zoom::{minimap_selects, share_of, Window, STEP};
use super::SharedSpans;

/// The waterfall's signals, copied into each handler.
#[derive(Clone, Copy)]
pub(super) struct State {
    /// Rows whose subtrees are hidden.
    pub collapsed: Signal<HashSet<usize>>,
    /// The row whose details show.
    pub selected: Signal<Option<usize>>,
    /// The find box's text, and which of its matches was last shown.
    pub query: Signal<String>,
    pub match_pos: Signal<usize>,
    /// The scroll box's offset (px).
    pub scroll_top: Signal<f64>,
    /// A press on the minimap is being dragged.
    pub dragging: Signal<bool>,
    /// Where that press was across the minimap (a fraction), and the time window it selects
    /// once dragged sideways (drawn while dragging).
    pub mm_press: CopyValue<Option<f64>>,
    pub mm_select: Signal<Option<(f64, f64)>>,
    /// The minimap once mounted, and its left edge and width on the page (px).
    pub mm_element: CopyValue<Option<std::rc::Rc<MountedData>>>,
    pub mm_rect: CopyValue<(f64, f64)>,
    /// The row keyboard navigation moved to: focused once it is drawn.
    pub focus_request: Signal<Option<usize>>,
    /// The time window the track shows (the whole trace unless zoomed), from the URL's
    /// `zoom` at first.
    pub zoom: Signal<Window>,
    /// A drag on the ruler: where it started and where it is (fractions of the track).
    pub zoom_drag: Signal<Option<(f64, f64)>>,
    /// The track's left edge and width on the page (px), measured when the ruler mounts and
    /// when the pointer enters the rows; and the pointer's last place over it (a fraction).
    /// Not signals: moving the pointer must not redraw.
    pub track: CopyValue<(f64, f64)>,
    pub pointer: CopyValue<f64>,
    /// The ruler's zoom pad once mounted, measured again when a drag starts (the layout
    /// around it settles after it mounts).
    pub pad: CopyValue<Option<std::rc::Rc<MountedData>>>,
}

/// Puts the selected span in the browser's URL (replaced, not pushed: selecting is not a
/// page), so a copied URL opens this view. Only the web has such a URL.
#[derive(Clone)]
pub(super) struct SpanUrl {
    pub spans: SharedSpans,
    pub layout: std::rc::Rc<Layout>,
    pub web: bool,
    /// The time window shown, kept in the URL as `zoom=FROM-TO` when zoomed.
    pub zoom: Window,
}

impl SpanUrl {
    fn replace(&self, row: usize) {
        self.replace_with(Some(row), self.zoom);
    }

    /// The URL of the trace with `row` selected (or none) and `zoom` shown.
    pub(super) fn replace_with(&self, row: Option<usize>, zoom: Window) {
        if !self.web {
            return;
        }
        let Some(first) = self.spans.0.first() else { return };
        let mut url = match row {
            Some(row) => {
                let span = &self.spans.0[self.layout.rows[row].span];
                format!("/traces/{}/spans/{}", span.trace_id, span.span_id)
            }
            None => format!("/traces/{}", first.trace_id),
        };
        if !zoom.is_whole() {
            url.push_str("?zoom=");
            url.push_str(&zoom.to_param());
        }
        crate::platform::replace_url(&url);
    }
}

impl State {
    /// The signals (hooks: call in the component's body). The focused span, else the root
    /// (first row), starts selected, so its details show without a click (and in SSR);
    /// nothing is collapsed yet, so its row is its position.
    pub(super) fn use_new(focus_row: Option<usize>) -> State {
        State {
            collapsed: use_signal(HashSet::<usize>::new),
            selected: use_signal(|| Some(focus_row.unwrap_or(0))),
            query: use_signal(String::new),
            match_pos: use_signal(|| 0usize),
            scroll_top: use_signal(|| {
                focus_row.map_or(0.0, |row| centred_scroll(row, ROW_HEIGHT, VIEW_HEIGHT))
            }),
            dragging: use_signal(|| false),
            mm_press: use_hook(|| CopyValue::new(None)),
            mm_select: use_signal(|| None),
            mm_element: use_hook(|| CopyValue::new(None)),
            mm_rect: use_hook(|| CopyValue::new((0.0, 0.0))),
            focus_request: use_signal(|| None::<usize>),
            zoom: use_signal(|| {
                crate::platform::query_value("zoom").map_or(Window::WHOLE, |v| Window::parse(&v))
            }),
            zoom_drag: use_signal(|| None),
            track: use_hook(|| CopyValue::new((0.0, 0.0))),
            pointer: use_hook(|| CopyValue::new(0.5)),
            pad: use_hook(|| CopyValue::new(None)),
        }
    }

    /// Shows `window` of the trace, and says so in the URL.
    pub(super) fn set_zoom(mut self, window: Window, url: &SpanUrl) {
        self.zoom.set(window);
        url.replace_with(*self.selected.peek(), window);
    }

    /// Zooms in (`factor` above 1) or out around the pointer's last place over the track.
    pub(super) fn zoom_by(self, factor: f64, url: &SpanUrl) {
        self.zoom_around(*self.pointer.peek(), factor, url);
    }

    /// Zooms by `factor` around `at` (a fraction of the track; the buttons: its middle).
    pub(super) fn zoom_around(self, at: f64, factor: f64, url: &SpanUrl) {
        let window = self.zoom.peek().zoom_at(at, factor);
        self.set_zoom(window, url);
    }

    /// The pointer is at `client_x` (px in the page): where that is on the track.
    pub(super) fn point_at(mut self, client_x: f64) -> f64 {
        let (left, width) = *self.track.peek();
        let at = share_of(client_x, left, width);
        self.pointer.set(at);
        at
    }

    /// A wheel turn with ctrl: zoom around the pointer, in when turned away from the user.
    pub(super) fn wheel(self, e: WheelEvent, url: &SpanUrl) {
        if !e.modifiers().ctrl() {
            return;
        }
        e.prevent_default();
        self.point_at(e.client_coordinates().x);
        let dy = e.delta().strip_units().y;
        if dy != 0.0 {
            self.zoom_by(if dy < 0.0 { STEP } else { 1.0 / STEP }, url);
        }
    }

    /// A press, a move and a release on the ruler: the window dragged over is shown.
    pub(super) fn ruler_press(self, client_x: f64) {
        let pad = self.pad.peek().clone();
        let mut this = self;
        spawn(async move {
            if let Some(pad) = pad {
                if let Ok(rect) = pad.get_client_rect().await {
                    this.track.set((rect.origin.x, rect.size.width));
                }
            }
            let at = this.point_at(client_x);
            this.zoom_drag.set(Some((at, at)));
        });
    }

    pub(super) fn ruler_move(mut self, client_x: f64) {
        let at = self.point_at(client_x);
        let drag = *self.zoom_drag.peek();
        if let Some((from, _)) = drag {
            self.zoom_drag.set(Some((from, at)));
        }
    }

    pub(super) fn ruler_release(mut self, client_x: f64, url: &SpanUrl) {
        let at = self.point_at(client_x);
        let drag = *self.zoom_drag.peek();
        self.zoom_drag.set(None);
        if let Some(window) = drag.and_then(|(from, _)| self.zoom.peek().select(from, at)) {
            self.set_zoom(window, url);
        }
    }

    /// Measures the track (its left edge and width on the page).
    pub(super) fn measure_track(mut self, element: std::rc::Rc<MountedData>) {
        self.pad.set(Some(element.clone()));
        spawn(async move {
            if let Ok(rect) = element.get_client_rect().await {
                self.track.set((rect.origin.x, rect.size.width));
            }
        });
    }

    /// Scrolls the rows to `y` (the signal and the element both).
    pub(super) fn scroll_to(mut self, y: f64) {
        let y = y.max(0.0);
        self.scroll_top.set(y);
        crate::platform::set_scroll_top("wf-scroll", y);
    }

    /// The element scrolled (by the user): draw the rows now in view.
    pub(super) fn scrolled(mut self, y: f64) {
        self.scroll_top.set(y);
    }

    /// Expands every collapsed ancestor of `row`, selects it, and scrolls it into the middle
    /// of the view.
    pub(super) fn reveal(mut self, row: usize, layout: &Layout) {
        self.collapsed.write().retain(|&c| !(c < row && c + layout.rows[c].descendants >= row));
        self.selected.set(Some(row));
        let visible = visible_rows(layout, &self.collapsed.peek());
        let position = visible.iter().position(|&r| r == row).unwrap_or(0);
        self.scroll_to(centred_scroll(position, ROW_HEIGHT, VIEW_HEIGHT));
    }

    /// A click on a row: selects it.
    pub(super) fn select(mut self, row: usize, url: &SpanUrl) {
        self.selected.set(Some(row));
        url.replace(row);
    }

    /// A click on a row's toggle. A selected span collapsed away: its row takes the selection.
    pub(super) fn toggle(mut self, row: usize, layout: &Layout) {
        let mut set = self.collapsed.write();
        if !set.remove(&row) {
            set.insert(row);
            let now = *self.selected.peek();
            if now.is_some_and(|s| s > row && s <= row + layout.rows[row].descendants) {
                self.selected.set(Some(row));
            }
        }
    }

    pub(super) fn expand_all(mut self) {
        self.collapsed.write().clear();
    }

    /// Collapses every span below the top level; the details follow the selection up to the
    /// row that hides it.
    pub(super) fn collapse_all(mut self, layout: &Layout) {
        let all: HashSet<usize> = layout
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.depth > 0 && r.descendants > 0)
            .map(|(i, _)| i)
            .collect();
        let now = *self.selected.peek();
        if let Some(row) = now {
            self.selected.set(Some(shown_ancestor(layout, &all, row)));
        }
        self.collapsed.set(all);
    }

    /// Typing in the find box: a new search starts at its first match.
    pub(super) fn search(mut self, text: String) {
        self.query.set(text);
        self.match_pos.set(0);
    }

    /// Shows the match a step through `matches` goes to.
    pub(super) fn go_to_match(mut self, matches: &[usize], by: Step, layout: &Layout) {
        let at = *self.match_pos.peek();
        if let Some(next) = step(at, matches.len(), by) {
            self.match_pos.set(next);
            self.reveal(matches[next], layout);
        }
    }

    /// Keeps the minimap's element and measures it.
    pub(super) fn measure_minimap(mut self, element: std::rc::Rc<MountedData>) {
        self.mm_element.set(Some(element.clone()));
        spawn(async move {
            if let Ok(rect) = element.get_client_rect().await {
                self.mm_rect.set((rect.origin.x, rect.size.width));
            }
        });
    }

    fn minimap_share(self, client_x: f64) -> f64 {
        let (left, width) = *self.mm_rect.peek();
        share_of(client_x, left, width)
    }

    /// A press on the minimap at `client_x` (px in the page) and `y` (px in it): the rows
    /// scroll there; dragged sideways it selects a time window instead (`minimap_selects`).
    pub(super) fn press_minimap(mut self, client_x: f64, y: f64, total_height: f64) {
        self.dragging.set(true);
        self.mm_select.set(None);
        self.scroll_to(minimap_jump(y, total_height));
        self.mm_press.set(Some(self.minimap_share(client_x)));
        // Measured again: the layout around it settles after it mounts.
        let element = self.mm_element.peek().clone();
        let mut this = self;
        spawn(async move {
            if let Some(element) = element {
                if let Ok(rect) = element.get_client_rect().await {
                    this.mm_rect.set((rect.origin.x, rect.size.width));
                    this.mm_press.set(Some(this.minimap_share(client_x)));
                }
            }
        });
    }

    pub(super) fn drag_minimap(mut self, client_x: f64, y: f64, total_height: f64) {
        if !*self.dragging.peek() {
            return;
        }
        let now = self.minimap_share(client_x);
        let start = *self.mm_press.peek();
        if let Some(start) = start {
            if self.mm_select.peek().is_some() || minimap_selects(start, now) {
                self.mm_select.set(Some((start, now)));
                return;
            }
        }
        self.scroll_to(minimap_jump(y, total_height));
    }

    /// The press ends: at `client_x` a sideways drag shows the window it selected; leaving
    /// the minimap (`None`) drops it.
    pub(super) fn release_minimap(mut self, client_x: Option<f64>, url: &SpanUrl) {
        self.dragging.set(false);
        let start = *self.mm_press.peek();
        self.mm_press.set(None);
        let selecting = self.mm_select.peek().is_some();
        if selecting {
            self.mm_select.set(None);
        }
        let (Some(start), Some(x), true) = (start, client_x, selecting) else { return };
        if let Some(window) = Window::WHOLE.select(start, self.minimap_share(x)) {
            self.set_zoom(window, url);
        }
    }

    /// A key on the tree. The focused row is the tab stop (keys and clicks move both): the
    /// selected row while it is drawn, read when the key comes (keys can come faster than
    /// renders), else the first drawn row. `shown`: the height rows are shown in.
    pub(super) fn key(mut self, e: KeyboardEvent, layout: &Layout, url: &SpanUrl, shown: f64) {
        let Some(key) = row_key(&e.key()) else {
            return;
        };
        e.prevent_default();
        let visible = visible_rows(layout, &self.collapsed.peek());
        let (first, last) = drawn(*self.scroll_top.peek(), visible.len());
        let selected = *self.selected.peek();
        let Some(row) =
            selected.filter(|s| visible[first..last].contains(s)).or(visible.get(first).copied())
        else {
            return;
        };
        match key {
            RowKey::Search => crate::platform::focus(".wf-search"),
            RowKey::Open => self.selected.set(Some(row)),
            RowKey::Nav(key) => {
                let action = navigate(layout, &visible, &self.collapsed.peek(), row, key);
                match action {
                    NavAction::Move(to) => {
                        self.selected.set(Some(to));
                        url.replace(to);
                        let at = visible.partition_point(|&r| r < to);
                        // Read first: a read borrow must not live across `scroll_to`.
                        let now = *self.scroll_top.peek();
                        if let Some(y) = scroll_to_show(at, ROW_HEIGHT, shown, now) {
                            self.scroll_to(y);
                        }
                        self.focus_request.set(Some(to));
                    }
                    NavAction::Collapse(at) => {
                        self.collapsed.write().insert(at);
                    }
                    NavAction::Expand(at) => {
                        self.collapsed.write().remove(&at);
                    }
                    NavAction::Stay => {}
                }
            }
        }
    }
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
