//! `StatusLine`: whether the server answers, its version, how many services it has seen, and
//! when telemetry last arrived (refreshed with the live tick).

use dioxus::prelude::*;

use crate::hooks::{use_api_ticking, Live, Loadable};
use crate::model::{Health, LastReceived, Services};
use crate::platform;
use crate::words::{counted, format_ago};
use crate::ApiFailure;

#[component]
pub(crate) fn StatusLine() -> Element {
    // Refreshed with the tick, but not the page's data: no "data changed" from here.
    let health = use_api_ticking::<Health>(|| "/api/v1/health".into());
    let services = use_api_ticking::<Services>(|| "/api/v1/services".into());
    let reconnecting = try_use_context::<Live>().is_some_and(|live| (live.reconnecting)());
    let (class, text) = status_text(&health, &services, reconnecting);
    // Read every render so the "ago" text moves on with each tick.
    let _clock = try_use_context::<Live>().map(|live| (live.clock)());
    let received = match &health {
        Loadable::Ready(health) => {
            let now_ns = (platform::now_ms() * 1e6) as u64;
            Some(last_received_text(&health.last_received, now_ns))
        }
        Loadable::Loading | Loadable::Failed(_) => None,
    };
    rsx! {
        div { class: "status {class}", role: "status", "{text}" }
        if let Some((text, title)) = received {
            span { class: "last-received", title: "{title}", "{text}" }
        }
    }
}

/// "last received 12 s ago" for the freshest signal, and a title with each signal and its
/// protocol; pure so the wording is tested without rendering.
fn last_received_text(last: &LastReceived, now_ns: u64) -> (String, String) {
    let text = match last.freshest() {
        Some(received) => format!("last received {}", format_ago(received.at_ns, now_ns)),
        None => "nothing received yet".to_owned(),
    };
    let title = last
        .each()
        .into_iter()
        .map(|(signal, received)| match received {
            Some(r) => format!("{signal}: {} over {}", format_ago(r.at_ns, now_ns), r.protocol),
            None => format!("{signal}: never since the server started"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text, title)
}

/// The status line's class and words; pure so the wording is tested without rendering.
fn status_text(
    health: &Loadable<Health>,
    services: &Loadable<Services>,
    reconnecting: bool,
) -> (&'static str, String) {
    if reconnecting {
        // The answers are the last ones kept from before the server went away.
        return ("status-error", "server unreachable · reconnecting…".to_owned());
    }
    match (health, services) {
        (Loadable::Failed(ApiFailure::Unreachable(_)), _) => {
            ("status-error", "server unreachable".to_owned())
        }
        (Loadable::Failed(error), _) => ("status-error", format!("server error — {error}")),
        (Loadable::Loading, _) => ("status-loading", "connecting…".to_owned()),
        (Loadable::Ready(health), Loadable::Ready(services)) => {
            let services = counted(services.services.len(), "service");
            ("status-ok", format!("server {} v{} · {services}", health.status, health.version))
        }
        (Loadable::Ready(health), Loadable::Loading) => {
            ("status-ok", format!("server {} v{}", health.status, health.version))
        }
        (Loadable::Ready(_), Loadable::Failed(error)) => {
            ("status-error", format!("services unavailable — {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Received, ServiceSummary};

    #[test]
    fn last_received_names_the_freshest_signal_and_each_in_the_title() {
        let never = last_received_text(&LastReceived::default(), 100_000_000_000);
        assert_eq!(never.0, "nothing received yet");
        assert!(never.1.starts_with("traces: never"), "{}", never.1);
        let at = |s: u64, protocol: &str| {
            Some(Received { at_ns: s * 1_000_000_000, protocol: protocol.into() })
        };
        let last =
            LastReceived { traces: at(40, "grpc"), logs: at(88, "http/protobuf"), metrics: None };
        let (text, title) = last_received_text(&last, 100_000_000_000);
        assert_eq!(text, "last received 12 s ago");
        assert_eq!(
            title,
            "traces: 1 min ago over grpc\nmetrics: never since the server started\nlogs: 12 s ago over http/protobuf"
        );
    }

    fn health() -> Loadable<Health> {
        Loadable::Ready(Health::ok("0.1.0"))
    }

    #[test]
    fn wording_for_each_state() {
        let one = Loadable::Ready(Services {
            services: vec![ServiceSummary { span_count: 3, ..ServiceSummary::new("api") }],
            ..Services::default()
        });
        assert_eq!(status_text(&health(), &one, false).1, "server ok v0.1.0 · 1 service");
        assert_eq!(
            status_text(&health(), &Loadable::Ready(Services::default()), false).1,
            "server ok v0.1.0 · 0 services"
        );
        assert_eq!(status_text(&Loadable::Loading, &Loadable::Loading, false).0, "status-loading");
        let down = status_text(
            &Loadable::Failed(ApiFailure::from_status(502, "bad gateway")),
            &Loadable::Loading,
            false,
        );
        assert_eq!(down, ("status-error", "server error — HTTP 502".to_owned()));
        let gone = status_text(
            &Loadable::Failed(ApiFailure::Unreachable(String::new())),
            &Loadable::Loading,
            false,
        );
        assert_eq!(gone.1, "server unreachable", "said once, not twice");
        // With the last answers kept under the banner, the line still says the server is gone.
        let kept = status_text(&health(), &one, true);
        assert_eq!(kept, ("status-error", "server unreachable · reconnecting…".to_owned()));
    }
}
