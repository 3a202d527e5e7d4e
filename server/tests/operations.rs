//! The operations endpoint of a real `orderer` process (`Operations.ListenAddress`,
//! `Metrics.Provider: prometheus`): `/healthz`, `/version`, `/logspec` read and changed,
//! and `/metrics` under Fabric's names with counts that match what the clients sent.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream};
use loadgen::workload::Rate;
use orderer_proto::common::Status;
use support::http::{get, metric, operations_address, request};
use support::process::{Process, spawn_orderer_with};
use support::*;

/// An orderer with its operations endpoint on a free port; the endpoint's address.
fn orderer_with_operations(
    ledger: &std::path::Path,
    genesis_block: &std::path::Path,
    more: &[(&'static str, String)],
) -> (Process, String) {
    let mut env = vec![(
        "ORDERER_OPERATIONS_LISTENADDRESS",
        "127.0.0.1:0".to_string(),
    )];
    env.extend_from_slice(more);
    let process = spawn_orderer_with(ledger, genesis_block, &env);
    let address = operations_address(&process);
    (process, address)
}

/// Three envelopes that do not decode (BAD_REQUEST) and two for a channel that does not
/// exist (NOT_FOUND).
async fn send_refused(endpoint: &str) {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    for _ in 0..3 {
        let answer = stream.submit(Bytes::from_static(b"\xff")).await.unwrap();
        assert_eq!(answer.status, Status::BadRequest as i32);
    }
    for _ in 0..2 {
        let answer = stream.submit(message("nosuchchannel", b"x")).await.unwrap();
        assert_eq!(answer.status, Status::NotFound as i32);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_clients_sent() {
    let ledger = tempfile::tempdir().unwrap();
    let (orderer, ops) = orderer_with_operations(
        ledger.path(),
        &genesis(),
        &[("ORDERER_METRICS_PROVIDER", "prometheus".into())],
    );
    let (code, body) = get(&ops, "/healthz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"status\":\"OK\""), "{body}");
    let (code, body) = get(&ops, "/version");
    assert_eq!((code, body.contains("\"Version\"")), (200, true), "{body}");

    let report = loadgen::run::run(workload(
        orderer.endpoint.clone(),
        CHANNEL,
        Rate::Max { window: 64 },
        1200,
    ))
    .await
    .unwrap();
    assert!(report.is_clean(), "{report}");
    send_refused(&orderer.endpoint).await;
    let height = chain_of(&orderer.endpoint, CHANNEL).await.len();

    let (code, text) = get(&ops, "/metrics");
    assert_eq!(code, 200);
    let value = |series: &str| metric(&text, series).unwrap_or_else(|| panic!("{series}:\n{text}"));
    let success = "{channel=\"appchannel\",type=\"MESSAGE\",status=\"SUCCESS\"}";
    assert_eq!(
        value(&format!("broadcast_processed_count{success}")),
        report.figures.acked_tx as f64
    );
    assert_eq!(
        value(&format!("broadcast_validate_duration_count{success}")),
        1200.0
    );
    assert_eq!(
        value(&format!("broadcast_enqueue_duration_count{success}")),
        1200.0
    );
    assert_eq!(
        value(
            "broadcast_processed_count{channel=\"unknown\",type=\"unknown\",status=\"BAD_REQUEST\"}"
        ),
        3.0
    );
    assert_eq!(
        value(
            "broadcast_processed_count{channel=\"unknown\",type=\"MESSAGE\",status=\"NOT_FOUND\"}"
        ),
        2.0
    );
    assert_eq!(
        value("ledger_blockchain_height{channel=\"appchannel\"}"),
        height as f64
    );
    assert!(
        value("deliver_blocks_sent{channel=\"appchannel\",filtered=\"false\"}")
            >= (height - 1) as f64
    );
    // Every block after the genesis block was a batch filling from its first envelope
    // (loadgen saw all 1,200 delivered, so nothing is pending).
    assert_eq!(
        value("blockcutter_block_fill_duration_count{channel=\"appchannel\"}"),
        (height - 1) as f64
    );
    assert!(value("deliver_streams_opened") >= 1.0);
    assert!(text.contains("# TYPE broadcast_validate_duration histogram"));
}

/// `/logspec` shows the active spec (Fabric's syntax) and a PUT replaces it; a spec
/// that does not parse is refused with a reason and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logspec_reads_and_changes_the_active_spec() {
    let ledger = tempfile::tempdir().unwrap();
    let (_orderer, ops) = orderer_with_operations(ledger.path(), &genesis(), &[]);
    let (code, body) = get(&ops, "/logspec");
    assert_eq!((code, body.as_str()), (200, "{\"spec\":\"info\"}"));
    let (code, _) = request(
        &ops,
        "PUT",
        "/logspec",
        "{\"spec\":\"warning:orderer=debug\"}",
    );
    assert_eq!(code, 204);
    let (_, body) = get(&ops, "/logspec");
    assert_eq!(body, "{\"spec\":\"warning:orderer=debug\"}");
    let (code, body) = request(&ops, "PUT", "/logspec", "{\"spec\":\"loud\"}");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("invalid logging level"), "{body}");
    let (_, body) = get(&ops, "/logspec");
    assert_eq!(body, "{\"spec\":\"warning:orderer=debug\"}");
}

/// A Kafka channel whose brokers cannot be reached is not ordering: `/healthz` answers
/// 503 naming it. Without `Metrics.Provider: prometheus` there is no `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_names_a_channel_that_is_not_ordering() {
    let channel = format!("unreachable-{}", loadgen::envelope::nonce_u64() % 1_000_000);
    let mut spec = genesis_spec(&channel, &[org_spec(&org().ca, &org().admin)]);
    spec.consensus = "kafka".into();
    spec.kafka_brokers = vec!["127.0.0.1:1".into()];
    let dir = tempfile::tempdir().unwrap();
    let genesis_block = dir.path().join("genesis.block");
    std::fs::write(&genesis_block, spec.build()).unwrap();
    let (_orderer, ops) = orderer_with_operations(&dir.path().join("ledger"), &genesis_block, &[]);
    let (code, body) = get(&ops, "/healthz");
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("\"status\":\"Service Unavailable\""),
        "{body}"
    );
    assert!(body.contains(&format!("channel {channel}")), "{body}");
    assert_eq!(get(&ops, "/metrics").0, 404);
}
