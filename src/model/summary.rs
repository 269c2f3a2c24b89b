//! One trace's summary from its spans, in one rule for the server (which keeps it per trace
//! for search, merging what each batch adds) and the trace page (which shows it above the
//! waterfall): times, counts and the span that names the trace.

use super::Span;

/// What a set of spans of one trace says about it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceFacts<'a> {
    /// The span that names the trace: a root (no parent) if there is one, else the earliest
    /// span (until the root arrives). Among several, the earliest start, then the smallest
    /// span id: the order the waterfall draws its top rows in, and the same whatever order
    /// the spans arrived in.
    pub head: &'a Span,
    /// Whether `head` is a root.
    pub has_root: bool,
    /// The earliest start and the latest end (an end before its start counts as the start).
    pub start_ns: u64,
    pub end_ns: u64,
    pub span_count: u64,
    pub error_count: u64,
}

impl TraceFacts<'_> {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }
}

/// The facts of `spans` (one trace, any order); `None` when there are none.
pub fn trace_facts<'a>(spans: impl IntoIterator<Item = &'a Span>) -> Option<TraceFacts<'a>> {
    let mut spans = spans.into_iter();
    let first = spans.next()?;
    let mut facts = TraceFacts {
        head: first,
        has_root: first.parent_span_id.is_none(),
        start_ns: first.start_ns,
        end_ns: first.end_ns.max(first.start_ns),
        span_count: 1,
        error_count: u64::from(first.is_error()),
    };
    for span in spans {
        facts.start_ns = facts.start_ns.min(span.start_ns);
        facts.end_ns = facts.end_ns.max(span.end_ns.max(span.start_ns));
        facts.span_count += 1;
        facts.error_count += u64::from(span.is_error());
        let root = span.parent_span_id.is_none();
        let earlier = (span.start_ns, &span.span_id) < (facts.head.start_ns, &facts.head.span_id);
        if (root && !facts.has_root) || (root == facts.has_root && earlier) {
            facts.head = span;
            facts.has_root = root;
        }
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatusCode;

    fn node(id: &str, parent: Option<&str>, start_ns: u64, end_ns: u64) -> Span {
        let name = format!("op {id}");
        crate::model::fixture::span("t", id, &name).parent_opt(parent).ns(start_ns, end_ns).build()
    }

    /// `head, has_root` of `spans` in this order and reversed (the arrival order never counts).
    fn head(spans: &[Span]) -> (String, bool) {
        let forward = trace_facts(spans).unwrap();
        let backward = trace_facts(spans.iter().rev()).unwrap();
        assert_eq!(forward, backward, "arrival order changed the summary");
        (forward.head.span_id.clone(), forward.has_root)
    }

    #[test]
    fn times_and_counts() {
        let mut failed = node("b", Some("a"), 5, 3);
        failed.status.code = StatusCode::Error;
        let spans = [node("a", None, 10, 20), failed, node("c", Some("a"), 12, 30)];
        let facts = trace_facts(&spans).unwrap();
        let got = (facts.start_ns, facts.end_ns, facts.duration_ns());
        assert_eq!(got, (5, 30, 25), "an end before its start counts as the start");
        assert_eq!((facts.span_count, facts.error_count), (3, 1));
        assert_eq!(trace_facts(&[]), None);
    }

    #[test]
    fn the_root_names_the_trace_and_ties_break_by_start_then_span_id() {
        // A root wherever it arrives, even after earlier spans.
        assert_eq!(head(&[node("b", Some("a"), 1, 2), node("a", None, 5, 9)]), ("a".into(), true));
        // Without one, the earliest span; on a tie the smallest span id. The trace page once
        // took the first root in arrival order and the server the first earliest span in
        // arrival order, so the two could name the trace differently.
        let no_root =
            [node("c", Some("x"), 3, 4), node("b", Some("x"), 3, 4), node("d", Some("x"), 7, 8)];
        assert_eq!(head(&no_root), ("b".into(), false));
        let two_roots = [node("r2", None, 4, 9), node("r1", None, 4, 9), node("r0", None, 6, 9)];
        assert_eq!(head(&two_roots), ("r1".into(), true));
    }
}
