//! What a span is, in a line, from OpenTelemetry's semantic conventions (the old attribute
//! names and the stable ones alike): `GET /items/6 → 200`, `redis GET product:6`,
//! `sqlite SELECT name FROM products WHERE …`, `publish receipts`, `grpc catalog.Catalog/Get`;
//! the span's kind as an icon with its words; and which attributes a reader wants first.
//! One rule for the waterfall's rows, the details panel and the trace list.

use super::{value_text, AttrValue, KeyValue, Span, SpanKind};

/// The longest summary, in characters, before it is cut with `…` (a query can be pages long;
/// the details panel shows it whole).
pub const SUMMARY_CHARS: usize = 72;

/// The span's one-line summary: HTTP (method, path or route or URL, `→ status`), database
/// (system, then the query text or the operation), messaging (operation, destination), RPC
/// (system, `service/method`, `→ status` when not OK); else the span's name.
pub fn span_summary(span: &Span) -> String {
    let line = http(span)
        .or_else(|| database(span))
        .or_else(|| messaging(span))
        .or_else(|| rpc(span))
        .unwrap_or_else(|| span.name.clone());
    cut(&line, SUMMARY_CHARS)
}

/// The first of `keys` that the span carries with a non-empty value, as text.
fn first(span: &Span, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| {
        let value = span.attribute(key)?;
        let text = match value {
            AttrValue::String(s) => s.trim().to_owned(),
            other => value_text(other),
        };
        (!text.is_empty()).then_some(text)
    })
}

fn http(span: &Span) -> Option<String> {
    let method = first(span, &["http.request.method", "http.method"])?;
    // A server names the path it was asked; a client the URL it called (its peer included),
    // without the query, which can be long and hold secrets (the panel shows it whole).
    let target = match span.kind {
        SpanKind::Client | SpanKind::Producer => first(span, &["url.full", "http.url"])
            .map(|url| without_query(&url).to_owned())
            .or_else(|| first(span, &["url.path", "http.target", "http.route"])),
        _ => first(span, &["url.path", "http.target", "http.route"])
            .or_else(|| first(span, &["url.full", "http.url"]).map(|url| path_of(&url).to_owned())),
    };
    let target = target.map(|t| without_query(&t).to_owned());
    let status = first(span, &["http.response.status_code", "http.status_code"]);
    let mut line = method;
    if let Some(target) = target {
        line.push(' ');
        line.push_str(&target);
    }
    if let Some(status) = status {
        line.push_str(" → ");
        line.push_str(&status);
    }
    Some(line)
}

fn database(span: &Span) -> Option<String> {
    let system = first(span, &["db.system.name", "db.system"])?;
    let what = first(span, &["db.query.text", "db.statement"])
        .map(|query| query.split_whitespace().collect::<Vec<_>>().join(" "))
        .or_else(|| first(span, &["db.operation.name", "db.operation"]))
        .or_else(|| first(span, &["db.query.summary"]));
    Some(match what {
        Some(what) => format!("{system} {what}"),
        None if span.name != system => format!("{system} {}", span.name),
        None => system,
    })
}

fn messaging(span: &Span) -> Option<String> {
    let system = first(span, &["messaging.system"]);
    let destination = first(
        span,
        &["messaging.destination.name", "messaging.destination", "messaging.destination.template"],
    );
    if system.is_none() && destination.is_none() {
        return None;
    }
    let operation = first(
        span,
        &["messaging.operation.type", "messaging.operation.name", "messaging.operation"],
    )
    .or_else(|| match span.kind {
        SpanKind::Producer => Some("publish".into()),
        SpanKind::Consumer => Some("process".into()),
        _ => None,
    });
    let parts: Vec<String> = [operation, destination.or(system)].into_iter().flatten().collect();
    Some(parts.join(" "))
}

fn rpc(span: &Span) -> Option<String> {
    let system = first(span, &["rpc.system.name", "rpc.system"]);
    let service = first(span, &["rpc.service"]);
    let method = first(span, &["rpc.method"]);
    if service.is_none() && method.is_none() {
        return None;
    }
    let call = match (service, method) {
        // Some instrumentations put the whole `service/method` in rpc.method.
        (Some(_), Some(method)) if method.contains('/') => method,
        (Some(service), Some(method)) => format!("{service}/{method}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => unreachable!("checked above"),
    };
    let mut line = match system {
        Some(system) => format!("{system} {call}"),
        None => call,
    };
    let status = first(span, &["rpc.grpc.status_code", "rpc.response.status_code"]);
    if let Some(status) = status.filter(|s| s != "0" && s != "OK") {
        line.push_str(" → ");
        line.push_str(&status);
    }
    Some(line)
}

/// `url` up to its query or fragment.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The path of an absolute URL (`/` when it has none); anything else as it is.
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    }
}

/// `text` cut to `max` characters, the cut marked with `…`.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_owned(),
    }
}

/// A span kind's icon and the words a screen reader says instead (and a tooltip shows).
pub fn kind_icon(kind: SpanKind) -> (&'static str, &'static str) {
    match kind {
        SpanKind::Server => ("⇥", "server span: handles a request"),
        SpanKind::Client => ("↗", "client span: calls out"),
        SpanKind::Producer => ("⇡", "producer span: sends a message"),
        SpanKind::Consumer => ("⇣", "consumer span: receives a message"),
        SpanKind::Internal => ("∘", "internal span"),
        SpanKind::Unspecified => ("·", "span of unspecified kind"),
    }
}

/// The attributes a reader looks for first, in this order (old and stable names side by side):
/// what was asked, where, what came back, the query, and the error.
pub const LEADING_ATTRIBUTES: [&str; 26] = [
    "http.request.method",
    "http.method",
    "http.route",
    "url.path",
    "http.target",
    "url.full",
    "http.url",
    "http.response.status_code",
    "http.status_code",
    "server.address",
    "net.peer.name",
    "db.system.name",
    "db.system",
    "db.operation.name",
    "db.operation",
    "db.query.text",
    "db.statement",
    "messaging.system",
    "messaging.operation.type",
    "messaging.operation",
    "messaging.destination.name",
    "messaging.destination",
    "rpc.service",
    "rpc.method",
    "rpc.grpc.status_code",
    "error.type",
];

/// `attributes` split for the details panel: the leading ones (in [`LEADING_ATTRIBUTES`]'s
/// order), then the rest sorted by key (arrival order means nothing to a reader; equal keys
/// keep theirs).
pub fn ordered_attributes(attributes: &[KeyValue]) -> (Vec<KeyValue>, Vec<KeyValue>) {
    let rank = |key: &str| LEADING_ATTRIBUTES.iter().position(|k| *k == key);
    let (mut leading, mut rest): (Vec<KeyValue>, Vec<KeyValue>) =
        attributes.iter().cloned().partition(|kv| rank(&kv.key).is_some());
    leading.sort_by_key(|kv| rank(&kv.key));
    rest.sort_by(|a, b| a.key.cmp(&b.key));
    (leading, rest)
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
