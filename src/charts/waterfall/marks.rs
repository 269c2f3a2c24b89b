//! Pure per-row marks of the waterfall: a span's cache hit or miss (`cache.hit`), and for the
//! attempts of a retried operation their attempt number, the wait since the previous attempt
//! ended and the backoff its `retry` event named. One pass over the rows, no per-row allocation.
//! What counts as a lookup, an attempt or a backoff is `model::shapes`, as `/cache` and
//! `/retries` count them.

use crate::model::shapes::{attempt_index, cache_hit, is_retry_event, retry_delay_ms};
use crate::model::Span;

use super::layout::Layout;

/// What a row shows beside its name.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowMarks {
    /// `cache.hit`: hit (`true`) or miss.
    pub cache_hit: Option<bool>,
    /// The attempt index (0 = first try), as [`attempt_index`] reads it.
    pub attempt: Option<u64>,
    /// Whether the row shows its attempt: a retry, the first try of a retried call, or a span
    /// that says `retry.attempt`; a plain HTTP call (attempt 0, nothing after it) shows none.
    pub show_attempt: bool,
    /// Time from the end of the previous attempt (same parent, same name) to the start of this
    /// one, a retry (index past 0).
    pub wait_ns: Option<u64>,
    /// The backoff a `retry` event named ([`retry_delay_ms`]): on the attempt itself, or the
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
        mark.cache_hit = cache_hit(span);
        mark.attempt = attempt_index(span).map(u64::from);
        if let Some(index) = mark.attempt {
            mark.show_attempt =
                index > 0 || span.attributes.iter().any(|kv| kv.key == "retry.attempt");
            mark.backoff_ms = backoff_ms(span, 0);
            let mut retried = None;
            if let Some(parent) = parent {
                if let Some(previous_row) = last_attempt[parent] {
                    let previous = &spans[layout.rows[previous_row].span];
                    // A first try starts a call of its own: no wait before it.
                    if index > 0 && previous.name == span.name && span.start_ns >= previous.end_ns {
                        mark.wait_ns = Some(span.start_ns - previous.end_ns);
                        retried = Some(previous_row);
                    }
                }
                if mark.backoff_ms.is_none() && index > 0 {
                    mark.backoff_ms = backoff_ms(&spans[layout.rows[parent].span], index - 1);
                }
                last_attempt[parent] = Some(i);
            }
            // The try this one repeats shows its number too.
            if let Some(previous_row) = retried {
                marks[previous_row].show_attempt = true;
            }
        }
        parents.push(i);
    }
    marks
}

/// The backoff of the `nth` `retry` event on `span`, when it names a valid one.
fn backoff_ms(span: &Span, nth: u64) -> Option<f64> {
    span.events.iter().filter(|e| is_retry_event(e)).nth(nth as usize).and_then(retry_delay_ms)
}

#[cfg(test)]
mod tests {
    use super::super::layout::layout;
    use super::*;
    use crate::model::fixture::span;
    use crate::model::{AttrValue, KeyValue, SpanEvent, SpanKind};

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
        // Without a resend count an HTTP call is a first try, as `/retries` counts it: it
        // starts a call of its own, with no wait before it.
        assert_eq!(rows[3].1, RowMarks { attempt: Some(0), ..RowMarks::default() });
    }

    #[test]
    fn legacy_http_calls_are_attempts_and_bad_backoffs_are_none() {
        let get = |id, resend: Option<i64>, start, end| {
            let s = span("t", id, "GET")
                .parent("p")
                .ms(start, end)
                .kind(SpanKind::Client)
                .attr("http.method", AttrValue::String("GET".into()));
            match resend {
                Some(n) => s.attr("http.request.resend_count", AttrValue::Int(n)).build(),
                None => s.build(),
            }
        };
        let mut parent = span("t", "p", "checkout").ms(0, 100).build();
        parent.events =
            vec![retry_event(AttrValue::Double(f64::NAN)), retry_event(AttrValue::Int(-3))];
        let rows = check(&[
            parent,
            get("a", None, 0, 10),
            get("b", Some(1), 20, 30),
            get("c", Some(2), 40, 50),
        ]);
        let summary: Vec<_> =
            rows.iter().map(|(_, m)| (m.attempt, m.show_attempt, m.backoff_ms)).collect();
        assert_eq!(
            summary,
            [
                (None, false, None),
                (Some(0), true, None),
                (Some(1), true, None),
                (Some(2), true, None)
            ]
        );
    }
}
