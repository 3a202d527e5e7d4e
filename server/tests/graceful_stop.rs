//! SIGTERM to a loaded `orderer` process: it stops taking Broadcast, finishes what it
//! accepted, syncs and exits 0; restarted on the same ledger, it holds every envelope
//! it answered SUCCESS, once (solo cuts the pending batch at the stop; Kafka leaves it in
//! the partition and reads it again).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use support::backend::{Backend, generic};
use support::*;

async fn sigterm_under_load_exits_0_and_keeps_every_acknowledged_envelope(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("sigterm");
    let ledger = tempfile::tempdir().unwrap();
    let mut process = backend.spawn(ledger.path(), &genesis_block);
    let loader = tokio::spawn(load_until_closed(
        process.endpoint.clone(),
        channel.clone(),
        0,
    ));
    // Let the load run: some blocks cut, some envelopes pending.
    ordered(&process.endpoint, &channel, 1000).await;
    let pid = process.child.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let acked = loader.await.unwrap();
    assert!(acked.len() >= 1000, "{} acknowledged", acked.len());

    let restarted = backend.spawn(ledger.path(), &genesis_block);
    let (blocks, _) = ordered(&restarted.endpoint, &channel, acked.len()).await;
    assert_chain_valid(&blocks);
    let mut seen: HashMap<&Bytes, usize> = HashMap::new();
    for block in blocks.iter().skip(1) {
        for envelope in &block.data.as_ref().unwrap().data {
            *seen.entry(envelope).or_default() += 1;
        }
    }
    for (i, envelope) in acked.iter().enumerate() {
        assert_eq!(seen.get(envelope), Some(&1), "acknowledged envelope {i}");
    }
}

generic!(sigterm_under_load_exits_0_and_keeps_every_acknowledged_envelope);
