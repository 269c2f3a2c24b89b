//! `otelscope serve`: checks the settings, binds the UI port and runs until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::store::MemoryStore;
use crate::AppState;

/// A server whose sockets are bound and whose tasks are running.
pub struct Running {
    /// Where the web app and API answer (with the real port when 0 was asked for).
    pub ui_addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Waits until the server stops (it only stops on an I/O error).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task
            .await
            .context("server task failed")?
            .context("server stopped")
    }
}

/// Refuses to expose the server beyond loopback without authentication, unless told to.
pub fn check_exposure(args: &ServeArgs) -> anyhow::Result<()> {
    let public = args.public_addresses();
    if public.is_empty() {
        return Ok(());
    }
    let list = public
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !args.allow_anonymous {
        bail!(
            "refusing to listen on non-loopback address(es) {list} without authentication; \
             pass --allow-anonymous to expose the server to your network anyway"
        );
    }
    tracing::warn!(addresses = %list, "ANYONE WHO CAN REACH THESE ADDRESSES CAN READ AND WRITE YOUR TELEMETRY.");
    Ok(())
}

/// Binds the UI port and starts serving on the current tokio runtime.
pub async fn start(args: &ServeArgs) -> anyhow::Result<Running> {
    if args.data_dir.is_some() || !args.in_memory {
        tracing::warn!("The durable store is not built yet: telemetry is kept in memory only.");
    }
    let state = AppState::new(Arc::new(MemoryStore::new()));
    let listener = TcpListener::bind(args.ui_listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.ui_listen))?;
    let ui_addr = listener.local_addr()?;
    if !crate::web::has_bundle() {
        tracing::warn!("This binary has no web bundle (built without `make build`): pages are server-rendered only.");
    }
    let app = crate::router(state);
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running { ui_addr, task })
}

/// Runs `otelscope serve` until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    check_exposure(&args)?;
    let running = start(&args).await?;
    println!(
        "otelscope {} — open http://{}",
        env!("CARGO_PKG_VERSION"),
        running.ui_addr
    );
    tokio::select! {
        result = running.wait() => result,
        _ = shutdown_signal() => {
            tracing::info!("Shutting down.");
            Ok(())
        }
    }
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
