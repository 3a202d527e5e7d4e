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
    /// The orderer's process id, when it runs on this machine: its anonymous resident
    /// memory (Linux `RssAnon`: heap and stacks, not the mapped block files) is sampled
    /// every 20 ms during the run, and the peak recorded with the process's `VmHWM`
    /// (which also counts mapped file pages).
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
    #[serde(skip_serializing_if = "Option::is_none")]
    server_peak_anon_rss_bytes: Option<u64>,
}

/// The `field` (kB) of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Samples `RssAnon` of `pid` every 20 ms until `stop` turns true; the peak seen.
async fn sample_anon_peak(pid: u32, stop: tokio::sync::watch::Receiver<bool>) -> Option<u64> {
    let mut peak = None;
    loop {
        if let Some(bytes) = status_bytes(pid, "RssAnon:") {
            peak = peak.max(Some(bytes));
        }
        if *stop.borrow() {
            return peak;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
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
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sampler = cli
        .server_pid
        .map(|pid| tokio::spawn(sample_anon_peak(pid, stopped)));
    let report = loadgen::run::run(workload).await?;
    println!("{report}");
    let _ = stop.send(true);
    let server_peak_anon_rss_bytes = match sampler {
        Some(sampler) => sampler.await.ok().flatten(),
        None => None,
    };
    let server_peak_rss_bytes = cli.server_pid.and_then(|pid| status_bytes(pid, "VmHWM:"));
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    if let (Some(peak), Some(anon)) = (server_peak_rss_bytes, server_peak_anon_rss_bytes) {
        println!(
            "orderer peak RSS: {:.1} MiB (anonymous, sampled: {:.1} MiB)",
            mib(peak),
            mib(anon)
        );
    }
    if !cli.no_record {
        let path = cli
            .results
            .unwrap_or_else(|| results_dir().join("loadgen.ndjson"));
        let figures = LoadgenFigures {
            run: &report.figures,
            server_peak_rss_bytes,
            server_peak_anon_rss_bytes,
        };
        Record::new("loadgen", &report.params, &figures).append_to(&path)?;
        println!("record appended to {}", path.display());
    }
    if !report.is_clean() {
        eprintln!("loadgen: some envelopes were rejected, never answered or never delivered");
    }
    Ok(report.is_clean())
}
