//! Native, behind `OTELSCOPE_COMPONENT_SPANS=1`: each component render dioxus-core reports through `tracing` (its `render` span, one per scope run) becomes a child span of the loading page's navigation (`uitrace`).
//!
//! Off, no subscriber is installed and dioxus-core's spans cost what they always do. On, this
//! is the UI thread's default subscriber (the global one when there is none), and it hands
//! every event to the subscriber that was the default before (the server's log), so logging
//! goes on. The browser's subscriber is tracing-wasm's (`web_tracing.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Metadata, Subscriber};

use super::render_span::{is_render, ScopeName};

/// A component's name and when its render started, called as the render ends.
pub type OnRender = fn(&str, SystemTime);

/// Installs the subscriber on this thread (and as the global default when there is none);
/// `on_render` gets each component render.
pub fn trace_component_renders(on_render: OnRender) {
    let previous = tracing::dispatcher::get_default(Dispatch::clone);
    let subscriber = ComponentSpans {
        previous,
        on_render,
        open: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
    };
    let dispatch = Dispatch::new(subscriber);
    if tracing::dispatcher::set_global_default(dispatch.clone()).is_err() {
        // Kept for the app's life: the UI thread renders until the window closes.
        std::mem::forget(tracing::dispatcher::set_default(&dispatch));
    }
}

struct ComponentSpans {
    /// Where events went before (the server's log, if any).
    previous: Dispatch,
    on_render: OnRender,
    /// Render spans started and not closed: id → (component, start).
    open: Mutex<HashMap<u64, (String, SystemTime)>>,
    next_id: AtomicU64,
}

impl Subscriber for ComponentSpans {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_render(metadata) || (metadata.is_event() && self.previous.enabled(metadata))
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if is_render(attributes.metadata()) {
            let mut name = ScopeName(String::new());
            attributes.record(&mut name);
            if let Ok(mut open) = self.open.lock() {
                open.insert(id, (name.0, opentelemetry::time::now()));
            }
        }
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.previous.event(event);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}

    fn try_close(&self, id: Id) -> bool {
        let ended = self.open.lock().ok().and_then(|mut open| open.remove(&id.into_u64()));
        if let Some((component, start)) = ended {
            (self.on_render)(&component, start);
        }
        true
    }
}
