//! `orderer benchmark`: an in-process orderer (solo, a temporary ledger, real gRPC on
//! loopback) driven by loadgen as a library. Zero inputs: the defaults are the canonical
//! workload. Every run appends a record to `results/`.

mod sweep;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use engine::chain::ChainOptions;
use engine::cutter::BatchSize;
use engine::genesis::GenesisSpec;
use engine::registrar::{Registrar, RegistrarOptions};
use loadgen::args::WorkloadArgs;
use loadgen::record::{Record, results_dir};
use loadgen::report::Report;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::error::Error;

/// Flags of `orderer benchmark` (Fabric's old benchmark mode, plus rate and batch).
#[derive(Debug, Clone, Args)]
pub struct BenchmarkArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Consensus of the channels (only solo so far).
    #[arg(long, default_value = "solo")]
    pub consensus: String,
    /// BatchSize.MaxMessageCount.
    #[arg(long, default_value_t = 500)]
    pub max_message_count: u32,
    /// BatchSize.PreferredMaxBytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub preferred_max_bytes: u32,
    /// BatchSize.AbsoluteMaxBytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub absolute_max_bytes: u32,
    /// BatchTimeout, milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub batch_timeout_ms: u64,
    /// Sign while sending instead of before the clock starts.
    #[arg(long)]
    pub sign_live: bool,
    /// Step the offered rate up to saturation and draw the latency-throughput curve.
    #[arg(long)]
    pub sweep: bool,
    /// Seconds per step of a sweep.
    #[arg(long, default_value_t = 5.0)]
    pub sweep_step_seconds: f64,
    /// Results file (default: results/benchmark.ndjson, or results/sweep.ndjson).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Do not append records.
    #[arg(long)]
    pub no_record: bool,
}

/// What the orderer side of a benchmark was.
#[derive(Debug, Clone, Serialize)]
pub struct OrdererParams {
    /// Where the orderer ran.
    pub mode: &'static str,
    /// Consensus type.
    pub consensus: String,
    /// BatchSize.MaxMessageCount.
    pub max_message_count: u32,
    /// BatchSize.PreferredMaxBytes.
    pub preferred_max_bytes: u32,
    /// BatchSize.AbsoluteMaxBytes.
    pub absolute_max_bytes: u32,
    /// BatchTimeout in ms.
    pub batch_timeout_ms: u64,
}

/// A benchmark record's parameters.
#[derive(Debug, Serialize)]
pub struct BenchmarkParams<'a, W: Serialize> {
    /// The orderer.
    pub orderer: &'a OrdererParams,
    /// The workload.
    pub workload: W,
}

impl BenchmarkArgs {
    fn orderer_params(&self) -> OrdererParams {
        OrdererParams {
            mode: "in-process",
            consensus: self.consensus.clone(),
            max_message_count: self.max_message_count,
            preferred_max_bytes: self.preferred_max_bytes,
            absolute_max_bytes: self.absolute_max_bytes,
            batch_timeout_ms: self.batch_timeout_ms,
        }
    }
}

/// An orderer serving in this process until dropped or stopped.
struct InProcess {
    endpoint: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
    _ledger: tempfile::TempDir,
}

impl InProcess {
    async fn start(args: &BenchmarkArgs) -> Result<Self, Error> {
        if args.consensus != "solo" {
            return Err(Error::Config(format!(
                "--consensus {:?}: only solo is supported so far",
                args.consensus
            )));
        }
        let ledger = tempfile::tempdir().map_err(|source| Error::Io {
            action: "create a temporary ledger".into(),
            source,
        })?;
        let genesis = args
            .workload
            .channels
            .iter()
            .map(|channel_id| {
                GenesisSpec {
                    channel_id: channel_id.clone(),
                    consensus: args.consensus.clone(),
                    batch_size: BatchSize {
                        max_message_count: args.max_message_count,
                        absolute_max_bytes: args.absolute_max_bytes,
                        preferred_max_bytes: args.preferred_max_bytes,
                    },
                    batch_timeout: Duration::from_millis(args.batch_timeout_ms),
                }
                .build()
            })
            .collect();
        let options = RegistrarOptions {
            ledger_dir: ledger.path().to_path_buf(),
            chain: ChainOptions::default(),
        };
        let registrar = tokio::task::spawn_blocking(move || Registrar::open(&options, genesis))
            .await
            .map_err(|e| Error::Config(format!("opening the ledger failed: {e}")))??;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| Error::Io {
                action: "bind 127.0.0.1:0".into(),
                source,
            })?;
        let address = listener.local_addr().map_err(|source| Error::Io {
            action: "read listen address".into(),
            source,
        })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::serve_registrar(registrar, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            endpoint: format!("http://{address}"),
            stop,
            task,
            _ledger: ledger,
        })
    }

    async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| Error::Config(format!("orderer task failed: {e}")))?
    }
}

/// Runs the benchmark; `Ok(false)` when an envelope was rejected or never delivered.
pub async fn run(args: BenchmarkArgs) -> Result<bool, Error> {
    let orderer = InProcess::start(&args).await?;
    let clean = if args.sweep {
        sweep::run(&args, &orderer.endpoint).await?
    } else {
        let report = run_once(&args, &orderer.endpoint, None).await?;
        println!("{report}");
        if !args.no_record {
            let path = args
                .results
                .clone()
                .unwrap_or_else(|| results_dir().join("benchmark.ndjson"));
            let orderer_params = args.orderer_params();
            let params = BenchmarkParams {
                orderer: &orderer_params,
                workload: &report.params,
            };
            Record::new("benchmark", params, &report.figures).append_to(&path)?;
            println!("record appended to {}", path.display());
        }
        report.is_clean()
    };
    orderer.stop().await?;
    Ok(clean)
}

/// One loadgen run against `endpoint`, with `rate` overriding the flags' rate.
async fn run_once(
    args: &BenchmarkArgs,
    endpoint: &str,
    rate: Option<(f64, f64)>,
) -> Result<Report, Error> {
    let mut workload_args = args.workload.clone();
    if let Some((rate, seconds)) = rate {
        workload_args.rate = rate.to_string();
        workload_args.duration = Some(seconds);
    }
    let mut workload = workload_args.workload(endpoint.to_string())?;
    workload.presign = !args.sign_live;
    Ok(loadgen::run::run(workload).await?)
}
