//! The orderer cuts the blocks Fabric's own orderer cut from the same envelopes.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use loadgen::client::BroadcastStream;
use support::*;

/// Fabric's signed envelopes of blocks 215 and 216, broadcast in order to an orderer
/// bootstrapped from Fabric's genesis block (so checked against its MSP and policies),
/// come back as blocks with Fabric's data
/// hashes: 500 cut by MaxMessageCount, then 100 cut by the 2 s BatchTimeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabric_envelopes_are_cut_into_blocks_with_fabrics_data_hashes() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start_fabric(ledger.path()).await;
    let reader = fabric_signer();
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();

    let block_215 = fabric_block("block_215_size1024.pb");
    broadcast_all(&mut stream, &block_215.data.clone().unwrap().data).await;
    let ours = fetch_blocks_as(&mut client, &reader, CHANNEL, 0, 1).await;
    let genesis = std::fs::read(solo_genesis()).unwrap();
    assert_eq!(
        &ours[0][..],
        &genesis[..],
        "block 0 is the genesis block, byte for byte"
    );
    let first = decode_block(&ours[1]);
    assert_eq!(
        first.header.as_ref().unwrap().data_hash,
        block_215.header.unwrap().data_hash
    );
    assert_eq!(first.data, block_215.data);

    let block_216 = fabric_block("block_216_size1024.pb");
    let started = Instant::now();
    broadcast_all(&mut stream, &block_216.data.clone().unwrap().data).await;
    let ours = fetch_blocks_as(&mut client, &reader, CHANNEL, 2, 2).await;
    let waited = started.elapsed();
    let second = decode_block(&ours[0]);
    assert_eq!(second.data.as_ref().unwrap().data.len(), 100);
    assert_eq!(
        second.header.as_ref().unwrap().data_hash,
        block_216.header.unwrap().data_hash
    );
    assert!(
        waited >= Duration::from_millis(1900),
        "cut by the 2 s batch timeout, not earlier: {waited:?}"
    );

    let all: Vec<_> = fetch_blocks_as(&mut client, &reader, CHANNEL, 0, 2)
        .await
        .iter()
        .map(decode_block)
        .collect();
    assert_chain_valid(&all);
    orderer.stop().await;
}
