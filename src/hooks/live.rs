//! Live updates: a tick that advances every few seconds unless paused. Data hooks read it, so
//! list views refetch while new telemetry arrives, and note when an answer differs from the
//! last one (`changed_at`). SSR never runs the timer.

use dioxus::prelude::*;

use crate::platform;

/// Seconds between refreshes.
pub(crate) const REFRESH_SECONDS: u32 = 5;

/// Shared by the pause control and the data hooks.
#[derive(Clone, Copy)]
pub(crate) struct Live {
    pub tick: Signal<u64>,
    pub paused: Signal<bool>,
    /// Advances with the timer even while paused, so "changed … ago" texts move on.
    pub clock: Signal<u64>,
    /// When a live data hook last got an answer unlike its previous one (ms since the epoch).
    pub changed_at: Signal<Option<f64>>,
}

/// Provides the live tick below the calling component and starts its timer.
pub(crate) fn use_live_provider() -> Live {
    let live = use_context_provider(|| Live {
        tick: Signal::new(0),
        paused: Signal::new(false),
        clock: Signal::new(0),
        changed_at: Signal::new(None),
    });
    use_future(move || async move {
        let mut live = live;
        loop {
            platform::sleep_ms(REFRESH_SECONDS * 1000).await;
            if !*live.paused.peek() {
                *live.tick.write() += 1;
            }
            *live.clock.write() += 1;
        }
    });
    live
}

/// "just now", "40 s ago", "3 min ago", "2 h ago": how long ago `then_ms` was at `now_ms`.
pub(crate) fn ago_text(then_ms: f64, now_ms: f64) -> String {
    let seconds = ((now_ms - then_ms) / 1e3).max(0.0) as u64;
    match seconds {
        0..5 => "just now".into(),
        5..120 => format!("{seconds} s ago"),
        120..7200 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::ago_text;

    #[test]
    fn ago_wording() {
        let t = 1_000_000.0;
        assert_eq!(ago_text(t, t), "just now");
        assert_eq!(ago_text(t, t - 500.0), "just now", "clock steps back: not negative");
        assert_eq!(ago_text(t, t + 4_999.0), "just now");
        assert_eq!(ago_text(t, t + 5_000.0), "5 s ago");
        assert_eq!(ago_text(t, t + 119_000.0), "119 s ago");
        assert_eq!(ago_text(t, t + 180_000.0), "3 min ago");
        assert_eq!(ago_text(t, t + 3.0 * 3_600_000.0), "3 h ago");
    }
}
