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
    /// The server stopped answering: the pages show their last answers under a banner.
    pub reconnecting: Signal<bool>,
}

/// Provides the live tick below the calling component and starts its timer.
pub(crate) fn use_live_provider() -> Live {
    let live = use_context_provider(|| Live {
        tick: Signal::new(0),
        paused: Signal::new(false),
        clock: Signal::new(0),
        changed_at: Signal::new(None),
        reconnecting: Signal::new(false),
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
