//! `FlameGraph`: the flame graph of one trace (`/flamegraph?trace_id=..`, linked from a trace's
//! page) or of one operation over a range (`?service=..&name=..&since=..`, picked in the form or
//! linked from the services table), optionally against a base (`base=previous`,
//! `base_trace_id=..`); zoom, search and view live in the URL too.

use std::rc::Rc;

use dioxus::prelude::*;

use crate::charts::flame::{page_href, ChartLink, FlamePanel, SharedGraph};
use crate::components::{OperationList, OtlpHint};
use crate::filters::{ChartParams, FlameFilters, INSIGHT_RANGES};
use crate::hooks::{use_api, use_api_shared, Loadable};
use crate::model::{FlameGraph as Graph, FlameKind, MatchedBy, Services};
use crate::routes::Route;
use crate::ApiFailure;

#[component]
pub(crate) fn FlameGraph(filters: ReadSignal<FlameFilters>) -> Element {
    crate::uitrace::use_render_span();
    let current = filters();
    rsx! {
        section { class: "flame-page",
            document::Title { "otelscope — Flame graphs" }
            h1 { "Flame graphs" }
            // Keyed by the URL's service, so a new one (a link) starts the form afresh.
            FlameForm { key: "{current.service}", filters: current.clone() }
            if current.has_selection() {
                FlameAnswer { filters }
            } else {
                p { class: "empty-state",
                    "Pick a service (and an operation, or none for the service's root spans) and a time range, or open "
                    "“Flame graph of this trace” on a trace's page. Frames are span names (with the service where it changes), "
                    "widths their self time summed over the traces."
                }
            }
        }
    }
}

/// The answer for the URL's selection, and what to say when there is none.
#[component]
fn FlameAnswer(filters: ReadSignal<FlameFilters>) -> Element {
    let current = filters();
    let page = current.clone();
    let link = ChartLink(Rc::new(move |chart| {
        Route::FlameGraph { filters: page.with_chart(chart) }.to_string()
    }));
    // Only the selection names the API call: zooming or searching does not refetch.
    let api = current.api_path("");
    let not_found = if current.trace_id.is_empty() {
        String::new()
    } else {
        format!(
            "Trace not found: no spans of trace {} are stored (yet, or any more).",
            current.trace_id
        )
    };
    rsx! { GraphAnswer { api, not_found, params: current.chart(), link } }
}

/// One flame graph answer with its downloads, or what went wrong. `api` is the API path up to
/// the format's value (`/api/v1/flamegraph?trace_id=..&format=`); `not_found` what a 404 means.
#[component]
pub(crate) fn GraphAnswer(
    api: ReadSignal<String>,
    not_found: String,
    params: ChartParams,
    link: ChartLink,
) -> Element {
    let answer = use_api_shared::<Graph>(move || format!("{}json", api.read()));
    match answer {
        Loadable::Loading => rsx! { p { class: "loading", "Loading the flame graph…" } },
        Loadable::Failed(error) if error.is_not_found() && !not_found.is_empty() => rsx! {
            p { class: "empty-state", role: "alert", "data-state": "not-found", "{not_found}" }
        },
        Loadable::Failed(ApiFailure::Status { status: 400, message }) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "bad-filter",
                "The server did not take this selection: {message.as_deref().unwrap_or_default()}"
            }
        },
        // A profile past the server's bound is not drawn (here or by the server): its folded
        // stacks can still be downloaded.
        Loadable::Failed(ApiFailure::Status { status: 413, message }) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "too-large",
                "Too large to draw: {message.as_deref().unwrap_or_default()} "
                a { class: "fl-download", href: "{api}folded", download: "profile.folded", "Download the folded stacks" }
            }
        },
        Loadable::Failed(error) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "failed", "Could not load the flame graph: {error}" }
        },
        Loadable::Ready(graph) if graph.root.total <= 0.0 && graph.root.children.is_empty() => {
            rsx! {
                p { class: "empty-state", "data-state": "empty",
                    if graph.kind == FlameKind::Profile {
                        "{graph.title} holds no samples (an idle process is rarely on the CPU)."
                    } else {
                        "No spans with self time for {graph.title} in this range. "
                        OtlpHint {}
                    }
                }
            }
        }
        Loadable::Ready(graph) => {
            let matched = match graph.matched_by {
                Some(MatchedBy::Root) => " · only traces whose root it is",
                Some(MatchedBy::Any) => " · every span of it, wherever it sits",
                None => "",
            };
            let traces = match graph.traces {
                _ if graph.kind == FlameKind::Profile => String::new(),
                1 => "1 trace · ".to_owned(),
                n => format!("{n} traces · "),
            };
            let file = if graph.kind == FlameKind::Profile { "profile" } else { "flamegraph" };
            rsx! {
                h2 { class: "fl-title", "{graph.title}" }
                p { class: "fl-meta",
                    "{traces}values in {graph.unit}{matched} · "
                    a { class: "fl-download", href: "{api}svg", download: "{file}.svg", "download SVG" }
                    " · "
                    a { class: "fl-download", href: "{api}folded", download: "{file}.folded", "download folded" }
                }
                FlamePanel { graph: SharedGraph(graph), params, link }
            }
        }
    }
}

/// The selection form: service, operation, range, how spans match, and the base. A plain GET
/// form without scripts; the app reads it on submit.
#[component]
fn FlameForm(filters: FlameFilters) -> Element {
    let services = use_api::<Services>(|| "/api/v1/services".into());
    let names: Vec<String> = match &services {
        Loadable::Ready(s) => s.services.iter().map(|s| s.name.clone()).collect(),
        _ => Vec::new(),
    };
    let mut picked = use_signal(|| filters.service.clone());
    let navigator = use_navigator();
    let since = filters.since.clone();
    let custom = !since.is_empty() && INSIGHT_RANGES.iter().all(|(value, _)| *value != since);
    let by_trace = !filters.trace_id.is_empty();
    rsx! {
        form { class: "search flame-form", action: page_href("/flamegraph"), method: "get",
            onsubmit: move |e| {
                e.prevent_default();
                let mut next = FlameFilters::default();
                for (key, value) in e.values() {
                    if let (Some(slot), FormValue::Text(text)) = (next.field_mut(&key), value) {
                        *slot = text;
                    }
                }
                navigator.push(Route::FlameGraph { filters: next });
            },
            if by_trace {
                input { r#type: "hidden", name: "trace_id", value: "{filters.trace_id}" }
                span { class: "fl-picked", "Trace " code { "{filters.trace_id}" } " · "
                    Link { to: Route::FlameGraph { filters: FlameFilters::default() }, "pick an operation instead" }
                }
            } else {
                label { "Service"
                    // The choice is held here (and drawn from here), so redrawing the form for
                    // the operation list keeps it.
                    select { name: "service", onchange: move |e| picked.set(e.value()),
                        option { value: "", selected: picked().is_empty(), "pick one" }
                        // The URL's service, even before (or without) the list.
                        if !filters.service.is_empty() && !names.contains(&filters.service) {
                            option { value: "{filters.service}", selected: picked() == filters.service, "{filters.service}" }
                        }
                        for name in names {
                            option { value: "{name}", selected: picked() == name, "{name}" }
                        }
                    }
                }
                label { "Operation"
                    input { name: "name", list: "fl-operations", value: "{filters.name}", placeholder: "root spans" }
                    if !picked().is_empty() {
                        OperationList { id: "fl-operations", service: picked() }
                    }
                }
                label { "Time"
                    select { name: "since",
                        for (value, text) in INSIGHT_RANGES {
                            option { value: "{value}", selected: since == value || (since.is_empty() && value == "1h"), "{text}" }
                        }
                        if custom {
                            option { value: "{since}", selected: true, "Custom range" }
                        }
                    }
                }
                if !filters.until.is_empty() {
                    input { r#type: "hidden", name: "until", value: "{filters.until}" }
                }
                label { "Spans"
                    select { name: "match",
                        option { value: "", selected: filters.r#match != "root", "anywhere in a trace" }
                        option { value: "root", selected: filters.r#match == "root", "only as the root" }
                    }
                }
                label { "Compare with"
                    select { name: "base",
                        option { value: "", selected: filters.base.is_empty(), "nothing" }
                        option { value: "previous", selected: filters.base == "previous", "the previous period" }
                    }
                }
            }
            label { if by_trace { "Compare with trace" } else { "or trace" }
                input { name: "base_trace_id", value: "{filters.base_trace_id}", placeholder: "trace id", size: "34" }
            }
            button { r#type: "submit", "Show" }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::env::SsrData;
    use crate::platform::render_ssr;

    /// `path` rendered as a page without scripts, with fixed API answers (others are 404s).
    pub(crate) fn render_with(path: &str, answers: &[(&str, &str)]) -> String {
        let data = SsrData::default();
        for _ in 0..4 {
            let page = render_ssr(path, &data);
            let wanted = data.take_wanted();
            if wanted.is_empty() {
                return page.html;
            }
            for want in wanted {
                let outcome = match answers.iter().find(|(p, _)| *p == want) {
                    Some((_, body)) => Ok((*body).into()),
                    None => {
                        Err(crate::ApiFailure::from_status(404, r#"{"error":"no such thing"}"#))
                    }
                };
                data.answer(want, outcome);
            }
        }
        panic!("{path} still wanted data after 4 passes");
    }

    const GRAPH: &str = r#"{"kind":"trace","title":"trace abab","unit":"µs","traces":1,"root":
        {"name":"all","self":0,"total":100,"traces":1,"children":[
          {"name":"shop GET /a","self":20,"total":100,"traces":1,"children":[
            {"name":"<img src=x onerror=alert(1)>","self":30,"total":30,"traces":1},
            {"name":"db","self":50,"total":50,"traces":1}]}]}}"#;

    /// The frames of a page: `name total self` per `g`, in document order.
    fn frames(html: &str) -> Vec<String> {
        html.split("<g class=\"fl-frame")
            .skip(1)
            .map(|g| {
                let attr = |name: &str| {
                    let from = g.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    g[from..from + g[from..].find('"').unwrap()].to_owned()
                };
                format!("{} {} {}", attr("data-name"), attr("data-total"), attr("data-self"))
            })
            .collect()
    }

    #[test]
    fn a_trace_draws_as_linked_frames_with_text_names() {
        let html = render_with(
            "/flamegraph?trace_id=abab&search=db",
            &[
                ("/api/v1/flamegraph?trace_id=abab&format=json", GRAPH),
                ("/api/v1/services", r#"{"services":[]}"#),
            ],
        );
        assert_eq!(
            frames(&html),
            [
                "all 100 0",
                "shop GET /a 100 20",
                "&#60;img src=x onerror=alert(1)&#62; 30 30",
                "db 50 50"
            ]
        );
        assert!(html.contains("matches: 50.0% of all"), "{html}");
        assert!(
            html.contains(
                r#"href="/ssr/flamegraph?trace_id=abab&#38;zoom=shop%20GET%20%2Fa&#38;search=db""#
            ),
            "{html}"
        );
        assert!(html.contains(r#"href="/api/v1/flamegraph?trace_id=abab&#38;format=svg""#));
        assert!(!html.contains("<img"), "names are text");
    }

    #[test]
    fn zoom_and_sandwich_come_from_the_url() {
        let answers = [
            ("/api/v1/flamegraph?trace_id=abab&format=json", GRAPH),
            ("/api/v1/services", r#"{"services":[]}"#),
        ];
        let zoomed = render_with("/flamegraph?trace_id=abab&zoom=shop%20GET%20%2Fa%3Bdb", &answers);
        assert_eq!(frames(&zoomed), ["all 100 0", "shop GET /a 100 20", "db 50 50"]);
        assert!(zoomed.contains("Reset zoom"));
        let sandwich = render_with("/flamegraph?trace_id=abab&view=sandwich&frame=db", &answers);
        assert_eq!(frames(&sandwich), ["db 50 0", "shop GET /a 50 0", "all 50 50", "db 50 50"]);
    }

    #[test]
    fn a_diff_colours_frames_by_change_and_explains_the_colours() {
        let diff = r#"{"kind":"operation","title":"GET /a (shop)","unit":"µs","traces":2,"matched_by":"any",
            "base":{"title":"GET /a (shop), previous hour","traces":4},"root":
            {"name":"all","self":0,"total":30,"base_self":0,"base_total":20,"children":[
              {"name":"slower","self":20,"total":20,"base_self":10,"base_total":10},
              {"name":"faster","self":5,"total":5,"base_self":10,"base_total":10},
              {"name":"new","self":5,"total":5}]}}"#;
        let html = render_with(
            "/flamegraph?service=shop&name=GET%20%2Fa&base=previous",
            &[
                ("/api/v1/flamegraph?service=shop&name=GET%20%2Fa&since=1h&base_since=2h&base_until=1h&format=json", diff),
                ("/api/v1/services", r#"{"services":[]}"#),
                ("/api/v1/operations?service=shop", r#"{"service":"shop","operations":["GET /a"]}"#),
            ],
        );
        let fills: Vec<&str> =
            html.split("fill=\"").skip(1).map(|f| &f[..f.find('"').unwrap()]).collect();
        // The legend's five swatches, then all (+50%), slower (+100%), faster (−50%), new.
        assert_eq!(
            fills,
            [
                "hsl(215,80%,45%)",
                "hsl(215,40%,54%)",
                "hsl(215,0%,62%)",
                "hsl(0,40%,54%)",
                "hsl(0,80%,45%)",
                "hsl(0,40%,54%)",
                "hsl(0,80%,45%)",
                "hsl(215,40%,54%)",
                "hsl(0,80%,45%)"
            ]
        );
        assert!(html.contains("Compared with GET /a (shop), previous hour (4 traces)"), "{html}");
        assert!(
            html.contains(
                "slower: total 20 µs (66.7% of all), self 20 µs; base 10 µs per trace (+100.0%)"
            ),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="GET /a"></option>"#),
            "the operation picker: {html}"
        );
    }

    #[test]
    fn failures_say_what_went_wrong() {
        let missing =
            render_with("/flamegraph?trace_id=ffff", &[("/api/v1/services", r#"{"services":[]}"#)]);
        assert!(missing.contains("Trace not found"), "{missing}");
        let picker = render_with("/flamegraph", &[("/api/v1/services", r#"{"services":[]}"#)]);
        assert!(picker.contains("Pick a service"), "{picker}");
    }
}
