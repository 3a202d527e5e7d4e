//! SIGKILL of a real `orderer` process while it writes blocks.
//!
//! Probes the gap between a block's append (pwrite) and its publication to Deliver
//! (after fdatasync): a block any reader was sent must be intact after the crash, the
//! torn tail (a record half written when the process died) must be cut off, and the
//! restarted orderer must continue the same hash chain.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::Seek;
use orderer_proto::raw::DeliverFrame;
use support::process::spawn_orderer;
use support::*;

const KILLS: usize = 3;
const BLOCKS_BEFORE_KILL: usize = 6;

/// Broadcasts 1 KiB envelopes until the stream breaks.
async fn load(endpoint: String) {
    let Ok(mut client) = client::connect(&endpoint).await else {
        return;
    };
    let Ok(mut stream) = BroadcastStream::open(&mut client).await else {
        return;
    };
    let mut sent = 0u64;
    loop {
        for _ in 0..100 {
            let mut data = vec![0u8; 1024];
            data[..8].copy_from_slice(&sent.to_le_bytes());
            sent += 1;
            if stream.send(message(CHANNEL, &data)).await.is_err() {
                return;
            }
        }
        for _ in 0..100 {
            if stream.recv().await.is_err() {
                return;
            }
        }
    }
}

/// Streams blocks from `start` and returns once `count` have arrived.
async fn delivered(endpoint: &str, start: u64, count: usize) -> Vec<Bytes> {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(seek(CHANNEL, Seek::At(start), Seek::At(u64::MAX), false))
        .await
        .unwrap();
    let mut blocks = Vec::new();
    while blocks.len() < count {
        match deliver.next().await.unwrap() {
            DeliverFrame::Block(block) => blocks.push(block),
            DeliverFrame::Status(status) => panic!("unexpected status {status:?}"),
        }
    }
    blocks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_writing_loses_no_delivered_block() {
    let ledger = tempfile::tempdir().unwrap();
    let mut seen: Vec<Bytes> = Vec::new();
    for round in 0..KILLS {
        let mut process = spawn_orderer(ledger.path());
        let loader = tokio::spawn(load(process.endpoint.clone()));
        let fresh = delivered(&process.endpoint, seen.len() as u64, BLOCKS_BEFORE_KILL).await;
        seen.extend(fresh);
        // Blocks are still being cut and written at this moment.
        process.child.kill().unwrap();
        process.child.wait().unwrap();
        loader.abort();
        eprintln!(
            "round {round}: killed after {} delivered blocks",
            seen.len()
        );

        let mut process = spawn_orderer(ledger.path());
        let mut client = client::connect(&process.endpoint).await.unwrap();
        let after = fetch_blocks(&mut client, 0, seen.len() as u64 - 1).await;
        for (number, (before, after)) in seen.iter().zip(&after).enumerate() {
            assert_eq!(
                before, after,
                "round {round}: block {number} changed across the crash"
            );
        }
        let newest = DeliverStream::open(&mut client)
            .await
            .unwrap()
            .fetch(seek(CHANNEL, Seek::Oldest, Seek::Newest, false))
            .await
            .unwrap()
            .0;
        seen = newest;
        let chain: Vec<_> = seen.iter().map(decode_block).collect();
        assert_chain_valid(&chain);
        process.child.kill().unwrap();
        process.child.wait().unwrap();
    }

    // A last run cuts new blocks onto the recovered chain.
    let mut process = spawn_orderer(ledger.path());
    let mut client = client::connect(&process.endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let envelopes: Vec<_> = (0..500u32)
        .map(|i| message(CHANNEL, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &envelopes).await;
    let height = seen.len() as u64;
    let blocks = fetch_blocks(&mut client, 0, height).await;
    assert_eq!(&blocks[..seen.len()], &seen[..]);
    let chain: Vec<_> = blocks.iter().map(decode_block).collect();
    assert_chain_valid(&chain);
    assert_eq!(chain.last().unwrap().data.clone().unwrap().data, envelopes);
    process.child.kill().unwrap();
    process.child.wait().unwrap();
}
