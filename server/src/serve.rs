//! `otelscope serve`: checks the settings, binds the UI port and runs until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::cli::StoreConfig;
use crate::conn::{serve_port, Protocol};
use crate::ingest::IngestSettings;
use crate::store::{ClickHouseStore, Retention, SqliteStore, Store};
use crate::{AppState, IngestLimits};

/// A server whose sockets are bound and whose tasks are running.
pub struct Running {
    /// Where the web app and API answer (with the real port when 0 was asked for).
    pub ui_addr: SocketAddr,
    pub otlp_http_addr: SocketAddr,
    pub otlp_grpc_addr: SocketAddr,
    tasks: tokio::task::JoinSet<std::io::Result<()>>,
    /// The demo workload, when `--demo` started it.
    #[cfg(feature = "demo")]
    demo: Option<crate::demo::Demo>,
}

impl Running {
    /// Waits until a listener stops (they only stop on an I/O error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        match self.tasks.join_next().await {
            Some(result) => result.context("server task failed")?.context("server stopped"),
            None => Ok(()),
        }
    }

    /// Stops what must not outlive the server: the demo (its last spans are exported and a
    /// private `redis-server` is stopped). The listeners stop with the runtime.
    pub async fn shutdown(self) {
        #[cfg(feature = "demo")]
        if let Some(demo) = self.demo {
            demo.stop().await;
        }
    }
}

/// Refuses to expose the server beyond loopback without authentication, unless told to.
pub fn check_exposure(args: &ServeArgs) -> anyhow::Result<()> {
    let public = args.public_addresses();
    if public.is_empty() || args.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        return Ok(());
    }
    let list = public.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
    if !args.allow_anonymous {
        bail!(
            "refusing to listen on non-loopback address(es) {list} without authentication; \
             set --api-key, or pass --allow-anonymous to expose the server to your network anyway"
        );
    }
    tracing::warn!(addresses = %list, "ANYONE WHO CAN REACH THESE ADDRESSES CAN READ AND WRITE YOUR TELEMETRY.");
    Ok(())
}

/// Binds the UI port and starts serving on the current tokio runtime.
pub async fn start(args: &ServeArgs) -> anyhow::Result<Running> {
    let api_key = crate::auth::keys::resolve(args)?;
    let trusted_proxies = crate::peer::TrustedProxies::parse(&args.trusted_proxies)?;
    if args.max_connections_per_ip == 0 || args.max_connections_per_ip > args.max_connections {
        bail!(
            "--max-connections-per-ip ({}) must be between 1 and --max-connections ({})",
            args.max_connections_per_ip,
            args.max_connections
        );
    }
    let store = open_store(args)?;
    let settings = IngestSettings {
        queue_capacity: args.ingest_queue,
        retention: Retention {
            max_spans: args.retention_spans,
            max_age_ns: args.retention_age.as_nanos().min(u128::from(u64::MAX)) as u64,
            max_bytes: args.retention_bytes,
        },
        memory_bytes: args.ingest_memory,
    };
    let fall_back = args.fall_back_to_free_ports;
    let ui = bind_port(args.ui_listen, fall_back.ui, "UI").await?;
    let otlp_http = bind_port(args.otlp_http_listen, fall_back.otlp_http, "OTLP/HTTP").await?;
    let otlp_grpc = bind_port(args.otlp_grpc_listen, fall_back.otlp_grpc, "OTLP/gRPC").await?;
    let (ui_addr, otlp_http_addr, otlp_grpc_addr) =
        (ui.local_addr()?, otlp_http.local_addr()?, otlp_grpc.local_addr()?);
    let limits = IngestLimits {
        max_body_bytes: args.max_body_bytes,
        body_timeout: args.body_timeout,
        convert: crate::ingest::convert::Limits {
            max_attributes: args.max_attributes,
            max_value_bytes: args.max_attribute_bytes,
            ..Default::default()
        },
    };
    let origins = crate::headers::parse_origins(&args.cors_origins)?;
    let state = AppState::new(store, settings, limits)
        .with_api_key(crate::auth::ApiKey::new(api_key.clone()))
        .with_cors_origins(origins);
    let state = if args.self_telemetry { state.with_self_telemetry() } else { state };
    let demo = start_demo(args, otlp_http_addr, api_key.as_deref()).await;
    #[cfg(not(feature = "demo"))]
    let _ = demo;
    let state = AppState {
        endpoints: Arc::new(crate::Endpoints {
            otlp_http: Some(format!("http://{otlp_http_addr}")),
            otlp_grpc: Some(format!("http://{otlp_grpc_addr}")),
        }),
        #[cfg(feature = "demo")]
        demo: demo.as_ref().map(|d| Arc::new(d.status())),
        ..state
    };
    // Without a key, a port on loopback answers loopback host names only (DNS rebinding).
    let keyless = !state.api_key.is_set();
    let host_check = |addr: SocketAddr| AppState {
        loopback_host_only: keyless && addr.ip().is_loopback(),
        ..state.clone()
    };
    if !crate::web::has_bundle() {
        tracing::warn!(
            "This binary has no web bundle (built without `make build`): pages are server-rendered only."
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    let bounds = crate::conn::Bounds {
        max_connections: args.max_connections,
        max_per_peer: args.max_connections_per_ip,
        header_timeout: args.header_timeout,
        write_timeout: args.write_timeout,
        trusted_proxies,
    };
    let ui_app = crate::router(host_check(ui_addr));
    tasks.spawn(serve_port(ui, ui_app, Protocol::Http1, bounds.clone()));
    // Both OTLP ports take both protocols (`ingest::port`), over HTTP/1.1 and HTTP/2 alike,
    // so an exporter's default protocol works on whichever port it is given.
    let otlp_http_app = crate::ingest::port::router(host_check(otlp_http_addr));
    tasks.spawn(serve_port(otlp_http, otlp_http_app, Protocol::Both, bounds.clone()));
    let grpc_app = crate::ingest::port::router(host_check(otlp_grpc_addr));
    tasks.spawn(serve_port(otlp_grpc, grpc_app, Protocol::Both, bounds));
    // A writer that is gone would refuse every batch forever: end the process instead, so a
    // supervisor restarts it (the writer survives panics in the store; this is the last resort).
    let ingest = state.ingest.clone();
    tasks.spawn(async move {
        ingest.writer_stopped().await;
        Err(std::io::Error::other("the store's writer thread stopped"))
    });
    tracing::info!(%ui_addr, %otlp_http_addr, %otlp_grpc_addr, "Listening.");
    Ok(Running {
        ui_addr,
        otlp_http_addr,
        otlp_grpc_addr,
        tasks,
        #[cfg(feature = "demo")]
        demo,
    })
}

/// Starts the demo workload when `--demo` asks for it, exporting to the OTLP/HTTP port as
/// bound; a demo that cannot start is logged and the server goes on without it.
#[cfg(feature = "demo")]
async fn start_demo(
    args: &ServeArgs,
    otlp_http: SocketAddr,
    api_key: Option<&str>,
) -> Option<crate::demo::Demo> {
    if !args.demo.enabled {
        return None;
    }
    match crate::demo::start(&args.demo, otlp_http, api_key).await {
        Ok(demo) => Some(demo),
        Err(error) => {
            tracing::error!(%error, "The demo workload could not start; serving without it.");
            None
        }
    }
}

#[cfg(not(feature = "demo"))]
async fn start_demo(args: &ServeArgs, _: SocketAddr, _: Option<&str>) -> Option<()> {
    if args.demo.enabled {
        tracing::warn!(
            "This otelscope was built without the demo (feature `demo`); --demo is ignored."
        );
    }
    None
}

/// Binds `addr`. When its port is taken and `fall_back` is set, binds a free port of the same
/// address instead and says so (`port` names the port in the log); each port falls back alone.
async fn bind_port(addr: SocketAddr, fall_back: bool, port: &str) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(error) if fall_back && error.kind() == std::io::ErrorKind::AddrInUse => {
            let free = SocketAddr::new(addr.ip(), 0);
            let listener = TcpListener::bind(free)
                .await
                .with_context(|| format!("cannot listen on {free}"))?;
            let got = listener.local_addr()?;
            tracing::warn!(port, wanted = %addr, %got, "The port is taken; listening on a free one instead.");
            Ok(listener)
        }
        Err(error) => Err(error).with_context(|| format!("cannot listen on {addr}")),
    }
}

/// The store `--store` names: a ClickHouse database, else the SQLite store in `--data-dir`
/// (default: the platform data dir), or in memory.
fn open_store(args: &ServeArgs) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(StoreConfig::ClickHouse(config)) = &args.store {
        anyhow::ensure!(
            !args.in_memory && args.data_dir.is_none(),
            "--in-memory and --data-dir are for the embedded store; --store names ClickHouse"
        );
        tracing::info!(store = %config.location(), "Opening the ClickHouse store.");
        return Ok(Arc::new(ClickHouseStore::open(config.clone())?));
    }
    if args.in_memory {
        return Ok(Arc::new(SqliteStore::in_memory()?));
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => dirs::data_dir()
            .context("no platform data directory; pass --data-dir or --in-memory")?
            .join("otelscope"),
    };
    tracing::info!(dir = %dir.display(), "Opening the store.");
    Ok(Arc::new(SqliteStore::open(&dir)?))
}

/// Runs `otelscope serve` until Ctrl-C or SIGTERM.
pub async fn run(mut args: ServeArgs) -> anyhow::Result<()> {
    // Resolved once (`generate` makes a key, shown once), then checked again by `start`.
    args.api_key = crate::auth::keys::resolve(&args)?;
    args.api_key_file = None;
    check_exposure(&args)?;
    let running = start(&args).await?;
    // The key never goes into a URL: people type it into the sign-in page.
    let sign_in = match args.api_key.as_deref().filter(|k| !k.is_empty()) {
        Some(_) => " and sign in with the API key",
        None => "",
    };
    println!(
        "otelscope {} — OTLP on http://{} (HTTP) and http://{} (gRPC) — open http://{}{sign_in}",
        env!("CARGO_PKG_VERSION"),
        running.otlp_http_addr,
        running.otlp_grpc_addr,
        running.ui_addr
    );
    let mut running = running;
    let result = tokio::select! {
        result = running.wait() => result,
        _ = shutdown_signal() => {
            tracing::info!("Shutting down.");
            Ok(())
        }
    };
    running.shutdown().await;
    result
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, OtlpPorts};

    fn serve_args(args: &[&str]) -> ServeArgs {
        let Command::Serve(args) =
            Cli::try_parse_from([&["otelscope", "serve"], args].concat()).unwrap().command
        else {
            panic!("expected serve")
        };
        args
    }

    fn desktop_args() -> ServeArgs {
        let Command::Desktop(desktop) =
            Cli::try_parse_from(["otelscope", "desktop", "--in-memory"]).unwrap().command
        else {
            panic!("expected desktop")
        };
        ServeArgs::in_process(&desktop, OtlpPorts::STANDARD)
    }

    /// A loopback port that was free a moment ago (bound, noted, released).
    fn free_port() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
    }

    #[tokio::test]
    async fn a_free_port_is_bound_as_asked_and_a_taken_one_falls_back_if_allowed() {
        let wanted = free_port();
        let got = bind_port(wanted, true, "test").await.unwrap();
        assert_eq!(got.local_addr().unwrap(), wanted);

        // `got` now holds `wanted`, as a running otelscope would hold 4318.
        let refused = bind_port(wanted, false, "test").await.unwrap_err();
        assert_eq!(refused.to_string(), format!("cannot listen on {wanted}"));
        let other = bind_port(wanted, true, "test").await.unwrap().local_addr().unwrap();
        assert_eq!(other.ip(), wanted.ip());
        assert_ne!(other.port(), wanted.port());
    }

    #[tokio::test]
    async fn desktop_server_falls_back_per_port_and_reports_what_it_got() {
        // The standard ports are injected: the gRPC one free, the HTTP one taken.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (http, grpc) = (taken.local_addr().unwrap(), free_port());
        let args = ServeArgs { otlp_http_listen: http, otlp_grpc_listen: grpc, ..desktop_args() };
        let running = start(&args).await.unwrap();
        assert_eq!(running.otlp_grpc_addr, grpc, "a free standard port is used");
        assert_ne!(running.otlp_http_addr, http, "a taken one falls back");
        assert!(running.otlp_http_addr.ip().is_loopback() && running.ui_addr.port() != 0);
        // Health (and so every empty state) names the ports really in use.
        let url = format!("http://{}/api/v1/health", running.ui_addr);
        let body = reqwest::get(url).await.unwrap().text().await.unwrap();
        let health: otelscope_app::model::Health = serde_json::from_str(&body).unwrap();
        assert_eq!(health.otlp_http, Some(format!("http://{}", running.otlp_http_addr)));
        assert_eq!(health.otlp_grpc, Some(format!("http://{grpc}")));
    }

    #[test]
    fn exposure_needs_a_key_or_consent() {
        assert!(check_exposure(&serve_args(&[])).is_ok());
        let public = ["--ui-listen", "0.0.0.0:8686"];
        let refused = check_exposure(&serve_args(&public)).unwrap_err().to_string();
        assert!(
            refused.starts_with("refusing to listen on non-loopback address(es) 0.0.0.0:8686"),
            "{refused}"
        );
        assert!(check_exposure(&serve_args(&[&public[..], &["--api-key", "k"]].concat())).is_ok());
        assert!(
            check_exposure(&serve_args(&[&public[..], &["--allow-anonymous"]].concat())).is_ok()
        );
    }
}
