//! `otelscope desktop`: the app in a native window. Without `--server` the server runs
//! in-process on its own thread and runtime, receiving OTLP on loopback 4318/4317 (each a free
//! port instead when taken), or where `--otlp-http-listen`/`--otlp-grpc-listen` pin it (taken:
//! an error), with the UI on a free port; the window owns the main thread (GTK
//! requires it) and the process ends when the window closes.

use std::net::SocketAddr;
use std::sync::mpsc;

use anyhow::{anyhow, Context};

use crate::cli::{DesktopArgs, OtlpPorts, ServeArgs};

pub fn run(args: DesktopArgs) -> anyhow::Result<()> {
    // The in-process server listens on loopback only and needs no key.
    // A remote server says in its health whether it traces itself; ours does.
    let (api_base, api_key, self_telemetry) = match &args.server {
        Some(url) => (url.trim_end_matches('/').to_owned(), args.api_key.clone(), None),
        None => {
            let ports = start_in_process(ServeArgs::in_process(&args, OtlpPorts::STANDARD))?;
            // As `serve` does: the one line a user (or a test) reads to know where to send.
            println!(
                "otelscope {} — OTLP on http://{} (HTTP) and http://{} (gRPC) — window on http://{}",
                env!("CARGO_PKG_VERSION"),
                ports.otlp_http,
                ports.otlp_grpc,
                ports.ui
            );
            (format!("http://{}", ports.ui), None, Some(true))
        }
    };
    tracing::info!(server = %api_base, "Opening the desktop window.");
    otelscope_app::platform::launch_desktop(otelscope_app::platform::DesktopOptions {
        api_base,
        api_key,
        start_path: args.path.clone(),
        dump_dom: args.dump_dom.clone(),
        self_telemetry,
    });
    Ok(())
}

/// Where the in-process server listens (the ports it really got).
struct Ports {
    ui: SocketAddr,
    otlp_http: SocketAddr,
    otlp_grpc: SocketAddr,
}

/// Starts the server on a background thread and returns its addresses once it listens.
fn start_in_process(args: ServeArgs) -> anyhow::Result<Ports> {
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("otelscope-server".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return drop(ready_tx.send(Err(anyhow!(e)))),
            };
            runtime.block_on(async move {
                match crate::serve::start(&args).await {
                    Ok(mut running) => {
                        let _ = ready_tx.send(Ok(Ports {
                            ui: running.ui_addr,
                            otlp_http: running.otlp_http_addr,
                            otlp_grpc: running.otlp_grpc_addr,
                        }));
                        if let Err(error) = running.wait().await {
                            tracing::error!(%error, "In-process server stopped.");
                        }
                    }
                    Err(e) => drop(ready_tx.send(Err(e))),
                }
            });
        })
        .context("cannot start the server thread")?;
    ready_rx.recv().context("server thread ended before listening")?
}
