//! The listener's limits as Fabric's configuration sets them: `General.MaxRecvMsgSize`
//! refuses a larger message without harming other streams, and `General.Keepalive`
//! closes a connection whose client stops answering pings.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use loadgen::client::{self, BroadcastStream};
use orderer_proto::common::Status;
use support::process::spawn_orderer_with;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_max_recv_msg_size_is_refused_and_other_streams_go_on() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[("ORDERER_GENERAL_MAXRECVMSGSIZE", (64 * 1024).to_string())],
    );
    let mut client = client::connect(&orderer.endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let small = stream.submit(message(CHANNEL, &[1; 1024])).await.unwrap();
    assert_eq!(small.status, Status::Success as i32);
    // gRPC refuses the message and ends that stream (as grpc-go does for Fabric): no
    // answer comes for it.
    let big = stream.submit(message(CHANNEL, &vec![2; 100 * 1024])).await;
    assert!(big.is_err(), "answered: {big:?}");
    let mut other = BroadcastStream::open(&mut client).await.unwrap();
    let after = other.submit(message(CHANNEL, &[3; 1024])).await.unwrap();
    assert_eq!(after.status, Status::Success as i32);
}

/// Opens a raw HTTP/2 connection that never answers anything, and returns how long the
/// server kept it open (at most `patience`).
fn silent_client_lifetime(endpoint: &str, patience: Duration) -> Duration {
    let address = endpoint.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).unwrap();
    // The client preface and an empty SETTINGS frame; then silence (no SETTINGS or PING
    // acknowledgement).
    socket
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .unwrap();
    socket.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < patience {
        match socket.read(&mut buffer) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return started.elapsed(),
        }
    }
    patience
}

#[test]
fn keepalive_closes_a_connection_whose_client_stops_answering() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[
            ("ORDERER_GENERAL_KEEPALIVE_SERVERINTERVAL", "1s".into()),
            ("ORDERER_GENERAL_KEEPALIVE_SERVERTIMEOUT", "1s".into()),
        ],
    );
    let lifetime = silent_client_lifetime(&orderer.endpoint, Duration::from_secs(15));
    assert!(
        lifetime < Duration::from_secs(10),
        "closed after {lifetime:?}"
    );
    // With Fabric's defaults (ping after 2 h) the same client stays connected.
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(ledger.path(), &genesis(), &[]);
    let lifetime = silent_client_lifetime(&orderer.endpoint, Duration::from_secs(5));
    assert_eq!(
        lifetime,
        Duration::from_secs(5),
        "closed after {lifetime:?}"
    );
}
