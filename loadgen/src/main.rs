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
    if !cli.no_record {
        let path = cli
            .results
            .unwrap_or_else(|| results_dir().join("loadgen.ndjson"));
        Record::new("loadgen", &report.params, &report.figures).append_to(&path)?;
        println!("record appended to {}", path.display());
    }
    if !report.is_clean() {
        eprintln!("loadgen: some envelopes were rejected, never answered or never delivered");
    }
    Ok(report.is_clean())
}
