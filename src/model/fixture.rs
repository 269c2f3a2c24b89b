//! One builder of model spans for tests: the server's unit and router tests, the store's
//! conformance suite and the app's own tests all build their spans here.
//!
//! It lives in the app's model, not in a test crate, because every crate that builds model
//! spans depends on the app (the server does, the app's tests are inside it) and nothing else is
//! shared by both. It is plain data code with no dependency, so shipping it costs nothing. The
//! end-to-end tests send OTLP instead: `otelscope_e2e::otlp_span` builds those.

use super::{AttrValue, KeyValue, Span, SpanKind, SpanStatus, StatusCode};

/// A span for a test in trace `trace` with id `id`, named `name`; everything else as
/// [`Span::new`] leaves it until a builder method sets it.
pub fn span(trace: impl TestId, id: impl TestId, name: &str) -> SpanBuilder {
    SpanBuilder(Span::new(trace.trace_id(), id.span_id(), name))
}

/// A test's way of naming an id: a number is written as hex digits of the id's width (32 for
/// a trace, 16 for a span), so `7` is a valid id; text is taken as it is.
pub trait TestId {
    fn trace_id(&self) -> String;
    fn span_id(&self) -> String;
}

macro_rules! numeric_ids {
    ($($t:ty),*) => {$(
        impl TestId for $t {
            fn trace_id(&self) -> String {
                format!("{self:032x}")
            }
            fn span_id(&self) -> String {
                format!("{self:016x}")
            }
        }
    )*};
}
numeric_ids!(u8, u16, u32, u64, i32);

impl TestId for str {
    fn trace_id(&self) -> String {
        self.to_owned()
    }
    fn span_id(&self) -> String {
        self.to_owned()
    }
}

impl TestId for String {
    fn trace_id(&self) -> String {
        self.clone()
    }
    fn span_id(&self) -> String {
        self.clone()
    }
}

impl<T: TestId + ?Sized> TestId for &T {
    fn trace_id(&self) -> String {
        (**self).trace_id()
    }
    fn span_id(&self) -> String {
        (**self).span_id()
    }
}

/// See [`span`]. Ends with [`SpanBuilder::build`], or converts with `Span::from`.
#[derive(Clone, Debug)]
#[must_use]
pub struct SpanBuilder(Span);

const MS: u64 = 1_000_000;

impl SpanBuilder {
    pub fn parent(mut self, parent: impl TestId) -> SpanBuilder {
        self.0.parent_span_id = Some(parent.span_id());
        self
    }

    /// A parent when there is one (a root span otherwise).
    pub fn parent_opt(self, parent: Option<impl TestId>) -> SpanBuilder {
        match parent {
            Some(parent) => self.parent(parent),
            None => self,
        }
    }

    pub fn service(mut self, service: &str) -> SpanBuilder {
        self.0.service = service.into();
        self
    }

    pub fn kind(mut self, kind: SpanKind) -> SpanBuilder {
        self.0.kind = kind;
        self
    }

    /// Start and end, in Unix nanoseconds.
    pub fn ns(mut self, start: u64, end: u64) -> SpanBuilder {
        self.0.start_ns = start;
        self.0.end_ns = end;
        self
    }

    /// Start and end, in milliseconds since the Unix epoch.
    pub fn ms(self, start: u64, end: u64) -> SpanBuilder {
        self.ns(start * MS, end * MS)
    }

    /// An instant `start_s` seconds after the Unix epoch (it lasts 1 ns).
    pub fn at_s(self, start_s: u64) -> SpanBuilder {
        let start = start_s * 1_000_000_000;
        self.ns(start, start + 1)
    }

    pub fn attr(mut self, key: &str, value: AttrValue) -> SpanBuilder {
        self.0.attributes.push(KeyValue { key: key.into(), value });
        self
    }

    /// Status `Error` with `message`.
    pub fn error(mut self, message: &str) -> SpanBuilder {
        self.0.status = SpanStatus { code: StatusCode::Error, message: message.into() };
        self
    }

    pub fn build(self) -> Span {
        self.0
    }
}

impl From<SpanBuilder> for Span {
    fn from(builder: SpanBuilder) -> Span {
        builder.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_ids_of_their_width_and_text_is_kept() {
        let s = span(7u32, 0xabu32, "GET /").parent(1u8).service("shop").ms(2, 5).build();
        assert_eq!(s.trace_id, "00000000000000000000000000000007");
        assert_eq!(s.span_id, "00000000000000ab");
        assert_eq!(s.parent_span_id.as_deref(), Some("0000000000000001"));
        assert_eq!((s.service.as_str(), s.start_ns, s.end_ns), ("shop", 2_000_000, 5_000_000));
        let t = span("t", "a", "x").parent_opt(None::<&str>).build();
        assert_eq!((t.trace_id.as_str(), t.span_id.as_str(), t.parent_span_id), ("t", "a", None));
    }
}
