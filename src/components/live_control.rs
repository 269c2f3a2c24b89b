//! `LiveControl`: pause or resume the live refresh, and see how many refreshes happened.

use dioxus::prelude::*;

use crate::hooks::{Live, REFRESH_SECONDS};

#[component]
pub(crate) fn LiveControl() -> Element {
    let Some(mut live) = try_use_context::<Live>() else { return rsx! {} };
    let paused = (live.paused)();
    let label = if paused { "Resume" } else { "Pause" };
    let state = if paused {
        "paused".to_owned()
    } else {
        format!("live · every {REFRESH_SECONDS} s · {} refreshes", (live.tick)())
    };
    rsx! {
        div { class: "live",
            button {
                class: "live-toggle",
                r#type: "button",
                onclick: move |_| live.paused.toggle(),
                "{label}"
            }
            span { class: if paused { "live-state paused" } else { "live-state" }, "{state}" }
        }
    }
}
