//! Live updates: a tick that advances every few seconds unless paused. Data hooks read it, so
//! list views refetch while new telemetry arrives. SSR never runs the timer.

use dioxus::prelude::*;

use crate::platform;

/// Seconds between refreshes.
pub(crate) const REFRESH_SECONDS: u32 = 5;

/// Shared by the pause control and the data hooks.
#[derive(Clone, Copy)]
pub(crate) struct Live {
    pub tick: Signal<u64>,
    pub paused: Signal<bool>,
}

/// Provides the live tick below the calling component and starts its timer.
pub(crate) fn use_live_provider() -> Live {
    let live = use_context_provider(|| Live { tick: Signal::new(0), paused: Signal::new(false) });
    use_future(move || async move {
        let mut live = live;
        loop {
            platform::sleep_ms(REFRESH_SECONDS * 1000).await;
            if !*live.paused.peek() {
                *live.tick.write() += 1;
            }
        }
    });
    live
}
