//! Broadcast answers every envelope with Fabric's status for it, keeps the stream open
//! after a bad one, and never lets a bad envelope into a block.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::BroadcastStream;
use orderer_proto::common::{ChannelHeader, Envelope, Header, HeaderType, Payload, Status};
use prost::Message;
use support::*;

/// AbsoluteMaxBytes of the sample genesis block.
const ABSOLUTE_MAX_BYTES: usize = 10 * 1024 * 1024;

fn envelope_of(payload: Payload) -> Bytes {
    Envelope {
        payload: payload.encode_to_vec().into(),
        signature: Bytes::from_static(b"sig"),
    }
    .encode_to_vec()
    .into()
}

fn header_of(channel_id: &str, header_type: HeaderType) -> Header {
    Header {
        channel_header: ChannelHeader {
            r#type: header_type as i32,
            channel_id: channel_id.into(),
            ..ChannelHeader::default()
        }
        .encode_to_vec()
        .into(),
        signature_header: Bytes::new(),
    }
}

/// Each case: the bytes sent, the status expected, a word the info must contain.
fn bad_envelopes() -> Vec<(&'static str, Bytes, Status, &'static str)> {
    vec![
        (
            "malformed bytes",
            Bytes::from_static(b"\xff\xff\xff not a protobuf"),
            Status::BadRequest,
            "common.Envelope",
        ),
        (
            "payload without header",
            envelope_of(Payload {
                header: None,
                data: Bytes::from_static(b"x"),
            }),
            Status::BadRequest,
            "no header",
        ),
        (
            "payload that does not parse",
            Envelope {
                payload: Bytes::from_static(b"\x0a\xff"),
                signature: Bytes::new(),
            }
            .encode_to_vec()
            .into(),
            Status::BadRequest,
            "common.Payload",
        ),
        (
            "unknown channel",
            message("nosuchchannel", b"hello"),
            Status::NotFound,
            "nosuchchannel",
        ),
        (
            "over AbsoluteMaxBytes",
            message(CHANNEL, &vec![0u8; ABSOLUTE_MAX_BYTES + 1]),
            Status::BadRequest,
            "exceeds maximum allowed 10485760 bytes",
        ),
        (
            "config envelope sent directly",
            envelope_of(Payload {
                header: Some(header_of(CHANNEL, HeaderType::Config)),
                data: Bytes::new(),
            }),
            Status::BadRequest,
            "cannot be processed directly",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_envelopes_get_their_status_and_the_stream_keeps_ordering() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let mut good = Vec::new();
    for (case, bytes, status, info) in bad_envelopes() {
        let response = stream.submit(bytes).await.unwrap();
        assert_eq!(response.status, status as i32, "{case}: {response:?}");
        assert!(
            response.info.contains(info),
            "{case}: info {:?} should say {info:?}",
            response.info
        );
        let envelope = message(CHANNEL, case.as_bytes());
        let response = stream.submit(envelope.clone()).await.unwrap();
        assert_eq!(
            response.status,
            Status::Success as i32,
            "good envelope after {case}"
        );
        good.push(envelope);
    }
    // The batch timeout cuts the good envelopes into block 1: all of them, nothing else.
    let blocks = fetch_blocks(&mut client, 1, 1).await;
    let ordered = decode_block(&blocks[0]).data.unwrap().data;
    assert_eq!(ordered, good);
    orderer.stop().await;
}
