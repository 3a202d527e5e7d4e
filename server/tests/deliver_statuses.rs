//! Deliver answers each seek request with the blocks asked for and Fabric's status, and
//! the stream takes further requests afterwards: on solo and on Kafka. A request whose
//! timestamp is outside `General.Authentication.TimeWindow` is BAD_REQUEST.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use bytes::Bytes;
use loadgen::client::{BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use orderer_proto::common::{HeaderType, Status};
use orderer_proto::orderer::seek_info::SeekErrorResponse;
use orderer_proto::orderer::{SeekInfo, SeekOldest, SeekPosition, seek_position};
use orderer_proto::raw::DeliverFrame;
use prost::Message;
use support::backend::{Backend, generic};
use support::*;

fn seek_envelope(channel: &str, seek_info: Bytes) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id: channel,
        header_type: HeaderType::DeliverSeekInfo,
        signer: Some(&org().client),
        data: seek_info,
    })
    .unwrap()
}

/// Requests refused with their Fabric status, before any block is sent.
fn refused_requests(channel: &str) -> Vec<(&'static str, Bytes, Status)> {
    let no_stop = SeekInfo {
        start: Some(SeekPosition {
            r#type: Some(seek_position::Type::Oldest(SeekOldest {})),
        }),
        ..SeekInfo::default()
    };
    vec![
        (
            "unknown channel",
            seek("nosuchchannel", Seek::Oldest, Seek::Newest, false),
            Status::NotFound,
        ),
        (
            "malformed envelope",
            Bytes::from_static(b"\xff\xff garbage"),
            Status::BadRequest,
        ),
        (
            "malformed seek info",
            seek_envelope(channel, Bytes::from_static(b"\x0a\xff")),
            Status::BadRequest,
        ),
        (
            "no stop position",
            seek_envelope(channel, no_stop.encode_to_vec().into()),
            Status::BadRequest,
        ),
        (
            "start after stop",
            seek(channel, Seek::At(1), Seek::At(0), false),
            Status::BadRequest,
        ),
        (
            "past the end, fail if not ready",
            seek(channel, Seek::At(1), Seek::At(1), true),
            Status::NotFound,
        ),
        // Fabric's file ledger iterator: a specified start above the height is NOT_FOUND,
        // even when the request would wait and even when its stop is below its start.
        (
            "start past the height, block until ready",
            seek(channel, Seek::At(2), Seek::At(2), false),
            Status::NotFound,
        ),
        (
            "start past the height, stop below it",
            seek(channel, Seek::At(5), Seek::At(4), false),
            Status::NotFound,
        ),
    ]
}

async fn refused_requests_get_their_status_and_the_stream_stays_open(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("seeks");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let oldest_to_newest = || seek(&channel, Seek::Oldest, Seek::Newest, false);
    let genesis_bytes = std::fs::read(&genesis_block).unwrap();

    let (blocks, status) = deliver.fetch(oldest_to_newest()).await.unwrap();
    assert_eq!((blocks.len(), status), (1, Status::Success));
    assert_eq!(
        &blocks[0][..],
        &genesis_bytes[..],
        "stored bytes are served as they are"
    );
    for (case, request, expected) in refused_requests(&channel) {
        let (blocks, status) = deliver.fetch(request).await.unwrap();
        assert_eq!(status, expected, "{case}");
        assert!(blocks.is_empty(), "{case}: no blocks");
    }
    let (blocks, status) = deliver.fetch(oldest_to_newest()).await.unwrap();
    assert_eq!(
        (blocks.len(), status),
        (1, Status::Success),
        "same stream, after all that"
    );
    orderer.stop().await;
}

async fn block_until_ready_waits_for_the_block_to_be_cut(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("waits");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(seek(&channel, Seek::At(1), Seek::At(1), false))
        .await
        .unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(300), deliver.next()).await;
    assert!(waiting.is_err(), "nothing to send before block 1 exists");

    let mut broadcast = BroadcastStream::open(&mut client).await.unwrap();
    let envelope = message(&channel, b"one");
    broadcast_all(&mut broadcast, std::slice::from_ref(&envelope)).await;
    let frame = deliver.next().await.unwrap();
    let DeliverFrame::Block(block) = frame else {
        panic!("expected block 1, got {frame:?}");
    };
    assert_eq!(decode_block(&block).data.unwrap().data, vec![envelope]);
    assert_eq!(
        deliver.next().await.unwrap(),
        DeliverFrame::Status(Status::Success)
    );
    orderer.stop().await;
}

async fn header_with_sig_sends_blocks_without_data_but_config_blocks_whole(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("headers");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut broadcast = BroadcastStream::open(&mut client).await.unwrap();
    broadcast_all(&mut broadcast, &[message(&channel, b"x")]).await;
    let full = fetch_blocks(&mut client, &channel, 0, 1).await;
    let info = SeekInfo {
        start: Some(SeekPosition {
            r#type: Some(seek_position::Type::Oldest(SeekOldest {})),
        }),
        stop: Some(SeekPosition {
            r#type: Some(seek_position::Type::Specified(
                orderer_proto::orderer::SeekSpecified { number: 1 },
            )),
        }),
        content_type: orderer_proto::orderer::seek_info::SeekContentType::HeaderWithSig as i32,
        ..SeekInfo::default()
    };
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let (headers, status) = deliver
        .fetch(seek_envelope(&channel, info.encode_to_vec().into()))
        .await
        .unwrap();
    assert_eq!(status, Status::Success);
    assert_eq!(
        headers[0], full[0],
        "the genesis config block is sent whole"
    );
    let stripped = decode_block(&headers[1]);
    let whole = decode_block(&full[1]);
    assert!(stripped.data.is_none());
    assert_eq!(
        (stripped.header, stripped.metadata),
        (whole.header, whole.metadata)
    );
    orderer.stop().await;
}

generic!(
    refused_requests_get_their_status_and_the_stream_stays_open,
    block_until_ready_waits_for_the_block_to_be_cut,
    header_with_sig_sends_blocks_without_data_but_config_blocks_whole,
);

/// Fabric's Deliver refuses a request whose channel header timestamp is further from its
/// clock than `General.Authentication.TimeWindow` (a replayed or stale request).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_older_than_the_time_window_is_bad_request() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = support::process::spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[("ORDERER_GENERAL_AUTHENTICATION_TIMEWINDOW", "2s".into())],
    );
    let mut client = loadgen::client::connect(&orderer.endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let stale = seek(CHANNEL, Seek::Oldest, Seek::At(0), true);
    let fresh = seek(CHANNEL, Seek::Oldest, Seek::At(0), true);
    assert_eq!(deliver.fetch(fresh).await.unwrap().1, Status::Success);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (blocks, status) = deliver.fetch(stale).await.unwrap();
    assert_eq!((blocks.len(), status), (0, Status::BadRequest));
    orderer.wait_for_log("apart from current server time");
    // The stream stays up: a new request is served.
    let again = seek(CHANNEL, Seek::Oldest, Seek::At(0), true);
    assert_eq!(deliver.fetch(again).await.unwrap().1, Status::Success);
}

/// Fabric's deliver handler answers SERVICE_UNAVAILABLE while the chain reports an error
/// (`chain.Errored()`; a Kafka chain does until its consenter has connected), unless the
/// request says `BEST_EFFORT`, which is served from the ledger as it is
/// (common/deliver/deliver.go). Here the channel's only broker cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_whose_consenter_has_not_started_serves_only_best_effort_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = genesis_spec("unstarted", &[org_spec(&org().ca, &org().admin)]);
    spec.consensus = "kafka".into();
    // Port 9 on loopback: nothing listens there.
    spec.kafka_brokers = vec!["127.0.0.1:9".into()];
    let genesis_block = dir.path().join("unstarted.block");
    std::fs::write(&genesis_block, spec.build()).unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let mut config = orderer::Config::default();
    config.general.bootstrap_file = Some(genesis_block.clone());
    config.general.local_msp_dir = Some(orderer_msp_dir());
    config.general.local_msp_id = ORG.into();
    config.file_ledger.location = ledger.path().to_path_buf();
    let orderer = TestOrderer::start_unready(config).await;
    let mut client = orderer.client().await;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request = |start, stop, error_response: SeekErrorResponse| {
        let info = SeekInfo {
            start: Some(position(start)),
            stop: Some(position(stop)),
            error_response: error_response as i32,
            ..SeekInfo::default()
        };
        seek_envelope("unstarted", info.encode_to_vec().into())
    };
    let (blocks, status) = deliver
        .fetch(request(0, 0, SeekErrorResponse::Strict))
        .await
        .unwrap();
    assert_eq!((blocks.len(), status), (0, Status::ServiceUnavailable));
    let (blocks, status) = deliver
        .fetch(request(0, 0, SeekErrorResponse::BestEffort))
        .await
        .unwrap();
    assert_eq!((blocks.len(), status), (1, Status::Success));
    assert_eq!(&blocks[0][..], &std::fs::read(&genesis_block).unwrap()[..]);
    // Best effort waits for a block the chain cannot cut; strict would have been refused.
    deliver
        .request(request(1, 1, SeekErrorResponse::BestEffort))
        .await
        .unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(600), deliver.next()).await;
    assert!(waiting.is_err(), "a best-effort request waits: {waiting:?}");
}

fn position(number: u64) -> SeekPosition {
    SeekPosition {
        r#type: Some(seek_position::Type::Specified(
            orderer_proto::orderer::SeekSpecified { number },
        )),
    }
}
