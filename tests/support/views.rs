//! Every view of the app with the demo's data in it, for the checks that go over all of them (`tests/a11y.rs`) and for `make screenshots`.

use serde_json::Value;

use crate::{Browser, Server};

/// One page of the app and how to tell that the web app has drawn its data.
pub struct View {
    /// A short name, for messages and file names (`trace`, `cache`).
    pub name: &'static str,
    pub path: String,
    /// A script returning `true` once the app (not the server-rendered copy) shows the data.
    pub ready: &'static str,
}

/// The views, each with data: the demo's largest trace (with an error if one has it), its
/// flame graph, an imported profile, and `/self` after the others were opened.
pub async fn views_with_data(server: &Server) -> Vec<View> {
    let traces = server.get_json("/api/v1/traces?service=catalog-api&limit=200").await;
    let trace = traces["traces"]
        .as_array()
        .expect("the demo's traces")
        .iter()
        .max_by_key(|t| (t["error_count"].as_u64() > Some(0), t["span_count"].as_u64()))
        .expect("a demo trace")
        .clone();
    let trace_id = trace["trace_id"].as_str().unwrap().to_owned();
    let spans = server.get_json(&format!("/api/v1/traces/{trace_id}")).await;
    let error_span = spans["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"]["code"] == "error")
        .or_else(|| spans["spans"].as_array().unwrap().last())
        .map(|s: &Value| s["span_id"].as_str().unwrap().to_owned())
        .unwrap();
    let profile = import_profile(server).await;
    let operation = trace["root_name"].as_str().unwrap();
    vec![
        View {
            name: "traces",
            path: "/traces".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] a.trace-link')",
        },
        View {
            name: "trace",
            path: format!("/traces/{trace_id}"),
            ready: "return !!document.querySelector('[data-platform=\"web\"] .wf-row[data-depth=\"1\"]') && !!document.querySelector('.span-details')",
        },
        View {
            name: "span",
            path: format!("/traces/{trace_id}/spans/{error_span}"),
            ready: "return !!document.querySelector('[data-platform=\"web\"] .wf-row.selected') && !!document.querySelector('.span-details')",
        },
        View {
            name: "services",
            path: "/services".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] table.results tbody tr')",
        },
        View {
            name: "service",
            path: "/services/catalog-api".into(),
            ready: "return document.querySelectorAll('[data-platform=\"web\"] figure.red-chart svg').length == 3 && !!document.querySelector('tr[data-op]')",
        },
        View {
            name: "map",
            path: "/map".into(),
            ready: "return document.querySelectorAll('[data-platform=\"web\"] .map-node').length > 1",
        },
        View {
            name: "cache",
            path: "/cache".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] svg.hit-rate-chart') && !!document.querySelector('tr[data-cache]')",
        },
        View {
            name: "retries",
            path: "/retries".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] tr[data-op]') && !!document.querySelector('svg.attempts-chart')",
        },
        View {
            name: "logs",
            path: "/logs".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] tr.log-row[data-id]')",
        },
        View {
            name: "metrics",
            path: "/metrics".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] tr[data-metric]')",
        },
        View {
            name: "metric",
            path: "/metrics/cache.gets?group_by=result".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] section.metric-chart tr[data-line]')",
        },
        View {
            name: "flame-trace",
            path: format!("/flamegraph?trace_id={trace_id}"),
            ready: "return document.querySelectorAll('[data-platform=\"web\"] g.fl-frame').length > 1",
        },
        View {
            name: "flame-operation",
            path: format!(
                "/flamegraph?service=catalog-api&name={}&since=1h",
                encode(operation)
            ),
            ready: "return document.querySelectorAll('[data-platform=\"web\"] g.fl-frame').length > 1",
        },
        View {
            name: "profile",
            path: format!("/profile?id={profile}"),
            ready: "return document.querySelectorAll('[data-platform=\"web\"] g.fl-frame').length > 1 && !!document.querySelector('.profile-table tbody tr')",
        },
        View {
            name: "self",
            path: "/self".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] .self-panel[data-service=\"otelscope-ui\"] tbody tr')",
        },
        View {
            name: "not-found",
            path: "/no/such/page".into(),
            ready: "return !!document.querySelector('[data-platform=\"web\"] h1')",
        },
    ]
}

/// A folded-stacks profile posted to the profiles API; its id.
async fn import_profile(server: &Server) -> String {
    let folded = "main;serve;handle;parse 30\nmain;serve;handle;store;insert 55\nmain;serve;handle;store;fsync 20\nmain;idle 12\n";
    let answer = reqwest::Client::new()
        .post(server.url("/api/v1/profiles?name=checkout.folded"))
        .body(folded)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "the profile import");
    let created: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// `text` percent-encoded for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Opens `view` in `browser` and waits until it is drawn; panics after 30 s.
pub async fn open(browser: &Browser, server: &Server, view: &View) {
    browser.client.goto(&server.url(&view.path)).await.unwrap();
    browser.dom_when(view.name, view.ready).await;
    // Layout settles in the frame after the data arrives (charts measure their box).
    next_frame(browser).await;
}

/// Returns once the page has drawn its next frame (after what was just done to it).
pub async fn next_frame(browser: &Browser) {
    browser
        .client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .unwrap();
}

/// Sets the browser's viewport (the page's `innerWidth`) to `width` × `height`.
pub async fn set_viewport(browser: &Browser, width: u32, height: u32) {
    browser.client.set_window_size(width, height).await.unwrap();
    // Headless Chromium's window has no frame, but check rather than trust it.
    let inner = browser.eval("return window.innerWidth").await;
    assert_eq!(inner, Value::from(width), "the viewport after resizing the window");
}

/// Chooses the theme as the header's switch does (`light` or `dark`), for this page.
pub async fn set_theme(browser: &Browser, theme: &str) {
    browser
        .eval(&format!(
            "document.documentElement.setAttribute('data-theme', '{theme}'); return true"
        ))
        .await;
}
