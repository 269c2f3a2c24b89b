//! The `otelscope` binary: parses the command line and runs `serve` or `desktop`.

use clap::Parser;
use otelscope_server::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => {
            tokio::runtime::Runtime::new()?.block_on(otelscope_server::serve::run(args))
        }
        #[cfg(feature = "desktop")]
        Command::Desktop(args) => otelscope_server::desktop::run(args),
        #[cfg(not(feature = "desktop"))]
        Command::Desktop(_) => anyhow::bail!("this otelscope was built without desktop support"),
    }
}
