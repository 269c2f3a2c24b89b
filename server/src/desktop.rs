//! `otelscope desktop`: the app in a native window. Without `--server` the server runs
//! in-process on free loopback ports, on its own thread and runtime; the window owns the main
//! thread (GTK requires it) and the process ends when the window closes.

use std::sync::mpsc;

use anyhow::{anyhow, Context};

use crate::cli::{DesktopArgs, ServeArgs};

pub fn run(args: DesktopArgs) -> anyhow::Result<()> {
    // The in-process server listens on loopback only and needs no key.
    let (api_base, api_key) = match &args.server {
        Some(url) => (url.trim_end_matches('/').to_owned(), args.api_key.clone()),
        None => (start_in_process(ServeArgs::in_process(&args))?, None),
    };
    tracing::info!(server = %api_base, "Opening the desktop window.");
    otelscope_app::platform::launch_desktop(otelscope_app::platform::DesktopOptions {
        api_base,
        api_key,
        start_path: args.path.clone(),
        dump_dom: args.dump_dom.clone(),
    });
    Ok(())
}

/// Starts the server on a background thread and returns its UI base URL once it listens.
fn start_in_process(args: ServeArgs) -> anyhow::Result<String> {
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
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(running.ui_addr));
                        if let Err(error) = running.wait().await {
                            tracing::error!(%error, "In-process server stopped.");
                        }
                    }
                    Err(e) => drop(ready_tx.send(Err(e))),
                }
            });
        })
        .context("cannot start the server thread")?;
    let addr = ready_rx.recv().context("server thread ended before listening")??;
    Ok(format!("http://{addr}"))
}
