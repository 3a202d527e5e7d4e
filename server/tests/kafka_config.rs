//! Config changes on a Kafka cluster of two `orderer` processes: a channel created
//! through one node's system channel and updated through both (Fabric's own envelopes,
//! `../shared/fabric-vectors/config-updates/`) travel as CONFIG-class messages, and both
//! nodes cut the same blocks: the same headers, data and Kafka offsets on the system
//! channel and on the new one, config blocks where Fabric cuts them, the new BatchSize
//! applied by both. The same holds with Fabric's own v1.4.12 orderer as the other node.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use orderer_proto::common::{Block, Metadata};
use orderer_proto::orderer::KafkaMetadata;
use prost::Message as _;
use support::backend::Backend;
use support::config_vectors::*;
use support::fabric::FabricOrderer;
use support::*;

fn kafka_metadata(block: &Block) -> KafkaMetadata {
    let slot = &block.metadata.as_ref().unwrap().metadata[3];
    KafkaMetadata::decode(Metadata::decode(slot.clone()).unwrap().value).unwrap()
}

/// Same headers, data and offsets (each node signs its own blocks).
fn assert_identical(a: &[Block], b: &[Block]) {
    assert_eq!(a.len(), b.len(), "chain lengths");
    for (x, y) in a.iter().zip(b) {
        let number = x.header.as_ref().unwrap().number;
        assert_eq!(x.header, y.header, "header of block {number}");
        assert_eq!(x.data, y.data, "data of block {number}");
        if number > 0 {
            assert_eq!(kafka_metadata(x), kafka_metadata(y), "offsets of {number}");
            assert_eq!(last_config(x), last_config(y), "LAST_CONFIG of {number}");
        }
    }
}

/// The chain of `channel` at `endpoint` once it has `height` blocks.
async fn chain_with(endpoint: &str, channel: &str, height: usize) -> Vec<Block> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let blocks = chain_of_as(endpoint, channel).await;
        if blocks.len() >= height {
            return blocks;
        }
        assert!(
            Instant::now() < deadline,
            "{endpoint}: {} blocks",
            blocks.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_cut_the_same_config_blocks() {
    let backend = Backend::kafka();
    let dir = tempfile::tempdir().unwrap();
    let genesis = system_genesis(&backend, dir.path());
    let (ledger_a, ledger_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn_sample_org(&backend, ledger_a.path(), &genesis);
    let b = spawn_sample_org(&backend, ledger_b.path(), &genesis);
    blocks_once_ready(&a.endpoint, SYSTEM).await;
    blocks_once_ready(&b.endpoint, SYSTEM).await;

    // Created through A; both nodes create it from the system channel's block.
    assert_all_succeed(&a.endpoint, &[tx("newchannel.create.tx")]).await;
    blocks_once_ready(&a.endpoint, NEW).await;
    blocks_once_ready(&b.endpoint, NEW).await;
    // Updated through B, then A; messages through both.
    assert_all_succeed(&b.endpoint, &[tx("newchannel.anchors.tx")]).await;
    chain_with(&a.endpoint, NEW, 2).await;
    assert_all_succeed(&a.endpoint, &[tx("newchannel.batchsize.tx")]).await;
    chain_with(&b.endpoint, NEW, 3).await;
    let (to_a, to_b) = (messages(12), messages(13));
    let (_, _) = tokio::join!(
        assert_all_succeed(&a.endpoint, &to_a),
        assert_all_succeed(&b.endpoint, &to_b)
    );

    let on_a = chain_with(&a.endpoint, NEW, 6).await;
    let mut on_b = chain_with(&b.endpoint, NEW, on_a.len()).await;
    on_b.truncate(on_a.len());
    assert_identical(&on_a, &on_b);
    for number in [1, 2] {
        let theirs = fabric(&format!("newchannel.block{number}.pb"));
        assert_same_config(&on_a[number], &theirs, "config block");
        assert_eq!(last_config(&on_a[number]), (number as u64, number as u64));
    }
    let after: Vec<usize> = on_a[3..].iter().map(tx_count).collect();
    assert_eq!(after.iter().sum::<usize>(), 25);
    assert!(
        after.iter().all(|&count| count <= 10),
        "BatchSize 10: {after:?}"
    );
    assert_identical(
        &chain_with(&a.endpoint, SYSTEM, 2).await,
        &chain_with(&b.endpoint, SYSTEM, 2).await,
    );
}

/// Fabric's own v1.4.12 orderer and ours on one Kafka topic: a channel created through
/// ours and updated through Fabric's (and the other way round) gives the same blocks on
/// both: headers, data, offsets and LAST_CONFIG.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fabric_node_and_ours_cut_the_same_config_blocks() {
    let backend = Backend::kafka();
    let Backend::Kafka(broker) = &backend else {
        unreachable!("a Kafka backend")
    };
    let dir = tempfile::tempdir().unwrap();
    // Fabric reads its brokers from the channel config: name the test broker there.
    let solo =
        std::fs::read(vectors().join("genesis/v1.4.12/SampleSingleMSPSolo.genesis.block")).unwrap();
    let genesis = dir.path().join("kafka.genesis.block");
    let block =
        engine::genesis::with_consensus(&solo, "kafka", std::slice::from_ref(&broker.bootstrap))
            .unwrap();
    std::fs::write(&genesis, block).unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let ours = spawn_sample_org(&backend, ledger.path(), &genesis);
    let go = FabricOrderer::start_with_env(
        "v1.4.12",
        &genesis,
        &vectors().join("msp"),
        "SampleOrg",
        &[
            ("ORDERER_KAFKA_TOPIC_REPLICATIONFACTOR", "1".into()),
            ("ORDERER_KAFKA_RETRY_SHORTINTERVAL", "1s".into()),
            // The test broker speaks record batches (Kafka 0.11 and later) only.
            ("ORDERER_KAFKA_VERSION", "1.0.0".into()),
        ],
    );
    blocks_once_ready(&ours.endpoint, SYSTEM).await;
    blocks_once_ready(&go.endpoint, SYSTEM).await;

    assert_all_succeed(&ours.endpoint, &[tx("newchannel.create.tx")]).await;
    blocks_once_ready(&ours.endpoint, NEW).await;
    blocks_once_ready(&go.endpoint, NEW).await;
    assert_all_succeed(&go.endpoint, &[tx("newchannel.anchors.tx")]).await;
    chain_with(&ours.endpoint, NEW, 2).await;
    assert_all_succeed(&ours.endpoint, &[tx("newchannel.batchsize.tx")]).await;
    chain_with(&go.endpoint, NEW, 3).await;
    let (to_ours, to_go) = (messages(12), messages(13));
    tokio::join!(
        assert_all_succeed(&ours.endpoint, &to_ours),
        assert_all_succeed(&go.endpoint, &to_go)
    );
    let on_ours = chain_with(&ours.endpoint, NEW, 6).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let on_go = loop {
        let blocks = chain_with(&go.endpoint, NEW, on_ours.len()).await;
        let held: usize = blocks[3..].iter().map(tx_count).sum();
        if held >= 25 || Instant::now() > deadline {
            break blocks;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let on_ours = chain_with(&ours.endpoint, NEW, on_go.len()).await;
    assert_identical(&on_ours, &on_go);
    for number in [1, 2] {
        let theirs = fabric(&format!("newchannel.block{number}.pb"));
        assert_same_config(&on_ours[number], &theirs, "config block");
    }
    assert_eq!(on_ours[3..].iter().map(tx_count).sum::<usize>(), 25);
    assert_identical(
        &chain_with(&ours.endpoint, SYSTEM, 2).await,
        &chain_with(&go.endpoint, SYSTEM, 2).await,
    );
}
