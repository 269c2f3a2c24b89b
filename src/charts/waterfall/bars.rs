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

/// Hues in the order a trace's services take them: each far from the ones before it, so
/// the first services of a trace (usually all of them) never look alike.
const PALETTE_HUES: [u32; 12] = [210, 30, 140, 330, 55, 265, 180, 0, 95, 300, 235, 160];

/// The colours of one trace's services: the first service (in row order) takes the first hue,
/// the next new one the next, so neighbours differ; past twelve services hues repeat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceColours {
    /// Each service once, in the order they took their colours, with that colour.
    pub services: Vec<(String, String)>,
    /// Per span (input order), the index of its service in `services`.
    pub of_span: Vec<u16>,
}

impl ServiceColours {
    /// Colours for `spans` met in the order `rows` gives (span indices).
    pub fn new(spans: &[Span], rows: impl Iterator<Item = usize>) -> ServiceColours {
        let mut colours = ServiceColours { services: Vec::new(), of_span: vec![0; spans.len()] };
        // The layout's map type, so the bundle carries one copy of its code.
        let mut index = std::collections::HashMap::<&str, usize>::new();
        for span in rows {
            let name = spans[span].service.as_str();
            let next = index.len();
            let at = *index.entry(name).or_insert(next);
            if at == next {
                let hue = PALETTE_HUES[at % PALETTE_HUES.len()];
                colours.services.push((name.to_owned(), hue_color(hue)));
            }
            colours.of_span[span] = at as u16;
        }
        colours
    }

    /// The colour of span `span` (an index into the trace's spans).
    pub fn of(&self, span: usize) -> &str {
        self.services.get(usize::from(self.of_span[span])).map_or("", |(_, c)| c.as_str())
    }
}

fn hue_color(hue: u32) -> String {
    format!("hsl({hue}, 60%, {BAR_LIGHTNESS}%)")
}

#[cfg(test)]
#[path = "bars_tests.rs"]
mod tests;
