//! A channel whose config has no organizations, made by Fabric's own `configtxgen`
//! (profiles `SampleInsecureSolo` and `SampleInsecureKafka`): every Readers and Writers
//! policy is an implicit meta policy over no sub-policies, threshold 0, which Fabric
//! (common/policies/implicitmeta.go) counts as met without looking at any identity. So
//! Broadcast and Deliver take every envelope, signed or not, on solo and on Kafka.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::{BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use orderer_proto::common::{Envelope, HeaderType, Status};
use prost::Message;
use support::backend::{Backend, generic};
use support::*;

/// A MESSAGE envelope for `channel` signed by nobody: no creator, no signature.
fn unsigned(channel: &str, data: &'static [u8]) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id: channel,
        header_type: HeaderType::Message,
        signer: None,
        data: Bytes::from_static(data),
    })
    .unwrap()
}

/// An envelope whose creator and signature are garbage.
fn garbage_signed(channel: &str) -> Bytes {
    let mut decoded = Envelope::decode(unsigned(channel, b"garbage")).unwrap();
    decoded.signature = Bytes::from_static(b"not a signature");
    decoded.encode_to_vec().into()
}

async fn every_envelope_is_taken_and_read_back_unsigned(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let profile = match backend {
        Backend::Solo => "SampleInsecureSolo",
        Backend::Kafka(_) => "SampleInsecureKafka",
    };
    let channel = format!("insecure-{}", envelope::nonce_u64() % 1_000_000_000);
    let genesis_block = configtxgen_block(profile, &channel, dir.path());
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut broadcast = BroadcastStream::open(&mut client).await.unwrap();
    let stranger = loadgen::ca::DevCa::generate("Stranger")
        .unwrap()
        .issue("stranger", &["client"])
        .unwrap()
        .signer()
        .unwrap();
    let envelopes = vec![
        unsigned(&channel, b"unsigned"),
        garbage_signed(&channel),
        message_by(
            &stranger,
            &channel,
            b"signed by an org the channel does not know",
        ),
    ];
    for envelope in &envelopes {
        let response = broadcast.submit(envelope.clone()).await.unwrap();
        assert_eq!(response.status, Status::Success as i32, "{response:?}");
    }
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < envelopes.len() {
        let request = envelope::seek_signed(&channel, Seek::Oldest, Seek::Newest, true, None);
        let (blocks, status) = deliver.fetch(request.unwrap()).await.unwrap();
        assert_eq!(
            status,
            Status::Success,
            "an unsigned Deliver request is served"
        );
        seen = blocks[1..]
            .iter()
            .flat_map(|block| decode_block(block).data.unwrap().data)
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(seen, envelopes, "all three, in order");
    orderer.stop().await;
}

generic!(every_envelope_is_taken_and_read_back_unsigned);
