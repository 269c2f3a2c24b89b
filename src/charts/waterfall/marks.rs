//! Pure per-row marks of the waterfall: a span's cache hit or miss (`cache.hit`), and for the
//! attempts of a retried operation their attempt number, the wait since the previous attempt
//! ended and the backoff its `retry` event named. One pass over the rows, no per-row allocation.

use crate::model::{AttrValue, Span, SpanKind};

use super::layout::Layout;

/// What a row shows beside its name.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowMarks {
    /// `cache.hit`: hit (`true`) or miss.
    pub cache_hit: Option<bool>,
    /// The attempt index (0 = first try), from `retry.attempt` or an HTTP client span's
    /// `http.request.resend_count`.
    pub attempt: Option<u64>,
    /// Time from the end of the previous attempt (same parent, same name) to this one's start.
    pub wait_ns: Option<u64>,
    /// The backoff a `retry` event named (`retry.delay_ms`): on the attempt itself, or the
    /// parent's retry events in order, the k-th before attempt k.
    pub backoff_ms: Option<f64>,
}

impl RowMarks {
    pub fn is_empty(&self) -> bool {
        *self == RowMarks::default()
    }
}

/// Marks for every row of `layout`, by row index.
pub fn row_marks(spans: &[Span], layout: &Layout) -> Vec<RowMarks> {
    let mut marks = vec![RowMarks::default(); layout.rows.len()];
    // The rows are depth first with siblings by start: `parents[d]` is the row of the current
    // ancestor at depth d, and `last_attempt[row]` the latest attempt seen under that row.
    let mut parents: Vec<usize> = Vec::new();
    let mut last_attempt: Vec<Option<usize>> = vec![None; layout.rows.len()];
    for (i, row) in layout.rows.iter().enumerate() {
        parents.truncate(row.depth);
        let parent = if row.orphan { None } else { parents.last().copied() };
        let span = &spans[row.span];
        let mark = &mut marks[i];
        mark.cache_hit = match span.attribute("cache.hit") {
            Some(AttrValue::Bool(hit)) => Some(*hit),
            _ => None,
        };
        mark.attempt = attempt_index(span);
        if let Some(index) = mark.attempt {
            mark.backoff_ms = retry_delay_ms(span, 0);
            if let Some(parent) = parent {
                if let Some(previous) = last_attempt[parent] {
                    let previous = &spans[layout.rows[previous].span];
                    if previous.name == span.name && span.start_ns >= previous.end_ns {
                        mark.wait_ns = Some(span.start_ns - previous.end_ns);
                    }
                }
                if mark.backoff_ms.is_none() && index > 0 {
                    mark.backoff_ms = retry_delay_ms(&spans[layout.rows[parent].span], index - 1);
                }
                last_attempt[parent] = Some(i);
            }
        }
        parents.push(i);
    }
    marks
}

/// `retry.attempt`, else a resend count of an HTTP client span (absent = the first try).
fn attempt_index(span: &Span) -> Option<u64> {
    if let Some(AttrValue::Int(n)) = span.attribute("retry.attempt") {
        return u64::try_from(*n).ok();
    }
    if span.kind == SpanKind::Client && span.attribute("http.request.method").is_some() {
        return match span.attribute("http.request.resend_count") {
            Some(AttrValue::Int(n)) => u64::try_from(*n).ok(),
            _ => None,
        };
    }
    None
}

/// `retry.delay_ms` of the `nth` event named `retry` on `span`.
fn retry_delay_ms(span: &Span, nth: u64) -> Option<f64> {
    let event = span.events.iter().filter(|e| e.name == "retry").nth(nth as usize)?;
    match event.attributes.iter().find(|kv| kv.key == "retry.delay_ms").map(|kv| &kv.value) {
        Some(AttrValue::Int(ms)) => Some(*ms as f64),
        Some(AttrValue::Double(ms)) => Some(*ms),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::layout;
    use super::*;
    use crate::model::fixture::span;
    use crate::model::{KeyValue, SpanEvent};

    const MS: u64 = 1_000_000;

    fn with(mut span: Span, key: &str, value: AttrValue) -> Span {
        span.attributes.push(KeyValue { key: key.into(), value });
        span
    }

    fn retry_event(delay: AttrValue) -> SpanEvent {
        SpanEvent {
            time_ns: 0,
            name: "retry".into(),
            attributes: vec![KeyValue { key: "retry.delay_ms".into(), value: delay }],
        }
    }

    /// Row name → marks, in row order.
    fn check(spans: &[Span]) -> Vec<(String, RowMarks)> {
        let layout = layout(spans);
        let marks = row_marks(spans, &layout);
        layout.rows.iter().zip(marks).map(|(r, m)| (spans[r.span].name.clone(), m)).collect()
    }

    #[test]
    fn cache_lookups_are_hits_or_misses() {
        let rows = check(&[
            span("t", "a", "GET /item").ms(0, 10).build(),
            with(
                span("t", "b", "l1 get").parent("a").ms(1, 2).build(),
                "cache.hit",
                AttrValue::Bool(false),
            ),
            with(
                span("t", "c", "l2 get").parent("a").ms(2, 4).build(),
                "cache.hit",
                AttrValue::Bool(true),
            ),
            with(
                span("t", "d", "odd").parent("a").ms(5, 6).build(),
                "cache.hit",
                AttrValue::String("true".into()),
            ),
        ]);
        let hits: Vec<Option<bool>> = rows.iter().map(|(_, m)| m.cache_hit).collect();
        assert_eq!(hits, [None, Some(false), Some(true), None]);
    }

    #[test]
    fn attempts_get_their_number_the_wait_before_them_and_the_parents_backoff() {
        let mut call = span("t", "a", "fetch upstream").ms(0, 400).build();
        call.events = vec![retry_event(AttrValue::Int(100)), retry_event(AttrValue::Double(250.5))];
        let attempt = |id, index, start, end| {
            with(
                span("t", id, "upstream GET").parent("a").ms(start, end).build(),
                "retry.attempt",
                AttrValue::Int(index),
            )
        };
        // Arrival order does not matter; the unrelated child in between does not break the
        // chain of attempts.
        let rows = check(&[
            attempt("d", 2, 350, 400),
            call,
            attempt("b", 0, 0, 20),
            span("t", "x", "log").parent("a").ms(25, 30).build(),
            attempt("c", 1, 120, 140),
        ]);
        type Summary<'a> = (&'a str, Option<u64>, Option<u64>, Option<f64>);
        let summary: Vec<Summary> = rows
            .iter()
            .map(|(name, m)| (name.as_str(), m.attempt, m.wait_ns.map(|w| w / MS), m.backoff_ms))
            .collect();
        assert_eq!(
            summary,
            [
                ("fetch upstream", None, None, None),
                ("upstream GET", Some(0), None, None),
                ("log", None, None, None),
                ("upstream GET", Some(1), Some(100), Some(100.0)),
                ("upstream GET", Some(2), Some(210), Some(250.5)),
            ]
        );
    }

    #[test]
    fn http_resends_are_attempts_and_own_retry_events_win() {
        let http = |id, resend: Option<i64>, start, end| {
            let mut s = with(
                span("t", id, "GET").parent("p").ms(start, end).build(),
                "http.request.method",
                AttrValue::String("GET".into()),
            );
            s.kind = SpanKind::Client;
            if let Some(n) = resend {
                s = with(s, "http.request.resend_count", AttrValue::Int(n));
            }
            s
        };
        let mut second = http("c", Some(1), 50, 60);
        second.events = vec![retry_event(AttrValue::Int(30))];
        let rows = check(&[
            span("t", "p", "checkout").ms(0, 100).build(),
            http("b", Some(0), 0, 10),
            second,
            http("z", None, 70, 80),
        ]);
        assert_eq!(rows[1].1.attempt, Some(0));
        assert_eq!(
            (rows[2].1.attempt, rows[2].1.wait_ns, rows[2].1.backoff_ms),
            (Some(1), Some(40 * MS), Some(30.0))
        );
        assert!(rows[3].1.is_empty(), "a plain HTTP call is no attempt: {:?}", rows[3].1);
    }
}
