//! Restarting on an existing ledger continues the chain.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use loadgen::client::BroadcastStream;
use support::*;

/// A graceful stop stores the pending batch; the restarted orderer serves every block
/// and cuts the next one onto the same hash chain. The genesis file given again at the
/// restart is not applied a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_an_existing_ledger_continues_the_chain() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let first: Vec<_> = (0..700u32)
        .map(|i| message(CHANNEL, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &first).await;
    // 500 are cut by count at once; the 200 pending are cut by the graceful stop.
    fetch_blocks(&mut client, 1, 1).await;
    drop(stream);
    orderer.stop().await;

    let orderer = TestOrderer::start(ledger.path(), Some(genesis())).await;
    let mut client = orderer.client().await;
    let before: Vec<_> = fetch_blocks(&mut client, 0, 2)
        .await
        .iter()
        .map(decode_block)
        .collect();
    let ordered: Vec<_> = before[1..]
        .iter()
        .flat_map(|b| b.data.clone().unwrap().data)
        .collect();
    assert_eq!(ordered, first, "every envelope of the first run, in order");

    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let second: Vec<_> = (0..500u32)
        .map(|i| message(CHANNEL, &(i + 10_000).to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &second).await;
    let all: Vec<_> = fetch_blocks(&mut client, 0, 3)
        .await
        .iter()
        .map(decode_block)
        .collect();
    assert_chain_valid(&all);
    assert_eq!(all[3].data.clone().unwrap().data, second);
    orderer.stop().await;
}
