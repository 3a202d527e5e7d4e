//! SIGKILL soak: a loaded `orderer` process is killed at a random moment 20 times in a
//! row on the same ledger. Every restart recovers and the chain verifies. With
//! `General.AckMode: durable` no envelope that was answered SUCCESS is ever missing (or
//! twice); with Fabric's default (acknowledged when queued) the test counts how many
//! acknowledged envelopes a kill loses, which is what durable mode is for. (A SIGKILL
//! keeps the page cache: this shows answers wait for the store; power loss is what the
//! fdatasync before publication is for, and no test here cuts power.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::process::spawn_orderer_with;
use support::*;

const KILLS: u32 = 20;

/// Runs the soak in `ack_mode`; returns how many envelopes were acknowledged and how
/// many of those are missing at the end.
async fn soak(ack_mode: &str) -> (usize, usize) {
    let ledger = tempfile::tempdir().unwrap();
    // Small blocks, cut often: a durable acknowledgement waits for its block.
    let genesis_block = small_batch_genesis(ledger.path(), 20, Duration::from_millis(50));
    let ledger = ledger.path().join("ledger");
    let env = [("ORDERER_GENERAL_ACKMODE", ack_mode.to_string())];
    let mut acked: Vec<Bytes> = Vec::new();
    let mut lost_after_kill = Vec::new();
    for round in 0..=KILLS {
        let mut process = spawn_orderer_with(&ledger, &genesis_block, &env);
        let counts = envelope_counts(&chain_of(&process.endpoint, CHANNEL).await);
        let missing = acked.iter().filter(|e| !counts.contains_key(*e)).count();
        assert!(counts.values().all(|n| *n == 1), "an envelope twice");
        if ack_mode == "durable" {
            assert_eq!(
                missing, 0,
                "after kill {round}: acknowledged envelopes missing"
            );
        }
        lost_after_kill.push(missing);
        if round == KILLS {
            eprintln!(
                "{ack_mode}: {} acknowledged, missing after each restart: {lost_after_kill:?}",
                acked.len()
            );
            report_fault(
                "sigkill",
                serde_json::json!({
                    "ack_mode": ack_mode, "kills": KILLS, "broadcast_streams": 1,
                    "in_flight": 50, "max_message_count": 20, "batch_timeout_ms": 50,
                }),
                serde_json::json!({
                    "acked_tx": acked.len(), "missing_tx": missing,
                    "missing_after_each_restart": lost_after_kill,
                    "restarts_verified": KILLS + 1, "duplicate_tx": 0,
                }),
            );
            return (acked.len(), missing);
        }
        let loader = tokio::spawn(load_until_closed(
            process.endpoint.clone(),
            CHANNEL.to_string(),
            round,
        ));
        // A random moment: after 100 to 1,100 ms of load.
        let pause_ms = 100 + loadgen::envelope::nonce_u64() % 1000;
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        process.kill();
        acked.extend(loader.await.unwrap());
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_acks_lose_nothing_acknowledged_over_20_kills() {
    let (acked, missing) = soak("durable").await;
    assert!(
        acked >= 1000,
        "only {acked} acknowledged: the soak proves little"
    );
    assert_eq!(missing, 0);
}

/// Fabric's default acknowledges on enqueue: the kills lose envelopes it answered
/// SUCCESS (printed), but every restart recovers a valid chain with no duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_acks_recover_a_valid_chain_over_20_kills() {
    soak("enqueue").await;
}
