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
use loadgen::client::{self, BroadcastStream, ClientTls, DeliverStream};
use loadgen::envelope::{self, Seek};
use loadgen::workload::Rate;
use orderer_proto::common::Status;
use support::config_updates::update_config;
use support::process::{Process, refused_start, spawn_orderer_with};
use support::*;

/// An orderer serving TLS as `server` (issued by its CA); with `client_roots`, mutual TLS.
fn tls_orderer(dir: &Path, server: &Issued, client_roots: Option<&[&DevCa]>) -> Process {
    spawn_orderer_with(
        &dir.join("ledger"),
        &genesis(),
        &tls_env(dir, server, client_roots),
    )
}

/// The environment of [`tls_orderer`].
fn tls_env(
    dir: &Path,
    server: &Issued,
    client_roots: Option<&[&DevCa]>,
) -> Vec<(&'static str, String)> {
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
    env
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
        // connection closing under it (closed, reset, or a broken pipe as it writes);
        // an alert it sees must be the right one.
        let error = refused.expect_err(case);
        if error.contains("fatal alert") {
            assert!(
                error.contains(&format!("fatal alert: {alert}")),
                "{case}: {error}"
            );
        } else {
            let closed = ["connection closed", "broken pipe", "connection reset"];
            assert!(
                closed.iter().any(|how| error.contains(how)),
                "{case}: {error}"
            );
        }
    }
}

/// The status of a Deliver request for the genesis block over a connection as `tls`,
/// the request bound to the certificate of `bound_to` (none: no hash).
async fn read_genesis(endpoint: &str, tls: &ClientTls, bound_to: Option<&ClientTls>) -> Status {
    let mut client = client::connect_with(endpoint, Some(tls)).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let seek = envelope::seek_bound(
        CHANNEL,
        (Seek::Oldest, Seek::At(0)),
        true,
        Some(&org().client),
        bound_to,
    )
    .unwrap();
    let (blocks, status) = deliver.fetch(seek).await.unwrap();
    assert_eq!(blocks.len(), usize::from(status == Status::Success));
    status
}

/// Under mutual TLS a Deliver request must carry the hash of the certificate its
/// connection presented (Fabric's binding inspector): a request without it, or bound to
/// another client's certificate (a replayed request), is BAD_REQUEST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_mutual_tls_deliver_requests_are_bound_to_the_client_certificate() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1"]).unwrap();
    let clients = DevCa::generate("Clients").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let orderer = tls_orderer(dir.path(), &server, Some(&[&clients]));
    let ours = trusting(&server_ca, Some(&clients.issue_tls(&["peer0"]).unwrap()));
    let theirs = trusting(&server_ca, Some(&clients.issue_tls(&["peer1"]).unwrap()));

    let endpoint = &orderer.endpoint;
    assert_eq!(
        read_genesis(endpoint, &ours, Some(&ours)).await,
        Status::Success
    );
    assert_eq!(
        read_genesis(endpoint, &ours, None).await,
        Status::BadRequest
    );
    assert_eq!(
        read_genesis(endpoint, &ours, Some(&theirs)).await,
        Status::BadRequest
    );
    orderer.wait_for_log("claimed TLS cert hash is not the hash of the client's TLS certificate");
    // loadgen binds its requests itself: a run under mutual TLS is clean.
    let mut spec = workload(endpoint.clone(), CHANNEL, Rate::Max { window: 16 }, 100);
    spec.tls = Some(ours);
    let report = loadgen::run::run(spec).await.unwrap();
    assert!(report.is_clean(), "{report}");
}

/// The org of `ca` (admin `admin`) whose MSP names `tls_ca` as its TLS root CA.
fn org_with_tls_ca(ca: &DevCa, admin: &Issued, tls_ca: &DevCa) -> engine::genesis::OrgSpec {
    use orderer_proto::msp::{FabricMspConfig, MspConfig};
    use prost::Message as _;
    let mut org = org_spec(ca, admin);
    let mut msp = MspConfig::decode(org.msp_config.clone()).unwrap();
    let mut fabric = FabricMspConfig::decode(msp.config.clone()).unwrap();
    fabric.tls_root_certs = vec![Bytes::from(tls_ca.cert_pem().to_string())];
    msp.config = fabric.encode_to_vec().into();
    org.msp_config = msp.encode_to_vec().into();
    org
}

/// A genesis block whose org's MSP names `tls_ca` as its TLS root CA, in `dir`.
fn genesis_with_tls_ca(dir: &Path, tls_ca: &DevCa) -> std::path::PathBuf {
    let org = org_with_tls_ca(&org().ca, &org().admin, tls_ca);
    let path = dir.join("genesis-with-tls-ca.block");
    std::fs::write(&path, genesis_spec(CHANNEL, &[org]).build()).unwrap();
    path
}

/// Under mutual TLS the trusted client roots follow the channels' configs, as Fabric's
/// orderer updates them when it writes a config block: the TLS CA of an org a config
/// update adds is trusted from the next connection on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_trusts_the_tls_ca_of_an_org_a_config_update_adds() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1"]).unwrap();
    let org_tls_ca = DevCa::generate("TestOrgTLSCA").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let genesis_block = genesis_with_tls_ca(dir.path(), &org_tls_ca);
    let env = tls_env(dir.path(), &server, Some(&[]));
    let orderer = spawn_orderer_with(&dir.path().join("ledger"), &genesis_block, &env);
    let member = trusting(&server_ca, Some(&org_tls_ca.issue_tls(&["peer0"]).unwrap()));
    let new_ca = DevCa::generate("NewOrg").unwrap();
    let new_admin = new_ca.issue("admin", &["admin"]).unwrap();
    let new_tls_ca = DevCa::generate("NewOrgTLSCA").unwrap();
    let newcomer = trusting(&server_ca, Some(&new_tls_ca.issue_tls(&["peer0"]).unwrap()));
    let refused = order_one(&orderer.endpoint, Some(&newcomer), b"before").await;
    assert!(refused.is_err(), "{refused:?}");

    let group = org_with_tls_ca(&new_ca, &new_admin, &new_tls_ca).group();
    let admin = org().admin.signer().unwrap();
    update_config(
        &orderer.endpoint,
        Some(&member),
        CHANNEL,
        &org().client,
        &[&admin],
        |config| {
            let groups = &mut config.channel_group.as_mut().unwrap().groups;
            let application = groups.get_mut("Application").unwrap();
            application.groups.insert("NewOrg".into(), group);
        },
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // The update is answered when queued; its block takes effect a moment later.
        match order_one(&orderer.endpoint, Some(&newcomer), b"after").await {
            Ok(status) => {
                assert_eq!(status, Status::Success as i32);
                break;
            }
            Err(why) => assert!(std::time::Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Under mutual TLS the orderer also trusts client certificates of the TLS CAs its
/// channels' MSPs name (`tls_root_certs`), as Fabric's does: peers of a member org
/// connect with no `ClientRootCAs` configured for them. With neither, the start fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_trusts_the_tls_cas_of_the_channel_msps() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1"]).unwrap();
    let org_tls_ca = DevCa::generate("TestOrgTLSCA").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let genesis_block = genesis_with_tls_ca(dir.path(), &org_tls_ca);
    let env = tls_env(dir.path(), &server, Some(&[]));
    let orderer = spawn_orderer_with(&dir.path().join("ledger"), &genesis_block, &env);

    let member = trusting(&server_ca, Some(&org_tls_ca.issue_tls(&["peer0"]).unwrap()));
    let status = order_one(&orderer.endpoint, Some(&member), b"member").await;
    assert_eq!(status, Ok(Status::Success as i32));
    let stranger = DevCa::generate("Strangers").unwrap();
    let outsider = trusting(&server_ca, Some(&stranger.issue_tls(&["x"]).unwrap()));
    let refused = order_one(&orderer.endpoint, Some(&outsider), b"outsider").await;
    assert!(refused.is_err(), "{refused:?}");

    // No ClientRootCAs and a channel whose MSPs name no TLS CA: nothing to trust.
    let env: Vec<(&str, String)> = tls_env(dir.path(), &server, Some(&[]));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stderr = refused_start(&env);
    assert!(stderr.contains("no client root is known"), "{stderr}");
}

/// `General.TLS.Enabled` without a certificate stops the start, naming the key.
#[test]
fn tls_without_its_certificate_is_refused_at_start() {
    let stderr = refused_start(&[("ORDERER_GENERAL_TLS_ENABLED", "true")]);
    assert!(stderr.contains("General.TLS.Certificate"), "{stderr}");
}

/// A client CA made here, and a client TLS certificate of it that expired a day ago.
fn expired_client(dir: &Path) -> (String, ClientTls) {
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(vec![]).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["peer0".to_string()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(30);
    params.not_after = now - time::Duration::days(1);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_file = write_text(dir, "expired-client-ca.crt", &ca_cert.pem());
    let tls = ClientTls {
        root_cas_pem: Vec::new(),
        identity: Some((cert.pem().into_bytes(), key.serialize_pem().into_bytes())),
        server_name: None,
    };
    (ca_file, tls)
}

/// `General.TLS.TLSHandshakeTimeShift`, as Fabric's gRPC server applies it: under mutual
/// TLS a client certificate is judged by the clock shifted back by it, so a client whose
/// certificate expired a day ago is refused at the handshake without a shift and served
/// with a two-day one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_time_shift_admits_client_certificates_expired_within_it() {
    let server_ca = DevCa::generate("ServerTLSCA").unwrap();
    let server = server_ca.issue_tls(&["127.0.0.1"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, mut tls) = expired_client(dir.path());
    tls.root_cas_pem = server_ca.cert_pem().as_bytes().to_vec();
    for (shift, expected_ok) in [("0s", false), ("48h", true)] {
        let mut env = tls_env(dir.path(), &server, None);
        env.push(("ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED", "true".into()));
        env.push(("ORDERER_GENERAL_TLS_CLIENTROOTCAS", format!("[{ca_file}]")));
        env.push(("ORDERER_GENERAL_TLS_TLSHANDSHAKETIMESHIFT", shift.into()));
        let ledger = dir.path().join(format!("ledger-{shift}"));
        let orderer = spawn_orderer_with(&ledger, &genesis(), &env);
        let status = order_one(&orderer.endpoint, Some(&tls), shift.as_bytes()).await;
        if expected_ok {
            assert_eq!(status, Ok(Status::Success as i32), "shift {shift}");
        } else {
            assert!(status.is_err(), "shift {shift}: {status:?}");
            // Refused for its expiry, not for anything else.
            let line = orderer.wait_for_log("TLS handshake failed");
            assert!(line.contains("certificate expired"), "{line}");
        }
    }
}
