//! What the trace list shows of a trace's root span: its kind, its one line
//! (`describe::span_summary`, as the waterfall's tooltip and details say it), its status, and
//! its error text (the status message, else the first exception event's type and message).

use super::{span_summary, value_text, RootLine, Span, StatusCode};

/// The longest error text a row carries, in characters (the trace's page has the whole).
pub const ERROR_CHARS: usize = 160;

/// The root line of `span`.
pub fn root_line(span: &Span) -> RootLine {
    RootLine {
        kind: span.kind,
        summary: span_summary(span),
        status: span.status.code,
        error: cut(&error_text(span)),
    }
}

/// The status message when the span failed with one; else the first `exception` event's
/// `exception.type: exception.message`; else empty (an OK span's message is not an error).
fn error_text(span: &Span) -> String {
    let message = span.status.message.trim();
    if span.status.code == StatusCode::Error && !message.is_empty() {
        return message.to_owned();
    }
    let Some(event) = span.events.iter().find(|e| e.name == "exception") else {
        return String::new();
    };
    let field = |key: &str| {
        event.attributes.iter().find(|kv| kv.key == key).map(|kv| value_text(&kv.value))
    };
    match (field("exception.type"), field("exception.message")) {
        (Some(kind), Some(message)) if !message.is_empty() => format!("{kind}: {message}"),
        (Some(kind), _) => kind,
        (None, Some(message)) => message,
        (None, None) => String::new(),
    }
}

fn cut(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if line.len() < text.trim_end().len() => format!("{line} …"),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::span;
    use crate::model::{AttrValue, KeyValue, SpanEvent, SpanKind};

    fn exception(kind: &str, message: &str) -> SpanEvent {
        let text = |v: &str| AttrValue::String(v.into());
        SpanEvent {
            time_ns: 5,
            name: "exception".into(),
            attributes: vec![
                KeyValue { key: "exception.type".into(), value: text(kind) },
                KeyValue { key: "exception.message".into(), value: text(message) },
            ],
        }
    }

    #[test]
    fn the_summary_kind_and_the_error_a_row_shows() {
        let ok = span(1, 1, "GET")
            .kind(SpanKind::Server)
            .attr("http.request.method", AttrValue::String("GET".into()))
            .attr("http.route", AttrValue::String("/items/{id}".into()))
            .attr("http.response.status_code", AttrValue::Int(200))
            .build();
        let line = root_line(&ok);
        assert_eq!(
            (line.kind, line.summary.as_str(), line.status, line.error.as_str()),
            (SpanKind::Server, "GET /items/{id} → 200", StatusCode::Unset, "")
        );

        let failed = span(1, 1, "work").error("upstream said no\nstack…").build();
        assert_eq!(root_line(&failed).error, "upstream said no …");
        assert_eq!(root_line(&failed).status, StatusCode::Error);

        let mut thrown = span(1, 1, "work").build();
        thrown.events = vec![
            SpanEvent { time_ns: 1, name: "retry".into(), attributes: vec![] },
            exception("ValueError", "bad <b>input</b>"),
        ];
        assert_eq!(root_line(&thrown).error, "ValueError: bad <b>input</b>");
        thrown.events = vec![exception("KeyError", "")];
        assert_eq!(root_line(&thrown).error, "KeyError");

        let long = span(1, 1, "work").error(&"x".repeat(500)).build();
        assert_eq!(root_line(&long).error.chars().count(), ERROR_CHARS + 1);
    }
}
