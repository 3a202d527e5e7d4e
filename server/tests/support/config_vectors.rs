//! Fabric v1.4.12's channel creation and config updates
//! (`../shared/fabric-vectors/config-updates/`): the files, the system channel they were
//! made on, and what Fabric made of them, for the tests that replay them.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, DeliverStream};
use loadgen::envelope::{self, Seek};
use orderer_proto::common::{
    Block, ChannelHeader, ConfigEnvelope, Envelope, HeaderType, LastConfig, Metadata,
    OrdererBlockMetadata, Payload, Status,
};
use prost::Message;

use super::backend::Backend;
use super::{decode_block, fabric_signer, fetch_blocks_as, message_by, vectors};

pub const SYSTEM: &str = "test-system-channel-name";
pub const NEW: &str = "newchannel";

pub fn updates() -> PathBuf {
    vectors().join("config-updates")
}

pub fn tx(name: &str) -> Bytes {
    std::fs::read(updates().join(name)).unwrap().into()
}

pub fn fabric(name: &str) -> Block {
    Block::decode(tx(name)).unwrap()
}

/// The payload of the `index`-th envelope of `block`, with its channel header.
pub fn payload(block: &Block, index: usize) -> (ChannelHeader, Payload) {
    let envelope = Envelope::decode(block.data.as_ref().unwrap().data[index].clone()).unwrap();
    let payload = Payload::decode(envelope.payload).unwrap();
    let header = ChannelHeader::decode(payload.header.clone().unwrap().channel_header).unwrap();
    (header, payload)
}

/// The ConfigEnvelope of a CONFIG block (or, for an ORDERER_TRANSACTION block, of the
/// CONFIG envelope it wraps).
pub fn config_envelope(block: &Block) -> (HeaderType, ConfigEnvelope) {
    let (header, payload) = payload(block, 0);
    let kind = HeaderType::try_from(header.r#type).unwrap();
    let data = match kind {
        HeaderType::OrdererTransaction => {
            let inner = Envelope::decode(payload.data).unwrap();
            Payload::decode(inner.payload).unwrap().data
        }
        _ => payload.data,
    };
    (kind, ConfigEnvelope::decode(data).unwrap())
}

/// The Orderer group's consensus values, which the Kafka run sets itself.
pub fn without_consensus(mut envelope: ConfigEnvelope) -> ConfigEnvelope {
    if let Some(orderer) = envelope
        .config
        .as_mut()
        .and_then(|config| config.channel_group.as_mut())
        .and_then(|group| group.groups.get_mut("Orderer"))
    {
        orderer.values.remove("ConsensusType");
        orderer.values.remove("KafkaBrokers");
    }
    envelope
}

/// Our block's config equals Fabric's (and its last_update is the same update).
pub fn assert_same_config(ours: &Block, theirs: &Block, what: &str) {
    let (our_kind, our_envelope) = config_envelope(ours);
    let (their_kind, their_envelope) = config_envelope(theirs);
    assert_eq!(our_kind, their_kind, "{what}: header type");
    let (ours, theirs) = (
        without_consensus(our_envelope),
        without_consensus(their_envelope),
    );
    assert_eq!(
        ours.config.as_ref().map(|c| c.sequence),
        theirs.config.as_ref().map(|c| c.sequence),
        "{what}: sequence"
    );
    assert_eq!(ours.config, theirs.config, "{what}: config");
    assert_eq!(ours.last_update, theirs.last_update, "{what}: last_update");
}

/// LAST_CONFIG (slot 1) and `OrdererBlockMetadata.last_config` (slot 0) of a block.
pub fn last_config(block: &Block) -> (u64, u64) {
    let slots = &block.metadata.as_ref().unwrap().metadata;
    let last = Metadata::decode(slots[1].clone()).unwrap();
    let index = LastConfig::decode(last.value).unwrap().index;
    let signed = Metadata::decode(slots[0].clone()).unwrap();
    let orderer = OrdererBlockMetadata::decode(signed.value).unwrap();
    (index, orderer.last_config.unwrap_or_default().index)
}

pub fn tx_count(block: &Block) -> usize {
    block.data.as_ref().unwrap().data.len()
}

/// `SampleSingleMSPSolo`'s genesis block, or (Kafka) the same with ConsensusType
/// `kafka` and the sample's broker list.
pub fn system_genesis(backend: &Backend, dir: &Path) -> PathBuf {
    let path = vectors().join("genesis/v1.4.12/SampleSingleMSPSolo.genesis.block");
    let Backend::Kafka(_) = backend else {
        return path;
    };
    let block = engine::genesis::with_consensus(
        &std::fs::read(&path).unwrap(),
        "kafka",
        &["kafka0:9092".into()],
    )
    .unwrap();
    let out = dir.join("SampleSingleMSPKafka.genesis.block");
    std::fs::write(&out, block).unwrap();
    out
}

/// Blocks `start..=stop` of `channel`, read as the vectors' SampleOrg client, waiting
/// for them.
pub async fn blocks(endpoint: &str, channel: &str, start: u64, stop: u64) -> Vec<Block> {
    let mut client = client::connect(endpoint).await.unwrap();
    fetch_blocks_as(&mut client, &fabric_signer(), channel, start, stop)
        .await
        .iter()
        .map(decode_block)
        .collect()
}

/// Block 0 of a channel, once it exists and its chain has started (a Kafka chain answers
/// SERVICE_UNAVAILABLE until its consenter has, as Fabric's does).
pub async fn blocks_once_ready(endpoint: &str, channel: &str) -> Vec<Block> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut client = client::connect(endpoint).await.unwrap();
    loop {
        let mut deliver = DeliverStream::open(&mut client).await.unwrap();
        let request = envelope::seek_signed(
            channel,
            Seek::At(0),
            Seek::At(0),
            false,
            Some(&fabric_signer()),
        )
        .unwrap();
        let (blocks, status) = deliver.fetch(request).await.unwrap();
        if status == Status::Success {
            return blocks.iter().map(decode_block).collect();
        }
        // NOT_FOUND until the creating block is written, SERVICE_UNAVAILABLE until the
        // chain has started.
        assert!(
            matches!(status, Status::NotFound | Status::ServiceUnavailable),
            "{status:?}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "{channel} did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Sends `envelopes` on one stream and returns Fabric's statuses and infos.
pub async fn send(endpoint: &str, envelopes: &[Bytes]) -> Vec<(Status, String)> {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    for envelope in envelopes {
        stream.send(envelope.clone()).await.unwrap();
    }
    let mut answers = Vec::new();
    for _ in envelopes {
        let response = stream.recv().await.unwrap();
        answers.push((Status::try_from(response.status).unwrap(), response.info));
    }
    answers
}

pub async fn assert_all_succeed(endpoint: &str, envelopes: &[Bytes]) {
    for (index, (status, info)) in send(endpoint, envelopes).await.into_iter().enumerate() {
        assert_eq!(status, Status::Success, "envelope {index}: {info}");
    }
}

/// `count` MESSAGE envelopes of 100 zero bytes, as Fabric's `broadcast_msg` sends them.
pub fn messages(count: usize) -> Vec<Bytes> {
    (0..count)
        .map(|_| message_by(&fabric_signer(), NEW, &[0; 100]))
        .collect()
}

/// Fabric's answer to step `order` of `broadcasts.json`.
pub fn fabric_answer(order: u64) -> (Status, String) {
    let all: serde_json::Value =
        serde_json::from_slice(&std::fs::read(updates().join("broadcasts.json")).unwrap()).unwrap();
    let step = all
        .as_array()
        .unwrap()
        .iter()
        .find(|step| step["order"] == order)
        .unwrap();
    let response = &step["responses"][0];
    (
        Status::from_str_name(response["status"].as_str().unwrap()).unwrap(),
        response["info"].as_str().unwrap().to_string(),
    )
}

/// Every block of `channel`, read as the vectors' client.
pub async fn chain_of_as(endpoint: &str, channel: &str) -> Vec<Block> {
    let mut client = client::connect(endpoint).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    let request = envelope::seek_signed(
        channel,
        Seek::Oldest,
        Seek::Newest,
        false,
        Some(&fabric_signer()),
    )
    .unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!(status, Status::Success);
    blocks.iter().map(decode_block).collect()
}

/// An in-process orderer on `ledger` bootstrapped from `genesis`, signing as the vectors'
/// SampleOrg, as Fabric's orderer that made the vectors did.
pub async fn start_sample_org(
    backend: &Backend,
    ledger: &Path,
    genesis: &Path,
) -> super::TestOrderer {
    let mut config = orderer::Config::default();
    config.general.bootstrap_file = Some(genesis.to_path_buf());
    config.general.local_msp_dir = Some(vectors().join("msp"));
    config.general.local_msp_id = "SampleOrg".into();
    config.file_ledger.location = ledger.to_path_buf();
    backend.configure(&mut config);
    super::TestOrderer::start_with(config).await
}

/// An `orderer start` process on `ledger` bootstrapped from `genesis`, signing as the
/// vectors' SampleOrg.
pub fn spawn_sample_org(
    backend: &Backend,
    ledger: &Path,
    genesis: &Path,
) -> super::process::Process {
    let mut env = backend.env();
    env.push((
        "ORDERER_GENERAL_LOCALMSPDIR",
        vectors().join("msp").display().to_string(),
    ));
    env.push(("ORDERER_GENERAL_LOCALMSPID", "SampleOrg".into()));
    super::process::spawn_orderer_with(ledger, genesis, &env)
}
