//! Deliver against Fabric's own orderers (v1.4.12 and v2.5.6, from ../shared/fabric-bin),
//! run as real processes next to ours on the same genesis block: every combination of
//! start, stop and behaviour gets the same blocks and the same final status from ours
//! as from Fabric's, or waits where Fabric's waits.
//!
//! The channel is a system channel without organizations (configtxgen's
//! `SampleInsecureSolo`), so unsigned requests are served by all three and the test
//! does not depend on any certificate's validity. Each orderer holds two blocks (the
//! genesis block and one cut by the batch timeout); positions 2 (the height) and 3 (past
//! it) probe the file ledger's iterator, `untyped` a position without a type, and
//! `next` (v2.x's NextCommit, unknown to v1.4.12) is asked of v2.5.6 only.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec};
use orderer_proto::common::{HeaderType, Status};
use orderer_proto::orderer::seek_info::SeekBehavior;
use orderer_proto::orderer::seek_position::Type;
use orderer_proto::orderer::{
    SeekInfo, SeekNewest, SeekNextCommit, SeekOldest, SeekPosition, SeekSpecified,
};
use orderer_proto::raw::DeliverFrame;
use prost::Message;
use support::fabric::{FabricOrderer, system_channel_blocks};
use support::*;

const CHANNEL: &str = "parity";
/// How long a request may stay silent before it counts as waiting.
const SILENCE: Duration = Duration::from_millis(1500);

fn position(name: &str) -> SeekPosition {
    let r#type = match name {
        "oldest" => Some(Type::Oldest(SeekOldest {})),
        "newest" => Some(Type::Newest(SeekNewest {})),
        "next" => Some(Type::NextCommit(SeekNextCommit {})),
        "untyped" => None,
        number => Some(Type::Specified(SeekSpecified {
            number: number.parse().unwrap(),
        })),
    };
    SeekPosition { r#type }
}

fn unsigned(header_type: HeaderType, data: Bytes) -> Bytes {
    envelope::build(&EnvelopeSpec {
        channel_id: CHANNEL,
        header_type,
        signer: None,
        data,
    })
    .unwrap()
}

fn seek(start: &str, stop: &str, behavior: SeekBehavior) -> Bytes {
    let info = SeekInfo {
        start: Some(position(start)),
        stop: Some(position(stop)),
        behavior: behavior as i32,
        ..SeekInfo::default()
    };
    unsigned(HeaderType::DeliverSeekInfo, info.encode_to_vec().into())
}

/// What one request gets: the numbers of the blocks sent, then the status, or `waits`.
async fn outcome(client: client::Client, request: Bytes) -> String {
    let mut client = client;
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver.request(request).await.unwrap();
    let mut numbers = Vec::new();
    loop {
        match tokio::time::timeout(SILENCE, deliver.next()).await {
            Err(_) => return format!("{numbers:?} waits"),
            Ok(Ok(DeliverFrame::Block(block))) => {
                numbers.push(decode_block(&block).header.unwrap().number);
            }
            Ok(Ok(DeliverFrame::Status(status))) => {
                return format!("{numbers:?} {}", status.as_str_name());
            }
            Ok(Err(error)) => return format!("{numbers:?} stream error {error}"),
        }
    }
}

/// Every (start, stop, behaviour) over `positions`, asked at once on one connection.
async fn outcomes(endpoint: &str, positions: &[&str]) -> BTreeMap<String, String> {
    let client = client::connect(endpoint).await.unwrap();
    let mut asked = Vec::new();
    for start in positions {
        for stop in positions {
            for behavior in [SeekBehavior::BlockUntilReady, SeekBehavior::FailIfNotReady] {
                let case = format!("start {start}, stop {stop}, {}", behavior.as_str_name());
                let request = seek(start, stop, behavior);
                asked.push((case, tokio::spawn(outcome(client.clone(), request))));
            }
        }
    }
    let mut answers = BTreeMap::new();
    for (case, answer) in asked {
        answers.insert(case, answer.await.unwrap());
    }
    answers
}

/// Orders one unsigned envelope and waits until block 1 (cut by the 2 s batch timeout)
/// is stored.
async fn cut_one_block(endpoint: &str) {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut broadcast = BroadcastStream::open(&mut client).await.unwrap();
    let envelope = unsigned(HeaderType::Message, Bytes::from_static(b"parity"));
    let response = broadcast.submit(envelope).await.unwrap();
    assert_eq!(response.status, Status::Success as i32, "{response:?}");
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    deliver
        .request(seek("1", "1", SeekBehavior::BlockUntilReady))
        .await
        .unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(30), deliver.next()).await;
    assert!(matches!(frame, Ok(Ok(DeliverFrame::Block(_)))), "{frame:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seek_is_answered_as_fabrics_orderers_answer_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, genesis_block) = system_channel_blocks(CHANNEL, dir.path());
    let v1_4 = FabricOrderer::start("v1.4.12", &genesis_block, &orderer_msp_dir(), ORG);
    let v2_5 = FabricOrderer::start("v2.5.6", &genesis_block, &orderer_msp_dir(), ORG);
    let ledger = tempfile::tempdir().unwrap();
    let ours = support::process::spawn_orderer_with(ledger.path(), &genesis_block, &[]);
    for endpoint in [&v1_4.endpoint, &v2_5.endpoint, &ours.endpoint] {
        cut_one_block(endpoint).await;
    }
    let v1_positions = ["oldest", "newest", "0", "1", "2", "3", "untyped"];
    let v2_positions = ["oldest", "newest", "0", "1", "2", "3", "untyped", "next"];
    let mut differences = Vec::new();
    for (fabric, positions) in [(&v1_4, &v1_positions[..]), (&v2_5, &v2_positions[..])] {
        let (theirs, mine) = tokio::join!(
            outcomes(&fabric.endpoint, positions),
            outcomes(&ours.endpoint, positions)
        );
        assert_eq!(theirs.len(), positions.len() * positions.len() * 2);
        for (case, answer) in &theirs {
            if mine.get(case) != Some(answer) {
                differences.push(format!(
                    "{} {case}: Fabric {answer:?}, ours {:?}",
                    fabric.endpoint,
                    mine.get(case)
                ));
            }
        }
        // The table exercises every kind of ending.
        for kind in ["SUCCESS", "NOT_FOUND", "BAD_REQUEST", "waits"] {
            assert!(
                theirs.values().any(|answer| answer.ends_with(kind)),
                "no case ends {kind}"
            );
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
