//! A full disk under a real `orderer` process: the ledger lives on a small tmpfs that
//! the test fills. Ordering stops with SERVICE_UNAVAILABLE and a clear log line, Deliver
//! keeps serving, nothing accepted is lost, no record is left corrupt, and ordering
//! resumes by itself once space returns: envelope by envelope, and under the load of
//! several streams. (Mounting needs root, as on the machines this project's CI runs on.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream};
use orderer_proto::common::Status;
use support::process::spawn_orderer_with;
use support::*;

/// A tmpfs of `size` bytes mounted on a fresh directory; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs needs root");
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the filesystem of `dir` with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xAA; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.flush();
    path
}

async fn submit(endpoint: &str, envelope: Bytes) -> (i32, String) {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let response = stream.submit(envelope).await.unwrap();
    (response.status, response.info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_ordering_loses_nothing_and_ordering_resumes_when_space_returns() {
    let disk = Tmpfs::mount(8 << 20);
    let genesis_dir = tempfile::tempdir().unwrap();
    let genesis_block = small_batch_genesis(genesis_dir.path(), 10, Duration::from_millis(100));
    let ledger = disk.path().join("ledger");
    let orderer = spawn_orderer_with(&ledger, &genesis_block, &[]);
    let before: Vec<Bytes> = (0..20u32)
        .map(|i| message(CHANNEL, &[i.to_le_bytes().as_slice(), &[1; 1024]].concat()))
        .collect();
    let mut client = client::connect(&orderer.endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    broadcast_all(&mut stream, &before).await;
    ordered(&orderer.endpoint, CHANNEL, before.len()).await;

    let filler = fill(disk.path());
    let filled = Instant::now();
    // Envelopes taken before the writer meets the full disk get SUCCESS (and must not be
    // lost); after it, Broadcast answers SERVICE_UNAVAILABLE saying why.
    let mut accepted = before.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let info = loop {
        let envelope = message(
            CHANNEL,
            &[accepted.len().to_le_bytes().as_slice(), &[2; 1024]].concat(),
        );
        let (status, info) = submit(&orderer.endpoint, envelope.clone()).await;
        if status == Status::Success as i32 {
            accepted.push(envelope);
        } else {
            assert_eq!(status, Status::ServiceUnavailable as i32, "{info}");
            break info;
        }
        assert!(Instant::now() < deadline, "the full disk was never noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(info.contains("cannot be written"), "{info}");
    orderer.wait_for_log("cannot write the ledger (disk full or failing)");
    // Deliver serves what is stored.
    let served = chain_of(&orderer.endpoint, CHANNEL).await;
    assert!(served.len() >= 3, "{} blocks served", served.len());

    let accepted_while_filling = accepted.len() - before.len();
    let unavailable_after = filled.elapsed();
    std::fs::remove_file(filler).unwrap();
    let freed = Instant::now();
    orderer.wait_for_log("ordering resumes");
    let resumed_after = freed.elapsed();
    let after = message(CHANNEL, b"after the disk was freed");
    let (status, info) = submit(&orderer.endpoint, after.clone()).await;
    assert_eq!(status, Status::Success as i32, "{info}");
    accepted.push(after);
    let (blocks, envelopes) = ordered(&orderer.endpoint, CHANNEL, accepted.len()).await;
    assert_chain_valid(&blocks);
    assert_eq!(
        envelopes, accepted,
        "every accepted envelope once, in order"
    );
    drop(orderer);

    // Nothing corrupt was left behind: the ledger opens and verifies.
    let restarted = spawn_orderer_with(&ledger, &genesis_block, &[]);
    let (blocks, envelopes) = ordered(&restarted.endpoint, CHANNEL, accepted.len()).await;
    assert_chain_valid(&blocks);
    assert_eq!(envelopes, accepted);
    report_fault(
        "disk_full",
        serde_json::json!({ "filesystem": "tmpfs", "size_bytes": 8 << 20, "payload_bytes": 1024 }),
        serde_json::json!({
            "acked_tx": accepted.len(), "missing_tx": 0, "duplicate_tx": 0,
            "acked_after_fill_tx": accepted_while_filling,
            "unavailable_after_fill_ms": unavailable_after.as_millis(),
            "blocks_served_while_full": served.len(),
            "resumed_after_free_ms": resumed_after.as_millis(),
            "restarts_verified": 1,
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_filling_under_load_loses_nothing_acknowledged() {
    const STREAMS: u32 = 4;
    let disk = Tmpfs::mount(32 << 20);
    let genesis_dir = tempfile::tempdir().unwrap();
    let genesis_block = small_batch_genesis(genesis_dir.path(), 50, Duration::from_millis(50));
    let ledger = disk.path().join("ledger");
    let orderer = spawn_orderer_with(&ledger, &genesis_block, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..STREAMS)
        .map(|tag| {
            let endpoint = orderer.endpoint.clone();
            tokio::spawn(load_until(
                endpoint,
                CHANNEL.to_string(),
                tag,
                Arc::clone(&stop),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let filler = tokio::task::spawn_blocking({
        let dir = disk.path().to_path_buf();
        move || fill(&dir)
    })
    .await
    .unwrap();
    orderer.wait_for_log("cannot write the ledger (disk full or failing)");
    tokio::time::sleep(Duration::from_secs(1)).await;
    std::fs::remove_file(filler).unwrap();
    orderer.wait_for_log("ordering resumes");
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    let mut unavailable = 0;
    for loader in loaders {
        let loaded = loader.await.unwrap();
        acked.extend(loaded.acked);
        unavailable += loaded.unavailable;
    }
    assert!(unavailable > 0, "the full disk refused nothing");
    assert!(acked.len() >= 1000, "only {} acknowledged", acked.len());

    let counts = |blocks: &[orderer_proto::common::Block]| {
        let counts = envelope_counts(blocks);
        assert!(counts.values().all(|n| *n == 1), "an envelope twice");
        counts
    };
    let (blocks, _) = ordered(&orderer.endpoint, CHANNEL, acked.len()).await;
    let stored = counts(&blocks);
    let missing = acked.iter().filter(|e| !stored.contains_key(*e)).count();
    assert_eq!(missing, 0, "acknowledged envelopes missing");
    drop(orderer);
    let restarted = spawn_orderer_with(&ledger, &genesis_block, &[]);
    let (blocks, _) = ordered(&restarted.endpoint, CHANNEL, acked.len()).await;
    let after_restart = counts(&blocks);
    assert!(acked.iter().all(|e| after_restart.contains_key(e)));
    report_fault(
        "disk_full_under_load",
        serde_json::json!({ "filesystem": "tmpfs", "size_bytes": 32 << 20, "broadcast_streams": STREAMS,
            "in_flight": 50, "max_message_count": 50, "batch_timeout_ms": 50 }),
        serde_json::json!({
            "acked_tx": acked.len(), "missing_tx": 0, "duplicate_tx": 0,
            "refused_unavailable_tx": unavailable, "restarts_verified": 1,
        }),
    );
}
