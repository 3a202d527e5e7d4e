//! TLS and mutual TLS on the gRPC listener, configured as Fabric's orderer is
//! (`General.TLS.*`, here through `ORDERER_GENERAL_TLS_*`), with certificates the test
//! makes: clients that trust the server's CA order and read over TLS; under mutual TLS a
//! client without a certificate, or with one from an unknown CA, is refused at the
//! handshake and never gets an answer.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::path::Path;

use bytes::Bytes;
use loadgen::ca::{DevCa, Issued};
use loadgen::client::{self, BroadcastStream, ClientTls};
use orderer_proto::common::Status;
use support::process::{Process, refused_start, spawn_orderer_with};
use support::*;

/// An orderer serving TLS as `server` (issued by its CA); with `client_roots`, mutual TLS.
fn tls_orderer(dir: &Path, server: &Issued, client_roots: Option<&[&DevCa]>) -> Process {
    let mut env = vec![
        ("ORDERER_GENERAL_TLS_ENABLED", "true".to_string()),
        (
            "ORDERER_GENERAL_TLS_CERTIFICATE",
            write_text(dir, "server.crt", &server.cert_pem),
        ),
        (
            "ORDERER_GENERAL_TLS_PRIVATEKEY",
            write_text(dir, "server.key", &server.key_pem()),
        ),
    ];
    if let Some(roots) = client_roots {
        let files: Vec<String> = roots
            .iter()
            .enumerate()
            .map(|(i, ca)| write_text(dir, &format!("client-ca-{i}.crt"), ca.cert_pem()))
            .collect();
        env.push(("ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED", "true".into()));
        env.push((
            "ORDERER_GENERAL_TLS_CLIENTROOTCAS",
            format!("[{}]", files.join(",")),
        ));
    }
    spawn_orderer_with(&dir.join("ledger"), &genesis(), &env)
}

fn trusting(ca: &DevCa, identity: Option<&Issued>) -> ClientTls {
    ClientTls {
        root_cas_pem: ca.cert_pem().as_bytes().to_vec(),
        identity: identity.map(|issued| {
            (
                issued.cert_pem.clone().into_bytes(),
                issued.key_pem().into_bytes(),
            )
        }),
        server_name: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_trust_the_server_order_and_read_over_tls() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1", "localhost"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let orderer = tls_orderer(dir.path(), &server, None);
    let tls = trusting(&server_ca, None);

    let mut client = client::connect_with(&orderer.endpoint, Some(&tls))
        .await
        .unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let envelopes: Vec<Bytes> = (0..20u32)
        .map(|i| message(CHANNEL, &i.to_le_bytes()))
        .collect();
    broadcast_all(&mut stream, &envelopes).await;
    let block = decode_block(&fetch_blocks(&mut client, CHANNEL, 1, 1).await[0]);
    assert_eq!(block.data.unwrap().data, envelopes);

    // Neither a plaintext client nor one that trusts another CA gets an answer.
    let plain = order_one(&orderer.endpoint, None, b"plain").await;
    assert!(plain.is_err(), "plaintext client: {plain:?}");
    let stranger = trusting(&DevCa::generate("OtherCA").unwrap(), None);
    let untrusting = order_one(&orderer.endpoint, Some(&stranger), b"x").await;
    assert!(
        untrusting.is_err(),
        "client trusting another CA: {untrusting:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_clients_without_a_certificate_from_a_client_root() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1"]).unwrap();
    let (clients_a, clients_b) = (
        DevCa::generate("ClientsA").unwrap(),
        DevCa::generate("ClientsB").unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let orderer = tls_orderer(dir.path(), &server, Some(&[&clients_a, &clients_b]));

    for (case, ca) in [("first client root", &clients_a), ("second", &clients_b)] {
        let identity = ca.issue_tls(&["peer0"]).unwrap();
        let tls = trusting(&server_ca, Some(&identity));
        let status = order_one(&orderer.endpoint, Some(&tls), case.as_bytes()).await;
        assert_eq!(status, Ok(Status::Success as i32), "{case}");
    }
    let rogue = DevCa::generate("RogueClients")
        .unwrap()
        .issue_tls(&["intruder"])
        .unwrap();
    for (case, tls, alert) in [
        (
            "no client certificate",
            trusting(&server_ca, None),
            "CertificateRequired",
        ),
        (
            "certificate from an unknown CA",
            trusting(&server_ca, Some(&rogue)),
            "UnknownCA",
        ),
    ] {
        let refused = order_one(&orderer.endpoint, Some(&tls), case.as_bytes()).await;
        // The server refuses the handshake: no gRPC call is answered. The client sees the
        // server's TLS alert, or (TLS 1.3 finishes the client's side first) the
        // connection closing under it; an alert it sees must be the right one.
        let error = refused.expect_err(case);
        if error.contains("fatal alert") {
            assert!(
                error.contains(&format!("fatal alert: {alert}")),
                "{case}: {error}"
            );
        } else {
            assert!(error.contains("connection closed"), "{case}: {error}");
        }
    }
}

/// `General.TLS.Enabled` without a certificate stops the start, naming the key.
#[test]
fn tls_without_its_certificate_is_refused_at_start() {
    let stderr = refused_start(&[("ORDERER_GENERAL_TLS_ENABLED", "true")]);
    assert!(stderr.contains("General.TLS.Certificate"), "{stderr}");
}
