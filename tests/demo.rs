//! `otelscope serve --demo` end to end: against a `redis-server` the test starts, the cache
//! and retry views fill up from the demo's real OTLP (L1 and L2 hit rates strictly between 0
//! and 1, resends, give-ups, circuit-open rejections), Redis really holds the keys, and the
//! demo goes on when that Redis goes away; without
//! `--demo-redis` a private `redis-server` is started and never outlives otelscope (SIGTERM or
//! SIGKILL); without `redis-server` on `PATH` the L2 is in-process; with `--api-key` the demo's
//! exports carry the key.

use std::time::Duration;

use otelscope_e2e::demo::{answers_ping, demo_retries, wait_for_demo_data, DemoRun, FAST_DEMO};
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_fills_the_cache_and_retry_views_through_a_real_redis() {
    let run = DemoRun::start(&[]).await;
    // The L2 really is that Redis: the demo wrote the catalog entries there.
    assert!(run.redis.dbsize().await > 0, "no keys in the test's Redis");
    let health = run.server.get_json("/api/v1/health").await;
    assert_eq!(health["demo"]["l2"], "redis", "{health}");
    let detail = health["demo"]["l2_detail"].as_str().unwrap();
    assert!(detail.contains(&format!("127.0.0.1:{}", run.redis.port)), "{detail}");
    // Both services of the demo, joined in traces by traceparent.
    let services = run.server.get_json("/api/v1/services").await;
    let names = service_names(&services);
    assert!(names.contains(&"catalog-api") && names.contains(&"pricing-upstream"), "{names:?}");
    // Backoff delays were reported with the retry events.
    let op = demo_retries(&run.retries).unwrap();
    assert!(op["delay_p50_ns"].as_u64().is_some(), "{op}");
    assert!(op["retried_calls"].as_u64().unwrap() > 0, "{op}");

    // Redis going away takes nothing down: the demo goes on (L2 errors count as misses).
    let DemoRun { server, redis, .. } = run;
    drop(redis);
    let before = catalog_spans(&server).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while catalog_spans(&server).await <= before + 100 {
        assert!(tokio::time::Instant::now() < deadline, "the demo stopped when Redis went away");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(server.get_json("/api/v1/health").await["status"], "ok");
}

async fn catalog_spans(server: &Server) -> u64 {
    let services = server.get_json("/api/v1/services").await;
    services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "catalog-api")
        .and_then(|s| s["span_count"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_redis_server_never_outlives_otelscope() {
    for signal in ["-TERM", "-KILL"] {
        let mut server = Server::start_with(&["--in-memory", "--demo"]).await;
        let health = server.get_json("/api/v1/health").await;
        assert_eq!(health["demo"]["l2"], "redis", "{health}");
        let detail = health["demo"]["l2_detail"].as_str().unwrap();
        assert!(detail.contains("private redis-server"), "{detail}");
        let addr = detail.split_whitespace().find(|w| w.starts_with("127.0.0.1:")).unwrap();
        let url = format!("redis://{}/", addr.trim_end_matches([',', '.']));
        assert!(answers_ping(&url).await, "the private redis-server at {url} does not answer");
        let server_pid = server.child.id().unwrap();
        let redis_pid = child_named(server_pid, "redis-server").expect("redis-server child");

        let status = std::process::Command::new("kill")
            .args([signal, &server_pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(15), server.child.wait())
            .await
            .expect("otelscope exits")
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while running(redis_pid) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server {redis_pid} outlived otelscope ({signal})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!answers_ping(&url).await, "something still answers at {url} after {signal}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_server_on_path_the_l2_is_in_process() {
    let empty = otelscope_e2e::browser::TempDir::new();
    let path = empty.0.to_str().unwrap();
    let flags = [&["--in-memory", "--demo"], FAST_DEMO].concat();
    let server = Server::start_with_env(&flags, &[("PATH", path)]).await;
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["demo"]["l2"], "in-process", "{health}");
    let detail = health["demo"]["l2_detail"].as_str().unwrap();
    assert!(detail.contains("redis-server is not installed"), "{detail}");
    assert!(child_named(server.child.id().unwrap(), "redis-server").is_none());
    // The in-process tier is a cache all the same: L2 hits and misses, and the retry shapes.
    wait_for_demo_data(&server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_an_api_key_the_demo_sends_it() {
    let server =
        Server::start_with(&["--in-memory", "--demo", "--api-key", "demo-key-0123456789abcdef"])
            .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let services = server.get_json("/api/v1/services").await;
        let names = service_names(&services);
        if names.contains(&"catalog-api") && names.contains(&"pricing-upstream") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no demo spans got in: {names:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The service names of a `/api/v1/services` answer.
fn service_names(services: &serde_json::Value) -> Vec<&str> {
    services["services"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect()
}

/// A child process of `parent` whose command name is `name`, from `/proc`.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.filter_map(Result::ok).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent && comm == name).then_some(pid)
    })
}

/// Whether process `pid` exists and is not a zombie waiting to be reaped.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()) != Some('Z'),
        Err(_) => false,
    }
}
