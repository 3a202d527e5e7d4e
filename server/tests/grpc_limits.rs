//! The listener's limits as Fabric's configuration sets them: `General.MaxRecvMsgSize`
//! refuses a larger message without harming other streams, and `General.Keepalive`
//! closes a connection whose client stops answering pings; and this orderer's own:
//! `General.Limits.MaxConnections` closes connections past the limit at once and takes
//! new ones when others end (or when silent ones time out), and
//! `General.Limits.MaxConcurrentStreams` makes a client wait for a stream until one of
//! its others ends.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_max_connections_are_closed_until_others_end() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[("ORDERER_GENERAL_LIMITS_MAXCONNECTIONS", "2".into())],
    );
    let mut held = Vec::new();
    for i in 0..2u8 {
        let mut client = client::connect(&orderer.endpoint).await.unwrap();
        let mut stream = BroadcastStream::open(&mut client).await.unwrap();
        let answer = stream.submit(message(CHANNEL, &[i; 64])).await.unwrap();
        assert_eq!(answer.status, Status::Success as i32);
        held.push((client, stream));
    }
    let started = Instant::now();
    let third = order_one(&orderer.endpoint, None, b"third").await;
    assert!(third.is_err(), "a third connection was served: {third:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused only after {:?}",
        started.elapsed()
    );
    orderer.wait_for_log("General.Limits.MaxConnections reached");
    // The held connections still work.
    let (_, stream) = &mut held[0];
    let answer = stream.submit(message(CHANNEL, b"held")).await.unwrap();
    assert_eq!(answer.status, Status::Success as i32);
    // Once one ends, a new connection is taken.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match order_one(&orderer.endpoint, None, b"after").await {
            Ok(status) => break assert_eq!(status, Status::Success as i32),
            Err(error) => assert!(Instant::now() < deadline, "never taken: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sockets that connect and never speak hold their places only until the setup timeout
/// (10 s): then the server closes them and serves others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_cannot_hold_max_connections() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[("ORDERER_GENERAL_LIMITS_MAXCONNECTIONS", "2".into())],
    );
    let address = orderer.endpoint.trim_start_matches("http://").to_string();
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = order_one(&orderer.endpoint, None, b"while silent").await;
    assert!(refused.is_err(), "served past the limit: {refused:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match order_one(&orderer.endpoint, None, b"after").await {
            Ok(status) => break assert_eq!(status, Status::Success as i32),
            Err(error) => assert!(Instant::now() < deadline, "never served: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_past_max_concurrent_streams_waits_for_another_to_end() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = spawn_orderer_with(
        ledger.path(),
        &genesis(),
        &[("ORDERER_GENERAL_LIMITS_MAXCONCURRENTSTREAMS", "2".into())],
    );
    let mut client = client::connect(&orderer.endpoint).await.unwrap();
    let mut first = BroadcastStream::open(&mut client).await.unwrap();
    let mut second = BroadcastStream::open(&mut client).await.unwrap();
    for stream in [&mut first, &mut second] {
        let answer = stream.submit(message(CHANNEL, b"open")).await.unwrap();
        assert_eq!(answer.status, Status::Success as i32);
    }
    // The third stream on the same connection: the client holds it until one ends.
    let mut third_client = client.clone();
    let third = tokio::spawn(async move {
        let mut stream = BroadcastStream::open(&mut third_client).await.unwrap();
        stream
            .submit(message(CHANNEL, b"third"))
            .await
            .unwrap()
            .status
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!third.is_finished(), "a third stream was served at once");
    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("the third stream never started")
        .unwrap();
    assert_eq!(status, Status::Success as i32);
    let answer = second.submit(message(CHANNEL, b"still")).await.unwrap();
    assert_eq!(answer.status, Status::Success as i32);
}
