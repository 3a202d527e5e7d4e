//! `orderer benchmark` and loadgen runs end to end, small enough for CI.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use loadgen::workload::Rate;
use orderer_proto::Message;
use orderer_proto::common::{Envelope, Payload, SignatureHeader};
use support::*;

/// Runs `orderer benchmark` with `flags`, recording into a temporary file; its stdout and
/// the records it appended, after checking it succeeded.
fn run_benchmark(flags: &[&str]) -> (String, Vec<serde_json::Value>) {
    let results = tempfile::tempdir().unwrap();
    let path = results.path().join("benchmark.ndjson");
    let output = Command::new(env!("CARGO_BIN_EXE_orderer"))
        .arg("benchmark")
        .args(flags)
        .arg("--results")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let records = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (stdout, records)
}

#[test]
fn benchmark_command_runs_and_appends_a_record() {
    let (stdout, records) = run_benchmark(&[
        "--total",
        "3000",
        "--quiet",
        "--batch-timeout-ms",
        "200",
        "--tls",
    ]);
    assert!(stdout.contains("throughput"), "{stdout}");
    assert!(stdout.contains("commit"), "{stdout}");
    assert_eq!(records.len(), 2, "plain, then TLS");
    assert_eq!(
        records[0]["params"]["orderer"]["run_id"],
        records[1]["params"]["orderer"]["run_id"]
    );
    for (record, tls) in records.iter().zip([false, true]) {
        assert_eq!(record["params"]["orderer"]["tls"], tls);
        assert_eq!(record["params"]["workload"]["tls"], tls);
        assert_eq!(record["figures"]["delivered_tx"], 3000);
        assert_eq!(
            record["figures"]["metrics_processed_success"], 3000,
            "the orderer's /metrics counted every acknowledged envelope"
        );
    }
    let record = &records[0];
    assert_eq!(record["kind"], "benchmark");
    assert_eq!(record["figures"]["delivered_tx"], 3000);
    assert_eq!(record["figures"]["missing_tx"], 0);
    assert_eq!(record["params"]["workload"]["signed"], true);
    assert!(record["hardware"]["cores"].as_u64().unwrap() >= 1);
    assert!(record["git_rev"].is_string());
}

/// Open loop against the tests' org's channel: every envelope acked and seen by both Deliver
/// clients exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_run_matches_every_envelope() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let report = loadgen::run::run(workload(
        orderer.endpoint.clone(),
        CHANNEL,
        Rate::Fixed(2000.0),
        1500,
    ))
    .await
    .unwrap();
    let figures = &report.figures;
    assert!(report.is_clean(), "{report}");
    assert_eq!((figures.acked_tx, figures.delivered_tx), (1500, 1500));
    assert_eq!(
        figures.commit_latency_us.count, 3000,
        "both Deliver clients timed every envelope"
    );
    assert_eq!(figures.blocks, 3, "cut by MaxMessageCount 500: {report}");
    orderer.stop().await;
}

/// Envelopes the orderer refuses make the run unclean (loadgen exits non-zero on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_envelopes_make_the_run_unclean() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let mut load = workload(
        orderer.endpoint.clone(),
        CHANNEL,
        Rate::Max { window: 8 },
        100,
    );
    load.payload_bytes = 11 * 1024 * 1024; // over AbsoluteMaxBytes
    load.total_tx = 2;
    load.drain_timeout = Duration::from_millis(500);
    let report = loadgen::run::run(load).await.unwrap();
    assert_eq!(report.figures.rejected_tx, 2);
    assert!(!report.is_clean());
    orderer.stop().await;
}

/// Two channels, two streams and two Deliver clients each: every envelope is matched on
/// its own channel, by both of that channel's Deliver clients.
#[test]
fn benchmark_drives_several_channels() {
    let (_, records) = run_benchmark(&[
        "--channels",
        "alpha,beta",
        "--broadcasters",
        "2",
        "--deliverers",
        "2",
        "--total",
        "2000",
        "--quiet",
        "--rate",
        "4000",
        "--batch-timeout-ms",
        "10000",
        "--max-message-count",
        "100",
    ]);
    let record = &records[0];
    let figures = &record["figures"];
    assert_eq!(figures["delivered_tx"], 2000);
    assert_eq!(
        figures["commit_latency_us"]["count"], 4000,
        "two clients per channel"
    );
    assert_eq!(
        figures["blocks"], 20,
        "1000 envelopes per channel in blocks of 100"
    );
    assert_eq!(record["params"]["workload"]["channels"][1], "beta");
}

/// `--signers 8`: eight client identities of the channel's org sign the envelopes round
/// robin; the orderer accepts each, and the record says how many signed.
#[test]
fn benchmark_signs_with_many_identities_and_records_how_many() {
    let (stdout, records) = run_benchmark(&[
        "--signers",
        "8",
        "--total",
        "800",
        "--quiet",
        "--batch-timeout-ms",
        "200",
    ]);
    assert!(stdout.contains("issued 8 client identities"), "{stdout}");
    let record = &records[0];
    assert_eq!(record["params"]["workload"]["signers"], 8);
    assert_eq!(record["params"]["workload"]["signed"], true);
    assert_eq!(record["figures"]["delivered_tx"], 800);
    assert_eq!(record["figures"]["rejected_tx"], 0);
}

/// A run signed by eight clients of the tests' org: the delivered blocks hold envelopes of
/// eight distinct creators, each signing an equal share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_signers_are_eight_creators_in_the_blocks() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let mut load = workload(
        orderer.endpoint.clone(),
        CHANNEL,
        Rate::Max { window: 32 },
        400,
    );
    load.signers = loadgen::signers::Signers::issue(&org().ca, 8).unwrap();
    let report = loadgen::run::run(load).await.unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.params.signers.len(), 8);
    let mut creators = std::collections::HashMap::<Bytes, usize>::new();
    for block in chain_of(&orderer.endpoint, CHANNEL).await.iter().skip(1) {
        for envelope in &block.data.as_ref().unwrap().data {
            let envelope = Envelope::decode(envelope.clone()).unwrap();
            let header = Payload::decode(envelope.payload).unwrap().header.unwrap();
            let signature_header = SignatureHeader::decode(header.signature_header).unwrap();
            *creators.entry(signature_header.creator).or_default() += 1;
        }
    }
    assert_eq!(creators.len(), 8, "distinct creators");
    assert!(creators.values().all(|&count| count == 50), "{creators:?}");
    orderer.stop().await;
}

/// `--config-update-at`: an admin of the channel's org changes MaxMessageCount from 100
/// to 20 halfway through an open-loop run. The update is answered SUCCESS and ordered in
/// one config block carrying the new count; blocks before it hold up to 100 envelopes,
/// blocks after it at most 20 and (under load) some exactly 20; no envelope is lost, and
/// the record holds the delivered timeline and the dip read from it.
#[test]
fn config_update_under_load_changes_the_block_size_and_loses_nothing() {
    let (stdout, records) = run_benchmark(&[
        "--rate",
        "1000",
        "--duration",
        "3",
        "--config-update-at",
        "1.5",
        "--max-message-count",
        "100",
        "--new-max-message-count",
        "20",
        "--batch-timeout-ms",
        "500",
        "--quiet",
    ]);
    assert!(stdout.contains("answered SUCCESS"), "{stdout}");
    let record = &records[0];
    assert_eq!(record["kind"], "config-update");
    let update = &record["params"]["config_update"];
    assert_eq!(update["at_s"], 1.5);
    assert_eq!(update["max_message_count_from"], 100);
    assert_eq!(update["max_message_count_to"], 20);
    let figures = &record["figures"];
    assert_eq!(figures["update_status"], "SUCCESS");
    assert!(figures["update_sent_s"].as_f64().unwrap() >= 1.5);
    assert!(figures["config_block"].as_u64().unwrap() > 1, "{figures}");
    assert_eq!(figures["config_blocks"], 1);
    assert_eq!(figures["config_block_max_message_count"], 20);
    let before = figures["tx_per_block_max_before"].as_u64().unwrap();
    assert!(
        (21..=100).contains(&before),
        "old size in force before: {before}"
    );
    assert_eq!(figures["tx_per_block_max_after"], 20);
    assert!(figures["blocks_after_at_new_max"].as_u64().unwrap() > 0);
    assert_eq!(
        (
            &figures["delivered_tx"],
            &figures["missing_tx"],
            &figures["duplicate_tx"]
        ),
        (&3000.into(), &0.into(), &0.into())
    );
    assert_eq!(
        figures["metrics_processed_success"], 3000,
        "the orderer's SUCCESS count, the update left out"
    );
    let timeline = &figures["delivered_timeline"];
    assert_eq!(timeline["bucket_ms"], 250);
    let buckets = timeline["delivered_tx"].as_array().unwrap();
    let delivered: u64 = buckets.iter().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(delivered, 3000, "every delivered envelope is in a bucket");
    assert!(figures["dip_ratio"].is_number(), "{figures}");
    assert!(figures["rate_before_tps"].as_f64().unwrap() > 0.0);
}

/// A config update needs an open-loop run it falls within: anything else is refused
/// before an orderer starts, naming what is needed.
#[test]
fn config_update_without_an_open_loop_run_is_refused() {
    for flags in [
        &["--config-update-at", "1"][..],
        &[
            "--config-update-at",
            "5",
            "--rate",
            "100",
            "--duration",
            "2",
        ],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_orderer"))
            .arg("benchmark")
            .args(flags)
            .arg("--no-record")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flags:?} ran");
        assert!(stderr.contains("--config-update-at"), "{flags:?}: {stderr}");
    }
}
