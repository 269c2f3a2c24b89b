//! `Profile`: CPU profiles of the server (taken for N seconds) and imported ones (pprof or
//! folded stacks, from a file picker or dropped on the page), listed newest first; `?id=..`
//! opens one in the flame graph. Taking and importing need the app: server-rendered pages show
//! the list and the graph only. Each row says when the profile started and for how long; one
//! under `MIN_SAMPLES` samples is marked, and shown with a warning over its graph.

use std::rc::Rc;

use dioxus::html::{FileData, HasFileData};
use dioxus::prelude::*;

use crate::charts::flame::ChartLink;
use crate::env::{use_render_mode, Env};
use crate::filters::{InsightFilters, ProfileFilters};
use crate::hooks::{use_api, Loadable};
use crate::model::{ProfileCreated, ProfileSource, ProfileSummary};

use crate::components::StartTime;
use crate::routes::Route;
use crate::views::flamegraph::GraphAnswer;
use crate::words::format_duration;
use crate::ApiFailure;

#[component]
pub(crate) fn Profile(filters: ReadSignal<ProfileFilters>) -> Element {
    crate::uitrace::use_render_span();
    let mode = use_render_mode();
    // Bumped when a profile is added, so the list is read again.
    let version = use_signal(|| 0u32);
    let current = filters();
    rsx! {
        section { class: "profile-page",
            document::Title { "otelscope — Profiles" }
            h1 { "Profiles" }
            if mode.on_server() {
                p { class: "note muted", "Taking a CPU profile and importing one need the app (JavaScript); this page lists the kept profiles and draws them." }
            } else {
                ProfileTools { version }
            }
            ProfileList { selected: current.id.clone(), version }
            if !current.id.is_empty() {
                if mode.is_live() {
                    DeleteProfile { key: "{current.id}", id: current.id.clone(), version }
                }
                ProfileAnswer { filters }
            }
        }
    }
}

/// The CPU profile form and the import control (file picker and drop zone).
#[component]
fn ProfileTools(version: Signal<u32>) -> Element {
    let env = use_context::<Env>();
    let navigator = use_navigator();
    let mut seconds = use_signal(|| "5".to_owned());
    let mut busy = use_signal(|| None::<String>);
    let mut problem = use_signal(|| None::<String>);
    let open_newest = {
        let env = env.clone();
        move |source: ProfileSource| {
            let env = env.clone();
            async move {
                let list = crate::uitrace::get_text(
                    &format!("{}/api/v1/profiles", env.api_base),
                    env.api_key.as_deref(),
                )
                .await;
                let newest = list
                    .ok()
                    .and_then(|body| serde_json::from_str::<Vec<ProfileSummary>>(&body).ok())
                    .and_then(|list| list.into_iter().find(|p| p.source == source));
                if let Some(p) = newest {
                    navigator.push(Route::Profile {
                        filters: ProfileFilters { id: p.id, ..Default::default() },
                    });
                }
            }
        }
    };
    let mut take = {
        let env = env.clone();
        move |_| {
            let env = env.clone();
            let n = seconds().trim().to_owned();
            busy.set(Some(format!("Profiling the server for {n} s…")));
            problem.set(None);
            let open = open_newest.clone();
            spawn(async move {
                let url = format!("{}/api/v1/profiles/cpu?seconds={n}&format=json", env.api_base);
                // A POST: taking a profile costs the server's CPU (see the API's docs).
                match crate::uitrace::post(&url, Vec::new(), "text/plain", env.api_key.as_deref())
                    .await
                {
                    Ok(_) => {
                        version += 1;
                        open(ProfileSource::Cpu).await;
                    }
                    Err(error) => problem.set(Some(failure_text(&error))),
                }
                busy.set(None);
            });
        }
    };
    let mut upload = move |files: Vec<FileData>| {
        let env = env.clone();
        let Some(file) = files.into_iter().next() else { return };
        busy.set(Some(format!("Importing {}…", file.name())));
        problem.set(None);
        spawn(async move {
            let name = InsightFilters { service: file.name(), ..Default::default() }
                .to_string()
                .replacen("service=", "name=", 1);
            let answer = match file.read_bytes().await {
                Ok(bytes) => {
                    crate::uitrace::post(
                        &format!("{}/api/v1/profiles?{name}", env.api_base),
                        bytes.to_vec(),
                        "application/octet-stream",
                        env.api_key.as_deref(),
                    )
                    .await
                }
                Err(_) => Err(ApiFailure::Unexpected("the file could not be read".into())),
            };
            match answer.map(|body| serde_json::from_str::<ProfileCreated>(&body)) {
                Ok(Ok(created)) => {
                    version += 1;
                    navigator.push(Route::Profile {
                        filters: ProfileFilters { id: created.id, ..Default::default() },
                    });
                }
                Ok(Err(error)) => problem.set(Some(format!("unexpected answer: {error}"))),
                Err(error) => problem.set(Some(failure_text(&error))),
            }
            busy.set(None);
        });
    };
    let mut pick = upload.clone();
    rsx! {
        div { class: "profile-tools",
            form { class: "search cpu-form", onsubmit: move |e| { e.prevent_default(); take(()) },
                label { "CPU profile of this server for "
                    input { r#type: "number", name: "seconds", min: "1", max: "60", value: "{seconds}", oninput: move |e| seconds.set(e.value()) }
                    " s"
                }
                button { r#type: "submit", disabled: busy().is_some(), "Take profile" }
            }
            div { class: "drop-zone",
                ondragover: move |e| e.prevent_default(),
                ondrop: move |e| {
                    e.prevent_default();
                    upload(e.files());
                },
                label { "Import a profile (pprof, gzipped or not, or folded stacks): "
                    input { r#type: "file", class: "profile-file", onchange: move |e| pick(e.files()) }
                }
                span { class: "muted", " or drop a file here" }
            }
            if let Some(text) = busy() {
                p { class: "loading", role: "status", "{text}" }
            }
            if let Some(text) = problem() {
                p { class: "error-state import-error", role: "alert", "{text}" }
            }
        }
    }
}

/// The shown profile's delete button: on success the list is read again and the page goes
/// back to the list.
#[component]
fn DeleteProfile(id: String, version: Signal<u32>) -> Element {
    let env = use_context::<Env>();
    let navigator = use_navigator();
    let mut busy = use_signal(|| false);
    let mut problem = use_signal(|| None::<String>);
    let delete = move |_| {
        let env = env.clone();
        let path = ProfileFilters { id: id.clone(), ..Default::default() }.to_string();
        let url = format!("{}/api/v1/profiles/{}", env.api_base, path.trim_start_matches("id="));
        busy.set(true);
        problem.set(None);
        spawn(async move {
            match crate::uitrace::delete(&url, env.api_key.as_deref()).await {
                Ok(_) => {
                    version += 1;
                    navigator.push(Route::Profile { filters: ProfileFilters::default() });
                }
                Err(error) => problem.set(Some(failure_text(&error))),
            }
            busy.set(false);
        });
    };
    rsx! {
        div { class: "profile-actions",
            button { r#type: "button", class: "delete-profile", disabled: busy(), onclick: delete,
                "Delete this profile"
            }
            if let Some(text) = problem() {
                p { class: "error-state delete-error", role: "alert", "{text}" }
            }
        }
    }
}

/// A failure as the import and profile forms say it: the server's own message for a 400.
fn failure_text(error: &ApiFailure) -> String {
    match error {
        ApiFailure::Status { status: 400 | 413, message: Some(message) } => {
            format!("Not imported: {message}")
        }
        other => format!("Failed: {other}"),
    }
}

/// The kept profiles, newest first.
#[component]
fn ProfileList(selected: String, version: Signal<u32>) -> Element {
    let list = use_api::<Vec<ProfileSummary>>(move || {
        let _refresh = version();
        "/api/v1/profiles".into()
    });
    match list {
        Loadable::Loading => rsx! { p { class: "loading", "Loading profiles…" } },
        Loadable::Failed(error) => {
            rsx! { p { class: "error-state", role: "alert", "Could not load the profiles: {error}" } }
        }
        Loadable::Ready(list) if list.is_empty() => rsx! {
            p { class: "empty-state", "No profiles yet: take a CPU profile of the server or import one." }
        },
        Loadable::Ready(list) => {
            let warning = list.iter().find(|p| p.id == selected).and_then(few_samples);
            rsx! {
                div { class: "table-scroll", table { class: "results profile-table",
                    thead { tr { th { "Profile" } th { "Source" } th { class: "num", "Started" } th { class: "num", "Duration" } th { class: "num", "Stacks" } th { class: "num", "Total" } } }
                    tbody {
                        for p in list {
                            tr { key: "{p.id}", "data-profile": "{p.id}", class: if p.id == selected { "shown" },
                                td { Link { to: Route::Profile { filters: ProfileFilters { id: p.id.clone(), ..Default::default() } }, "{p.name}" } }
                                td { "{p.source}" }
                                td { class: "num", StartTime { ns: p.created_ns.saturating_sub(p.duration_ns.unwrap_or(0)) } }
                                td { class: "num", {p.duration_ns.map(format_duration).unwrap_or_else(|| "–".into())} }
                                td { class: "num", "{p.stacks}" }
                                td { class: "num",
                                    "{p.total} {p.unit}"
                                    if few_samples(&p).is_some() {
                                        " "
                                        span { class: "few-samples", title: "Too few samples to draw conclusions from", "⚠ few" }
                                    }
                                }
                            }
                        }
                    }
                } }
                if let Some(text) = warning {
                    p { class: "few-samples-warning", role: "note", "{text}" }
                }
            }
        }
    }
}

/// Samples under which a profile is noise: with fewer than 100, a frame's share is known to
/// ±10 percentage points at best (one sample is 1 % of 100), and a 1-2 sample profile is one
/// or two moments, not where the time goes.
pub(crate) const MIN_SAMPLES: u64 = 100;

/// The warning a profile of sampled values gets under [`MIN_SAMPLES`]; none for other units
/// (an import's `cpu` nanoseconds, `alloc_space` bytes) or enough samples.
pub(crate) fn few_samples(p: &ProfileSummary) -> Option<String> {
    (p.unit == "samples" && p.total < MIN_SAMPLES).then(|| {
        let n = crate::words::counted(p.total as usize, "sample");
        format!(
            "Only {n}: under {MIN_SAMPLES} samples a profile shows a few moments, not where the time goes. Take a longer profile (the server samples at 99 Hz)."
        )
    })
}

/// One profile's flame graph.
#[component]
fn ProfileAnswer(filters: ReadSignal<ProfileFilters>) -> Element {
    let current = filters();
    let page = current.clone();
    let link = ChartLink(Rc::new(move |chart| {
        Route::Profile { filters: page.with_chart(chart) }.to_string()
    }));
    let id = ProfileFilters { id: current.id.clone(), ..Default::default() }.to_string();
    let api = format!("/api/v1/profiles/{}?format=", id.trim_start_matches("id="));
    let not_found = format!("No profile {} is kept (any more).", current.id);
    rsx! { GraphAnswer { api, not_found, params: current.chart(), link } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(unit: &str, total: u64) -> ProfileSummary {
        ProfileSummary {
            id: "1".into(),
            source: ProfileSource::Cpu,
            name: "otelscope CPU, 1 s, 10:00:00 UTC".into(),
            created_ns: 0,
            stacks: 1,
            total,
            unit: unit.into(),
            nodes: None,
            duration_ns: Some(1_000_000_000),
        }
    }

    #[test]
    fn a_warning_under_a_hundred_samples() {
        let two = few_samples(&profile("samples", 2)).expect("a warning");
        assert!(two.starts_with("Only 2 samples: under 100"), "{two}");
        assert!(few_samples(&profile("samples", 1)).unwrap().starts_with("Only 1 sample:"));
        assert_eq!(few_samples(&profile("samples", 100)), None);
        assert_eq!(few_samples(&profile("nanoseconds", 3)), None, "not a count of samples");
    }
}
