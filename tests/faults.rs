//! Load and faults against the real binary: twice what the server can take (it refuses the
//! rest with Retry-After, keeps answering queries, and stores every span it acknowledged), and
//! a disk that fills up and then frees (503 while full, nothing acknowledged lost, recovery
//! without a restart).

use std::path::{Path, PathBuf};
use std::time::Duration;

use otelscope_e2e::browser::TempDir;
use otelscope_e2e::load::{self, Load, Report};
use otelscope_e2e::{otlp_traces, peak_rss_mib, Server};

#[tokio::test(flavor = "multi_thread")]
async fn overload_is_refused_with_retry_after_and_every_acknowledged_span_is_stored() {
    let data = TempDir::new();
    let dir = data.0.to_str().unwrap();
    // A small queue and memory budget, so a few seconds of load are well past capacity.
    let server =
        Server::start_with(&["--data-dir", dir, "--ingest-queue", "2", "--ingest-memory", "24MiB"])
            .await;
    let pid = server.child.id().unwrap();
    let report = load::run(
        &server,
        Load {
            requests_per_second: 500.0,
            duration: Duration::from_secs(4),
            spans_per_request: 512,
            max_in_flight: 256,
        },
    )
    .await;
    eprintln!(
        "overload: {} sent, {} refused, {} failed, {} spans acknowledged; trace search p99 {:.1} ms, page p99 {:.1} ms, peak RSS {} MiB",
        report.sent,
        report.refused,
        report.failed,
        report.acknowledged_spans,
        Report::percentile_ms(&report.query_times, 0.99),
        Report::percentile_ms(&report.page_times, 0.99),
        peak_rss_mib(pid)
    );
    assert!(report.refused > 0, "the load must be past capacity: {report:?}");
    assert!(report.acknowledged_spans > 0, "{report:?}");
    assert_eq!((report.failed, report.refused_without_retry_after), (0, 0), "{report:?}");
    assert_eq!(report.failed_queries, 0, "the API and pages answer under load");
    assert!(report.query_times.len() > 10, "{} queries", report.query_times.len());
    assert!(peak_rss_mib(pid) < 400, "peak RSS {} MiB", peak_rss_mib(pid));
    let stored = load::stored_spans(&server).await;
    assert_eq!(stored, report.acknowledged_spans, "every acknowledged span is stored");
}

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(name: &str, size: &str) -> SmallDisk {
        let path = std::env::temp_dir().join(format!("otelscope-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting a tmpfs needs root (as `make test` runs in CI)");
        SmallDisk { path }
    }

    fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .status()
            .expect("run mount");
        assert!(status.success());
    }

    /// Remounts read-only. The kernel says "busy" while any process holds a file there open
    /// for writing, which a test running alongside can do for a moment (a descriptor inherited
    /// between fork and exec), so a refusal is retried for up to two seconds.
    fn remount_read_only(&self) {
        for _ in 0..40 {
            let status = std::process::Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(&self.path)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run mount");
            if status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} stayed busy", self.path.display());
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn trace_hex(n: u64) -> String {
    format!("{n:016x}{:016x}", 0x10adu64)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_503_loses_nothing_acknowledged_and_recovers_by_itself() {
    let disk = SmallDisk::mount("full-disk", "3m");
    let server = Server::start_with(&["--data-dir", disk.path().to_str().unwrap()]).await;
    let post = |n: u64| {
        server.post_traces("application/x-protobuf", otlp_traces("disk", load::batch(n, 40)))
    };
    let (mut acknowledged, mut refused) = (Vec::new(), 0);
    for n in 1..=400u64 {
        match post(n).await {
            200 => acknowledged.push(n),
            503 => {
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
            other => panic!("batch {n}: status {other}"),
        }
    }
    assert!(refused == 3, "the disk filled up ({} batches taken)", acknowledged.len());
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(health["writer"].as_str().unwrap().contains("full"), "{health}");
    for n in &acknowledged {
        let trace = server.get_json(&format!("/api/v1/traces/{}", trace_hex(*n))).await;
        assert_eq!(trace["spans"].as_array().unwrap().len(), 40, "acknowledged batch {n}");
    }
    // Space comes back: the server takes data again without a restart.
    disk.resize("64m");
    assert_eq!(post(10_000).await, 200);
    let health = server.get_json("/api/v1/health").await;
    assert_eq!((health["status"].as_str(), health["writer"].as_str()), (Some("ok"), Some("ok")));
    let services = server.get_json("/api/v1/services").await;
    assert_eq!(
        services["services"][0]["span_count"].as_u64().unwrap(),
        (acknowledged.len() as u64 + 1) * 40
    );
}

/// Runs `otelscope serve` on `data_dir` expecting it to refuse; returns its stderr.
async fn refused_start(data_dir: &Path) -> String {
    let run = tokio::process::Command::new(otelscope_e2e::otelscope_bin())
        .args(["serve", "--data-dir", data_dir.to_str().unwrap(), "--ui-listen", "127.0.0.1:0"])
        .args(["--otlp-http-listen", "127.0.0.1:0", "--otlp-grpc-listen", "127.0.0.1:0"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_and_impossible_data_dirs_are_refused_clearly_and_left_alone() {
    let disk = SmallDisk::mount("read-only", "16m");
    {
        let server = Server::start_with(&["--data-dir", disk.path().to_str().unwrap()]).await;
        assert_eq!(
            server
                .post_traces("application/x-protobuf", otlp_traces("ro", load::batch(7, 5)))
                .await,
            200
        );
    }
    let db = disk.path().join("otelscope.db");
    let before = std::fs::read(&db).unwrap();
    disk.remount_read_only();
    let stderr = refused_start(disk.path()).await;
    assert!(stderr.contains("Read-only file system") || stderr.contains("read-only"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "left as it was");

    // A data directory that cannot exist: its parent is a file.
    let file = TempDir::new();
    let parent = file.0.join("a-file");
    std::fs::write(&parent, b"not a directory").unwrap();
    let stderr = refused_start(&parent.join("store")).await;
    assert!(stderr.contains("cannot create the data directory"), "{stderr}");
}
