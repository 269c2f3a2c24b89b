//! The trace list's answer beyond the store's summaries: each row's spans per service and its
//! root line (`model::root_line`) from `Store::trace_rows`, and the scatter's points (every
//! match, `scatter=1`), pure and tested without a database.

use otelscope_app::model::{root_line, ServiceSpans, TracePoint, TraceSummary};

use super::error::ParamError;
use super::params::{flag, params};
use crate::store::TraceRowInfo;

/// `scatter=1`: the answer carries every match's point, not only the page's rows.
pub fn wants_scatter(raw: &str) -> Result<bool, ParamError> {
    let mut wanted = false;
    for (key, value) in params(raw) {
        if key == "scatter" {
            wanted = flag(&key, &value)?;
        }
    }
    Ok(wanted)
}

/// Adds each row's services and root line from `infos` (matched by trace id; rows without
/// one keep none).
pub fn fill(traces: &mut [TraceSummary], infos: Vec<TraceRowInfo>) {
    let mut by_id: std::collections::HashMap<String, TraceRowInfo> =
        infos.into_iter().map(|info| (info.trace_id.clone(), info)).collect();
    for row in traces {
        let Some(info) = by_id.remove(&row.trace_id) else { continue };
        row.services = info
            .services
            .into_iter()
            .map(|(service, spans)| ServiceSpans { service, spans })
            .collect();
        row.root = info.root.as_ref().map(root_line);
        if row.root.is_some() {
            row.root_missing = false;
        }
    }
}

/// The scatter's points of `traces`.
pub fn points(traces: &[TraceSummary]) -> Vec<TracePoint> {
    traces
        .iter()
        .map(|t| TracePoint {
            trace_id: t.trace_id.clone(),
            start_ns: t.start_ns,
            duration_ns: t.duration_ns,
            error_count: t.error_count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::fixture::span;
    use otelscope_app::model::{SpanKind, StatusCode};

    use super::*;

    #[test]
    fn rows_get_their_services_and_root_line_and_missing_roots_stay_missing() {
        let row = |id: &str, missing| TraceSummary {
            trace_id: id.into(),
            root_missing: missing,
            duration_ns: 7,
            ..TraceSummary::default()
        };
        let mut traces = vec![row("a", false), row("b", true), row("c", false)];
        let root = span(1, 1, "GET /x").kind(SpanKind::Server).error("boom").build();
        fill(
            &mut traces,
            vec![
                TraceRowInfo {
                    trace_id: "b".into(),
                    services: vec![("api".into(), 3), ("db".into(), 1)],
                    root: None,
                },
                TraceRowInfo { trace_id: "a".into(), services: vec![], root: Some(root) },
            ],
        );
        let a = traces[0].root.as_ref().expect("a's root");
        assert_eq!(
            (a.kind, a.summary.as_str(), a.status, a.error.as_str()),
            (SpanKind::Server, "GET /x", StatusCode::Error, "boom")
        );
        assert!(traces[1].root_missing && traces[1].root.is_none());
        assert_eq!(
            traces[1].services,
            [
                ServiceSpans { service: "api".into(), spans: 3 },
                ServiceSpans { service: "db".into(), spans: 1 }
            ]
        );
        assert_eq!(traces[2], row("c", false), "no info: left as it was");
        assert_eq!(points(&traces)[1].duration_ns, 7);
        assert!(wants_scatter("scatter=1").unwrap() && !wants_scatter("x=1").unwrap());
        assert!(wants_scatter("scatter=lots").is_err());
    }
}
