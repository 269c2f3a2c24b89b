//! Real profilers: a pprof the `pprof` crate takes of a busy function here, imported (gzipped
//! and not) shows that function heaviest; and `POST /api/v1/profiles/cpu` profiles the server's
//! own process, keeps the result and refuses a second one meanwhile. Its own test binary: the
//! profiler is process-wide (`SIGPROF`), and these tests take turns at it.

mod support;

use std::io::Write as _;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{FlameGraph, FlameNode, ProfileCreated, ProfileSummary};
use otelscope_server::{router, AppState};
use pprof::protos::Message as _;
use tower::ServiceExt;

/// One test at a time holds the process's profiler.
static PROFILER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Real work: `rounds` million steps of an xorshift chain (about a millisecond each), counted
/// rather than timed, so a loaded machine makes it slower but not fewer samples (the profiler
/// samples CPU time, not wall time). Never inlined, so samples land in `burn_cpu` itself.
#[inline(never)]
fn burn_cpu(rounds: u64) -> u64 {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..rounds {
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = std::hint::black_box(x);
        }
    }
    x
}

/// [`burn_cpu`] until `for_how_long` has passed, the clock read rarely so samples land there,
/// not in the vDSO (whose samples pprof is told to skip).
fn burn_for(for_how_long: Duration) {
    let start = Instant::now();
    while start.elapsed() < for_how_long {
        std::hint::black_box(burn_cpu(1));
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn send(state: AppState, request: Request<Body>) -> Answer {
    let response = router(state).oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, headers, body }
}

/// A `POST` without a body (taking a CPU profile).
fn post_empty(uri: &str) -> Request<Body> {
    Request::post(uri).body(Body::empty()).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// The frame with the largest self value.
fn heaviest(node: &FlameNode) -> &FlameNode {
    node.children.iter().map(heaviest).fold(node, |best, n| {
        if n.self_value > best.self_value {
            n
        } else {
            best
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_pprof_shows_its_busy_function_heaviest() {
    let _turn = PROFILER.lock().await;
    let pprof = tokio::task::spawn_blocking(|| {
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(499)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .unwrap();
        std::hint::black_box(burn_cpu(1_000));
        let report = guard.report().build().unwrap();
        report.pprof().unwrap().encode_to_vec()
    })
    .await
    .unwrap();
    let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzipped.write_all(&pprof).unwrap();
    let gzipped = gzipped.finish().unwrap();

    let state = support::state();
    for (body, content_type) in [(pprof, "text/plain"), (gzipped, "application/octet-stream")] {
        let request = Request::post("/api/v1/profiles?name=busy.pb")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let created = send(state.clone(), request).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&created.body)
        );
        let ProfileCreated { id } = serde_json::from_slice(&created.body).unwrap();
        let json = send(state.clone(), get(&format!("/api/v1/profiles/{id}?format=json"))).await;
        let graph: FlameGraph = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(graph.unit, "samples");
        let top = heaviest(&graph.root);
        assert!(
            top.name.contains("burn_cpu"),
            "heaviest frame {:?} of {:#?}",
            top.name,
            graph.root
        );
        assert!(
            top.self_value >= graph.root.total / 2.0,
            "{} of {}",
            top.self_value,
            graph.root.total
        );
    }
    let list: Vec<ProfileSummary> =
        serde_json::from_slice(&send(state, get("/api/v1/profiles")).await.body).unwrap();
    assert!(list
        .iter()
        .all(|p| p.source.as_str() == "pprof" && p.name == "busy.pb" && p.total > 100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_profiles_itself_one_profile_at_a_time() {
    let _turn = PROFILER.lock().await;
    let state = support::state();
    let busy = std::thread::spawn(|| burn_for(Duration::from_millis(1_500)));
    let first = tokio::spawn(send(state.clone(), post_empty("/api/v1/profiles/cpu?seconds=1")));
    let second = tokio::spawn(send(state.clone(), post_empty("/api/v1/profiles/cpu?seconds=1")));
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    busy.join().unwrap();
    // Whichever came second was refused while the other sampled.
    let (done, refused) =
        if first.status == StatusCode::OK { (first, second) } else { (second, first) };
    assert_eq!(done.status, StatusCode::OK, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let error: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(error["error"], "a CPU profile is already being taken; try again when it is done");

    assert_eq!(done.headers["content-type"], "text/plain; charset=utf-8");
    let text = String::from_utf8(done.body.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty(), "no stacks");
    for line in &lines {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        assert!(!stack.is_empty() && count.parse::<u64>().unwrap() > 0, "{line}");
    }
    assert!(text.contains("burn_cpu"), "the busy thread was sampled:\n{text}");

    let id = done.headers["x-profile-id"].to_str().unwrap().to_owned();
    assert_eq!(done.headers["content-location"], format!("/api/v1/profiles/{id}").as_str());
    let list: Vec<ProfileSummary> =
        serde_json::from_slice(&send(state.clone(), get("/api/v1/profiles")).await.body).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].id.as_str(), list[0].source.as_str()), (id.as_str(), "cpu"));
    // Named with the time it was taken, so several are told apart; it ran for its second.
    assert!(
        list[0].name.starts_with("otelscope CPU, 1 s, ") && list[0].name.ends_with(" UTC"),
        "{}",
        list[0].name
    );
    assert_eq!(list[0].duration_ns, Some(1_000_000_000));
    assert_eq!(list[0].stacks, lines.len() as u64);
    let kept = send(state.clone(), get(&format!("/api/v1/profiles/{id}"))).await;
    assert_eq!(kept.body, done.body);

    // The profiler is free again; bad durations are refused before it starts.
    for bad in ["0", "61", "x"] {
        let answer =
            send(state.clone(), post_empty(&format!("/api/v1/profiles/cpu?seconds={bad}"))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let json = Request::post("/api/v1/profiles/cpu?seconds=1").header("accept", "application/json");
    let answer = send(state, json.body(Body::empty()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let graph: FlameGraph = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(graph.kind.as_str(), "profile");
    assert!(graph.title.starts_with("otelscope CPU, 1 s, "), "{}", graph.title);
}
