//! The trace list's rows: what each says (the root's kind icon and one line, its status and
//! error text, spans per service as chips, or "root not yet received" while the root has not
//! arrived), and `live_rows`, which keeps the rows a reader sees in place while live answers
//! arrive: new traces go above, nothing shown moves among the others or disappears.

use dioxus::prelude::*;

use crate::model::{kind_icon, StatusCode, TraceSummary, MAX_TRACE_LIMIT};
use crate::routes::Route;

/// The rows to show after a live answer `fresh` for the search whose rows are `shown`: traces
/// not shown yet first (newest first, as `fresh` has them), then the shown ones in their order,
/// each updated from `fresh` when it is there (a trace still arriving grows) and kept when it
/// is not (an answer's limit drops the oldest: not from under the reader). At most
/// `MAX_TRACE_LIMIT` rows, the oldest shown going first; the count of new rows comes back too.
pub(crate) fn live_rows(
    shown: &[TraceSummary],
    fresh: &[TraceSummary],
) -> (Vec<TraceSummary>, usize) {
    if shown.is_empty() {
        return (fresh.to_vec(), 0);
    }
    let by_id: std::collections::HashMap<&str, &TraceSummary> =
        fresh.iter().map(|t| (t.trace_id.as_str(), t)).collect();
    let known: std::collections::HashSet<&str> =
        shown.iter().map(|t| t.trace_id.as_str()).collect();
    // Only traces newer than every shown one are "new above"; older ones an answer adds ("show
    // more", a larger limit) go below, where the list continues.
    let newest = shown.iter().map(|t| t.start_ns).max().unwrap_or(0);
    let (added, older): (Vec<TraceSummary>, Vec<TraceSummary>) = fresh
        .iter()
        .filter(|t| !known.contains(t.trace_id.as_str()))
        .cloned()
        .partition(|t| t.start_ns > newest);
    let count = added.len();
    let mut rows = added;
    rows.extend(
        shown
            .iter()
            .map(|t| by_id.get(t.trace_id.as_str()).map_or_else(|| t.clone(), |f| (*f).clone())),
    );
    rows.extend(older);
    rows.truncate(MAX_TRACE_LIMIT);
    (rows, count)
}

/// The status a row shows: the root's when it arrived, else `error` when any span failed.
pub(crate) fn row_status(t: &TraceSummary) -> &'static str {
    match (&t.root, t.error_count) {
        (Some(root), _) if root.status == StatusCode::Error => "error",
        (_, errors) if errors > 0 => "error",
        (Some(root), _) => root.status.name(),
        (None, _) => "unset",
    }
}

/// The first cell of a row: a link to the trace naming its root (kind icon, service, one
/// line), then the error text and the services' chips.
#[component]
pub(crate) fn TraceCell(t: TraceSummary) -> Element {
    let link = Route::TraceDetail { trace_id: t.trace_id.clone() };
    rsx! {
        Link { class: "trace-link", to: link,
            if let Some(root) = &t.root {
                {
                    let (icon, words) = kind_icon(root.kind);
                    rsx! {
                        span { class: "kind-icon", role: "img", "aria-label": "{words}", title: "{words}", "{icon}" }
                        " "
                        span { class: "svc", "{t.root_service}" }
                        " "
                        span { class: "op", "{t.root_name}" }
                        if root.summary != t.root_name {
                            " "
                            span { class: "op-summary", "{root.summary}" }
                        }
                    }
                }
            } else if t.root_missing {
                span { class: "root-missing", "root not yet received" }
                " "
                span { class: "earliest", title: "The earliest span received so far", "earliest: {t.root_service} {t.root_name}" }
            } else {
                span { class: "svc", "{t.root_service}" }
                " "
                span { class: "op", "{t.root_name}" }
            }
        }
        if let Some(root) = t.root.as_ref().filter(|r| !r.error.is_empty()) {
            p { class: "row-error", "{root.error}" }
        }
        if !t.services.is_empty() {
            ul { class: "svc-chips", "aria-label": "Spans per service",
                for s in t.services.iter() {
                    li { key: "{s.service}", class: "chip", title: "{s.spans} spans of {s.service}",
                        "{s.service} "
                        span { class: "chip-count", "{s.spans}" }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RootLine, SpanKind};

    /// A trace started at its id's first byte (so "e" is newer than "a", "new" than "199").
    fn row(id: &str, spans: u64) -> TraceSummary {
        let start_ns = u64::from(id.as_bytes()[0]);
        TraceSummary { trace_id: id.into(), span_count: spans, start_ns, ..TraceSummary::default() }
    }

    fn ids(rows: &[TraceSummary]) -> Vec<&str> {
        rows.iter().map(|t| t.trace_id.as_str()).collect()
    }

    #[test]
    fn new_traces_go_above_and_shown_rows_neither_move_nor_vanish() {
        let (first, new) = live_rows(&[], &[row("c", 1), row("b", 1), row("a", 1)]);
        assert_eq!((ids(&first), new), (vec!["c", "b", "a"], 0));
        // Two newer traces; `a` fell off the answer's limit; `b` grew.
        let (next, new) = live_rows(&first, &[row("e", 1), row("d", 1), row("c", 1), row("b", 4)]);
        assert_eq!((ids(&next), new), (vec!["e", "d", "c", "b", "a"], 2));
        assert_eq!(next[3].span_count, 4, "a shown row is updated in place");
        // Nothing new: the same rows in the same order.
        let (same, new) = live_rows(&next, &[row("e", 1), row("c", 1)]);
        assert_eq!((same, new), (next.clone(), 0));
        // "Show more": an older trace goes below the shown ones, not above as new.
        let (more, new) = live_rows(&next, &[row("e", 1), row("0", 1)]);
        assert_eq!((ids(&more), new), (vec!["e", "d", "c", "b", "a", "0"], 0));
        let many: Vec<TraceSummary> =
            (0..MAX_TRACE_LIMIT).map(|i| row(&i.to_string(), 1)).collect();
        let (capped, _) = live_rows(&many, &[row("new", 1)]);
        assert_eq!((capped.len(), capped[0].trace_id.as_str()), (MAX_TRACE_LIMIT, "new"));
    }

    #[test]
    fn a_rows_status() {
        let root = |status| RootLine {
            kind: SpanKind::Server,
            summary: "GET /".into(),
            status,
            error: String::new(),
        };
        let mut t = row("a", 1);
        assert_eq!(row_status(&t), "unset");
        t.error_count = 1;
        assert_eq!(row_status(&t), "error", "a failed child fails the row");
        t.root = Some(root(StatusCode::Ok));
        assert_eq!(row_status(&t), "error");
        t.error_count = 0;
        assert_eq!(row_status(&t), "ok");
        t.root = Some(root(StatusCode::Error));
        assert_eq!(row_status(&t), "error");
    }
}
