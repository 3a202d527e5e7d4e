//! `orderer`: parses the command line, sets up logging and calls the library.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use orderer::Config;
use tracing::info;

#[derive(Parser)]
#[command(
    name = "orderer",
    version,
    about = "Hyperledger Fabric ordering service node"
)]
struct Cli {
    /// Without a command the orderer starts, as Fabric's `orderer` does.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the orderer. Settings come from orderer.yaml ($FABRIC_CFG_PATH/orderer.yaml,
    /// else /etc/hyperledger/fabric/orderer.yaml if present, or --config), then from
    /// ORDERER_* environment variables (Fabric's names, e.g. ORDERER_GENERAL_BOOTSTRAPFILE,
    /// ORDERER_GENERAL_LISTENPORT, ORDERER_FILELEDGER_LOCATION); the flags below override
    /// both.
    Start(StartArgs),
    /// Measure: an in-process orderer (solo, temporary ledger, gRPC on loopback) under the
    /// canonical workload; prints throughput and latency, appends a record to results/.
    Benchmark(Box<orderer::benchmark::BenchmarkArgs>),
    /// Print the version.
    Version,
}

/// The flags of `orderer start`.
#[derive(clap::Args, Default)]
struct StartArgs {
    /// The orderer.yaml to read.
    #[arg(long)]
    config: Option<PathBuf>,
    /// General.BootstrapFile: genesis block to bootstrap a new ledger from.
    #[arg(long)]
    bootstrap_file: Option<PathBuf>,
    /// FileLedger.Location: the ledger directory.
    #[arg(long)]
    ledger_dir: Option<PathBuf>,
    /// General.ListenPort (0 picks a free port and logs it).
    #[arg(long)]
    listen_port: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli
        .command
        .unwrap_or_else(|| Command::Start(StartArgs::default()))
    {
        Command::Version => {
            println!("orderer {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Benchmark(args) => {
            let runtime = runtime()?;
            let clean = runtime.block_on(orderer::benchmark::run(*args))?;
            if !clean {
                anyhow::bail!(
                    "some envelopes were rejected, never answered or never delivered, or the orderer's /metrics did not count what was acknowledged"
                );
            }
            Ok(())
        }
        Command::Start(StartArgs {
            config,
            bootstrap_file,
            ledger_dir,
            listen_port,
        }) => {
            init_logging();
            let file = match config {
                Some(file) => Some(file),
                None => orderer::config::config_file(
                    std::env::var_os("FABRIC_CFG_PATH")
                        .map(PathBuf::from)
                        .as_deref(),
                )?,
            };
            if let Some(file) = &file {
                info!(file = %file.display(), "reading the configuration file");
            }
            let (mut config, ignored) = Config::load(file.as_deref(), std::env::vars())?;
            if !ignored.is_empty() {
                info!(keys = ?ignored, "Fabric keys accepted but not acted on by this orderer yet");
            }
            if let Some(path) = bootstrap_file {
                config.general.bootstrap_file = Some(path);
            }
            if let Some(path) = ledger_dir {
                config.file_ledger.location = path;
            }
            if let Some(port) = listen_port {
                config.general.listen_port = port;
            }
            start(config)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("grpc")
        .build()
        .context("start the async runtime")
}

fn start(config: Config) -> anyhow::Result<()> {
    runtime()?
        .block_on(orderer::run(config, shutdown_signal()))
        .context("orderer failed")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

fn init_logging() {
    let spec = std::env::var("FABRIC_LOGGING_SPEC").ok();
    if let Err(error) = orderer::logging::init(spec.as_deref()) {
        tracing::warn!(%error, "FABRIC_LOGGING_SPEC is not a valid logging spec; logging at info");
    }
}
