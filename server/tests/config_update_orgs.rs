//! A config update takes effect at once for the MSPs and policies the orderer enforces,
//! made the way an operator makes it: the channel's config fetched over Deliver, edited,
//! the update computed by Fabric's own `configtxlator compute_update`, signed by an admin
//! of the channel's org (`ConfigSignature`) and broadcast.
//!
//! An org added to the Application group may write and read from the next envelope on;
//! once removed again, its Broadcast is FORBIDDEN and its open Deliver stream, waiting
//! for blocks, ends with FORBIDDEN (Fabric's session access control judges the reader
//! again when the config sequence moves).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::path::Path;

use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, Seek};
use orderer_proto::common::{Config as ChannelConfig, Status};
use support::backend::{Backend, generic};
use support::config_updates::update_config;
use support::config_vectors::*;
use support::*;

fn application(config: &mut ChannelConfig) -> &mut orderer_proto::common::ConfigGroup {
    config
        .channel_group
        .as_mut()
        .unwrap()
        .groups
        .get_mut("Application")
        .unwrap()
}

/// The status of one MESSAGE by the tests' org client.
async fn write_as_test_org(endpoint: &str) -> Status {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let response = stream
        .submit(message_by(&org().client, NEW, b"from the new org"))
        .await
        .unwrap();
    Status::try_from(response.status).unwrap()
}

/// The status of a Deliver request for block 0 by the tests' org client.
async fn read_as_test_org(endpoint: &str) -> Status {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request =
        envelope::seek_signed(NEW, Seek::At(0), Seek::At(0), true, Some(&org().client)).unwrap();
    deliver.fetch(request).await.unwrap().1
}

/// An orderer on the vectors' system channel that has created newchannel.
async fn with_newchannel(backend: &Backend, dir: &Path, ledger: &Path) -> TestOrderer {
    let genesis = system_genesis(backend, dir);
    let orderer = start_sample_org(backend, ledger, &genesis).await;
    assert_all_succeed(&orderer.endpoint, &[tx("newchannel.create.tx")]).await;
    blocks_once_ready(&orderer.endpoint, NEW).await;
    orderer
}

/// Adds the tests' org (its MSP and member/admin policies) to newchannel's Application
/// group, signed by SampleOrg's admin; returns once config block 1 is stored.
async fn add_test_org(endpoint: &str) {
    let group = org_spec(&org().ca, &org().admin).group();
    let sample_admin = fabric_signer();
    update_config(
        endpoint,
        None,
        NEW,
        &sample_admin,
        &[&sample_admin],
        |config| {
            application(config).groups.insert(ORG.into(), group);
        },
    )
    .await;
    blocks(endpoint, NEW, 1, 1).await;
}

async fn an_added_org_writes_and_reads_until_removed(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let orderer = with_newchannel(backend, dir.path(), ledger.path()).await;
    let endpoint = orderer.endpoint.clone();
    assert_eq!(write_as_test_org(&endpoint).await, Status::Forbidden);
    assert_eq!(read_as_test_org(&endpoint).await, Status::Forbidden);

    add_test_org(&endpoint).await;
    let sample_admin = fabric_signer();
    assert_eq!(write_as_test_org(&endpoint).await, Status::Success);
    assert_eq!(read_as_test_org(&endpoint).await, Status::Success);
    // Its envelope is block 2 (cut by the 2 s timer).
    let written = blocks(&endpoint, NEW, 2, 2).await;
    assert_eq!(tx_count(&written[0]), 1);

    // A reader of the org waits for block 3; the org is removed by block 3.
    let waiting = tokio::spawn({
        let endpoint = endpoint.clone();
        async move {
            let mut client = client::connect(&endpoint).await.unwrap();
            let mut deliver = DeliverStream::open(&mut client).await.unwrap();
            let request =
                envelope::seek_signed(NEW, Seek::At(3), Seek::At(10), false, Some(&org().client))
                    .unwrap();
            deliver.fetch(request).await.unwrap()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // /Channel/Application/Admins is MAJORITY: now both orgs' admins must sign.
    let test_admin = org().admin.signer().unwrap();
    update_config(
        &endpoint,
        None,
        NEW,
        &sample_admin,
        &[&sample_admin, &test_admin],
        |config| {
            application(config).groups.remove(ORG);
        },
    )
    .await;
    let (sent, status) = waiting.await.unwrap();
    assert_eq!(
        (sent.len(), status),
        (0, Status::Forbidden),
        "the open stream is judged again under the new config"
    );
    assert_eq!(write_as_test_org(&endpoint).await, Status::Forbidden);
    assert_eq!(read_as_test_org(&endpoint).await, Status::Forbidden);
    orderer.stop().await;
}

/// A CRL rotated in by a config update (the org's own admin replaces its MSP value with
/// one that revokes a client) refuses that client from the next envelope on; the org's
/// other clients still write.
async fn a_revocation_list_takes_effect_at_once(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let orderer = with_newchannel(backend, dir.path(), ledger.path()).await;
    let endpoint = orderer.endpoint.clone();
    add_test_org(&endpoint).await;
    let sample_admin = fabric_signer();
    assert_eq!(write_as_test_org(&endpoint).await, Status::Success);

    let revoked = org().ca.issue("revoked-client", &["client"]).unwrap();
    let revoked_signer = revoked.signer().unwrap();
    let mut client = client::connect(&endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let before = stream
        .submit(message_by(&revoked_signer, NEW, b"before"))
        .await
        .unwrap();
    assert_eq!(before.status, Status::Success as i32, "{before:?}");
    let revoking = org()
        .ca
        .msp_config_revoking(&[&org().admin], &[&revoked])
        .unwrap();
    let test_admin = org().admin.signer().unwrap();
    update_config(
        &endpoint,
        None,
        NEW,
        &sample_admin,
        &[&test_admin],
        |config| {
            let msp = application(config)
                .groups
                .get_mut(ORG)
                .unwrap()
                .values
                .get_mut("MSP")
                .unwrap();
            msp.value = revoking;
        },
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // The update is answered when queued; its block takes effect a moment later.
        let response = stream
            .submit(message_by(&revoked_signer, NEW, b"revoked"))
            .await
            .unwrap();
        if response.status == Status::Forbidden as i32 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{response:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(write_as_test_org(&endpoint).await, Status::Success);
    orderer.stop().await;
}

generic!(
    an_added_org_writes_and_reads_until_removed,
    a_revocation_list_takes_effect_at_once
);
