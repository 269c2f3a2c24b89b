//! `LiveControl`: pause or resume the live refresh, and see when the data last changed.

use dioxus::prelude::*;

use crate::env::{Env, PlatformKind};
use crate::hooks::{ago_text, Live, REFRESH_SECONDS};
use crate::platform;

#[component]
pub(crate) fn LiveControl() -> Element {
    let platform = use_context::<Env>().platform;
    let Some(mut live) = try_use_context::<Live>() else { return rsx! {} };
    if platform == PlatformKind::Ssr {
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
        Some(at) => format!(" · data changed {}", ago_text(at, platform::now_ms())),
        None => String::new(),
    };
    let state = if paused {
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
                class: if paused { "live-state paused" } else { "live-state" },
                title: "Lists refresh every {REFRESH_SECONDS} s; the time is when an answer last differed",
                "{state}"
            }
        }
    }
}
