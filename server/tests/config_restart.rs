//! Config changes survive SIGKILL: an `orderer` process creates a channel through its
//! system channel and orders two config updates on it (Fabric's own envelopes, from
//! `../shared/fabric-vectors/config-updates/`), and is killed. Restarted on the same
//! ledger, it serves the created channel again, runs it on its newest config block (the
//! BatchSize of 10 it set, not the 500 of the genesis config; the next update is judged
//! against sequence 3) and the system channel still refuses to create it twice.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use orderer_proto::common::Status;
use support::backend::{Backend, generic};
use support::config_vectors::*;

async fn created_channel_and_its_config_survive_sigkill(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let genesis = system_genesis(backend, dir.path());
    let mut first = spawn_sample_org(backend, ledger.path(), &genesis);
    blocks_once_ready(&first.endpoint, SYSTEM).await;
    assert_all_succeed(&first.endpoint, &[tx("newchannel.create.tx")]).await;
    blocks_once_ready(&first.endpoint, NEW).await;
    for name in ["newchannel.anchors.tx", "newchannel.batchsize.tx"] {
        assert_all_succeed(&first.endpoint, &[tx(name)]).await;
    }
    let before = blocks(&first.endpoint, NEW, 0, 2).await;
    first.kill();

    let second = spawn_sample_org(backend, ledger.path(), &genesis);
    blocks_once_ready(&second.endpoint, SYSTEM).await;
    blocks_once_ready(&second.endpoint, NEW).await;
    assert_eq!(
        blocks(&second.endpoint, NEW, 0, 2).await,
        before,
        "the created channel and its config blocks are back"
    );
    assert_all_succeed(&second.endpoint, &messages(25)).await;
    let cut = blocks(&second.endpoint, NEW, 3, 5).await;
    let counts: Vec<usize> = cut.iter().map(tx_count).collect();
    assert_eq!(counts, [10, 10, 5], "cut by the restored BatchSize");
    assert!(cut.iter().all(|block| last_config(block) == (2, 2)));
    // Sequence 3 is restored: the update computed on it applies, a replay does not.
    assert_all_succeed(&second.endpoint, &[tx("newchannel.batchsize20.tx")]).await;
    let (status, info) = send(&second.endpoint, &[tx("newchannel.batchsize.tx")])
        .await
        .remove(0);
    assert_eq!(status, Status::BadRequest, "{info}");
    let (status, info) = send(&second.endpoint, &[tx("newchannel.create.tx")])
        .await
        .remove(0);
    assert_eq!(status, Status::BadRequest, "created twice: {info}");
    let config_block = blocks(&second.endpoint, NEW, 6, 6).await;
    assert_eq!(last_config(&config_block[0]), (6, 6));
    assert_eq!(chain_of_as(&second.endpoint, SYSTEM).await.len(), 2);
}

generic!(created_channel_and_its_config_survive_sigkill);
