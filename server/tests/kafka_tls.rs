//! `Kafka.TLS` with real `orderer` processes: the node dials the brokers with TLS,
//! presenting `Certificate`/`PrivateKey` and trusting only `RootCAs`, as Fabric's Kafka
//! consenter does. The broker is the local tansu the project's scripts start, behind a
//! TLS terminator that requires client certificates (see `support/tls_front.rs` for why).
//! Certificates are made by the test. A node whose certificate the brokers' side does not
//! trust, or that does not trust the brokers', never starts its consenter: Broadcast
//! answers SERVICE_UNAVAILABLE and nothing is ordered.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use loadgen::ca::{DevCa, Issued};
use loadgen::client::{self, BroadcastStream};
use loadgen::kafka::Broker;
use orderer_proto::common::Status;
use support::backend::Backend;
use support::process::{Process, refused_start, spawn_orderer_with};
use support::tls_front::TlsFront;
use support::*;
use tokio::net::TcpListener;

/// A node's TLS material, written as files for the `.File` keys.
struct NodeTls {
    identity: Issued,
    trusted_root_pem: String,
}

impl NodeTls {
    fn env(&self, dir: &Path, brokers: &str) -> Vec<(&'static str, String)> {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        vec![
            ("ORDERER_KAFKA_BROKERS", brokers.to_string()),
            ("ORDERER_KAFKA_TOPIC_REPLICATIONFACTOR", "1".into()),
            ("ORDERER_KAFKA_RETRY_SHORTINTERVAL", "500ms".into()),
            (
                "ORDERER_KAFKA_RETRY_NETWORKTIMEOUTS_WRITETIMEOUT",
                "3s".into(),
            ),
            ("ORDERER_KAFKA_TLS_ENABLED", "true".into()),
            (
                "ORDERER_KAFKA_TLS_PRIVATEKEY_FILE",
                write("key.pem", &self.identity.key_pem()),
            ),
            (
                "ORDERER_KAFKA_TLS_CERTIFICATE_FILE",
                write("cert.pem", &self.identity.cert_pem),
            ),
            (
                "ORDERER_KAFKA_TLS_ROOTCAS_FILE",
                write("roots.pem", &self.trusted_root_pem),
            ),
        ]
    }
}

/// Broadcasts `envelopes` and returns each one's status.
async fn statuses(process: &Process, envelopes: &[Bytes]) -> Vec<i32> {
    let mut client = client::connect(&process.endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let mut statuses = Vec::new();
    for envelope in envelopes {
        statuses.push(stream.submit(envelope.clone()).await.unwrap().status);
    }
    statuses
}

/// Waits until `done` holds, for at most 60 s.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A local broker behind a TLS front whose certificate `brokers_ca` issued and which
/// admits nodes with certificates `nodes_ca` issued; a channel on it.
struct TlsCluster {
    front: TlsFront,
    front_address: String,
    brokers_ca: DevCa,
    nodes_ca: DevCa,
    channel: String,
    genesis_block: std::path::PathBuf,
    _backend: Backend,
}

impl TlsCluster {
    async fn start() -> Self {
        let brokers_ca = DevCa::generate("KafkaCA").unwrap();
        let nodes_ca = DevCa::generate("OrdererTLSCA").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_address = listener.local_addr().unwrap().to_string();
        let broker = Broker::start_local_advertising(&front_address).unwrap();
        let broker_tls = brokers_ca.issue_tls(&["127.0.0.1", "localhost"]).unwrap();
        let front = TlsFront::start(
            listener,
            &broker_tls.cert_pem,
            &broker_tls.key_pem(),
            nodes_ca.cert_pem(),
            broker.bootstrap.clone(),
        );
        let backend = Backend::Kafka(broker);
        let (channel, genesis_block) = backend.channel_with("tls", |spec| {
            spec.batch_size.max_message_count = 10;
            spec.batch_timeout = Duration::from_millis(500);
        });
        Self {
            front,
            front_address,
            brokers_ca,
            nodes_ca,
            channel,
            genesis_block,
            _backend: backend,
        }
    }

    /// An `orderer` process on a fresh ledger with `tls` (its files under `dir`).
    fn node(&self, tls: &NodeTls, dir: &Path) -> Process {
        std::fs::create_dir_all(dir.join("ledger")).unwrap();
        spawn_orderer_with(
            &dir.join("ledger"),
            &self.genesis_block,
            &tls.env(dir, &self.front_address),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_kafka_tls_orders_through_tls() {
    let cluster = TlsCluster::start().await;
    let tls = NodeTls {
        identity: cluster.nodes_ca.issue_tls(&["orderer0"]).unwrap(),
        trusted_root_pem: cluster.brokers_ca.cert_pem().into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let node = cluster.node(&tls, dir.path());
    node.wait_for_log("Kafka consenter started");
    let envelopes: Vec<Bytes> = (0..100u32)
        .map(|i| message(&cluster.channel, &i.to_le_bytes()))
        .collect();
    let answers = statuses(&node, &envelopes).await;
    assert!(
        answers.iter().all(|s| *s == Status::Success as i32),
        "{answers:?}"
    );
    let (blocks, ordered) = ordered(&node.endpoint, &cluster.channel, envelopes.len()).await;
    assert_eq!(ordered, envelopes);
    assert_chain_valid(&blocks);
    assert!(
        cluster.front.handshakes() > 0,
        "the node's connections went through TLS"
    );
    assert_eq!(cluster.front.refused(), 0);
}

/// A node with a certificate from a CA the brokers' side does not trust, and a node that
/// does not trust the brokers' certificate: refused at the handshake, so their consenters
/// never start; Broadcast answers SERVICE_UNAVAILABLE and nothing is ordered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_peers_are_refused_at_the_handshake() {
    let cluster = TlsCluster::start().await;
    let rogue_ca = DevCa::generate("RogueCA").unwrap();
    for (case, tls) in [
        (
            "untrusted node certificate",
            NodeTls {
                identity: rogue_ca.issue_tls(&["intruder"]).unwrap(),
                trusted_root_pem: cluster.brokers_ca.cert_pem().into(),
            },
        ),
        (
            "untrusted broker certificate",
            NodeTls {
                identity: cluster.nodes_ca.issue_tls(&["orderer1"]).unwrap(),
                trusted_root_pem: rogue_ca.cert_pem().into(),
            },
        ),
    ] {
        let refused_before = cluster.front.refused();
        let dir = tempfile::tempdir().unwrap();
        let node = cluster.node(&tls, dir.path());
        eventually(&format!("{case}: a refused handshake"), || {
            cluster.front.refused() > refused_before
        })
        .await;
        let probe = [message(&cluster.channel, case.as_bytes())];
        let answers = statuses(&node, &probe).await;
        assert_eq!(answers, [Status::ServiceUnavailable as i32], "{case}");
        assert_eq!(
            chain_of(&node.endpoint, &cluster.channel).await.len(),
            1,
            "{case}: nothing ordered"
        );
    }
    assert_eq!(cluster.front.handshakes(), 0);
}

/// `Kafka.TLS.Enabled` without a key pair is refused at start, naming the key, as
/// Fabric's orderer refuses it (it panics decoding the pair).
#[test]
fn kafka_tls_without_a_key_pair_is_refused_at_start() {
    let stderr = refused_start(&[("ORDERER_KAFKA_TLS_ENABLED", "true")]);
    assert!(stderr.contains("Kafka.TLS.PrivateKey"), "{stderr}");
}
