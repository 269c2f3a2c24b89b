//! `LiveControl`: pause or resume the live refresh, and see when the data last changed.

use dioxus::prelude::*;

use crate::env::use_render_mode;
use crate::hooks::{Live, REFRESH_SECONDS};
use crate::platform;
use crate::words::format_ago;

#[component]
pub(crate) fn LiveControl() -> Element {
    let mode = use_render_mode();
    let Some(mut live) = try_use_context::<Live>() else { return rsx! {} };
    if mode.on_server() {
        return rsx! {
            div { class: "live",
                span { class: "live-state", "server-rendered · reload for new data" }
            }
        };
    }
    let paused = (live.paused)();
    let label = if paused { "Resume" } else { "Pause" };
    // Read every render so the "ago" text moves on with each tick.
    let _clock = (live.clock)();
    let changed = match (live.changed_at)() {
        Some(at) => {
            let ns = |ms: f64| (ms * 1e6) as u64;
            format!(" · data changed {}", format_ago(ns(at), ns(platform::now_ms())))
        }
        None => String::new(),
    };
    let reconnecting = (live.reconnecting)();
    let state = if reconnecting {
        format!("reconnecting…{changed}")
    } else if paused {
        format!("paused{changed}")
    } else {
        format!("live · every {REFRESH_SECONDS} s{changed}")
    };
    rsx! {
        div { class: "live",
            button {
                class: "live-toggle",
                r#type: "button",
                onclick: move |_| live.paused.toggle(),
                "{label}"
            }
            span {
                class: if paused || reconnecting { "live-state paused" } else { "live-state" },
                title: "Lists refresh every {REFRESH_SECONDS} s; the time is when an answer last differed",
                "{state}"
            }
        }
    }
}
