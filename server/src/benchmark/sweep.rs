//! `orderer benchmark --sweep`: a closed-loop run finds saturation, then open-loop steps
//! from 10% to 110% of it. Each step is recorded; the SVG is drawn from the records read
//! back from the results file.

use std::path::Path;

use loadgen::plot::{SweepPoint, sweep_svg};
use loadgen::record::{Record, results_dir};
use serde::Serialize;

use super::{BenchmarkArgs, BenchmarkParams, InProcess, Setup, run_once};
use crate::error::Error;

/// Offered rates as fractions of the saturation throughput.
const STEPS: [f64; 11] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];

#[derive(Debug, Serialize)]
struct SweepParams<'a, W: Serialize> {
    sweep_id: &'a str,
    step: usize,
    fraction_of_saturation: f64,
    saturation_tps: f64,
    #[serde(flatten)]
    benchmark: BenchmarkParams<'a, W>,
}

pub(super) async fn run(
    args: &BenchmarkArgs,
    orderer: &InProcess,
    setup: Setup,
) -> Result<bool, Error> {
    let saturation = run_once(args, orderer, None).await?;
    let saturation_tps = saturation.figures.throughput_steady_tps;
    println!("saturation (closed loop): {saturation_tps:.0} tx/s delivered");
    let sweep_id = format!(
        "{}-{}",
        setup.consensus,
        loadgen::envelope::nonce_u64() % 1_000_000
    );
    let path = args
        .results
        .clone()
        .unwrap_or_else(|| results_dir().join("sweep.ndjson"));
    let orderer_params = args.orderer_params(setup);
    let mut clean = saturation.is_clean();
    for (step, fraction) in STEPS.iter().enumerate() {
        let rate = (saturation_tps * fraction).round();
        let report = run_once(args, orderer, Some((rate, args.sweep_step_seconds))).await?;
        let f = &report.figures;
        println!(
            "offered {rate:>8.0} tx/s: delivered {:>8.0} tx/s, commit p50 {:>8.1} ms, p99 {:>8.1} ms",
            f.throughput_steady_tps,
            f.commit_latency_us.p50 as f64 / 1000.0,
            f.commit_latency_us.p99 as f64 / 1000.0
        );
        clean &= report.is_clean();
        if !args.no_record {
            let params = SweepParams {
                sweep_id: &sweep_id,
                step,
                fraction_of_saturation: *fraction,
                saturation_tps,
                benchmark: BenchmarkParams {
                    orderer: &orderer_params,
                    workload: &report.params,
                },
            };
            Record::new("sweep", params, &report.figures).append_to(&path)?;
        }
    }
    if !args.no_record {
        let svg_path = path.with_file_name(format!("sweep-{sweep_id}.svg"));
        write_svg(&path, &sweep_id, &svg_path)?;
        println!(
            "sweep {sweep_id}: records in {}, curve in {}",
            path.display(),
            svg_path.display()
        );
    }
    Ok(clean)
}

/// Draws the curve of sweep `sweep_id` from the records in `records`.
pub fn write_svg(records: &Path, sweep_id: &str, svg_path: &Path) -> Result<(), Error> {
    let io = |action: &str, source| Error::Io {
        action: format!("{action} {}", records.display()),
        source,
    };
    let text = std::fs::read_to_string(records).map_err(|e| io("read", e))?;
    let mut points = Vec::new();
    let mut title = String::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if record["kind"] != "sweep" || record["params"]["sweep_id"] != sweep_id {
            continue;
        }
        let figures = &record["figures"];
        let number = |value: &serde_json::Value| value.as_f64().unwrap_or(0.0);
        let workload = &record["params"]["workload"];
        points.push(SweepPoint {
            offered_tps: number(&workload["rate"]["fixed"]),
            achieved_tps: number(&figures["throughput_steady_tps"]),
            p50_ms: number(&figures["commit_latency_us"]["p50"]) / 1000.0,
            p99_ms: number(&figures["commit_latency_us"]["p99"]) / 1000.0,
        });
        let orderer = &record["params"]["orderer"];
        title = format!(
            "{} {}, {} B payload, batch {} / {} ms, {} streams, git {}, {} cores",
            orderer["consensus"].as_str().unwrap_or("?"),
            orderer["mode"].as_str().unwrap_or("?"),
            workload["payload_bytes"],
            orderer["max_message_count"],
            orderer["batch_timeout_ms"],
            workload["broadcast_streams_per_channel"],
            record["git_rev"].as_str().unwrap_or("?"),
            record["hardware"]["cores"],
        );
    }
    points.sort_by(|a, b| a.offered_tps.total_cmp(&b.offered_tps));
    std::fs::write(svg_path, sweep_svg(&title, &points)).map_err(|e| io("write svg for", e))
}
