//! What the server's benches share: the real binary started on ports the OS picks, the clock, percentiles.
// Each bench uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `otelscope serve`, killed when dropped.
pub struct Server {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:port` of the UI (and query API) and of the OTLP/HTTP receiver.
    pub ui: String,
    pub otlp: String,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the server runs")
    }
}

/// Starts `bin serve` on `data_dir` with loopback ports the OS picks, at most 10M spans kept,
/// warnings only, and the `extra` flags; returns once it prints where it listens.
/// `BENCH_SERVER_BIN` runs another binary instead (a build of main, for a before figure from
/// the same run and machine load).
pub async fn start_server(bin: &str, data_dir: &Path, extra: &[&str]) -> Server {
    let bin = std::env::var("BENCH_SERVER_BIN").unwrap_or_else(|_| bin.to_owned());
    let mut child = tokio::process::Command::new(&bin)
        .args(["serve", "--data-dir", data_dir.to_str().unwrap(), "--retention-spans", "10000000"])
        .args(["--ui-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0"])
        .args(["--otlp-grpc-listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn otelscope");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = loop {
        let line = lines.next_line().await.unwrap().expect("ready line");
        if line.contains("open http://") {
            break line;
        }
    };
    let urls: Vec<&str> = line.split(' ').filter(|w| w.starts_with("http://")).collect();
    Server { ui: urls[2].to_owned(), otlp: urls[0].to_owned(), child }
}

pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// The `p` quantile (0..=1) of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}
