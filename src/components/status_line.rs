//! `StatusLine`: whether the server answers, its version, and how many services it has seen
//! (refreshed with the live tick).

use dioxus::prelude::*;

use crate::hooks::{use_api_live, Live, Loadable};
use crate::model::{Health, Services};
use crate::words::counted;
use crate::ApiFailure;

#[component]
pub(crate) fn StatusLine() -> Element {
    let health = use_api_live::<Health>(|| "/api/v1/health".into());
    let services = use_api_live::<Services>(|| "/api/v1/services".into());
    let reconnecting = try_use_context::<Live>().is_some_and(|live| (live.reconnecting)());
    let (class, text) = status_text(&health, &services, reconnecting);
    rsx! {
        div { class: "status {class}", role: "status", "{text}" }
    }
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
    use crate::model::ServiceSummary;

    fn health() -> Loadable<Health> {
        Loadable::Ready(Health::ok("0.1.0"))
    }

    #[test]
    fn wording_for_each_state() {
        let one = Loadable::Ready(Services {
            services: vec![ServiceSummary { span_count: 3, ..ServiceSummary::new("api") }],
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
