//! The config update the benchmark sends, made as an operator makes one: the channel's
//! current config read from the orderer over Deliver, `Orderer/BatchSize` edited, the
//! `ConfigUpdate` Fabric's `configtxlator compute_update` computes for that edit, signed
//! by an admin of the channel's org (a `ConfigSignature`, as `peer channel
//! signconfigtx` adds) and sent in a CONFIG_UPDATE envelope by that admin.

use std::collections::HashMap;

use bytes::Bytes;
use engine::config::ConfigBlock;
use loadgen::client::{Client, ClientTls, DeliverStream};
use loadgen::envelope::{self, EnvelopeSpec, Seek};
use loadgen::msp::Signer;
use orderer_proto::common::{
    Config, ConfigGroup, ConfigSignature, ConfigUpdate, ConfigUpdateEnvelope, ConfigValue,
    HeaderType, SignatureHeader,
};
use orderer_proto::orderer::BatchSize;
use prost::Message as _;

use crate::error::Error;

/// The Orderer group's name in the channel group, and its BatchSize value's key.
const ORDERER: &str = "Orderer";
const BATCH_SIZE: &str = "BatchSize";

/// Who reads the config, over which connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reader<'a> {
    /// The channel.
    pub channel_id: &'a str,
    /// Signs the Deliver requests (a member of the channel's org).
    pub signer: &'a Signer,
    /// TLS of the connection, when the listener serves it.
    pub tls: Option<&'a ClientTls>,
}

/// One block of the channel, `number` or the newest.
async fn block(client: &mut Client, reader: Reader<'_>, number: Seek) -> Result<Bytes, Error> {
    let mut stream = DeliverStream::open(client).await?;
    let seek = envelope::seek_bound(
        reader.channel_id,
        (number, number),
        true,
        Some(reader.signer),
        reader.tls,
    )?;
    let (mut blocks, status) = stream.fetch(seek).await?;
    blocks.pop().ok_or_else(|| {
        Error::Config(format!(
            "Deliver of {} gave no block: {status:?}",
            reader.channel_id
        ))
    })
}

/// The channel's current config: the config block that the newest block's LAST_CONFIG
/// names.
pub(super) async fn current_config(
    client: &mut Client,
    reader: Reader<'_>,
) -> Result<Config, Error> {
    let newest = block(client, reader, Seek::Newest).await?;
    let last_config = engine::block::tip_of(&newest)?.last_config;
    let config_block = block(client, reader, Seek::At(last_config)).await?;
    Ok(ConfigBlock::decode(&config_block)?.config)
}

/// The channel's Orderer group and its current BatchSize value, decoded.
fn orderer_batch_size(config: &Config) -> Result<(&ConfigGroup, &ConfigValue, BatchSize), Error> {
    let orderer = config
        .channel_group
        .as_ref()
        .and_then(|channel| channel.groups.get(ORDERER))
        .ok_or_else(|| Error::Config("the channel config has no Orderer group".into()))?;
    let value = orderer
        .values
        .get(BATCH_SIZE)
        .ok_or_else(|| Error::Config("the Orderer group has no BatchSize".into()))?;
    let batch_size = BatchSize::decode(value.value.clone())
        .map_err(|e| Error::Config(format!("Orderer/BatchSize does not decode: {e}")))?;
    Ok((orderer, value, batch_size))
}

/// `BatchSize.MaxMessageCount` of `config`.
pub(super) fn max_message_count(config: &Config) -> Result<u32, Error> {
    Ok(orderer_batch_size(config)?.2.max_message_count)
}

/// What `configtxlator compute_update` gives for `config` with only
/// `Orderer/BatchSize.MaxMessageCount` set to `max_message_count`: the read set holds
/// the Channel and Orderer groups at their versions and nothing else; the write set the
/// same groups at the same versions (their `mod_policy` left empty: they are not
/// modified) with the BatchSize value at its version + 1, keeping its `mod_policy`.
pub(super) fn max_message_count_update(
    channel_id: &str,
    config: &Config,
    max_message_count: u32,
) -> Result<ConfigUpdate, Error> {
    let channel = config.channel_group.clone().unwrap_or_default();
    let (orderer, value, mut batch_size) = orderer_batch_size(config)?;
    if batch_size.max_message_count == max_message_count {
        return Err(Error::Config(format!(
            "MaxMessageCount is {max_message_count} already: the update would change nothing"
        )));
    }
    batch_size.max_message_count = max_message_count;
    let at_version = |version: u64, groups| ConfigGroup {
        version,
        groups,
        ..ConfigGroup::default()
    };
    let read_orderer = at_version(orderer.version, HashMap::new());
    let write_orderer = ConfigGroup {
        values: HashMap::from([(
            BATCH_SIZE.to_string(),
            ConfigValue {
                version: value.version + 1,
                value: batch_size.encode_to_vec().into(),
                mod_policy: value.mod_policy.clone(),
            },
        )]),
        ..at_version(orderer.version, HashMap::new())
    };
    let with_orderer = |group| HashMap::from([(ORDERER.to_string(), group)]);
    Ok(ConfigUpdate {
        channel_id: channel_id.into(),
        read_set: Some(at_version(channel.version, with_orderer(read_orderer))),
        write_set: Some(at_version(channel.version, with_orderer(write_orderer))),
        isolated_data: HashMap::new(),
    })
}

/// `update` in a CONFIG_UPDATE envelope for `channel_id`, with one `ConfigSignature` by
/// `admin` (over its signature header and the update's bytes), sent by `admin`.
pub(super) fn signed_envelope(
    channel_id: &str,
    update: &ConfigUpdate,
    admin: &Signer,
) -> Result<Bytes, Error> {
    let config_update: Bytes = update.encode_to_vec().into();
    let signature_header: Bytes = SignatureHeader {
        creator: admin.creator().clone(),
        nonce: Bytes::copy_from_slice(&envelope::nonce()),
    }
    .encode_to_vec()
    .into();
    let signed = [&signature_header[..], &config_update[..]].concat();
    let signature = ConfigSignature {
        signature: admin.sign(&signed)?.into(),
        signature_header,
    };
    let data = ConfigUpdateEnvelope {
        config_update,
        signatures: vec![signature],
    };
    Ok(envelope::build(&EnvelopeSpec {
        channel_id,
        header_type: HeaderType::ConfigUpdate,
        signer: Some(admin),
        data: data.encode_to_vec().into(),
    })?)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use engine::cutter::BatchSize as Batch;
    use engine::genesis::{GenesisSpec, OrgSpec};
    use loadgen::ca::DevCa;

    use super::*;

    fn genesis_config(max_message_count: u32) -> Config {
        let ca = DevCa::generate("BenchOrg").unwrap();
        let admin = ca.issue("admin", &["admin"]).unwrap();
        let block = GenesisSpec {
            channel_id: "bench".into(),
            consensus: "solo".into(),
            kafka_brokers: Vec::new(),
            batch_size: Batch {
                max_message_count,
                absolute_max_bytes: 10 * 1024 * 1024,
                preferred_max_bytes: 2 * 1024 * 1024,
            },
            batch_timeout: Duration::from_secs(2),
            orgs: vec![OrgSpec {
                msp_id: "BenchOrg".into(),
                msp_config: ca.msp_config(&[&admin]),
            }],
            sequence: 0,
        }
        .build();
        ConfigBlock::decode(&block).unwrap().config
    }

    /// Fabric's own `configtxlator compute_update` (v2.5.6, `../shared/fabric-bin`, or
    /// `$FABRIC_BIN`) between `original` and `updated`.
    fn configtxlator_update(original: &Config, updated: &Config) -> ConfigUpdate {
        let program = std::env::var_os("FABRIC_BIN")
            .map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-bin"),
                PathBuf::from,
            )
            .join("v2.5.6/configtxlator");
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, config: &Config| {
            let path = dir.path().join(name);
            std::fs::write(&path, config.encode_to_vec()).unwrap();
            path
        };
        let output = dir.path().join("update.pb");
        let status = std::process::Command::new(&program)
            .args(["compute_update", "--channel_id", "bench", "--original"])
            .arg(write("original.pb", original))
            .arg("--updated")
            .arg(write("updated.pb", updated))
            .arg("--output")
            .arg(&output)
            .status()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert!(status.success(), "configtxlator compute_update failed");
        ConfigUpdate::decode(&*std::fs::read(output).unwrap()).unwrap()
    }

    #[test]
    fn the_update_is_what_configtxlator_computes() {
        let original = genesis_config(500);
        let mut updated = original.clone();
        let orderer = updated
            .channel_group
            .as_mut()
            .unwrap()
            .groups
            .get_mut(ORDERER)
            .unwrap();
        let value = orderer.values.get_mut(BATCH_SIZE).unwrap();
        let mut batch_size = BatchSize::decode(value.value.clone()).unwrap();
        batch_size.max_message_count = 100;
        value.value = batch_size.encode_to_vec().into();
        let ours = max_message_count_update("bench", &original, 100).unwrap();
        assert_eq!(ours, configtxlator_update(&original, &updated));
        assert_eq!(max_message_count(&updated).unwrap(), 100);
    }

    #[test]
    fn an_update_that_changes_nothing_is_refused() {
        let error = max_message_count_update("bench", &genesis_config(100), 100).unwrap_err();
        assert!(error.to_string().contains("already"), "{error}");
    }
}
