//! `/api/v1/profiles`: folded stacks and pprof imports told apart by content, exact values back
//! as folded text, JSON and SVG, refusals that say why (malformed and oversized bodies), the
//! list newest first and bounded, and the API key. The real profiler is in `profiles_cpu.rs`.

mod support;

use std::io::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{FlameGraph, FlameNode, ProfileCreated, ProfileSummary};
use otelscope_server::auth::ApiKey;
use otelscope_server::store::{ProfileBounds, SqliteStore};
use otelscope_server::{router, AppState};
use pprof::protos::{Function, Line, Location, Message as _, Profile, Sample, ValueType};
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    fn error(&self) -> String {
        let body: serde_json::Value = self.json();
        body["error"].as_str().unwrap_or_else(|| panic!("no error in {}", self.text())).into()
    }
}

async fn send(state: &AppState, request: Request<Body>) -> Answer {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, headers, body }
}

async fn post(state: &AppState, uri: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let request = Request::post(uri).header("content-type", content_type);
    send(state, request.body(Body::from(body)).unwrap()).await
}

async fn get(state: &AppState, uri: &str) -> Answer {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// Imports `body` and returns the new id (asserting 201 and its `Location`).
async fn import(state: &AppState, uri: &str, content_type: &str, body: Vec<u8>) -> String {
    let answer = post(state, uri, content_type, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let ProfileCreated { id } = answer.json();
    assert_eq!(answer.headers["location"], format!("/api/v1/profiles/{id}").as_str());
    id
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A pprof of `main;work;hot` × 7 and `main;idle` × 2 (samples/count), by hand.
fn small_pprof() -> Profile {
    let strings = ["", "main", "work", "hot", "idle", "samples", "count"];
    let function = (1..=4).map(|id| Function { id, name: id as i64, ..Function::default() });
    let location = (1..=4).map(|id| Location {
        id,
        line: vec![Line { function_id: id, line: 1 }],
        ..Location::default()
    });
    let sample = |ids: &[u64], n: i64| Sample {
        location_id: ids.to_vec(),
        value: vec![n],
        ..Sample::default()
    };
    Profile {
        sample_type: vec![ValueType { ty: 5, unit: 6 }],
        sample: vec![sample(&[3, 2, 1], 5), sample(&[4, 1], 2), sample(&[3, 2, 1], 2)],
        function: function.collect(),
        location: location.collect(),
        string_table: strings.iter().map(|s| s.to_string()).collect(),
        ..Profile::default()
    }
}

fn child<'a>(node: &'a FlameNode, name: &str) -> &'a FlameNode {
    node.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name} in {node:?}"))
}

#[tokio::test]
async fn folded_stacks_come_back_exactly_as_text_json_and_svg() {
    let state = support::state();
    let text = "main;work;hot 30\nmain;idle 5\nmain;work;hot 12\nmain 1\n";
    // Sent as bytes of no particular kind: the content says what it is.
    let id =
        import(&state, "/api/v1/profiles?name=app.folded", "application/octet-stream", text.into())
            .await;

    let folded = get(&state, &format!("/api/v1/profiles/{id}")).await;
    assert_eq!(folded.status, StatusCode::OK);
    assert_eq!(folded.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(folded.text(), "main 1\nmain;idle 5\nmain;work;hot 42\n");

    let request =
        Request::get(format!("/api/v1/profiles/{id}")).header("accept", "application/json");
    let json = send(&state, request.body(Body::empty()).unwrap()).await;
    let graph: FlameGraph = json.json();
    assert_eq!((graph.kind.as_str(), graph.title.as_str()), ("profile", "app.folded"));
    assert_eq!(graph.unit, "samples");
    assert_eq!((graph.root.name.as_str(), graph.root.total), ("all", 48.0));
    let main = child(&graph.root, "main");
    assert_eq!((main.self_value, main.total), (1.0, 48.0));
    let hot = child(child(main, "work"), "hot");
    assert_eq!((hot.self_value, hot.total), (42.0, 42.0));
    assert_eq!(child(main, "idle").self_value, 5.0);
    let same: FlameGraph = get(&state, &format!("/api/v1/profiles/{id}?format=json")).await.json();
    assert_eq!(same, graph);

    let svg = get(&state, &format!("/api/v1/profiles/{id}?format=svg")).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert_eq!(
        svg.headers["content-disposition"],
        format!("attachment; filename=\"profile-{id}.svg\"").as_str()
    );
    assert!(svg.text().contains("hot"));
    let png = get(&state, &format!("/api/v1/profiles/{id}?format=png")).await;
    assert_eq!(png.status, StatusCode::BAD_REQUEST);

    let list: Vec<ProfileSummary> = get(&state, "/api/v1/profiles").await.json();
    assert_eq!(list.len(), 1);
    let summary = &list[0];
    assert_eq!(
        (&summary.id, summary.source.as_str(), summary.name.as_str()),
        (&id, "folded", "app.folded")
    );
    assert_eq!((summary.stacks, summary.total, summary.unit.as_str()), (3, 48, "samples"));
}

#[tokio::test]
async fn a_pprof_is_known_by_its_content_gzipped_or_not() {
    let state = support::state();
    let body = small_pprof().encode_to_vec();
    for (body, content_type) in
        [(body.clone(), "text/plain"), (gzip(&body), "text/plain; charset=utf-8")]
    {
        let id = import(&state, "/api/v1/profiles", content_type, body).await;
        let folded = get(&state, &format!("/api/v1/profiles/{id}")).await;
        assert_eq!(folded.text(), "main;idle 2\nmain;work;hot 7\n");
    }
    // Folded stacks gzipped, sent as protobuf.
    let id = import(&state, "/api/v1/profiles", "application/x-protobuf", gzip(b"a;b 3\n")).await;
    assert_eq!(get(&state, &format!("/api/v1/profiles/{id}")).await.text(), "a;b 3\n");

    let list: Vec<ProfileSummary> = get(&state, "/api/v1/profiles").await.json();
    let sources: Vec<(&str, &str)> =
        list.iter().map(|p| (p.source.as_str(), p.name.as_str())).collect();
    assert_eq!(
        sources,
        [
            ("folded", "imported folded stacks"),
            ("pprof", "imported pprof"),
            ("pprof", "imported pprof")
        ]
    );
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_what_was_wrong() {
    let state = support::state();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let random: Vec<u8> = (0..10_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    let pprof = small_pprof().encode_to_vec();
    let mut dangling = small_pprof();
    dangling.location.push(Location {
        id: 7,
        line: vec![Line { function_id: 99, line: 1 }],
        ..Location::default()
    });
    let mut no_location = small_pprof();
    no_location.sample[0].location_id.push(12);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("random bytes", random, "neither folded stacks nor a pprof profile.proto"),
        (
            "a truncated pprof",
            pprof[..pprof.len() - 3].to_vec(),
            "neither folded stacks nor a pprof",
        ),
        (
            "a dangling function id",
            dangling.encode_to_vec(),
            "location 7 names function 99, which does not exist",
        ),
        (
            "a dangling location id",
            no_location.encode_to_vec(),
            "names location 12, which does not exist",
        ),
        (
            "a non-numeric count",
            b"main;work 10\nmain;idle many\n".to_vec(),
            "folded stacks, line 2: the count \"many\" is not a whole number",
        ),
        ("an empty body", Vec::new(), "the body is empty"),
        ("a damaged gzip", gzip(b"a;b 1\n")[..12].to_vec(), "the gzip body could not be inflated"),
    ];
    for (what, body, message) in cases {
        let answer = post(&state, "/api/v1/profiles", "application/octet-stream", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {}", answer.text());
        assert!(answer.error().contains(message), "{what}: {}", answer.error());
    }
    assert!(get(&state, "/api/v1/profiles").await.json::<Vec<ProfileSummary>>().is_empty());
}

#[tokio::test]
async fn oversized_profiles_are_refused_and_the_server_stays_up() {
    let state = support::state();
    // Over the body cap, and streamed without end: refused once the cap passes, never buffered.
    let endless = futures_util::stream::repeat_with(|| {
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 1 << 20]))
    });
    let request = Request::post("/api/v1/profiles").body(Body::from_stream(endless)).unwrap();
    let answer = send(&state, request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error(), "the profile is larger than the limit of 32 MiB");

    // A gzip bomb: 128 MiB of zeros in about 128 KiB.
    let bomb = gzip(&vec![0u8; 128 << 20]);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let answer = post(&state, "/api/v1/profiles", "application/gzip", bomb).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error(), "the gzip body inflates to more than the limit of 64 MiB");

    // Millions of empty pprof samples: 16 MiB that would decode into gigabytes.
    let empties = [0x12, 0x00].repeat(8 << 20);
    let answer = post(&state, "/api/v1/profiles", "application/octet-stream", empties).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.error().contains("more than the limit of 256 MiB to decode"),
        "{}",
        answer.error()
    );

    let many: String = (0..200_001).map(|i| format!("main;f{i} 1\n")).collect();
    let answer = post(&state, "/api/v1/profiles", "text/plain", many.into()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error(), "the profile has more than the limit of 200000 distinct stacks");

    let deep = format!("{} 1\n", vec!["f"; 1025].join(";"));
    let answer = post(&state, "/api/v1/profiles", "text/plain", deep.into()).await;
    assert_eq!(answer.error(), "a stack is deeper than the limit of 1024 frames");

    // Long names are cut, not refused.
    let long = format!("{} 1\n", "x".repeat(5000));
    let id = import(&state, "/api/v1/profiles", "text/plain", long.into()).await;
    let text = get(&state, &format!("/api/v1/profiles/{id}")).await.text();
    assert_eq!(text, format!("{} 1\n", "x".repeat(1024)));

    assert_eq!(get(&state, "/api/v1/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_profiles_are_404() {
    let state = support::state();
    let answer = get(&state, "/api/v1/profiles/0123456789abcdef").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error(), "no profile \"0123456789abcdef\" is kept");
}

#[tokio::test]
async fn the_list_is_newest_first_and_bounded() {
    let bounds = ProfileBounds { max_profiles: 3, max_bytes: u64::MAX };
    let store = SqliteStore::in_memory().unwrap().with_profile_bounds(bounds);
    let state = support::state_over(Arc::new(store), 4);
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = format!("main;step{i} {}\n", i + 1);
        ids.push(
            import(&state, &format!("/api/v1/profiles?name=p{i}"), "text/plain", body.into()).await,
        );
    }
    let list: Vec<ProfileSummary> = get(&state, "/api/v1/profiles").await.json();
    let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["p4", "p3", "p2"]);
    assert!(list.windows(2).all(|w| w[0].created_ns >= w[1].created_ns));
    let gone = get(&state, &format!("/api/v1/profiles/{}", ids[0])).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&state, &format!("/api/v1/profiles/{}", ids[4])).await.text(), "main;step4 5\n");
}

#[tokio::test]
async fn hostile_frame_names_stay_text_in_json_and_svg() {
    let state = support::state();
    let hostile = "<script>alert(1)</script>";
    let body = format!("main;{hostile};b&\"c' 5\nmain 1\n");
    let id =
        import(&state, "/api/v1/profiles?name=%3Cb%3Ex%3C%2Fb%3E", "text/plain", body.into()).await;
    let graph: FlameGraph = get(&state, &format!("/api/v1/profiles/{id}?format=json")).await.json();
    let script = child(child(&graph.root, "main"), hostile);
    assert_eq!(child(script, "b&\"c'").self_value, 5.0);
    assert_eq!(graph.title, "<b>x</b>");
    let svg = get(&state, &format!("/api/v1/profiles/{id}?format=svg")).await.text();
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{svg}");
    assert!(!svg.contains("<script>"), "no markup from names in the SVG");
    assert!(!svg.contains("<b>x"), "nor from the title");
}

#[tokio::test]
async fn profiles_need_the_api_key() {
    const KEY: &str = "profile-key";
    let state = support::state().with_api_key(ApiKey::new(Some(KEY.into())));
    let refused = post(&state, "/api/v1/profiles", "text/plain", b"a 1\n".to_vec()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&state, "/api/v1/profiles").await.status, StatusCode::UNAUTHORIZED);
    let cpu = post(&state, "/api/v1/profiles/cpu?seconds=1", "text/plain", Vec::new()).await;
    assert_eq!(cpu.status, StatusCode::UNAUTHORIZED);
    let keyed = Request::post("/api/v1/profiles")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::from("a 1\n"))
        .unwrap();
    assert_eq!(send(&state, keyed).await.status, StatusCode::CREATED);
    let list = Request::get("/api/v1/profiles").header("authorization", format!("Bearer {KEY}"));
    let listed: Vec<ProfileSummary> = send(&state, list.body(Body::empty()).unwrap()).await.json();
    assert_eq!(listed.len(), 1);
}

/// The widest profile allowed (every stack a sibling of the others) answers as JSON at once:
/// the tree is built from sorted stacks, so a frame's siblings are not searched from the first
/// (which took 200,000² / 2 comparisons).
#[tokio::test]
async fn the_widest_profile_answers_as_json() {
    let state = support::state();
    let wide: String = (0..199_999).map(|i| format!("main;f{i} 1\n")).collect();
    let id = import(&state, "/api/v1/profiles", "text/plain", wide.into()).await;
    let started = std::time::Instant::now();
    let graph: FlameGraph = get(&state, &format!("/api/v1/profiles/{id}?format=json")).await.json();
    let main = child(&graph.root, "main");
    assert_eq!((main.children.len(), main.total), (199_999, 199_999.0));
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

/// A profile kept before imports were counted (no `nodes`), too large to draw: its JSON and SVG
/// are refused with 413 (counting stops at the bound), its folded text still downloads, and
/// its page says why nothing is drawn. A stored count past the bound is refused uncounted.
#[tokio::test]
async fn a_kept_profile_too_large_to_draw_is_refused_not_drawn() {
    use otelscope_server::store::Store as _;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let deep = vec!["f"; 1_023].join(";");
    let text: String = (0..2_000).map(|s| format!("root{s};{deep} 1\n")).collect();
    let summary = |id: &str, nodes| ProfileSummary {
        id: id.into(),
        source: otelscope_app::model::ProfileSource::Folded,
        name: "old".into(),
        created_ns: 1,
        stacks: 2_000,
        total: 2_000,
        unit: "samples".into(),
        nodes,
        duration_ns: None,
    };
    store.put_profile(&summary("0000000000000001", None), &text).unwrap();
    store.put_profile(&summary("0000000000000002", Some(300_000)), "a 1\n").unwrap();
    let state = support::state_over(store, 4);
    for id in ["0000000000000001", "0000000000000002"] {
        for format in ["json", "svg"] {
            let answer = get(&state, &format!("/api/v1/profiles/{id}?format={format}")).await;
            assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{id} {format}");
            assert!(answer.error().contains("format=folded"), "{}", answer.error());
        }
    }
    let folded = get(&state, "/api/v1/profiles/0000000000000001?format=folded").await;
    assert_eq!((folded.status, folded.body.len()), (StatusCode::OK, text.len()));
    let page = get(&state, "/ssr/profile?id=0000000000000001").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Too large to draw"), "{}", page.text());
    assert!(page.text().contains("data-state=\"too-large\""));
}

#[tokio::test]
async fn a_deleted_profile_is_gone_from_the_list_and_its_address() {
    let state = support::state();
    let id = import(&state, "/api/v1/profiles", "text/plain", b"a;b 1\n".to_vec()).await;
    let delete = |id: String| Request::delete(format!("/api/v1/profiles/{id}"));
    let answer = send(&state, delete(id.clone()).body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(get(&state, "/api/v1/profiles").await.json::<Vec<ProfileSummary>>().is_empty());
    assert_eq!(get(&state, &format!("/api/v1/profiles/{id}")).await.status, StatusCode::NOT_FOUND);
    let again = send(&state, delete(id).body(Body::empty()).unwrap()).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.error().contains("no profile"));
}

/// Imports expanding past the tree's bounds are refused (413), saying which bound.
#[tokio::test]
async fn imports_past_the_tree_bounds_are_413() {
    let state = support::state();
    let deep = vec!["f"; 1_023].join(";");
    let text: String = (0..2_000).map(|s| format!("root{s};{deep} 1\n")).collect();
    let answer = post(&state, "/api/v1/profiles", "text/plain", gzip(text.as_bytes())).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.text());
    assert!(answer.error().contains("250000 frames"), "{}", answer.error());
}
