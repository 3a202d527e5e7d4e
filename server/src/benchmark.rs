//! `orderer benchmark`: an in-process orderer (solo, a temporary ledger, real gRPC on
//! loopback) driven by loadgen as a library. Zero inputs: the defaults are the canonical
//! workload. Every run appends a record to `results/`.

pub mod config_update;
mod cpu;
mod in_process;
mod scrape;
mod sweep;

use std::path::PathBuf;

use clap::Args;
use loadgen::args::WorkloadArgs;
use loadgen::record::{Record, results_dir};
use loadgen::report::{Figures, Report};
use loadgen::signers::Signers;
use loadgen::workload::Workload;
use serde::Serialize;

use self::in_process::InProcess;

use crate::error::Error;

/// Flags of `orderer benchmark` (Fabric's old benchmark mode, plus rate and batch).
#[derive(Debug, Clone, Args)]
pub struct BenchmarkArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Consensus of the channels: `solo`, or `kafka` (which runs solo first with the
    /// same workload, so both are recorded in one run and compared as a ratio). Kafka
    /// uses the cluster `KAFKA_BROKERS` names, or else starts a local broker with
    /// `scripts/kafka/start.sh` (and stops it after).
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
    /// Do not verify signatures or policies in the orderer (envelopes are still signed):
    /// only to measure what verification costs. Records say which was used.
    #[arg(long)]
    pub no_verify: bool,
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
    /// When Broadcast answers SUCCESS: `enqueue` (Fabric's: when the chain takes the
    /// envelope) or `durable` (once its block is on disk).
    #[arg(long, default_value = "enqueue", value_parser = ["enqueue", "durable"])]
    pub ack_mode: String,
    /// Also run each consensus with TLS on the listener (a development CA's certificate;
    /// loadgen verifies it): recorded next to the plain run of the same invocation.
    #[arg(long)]
    pub tls: bool,
    /// A librdkafka property for the Kafka run's clients, `name=value` (repeatable):
    /// to measure a tuning before putting it in production. Records list them.
    #[arg(long = "kafka-property", value_name = "NAME=VALUE")]
    pub kafka_properties: Vec<String>,
    /// The run id the records carry (default: a fresh one): invocations given the same
    /// id form one run, compared as ratios (`scripts/scaling.sh` alternates several).
    #[arg(long)]
    pub run_id: Option<u64>,
    /// Seconds into an open-loop run (`--rate N --duration D`) at which an admin of the
    /// channel's org broadcasts a config update of the first channel setting
    /// BatchSize.MaxMessageCount to `--new-max-message-count`. The record
    /// (results/config-update.ndjson) holds the update's answer, the config block, the
    /// most envelopes per block before and after it, and the delivered rate over the run
    /// (`--timeline-ms` buckets, 250 by default) with the dip around the update.
    #[arg(long, value_name = "SECONDS")]
    pub config_update_at: Option<f64>,
    /// The BatchSize.MaxMessageCount the config update of `--config-update-at` sets.
    #[arg(long, default_value_t = 100)]
    pub new_max_message_count: u32,
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
    /// Whether the orderer verified signatures and policies.
    pub verify: bool,
    /// Whether blocks were signed by the orderer's identity.
    pub blocks_signed: bool,
    /// Whether the listener served TLS.
    pub tls: bool,
    /// `enqueue` or `durable` acknowledgements.
    pub ack_mode: String,
    /// Identifies the invocation: records of one run (solo and Kafka, plain and TLS)
    /// share it, so they can be compared as ratios.
    pub run_id: u64,
    /// `--kafka-property` settings of a Kafka run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kafka_properties: Vec<String>,
}

/// A benchmark record's figures: the load generator's, and the orderer's CPU.
#[derive(Debug, Serialize)]
pub struct BenchmarkFigures<'a> {
    /// What the load generator measured.
    #[serde(flatten)]
    pub run: &'a Figures,
    /// CPU seconds the orderer's threads used during the run.
    pub orderer_cpu_s: Option<f64>,
    /// Delivered envelopes per orderer CPU second.
    pub tx_per_orderer_cpu_s: Option<f64>,
    /// CPU seconds the local Kafka broker's process used during the run (none for solo
    /// or a named cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_cpu_s: Option<f64>,
    /// `broadcast_processed_count` with status SUCCESS, scraped from the orderer's
    /// operations endpoint at the end of the run: should equal `acked_tx`.
    pub metrics_processed_success: u64,
}

/// A benchmark record's parameters.
#[derive(Debug, Serialize)]
pub struct BenchmarkParams<'a, W: Serialize> {
    /// The orderer.
    pub orderer: &'a OrdererParams,
    /// The workload.
    pub workload: W,
}

/// One orderer set-up of a benchmark invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// `solo` or `kafka`.
    pub consensus: &'static str,
    /// TLS on the listener.
    pub tls: bool,
    /// The invocation's id, shared by its records.
    pub run_id: u64,
}

impl std::fmt::Display for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.consensus)?;
        if self.tls {
            f.write_str(" with TLS")?;
        }
        Ok(())
    }
}

impl BenchmarkArgs {
    /// The set-ups this run measures, in order: solo, then Kafka if asked, each plain and
    /// then with TLS if asked.
    fn setups(&self) -> Vec<Setup> {
        let consensus: &[&'static str] = match self.consensus.as_str() {
            "kafka" => &["solo", "kafka"],
            _ => &["solo"],
        };
        let tls: &[bool] = if self.tls { &[false, true] } else { &[false] };
        let run_id = self.run_id.unwrap_or_else(loadgen::envelope::nonce_u64);
        consensus
            .iter()
            .flat_map(|&consensus| {
                tls.iter().map(move |&tls| Setup {
                    consensus,
                    tls,
                    run_id,
                })
            })
            .collect()
    }

    fn orderer_params(&self, setup: Setup) -> OrdererParams {
        let consensus = setup.consensus;
        OrdererParams {
            mode: "in-process",
            consensus: consensus.into(),
            tls: setup.tls,
            ack_mode: self.ack_mode.clone(),
            run_id: setup.run_id,
            max_message_count: self.max_message_count,
            preferred_max_bytes: self.preferred_max_bytes,
            absolute_max_bytes: self.absolute_max_bytes,
            batch_timeout_ms: self.batch_timeout_ms,
            verify: !self.no_verify,
            blocks_signed: true,
            kafka_properties: if consensus == "kafka" {
                self.kafka_properties.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// Runs the benchmark; `Ok(false)` when an envelope was rejected or never delivered.
pub async fn run(args: BenchmarkArgs) -> Result<bool, Error> {
    if !matches!(args.consensus.as_str(), "solo" | "kafka") {
        return Err(Error::Config(format!(
            "--consensus {:?}: solo or kafka",
            args.consensus
        )));
    }
    if let Some(at_s) = args.config_update_at {
        config_update::check_flags(&args, at_s)?;
    }
    let mut clean = true;
    let mut delivered_tps = Vec::new();
    for setup in args.setups() {
        println!("== {setup}");
        let orderer = InProcess::start(&args, setup).await?;
        if args.sweep {
            clean &= sweep::run(&args, &orderer, setup).await?;
        } else {
            let (report, counted) = measure(&args, &orderer, setup).await?;
            delivered_tps.push((setup, report.figures.throughput_delivered_tps));
            clean &= report.is_clean() && counted;
        }
        orderer.stop().await?;
    }
    if let Some((first, base)) = delivered_tps.first().copied() {
        for (setup, tps) in &delivered_tps[1..] {
            println!(
                "{setup} delivered {tps:.0} tx/s, {:.0}% of {first}'s {base:.0} tx/s in this run",
                100.0 * tps / base
            );
        }
    }
    Ok(clean)
}

/// One measured run against `orderer`, printed and recorded; with whether the orderer's
/// own `/metrics` counted what loadgen saw acknowledged and, with `--config-update-at`,
/// the update did what it must.
async fn measure(
    args: &BenchmarkArgs,
    orderer: &InProcess,
    setup: Setup,
) -> Result<(Report, bool), Error> {
    let broker_cpu = || orderer.broker_pid().and_then(cpu::process_cpu_ns);
    let (cpu_before, broker_before) = (cpu::orderer_cpu_ns(), broker_cpu());
    let (report, update) = match args.config_update_at {
        Some(at_s) => {
            let (report, update) = config_update::run(args, orderer, at_s).await?;
            (report, Some(update))
        }
        None => (run_once(args, orderer, None).await?, None),
    };
    let seconds = |after: Option<u64>, before: Option<u64>| {
        after
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before) as f64 / 1e9)
    };
    let orderer_cpu_s = seconds(cpu::orderer_cpu_ns(), cpu_before);
    let broker_cpu_s = seconds(broker_cpu(), broker_before);
    let scraped = scrape::metrics(&orderer.operations).await?;
    let metrics_processed_success = scrape::processed_success(&scraped, &report.params.channels);
    let figures = BenchmarkFigures {
        run: &report.figures,
        orderer_cpu_s,
        tx_per_orderer_cpu_s: orderer_cpu_s
            .filter(|seconds| *seconds > 0.0)
            .map(|seconds| report.figures.delivered_tx as f64 / seconds),
        broker_cpu_s,
        metrics_processed_success,
    };
    let matches = print_figures(args, &report, &figures);
    let failures = update.as_ref().map(config_update::UpdateRun::failures);
    if let Some(update) = &update {
        println!("{update}");
    }
    for failure in failures.iter().flatten() {
        println!("config update: {failure}");
    }
    if !args.no_record {
        record(args, setup, &report, &figures, update.as_ref())?;
    }
    Ok((report, matches && failures.is_none_or(|f| f.is_empty())))
}

/// Prints what a run measured; whether the orderer's `/metrics` counted every
/// envelope loadgen saw acknowledged.
fn print_figures(args: &BenchmarkArgs, report: &Report, figures: &BenchmarkFigures<'_>) -> bool {
    println!("{report}");
    if let (Some(seconds), Some(per_second)) = (figures.orderer_cpu_s, figures.tx_per_orderer_cpu_s)
    {
        println!(
            "orderer CPU: {seconds:.2} s, {per_second:.0} tx delivered per orderer CPU-second (verify: {})",
            !args.no_verify
        );
    }
    if let Some(seconds) = figures.broker_cpu_s {
        println!("broker CPU: {seconds:.2} s");
    }
    let counted = figures.metrics_processed_success;
    let matches = counted == report.figures.acked_tx;
    println!(
        "operations /metrics: broadcast_processed_count SUCCESS {counted}, loadgen acked {}{}",
        report.figures.acked_tx,
        if matches { " (match)" } else { " (MISMATCH)" }
    );
    matches
}

/// Appends the run's record: a `benchmark` one to results/benchmark.ndjson, or with a
/// config update a `config-update` one to results/config-update.ndjson (`--results`
/// names another file).
fn record(
    args: &BenchmarkArgs,
    setup: Setup,
    report: &Report,
    figures: &BenchmarkFigures<'_>,
    update: Option<&config_update::UpdateRun>,
) -> Result<(), Error> {
    let file = if update.is_some() {
        "config-update.ndjson"
    } else {
        "benchmark.ndjson"
    };
    let path = args
        .results
        .clone()
        .unwrap_or_else(|| results_dir().join(file));
    let orderer_params = args.orderer_params(setup);
    let params = BenchmarkParams {
        orderer: &orderer_params,
        workload: &report.params,
    };
    match update {
        None => Record::new("benchmark", params, figures).append_to(&path)?,
        Some(update) => Record::new(
            "config-update",
            config_update::WithUpdateParams {
                benchmark: params,
                config_update: &update.params,
            },
            config_update::WithUpdateFigures {
                benchmark: figures,
                config_update: &update.figures,
            },
        )
        .append_to(&path)?,
    }
    println!("record appended to {}", path.display());
    Ok(())
}

/// One loadgen run against `orderer`, signed by its org's clients, with `rate` overriding
/// the flags' rate.
async fn run_once(
    args: &BenchmarkArgs,
    orderer: &InProcess,
    rate: Option<(f64, f64)>,
) -> Result<Report, Error> {
    Ok(loadgen::run::run(workload_for(args, orderer, rate)?).await?)
}

/// The workload of the flags against `orderer`, signed by its org's clients, with `rate`
/// (tx/s, seconds) overriding the flags' rate.
fn workload_for(
    args: &BenchmarkArgs,
    orderer: &InProcess,
    rate: Option<(f64, f64)>,
) -> Result<Workload, Error> {
    let mut workload_args = args.workload.clone();
    if let Some((rate, seconds)) = rate {
        workload_args.rate = rate.to_string();
        workload_args.duration = Some(seconds);
    }
    let signers = if args.workload.unsigned {
        Signers::default()
    } else {
        orderer.clients.clone()
    };
    let mut workload = workload_args.workload_signed_by(orderer.endpoint.clone(), signers)?;
    workload.tls.clone_from(&orderer.tls);
    workload.presign = !args.sign_live;
    Ok(workload)
}
