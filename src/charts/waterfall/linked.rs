//! `LinkedFrom`: in a producer span's details, the spans whose links point at it (its
//! consumers, usually in other traces), from the server's link index, each opening that span.

use dioxus::prelude::*;

use crate::hooks::{use_api, Loadable};
use crate::model::LinkedFrom as Answer;
use crate::routes::Route;
use crate::words::counted;

#[component]
pub(crate) fn LinkedFrom(trace_id: String, span_id: String) -> Element {
    let path = format!("/api/v1/traces/{trace_id}/spans/{span_id}/linked");
    let answer = use_api::<Answer>(move || path.clone());
    let body = match answer {
        Loadable::Loading => rsx! { p { class: "loading", "Looking for spans that link here…" } },
        Loadable::Failed(error) => rsx! {
            p { class: "error-state", role: "alert", "Could not list the spans linking here: {error}" }
        },
        Loadable::Ready(answer) if answer.spans.is_empty() => {
            rsx! { p { class: "linked-none", "No stored span links to this span." } }
        }
        Loadable::Ready(answer) => {
            let n = answer.spans.len();
            let head = if answer.more {
                format!("The first {n} spans that link here:")
            } else {
                format!("{} link here:", counted(n, "span"))
            };
            rsx! {
                p { class: "linked-count", "{head}" }
                ul { class: "linked-from",
                    for s in answer.spans.iter() {
                        li { key: "{s.trace_id}/{s.span_id}",
                            Link { class: "linked-span", to: Route::TraceSpan { trace_id: s.trace_id.clone(), span_id: s.span_id.clone() },
                                "{s.service}: {s.name}"
                            }
                            if s.trace_id == trace_id {
                                " in this trace"
                            } else {
                                " in trace "
                                code { "{s.trace_id}" }
                            }
                        }
                    }
                }
            }
        }
    };
    rsx! {
        section { class: "linked-from-box", "aria-label": "Spans linking to this span",
            h3 { "Linked from" }
            {body}
        }
    }
}
