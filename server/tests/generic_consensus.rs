//! The ordering promises every consensus keeps, as one generic body per promise run
//! against solo and against Kafka (a real broker: the local tansu the project's scripts
//! start, or the cluster `KAFKA_BROKERS` names): answers in order, bad input answered
//! with its status while the stream keeps ordering, every acknowledged envelope
//! delivered once and in order, and a restart that continues the same chain.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::client::BroadcastStream;
use loadgen::envelope;
use loadgen::kafka::Broker;
use orderer::Config;
use orderer_proto::common::{Block, Status};
use support::*;

/// How a test's channel orders.
enum Backend {
    Solo,
    Kafka(Broker),
}

impl Backend {
    fn solo() -> Self {
        Self::Solo
    }

    fn kafka() -> Self {
        Self::Kafka(Broker::start().unwrap())
    }

    /// A fresh channel of this backend (its own topic under Kafka): name and genesis.
    fn channel(&self, tag: &str) -> (String, std::path::PathBuf) {
        let channel = format!("{tag}-{}", envelope::nonce_u64() % 1_000_000_000);
        let timeout = Duration::from_millis(500);
        let path = match self {
            Self::Solo => {
                let mut spec = genesis_spec(&channel, &[org_spec(&org().ca, &org().admin)]);
                spec.batch_timeout = timeout;
                spec.batch_size.max_message_count = 100;
                let path = org().dir.join(format!("{channel}.solo.block"));
                std::fs::write(&path, spec.build()).unwrap();
                path
            }
            Self::Kafka(_) => kafka_genesis(&channel, 100, timeout),
        };
        (channel, path)
    }

    async fn start(
        &self,
        ledger: &std::path::Path,
        genesis_block: &std::path::Path,
    ) -> TestOrderer {
        let mut config = Config::default();
        config.general.bootstrap_file = Some(genesis_block.to_path_buf());
        config.general.local_msp_dir = Some(orderer_msp_dir());
        config.general.local_msp_id = ORG.into();
        config.file_ledger.location = ledger.to_path_buf();
        if let Self::Kafka(broker) = self {
            config.kafka.brokers = Some(vec![broker.bootstrap.clone()]);
            config.kafka.replication_factor = 1;
            config.kafka.retry.short_interval = Duration::from_millis(500);
        }
        let orderer = TestOrderer::start_with(config).await;
        // Before its consenter starts, a Kafka channel answers SERVICE_UNAVAILABLE, as
        // Fabric's does: wait until a probe is taken (it is ordered like any envelope).
        let mut client = orderer.client().await;
        let mut stream = BroadcastStream::open(&mut client).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let channel = channel_of(genesis_block);
        loop {
            let response = stream.submit(message(&channel, b"probe")).await.unwrap();
            if response.status == Status::Success as i32 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "channel never ready: {response:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        orderer
    }
}

fn channel_of(genesis_block: &std::path::Path) -> String {
    let bytes = std::fs::read(genesis_block).unwrap();
    engine::config::ChannelConfig::from_block(&bytes)
        .unwrap()
        .channel_id
}

/// The envelopes after genesis, in chain order, once there are at least `count`
/// besides the probes.
async fn ordered(orderer: &TestOrderer, channel: &str, count: usize) -> (Vec<Block>, Vec<Bytes>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let blocks = chain_of(&orderer.endpoint, channel).await;
        let envelopes: Vec<Bytes> = blocks
            .iter()
            .skip(1)
            .flat_map(|b| b.data.clone().unwrap().data)
            .filter(|e| !is_probe(e))
            .collect();
        if envelopes.len() >= count {
            return (blocks, envelopes);
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} ordered",
            envelopes.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Probes differ by nonce and signature: tell them by their data.
fn is_probe(envelope: &Bytes) -> bool {
    envelope.windows(5).any(|w| w == b"probe")
}

async fn pipelined_envelopes_are_answered_and_ordered_in_order(backend: Backend) {
    let (channel, genesis_block) = backend.channel("pipelined");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let mut expected = Vec::new();
    let mut good = Vec::new();
    for index in 0..600u32 {
        let bad = index % 7 == 3;
        let bytes = if bad {
            Bytes::from_static(b"\xff")
        } else {
            let envelope = message(&channel, &index.to_le_bytes());
            good.push(envelope.clone());
            envelope
        };
        stream.send(bytes).await.unwrap();
        expected.push(if bad {
            Status::BadRequest
        } else {
            Status::Success
        });
    }
    for (index, status) in expected.iter().enumerate() {
        let response = stream.recv().await.unwrap();
        assert_eq!(
            response.status, *status as i32,
            "answer {index}: {response:?}"
        );
    }
    let (blocks, envelopes) = ordered(&orderer, &channel, good.len()).await;
    assert_chain_valid(&blocks);
    assert_eq!(
        envelopes, good,
        "every good envelope once, in the order sent"
    );
    orderer.stop().await;
}

async fn bad_input_is_answered_and_the_stream_keeps_ordering(backend: Backend) {
    let (channel, genesis_block) = backend.channel("badinput");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let cases = [
        (
            "garbage",
            Bytes::from_static(b"\x0a\xff"),
            Status::BadRequest,
            "not a valid",
        ),
        (
            "unknown channel",
            message("nosuchchannel", b"x"),
            Status::NotFound,
            "does not exist",
        ),
        (
            "oversized",
            message(&channel, &vec![7u8; 11 * 1024 * 1024]),
            Status::BadRequest,
            "exceeds maximum",
        ),
    ];
    let mut good = Vec::new();
    for (case, bytes, status, info) in cases {
        let response = stream.submit(bytes).await.unwrap();
        assert_eq!(response.status, status as i32, "{case}: {response:?}");
        assert!(response.info.contains(info), "{case}: {:?}", response.info);
        let envelope = message(&channel, case.as_bytes());
        let response = stream.submit(envelope.clone()).await.unwrap();
        assert_eq!(response.status, Status::Success as i32, "good after {case}");
        good.push(envelope);
    }
    let (_, envelopes) = ordered(&orderer, &channel, good.len()).await;
    assert_eq!(envelopes, good);
    orderer.stop().await;
}

async fn a_restart_continues_the_chain(backend: Backend) {
    let (channel, genesis_block) = backend.channel("restart");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let first: Vec<_> = (0..250u32)
        .map(|i| message(&channel, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &first).await;
    drop(stream);
    orderer.stop().await;

    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let second: Vec<_> = (0..250u32)
        .map(|i| message(&channel, &(i + 10_000).to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &second).await;
    let (blocks, envelopes) = ordered(&orderer, &channel, first.len() + second.len()).await;
    assert_chain_valid(&blocks);
    let expected: Vec<Bytes> = first.iter().chain(&second).cloned().collect();
    assert_eq!(envelopes, expected, "both runs' envelopes once, in order");
    orderer.stop().await;
}

/// Runs each body once per backend.
macro_rules! generic {
    ($($body:ident),* $(,)?) => {
        mod solo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(super::Backend::solo()).await;
                }
            )*
        }
        mod kafka {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body(super::Backend::kafka()).await;
                }
            )*
        }
    };
}

generic!(
    pipelined_envelopes_are_answered_and_ordered_in_order,
    bad_input_is_answered_and_the_stream_keeps_ordering,
    a_restart_continues_the_chain,
);
