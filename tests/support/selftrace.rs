//! Reading otelscope's own spans back from its API: the UI trace that joins a page to the server's span.

use std::time::Duration;

use serde_json::{json, Value};

use crate::Server;

/// The string or integer value of attribute `key` in a span's `attributes` or `resource`.
pub fn attr_value<'a>(list: &'a Value, key: &str) -> Option<&'a Value> {
    let found = list.as_array()?.iter().find(|kv| kv["key"] == key)?;
    let value = &found["value"];
    value.get("string").or_else(|| value.get("int"))
}

/// The spans of the first `otelscope-ui` trace from `platform` that holds a span named
/// `page_span` and a client span `fetch` whose child is a server span of `otelscope` (polled
/// until the UI's and the server's exports have both arrived, 60 s at most).
pub async fn joined_ui_trace(
    server: &Server,
    platform: &str,
    page_span: &str,
    fetch: &str,
) -> Vec<Value> {
    let what = format!("a joined {platform} trace has {page_span:?} and {fetch:?}");
    crate::eventually(&what, Duration::from_secs(60), async || {
        let list = server.get_json("/api/v1/traces?service=otelscope-ui&limit=200").await;
        for summary in list["traces"].as_array().unwrap() {
            let id = summary["trace_id"].as_str().unwrap();
            let trace = server.get_json(&format!("/api/v1/traces/{id}")).await;
            let spans = trace["spans"].as_array().unwrap().clone();
            let ui = |s: &&Value| {
                s["service"] == "otelscope-ui"
                    && attr_value(&s["resource"], "otelscope.platform") == Some(&json!(platform))
            };
            let has_page = spans.iter().filter(ui).any(|s| s["name"] == page_span);
            let client = spans.iter().filter(ui).find(|s| s["name"] == fetch);
            let joined = client.is_some_and(|client| {
                spans.iter().any(|s| {
                    s["service"] == "otelscope"
                        && s["kind"] == "server"
                        && s["parent_span_id"] == client["span_id"]
                        && s["trace_id"] == client["trace_id"]
                })
            });
            if has_page && joined {
                return Ok(spans);
            }
        }
        Err(format!(
            "{} otelscope-ui traces, none joined",
            list["traces"].as_array().unwrap().len()
        ))
    })
    .await
}
