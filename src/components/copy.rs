//! `CopyButton`: copies an id to the clipboard (not on pages without scripts, where it cannot).

use dioxus::prelude::*;

use crate::env::full_ssr;

/// The script that copies `text`: the Clipboard API where the page may use it (HTTPS or
/// localhost), else a selected hidden text area and `execCommand`, which plain HTTP allows.
pub(crate) fn copy_script(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    format!(
        "(function(t){{if(navigator.clipboard&&window.isSecureContext){{navigator.clipboard.writeText(t);return;}}\
         var a=document.createElement('textarea');a.value=t;a.style.position='fixed';a.style.opacity='0';\
         document.body.appendChild(a);a.select();document.execCommand('copy');a.remove();}})({quoted});"
    )
}

/// A small "Copy" button for `text`, named "Copy the {what}"; says "Copied" once it has.
#[component]
pub(crate) fn CopyButton(text: String, what: &'static str) -> Element {
    let mut copied = use_signal(|| None::<String>);
    if full_ssr() {
        return rsx! {};
    }
    let done = copied.read().as_deref() == Some(text.as_str());
    rsx! {
        button { class: "copy", r#type: "button", "data-copy": "{text}",
            title: "Copy the {what}", "aria-label": "Copy the {what}",
            onclick: move |_| {
                document::eval(&copy_script(&text));
                copied.set(Some(text.clone()));
            },
            if done { "Copied" } else { "Copy" }
        }
    }
}
