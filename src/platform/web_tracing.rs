//! The browser's `tracing` subscriber: tracing-wasm's layer, so spans show in devtools' performance panel (a `performance.measure` each) and events in the console; with the page's `otelscope-component-spans` switch, dioxus-core's per-component render spans too, each also handed to the UI's tracing (`uitrace`) to be exported with its other spans.

use std::sync::OnceLock;
use std::time::SystemTime;

use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_wasm::{ConsoleConfig, WASMLayer, WASMLayerConfigBuilder};

use super::render_span::{is_render, ScopeName};

/// A component's name and when its render started, called as the render ends.
pub type OnRender = fn(&str, SystemTime);

/// Where component renders go once the UI's tracing started (`trace_component_renders`).
static ON_RENDER: OnceLock<OnRender> = OnceLock::new();

/// Installs the global subscriber (call once, before the app starts). `component_spans`
/// enables dioxus-core's render spans, which are TRACE: the console then reports nothing (it
/// would drown in dioxus-core's trace events); without, INFO and above, to the console too.
pub fn install(component_spans: bool) {
    let mut config = WASMLayerConfigBuilder::new();
    // Events are console lines, not performance entries.
    config.set_report_logs_in_timings(false);
    if component_spans {
        config.set_max_level(tracing::Level::TRACE).set_console_config(ConsoleConfig::NoReporting);
    } else {
        config
            .set_max_level(tracing::Level::INFO)
            .set_console_config(ConsoleConfig::ReportWithoutConsoleColor);
    }
    let subscriber = tracing_subscriber::registry()
        .with(WASMLayer::new(config.build()))
        .with(component_spans.then_some(Renders));
    // A second call (none is made) would keep the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// From now on each component render (with the switch on) goes to `on_render`.
pub fn trace_component_renders(on_render: OnRender) {
    let _ = ON_RENDER.set(on_render);
}

/// Hands each closed render span to `ON_RENDER`.
struct Renders;

/// A render span's component and start, kept in the span's extensions until it closes.
struct Started(String, SystemTime);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Renders {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_render(attributes.metadata()) || ON_RENDER.get().is_none() {
            return;
        }
        let mut name = ScopeName(String::new());
        attributes.record(&mut name);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started(name.0, opentelemetry::time::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let started = span.extensions_mut().remove::<Started>();
        if let (Some(Started(component, at)), Some(on_render)) = (started, ON_RENDER.get()) {
            on_render(&component, at);
        }
    }
}
