//! Times as people read them: `StartTime` (date unless today, how long ago, in the chosen zone) and `ZoneSwitch` between local time and UTC.

use dioxus::prelude::*;

use crate::env::use_render_mode;
use crate::platform;
use crate::words::{format_ago, format_start, zone_name};

/// Whether times show in UTC (else local time). Pages without scripts know no local zone, so
/// they show UTC; the app starts in local time.
#[derive(Clone, Copy)]
pub(crate) struct Zone {
    utc: Signal<bool>,
}

/// Provides the zone choice to every page (the shell calls it once).
pub(crate) fn use_zone_provider() {
    let on_server = use_render_mode().on_server();
    use_context_provider(|| Zone { utc: Signal::new(on_server) });
}

impl Zone {
    /// The chosen zone's offset east of UTC (minutes) at Unix-ms `at_ms`. Call in a render.
    pub(crate) fn offset_at(&self, at_ms: f64) -> i32 {
        offset_at((self.utc)(), at_ms)
    }
}

/// The chosen zone's offset east of UTC (minutes) at Unix-ms `at_ms`.
fn offset_at(utc: bool, at_ms: f64) -> i32 {
    if utc {
        0
    } else {
        platform::utc_offset_minutes(at_ms)
    }
}

/// A start time (Unix ns): `14:03:12.345 · 2 min ago`, with the date when not today, in the
/// chosen zone (named in its tooltip).
#[component]
pub(crate) fn StartTime(ns: u64) -> Element {
    let utc = (use_context::<Zone>().utc)();
    let now_ms = platform::now_ms();
    let now = (now_ms * 1e6) as u64;
    let offset = offset_at(utc, ns as f64 / 1e6);
    rsx! {
        span { class: "start-time", title: "{zone_name(offset)}",
            "{format_start(ns, now, offset)}"
            span { class: "ago", " · {format_ago(ns, now)}" }
        }
    }
}

/// The zone times are in (`UTC+01:00`), and a button to switch to the other (not on pages
/// without scripts, which show UTC).
#[component]
pub(crate) fn ZoneSwitch() -> Element {
    let mut utc = use_context::<Zone>().utc;
    let mode = use_render_mode();
    let shown = utc();
    let name = if shown {
        "UTC".to_owned()
    } else {
        format!("local · {}", zone_name(offset_at(false, platform::now_ms())))
    };
    rsx! {
        span { class: "zone", "({name})"
            if !mode.is_static() {
                button { class: "zone-switch", r#type: "button",
                    title: if shown { "Show times in your local time zone" } else { "Show times in UTC" },
                    onclick: move |_| utc.set(!shown),
                    if shown { "use local time" } else { "use UTC" }
                }
            }
        }
    }
}
