//! The trace list and the profiles page as the server draws them (`/ssr`, no scripts), from
//! fixed API answers (issue 26, points 9 and 10): each row's root line with its kind's words,
//! error text and spans per service, "root not yet received" instead of a child presented as
//! the root, the scatter over every point of the answer (log-scaled for an outlier), and the
//! profiles' start, duration and few-samples warning; the function table beside a graph.

mod support;

use support::render_with;

const TRACES: &str = r#"{"traces": [
  {"trace_id": "0000000000000000000000000000000a", "root_service": "web", "root_name": "GET",
   "start_ns": 1000000000000, "duration_ns": 5000000, "span_count": 4, "error_count": 1,
   "services": [{"service": "web", "spans": 3}, {"service": "<b>db</b>", "spans": 1}],
   "root": {"kind": "server", "summary": "GET /items/6 → 500", "status": "error",
            "error": "ValueError: bad <script>input</script>"}},
  {"trace_id": "0000000000000000000000000000000b", "root_service": "worker", "root_name": "consume",
   "start_ns": 999000000000, "duration_ns": 1000000, "span_count": 1, "error_count": 0,
   "root_missing": true, "services": [{"service": "worker", "spans": 1}]}
 ],
 "matched": 2,
 "points": [
  {"trace_id": "0000000000000000000000000000000a", "start_ns": 1000000000000, "duration_ns": 5000000, "error_count": 1},
  {"trace_id": "0000000000000000000000000000000b", "start_ns": 999000000000, "duration_ns": 1000000, "error_count": 0},
  {"trace_id": "0000000000000000000000000000000c", "start_ns": 998000000000, "duration_ns": 2000000, "error_count": 0},
  {"trace_id": "0000000000000000000000000000000d", "start_ns": 997000000000, "duration_ns": 9000000000, "error_count": 0}
 ]}"#;

#[test]
fn rows_say_what_the_root_is_how_it_ended_and_which_services_took_part() {
    let html = render_with(
        "/traces",
        &[
            ("/api/v1/traces?scatter=1", TRACES),
            ("/api/v1/services?include_self=1", r#"{"services":[]}"#),
        ],
    );
    // The root: its kind in words, its name and its one line; its error as text.
    assert!(html.contains(r#"aria-label="server span: handles a request""#), "{html}");
    assert!(html.contains(r#"<span class="op-summary">GET /items/6 → 500</span>"#), "{html}");
    assert!(html.contains("ValueError: bad &#60;script&#62;input&#60;/script&#62;"), "{html}");
    assert!(!html.contains("<script>input"), "telemetry is text");
    // Spans per service as chips, hostile names as text.
    assert!(
        html.contains("&#60;b&#62;db&#60;/b&#62; <span class=\"chip-count\">1</span>"),
        "{html}"
    );
    assert!(html.contains("web <span class=\"chip-count\">3</span>"), "{html}");
    // The trace whose root has not arrived says so; its earliest span is not shown as root.
    assert!(html.contains(r#"<span class="root-missing">root not yet received</span>"#), "{html}");
    assert!(html.contains("earliest: worker consume"), "{html}");
    // Status per row.
    assert!(html.contains(r#"<td class="row-status row-status-error">error</td>"#), "{html}");
    // The scatter: every point of the answer (4, not the page's 2), on a log axis.
    assert!(html.contains(r#"data-points="4""#), "{html}");
    assert!(html.contains(r#"data-scale="log""#), "{html}");
    assert_eq!(html.matches("class=\"dot").count(), 4, "{html}");
}

const PROFILES: &str = r#"[
  {"id": "00000000000000a1", "source": "cpu", "name": "otelscope CPU, 5 s, 10:00:05 UTC",
   "created_ns": 1795773605000000000, "stacks": 1, "total": 2, "unit": "samples",
   "duration_ns": 5000000000},
  {"id": "00000000000000a2", "source": "folded", "name": "app.folded",
   "created_ns": 1795773600000000000, "stacks": 40, "total": 4000, "unit": "samples"}
]"#;

#[test]
fn profiles_say_when_for_how_long_and_when_they_are_too_thin() {
    let html = render_with("/profile", &[("/api/v1/profiles", PROFILES)]);
    for header in ["Started", "Duration"] {
        assert!(html.contains(&format!("<th class=\"num\">{header}</th>")), "{header}: {html}");
    }
    assert!(html.contains(">5.00 s</td>"), "{html}");
    assert_eq!(html.matches("class=\"few-samples\"").count(), 1, "only the 2-sample one: {html}");
    // Selected, the thin one is drawn under a warning.
    let html = render_with(
        "/profile?id=00000000000000a1",
        &[
            ("/api/v1/profiles", PROFILES),
            (
                "/api/v1/profiles/00000000000000a1?format=json",
                r#"{"kind":"profile","title":"otelscope CPU","unit":"samples","traces":0,
                    "root":{"name":"all","self":0,"total":2,"traces":0,"children":[
                      {"name":"main","self":1,"total":2,"traces":0,"children":[
                        {"name":"work","self":1,"total":1,"traces":0,"children":[]}]}]}}"#,
            ),
        ],
    );
    assert!(html.contains("Only 2 samples: under 100 samples"), "{html}");
    // The functions by self and total beside the graph, each focusing its sandwich.
    assert!(html.contains("aria-label=\"Functions by self and total\""), "{html}");
    assert!(html.contains("view=sandwich&#38;frame=work"), "{html}");
}
