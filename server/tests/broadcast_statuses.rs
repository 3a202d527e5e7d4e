//! Broadcast answers every envelope with Fabric's status for it, keeps the stream open
//! after a bad one, answers pipelined envelopes in the order sent, and never lets a bad
//! envelope into a block: on solo and on Kafka.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use bytes::Bytes;
use loadgen::client::BroadcastStream;
use orderer_proto::common::{ChannelHeader, Envelope, Header, HeaderType, Payload, Status};
use prost::Message;
use support::backend::{Backend, generic};
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
fn bad_envelopes(channel: &str) -> Vec<(&'static str, Bytes, Status, &'static str)> {
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
            message(channel, &vec![0u8; ABSOLUTE_MAX_BYTES + 1]),
            Status::BadRequest,
            "exceeds maximum allowed 10485760 bytes",
        ),
        (
            "config envelope sent directly",
            envelope_of(Payload {
                header: Some(header_of(channel, HeaderType::Config)),
                data: Bytes::new(),
            }),
            Status::BadRequest,
            "cannot be processed directly",
        ),
    ]
}

async fn bad_envelopes_get_their_status_and_the_stream_keeps_ordering(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("statuses");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let mut good = Vec::new();
    for (case, bytes, status, info) in bad_envelopes(&channel) {
        let response = stream.submit(bytes).await.unwrap();
        assert_eq!(response.status, status as i32, "{case}: {response:?}");
        assert!(
            response.info.contains(info),
            "{case}: info {:?} should say {info:?}",
            response.info
        );
        let envelope = message(&channel, case.as_bytes());
        let response = stream.submit(envelope.clone()).await.unwrap();
        assert_eq!(
            response.status,
            Status::Success as i32,
            "good envelope after {case}"
        );
        good.push(envelope);
    }
    // The batch timeout cuts the good envelopes into block 1: all of them, nothing else.
    let blocks = fetch_blocks(&mut client, &channel, 1, 1).await;
    let ordered = decode_block(&blocks[0]).data.unwrap().data;
    assert_eq!(ordered, good);
    orderer.stop().await;
}

/// 600 envelopes sent before any answer is read, every 7th not a protobuf: answered in
/// the order sent, and the good ones ordered in that order, each once.
async fn pipelined_envelopes_are_answered_and_ordered_in_order(backend: &Backend) {
    let (channel, genesis_block) = backend.channel_with("pipelined", |spec| {
        spec.batch_size.max_message_count = 100;
        spec.batch_timeout = Duration::from_millis(500);
    });
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
    let (blocks, envelopes) = ordered(&orderer.endpoint, &channel, good.len()).await;
    assert_chain_valid(&blocks);
    assert_eq!(
        envelopes, good,
        "every good envelope once, in the order sent"
    );
    orderer.stop().await;
}

generic!(
    bad_envelopes_get_their_status_and_the_stream_keeps_ordering,
    pipelined_envelopes_are_answered_and_ordered_in_order,
);
