//! Restarting on an existing ledger continues the chain, on solo and on Kafka.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::BroadcastStream;
use support::backend::{Backend, generic};
use support::*;

/// 700 envelopes (500 cut by count, 200 pending at the stop), a graceful stop, a restart
/// given the genesis file again (not applied a second time), 500 more: the chain holds
/// every envelope of both runs once, in order, on one hash chain. Solo cuts the pending
/// 200 at the stop; Kafka leaves them in the partition and reads them again after the
/// restart, from the offset after the last one its ledger holds.
async fn restart_on_an_existing_ledger_continues_the_chain(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("restart");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let first: Vec<_> = (0..700u32)
        .map(|i| message(&channel, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &first).await;
    fetch_blocks(&mut client, &channel, 1, 1).await;
    drop(stream);
    orderer.stop().await;

    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let (_, ordered_first) = ordered(&orderer.endpoint, &channel, first.len()).await;
    assert_eq!(
        ordered_first, first,
        "every envelope of the first run, in order"
    );
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let second: Vec<_> = (0..500u32)
        .map(|i| message(&channel, &(i + 10_000).to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &second).await;
    let (blocks, envelopes) = ordered(&orderer.endpoint, &channel, 1200).await;
    assert_chain_valid(&blocks);
    let expected: Vec<Bytes> = first.iter().chain(&second).cloned().collect();
    assert_eq!(envelopes, expected, "both runs' envelopes once, in order");
    orderer.stop().await;
}

generic!(restart_on_an_existing_ledger_continues_the_chain);
