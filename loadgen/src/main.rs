//! `loadgen`: drives Broadcast on any Fabric orderer and reads the blocks back.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use loadgen::args::WorkloadArgs;
use loadgen::record::{Record, results_dir};

#[derive(Parser)]
#[command(
    name = "loadgen",
    version,
    about = "Load generator for Fabric orderers (AtomicBroadcast)"
)]
struct Cli {
    /// The orderer's address.
    #[arg(long, default_value = "http://127.0.0.1:7050")]
    endpoint: String,
    #[command(flatten)]
    workload: WorkloadArgs,
    /// Results file to append the run's record to (default: results/loadgen.ndjson).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Do not append a record.
    #[arg(long)]
    no_record: bool,
    /// The orderer's process id, when it runs on this machine: its peak resident memory
    /// (Linux `VmHWM`, over the process's life) is read after the run and recorded.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// A loadgen record's figures: the run's, and the orderer's peak memory if known.
#[derive(serde::Serialize)]
struct LoadgenFigures<'a> {
    #[serde(flatten)]
    run: &'a loadgen::report::Figures,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_peak_rss_bytes: Option<u64>,
}

/// `VmHWM` of process `pid`, in bytes.
fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<bool, loadgen::Error> {
    let workload = cli.workload.workload(cli.endpoint.clone())?;
    let report = loadgen::run::run(workload).await?;
    println!("{report}");
    let server_peak_rss_bytes = cli.server_pid.and_then(peak_rss_bytes);
    if let Some(bytes) = server_peak_rss_bytes {
        println!("orderer peak RSS: {:.1} MiB", bytes as f64 / (1024.0 * 1024.0));
    }
    if !cli.no_record {
        let path = cli
            .results
            .unwrap_or_else(|| results_dir().join("loadgen.ndjson"));
        let figures = LoadgenFigures {
            run: &report.figures,
            server_peak_rss_bytes,
        };
        Record::new("loadgen", &report.params, &figures).append_to(&path)?;
        println!("record appended to {}", path.display());
    }
    if !report.is_clean() {
        eprintln!("loadgen: some envelopes were rejected, never answered or never delivered");
    }
    Ok(report.is_clean())
}
