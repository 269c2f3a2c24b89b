//! `GET /api/v1/flamegraph`: span-derived flame graphs, as folded text (`a;b;c <self µs>`, the
//! default), JSON (`Accept: application/json` or `format=json`) or an inferno SVG download
//! (`format=svg`); `format=` wins over `Accept`.
//!
//! - `trace_id=ID`: one trace (404 when unknown, 400 when malformed or over 200,000 spans).
//! - `service=S&name=N&match=any|root&since=&until=`: every trace starting in the range (times
//!   as the other APIs take them, the last hour by default), from the rollup. `match=any` (the
//!   default with a name): every outermost span of the operation wherever it sits, as the top
//!   of its subtree; `match=root`: stacks it heads, i.e. whole traces it is the root of (or
//!   spans of it whose parent never arrived). Without `name`: the service's root spans
//!   (`match=root` by default). The JSON's `matched_by` says which.
//! - A diff: `base_trace_id=ID`, or `base_since=&base_until=` (the same operation in another
//!   range; `base_until` defaults to the selection's `since`). JSON values are per trace of
//!   their side; folded text is inferno's `stack base selection`, per-trace µs rounded.
//! - Bad or conflicting parameters answer 400 with `{"error"}`.

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::flame_format::{self, FlameFormat};
use super::ApiError;
use crate::ingest::now_ns;
use crate::query::flame_query::{parse_flame_query, Selection};
use crate::stacks::{diff_graph, diff_text, StackTree};
use crate::store::MAX_FOLD_SPANS;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/flamegraph", get(flamegraph))
}

async fn flamegraph(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = parse_flame_query(raw.as_deref().unwrap_or(""), now_ns())?;
    let format = FlameFormat::choose(query.format.as_deref(), &headers)?;
    let selection = fold(&state, &query.selection).await?;
    let base = match &query.base {
        Some(base) => Some(fold(&state, base).await?),
        None => None,
    };
    let title = query.selection.title();
    let kind = query.selection.kind();
    let matched_by = match &query.selection {
        Selection::Operation(op) => Some(op.matched_by()),
        Selection::Trace(_) => None,
    };
    let stem = format!("flamegraph {title}");
    match (base, &query.base) {
        (Some(base), Some(base_selection)) => flame_format::respond(
            format,
            &format!("{title} against {}", base_selection.title()),
            "µs",
            &stem,
            || diff_text(&base, &selection),
            || {
                let mut graph =
                    diff_graph(&base, &selection, kind, &title, &base_selection.title());
                graph.matched_by = matched_by;
                graph
            },
        ),
        _ => flame_format::respond(
            format,
            &title,
            "µs",
            &stem,
            || selection.to_text(),
            || {
                let mut graph = selection.graph(kind, &title);
                graph.matched_by = matched_by;
                graph
            },
        ),
    }
}

/// One side's stacks: a trace (404 when unknown, 400 past `MAX_FOLD_SPANS`), or an operation
/// from the rollup.
async fn fold(state: &AppState, selection: &Selection) -> Result<StackTree, ApiError> {
    let store = state.store.clone();
    match selection.clone() {
        Selection::Trace(id) => {
            let version = {
                let (store, id) = (store.clone(), id.clone());
                super::blocking("store.trace_version", move || store.trace_version(&id)).await?
            };
            match version {
                None => Err(ApiError::NotFound(format!("trace {id} not found"))),
                Some(spans) if spans > MAX_FOLD_SPANS => Err(ApiError::BadRequest(format!(
                    "trace {id} has {spans} spans; flame graphs fold traces of at most {MAX_FOLD_SPANS}"
                ))),
                Some(_) => super::blocking("store.flame_trace", move || store.flame_trace(&id)).await,
            }
        }
        Selection::Operation(op) => {
            super::blocking("store.flame_operation", move || store.flame_operation(&op)).await
        }
    }
}

#[cfg(test)]
mod tests {

    use otelscope_app::model::fixture::span;

    use crate::stacks::{diff_text, StackTree};

    /// The trace every span of these tests is in.
    const TRACE: &str = "11111111111111111111111111111111";

    #[test]
    fn inferno_draws_our_folds_and_diffs_with_hostile_names_as_text() {
        let trace = StackTree::from_trace(&[
            span(TRACE, 1, "GET /<script>alert(1)</script>").service("web").ms(0, 100).build(),
            span(TRACE, 2, "SELECT a;b\nFROM t").parent(1).service("db").ms(10, 60).build(),
            span(TRACE, 3, "render & \"quote\"").parent(1).service("web").ms(60, 90).build(),
        ]);
        let text = trace.to_text();
        assert_eq!(text.lines().count(), 3, "{text}");
        let svg = super::flame_format::svg(&text, "trace <b>", "µs").unwrap();
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{svg}");
        assert!(!svg.contains("<script>alert"));
        assert!(svg.contains("SELECT a:b FROM t"));
        assert!(svg.contains("render &amp; "), "{svg}");
        // Every frame is drawn: one `<g>` with a title per frame, plus `all`.
        assert_eq!(svg.matches("<title>").count(), 4, "{svg}");
        let slower = StackTree::from_trace(&[
            span(TRACE, 1, "GET /<script>alert(1)</script>").service("web").ms(0, 150).build(),
            span(TRACE, 2, "SELECT a;b\nFROM t").parent(1).service("db").ms(10, 110).build(),
        ]);
        let diff = diff_text(&trace, &slower);
        assert_eq!(
            diff,
            "web GET /<script>alert(1)</script> 20000 50000\n\
             web GET /<script>alert(1)</script>;db SELECT a:b FROM t 50000 100000\n\
             web GET /<script>alert(1)</script>;render & \"quote\" 30000 0\n"
        );
        let svg = super::flame_format::svg(&diff, "diff", "µs").unwrap();
        // Drawn as a differential graph: the change of each frame is in its title.
        assert!(svg.contains("SELECT a:b FROM t (100,000 µs, 66.67%; +33.33%)"), "{svg}");
        assert!(svg.contains("&lt;/script&gt; (150,000 µs, 100.00%; +20.00%)"), "{svg}");
    }
}
