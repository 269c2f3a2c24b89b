//! Pure time zoom of the waterfall: the window of the trace's time the track shows (fractions
//! of the trace), zoomed around a point (ctrl+wheel, `+`/`-`), chosen by a drag on the ruler
//! or the minimap, written in the URL (`zoom=FROM-TO`), and where a bar or a point lands on
//! the track. Rows never move or vanish when zoomed: a bar outside the window is a stub at the
//! edge it lies beyond. The gestures and where each is handled: a drag on the ruler
//! (`State::ruler_*`) or sideways on the minimap (`State::*_minimap`, [`minimap_selects`]),
//! ctrl+wheel over the rows (`State::wheel`), `+`/`-`/`0` on a focused row and the toolbar's
//! buttons (`State::zoom_by`); a page without scripts has links to the windows these give.

/// A window of the trace's time, fractions of its duration: `0 ≤ from < to ≤ 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub from: f64,
    pub to: f64,
}

/// The narrowest window, a fraction of the trace (a millionth: 1 µs of a 1 s trace).
pub const MIN_WIDTH: f64 = 1e-6;
/// A drag shorter than this (a fraction of the track) is a click, not a selection.
pub const MIN_DRAG: f64 = 0.01;
/// How much one step (`+`, a wheel notch) zooms.
pub const STEP: f64 = 1.5;

/// Where a bar lands on the track (fractions of the track).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placed {
    pub left: f64,
    pub width: f64,
    /// The bar is cut by the window's start or end (it goes on beyond the track).
    pub cut_before: bool,
    pub cut_after: bool,
}

impl Default for Window {
    fn default() -> Self {
        Window::WHOLE
    }
}

impl Window {
    pub const WHOLE: Window = Window { from: 0.0, to: 1.0 };

    /// A window within the trace, at least [`MIN_WIDTH`] wide; `None` for nonsense (NaN,
    /// reversed).
    pub fn new(from: f64, to: f64) -> Option<Window> {
        if !(from.is_finite() && to.is_finite()) || to <= from {
            return None;
        }
        let (from, to) = (from.clamp(0.0, 1.0), to.clamp(0.0, 1.0));
        let width = (to - from).max(MIN_WIDTH);
        if width >= 1.0 - 1e-9 {
            return Some(Window::WHOLE);
        }
        let from = from.min(1.0 - width);
        Some(Window { from, to: from + width })
    }

    pub fn is_whole(self) -> bool {
        self == Window::WHOLE
    }

    pub fn width(self) -> f64 {
        self.to - self.from
    }

    /// Zoomed by `factor` (above 1: in; below: out) keeping the trace's time under `pointer`
    /// (a fraction of the track) under it, within the trace.
    pub fn zoom_at(self, pointer: f64, factor: f64) -> Window {
        let pointer = pointer.clamp(0.0, 1.0);
        let width = (self.width() / factor).clamp(MIN_WIDTH, 1.0);
        // Out to (about) the whole trace is the whole trace, not `0-1` give or take an ulp.
        if width >= 1.0 - 1e-9 {
            return Window::WHOLE;
        }
        let at = self.from + pointer * self.width();
        let from = (at - pointer * width).clamp(0.0, 1.0 - width);
        Window { from, to: from + width }
    }

    /// The window a drag from `a` to `b` (fractions of the track, either order) selects within
    /// this one; `None` for a click.
    pub fn select(self, a: f64, b: f64) -> Option<Window> {
        let (a, b) = (a.clamp(0.0, 1.0), b.clamp(0.0, 1.0));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if hi - lo < MIN_DRAG {
            return None;
        }
        Window::new(self.from + lo * self.width(), self.from + hi * self.width())
    }

    /// Where a bar at `offset` and `width` (fractions of the trace) lands on the track: the
    /// part inside the window, or a zero-width stub at the edge it lies beyond.
    pub fn place(self, offset: f64, width: f64) -> Placed {
        let scale = self.width();
        let left = (offset - self.from) / scale;
        let right = (offset + width - self.from) / scale;
        let (l, r) = (left.clamp(0.0, 1.0), right.clamp(0.0, 1.0));
        Placed { left: l, width: (r - l).max(0.0), cut_before: left < 0.0, cut_after: right > 1.0 }
    }

    /// Where a point (a fraction of the trace) is on the track, if inside the window.
    pub fn point(self, at: f64) -> Option<f64> {
        let x = (at - self.from) / self.width();
        (-1e-9..=1.0 + 1e-9).contains(&x).then_some(x.clamp(0.0, 1.0))
    }

    /// The window's time range in nanoseconds from the trace's start, for the ruler.
    pub fn range_ns(self, trace_ns: u64) -> (u64, u64) {
        let at = |f: f64| (f * trace_ns as f64).round() as u64;
        (at(self.from), at(self.to).min(trace_ns))
    }

    /// The window as the URL's `zoom` value (`0.25-0.5`; 6 decimals, trailing zeros dropped).
    pub fn to_param(self) -> String {
        let short = |f: f64| {
            let text = format!("{f:.6}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        format!("{}-{}", short(self.from), short(self.to))
    }

    /// The URL's `zoom` value; anything unreadable is the whole trace.
    pub fn parse(text: &str) -> Window {
        let parsed = text
            .split_once('-')
            .and_then(|(from, to)| Window::new(from.trim().parse().ok()?, to.trim().parse().ok()?));
        parsed.unwrap_or(Window::WHOLE)
    }
}

/// Where `client_x` (px in the page) is across an element at `left`, `width` px wide, as a
/// fraction of it (the middle while the element is unmeasured).
pub fn share_of(client_x: f64, left: f64, width: f64) -> f64 {
    if width > 0.0 {
        ((client_x - left) / width).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// A press on the minimap (which shows the whole trace) dragged from `start` to `now`
/// (fractions of its width): it scrolls the rows until it has gone [`MIN_DRAG`] sideways,
/// then it selects a time window.
pub fn minimap_selects(start: f64, now: f64) -> bool {
    (now - start).abs() >= MIN_DRAG
}

#[cfg(test)]
#[path = "zoom_tests.rs"]
mod tests;
