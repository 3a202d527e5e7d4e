//! A Deliver reader that stops reading cannot stall ordering or other readers: its stream
//! fills (HTTP/2 flow control, then its handler's bounded queue) and only its own task
//! waits, while a full load is ordered and read by others.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;

use loadgen::client::{self, DeliverStream};
use loadgen::envelope::Seek;
use loadgen::workload::Rate;
use orderer_proto::raw::DeliverFrame;
use support::process::spawn_orderer_with;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_stop_reading_do_not_stall_ordering_or_other_readers() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(ledger.path(), &genesis(), &[]);
    // Ten readers that ask for every block there will be and never read a frame.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut client = client::connect(&orderer.endpoint).await.unwrap();
        let deliver = DeliverStream::open(&mut client).await.unwrap();
        deliver
            .request(seek(CHANNEL, Seek::Oldest, Seek::At(u64::MAX), false))
            .await
            .unwrap();
        stalled.push((client, deliver));
    }
    let report = loadgen::run::run(workload(
        orderer.endpoint.clone(),
        CHANNEL,
        Rate::Max { window: 256 },
        20_000,
    ))
    .await
    .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.figures.delivered_tx, 20_000);
    // The stalled readers still get their blocks, in order, once they read.
    let (_client, mut deliver) = stalled.pop().unwrap();
    for expected in 0..5u64 {
        let frame = tokio::time::timeout(Duration::from_secs(10), deliver.next())
            .await
            .unwrap()
            .unwrap();
        let DeliverFrame::Block(block) = frame else {
            panic!("block {expected} expected, got {frame:?}");
        };
        assert_eq!(decode_block(&block).header.unwrap().number, expected);
    }
}
