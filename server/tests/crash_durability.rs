//! SIGKILL of a real `orderer` process while it writes blocks.
//!
//! Probes the gap between a block's append (pwrite) and its publication to Deliver
//! (after fdatasync): a block any reader was sent must be intact after the crash, the
//! torn tail (a record half written when the process died) must be cut off, and the
//! restarted orderer must continue the same hash chain: on solo and on Kafka.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::Seek;
use orderer_proto::common::Block;
use orderer_proto::raw::DeliverFrame;
use support::backend::{Backend, generic};
use support::*;

const KILLS: usize = 3;
const BLOCKS_BEFORE_KILL: usize = 6;

/// Broadcasts 1 KiB envelopes until the stream breaks.
async fn load(endpoint: String, channel: String) {
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
            if stream.send(message(&channel, &data)).await.is_err() {
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
async fn delivered(endpoint: &str, channel: &str, start: u64, count: usize) -> Vec<Bytes> {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(seek(channel, Seek::At(start), Seek::At(u64::MAX), false))
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

/// The chain at `endpoint` once its last envelopes are `envelopes`, in order.
async fn ending_with(endpoint: &str, channel: &str, envelopes: &[Bytes]) -> Vec<Block> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let chain = chain_of(endpoint, channel).await;
        let tail: Vec<Bytes> = chain
            .iter()
            .flat_map(|b| b.data.clone().unwrap_or_default().data)
            .rev()
            .take(envelopes.len())
            .collect();
        if tail.first() == envelopes.last() {
            assert!(
                tail.iter().rev().eq(envelopes.iter()),
                "the envelopes last sent end the chain, in order"
            );
            return chain;
        }
        assert!(
            Instant::now() < deadline,
            "the envelopes last sent were not all ordered within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Under Kafka the restarted node also reads again what the partition holds after its
/// ledger's last offset, so the chain grows between rounds; the promise is the same.
async fn sigkill_while_writing_loses_no_delivered_block(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("crash");
    let ledger = tempfile::tempdir().unwrap();
    let mut seen: Vec<Bytes> = Vec::new();
    for round in 0..KILLS {
        let mut process = backend.spawn(ledger.path(), &genesis_block);
        let loader = tokio::spawn(load(process.endpoint.clone(), channel.clone()));
        let fresh = delivered(
            &process.endpoint,
            &channel,
            seen.len() as u64,
            BLOCKS_BEFORE_KILL,
        )
        .await;
        seen.extend(fresh);
        // Blocks are still being cut and written at this moment.
        process.kill();
        loader.abort();
        eprintln!(
            "round {round}: killed after {} delivered blocks",
            seen.len()
        );

        let mut process = backend.spawn(ledger.path(), &genesis_block);
        let mut client = client::connect(&process.endpoint).await.unwrap();
        let after = fetch_blocks(&mut client, &channel, 0, seen.len() as u64 - 1).await;
        for (number, (before, after)) in seen.iter().zip(&after).enumerate() {
            assert_eq!(
                before, after,
                "round {round}: block {number} changed across the crash"
            );
        }
        let newest = DeliverStream::open(&mut client)
            .await
            .unwrap()
            .fetch(seek(&channel, Seek::Oldest, Seek::Newest, false))
            .await
            .unwrap()
            .0;
        seen = newest;
        let chain: Vec<_> = seen.iter().map(decode_block).collect();
        assert_chain_valid(&chain);
        process.kill();
    }

    // A last run cuts new blocks onto the recovered chain: the 500 envelopes it is sent
    // are the chain's last 500 (Kafka first orders what its partition held before them).
    let mut process = backend.spawn(ledger.path(), &genesis_block);
    let mut client = client::connect(&process.endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let envelopes: Vec<_> = (0..500u32)
        .map(|i| message(&channel, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &envelopes).await;
    let chain = ending_with(&process.endpoint, &channel, &envelopes).await;
    let blocks: Vec<Bytes> = fetch_blocks(&mut client, &channel, 0, seen.len() as u64 - 1).await;
    assert_eq!(&blocks[..], &seen[..]);
    assert_chain_valid(&chain);
    process.kill();
}

generic!(sigkill_while_writing_loses_no_delivered_block);
