//! Pure viewport maths of the waterfall: which rows a render draws and where, how tall the
//! canvas is, the minimap's bars and window, and the row Tab stops at. No Dioxus.

use std::fmt::Write;

use crate::env::RenderMode;

use super::layout::{page_of, Layout};

pub(crate) const ROW_HEIGHT: f64 = 24.0;
pub(crate) const VIEW_HEIGHT: f64 = 560.0;
/// Rows drawn above and below the viewport so fast scrolling shows no gaps.
const OVERSCAN: usize = 12;
pub(crate) const MINIMAP_HEIGHT: f64 = 64.0;
/// Most rows a page without scripts draws at once (it links to the pages before and after):
/// past that the HTML alone would take seconds to make and to load.
pub(crate) const SSR_ROWS: usize = 2000;
/// Most bars the minimap draws; rows are bucketed beyond that.
const MINIMAP_BARS: usize = 400;

/// What one render draws of the visible rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Viewport {
    /// The drawn rows are positions `first..last` of the visible rows.
    pub first: usize,
    pub last: usize,
    /// The height of every visible row together: what a live renderer scrolls through.
    pub total_height: f64,
    /// The canvas's height. Server HTML cannot set a scroll position, so it draws its rows
    /// from the top of a canvas only as tall as they are; a live renderer places each row at
    /// its place in the whole list and scrolls.
    pub canvas_height: f64,
    rows_from_top: bool,
}

impl Viewport {
    /// The rows `mode` draws of `len` visible ones: a page without scripts draws the page of
    /// `SSR_ROWS` that holds `focus_at` (the focused span's position), the others the rows
    /// around `scroll_top`.
    pub(crate) fn new(
        mode: RenderMode,
        len: usize,
        scroll_top: f64,
        focus_at: Option<usize>,
    ) -> Viewport {
        let (first, last) = if mode.is_static() {
            let page = page_of(focus_at.unwrap_or(0), len, SSR_ROWS);
            (page.start, page.end)
        } else {
            drawn(scroll_top, len)
        };
        let total_height = len as f64 * ROW_HEIGHT;
        let rows_from_top = mode.on_server();
        let canvas_height =
            if rows_from_top { (last - first) as f64 * ROW_HEIGHT } else { total_height };
        Viewport { first, last, total_height, canvas_height, rows_from_top }
    }

    /// The top (px) of the `offset`-th drawn row.
    pub(crate) fn top(&self, offset: usize) -> f64 {
        (if self.rows_from_top { offset } else { self.first + offset }) as f64 * ROW_HEIGHT
    }

    /// The scroll box's height: a short trace's box is only as tall as its rows (plus its
    /// 1 px borders).
    pub(crate) fn box_height(&self) -> f64 {
        VIEW_HEIGHT.min(self.canvas_height.max(ROW_HEIGHT) + 2.0)
    }

    /// The height the rows of `scroll_to_show` are shown in (the box less its borders).
    pub(crate) fn shown_height(&self) -> f64 {
        VIEW_HEIGHT.min(self.total_height) - 2.0
    }
}

/// The positions of the rows a live renderer draws when scrolled to `scroll_top`: the rows
/// in view and `OVERSCAN` around them.
pub(crate) fn drawn(scroll_top: f64, len: usize) -> (usize, usize) {
    let first = ((scroll_top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN).min(len);
    (first, (first + (VIEW_HEIGHT / ROW_HEIGHT) as usize + 2 * OVERSCAN).min(len))
}

/// The row Tab stops at (roving tabindex): the selected row while it is drawn, else the first
/// drawn row; none in server HTML, which has no focus to move.
pub(crate) fn tab_stop(
    mode: RenderMode,
    selected: Option<usize>,
    visible: &[usize],
    (first, last): (usize, usize),
) -> Option<usize> {
    if mode.on_server() {
        return None;
    }
    selected.filter(|s| visible[first..last].contains(s)).or(visible.get(first).copied())
}

/// The minimap's window over the rows in view: its top and height in the minimap's box.
pub(crate) fn minimap_window(scroll_top: f64, total_height: f64, len: usize) -> (f64, f64) {
    let y = if len == 0 { 0.0 } else { scroll_top / total_height.max(1.0) * MINIMAP_HEIGHT };
    let h = (VIEW_HEIGHT / total_height.max(VIEW_HEIGHT) * MINIMAP_HEIGHT).max(2.0);
    (y, h)
}

/// The scroll offset a press or drag at `y` on the minimap asks for: that place in the
/// middle of the view.
pub(crate) fn minimap_jump(y: f64, total_height: f64) -> f64 {
    (y / MINIMAP_HEIGHT * total_height - VIEW_HEIGHT / 2.0).max(0.0)
}

/// One minimap bar, in its 1000-wide box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MinimapBar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The row whose service colours it (the first of the rows it stands for).
    pub row: usize,
}

/// The minimap's bars, one per visible row or per bucket of rows past MINIMAP_BARS.
pub(crate) fn minimap_bars(layout: &Layout, visible: &[usize]) -> Vec<MinimapBar> {
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
            MinimapBar {
                x: start * 1000.0,
                y: i as f64 * bar_height,
                width: ((end - start) * 1000.0).max(1.0),
                height: bar_height.max(0.5),
                row: chunk[0],
            }
        })
        .collect()
}

/// The minimap's bars as one SVG path per colour (`colour_of` a bar), in the order colours
/// first appear. One element per service instead of one per bar: collapsing a subtree moves
/// every bar, and rewriting a few hundred elements' attributes cost more than the rest of
/// the collapse (issue 22).
pub(crate) fn minimap_paths<'a>(
    bars: &[MinimapBar],
    colour_of: impl Fn(&MinimapBar) -> &'a str,
) -> Vec<(&'a str, String)> {
    let mut paths: Vec<(&'a str, String)> = Vec::new();
    for bar in bars {
        let colour = colour_of(bar);
        let at = match paths.iter().position(|(c, _)| *c == colour) {
            Some(at) => at,
            None => {
                paths.push((colour, String::new()));
                paths.len() - 1
            }
        };
        let d = &mut paths[at].1;
        let (x, y, w, h) = (bar.x, bar.y, bar.width, bar.height);
        // Absolute moves, so a bar's text never depends on the one before it.
        let _ = write!(d, "M{x:.1} {y:.2}h{w:.1}v{h:.2}h-{w:.1}z");
    }
    paths
}

#[cfg(test)]
#[path = "viewport_tests.rs"]
mod tests;
