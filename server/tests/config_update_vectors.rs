//! Fabric v1.4.12's own channel creation and config updates, replayed
//! (`../shared/fabric-vectors/config-updates/`): the same envelopes, sent to this orderer
//! bootstrapped from the same system channel genesis block and signing with the same
//! MSP, give configs equal to Fabric's (decoded `Config` messages, maps compared by key),
//! the same block layout and LAST_CONFIG values, the same envelope counts per block after
//! the BatchSize changes, and the same statuses (and texts) for the refusals.
//!
//! On Kafka the system channel is the same genesis block with its ConsensusType set to
//! `kafka` (Fabric's `SampleSingleMSPKafka` differs from `SampleSingleMSPSolo` only so):
//! the configs then equal Fabric's but for that value and the broker list.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::{self, DeliverStream};
use loadgen::envelope::{self, Seek};
use orderer_proto::common::Status;
use support::backend::{Backend, generic};
use support::config_vectors::*;
use support::*;

async fn fabric_channel_creation_and_updates_replayed(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let genesis = system_genesis(backend, dir.path());
    let orderer = start_sample_org(backend, ledger.path(), &genesis).await;
    channel_created(&orderer.endpoint).await;
    config_updated(&orderer.endpoint).await;
    refused_as_fabric_refuses(&orderer.endpoint).await;
    config_after_pending_messages(&orderer.endpoint).await;
    let system = chain_of_as(&orderer.endpoint, SYSTEM).await;
    assert_eq!(
        system.len(),
        2,
        "the system channel holds its genesis and one creation"
    );
    assert_chain_valid(&blocks(&orderer.endpoint, NEW, 0, 9).await);
    orderer.stop().await;
}

/// Step 1: channel creation through the system channel.
async fn channel_created(endpoint: &str) {
    assert_all_succeed(endpoint, &[tx("newchannel.create.tx")]).await;
    let system = blocks(endpoint, SYSTEM, 1, 1).await;
    assert_same_config(&system[0], &fabric("system.block1.pb"), "system block 1");
    assert_eq!(
        last_config(&system[0]),
        (0, 0),
        "the system config did not change"
    );
    let created = blocks_once_ready(endpoint, NEW).await;
    let block0 = &created[0];
    assert_same_config(
        block0,
        &fabric("newchannel.block0.pb"),
        "newchannel block 0",
    );
    let header = block0.header.clone().unwrap();
    assert_eq!((header.number, header.previous_hash.len()), (0, 0));
    let metadata = &block0.metadata.as_ref().unwrap().metadata;
    assert_eq!(metadata.len(), 5);
    assert!(metadata.iter().all(Bytes::is_empty), "block 0 is unsigned");
    assert_eq!(
        payload(&system[0], 0).1.data,
        block0.data.as_ref().unwrap().data[0],
        "the wrapped CONFIG envelope is block 0's"
    );
}

/// Steps 2-4: anchor peers, then BatchSize 10 / BatchTimeout 500ms, a block each; then
/// 25 messages.
async fn config_updated(endpoint: &str) {
    for (index, name) in [(1, "newchannel.anchors.tx"), (2, "newchannel.batchsize.tx")] {
        assert_all_succeed(endpoint, &[tx(name)]).await;
        let ours = blocks(endpoint, NEW, index, index).await;
        let theirs = fabric(&format!("newchannel.block{index}.pb"));
        assert_same_config(&ours[0], &theirs, name);
        assert_eq!(last_config(&ours[0]), (index, index), "{name}");
        assert_eq!(last_config(&theirs), (index, index));
    }

    // 4. The new BatchSize cuts 10, 10 and (the 500 ms timer) 5.
    assert_all_succeed(endpoint, &messages(25)).await;
    let cut = blocks(endpoint, NEW, 3, 5).await;
    let counts: Vec<usize> = cut.iter().map(tx_count).collect();
    let fabric_counts: Vec<usize> = (3..=5)
        .map(|n| tx_count(&fabric(&format!("newchannel.block{n}.pb"))))
        .collect();
    assert_eq!(counts, fabric_counts);
    assert!(cut.iter().all(|block| last_config(block) == (2, 2)));
}

/// Steps 5-11: refusals, one stream each, with Fabric's status and text.
async fn refused_as_fabric_refuses(endpoint: &str) {
    let refusals = [
        (5, "reject.stale.tx"),
        (6, "reject.stale_readset.tx"),
        (7, "reject.notadmin.tx"),
        (8, "reject.notadmin.sigonly.tx"),
        (9, "reject.channelmismatch.tx"),
        (10, "reject.exists.tx"),
        (11, "reject.create_notadmin.tx"),
    ];
    for (order, name) in refusals {
        let (status, info) = send(endpoint, &[tx(name)]).await.remove(0);
        let (fabric_status, fabric_info) = fabric_answer(order);
        assert_eq!(status, fabric_status, "{name}: {info}");
        if status == Status::Forbidden {
            // The policy's own words differ; the check that failed is the same.
            let check = "config update for existing channel did not pass initial checks";
            assert!(
                info.starts_with(check) && fabric_info.starts_with(check),
                "{info}"
            );
        } else {
            assert_eq!(info, fabric_info, "{name}");
        }
    }
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let missing = envelope::seek_signed(
        "newchannel2",
        Seek::Oldest,
        Seek::Oldest,
        true,
        Some(&fabric_signer()),
    )
    .unwrap();
    let (_, status) = deliver.fetch(missing).await.unwrap();
    assert_eq!(status, Status::NotFound, "no channel newchannel2");
}

/// Steps 12, 13: a config update arriving while messages are pending cuts them first;
/// the next messages are batched by 20.
async fn config_after_pending_messages(endpoint: &str) {
    let pending: Vec<Bytes> = (0..3)
        .map(|n| tx(&format!("newchannel.pending.msg0{n}.tx")))
        .chain([tx("newchannel.batchsize20.tx")])
        .collect();
    assert_all_succeed(endpoint, &pending).await;
    let ours = blocks(endpoint, NEW, 6, 7).await;
    assert_eq!(ours[0].data, fabric("newchannel.block6.pb").data, "block 6");
    assert_eq!(last_config(&ours[0]), (2, 2));
    assert_same_config(&ours[1], &fabric("newchannel.block7.pb"), "block 7");
    assert_eq!(last_config(&ours[1]), (7, 7));

    // 13. Batched by 20 from then on.
    assert_all_succeed(endpoint, &messages(25)).await;
    let cut = blocks(endpoint, NEW, 8, 9).await;
    let counts: Vec<usize> = cut.iter().map(tx_count).collect();
    assert_eq!(
        counts,
        [8, 9].map(|n| tx_count(&fabric(&format!("newchannel.block{n}.pb"))))
    );
    assert!(cut.iter().all(|block| last_config(block) == (7, 7)));
}

generic!(fabric_channel_creation_and_updates_replayed);
