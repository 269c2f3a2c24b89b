//! Pure placement of a waterfall row's words and markers: the duration label and the "waited"
//! label never over a bar or each other (a label without room is left out; its number stays
//! in the marker's card), and each span event as a marker whose shape and colour say its kind
//! (an exception red), with the words of its card.

use crate::charts::plot::text_size;
use crate::model::shapes::{is_retry_event, retry_delay_ms};
use crate::model::{value_text, SpanEvent};
use crate::words::format_duration;

use super::bars::{place_label, Place, LABEL_PX, PAD_PX, TRACK_PX};

/// The "waited" label's font size (px), as `.wf-wait-label` says.
pub const WAIT_LABEL_PX: f64 = 10.0;

/// Where a row's labels go: the duration's place (`None`: left out), and whether the wait's
/// label is drawn (in the gap before the bar, from the gap's start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowLabels {
    pub duration: Option<Place>,
    pub wait: bool,
}

/// Places the labels of a bar at `offset`, `width` (fractions of the track) with `duration`,
/// and of the wait before it from `wait_start` (a fraction) with `wait_text`. Sizes are taken
/// on the narrowest track ([`TRACK_PX`]): what fits there fits on any wider one.
///
/// The duration goes inside the bar, else right, else left of it ([`place_label`]), but never
/// off the track; the wait's label only inside the gap, clear of the bar and of a duration
/// label placed left of the bar (the duration wins: the wait's number is in its card).
pub fn place_row_labels(
    offset: f64,
    width: f64,
    duration: &str,
    wait: Option<(f64, &str)>,
) -> RowLabels {
    let start = offset * TRACK_PX;
    let duration_px = f64::from(text_size(duration, LABEL_PX).0);
    let place = place_label(offset, width, duration);
    // Left of a bar near the track's start, the label would leave the track: out.
    let duration_place =
        (place != Place::Left || start - PAD_PX - duration_px >= 0.0).then_some(place);
    let wait = wait.is_some_and(|(wait_start, text)| {
        let text_px = f64::from(text_size(text, WAIT_LABEL_PX).0);
        let from = wait_start * TRACK_PX;
        // Up to the bar, or up to the duration label when that sits left of the bar.
        let until = match duration_place {
            Some(Place::Left) => start - 2.0 * PAD_PX - duration_px,
            _ => start - PAD_PX,
        };
        from >= 0.0 && from + text_px <= until
    });
    RowLabels { duration: duration_place, wait }
}

/// What an event marker shows: its kind's shape and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `exception` (OpenTelemetry's semantic conventions): red.
    Exception,
    /// A retry's backoff (`retry`, `model::shapes`): amber.
    Retry,
    /// Anything else: the accent colour.
    Other,
}

impl EventKind {
    pub fn of(event: &SpanEvent) -> EventKind {
        if event.name == "exception" {
            EventKind::Exception
        } else if is_retry_event(event) {
            EventKind::Retry
        } else {
            EventKind::Other
        }
    }

    /// The marker's class (`wf-ev ev-…`), which draws its shape and colour.
    pub fn class(self) -> &'static str {
        match self {
            EventKind::Exception => "wf-ev ev-exception",
            EventKind::Retry => "wf-ev ev-retry",
            EventKind::Other => "wf-ev ev-other",
        }
    }

    /// The legend's words for the kind.
    pub fn legend(self) -> &'static str {
        match self {
            EventKind::Exception => "exception",
            EventKind::Retry => "retry (backoff)",
            EventKind::Other => "other event",
        }
    }
}

/// The words of an event's card: its name and time from the trace's start (as "Starts at"
/// and the ruler count), then what it says: an exception's type and message, a retry's
/// declared backoff, else its first attributes.
pub fn event_card(event: &SpanEvent, trace_start_ns: u64) -> String {
    let at = format_duration(event.time_ns.saturating_sub(trace_start_ns));
    let mut card = format!("{} at +{at}", event.name);
    let text = |key: &str| {
        event.attributes.iter().find(|kv| kv.key == key).map(|kv| value_text(&kv.value))
    };
    let detail = match EventKind::of(event) {
        EventKind::Exception => {
            let kind = text("exception.type").unwrap_or_else(|| "Exception".into());
            Some(match text("exception.message") {
                Some(message) => format!("{kind}: {message}"),
                None => kind,
            })
        }
        EventKind::Retry => retry_delay_ms(event).map(|ms| format!("declared backoff {ms} ms")),
        EventKind::Other => {
            let shown: Vec<String> = event
                .attributes
                .iter()
                .take(3)
                .map(|kv| format!("{} = {}", kv.key, value_text(&kv.value)))
                .collect();
            (!shown.is_empty()).then(|| shown.join(", "))
        }
    };
    if let Some(detail) = detail {
        card.push_str(" — ");
        card.push_str(&cut(&detail, 200));
    }
    card
}

/// The words of a retry's wait card: the one measured number, and the backoff the code said.
pub fn wait_card(wait_ns: u64, backoff_ms: Option<f64>) -> String {
    let mut card = format!("waited {} since the previous attempt ended", format_duration(wait_ns));
    if let Some(ms) = backoff_ms {
        card.push_str(&format!(" (declared backoff {ms} ms)"));
    }
    card
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "labels_tests.rs"]
mod tests;
