//! Kafka consensus with real `orderer` processes and a real Kafka-protocol broker (the
//! local tansu the project's scripts start, or the cluster `KAFKA_BROKERS` names): two
//! nodes on one topic cut identical chains, a SIGKILLed node catches up from its ledger,
//! a paused broker turns Broadcast away with SERVICE_UNAVAILABLE and loses nothing (also
//! under the load of four streams), and
//! a trickle of envelopes is cut by time-to-cut messages.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream};
use orderer_proto::common::{Block, Status};
use orderer_proto::orderer::KafkaMetadata;
use prost::Message as _;
use support::backend::Backend;
use support::*;

/// Envelopes of one client sent before reading answers.
const WINDOW: usize = 100;

/// A Kafka backend and a channel of its own (its own topic, so tests sharing a named
/// cluster do not share topics), cut at `max_message_count` envelopes or `batch_timeout`.
fn kafka_channel(
    tag: &str,
    max_message_count: u32,
    batch_timeout: Duration,
) -> (Backend, String, PathBuf) {
    let backend = Backend::kafka();
    let (channel, genesis_block) = backend.channel_with(tag, |spec| {
        spec.batch_size.max_message_count = max_message_count;
        spec.batch_timeout = batch_timeout;
    });
    (backend, channel, genesis_block)
}

/// `count` distinct envelopes for `channel`, tagged `tag`.
fn envelopes(channel: &str, tag: u8, count: usize) -> Vec<Bytes> {
    (0..count)
        .map(|i| {
            let mut data = vec![tag; 256];
            data[..8].copy_from_slice(&(i as u64).to_le_bytes());
            message(channel, &data)
        })
        .collect()
}

/// Broadcasts `envelopes` over one stream, `WINDOW` at a time; returns each one's status
/// (`None` where the stream broke before it was answered).
async fn broadcast(endpoint: &str, envelopes: &[Bytes]) -> Vec<Option<i32>> {
    let mut statuses = vec![None; envelopes.len()];
    let Ok(mut client) = client::connect(endpoint).await else {
        return statuses;
    };
    let Ok(mut stream) = BroadcastStream::open(&mut client).await else {
        return statuses;
    };
    for (start, chunk) in envelopes.chunks(WINDOW).enumerate() {
        for envelope in chunk {
            if stream.send(envelope.clone()).await.is_err() {
                return statuses;
            }
        }
        for i in 0..chunk.len() {
            match stream.recv().await {
                Ok(response) => {
                    if response.status != Status::Success as i32 && !response.info.is_empty() {
                        eprintln!("envelope {}: {}", start * WINDOW + i, response.info);
                    }
                    statuses[start * WINDOW + i] = Some(response.status);
                }
                Err(_) => return statuses,
            }
        }
    }
    statuses
}

fn envelopes_in(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .skip(1)
        .map(|b| b.data.as_ref().map_or(0, |d| d.data.len()))
        .sum()
}

/// The node's chain once it holds at least `count` envelopes after genesis.
async fn chain_holding(endpoint: &str, channel: &str, count: usize) -> Vec<Block> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let blocks = chain_of(endpoint, channel).await;
        if envelopes_in(&blocks) >= count {
            return blocks;
        }
        assert!(
            Instant::now() < deadline,
            "{endpoint} holds {} of {count} envelopes",
            envelopes_in(&blocks)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn kafka_metadata(block: &Block) -> KafkaMetadata {
    let slot = &block.metadata.as_ref().unwrap().metadata[3];
    let entry = orderer_proto::common::Metadata::decode(slot.clone()).unwrap();
    KafkaMetadata::decode(entry.value).unwrap()
}

/// Same numbers, previous hashes, data hashes, envelopes and Kafka offsets; only the
/// signatures (each node signs its own blocks) may differ.
fn assert_identical(a: &[Block], b: &[Block]) {
    assert_eq!(a.len(), b.len(), "chain lengths");
    assert_chain_valid(a);
    for (x, y) in a.iter().zip(b) {
        let number = x.header.as_ref().unwrap().number;
        assert_eq!(x.header, y.header, "header of block {number}");
        assert_eq!(x.data, y.data, "data of block {number}");
        if number > 0 {
            assert_eq!(
                kafka_metadata(x),
                kafka_metadata(y),
                "offsets of block {number}"
            );
        }
    }
}

/// Each envelope that got SUCCESS is in `blocks` exactly once, and nothing else is.
fn assert_exactly_once(blocks: &[Block], acked: &[Bytes], others: &[Bytes]) {
    let mut seen: HashMap<&Bytes, usize> = HashMap::new();
    for block in blocks.iter().skip(1) {
        for envelope in &block.data.as_ref().unwrap().data {
            *seen.entry(envelope).or_default() += 1;
        }
    }
    for (i, envelope) in acked.iter().enumerate() {
        assert_eq!(seen.get(envelope), Some(&1), "acknowledged envelope {i}");
    }
    for envelope in others {
        assert!(
            seen.get(envelope).copied().unwrap_or(0) <= 1,
            "an envelope twice"
        );
    }
    let known = acked.len() + others.len();
    assert!(seen.len() <= known, "blocks hold envelopes nobody sent");
}

fn acked(envelopes: &[Bytes], statuses: &[Option<i32>]) -> (Vec<Bytes>, Vec<Bytes>) {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for (envelope, status) in envelopes.iter().zip(statuses) {
        if *status == Some(Status::Success as i32) {
            yes.push(envelope.clone());
        } else {
            no.push(envelope.clone());
        }
    }
    (yes, no)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_fed_at_once_cut_identical_chains() {
    let (backend, channel, genesis_block) =
        kafka_channel("twonodes", 10, Duration::from_millis(500));
    let (ledger_a, ledger_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = backend.spawn(ledger_a.path(), &genesis_block);
    let b = backend.spawn(ledger_b.path(), &genesis_block);

    let (to_a, to_b) = (envelopes(&channel, 1, 600), envelopes(&channel, 2, 600));
    let (status_a, status_b) =
        tokio::join!(broadcast(&a.endpoint, &to_a), broadcast(&b.endpoint, &to_b));
    let all: Vec<Bytes> = to_a.iter().chain(&to_b).cloned().collect();
    let statuses: Vec<_> = status_a.into_iter().chain(status_b).collect();
    assert!(
        statuses.iter().all(|s| *s == Some(Status::Success as i32)),
        "every envelope acknowledged: {statuses:?}"
    );

    let chain_a = chain_holding(&a.endpoint, &channel, all.len()).await;
    let chain_b = chain_holding(&b.endpoint, &channel, all.len()).await;
    assert!(chain_a.len() > 100, "{} blocks", chain_a.len());
    assert_identical(&chain_a, &chain_b);
    assert_exactly_once(&chain_a, &all, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_sigkilled_under_load_catches_up_from_its_ledger() {
    let (backend, channel, genesis_block) =
        kafka_channel("sigkill", 10, Duration::from_millis(500));
    let (ledger_a, ledger_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = backend.spawn(ledger_a.path(), &genesis_block);
    let mut b = backend.spawn(ledger_b.path(), &genesis_block);

    let (to_a, to_b) = (envelopes(&channel, 1, 3000), envelopes(&channel, 2, 3000));
    let load_a = tokio::spawn({
        let (endpoint, to_a) = (a.endpoint.clone(), to_a.clone());
        async move { broadcast(&endpoint, &to_a).await }
    });
    let load_b = tokio::spawn({
        let (endpoint, to_b) = (b.endpoint.clone(), to_b.clone());
        async move { broadcast(&endpoint, &to_b).await }
    });
    // Kill B while both nodes are loaded and B is cutting blocks.
    let deadline = Instant::now() + Duration::from_secs(60);
    while chain_of(&b.endpoint, &channel).await.len() < 30 {
        assert!(Instant::now() < deadline, "B cut no blocks");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.kill();
    let height_at_kill = chain_of(&a.endpoint, &channel).await.len();
    let status_b = load_b.await.unwrap();
    let restarted = backend.spawn(ledger_b.path(), &genesis_block);
    let status_a = load_a.await.unwrap();

    let (mut acked_all, mut others) = acked(&to_a, &status_a);
    let (acked_b, others_b) = acked(&to_b, &status_b);
    eprintln!(
        "A height at the kill {height_at_kill}; B's envelopes acknowledged before it died: {}",
        acked_b.len()
    );
    assert_eq!(acked_all.len(), to_a.len(), "A kept acknowledging");
    acked_all.extend(acked_b);
    others.extend(others_b);
    let chain_a = chain_holding(&a.endpoint, &channel, acked_all.len()).await;
    // Whatever B produced but never acknowledged is cut by now too (one batch timeout).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let chain_a = chain_of(&a.endpoint, &channel).await.max_by_len(chain_a);
    let chain_b = chain_holding(&restarted.endpoint, &channel, envelopes_in(&chain_a)).await;
    assert_identical(&chain_a, &chain_b);
    assert_exactly_once(&chain_a, &acked_all, &others);
}

trait Longest {
    fn max_by_len(self, other: Self) -> Self;
}

impl Longest for Vec<Block> {
    fn max_by_len(self, other: Self) -> Self {
        if self.len() >= other.len() {
            self
        } else {
            other
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_broker_turns_broadcast_away_and_loses_nothing() {
    let (backend, channel, genesis_block) = kafka_channel("paused", 10, Duration::from_millis(500));
    let Backend::Kafka(broker) = &backend else {
        unreachable!("a Kafka backend")
    };
    let ledger = tempfile::tempdir().unwrap();
    let a = backend.spawn(ledger.path(), &genesis_block);

    let before = envelopes(&channel, 1, 50);
    let statuses = broadcast(&a.endpoint, &before).await;
    assert_eq!(acked(&before, &statuses).0.len(), before.len());
    chain_holding(&a.endpoint, &channel, before.len()).await;

    broker.pause().unwrap();
    let paused = Instant::now();
    let during = envelopes(&channel, 2, 20);
    let started = Instant::now();
    let statuses = broadcast(&a.endpoint, &during).await;
    let waited = started.elapsed();
    // WriteTimeout is 3 s: every envelope is answered within it, plus slack.
    assert!(waited < Duration::from_secs(8), "answered after {waited:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == Some(Status::ServiceUnavailable as i32)),
        "{statuses:?}"
    );
    // Deliver keeps serving what exists.
    assert!(envelopes_in(&chain_of(&a.endpoint, &channel).await) >= before.len());
    broker.resume().unwrap();
    let paused_for = paused.elapsed();

    let after = envelopes(&channel, 3, 50);
    let statuses = broadcast(&a.endpoint, &after).await;
    let (acked_after, refused_after) = acked(&after, &statuses);
    assert!(refused_after.is_empty(), "{statuses:?}");
    let acked_all: Vec<Bytes> = before.iter().chain(&acked_after).cloned().collect();
    chain_holding(&a.endpoint, &channel, acked_all.len()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let blocks = chain_of(&a.endpoint, &channel).await;
    let refused_but_ordered = envelopes_in(&blocks) - acked_all.len();
    eprintln!("refused while paused and ordered after all: {refused_but_ordered}");
    assert_exactly_once(&blocks, &acked_all, &during);
    report_fault(
        "broker_pause",
        serde_json::json!({ "signal": "SIGSTOP", "write_timeout_ms": 3000, "max_message_count": 10 }),
        serde_json::json!({
            "acked_tx": acked_all.len(), "missing_tx": 0, "duplicate_tx": 0,
            "refused_while_paused_tx": during.len(),
            "refused_but_ordered_after_resume_tx": refused_but_ordered,
            "paused_ms": paused_for.as_millis(), "answered_all_while_paused_ms": waited.as_millis(),
        }),
    );
}

/// Four streams keep 50 envelopes each in flight while the broker is stopped for 4 s:
/// what was answered SUCCESS before, during and after is in the chain exactly once, what
/// was refused (SERVICE_UNAVAILABLE) at most once, and ordering resumes by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_paused_under_load_loses_nothing_acknowledged() {
    const STREAMS: u32 = 4;
    let (backend, channel, genesis_block) =
        kafka_channel("paused-load", 50, Duration::from_millis(200));
    let Backend::Kafka(broker) = &backend else {
        unreachable!("a Kafka backend")
    };
    let ledger = tempfile::tempdir().unwrap();
    let a = backend.spawn(ledger.path(), &genesis_block);
    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..STREAMS)
        .map(|tag| {
            let (endpoint, channel) = (a.endpoint.clone(), channel.clone());
            tokio::spawn(load_until(endpoint, channel, tag, Arc::clone(&stop)))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.pause().unwrap();
    let paused = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    broker.resume().unwrap();
    let paused_for = paused.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut refused) = (Vec::new(), 0);
    for loader in loaders {
        let loaded = loader.await.unwrap();
        acked.extend(loaded.acked);
        refused += loaded.unavailable;
    }
    assert!(refused > 0, "the paused broker refused nothing");
    chain_holding(&a.endpoint, &channel, acked.len()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = envelope_counts(&chain_of(&a.endpoint, &channel).await);
    assert!(seen.values().all(|n| *n == 1), "an envelope twice");
    let missing = acked.iter().filter(|e| !seen.contains_key(*e)).count();
    assert_eq!(missing, 0, "acknowledged envelopes missing");
    report_fault(
        "broker_pause_under_load",
        serde_json::json!({ "signal": "SIGSTOP", "write_timeout_ms": 3000, "broadcast_streams": STREAMS,
            "in_flight": 50, "max_message_count": 50 }),
        serde_json::json!({
            "acked_tx": acked.len(), "missing_tx": 0, "duplicate_tx": 0,
            "refused_while_paused_tx": refused,
            "refused_but_ordered_after_resume_tx": seen.len() - acked.len(),
            "paused_ms": paused_for.as_millis(),
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_is_cut_by_time_to_cut_identically_on_both_nodes() {
    // Blocks could hold 500 envelopes: only the batch timer cuts these.
    let (backend, channel, genesis_block) =
        kafka_channel("trickle", 500, Duration::from_millis(700));
    let (ledger_a, ledger_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = backend.spawn(ledger_a.path(), &genesis_block);
    let b = backend.spawn(ledger_b.path(), &genesis_block);

    let trickle = envelopes(&channel, 4, 4);
    for (i, envelope) in trickle.iter().enumerate() {
        let endpoint = if i % 2 == 0 { &a.endpoint } else { &b.endpoint };
        let statuses = broadcast(endpoint, std::slice::from_ref(envelope)).await;
        assert_eq!(statuses, [Some(Status::Success as i32)]);
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let chain_a = chain_holding(&a.endpoint, &channel, trickle.len()).await;
    let chain_b = chain_holding(&b.endpoint, &channel, trickle.len()).await;
    assert_identical(&chain_a, &chain_b);
    assert_eq!(chain_a.len(), 1 + trickle.len(), "one block per envelope");
    for (block, envelope) in chain_a.iter().skip(1).zip(&trickle) {
        assert_eq!(
            block.data.as_ref().unwrap().data,
            std::slice::from_ref(envelope)
        );
    }
    // Each block records the offset of the time-to-cut that cut it: past its envelope's.
    let offsets: Vec<i64> = chain_a
        .iter()
        .skip(1)
        .map(|b| kafka_metadata(b).last_offset_persisted)
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] + 2 <= w[1]), "{offsets:?}");
}

/// The channel's config is at sequence 1; a foreign node writes two envelopes it
/// validated at sequence 0, as one that had not yet applied the newest config would.
/// Both nodes validate them again: the good one is re-submitted by each node, and the
/// first copy read is ordered, once, on both; the one no longer valid (its signer is not
/// in the channel) is dropped by both. The chains stay identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_validated_under_an_older_config_are_validated_again_and_ordered_once() {
    let backend = Backend::kafka();
    let (channel, genesis_block) = backend.channel_with("resubmit", |spec| {
        spec.batch_size.max_message_count = 10;
        spec.batch_timeout = Duration::from_millis(500);
        spec.sequence = 1;
    });
    let (ledger_a, ledger_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = backend.spawn(ledger_a.path(), &genesis_block);
    let b = backend.spawn(ledger_b.path(), &genesis_block);
    let Backend::Kafka(broker) = &backend else {
        unreachable!("a Kafka backend")
    };

    let good = message(&channel, b"validated at sequence 0");
    let outsider = loadgen::ca::DevCa::generate("OutsiderOrg")
        .unwrap()
        .issue("outsider", &["client"])
        .unwrap()
        .signer()
        .unwrap();
    let stale = message_by(&outsider, &channel, b"valid only before");
    let foreign = engine::kafka::Producer::new(
        &engine::kafka::KafkaOptions::default(),
        &broker.bootstrap,
        &channel,
    )
    .unwrap();
    let timeout = Duration::from_secs(10);
    let stale_offset = foreign
        .send_and_wait(&engine::kafka::message::normal(&stale, 0), timeout)
        .unwrap();
    let good_offset = foreign
        .send_and_wait(&engine::kafka::message::normal(&good, 0), timeout)
        .unwrap();
    assert!(good_offset > stale_offset);

    chain_holding(&a.endpoint, &channel, 1).await;
    let after = message(&channel, b"validated at sequence 1");
    let statuses = broadcast(&b.endpoint, std::slice::from_ref(&after)).await;
    assert_eq!(statuses, [Some(Status::Success as i32)]);
    let chain_a = chain_holding(&a.endpoint, &channel, 2).await;
    let chain_b = chain_holding(&b.endpoint, &channel, 2).await;
    assert_identical(&chain_a, &chain_b);
    let ordered: Vec<Bytes> = chain_a
        .iter()
        .skip(1)
        .flat_map(|block| block.data.clone().unwrap().data)
        .collect();
    assert_eq!(
        ordered,
        [good, after],
        "the re-submitted copy once, the stale one never"
    );
    let newest = kafka_metadata(chain_a.last().unwrap());
    assert_eq!(
        newest.last_original_offset_processed, good_offset,
        "the block records the offset the re-submitted message was first read at"
    );
    a.wait_for_log("discarding bad normal message");
}
