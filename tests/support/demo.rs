//! The demo workload end to end: a `redis-server` the test starts itself, an `otelscope serve
//! --demo` against it, and a wait (polling with a deadline) until the cache and retry views
//! have everything to show. Reused by the UI tests of the Cache and Retries pages.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::browser::TempDir;
use crate::{eventually, eventually_every, Server};

/// Demo flags that produce every cache and retry shape within seconds: 40 requests a second,
/// a fifth of upstream answers failing, and a 2 s outage every 6 s (circuit-open rejections).
pub const FAST_DEMO: &[&str] = &[
    "--demo-rate",
    "40",
    "--demo-upstream-error-rate",
    "0.2",
    "--demo-upstream-outage-every",
    "6s",
    "--demo-upstream-outage-for",
    "2s",
];

/// Longest wait for the demo's data to show.
pub const DEMO_DATA: Duration = Duration::from_secs(45);

/// A `redis-server` on a free loopback port, without persistence; killed when dropped.
pub struct TestRedis {
    pub port: u16,
    /// `redis://127.0.0.1:PORT/`.
    pub url: String,
    child: Child,
    _dir: TempDir,
}

impl TestRedis {
    /// Starts `redis-server` (installed by `scripts/setup.sh`) and waits until it answers.
    pub async fn start() -> TestRedis {
        let dir = TempDir::new();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--logfile", ""])
            .arg("--dir")
            .arg(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}): run scripts/setup.sh, which installs it")
            });
        let redis = TestRedis { port, url: format!("redis://127.0.0.1:{port}/"), child, _dir: dir };
        eventually("redis-server answers PING", Duration::from_secs(10), async || {
            match answers_ping(&redis.url).await {
                true => Ok(()),
                false => Err("no PONG"),
            }
        })
        .await;
        redis
    }

    /// Keys in the database (`DBSIZE`).
    pub async fn dbsize(&self) -> i64 {
        let client = redis::Client::open(self.url.as_str()).expect("redis url");
        let mut conn = client.get_multiplexed_async_connection().await.expect("connect to redis");
        redis::cmd("DBSIZE").query_async(&mut conn).await.expect("DBSIZE")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// Whether a Redis at `url` answers `PING` within half a second.
pub async fn answers_ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else { return false };
    let connect = client.get_multiplexed_async_connection();
    let Ok(Ok(mut conn)) = tokio::time::timeout(Duration::from_millis(500), connect).await else {
        return false;
    };
    matches!(redis::cmd("PING").query_async::<String>(&mut conn).await, Ok(p) if p == "PONG")
}

/// A demo-running server over a test-started Redis, with its data in.
pub struct DemoRun {
    pub server: Server,
    pub redis: TestRedis,
    /// `/api/v1/cache` and `/api/v1/retries` as they were when everything showed.
    pub cache: Value,
    pub retries: Value,
}

impl DemoRun {
    /// Starts Redis and `otelscope serve --demo --demo-redis … --in-memory` with
    /// [`FAST_DEMO`] and `extra` flags, then waits until the cache and retry views have data
    /// (see [`wait_for_demo_data`]).
    pub async fn start(extra: &[&str]) -> DemoRun {
        let redis = TestRedis::start().await;
        let flags =
            [&["--in-memory", "--demo", "--demo-redis", redis.url.as_str()], FAST_DEMO, extra]
                .concat();
        let server = Server::start_with(&flags).await;
        let (cache, retries) = wait_for_demo_data(&server).await;
        DemoRun { server, redis, cache, retries }
    }
}

/// Polls the cache and retry answers until L1 and L2 hit rates (from spans and from metrics)
/// are strictly between 0 and 1 and `fetch price` shows resends, give-ups and circuit-open
/// rejections; panics with the last answers after [`DEMO_DATA`].
pub async fn wait_for_demo_data(server: &Server) -> (Value, Value) {
    eventually("the demo's cache and retry data are in", DEMO_DATA, async || {
        let cache = server.get_json("/api/v1/cache?since=15m").await;
        let retries = server.get_json("/api/v1/retries?since=15m").await;
        let missing = missing_demo_data(&cache, &retries);
        match missing.is_empty() {
            true => Ok((cache, retries)),
            false => Err(format!("missing {missing:?}\ncache: {cache}\nretries: {retries}")),
        }
    })
    .await
}

/// What the demo's answers still lack (empty: everything is there).
pub fn missing_demo_data(cache: &Value, retries: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    for layer in ["l1", "l2"] {
        for source in ["spans", "metrics"] {
            let rate = demo_cache(cache, layer, source).and_then(|c| c["hit_rate"].as_f64());
            if !rate.is_some_and(|r| r > 0.0 && r < 1.0) {
                missing.push(format!(
                    "{layer} hit rate from {source} strictly between 0 and 1 (is {rate:?})"
                ));
            }
        }
    }
    let op = demo_retries(retries);
    for field in ["resends", "give_ups", "circuit_open"] {
        if op.and_then(|o| o[field].as_u64()).unwrap_or(0) == 0 {
            missing.push(format!("fetch price {field} > 0"));
        }
    }
    missing
}

/// The demo's `catalog` cache entry of `layer` from `source` in a `/api/v1/cache` answer.
pub fn demo_cache<'a>(cache: &'a Value, layer: &str, source: &str) -> Option<&'a Value> {
    cache["caches"].as_array()?.iter().find(|c| {
        c["service"] == "catalog-api"
            && c["name"] == "catalog"
            && c["layer"] == layer
            && c["source"] == source
    })
}

/// The demo's `fetch price` operation in a `/api/v1/retries` answer.
pub fn demo_retries(retries: &Value) -> Option<&Value> {
    retries["operations"]
        .as_array()?
        .iter()
        .find(|o| o["service"] == "catalog-api" && o["name"] == "fetch price")
}

/// A closed range of the demo's past (`since=…&until=…`, Unix ns) whose answers no longer
/// change, with those answers: the demo keeps running, so pages are compared with the API over
/// a range that has stopped filling.
///
/// `until` ends the 10 s rollup bucket after the current one (answers cover whole buckets, and
/// the range holds all the data the demo has shown so far), and the answers count as settled
/// once two reads 3 s apart agree at least 12 s after it (spans are exported every 5 s, after
/// their call ends; a call with its retries takes a few seconds). Panics after [`DEMO_DATA`].
pub async fn settled_range(server: &Server) -> (String, Value, Value) {
    const BUCKET_NS: u64 = 10_000_000_000;
    let now = now_ns();
    let until = now - now % BUCKET_NS + 2 * BUCKET_NS - 1;
    let range = format!("since={}&until={until}", until - 15 * 60 * 1_000_000_000);
    let mut last: Option<(Value, Value)> = None;
    let what = format!("{range} settles");
    let (cache, retries) = eventually_every(&what, DEMO_DATA, Duration::from_secs(3), async || {
        let cache = server.get_json(&format!("/api/v1/cache?{range}")).await;
        let retries = server.get_json(&format!("/api/v1/retries?{range}")).await;
        let old_enough = now_ns() > until + 12_000_000_000;
        if old_enough && last.as_ref() == Some(&(cache.clone(), retries.clone())) {
            return Ok((cache, retries));
        }
        let seen = cache.to_string();
        last = Some((cache, retries));
        Err(seen)
    })
    .await;
    assert!(
        missing_demo_data(&cache, &retries).is_empty(),
        "the settled range lacks demo data: {:?}",
        missing_demo_data(&cache, &retries)
    );
    (range, cache, retries)
}

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}
