//! The demo's log records, through the OpenTelemetry logs SDK (a `SdkLoggerProvider` per
//! service in `telemetry.rs`, exporting OTLP/HTTP like the spans): each record carries the
//! trace and span ids of the span it is about, taken from the `Context` the demo already
//! passes along (it attaches none, so the SDK could not find them on its own).
//!
//! What the demo logs: a startup line (info); each cache miss (debug) and an L2 that failed
//! (warn); each retry with its delay (warn); a call that gave up or met the open circuit
//! (error); and on the upstream, each fault it injects (warn for throttling and stalls, error
//! for failures and outages).

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};

/// One service's logger.
#[derive(Clone, Debug)]
pub(crate) struct DemoLogs {
    logger: SdkLogger,
}

impl DemoLogs {
    pub(crate) fn new(provider: &SdkLoggerProvider) -> DemoLogs {
        DemoLogs { logger: provider.logger("otelscope-demo") }
    }

    /// A logger whose records go nowhere (for tests of the parts that log).
    pub(crate) fn none() -> DemoLogs {
        DemoLogs::new(&SdkLoggerProvider::builder().build())
    }

    /// Emits `body` at `severity` under `cx`'s span (none when `cx` has no valid span).
    pub(crate) fn emit(
        &self,
        cx: Option<&Context>,
        severity: Severity,
        body: String,
        attributes: impl IntoIterator<Item = (&'static str, AnyValue)>,
    ) {
        let mut record = self.logger.create_log_record();
        let now = SystemTime::now();
        record.set_timestamp(now);
        record.set_observed_timestamp(now);
        record.set_severity_number(severity);
        record.set_severity_text(severity.name());
        record.set_body(AnyValue::String(body.into()));
        for (key, value) in attributes {
            record.add_attribute(key, value);
        }
        if let Some(cx) = cx {
            let span = cx.span();
            let context = span.span_context();
            if context.is_valid() {
                record.set_trace_context(
                    context.trace_id(),
                    context.span_id(),
                    Some(context.trace_flags()),
                );
            }
        }
        self.logger.emit(record);
    }
}
