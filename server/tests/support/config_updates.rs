//! Config updates made the way an operator makes them: the channel's newest config
//! fetched over Deliver, edited, the update computed by Fabric's own `configtxlator
//! compute_update`, signed by admins (`ConfigSignature`s) and broadcast.

use bytes::Bytes;
use loadgen::client::{self, BroadcastStream, ClientTls, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use loadgen::msp::Signer;
use orderer_proto::common::{
    Block, Config as ChannelConfig, ConfigSignature, ConfigUpdateEnvelope, HeaderType,
    SignatureHeader, Status,
};
use prost::Message;

use super::config_vectors::{config_envelope, last_config};
use super::fabric_bin;

/// Blocks `start..=stop` of `channel`, read as `reader` (over `tls`, when given).
async fn read(
    endpoint: &str,
    tls: Option<&ClientTls>,
    reader: &Signer,
    channel: &str,
    start: Seek,
    stop: Seek,
) -> Vec<Block> {
    let mut client = client::connect_with(endpoint, tls).await.unwrap();
    let mut deliver = DeliverStream::open(&mut client).await.unwrap();
    // Under mutual TLS the request names the client's TLS certificate.
    let request = envelope::seek_bound(channel, (start, stop), false, Some(reader), tls).unwrap();
    let (blocks, status) = deliver.fetch(request).await.unwrap();
    assert_eq!(status, Status::Success);
    blocks
        .iter()
        .map(|block| Block::decode(block.clone()).unwrap())
        .collect()
}

/// The newest config of `channel`: the config block LAST_CONFIG names, read as `reader`.
pub async fn current_config(
    endpoint: &str,
    tls: Option<&ClientTls>,
    reader: &Signer,
    channel: &str,
) -> ChannelConfig {
    let newest = read(endpoint, tls, reader, channel, Seek::Newest, Seek::Newest).await;
    let (index, _) = last_config(&newest[0]);
    let block = read(
        endpoint,
        tls,
        reader,
        channel,
        Seek::At(index),
        Seek::At(index),
    )
    .await;
    config_envelope(&block[0]).1.config.unwrap()
}

/// `configtxlator compute_update` between two configs of `channel`.
pub fn compute_update(channel: &str, original: &ChannelConfig, updated: &ChannelConfig) -> Bytes {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, config: &ChannelConfig| {
        let path = dir.path().join(name);
        std::fs::write(&path, config.encode_to_vec()).unwrap();
        path
    };
    let (original, updated) = (write("original.pb", original), write("updated.pb", updated));
    let output = dir.path().join("update.pb");
    let status = std::process::Command::new(fabric_bin("v2.5.6", "configtxlator"))
        .args(["compute_update", "--channel_id", channel, "--original"])
        .arg(&original)
        .arg("--updated")
        .arg(&updated)
        .arg("--output")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "configtxlator compute_update failed");
    std::fs::read(output).unwrap().into()
}

/// The update in a CONFIG_UPDATE envelope signed by each of `admins` (a
/// `ConfigSignature` each, as `peer channel signconfigtx` adds them) and sent by the
/// first.
pub fn signed_update(channel: &str, update: Bytes, admins: &[&Signer]) -> Bytes {
    let signatures = admins
        .iter()
        .map(|admin| {
            let signature_header: Bytes = SignatureHeader {
                creator: admin.creator().clone(),
                nonce: Bytes::from(envelope::nonce_u64().to_be_bytes().to_vec()),
            }
            .encode_to_vec()
            .into();
            let signed = [&signature_header[..], &update[..]].concat();
            ConfigSignature {
                signature: admin.sign(&signed).unwrap().into(),
                signature_header,
            }
        })
        .collect();
    let envelope = ConfigUpdateEnvelope {
        signatures,
        config_update: update,
    };
    envelope::build(&EnvelopeSpec {
        channel_id: channel,
        header_type: HeaderType::ConfigUpdate,
        signer: Some(admins[0]),
        data: envelope.encode_to_vec().into(),
    })
    .unwrap()
}

/// Edits the newest config of `channel` with `edit` and orders the update, signed by
/// `admins` and sent by the first of them; `reader` reads the config.
pub async fn update_config(
    endpoint: &str,
    tls: Option<&ClientTls>,
    channel: &str,
    reader: &Signer,
    admins: &[&Signer],
    edit: impl FnOnce(&mut ChannelConfig),
) {
    let original = current_config(endpoint, tls, reader, channel).await;
    let mut updated = original.clone();
    edit(&mut updated);
    let update = compute_update(channel, &original, &updated);
    let sent = signed_update(channel, update, admins);
    let mut client = client::connect_with(endpoint, tls).await.unwrap();
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let response = stream.submit(sent).await.unwrap();
    assert_eq!(response.status, Status::Success as i32, "{}", response.info);
}
