//! The demo workload's cost (`make bench`): runs `serve --demo --in-memory` at the default
//! rate for `DEMO_CPU_SECONDS` (60) and, in the same run, the same server without `--demo`,
//! and prints each one's CPU share of one core (utime + stime from /proc over wall time; the
//! private redis-server's share apart). Prints figures; asserts nothing.

use std::time::{Duration, Instant};

use otelscope_e2e::{cpu_seconds, Server};

/// CPU seconds of `server`, and of its private redis-server child, over `seconds` of wall time.
async fn measure(server: &Server, seconds: u64) -> (f64, f64, f64) {
    let pid = server.child.id().expect("server pid");
    let redis = redis_child(pid);
    // The first seconds are start-up (seeding the catalog, starting Redis): not measured.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (cpu0, redis0, t0) = (cpu_seconds(pid), redis.map_or(0.0, cpu_seconds), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let wall = t0.elapsed().as_secs_f64();
    let redis_cpu = redis.map_or(0.0, cpu_seconds) - redis0;
    (cpu_seconds(pid) - cpu0, redis_cpu, wall)
}

fn redis_child(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.filter_map(Result::ok).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent && comm == "redis-server").then_some(pid)
    })
}

#[tokio::main]
async fn main() {
    let seconds: u64 =
        std::env::var("DEMO_CPU_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let demo = Server::start_with(&["--in-memory", "--demo"]).await;
    let (cpu, redis, wall) = measure(&demo, seconds).await;
    let spans = demo.get_json("/api/v1/services").await;
    let spans: u64 = spans["services"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["span_count"].as_u64()).sum())
        .unwrap_or(0);
    drop(demo);
    let idle = Server::start_with(&["--in-memory"]).await;
    let (idle_cpu, _, idle_wall) = measure(&idle, seconds).await;
    drop(idle);
    println!(
        "demo_cpu: serve --demo (default rate) {:.2}% of a core over {wall:.0} s \
         (private redis-server {:.2}%; {spans} spans stored); serve without --demo {:.2}%; \
         the demo's own share {:.2}% (goal <= 5%)",
        100.0 * cpu / wall,
        100.0 * redis / wall,
        100.0 * idle_cpu / idle_wall,
        100.0 * (cpu / wall - idle_cpu / idle_wall),
    );
}
