//! `otelscope serve --demo` end to end: against a `redis-server` the test starts, the cache
//! and retry views fill up from the demo's real OTLP (L1 and L2 hit rates strictly between 0
//! and 1, resends, give-ups, circuit-open rejections), Redis really holds the keys, and the
//! demo goes on when that Redis goes away; without
//! `--demo-redis` a private `redis-server` is started and never outlives otelscope (SIGTERM or
//! SIGKILL), listens on no TCP port and answers nobody without its password; without a
//! `redis-server` 7 on `PATH` the L2 is in-process; with `--api-key` the demo's exports carry
//! the key; `http.server.request.duration` carries exemplars whose dots on the metric page open
//! the traces of those requests.

use std::time::Duration;

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use otelscope_e2e::demo::{demo_retries, wait_for_demo_data, DemoRun, FAST_DEMO};
use otelscope_e2e::{eventually, Server};

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
    let what = "the demo goes on (100 more catalog spans) when Redis went away";
    eventually(what, Duration::from_secs(30), async || {
        let now = catalog_spans(&server).await;
        if now > before + 100 {
            Ok(())
        } else {
            Err(format!("{now} catalog spans, {before} before"))
        }
    })
    .await;
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
        let server_pid = server.child.id().unwrap();
        let redis_pid = child_named(server_pid, "redis-server").expect("redis-server child");
        let socket = unix_listener(redis_pid).expect("the private redis-server's unix socket");
        assert!(redis_reply(&socket, "PING").is_ok(), "nothing answers on {}", socket.display());

        let status = std::process::Command::new("kill")
            .args([signal, &server_pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(15), server.child.wait())
            .await
            .expect("otelscope exits")
            .unwrap();
        let what = format!("redis-server {redis_pid} is gone with otelscope ({signal})");
        eventually(&what, Duration::from_secs(5), async || match running(redis_pid) {
            true => Err("still running"),
            false => Ok(()),
        })
        .await;
        let after = redis_reply(&socket, "PING");
        assert!(after.is_err(), "{} still answers after {signal}: {after:?}", socket.display());
    }
}

/// Issue 21: the private `redis-server` listened on a loopback TCP port with no password, so
/// any local user could read and poison the cache and `CONFIG SET` it (on Redis 6, a path to
/// running code as otelscope's user). Now: no TCP port, a unix socket in a 0700 directory,
/// and even a client that reaches the socket gets nothing without the password.
#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_cannot_use_the_private_redis() {
    let server = Server::start_with(&["--in-memory", "--demo"]).await;
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["demo"]["l2"], "redis", "{health}");
    let redis_pid = child_named(server.child.id().unwrap(), "redis-server").expect("redis child");

    let tcp = tcp_listeners(redis_pid);
    assert!(
        tcp.is_empty(),
        "the private redis-server listens on TCP {tcp:?}: any local user can connect"
    );
    let socket = unix_listener(redis_pid).expect("the private redis-server's unix socket");
    let detail = health["demo"]["l2_detail"].as_str().unwrap();
    assert!(detail.contains(socket.to_str().unwrap()), "{detail}");
    let dir = socket.parent().unwrap();
    assert_eq!(mode(dir), 0o700, "{} lets others in", dir.display());
    assert_eq!(mode(&socket) & 0o077, 0, "{} is open to others", socket.display());

    // Past the directory (this test is its owner), nothing works without the password, and
    // CONFIG is not there at all.
    for command in
        ["PING", "GET catalog:product:1", "SET catalog:product:1 x", "MODULE LIST", "KEYS *"]
    {
        let reply = redis_reply(&socket, command).unwrap();
        assert!(reply.starts_with("-NOAUTH"), "{command} answered {reply:?} without a password");
    }
    for command in ["CONFIG GET dir", "CONFIG SET dir /tmp"] {
        let reply = redis_reply(&socket, command).unwrap();
        assert!(reply.starts_with("-ERR unknown command"), "{command} answered {reply:?}");
    }
}

/// A `redis-server` older than 7 cannot switch CONFIG, MODULE and DEBUG off: it is not started,
/// and health says why the L2 is in-process.
#[tokio::test(flavor = "multi_thread")]
async fn a_redis_server_older_than_7_is_not_started() {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = otelscope_e2e::browser::TempDir::new();
    let fake = bin.0.join("redis-server");
    let script =
        "#!/bin/sh\necho 'Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64'\n\
                  [ \"$1\" = --version ] && exit 0\nexec sleep 60\n";
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.0.display());
    let server =
        Server::start_with_env(&["--in-memory", "--demo"], &[("PATH", path.as_str())]).await;
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["demo"]["l2"], "in-process", "{health}");
    let detail = health["demo"]["l2_detail"].as_str().unwrap();
    assert!(detail.contains("6.0.16 is older than 7.0"), "{detail}");
    assert!(child_named(server.child.id().unwrap(), "redis-server").is_none());
    assert!(child_named(server.child.id().unwrap(), "sleep").is_none(), "it was started");
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
    eventually("the demo's spans got in", Duration::from_secs(30), async || {
        let services = server.get_json("/api/v1/services").await;
        let names = service_names(&services);
        match names.contains(&"catalog-api") && names.contains(&"pricing-upstream") {
            true => Ok(()),
            false => Err(format!("services {names:?}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demos_request_durations_carry_exemplars_that_open_their_traces() {
    let flags = [&["--in-memory", "--demo"], FAST_DEMO].concat();
    let server = Server::start_with(&flags).await;
    let path = "/api/v1/metrics/http.server.request.duration/series?since=10m&agg=p99";
    let trace_id =
        eventually("exemplars with a stored trace", Duration::from_secs(45), async || {
            let Some(answer) = json_if_found(&server, path).await else {
                return Err("no such metric yet".to_owned());
            };
            let exemplars = answer["exemplars"].as_array().cloned().unwrap_or_default();
            let Some(first) = exemplars.iter().find(|e| e["trace_id"].is_string()) else {
                return Err(format!("no exemplars yet: {answer}"));
            };
            let id = first["trace_id"].as_str().unwrap().to_owned();
            assert_eq!(id.len(), 32, "{first}");
            assert_eq!(first["span_id"].as_str().map(str::len), Some(16), "{first}");
            assert!(first["value"].as_f64().is_some_and(|v| v > 0.0), "{first}");
            // The exemplar's span is the request's server span, in a trace that is stored.
            let Some(trace) = json_if_found(&server, &format!("/api/v1/traces/{id}")).await else {
                return Err(format!("trace {id} is not stored yet"));
            };
            let spans = trace["spans"].as_array().cloned().unwrap_or_default();
            let span_id = first["span_id"].as_str().unwrap();
            match spans.iter().find(|s| s["span_id"] == span_id) {
                Some(span) => {
                    assert_eq!(span["name"], "GET /products/{id}", "{span}");
                    Ok(id)
                }
                None => Err(format!("trace {id} has no span {span_id} yet")),
            }
        })
        .await;
    // The metric's static page draws the dots as links to their traces (once a dot falls
    // inside the chart's steps).
    let ssr = "/ssr/metrics/http.server.request.duration?since=10m&agg=p99";
    eventually("exemplar dots on the page", Duration::from_secs(30), async || {
        let page = server.get_text(ssr).await;
        let dots = page.matches("class=\"exemplar\"").count();
        match dots > 0 && page.contains("href=\"/traces/") {
            true => Ok(()),
            false => Err(format!("{dots} exemplar dots (first trace {trace_id})")),
        }
    })
    .await;
    // One series per status, and only the demo's own: the SDK's histogram is not there too.
    let catalog = server.get_json("/api/v1/metrics?q=http.server.request.duration").await;
    let metrics = catalog["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 1, "{catalog}");
    assert_eq!(metrics[0]["kind"], "histogram");
    assert_eq!(metrics[0]["services"], serde_json::json!(["catalog-api"]));
}

/// The JSON answer of `path`, or `None` on a 404 (not there yet).
async fn json_if_found(server: &Server, path: &str) -> Option<serde_json::Value> {
    let response = reqwest::get(server.url(path)).await.expect("GET");
    if response.status() == 404 {
        return None;
    }
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    Some(serde_json::from_str(&response.text().await.expect("body")).expect("JSON"))
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

/// The socket inodes process `pid` holds open.
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let text = target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned();
            text.parse().ok()
        })
        .collect()
}

/// The local addresses of TCP sockets in LISTEN state that process `pid` holds.
fn tcp_listeners(pid: u32) -> Vec<String> {
    let inodes = socket_inodes(pid);
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let inode: u64 = fields.get(9)?.parse().ok()?;
                    (fields.get(3) == Some(&"0A") && inodes.contains(&inode))
                        .then(|| fields[1].to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The path of a unix socket that process `pid` holds (its listening socket).
fn unix_listener(pid: u32) -> Option<PathBuf> {
    let inodes = socket_inodes(pid);
    let table = std::fs::read_to_string("/proc/net/unix").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let inode: u64 = fields.get(6)?.parse().ok()?;
        let path = fields.get(7)?;
        (inodes.contains(&inode) && path.starts_with('/')).then(|| PathBuf::from(path))
    })
}

/// The first line of Redis's reply to `command` (inline form) on `socket`.
fn redis_reply(socket: &Path, command: &str) -> std::io::Result<String> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(format!("{command}\r\n").as_bytes())?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") && reply.len() < 4096 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        reply.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&reply).trim_end().to_owned())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o777)
}
