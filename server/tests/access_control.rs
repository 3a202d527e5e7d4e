//! Who may write and read, over real gRPC: Fabric's signed envelopes pass Fabric's own
//! genesis block's policies; every other way of signing is refused with Fabric's status,
//! and the stream stays open.
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
use orderer_proto::raw::DeliverFrame;
use prost::Message;
use support::*;

/// 2028-01-01: after the vectors' sample certificate expired (2027-11-10).
const AFTER_FABRIC_EXPIRY_UNIX: i64 = 1_830_297_600;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fabric_genesis_admits_fabric_signed_envelopes_and_refuses_forgeries() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start_fabric(ledger.path()).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let good = fabric_envelope("envelope_0_size1024.pb");
    let stranger = DevCa::generate("SampleOrg")
        .unwrap()
        .issue("stranger", &["client"])
        .unwrap()
        .signer()
        .unwrap();
    let cases = [
        (
            "flipped signature bit",
            edited(&good, |e| {
                let mut signature = e.signature.to_vec();
                signature[12] ^= 0x04;
                e.signature = signature.into();
            }),
            "permission denied",
        ),
        (
            "high-S twin of a valid signature",
            edited(&good, |e| {
                e.signature = engine::signature::negate_s(&e.signature).unwrap().into();
            }),
            "permission denied",
        ),
        (
            "identity from an unknown CA claiming SampleOrg",
            message_by(&stranger, CHANNEL, b"forged"),
            "permission denied",
        ),
        (
            "creator that does not parse",
            with_creator(&good, Bytes::from_static(b"\x0a\x09SampleOrg\x12\x03xyz")),
            "permission denied",
        ),
        (
            "no creator at all",
            with_creator(&good, Bytes::new()),
            "permission denied",
        ),
    ];
    for (case, envelope, info) in cases {
        expect(&mut stream, case, envelope, Status::Forbidden, info).await;
        // The stream stays up and still admits Fabric's envelopes.
        expect(&mut stream, case, good.clone(), Status::Success, "").await;
    }
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
    let block = decode_block(&fetch_blocks_as(&mut client, &fabric_signer(), 1, 1).await[0]);
    assert_eq!(block.data.unwrap().data.len(), 8);
    orderer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_identity_and_missing_header_are_bad_requests() {
    let ledger = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        clock: Arc::new(|| AFTER_FABRIC_EXPIRY_UNIX),
        ..ServeOptions::default()
    };
    let mut config = orderer::Config::default();
    config.general.bootstrap_file = Some(solo_genesis());
    config.file_ledger.location = ledger.path().to_path_buf();
    let orderer = TestOrderer::start_with_options(config, options).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let good = fabric_envelope("envelope_0_size1024.pb");
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

    // Deliver answers an expired reader FORBIDDEN, as Fabric's Deliver does.
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request = envelope::seek_signed(
        CHANNEL,
        Seek::Oldest,
        Seek::Newest,
        false,
        Some(&fabric_signer()),
    )
    .unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!((blocks.len(), status), (0, Status::Forbidden));
    orderer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_identity_is_forbidden() {
    let ca = DevCa::generate("RevokingOrg").unwrap();
    let admin = ca.issue("admin", &["admin"]).unwrap();
    let member = ca.issue("member", &["client"]).unwrap();
    let revoked = ca.issue("revoked", &["client"]).unwrap();
    let mut org = org_spec(&ca, &admin);
    org.msp_config = ca.msp_config_revoking(&[&admin], &[&revoked]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let genesis_path = dir.path().join("genesis.block");
    std::fs::write(&genesis_path, genesis_spec(CHANNEL, &[org]).build()).unwrap();
    let orderer = TestOrderer::start(&dir.path().join("ledger"), Some(genesis_path)).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let member = member.signer().unwrap();
    let revoked = revoked.signer().unwrap();
    expect(
        &mut stream,
        "revoked",
        message_by(&revoked, CHANNEL, b"revoked"),
        Status::Forbidden,
        "revoked",
    )
    .await;
    expect(
        &mut stream,
        "member",
        message_by(&member, CHANNEL, b"ok"),
        Status::Success,
        "",
    )
    .await;
    // Reading needs Readers: the revoked identity and an unsigned request are refused.
    for (case, signer) in [("revoked", Some(&revoked)), ("unsigned", None)] {
        let mut deliver = DeliverStream::open(&mut client).await.unwrap();
        let request =
            envelope::seek_signed(CHANNEL, Seek::Oldest, Seek::Newest, false, signer).unwrap();
        let (blocks, status) = deliver.fetch(request).await.unwrap();
        assert_eq!((blocks.len(), status), (0, Status::Forbidden), "{case}");
    }
    let blocks = fetch_blocks_as(&mut client, &member, 0, 1).await;
    assert_eq!(decode_block(&blocks[1]).data.unwrap().data.len(), 1);
    orderer.stop().await;
}

/// A Deliver stream whose reader's certificate expires while it waits for blocks ends
/// with FORBIDDEN, and nothing after the expiry is sent to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_stream_ends_forbidden_when_its_reader_expires() {
    let ca = DevCa::generate("ClockOrg").unwrap();
    let admin = ca.issue("admin", &["admin"]).unwrap();
    let reader = ca
        .issue_until("reader", &["client"], 2031)
        .unwrap()
        .signer()
        .unwrap();
    let writer = ca.issue("writer", &["client"]).unwrap().signer().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let genesis_path = dir.path().join("genesis.block");
    let spec = genesis_spec(CHANNEL, &[org_spec(&ca, &admin)]);
    std::fs::write(&genesis_path, spec.build()).unwrap();
    let now = Arc::new(AtomicI64::new(YEAR_2030_UNIX));
    let clock = Arc::clone(&now);
    let options = ServeOptions {
        clock: Arc::new(move || clock.load(Ordering::Relaxed)),
        ..ServeOptions::default()
    };
    let mut config = orderer::Config::default();
    config.general.bootstrap_file = Some(genesis_path);
    config.file_ledger.location = dir.path().join("ledger");
    let orderer = TestOrderer::start_with_options(config, options).await;
    let mut client = orderer.client().await;

    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(
            envelope::seek_signed(
                CHANNEL,
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
        message_by(&writer, CHANNEL, b"1"),
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
        message_by(&reader, CHANNEL, b"2"),
        Status::BadRequest,
        "identity expired",
    )
    .await;
    orderer.stop().await;
}
