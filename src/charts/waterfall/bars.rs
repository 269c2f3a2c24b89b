//! Pure placement of what a waterfall bar carries: its duration label (inside the bar when it
//! fits, else right of it, or left of it when the bar ends near the track's right edge), the
//! ticks of its span events and its error mark, and the colours of the bars.

use crate::charts::plot::text_size;
use crate::model::Span;

/// The narrowest the track is drawn (`.wf-track { min-width }` in the stylesheet): placement
/// assumes it, so a label said to fit a bar fits it on any wider track too.
pub const TRACK_PX: f64 = 400.0;
/// The labels' font size (px), as `.wf-duration` says.
pub const LABEL_PX: f64 = 11.0;
/// Space between a label and a bar's edges (px).
pub const PAD_PX: f64 = 4.0;
/// Most event ticks one bar draws: past that they are a smear, and the details list them.
pub const MAX_EVENT_TICKS: usize = 32;
/// The lightness of bar colours: every hue at 70% keeps `--bar-text` at ≥ 4.5:1 (tested).
const BAR_LIGHTNESS: u32 = 70;

/// Where a bar's duration label goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On the bar, in `--bar-text`.
    Inside,
    /// After the bar's end, in `--text` on the row.
    Right,
    /// Before the bar's start, in `--text` on the row, when there is no room after it.
    Left,
}

impl Place {
    /// The label's class (`wf-duration in|right|left`).
    pub fn class(self) -> &'static str {
        match self {
            Place::Inside => "wf-duration in",
            Place::Right => "wf-duration right",
            Place::Left => "wf-duration left",
        }
    }
}

/// Where `text` goes on a bar at `offset` and `width` (fractions of the track).
pub fn place_label(offset: f64, width: f64, text: &str) -> Place {
    let text_px = f64::from(text_size(text, LABEL_PX).0);
    let start = offset * TRACK_PX;
    let end = (offset + width) * TRACK_PX;
    if end - start >= text_px + 2.0 * PAD_PX {
        Place::Inside
    } else if end + PAD_PX + text_px <= TRACK_PX {
        Place::Right
    } else {
        Place::Left
    }
}

/// The positions (fractions of the trace, 0..=1) of a span's first `MAX_EVENT_TICKS` events,
/// each clamped to its bar, with the event's index.
pub fn event_ticks(
    span: &Span,
    trace_start_ns: u64,
    trace_ns: u64,
) -> impl Iterator<Item = (usize, f64)> + '_ {
    let total = trace_ns.max(1) as f64;
    let end = span.end_ns.max(span.start_ns);
    span.events.iter().take(MAX_EVENT_TICKS).enumerate().map(move |(i, event)| {
        let at = event.time_ns.clamp(span.start_ns, end).saturating_sub(trace_start_ns);
        (i, at as f64 / total)
    })
}

/// Where an error span's red edge goes (its bar's start, a fraction of the trace); `None` for
/// a span without an error.
pub fn error_edge(span: &Span, offset: f64) -> Option<f64> {
    span.is_error().then_some(offset)
}

/// A stable colour per service name (bars and the service's name).
pub fn service_color(service: &str) -> String {
    let hash =
        service.bytes().fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    hue_color(hash % 360)
}

fn hue_color(hue: u32) -> String {
    format!("hsl({hue}, 60%, {BAR_LIGHTNESS}%)")
}

#[cfg(test)]
#[path = "bars_tests.rs"]
mod tests;
