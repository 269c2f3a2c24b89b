//! The command line: `otelscope serve` and `otelscope desktop`, each flag also read from an
//! `OTELSCOPE_<NAME>` environment variable (the command line wins).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::store::ClickHouseConfig;

#[derive(Debug, Parser)]
#[command(name = "otelscope", version, about = "A local-first OpenTelemetry dashboard")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at startup: the size of the larger variant costs nothing worth boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// OTLP receivers, store, query API, web app and SSR pages.
    Serve(ServeArgs),
    /// The dashboard in a desktop window, on an in-process server unless --server is given;
    /// that server receives OTLP on 127.0.0.1:4318 (HTTP) and 127.0.0.1:4317 (gRPC), each
    /// taking both protocols (see --otlp-http-listen, --otlp-grpc-listen).
    Desktop(DesktopArgs),
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Web app, SSR pages, /api/v1 and same-origin OTLP/HTTP for the UI's own spans.
    #[arg(long, env = "OTELSCOPE_UI_LISTEN", default_value = "127.0.0.1:8686")]
    pub ui_listen: SocketAddr,
    /// OTLP/HTTP receiver (/v1/traces, /v1/metrics, /v1/logs).
    #[arg(long, env = "OTELSCOPE_OTLP_HTTP_LISTEN", default_value = "127.0.0.1:4318")]
    pub otlp_http_listen: SocketAddr,
    /// OTLP/gRPC receiver.
    #[arg(long, env = "OTELSCOPE_OTLP_GRPC_LISTEN", default_value = "127.0.0.1:4317")]
    pub otlp_grpc_listen: SocketAddr,
    /// Where the embedded store lives [default: the platform data dir, ~/.local/share/otelscope].
    #[arg(long, env = "OTELSCOPE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory; write no files.
    #[arg(long, env = "OTELSCOPE_IN_MEMORY")]
    pub in_memory: bool,
    /// Where the data lives: `sqlite` (the embedded store in --data-dir, the default) or a
    /// ClickHouse database, `clickhouse://[user[:password]@]host:port/database[?cluster=NAME]`
    /// (its HTTP port; the database and its tables are created; spans only so far).
    #[arg(long, env = "OTELSCOPE_STORE", hide_env_values = true, value_parser = parse_store)]
    pub store: Option<StoreConfig>,
    /// Keep at most this many spans; the oldest are dropped first.
    #[arg(long, env = "OTELSCOPE_RETENTION_SPANS", default_value_t = 5_000_000)]
    pub retention_spans: u64,
    /// Drop data older than this (e.g. `72h`, `7days`).
    #[arg(long, env = "OTELSCOPE_RETENTION_AGE", default_value = "7days", value_parser = humantime::parse_duration)]
    pub retention_age: Duration,
    /// Keep the store under this many bytes (e.g. `2GiB`, `500MB`); the oldest data is dropped
    /// first.
    #[arg(long, env = "OTELSCOPE_RETENTION_BYTES", default_value = "2GiB", value_parser = parse_bytes)]
    pub retention_bytes: u64,
    /// Export requests that may wait for the store's writer before senders get 503.
    #[arg(long, env = "OTELSCOPE_INGEST_QUEUE", default_value_t = 64)]
    pub ingest_queue: usize,
    /// Memory all OTLP requests in flight may hold together (bodies, inflated and decoded);
    /// past it senders get 503 + Retry-After, and a request that alone needs more gets 413.
    #[arg(long, env = "OTELSCOPE_INGEST_MEMORY", default_value = "512MiB", value_parser = parse_bytes)]
    pub ingest_memory: u64,
    /// Longest a client may take to send a request's headers (or, idle on a kept-alive
    /// connection, to start its next request) before the connection is closed.
    #[arg(long, env = "OTELSCOPE_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// Longest an OTLP request body (or the sign-in form) may take to arrive; slower senders
    /// get 408.
    #[arg(long, env = "OTELSCOPE_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,
    /// Largest OTLP request body accepted, in bytes after decompression (larger: 413).
    #[arg(long, env = "OTELSCOPE_MAX_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Attributes kept per span, event, link, log record or resource; the rest are counted
    /// as dropped.
    #[arg(long, env = "OTELSCOPE_MAX_ATTRIBUTES", default_value_t = 256)]
    pub max_attributes: usize,
    /// Longest attribute value (and name) kept, in bytes; longer ones are cut.
    #[arg(long, env = "OTELSCOPE_MAX_ATTRIBUTE_BYTES", default_value_t = 16 * 1024)]
    pub max_attribute_bytes: usize,
    /// Require this key: OTLP senders send it as `x-otlp-api-key`, people sign in with it on
    /// the web page, scripts send `Authorization: Bearer KEY`.
    /// At least 20 characters; `generate` makes a random key and prints it once.
    #[arg(long, env = "OTELSCOPE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Read the API key from FILE (surrounding whitespace removed) instead of --api-key, so it
    /// appears in no process list.
    #[arg(long, env = "OTELSCOPE_API_KEY_FILE", value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// A reverse proxy (address or network, e.g. 10.0.0.1 or 10.0.0.0/8) whose
    /// `X-Forwarded-For` names the client; from any other peer the header is ignored.
    /// Repeatable; the environment variable takes a comma-separated list.
    #[arg(
        long = "trusted-proxy",
        value_name = "ADDR",
        env = "OTELSCOPE_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Connections each port serves at once; more wait until one closes.
    #[arg(long, env = "OTELSCOPE_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Connections one client address may hold on a port (trusted proxies: no limit but the
    /// port's); more are closed at once.
    #[arg(long, env = "OTELSCOPE_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Longest an answer's write may make no progress (a client that stopped reading)
    /// before its connection is closed.
    #[arg(long, env = "OTELSCOPE_WRITE_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub write_timeout: Duration,
    /// Binding a non-loopback address without an API key is refused unless this is given.
    #[arg(long, env = "OTELSCOPE_ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,
    /// Let a browser app on ORIGIN (e.g. http://localhost:3000) export OTLP/HTTP to the OTLP
    /// port (CORS). Repeatable; the environment variable takes a comma-separated list.
    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        env = "OTELSCOPE_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// otelscope's own spans (service `otelscope`, and the UI's `otelscope-ui`): on or off.
    #[arg(long, env = "OTELSCOPE_SELF_TELEMETRY", default_value = "on", value_name = "on|off",
          action = clap::ArgAction::Set, value_parser = parse_on_off)]
    pub self_telemetry: bool,
    /// Which listen ports, when taken, are replaced by a free port of the same address instead
    /// of failing: the in-process server of `otelscope desktop` for the ports the user did not
    /// pin; `serve` fails, as asked.
    #[arg(skip)]
    pub fall_back_to_free_ports: FreePortFallback,
    #[command(flatten)]
    pub demo: DemoArgs,
}

/// The built-in demo workload (`--demo`) and how it behaves.
#[derive(Clone, Debug, PartialEq, Args)]
pub struct DemoArgs {
    /// Run the built-in demo workload: an instrumented catalog service (cache-aside over
    /// SQLite with an L1 and a Redis L2) calling a flaky upstream with retries, exporting real
    /// OTLP to this server.
    #[arg(long = "demo", env = "OTELSCOPE_DEMO")]
    pub enabled: bool,
    /// The demo's L2 cache, e.g. redis://127.0.0.1:6379 [default: a private redis-server on a
    /// free loopback port when installed, else a second in-process tier].
    #[arg(long = "demo-redis", env = "OTELSCOPE_DEMO_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// Catalog requests the demo makes per second.
    #[arg(long = "demo-rate", env = "OTELSCOPE_DEMO_RATE", default_value_t = 5.0, value_parser = parse_rate)]
    pub rate: f64,
    /// Share of the demo upstream's answers that are 500.
    #[arg(long = "demo-upstream-error-rate", env = "OTELSCOPE_DEMO_UPSTREAM_ERROR_RATE", default_value_t = 0.1, value_parser = parse_share)]
    pub upstream_error_rate: f64,
    /// Share of the demo upstream's answers that stall past the client's timeout.
    #[arg(long = "demo-upstream-timeout-rate", env = "OTELSCOPE_DEMO_UPSTREAM_TIMEOUT_RATE", default_value_t = 0.03, value_parser = parse_share)]
    pub upstream_timeout_rate: f64,
    /// Share of the demo upstream's answers that are 429 with `Retry-After: 1`.
    #[arg(long = "demo-upstream-429-rate", env = "OTELSCOPE_DEMO_UPSTREAM_429_RATE", default_value_t = 0.03, value_parser = parse_share)]
    pub upstream_429_rate: f64,
    /// The demo upstream has an outage (503 to everything) at the end of every period this
    /// long; `0s` for none.
    #[arg(long = "demo-upstream-outage-every", env = "OTELSCOPE_DEMO_UPSTREAM_OUTAGE_EVERY", default_value = "45s", value_parser = humantime::parse_duration)]
    pub upstream_outage_every: Duration,
    /// How long each outage of the demo upstream lasts.
    #[arg(long = "demo-upstream-outage-for", env = "OTELSCOPE_DEMO_UPSTREAM_OUTAGE_FOR", default_value = "5s", value_parser = humantime::parse_duration)]
    pub upstream_outage_for: Duration,
}

impl Default for DemoArgs {
    /// The command line's defaults (checked by a test), with the demo off.
    fn default() -> Self {
        DemoArgs {
            enabled: false,
            redis: None,
            rate: 5.0,
            upstream_error_rate: 0.1,
            upstream_timeout_rate: 0.03,
            upstream_429_rate: 0.03,
            upstream_outage_every: Duration::from_secs(45),
            upstream_outage_for: Duration::from_secs(5),
        }
    }
}

#[derive(Clone, Debug, Args)]
pub struct DesktopArgs {
    /// Use this running server (e.g. http://127.0.0.1:8686) instead of starting one in-process.
    #[arg(long, env = "OTELSCOPE_SERVER")]
    pub server: Option<String>,
    /// The API key of the server named by --server, if it has one.
    #[arg(long, env = "OTELSCOPE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// The page to open, e.g. `/traces/<trace id>` (default: the trace search).
    #[arg(long)]
    pub path: Option<String>,
    /// For the in-process server: where the embedded store lives.
    #[arg(long, env = "OTELSCOPE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// For the in-process server: keep everything in memory.
    #[arg(long, env = "OTELSCOPE_IN_MEMORY")]
    pub in_memory: bool,
    /// Keep FILE holding the window's DOM as HTML, rewritten twice a second (for scripted
    /// checks of what the window shows, as `chromium --dump-dom` does for a page).
    #[arg(long, value_name = "FILE")]
    pub dump_dom: Option<PathBuf>,
    /// For the in-process server: where OTLP/HTTP is received (/v1/traces, /v1/metrics,
    /// /v1/logs; OTLP/gRPC too) [default: 127.0.0.1:4318, or a free port when that one is
    /// taken]. A port given here is pinned: taken, the app does not start.
    #[arg(
        long,
        env = "OTELSCOPE_OTLP_HTTP_LISTEN",
        value_name = "ADDR",
        conflicts_with = "server"
    )]
    pub otlp_http_listen: Option<SocketAddr>,
    /// For the in-process server: where OTLP/gRPC is received (OTLP/HTTP too) [default:
    /// 127.0.0.1:4317, or a free port when that one is taken]. A port given here is pinned:
    /// taken, the app does not start.
    #[arg(
        long,
        env = "OTELSCOPE_OTLP_GRPC_LISTEN",
        value_name = "ADDR",
        conflicts_with = "server"
    )]
    pub otlp_grpc_listen: Option<SocketAddr>,
    /// For the in-process server: the demo workload (`--demo`, as for `serve`).
    #[command(flatten)]
    pub demo: DemoArgs,
}

impl ServeArgs {
    /// The listen addresses that are not loopback, for the anonymous-exposure check.
    /// (An API key makes exposing them safe enough; see `serve::check_exposure`.)
    pub fn public_addresses(&self) -> Vec<SocketAddr> {
        [self.ui_listen, self.otlp_http_listen, self.otlp_grpc_listen]
            .into_iter()
            .filter(|addr| !addr.ip().is_loopback())
            .collect()
    }

    /// Settings for the desktop's in-process server: OTLP where `--otlp-http-listen` and
    /// `--otlp-grpc-listen` say (pinned: a taken port is an error), else on `otlp` (the
    /// standard [`OtlpPorts::STANDARD`], where SDKs send by default), each falling back to a
    /// free port when taken; the UI on a free port, since only the window talks to it.
    pub fn in_process(desktop: &DesktopArgs, otlp: OtlpPorts) -> ServeArgs {
        ServeArgs {
            ui_listen: ([127, 0, 0, 1], 0).into(),
            otlp_http_listen: desktop.otlp_http_listen.unwrap_or(otlp.http),
            otlp_grpc_listen: desktop.otlp_grpc_listen.unwrap_or(otlp.grpc),
            data_dir: desktop.data_dir.clone(),
            in_memory: desktop.in_memory,
            store: None,
            self_telemetry: true,
            retention_spans: 5_000_000,
            retention_age: Duration::from_secs(7 * 24 * 3600),
            retention_bytes: 2 << 30,
            ingest_queue: 64,
            ingest_memory: 512 << 20,
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024 * 1024,
            max_attributes: 256,
            max_attribute_bytes: 16 * 1024,
            api_key: None,
            api_key_file: None,
            trusted_proxies: Vec::new(),
            max_connections: 512,
            max_connections_per_ip: 256,
            write_timeout: Duration::from_secs(20),
            allow_anonymous: false,
            cors_origins: Vec::new(),
            fall_back_to_free_ports: FreePortFallback {
                ui: true,
                otlp_http: desktop.otlp_http_listen.is_none(),
                otlp_grpc: desktop.otlp_grpc_listen.is_none(),
            },
            demo: desktop.demo.clone(),
        }
    }
}

/// Per listen port: whether a taken port is replaced by a free one (see
/// [`ServeArgs::fall_back_to_free_ports`]); none by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreePortFallback {
    pub ui: bool,
    pub otlp_http: bool,
    pub otlp_grpc: bool,
}

/// Where the OTLP receivers ask to listen; tests pass ports of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtlpPorts {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
}

impl OtlpPorts {
    /// Loopback 4318 (OTLP/HTTP) and 4317 (gRPC): the SDKs' defaults, as in `serve`.
    pub const STANDARD: OtlpPorts = OtlpPorts {
        http: SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 4318),
        grpc: SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 4317),
    };
}

/// A share in `[0, 1]`, e.g. `0.1`.
fn parse_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share between 0 and 1")),
    }
}

/// A positive rate per second, at most 10,000.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 10_000.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a rate between 0 and 10000 per second")),
    }
}

/// Which store `--store` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded SQLite store (`--data-dir`, `--in-memory`).
    Sqlite,
    ClickHouse(ClickHouseConfig),
}

/// `sqlite` or a `clickhouse://` URL (see `ClickHouseConfig::parse`).
pub fn parse_store(text: &str) -> Result<StoreConfig, String> {
    match text.trim() {
        "sqlite" => Ok(StoreConfig::Sqlite),
        url if url.starts_with("clickhouse://") => {
            ClickHouseConfig::parse(url).map(StoreConfig::ClickHouse)
        }
        _ => Err(
            "expected `sqlite` or clickhouse://[user[:password]@]host:port/database[?cluster=NAME]"
                .into(),
        ),
    }
}

/// `2GiB`, `500MB`, `64KiB`, `1000` (bytes): binary and decimal units, case-insensitive.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("{text:?} is not a size like 2GiB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => {
            return Err(format!("unknown size unit {other:?}; use B, KB, KiB, MB, MiB, GB, GiB"))
        }
    };
    Ok((number * scale as f64).min(u64::MAX as f64) as u64)
}

/// `on` or `off`.
fn parse_on_off(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `on` or `off`, not `{value}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("500MB"), Ok(500_000_000));
        assert_eq!(parse_bytes("1.5 kib"), Ok(1536));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
    }

    #[test]
    fn defaults_match_the_product_spec() {
        let cli = Cli::try_parse_from(["otelscope", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert_eq!(args.ui_listen.to_string(), "127.0.0.1:8686");
        assert_eq!(args.otlp_http_listen.to_string(), "127.0.0.1:4318");
        assert_eq!(args.otlp_grpc_listen.to_string(), "127.0.0.1:4317");
        assert!(args.public_addresses().is_empty());
        assert_eq!(
            (args.max_body_bytes, args.max_attributes, args.max_attribute_bytes),
            (64 << 20, 256, 16384)
        );
        assert!(args.self_telemetry, "--self-telemetry is on by default");
    }

    #[test]
    fn self_telemetry_takes_on_or_off() {
        let parse = |value: &str| {
            let cli = Cli::try_parse_from(["otelscope", "serve", "--self-telemetry", value])?;
            let Command::Serve(args) = cli.command else { panic!("expected serve") };
            Ok::<_, clap::Error>(args.self_telemetry)
        };
        assert!(!parse("off").unwrap());
        assert!(parse("on").unwrap());
        let error = parse("maybe").unwrap_err().to_string();
        assert!(error.contains("expected `on` or `off`, not `maybe`"), "{error}");
    }

    #[test]
    fn demo_flags_default_as_documented_and_are_checked() {
        let cli = Cli::try_parse_from(["otelscope", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert_eq!(args.demo, DemoArgs::default(), "Default matches the command line");
        let cli = Cli::try_parse_from([
            "otelscope",
            "serve",
            "--demo",
            "--demo-redis",
            "redis://127.0.0.1:6379",
            "--demo-rate",
            "40",
            "--demo-upstream-outage-every",
            "0s",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert!(args.demo.enabled);
        assert_eq!(args.demo.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!((args.demo.rate, args.demo.upstream_outage_every), (40.0, Duration::ZERO));
        for bad in [["--demo-upstream-error-rate", "1.5"], ["--demo-rate", "0"]] {
            assert!(Cli::try_parse_from([&["otelscope", "serve"][..], &bad[..]].concat()).is_err());
        }
    }

    #[test]
    fn non_loopback_addresses_are_reported() {
        let cli =
            Cli::try_parse_from(["otelscope", "serve", "--ui-listen", "0.0.0.0:8686"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert_eq!(args.public_addresses(), vec!["0.0.0.0:8686".parse().unwrap()]);
    }

    #[test]
    fn cors_origins_repeat() {
        let cli = Cli::try_parse_from([
            "otelscope",
            "serve",
            "--cors-origin",
            "http://localhost:3000",
            "--cors-origin",
            "http://a.test,http://b.test",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert_eq!(args.cors_origins, ["http://localhost:3000", "http://a.test", "http://b.test"]);
        let cli = Cli::try_parse_from(["otelscope", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("expected serve") };
        assert!(args.cors_origins.is_empty(), "no origin is allowed by default");
    }

    #[test]
    fn desktop_asks_for_the_standard_otlp_ports_and_may_fall_back() {
        let cli = Cli::try_parse_from(["otelscope", "desktop", "--in-memory"]).unwrap();
        let Command::Desktop(desktop) = cli.command else { panic!("expected desktop") };
        let args = ServeArgs::in_process(&desktop, OtlpPorts::STANDARD);
        assert_eq!(args.otlp_http_listen.to_string(), "127.0.0.1:4318");
        assert_eq!(args.otlp_grpc_listen.to_string(), "127.0.0.1:4317");
        assert_eq!(args.ui_listen.to_string(), "127.0.0.1:0", "only the window uses the UI port");
        let all = FreePortFallback { ui: true, otlp_http: true, otlp_grpc: true };
        assert!(args.fall_back_to_free_ports == all && args.in_memory);
        assert!(args.public_addresses().is_empty());
        assert!(!args.demo.enabled);
        let cli = Cli::try_parse_from(["otelscope", "desktop", "--demo"]).unwrap();
        let Command::Desktop(desktop) = cli.command else { panic!("expected desktop") };
        assert!(ServeArgs::in_process(&desktop, OtlpPorts::STANDARD).demo.enabled);
        let cli = Cli::try_parse_from(["otelscope", "serve"]).unwrap();
        let Command::Serve(serve) = cli.command else { panic!("expected serve") };
        assert_eq!(
            serve.fall_back_to_free_ports,
            FreePortFallback::default(),
            "serve fails on a taken port, as asked"
        );
    }

    /// Issue 26 point 11: a taken 4318 became a random port, so the app's environment changed
    /// per launch; a port given on the command line is used as given, or the app fails.
    #[test]
    fn desktop_otlp_ports_can_be_pinned() {
        let desktop = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["otelscope", "desktop"], args].concat())?;
            let Command::Desktop(desktop) = cli.command else { panic!("expected desktop") };
            Ok::<_, clap::Error>(ServeArgs::in_process(&desktop, OtlpPorts::STANDARD))
        };
        let args = desktop(&["--otlp-http-listen", "127.0.0.1:14318"]).unwrap();
        assert_eq!(args.otlp_http_listen.to_string(), "127.0.0.1:14318");
        assert_eq!(args.otlp_grpc_listen.to_string(), "127.0.0.1:4317", "the other: standard");
        let expected = FreePortFallback { ui: true, otlp_http: false, otlp_grpc: true };
        assert_eq!(args.fall_back_to_free_ports, expected, "only the unpinned ports fall back");
        let args = desktop(&["--otlp-grpc-listen", "127.0.0.1:14317"]).unwrap();
        assert_eq!(args.otlp_grpc_listen.to_string(), "127.0.0.1:14317");
        assert!(!args.fall_back_to_free_ports.otlp_grpc && args.fall_back_to_free_ports.otlp_http);
        let server = ["--server", "http://127.0.0.1:8686", "--otlp-http-listen", "127.0.0.1:1"];
        let error = desktop(&server).unwrap_err().to_string();
        assert!(error.contains("cannot be used with"), "{error}");
        assert!(desktop(&["--otlp-grpc-listen", "4317"]).is_err(), "an address, not a port");
    }

    /// The help says where OTLP is received, and the defaults, for both subcommands.
    #[test]
    fn help_names_the_otlp_defaults() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let help = |cli: &mut clap::Command, name: &str| {
            cli.find_subcommand_mut(name).unwrap().render_long_help().to_string()
        };
        let desktop = help(&mut cli, "desktop");
        for wanted in
            ["--otlp-http-listen", "--otlp-grpc-listen", "127.0.0.1:4318", "127.0.0.1:4317"]
        {
            assert!(desktop.contains(wanted), "desktop help lacks {wanted}: {desktop}");
        }
        let serve = help(&mut cli, "serve");
        assert!(serve.contains("[default: 127.0.0.1:4318]"), "{serve}");
        assert!(serve.contains("[default: 127.0.0.1:4317]"), "{serve}");
        let top = cli.render_long_help().to_string();
        assert!(top.contains("127.0.0.1:4318 (HTTP) and 127.0.0.1:4317 (gRPC)"), "{top}");
    }
}
