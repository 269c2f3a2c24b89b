//! `GET /api/v1/health`: the server answers, says its version, where it receives OTLP, and
//! whether the store's writer is committing, which store it is and whether it answers, and
//! when each signal last arrived.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{Health, HealthStatus};

use crate::ingest::WriterState;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    let writer = match state.ingest.writer_state() {
        None => "down".to_owned(),
        Some(WriterState { failing: Some(why), .. }) => format!("failing: {why}"),
        Some(_) => "ok".to_owned(),
    };
    // Not through `api::blocking`: a health poll is not a store query worth a span of its own.
    let store = state.store.clone();
    let store = tokio::task::spawn_blocking(move || store.health()).await.ok();
    let store_ok = store.as_ref().is_some_and(|s| s.state == "ok");
    let status = if writer == "ok" && store_ok { HealthStatus::Ok } else { HealthStatus::Degraded };
    Json(Health {
        status,
        writer,
        otlp_http: state.endpoints.otlp_http.clone(),
        otlp_grpc: state.endpoints.otlp_grpc.clone(),
        demo: state.demo.as_deref().cloned(),
        self_telemetry: state.self_telemetry.is_some(),
        last_received: state.ingest.arrivals().last_received(),
        store,
        ..Health::ok(env!("CARGO_PKG_VERSION"))
    })
}
