//! The UI port driven through `router(state).oneshot(..)`, no socket: API answers, 404s, and
//! the SSR HTML of every route.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{Span, SpanKind};
use otelscope_server::ingest::IngestSettings;
use otelscope_server::store::{Retention, SqliteStore, Store, WriteBatch};
use otelscope_server::{router, AppState, IngestLimits};
use serde_json::Value;
use tower::ServiceExt;

async fn get(state: &AppState, uri: &str) -> (StatusCode, String, String) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

/// A state over an in-memory store holding `n` one-span traces for each named service.
fn state_with(services: &[(&str, u64)]) -> AppState {
    let starting: Vec<(&str, u64, u64)> = services.iter().map(|&(s, n)| (s, n, 1)).collect();
    state_with_starts(&starting)
}

/// As [`state_with`], each service's spans starting at the given time (ns).
fn state_with_starts(services: &[(&str, u64, u64)]) -> AppState {
    let store = SqliteStore::in_memory().unwrap();
    let mut spans = Vec::new();
    for &(name, n, start_ns) in services {
        for i in 0..n {
            spans.push(Span {
                parent_span_id: None,
                kind: SpanKind::Server,
                service: name.into(),
                start_ns,
                end_ns: start_ns + 1,
                ..Span::new(
                    format!("{:016x}{:016x}", name.len(), spans.len() + 1),
                    format!("{:016x}", i + 1),
                    "op",
                )
            });
        }
    }
    store
        .write(&[WriteBatch { received_ns: u64::MAX >> 2, spans, ..WriteBatch::default() }])
        .unwrap();
    let settings =
        IngestSettings { queue_capacity: 4, ..IngestSettings::new(Retention::UNBOUNDED) };
    AppState::new(Arc::new(store), settings, IngestLimits::default())
}

#[tokio::test]
async fn health_reports_ok_and_version() {
    let (status, content_type, body) = get(&state_with(&[]), "/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "writer": "ok",
            "otlp_http": null,
            "otlp_grpc": null,
            "demo": null,
            "self_telemetry": false,
            "last_received": {"traces": null, "metrics": null, "logs": null},
            "store": {"kind": "sqlite", "state": "ok"},
        })
    );
}

#[tokio::test]
async fn services_count_the_last_hour_by_default_and_say_which() {
    // checkout's spans started ten minutes ago, api's two hours ago: api is listed, with zeros.
    let now = otelscope_server::ingest::now_ns();
    let minute = 60_000_000_000;
    let state =
        state_with_starts(&[("checkout", 7, now - 10 * minute), ("api", 2, now - 120 * minute)]);
    let (status, _, body) = get(&state, "/api/v1/services").await;
    assert_eq!(status, StatusCode::OK);
    let mut json: Value = serde_json::from_str(&body).unwrap();
    let range = json.as_object_mut().unwrap().remove("range").expect("the range, said");
    let (since, until) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
    assert!(until >= now && until - since == 60 * minute, "the last hour: {range}");
    assert_eq!(
        json,
        serde_json::json!({"services": [
            {"name": "api", "span_count": 0, "error_count": 0},
            {"name": "checkout", "span_count": 7, "error_count": 0, "p50_ns": 1, "p95_ns": 1, "p99_ns": 1},
        ]})
    );
    // Over everything, when asked.
    let (_, _, body) = get(&state, "/api/v1/services?since=0").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    let counts: Vec<(&str, u64)> = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["span_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("api", 2), ("checkout", 7)], "{json}");
}

#[tokio::test]
async fn operations_lists_one_services_span_names_once_each_sorted() {
    let store = SqliteStore::in_memory().unwrap();
    let names = [("checkout", "b"), ("checkout", "a"), ("checkout", "a"), ("api", "z")];
    let spans = names
        .iter()
        .enumerate()
        .map(|(i, (service, name))| Span {
            service: (*service).into(),
            start_ns: 1,
            end_ns: 2,
            ..Span::new(format!("{:032x}", i + 1), format!("{:016x}", i + 1), *name)
        })
        .collect();
    store
        .write(&[WriteBatch { received_ns: u64::MAX >> 2, spans, ..WriteBatch::default() }])
        .unwrap();
    let settings =
        IngestSettings { queue_capacity: 4, ..IngestSettings::new(Retention::UNBOUNDED) };
    let state = AppState::new(Arc::new(store), settings, IngestLimits::default());

    let (status, _, body) = get(&state, "/api/v1/operations?service=checkout").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"service": "checkout", "operations": ["a", "b"], "truncated": false})
    );
    let (_, _, body) = get(&state, "/api/v1/operations?service=nobody").await;
    assert_eq!(body, r#"{"service":"nobody","operations":[],"truncated":false}"#);
    for uri in ["/api/v1/operations", "/api/v1/operations?service=", "/api/v1/operations?x=1"] {
        let (status, _, body) = get(&state, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404() {
    for uri in ["/api/v1/nope", "/api/v2/health", "/api"] {
        let (status, content_type, body) = get(&state_with(&[]), uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(content_type, "application/json", "{uri}");
        assert_eq!(body, r#"{"error":"no such API route"}"#, "{uri}");
    }
}

#[tokio::test]
async fn unknown_page_is_a_404_page_not_the_home_page() {
    for uri in ["/no/such/page", "/ssr/nope"] {
        let (status, content_type, body) = get(&state_with(&[]), uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(content_type.starts_with("text/html"), "{uri}");
        assert!(body.contains("Page not found"), "{uri}: {body}");
        assert!(!body.contains("<h1>Traces</h1>"), "{uri}");
    }
}

#[tokio::test]
async fn every_route_renders_server_side_with_nav_and_data() {
    let state = state_with(&[("api", 1), ("web", 2)]);
    let pages = [
        ("/", "<h1>Traces</h1>"),
        ("/traces", "<h1>Traces</h1>"),
        ("/cache", "<h1>Cache hit rates</h1>"),
        ("/retries", "<h1>Retries</h1>"),
        ("/flamegraph", "<h1>Flame graphs</h1>"),
        ("/profile", "<h1>Profiles</h1>"),
        ("/self", "<h1>otelscope itself</h1>"),
    ];
    for (path, heading) in pages {
        for uri in [path.to_owned(), format!("/ssr{path}")] {
            let (status, content_type, body) = get(&state, &uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert!(content_type.starts_with("text/html"), "{uri}");
            assert!(body.contains(r#"data-platform="ssr""#), "{uri}");
            assert!(body.contains(heading), "{uri}: {body}");
            for link in [
                r#"href="/traces"#,
                // Pages whose filters live in the query (empty here: `/cache?`).
                r#"href="/cache"#,
                r#"href="/retries"#,
                r#"href="/flamegraph"#,
                r#"href="/profile"#,
                r#"href="/self""#,
            ] {
                assert!(body.contains(link), "{uri} lacks nav link {link}");
            }
            // The status line is filled from the API during SSR, not left loading.
            assert!(body.contains("server ok v0.1.0 · 2 services"), "{uri}: {body}");
        }
    }
}

#[tokio::test]
async fn ssr_only_pages_carry_no_script() {
    let (_, _, body) = get(&state_with(&[]), "/ssr/traces").await;
    assert!(!body.contains("<script"), "{body}");
}

#[tokio::test]
async fn stylesheet_is_served() {
    let (status, content_type, body) = get(&state_with(&[]), "/assets/main.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/css; charset=utf-8");
    assert!(body.contains(".topbar"));
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    // Issue 8: no CSP, framing allowed, MIME sniffing allowed.
    let state = state_with(&[("api", 1)]);
    let keyed = state.clone().with_api_key(otelscope_server::auth::ApiKey::new(Some("k".into())));
    let cases = [
        (&state, "/"),
        (&state, "/traces"),
        (&state, "/no/such/page"),
        (&state, "/api/v1/health"),
        (&state, "/assets/main.css"),
        (&state, "/assets/boot.js"),
        (&keyed, "/traces"),
        (&keyed, "/login"),
    ];
    for (state, uri) in cases {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        let header = |name: &str| {
            response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
        };
        let csp = header("content-security-policy");
        for part in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{uri}: {part} in {csp}");
        }
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert!(!scripts.contains("'unsafe-inline'"), "{uri}: {csp}");
        assert!(!scripts.contains("'unsafe-eval'"), "no string becomes code: {uri}: {csp}");
        assert_eq!(header("cross-origin-resource-policy"), "same-origin", "{uri}");
        let cache = header("cache-control");
        if uri.starts_with("/api/") {
            assert_eq!(cache, "no-store", "{uri}");
        } else {
            assert_ne!(cache, "no-store", "{uri}: only API answers are never stored");
        }
        assert_eq!(header("x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(header("x-frame-options"), "DENY", "{uri}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{uri}");
    }
}

#[tokio::test]
async fn pages_boot_the_app_from_a_file_not_an_inline_script() {
    let (_, _, body) = get(&state_with(&[]), "/traces").await;
    let scripts: Vec<&str> = body.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "{body}");
    assert!(scripts[0].starts_with(r#" src="/assets/theme.js"></script>"#), "{body}");
    assert!(scripts[1].starts_with(r#" type="module" src="/assets/boot.js"></script>"#), "{body}");
    let (status, _, theme) = get(&state_with(&[]), "/assets/theme.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(theme.contains("data-theme-toggle"), "{theme}");
    let (status, content_type, boot) = get(&state_with(&[]), "/assets/boot.js").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/javascript; charset=utf-8"));
    assert_eq!(boot, "import init from \"/pkg/otelscope_app.js\";\ninit();\n");
}

/// A split page preloads its module's files in one pack (`web::split_pack`): exactly the
/// module's wasm and the chunks it needs (`pkg/split-deps.txt`), each as served alone; and the
/// scripts of the module graph come before the wasm: over HTTP/1.1 the browser fetches six at a
/// time, and the waterfall's first paint waited on some fifty files ahead of its data.
#[tokio::test]
async fn a_split_page_preloads_its_scripts_first_then_one_pack_of_its_files() {
    if !otelscope_server::web::has_bundle() {
        return;
    }
    let state = state_with(&[]);
    let (_, _, body) = get(&state, "/traces/0af7651916cd43dd8448eb211c80319c").await;
    let position = |needle: &str| body.find(needle).unwrap_or_else(|| panic!("{needle}: {body}"));
    let loader = position("<link rel=\"modulepreload\" href=\"/pkg/__wasm_split.js\">");
    assert!(loader < position("href=\"/pkg/otelscope_app_bg.wasm\""));
    assert!(
        loader
            < position("<link rel=\"preload\" href=\"/pkg/pack/trace\" as=\"fetch\" crossorigin>")
    );
    assert!(!body.contains("href=\"/pkg/chunk_") && !body.contains("href=\"/pkg/split_"), "{body}");
    let (_, _, deps) = get(&state, "/pkg/split-deps.txt").await;
    let trace = deps.lines().find_map(|line| line.strip_prefix("trace ")).expect("trace's line");
    let mut wanted = vec!["split_trace.wasm".to_owned()];
    wanted.extend(trace.split(',').filter(|n| !n.is_empty()).map(|n| format!("chunk_{n}.wasm")));
    let files = unpack(&fetch_bytes(&state, "/pkg/pack/trace", "application/octet-stream").await);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, wanted);
    for (name, bytes) in &files {
        let alone = fetch_bytes(&state, &format!("/pkg/{name}"), "application/wasm").await;
        assert!(*bytes == alone, "{name} as in the pack and alone");
    }
    let (_, _, search) = get(&state, "/traces?service=shop").await;
    assert!(!search.contains("/pkg/pack/trace"), "a page preloads no other module's pack");
    for missing in ["/pkg/pack/nosuch", "/pkg/pack/../split_trace", "/pkg/pack/"] {
        let request = Request::get(missing).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

/// The body of `path`, which must answer 200 as `content_type`.
async fn fetch_bytes(
    state: &otelscope_server::AppState,
    path: &str,
    content_type: &str,
) -> Vec<u8> {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(response.headers()["content-type"], content_type, "{path}");
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// A pack's files (`web::split_pack`): per file, u32 LE name length, name, u32 LE length, bytes.
fn unpack(mut pack: &[u8]) -> Vec<(String, Vec<u8>)> {
    let take = |pack: &mut &[u8]| {
        let (length, rest) = pack.split_at(4);
        let length = u32::from_le_bytes(length.try_into().unwrap()) as usize;
        let (part, rest) = rest.split_at(length);
        *pack = rest;
        part.to_vec()
    };
    let mut files = Vec::new();
    while !pack.is_empty() {
        let name = String::from_utf8(take(&mut pack)).unwrap();
        files.push((name, take(&mut pack)));
    }
    files
}

/// Every page has its code in a split wasm module (app `views::lazy`; a trace's waterfall too,
/// since its logs took the main bundle past its budget): its page preloads its pack, which
/// starts with the module's own file, and every file in it is wasm.
#[tokio::test]
async fn lazy_pages_preload_their_split_module() {
    let state = state_with(&[]);
    let split_links = |body: &str| -> Vec<String> {
        body.split("<link rel=\"preload\" href=\"")
            .skip(1)
            .filter_map(|tail| tail.split('"').next())
            .filter(|href| href.starts_with("/pkg/"))
            .map(str::to_owned)
            .collect()
    };
    for (page, module) in [
        ("/traces/0af7651916cd43dd8448eb211c80319c", "trace"),
        ("/traces/0af7651916cd43dd8448eb211c80319c/spans/b7ad6b7169203331", "trace"),
        ("/logs?severity=warn", "logs"),
        ("/", "search"),
        ("/traces?service=shop", "search"),
        ("/services", "insights"),
        ("/flamegraph?service=shop", "flame"),
        ("/profile", "flame"),
        ("/cache", "insights"),
        ("/retries?since=6h", "insights"),
        ("/self", "insights"),
    ] {
        let (_, _, body) = get(&state, page).await;
        let links: Vec<String> = split_links(&body)
            .into_iter()
            .filter(|href| href != "/pkg/otelscope_app_bg.wasm")
            .collect();
        if !otelscope_server::web::has_bundle() {
            assert!(links.is_empty(), "{page}: no bundle, nothing to preload");
            continue;
        }
        assert_eq!(links, [format!("/pkg/pack/{module}")], "{page}");
        let files = unpack(&fetch_bytes(&state, &links[0], "application/octet-stream").await);
        assert_eq!(
            files.first().map(|(name, _)| name.clone()),
            Some(format!("split_{module}.wasm"))
        );
        for (name, bytes) in files {
            assert!(bytes.starts_with(b"\0asm"), "{page}: {name} is a wasm module");
        }
    }
}

#[tokio::test]
async fn the_favicon_is_an_empty_answer_not_a_rendered_404_page() {
    let (status, _, body) = get(&state_with(&[]), "/favicon.ico").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, "");
}
