//! `CopyButton`: copies an id to the clipboard (not on pages without scripts, where it cannot).

use dioxus::prelude::*;

use crate::env::use_render_mode;

/// A small "Copy" button for `text`, named "Copy the {what}"; says "Copied" once it has.
#[component]
pub(crate) fn CopyButton(text: String, what: &'static str) -> Element {
    let mut copied = use_signal(|| None::<String>);
    if use_render_mode().is_static() {
        return rsx! {};
    }
    let done = copied.read().as_deref() == Some(text.as_str());
    rsx! {
        button { class: "copy", r#type: "button", "data-copy": "{text}",
            title: "Copy the {what}", "aria-label": "Copy the {what}",
            onclick: move |_| {
                crate::platform::copy_text(&text);
                copied.set(Some(text.clone()));
            },
            if done { "Copied" } else { "Copy" }
        }
    }
}
