//! Who may write and read, over real gRPC: Fabric's signed envelopes pass Fabric's own
//! genesis block's policies (on that block as configtxgen made it, solo); on channels of
//! the tests' own orgs, on solo and on Kafka, every other way of signing is refused with
//! Fabric's status, and the stream stays open.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use loadgen::ca::DevCa;
use loadgen::client::{BroadcastStream, DeliverStream};
use loadgen::envelope::{self, Seek};
use orderer::ServeOptions;
use orderer_proto::common::{Envelope, Payload, SignatureHeader, Status};
use orderer_proto::msp::SerializedIdentity;
use orderer_proto::raw::DeliverFrame;
use prost::Message;
use support::backend::{Backend, generic};
use support::*;

/// 2030-01-01 and 2032-01-01.
const YEAR_2030_UNIX: i64 = 1_893_456_000;
const YEAR_2032_UNIX: i64 = 1_956_528_000;

fn fabric_envelope(name: &str) -> Bytes {
    std::fs::read(vectors().join("envelopes").join(name))
        .unwrap()
        .into()
}

/// `envelope` with its parts changed by `edit`.
fn edited(envelope: &Bytes, edit: impl FnOnce(&mut Envelope)) -> Bytes {
    let mut decoded = Envelope::decode(envelope.clone()).unwrap();
    edit(&mut decoded);
    decoded.encode_to_vec().into()
}

/// `envelope` whose signature header names `creator`, other bytes kept.
fn with_creator(envelope: &Bytes, creator: Bytes) -> Bytes {
    edited(envelope, |decoded| {
        let mut payload = Payload::decode(decoded.payload.clone()).unwrap();
        let mut header = payload.header.clone().unwrap();
        let mut signature_header = SignatureHeader::decode(header.signature_header).unwrap();
        signature_header.creator = creator;
        header.signature_header = signature_header.encode_to_vec().into();
        payload.header = Some(header);
        decoded.payload = payload.encode_to_vec().into();
    })
}

async fn expect(
    stream: &mut BroadcastStream,
    case: &str,
    envelope: Bytes,
    status: Status,
    info: &str,
) {
    let response = stream.submit(envelope).await.unwrap();
    assert_eq!(response.status, status as i32, "{case}: {response:?}");
    assert!(
        response.info.contains(info),
        "{case}: info {:?} should say {info:?}",
        response.info
    );
}

/// Envelopes made from `good` (signed by a member of `msp_id`, for `channel`) that must
/// be refused FORBIDDEN: each with the case's name.
fn forgeries(good: &Bytes, channel: &str, msp_id: &str) -> Vec<(&'static str, Bytes)> {
    let stranger = DevCa::generate(msp_id)
        .unwrap()
        .issue("stranger", &["client"])
        .unwrap()
        .signer()
        .unwrap();
    let unparsable = SerializedIdentity {
        mspid: msp_id.into(),
        id_bytes: Bytes::from_static(b"xyz"),
    };
    vec![
        (
            "flipped signature bit",
            edited(good, |e| {
                let mut signature = e.signature.to_vec();
                signature[12] ^= 0x04;
                e.signature = signature.into();
            }),
        ),
        (
            "high-S twin of a valid signature",
            edited(good, |e| {
                e.signature = engine::signature::negate_s(&e.signature).unwrap().into();
            }),
        ),
        (
            "identity from an unknown CA claiming the org",
            message_by(&stranger, channel, b"forged"),
        ),
        (
            "creator that does not parse",
            with_creator(good, unparsable.encode_to_vec().into()),
        ),
        ("no creator at all", with_creator(good, Bytes::new())),
    ]
}

/// Each forgery FORBIDDEN with "permission denied", `good` SUCCESS after each.
async fn refuse_forgeries(stream: &mut BroadcastStream, good: &Bytes, channel: &str, msp_id: &str) {
    for (case, envelope) in forgeries(good, channel, msp_id) {
        expect(
            stream,
            case,
            envelope,
            Status::Forbidden,
            "permission denied",
        )
        .await;
        // The stream stays up and still admits the good envelope.
        expect(stream, case, good.clone(), Status::Success, "").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabric_genesis_admits_fabric_signed_envelopes_and_refuses_forgeries() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start_fabric(ledger.path()).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let good = fabric_envelope("envelope_0_size1024.pb");
    refuse_forgeries(&mut stream, &good, CHANNEL, "SampleOrg").await;
    for name in [
        "envelope_0_size256.pb",
        "envelope_1_size256.pb",
        "envelope_1_size1024.pb",
    ] {
        expect(
            &mut stream,
            name,
            fabric_envelope(name),
            Status::Success,
            "",
        )
        .await;
    }
    // Only the admitted envelopes were ordered: 5 + 3, cut by the batch timeout.
    let block =
        decode_block(&fetch_blocks_as(&mut client, &fabric_signer(), CHANNEL, 1, 1).await[0]);
    assert_eq!(block.data.unwrap().data.len(), 8);
    orderer.stop().await;
}

/// The forgeries of [`forgeries`] on a channel of the tests' own org: only the good
/// envelope, sent after each, is ordered.
async fn forgeries_are_forbidden_and_the_stream_keeps_ordering(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("forgeries");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let good = message(&channel, b"good");
    refuse_forgeries(&mut stream, &good, &channel, ORG).await;
    let (_, envelopes) = ordered(&orderer.endpoint, &channel, 5).await;
    assert_eq!(envelopes, vec![good; 5]);
    orderer.stop().await;
}

/// An orderer of `backend` whose clock reads 2032 (expiry is judged by it).
async fn start_in_2032(
    backend: &Backend,
    ledger: &std::path::Path,
    genesis_block: &std::path::Path,
) -> TestOrderer {
    let options = ServeOptions {
        clock: Arc::new(|| YEAR_2032_UNIX),
        ..ServeOptions::default()
    };
    backend.start_with(ledger, genesis_block, options).await
}

/// A client of the tests' org whose certificate expires in 2031.
fn expired_in_2031(name: &str) -> loadgen::msp::Signer {
    org()
        .ca
        .issue_until(name, &["client"], 2031)
        .unwrap()
        .signer()
        .unwrap()
}

/// A writer whose certificate expired (2031) by the orderer's clock (2032) is a bad
/// request, as is a payload without a header; Deliver answers the expired reader
/// FORBIDDEN, as Fabric's Deliver does.
async fn expired_identity_and_missing_header_are_bad_requests(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("expired");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = start_in_2032(backend, ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let expired = expired_in_2031("expired");
    let good = message_by(&expired, &channel, b"expired");
    expect(
        &mut stream,
        "expired",
        good.clone(),
        Status::BadRequest,
        "identity expired",
    )
    .await;
    let headless = edited(&good, |e| {
        let mut payload = Payload::decode(e.payload.clone()).unwrap();
        payload.header = None;
        e.payload = payload.encode_to_vec().into();
    });
    expect(
        &mut stream,
        "no header",
        headless,
        Status::BadRequest,
        "no header",
    )
    .await;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request =
        envelope::seek_signed(&channel, Seek::Oldest, Seek::Newest, false, Some(&expired)).unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!((blocks.len(), status), (0, Status::Forbidden));
    orderer.stop().await;
}

/// An org whose CRL revokes one of its members: that member is FORBIDDEN to write and
/// to read, as is an unsigned read; other members are admitted.
async fn revoked_identity_is_forbidden(backend: &Backend) {
    let ca = DevCa::generate("RevokingOrg").unwrap();
    let admin = ca.issue("admin", &["admin"]).unwrap();
    let member = ca.issue("member", &["client"]).unwrap();
    let revoked = ca.issue("revoked", &["client"]).unwrap();
    let mut org = org_spec(&ca, &admin);
    org.msp_config = ca.msp_config_revoking(&[&admin], &[&revoked]).unwrap();
    let (channel, genesis_block) = backend.channel_with("revoking", |spec| spec.orgs = vec![org]);
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let member = member.signer().unwrap();
    let revoked = revoked.signer().unwrap();
    expect(
        &mut stream,
        "revoked",
        message_by(&revoked, &channel, b"revoked"),
        Status::Forbidden,
        "revoked",
    )
    .await;
    expect(
        &mut stream,
        "member",
        message_by(&member, &channel, b"ok"),
        Status::Success,
        "",
    )
    .await;
    for (case, signer) in [("revoked", Some(&revoked)), ("unsigned", None)] {
        let mut deliver = DeliverStream::open(&mut client).await.unwrap();
        let request =
            envelope::seek_signed(&channel, Seek::Oldest, Seek::Newest, false, signer).unwrap();
        let (blocks, status) = deliver.fetch(request).await.unwrap();
        assert_eq!((blocks.len(), status), (0, Status::Forbidden), "{case}");
    }
    let blocks = fetch_blocks_as(&mut client, &member, &channel, 0, 1).await;
    assert_eq!(decode_block(&blocks[1]).data.unwrap().data.len(), 1);
    orderer.stop().await;
}

/// Fabric's Broadcast checks a signer's expiry only when the channel's Orderer
/// capabilities enable ExpirationCheck (orderer/common/msgprocessor/expiration.go,
/// `expirationRejectRule.Apply`); Deliver's session check always does
/// (common/deliver/acl.go). On a channel without capabilities a writer whose certificate
/// expired (2031) by the orderer's clock (2032) is ordered, and refused as a reader.
async fn without_the_expiration_capability_broadcast_takes_expired_signers(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("nocapability");
    strip_orderer_capabilities(&genesis_block);
    let ledger = tempfile::tempdir().unwrap();
    let orderer = start_in_2032(backend, ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let expired = expired_in_2031("expired-writer");
    let envelope = message_by(&expired, &channel, b"expired but no capability");
    expect(
        &mut stream,
        "expired",
        envelope.clone(),
        Status::Success,
        "",
    )
    .await;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request = envelope::seek_signed(&channel, Seek::Oldest, Seek::Newest, true, Some(&expired));
    let (blocks, status) = deliver.fetch(request.unwrap()).await.unwrap();
    assert_eq!((blocks.len(), status), (0, Status::Forbidden));
    let (_, ordered) = ordered(&orderer.endpoint, &channel, 1).await;
    assert_eq!(ordered, vec![envelope]);
    orderer.stop().await;
}

/// A Deliver stream whose reader's certificate expires while it waits for blocks ends
/// with FORBIDDEN, and nothing after the expiry is sent to it.
async fn deliver_stream_ends_forbidden_when_its_reader_expires(backend: &Backend) {
    let reader = org()
        .ca
        .issue_until("reader", &["client"], 2031)
        .unwrap()
        .signer()
        .unwrap();
    let (channel, genesis_block) = backend.channel("clock");
    let now = Arc::new(AtomicI64::new(YEAR_2030_UNIX));
    let clock = Arc::clone(&now);
    let options = ServeOptions {
        clock: Arc::new(move || clock.load(Ordering::Relaxed)),
        ..ServeOptions::default()
    };
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend
        .start_with(ledger.path(), &genesis_block, options)
        .await;
    let mut client = orderer.client().await;

    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(
            envelope::seek_signed(
                &channel,
                Seek::Oldest,
                Seek::At(u64::MAX),
                false,
                Some(&reader),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert!(matches!(
        deliver.next().await.unwrap(),
        DeliverFrame::Block(_)
    ));
    now.store(YEAR_2032_UNIX, Ordering::Relaxed);
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    expect(
        &mut stream,
        "writer",
        message(&channel, b"1"),
        Status::Success,
        "",
    )
    .await;
    match deliver.next().await.unwrap() {
        DeliverFrame::Status(status) => assert_eq!(status, Status::Forbidden),
        DeliverFrame::Block(_) => panic!("a block was sent to an expired reader"),
    }
    expect(
        &mut stream,
        "expired reader writing",
        message_by(&reader, &channel, b"2"),
        Status::BadRequest,
        "identity expired",
    )
    .await;
    orderer.stop().await;
}

generic!(
    forgeries_are_forbidden_and_the_stream_keeps_ordering,
    expired_identity_and_missing_header_are_bad_requests,
    revoked_identity_is_forbidden,
    deliver_stream_ends_forbidden_when_its_reader_expires,
    without_the_expiration_capability_broadcast_takes_expired_signers,
);
