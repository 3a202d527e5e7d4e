//! Genesis blocks made in code, for runs that bring no `configtxgen` block (the
//! benchmark's embedded default, tests with their own CA). The layout follows
//! `configtxgen`'s single-org sample profiles: each org sits in both the Orderer and the
//! Application group; Readers and Writers are `ANY`, Admins `MAJORITY`; BlockValidation is
//! `ANY Writers` of the Orderer group. Bytes we make ourselves may be encoded freely.

mod policies;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use orderer_proto::common::implicit_meta_policy::Rule;
use orderer_proto::common::{
    Block, BlockData, Capabilities, Capability, ChannelHeader, Config, ConfigEnvelope, ConfigGroup,
    ConfigValue, Envelope, Header, HeaderType, Payload,
};
use orderer_proto::orderer::{
    BatchSize as BatchSizeValue, BatchTimeout, ConsensusType, KafkaBrokers,
};
use prost::Message;

use self::policies::{ADMINS, implicit_meta, implicit_meta_set, org_set};

use crate::cutter::BatchSize;
use crate::hash;

/// What a made genesis block configures.
#[derive(Debug, Clone)]
pub struct GenesisSpec {
    /// The channel.
    pub channel_id: String,
    /// `ConsensusType.type`, e.g. `solo`.
    pub consensus: String,
    /// `KafkaBrokers`, written when not empty.
    pub kafka_brokers: Vec<String>,
    /// `BatchSize`.
    pub batch_size: BatchSize,
    /// `BatchTimeout`.
    pub batch_timeout: Duration,
    /// The orgs; with none, every Readers and Writers policy is an implicit meta policy
    /// over nothing, which Fabric's rule counts as met by any envelope, signed or not.
    pub orgs: Vec<OrgSpec>,
    /// `Config.sequence`: 0 for a channel's first config; tests set another to stand for
    /// a channel whose config has moved on since some message was validated.
    pub sequence: u64,
}

/// The Orderer group's capabilities, as configtxgen's v1.4 sample profiles write them:
/// `V1_4_2` switches on, among others, Kafka resubmission (re-validating and re-ordering
/// messages validated under an older config instead of re-validating every message).
pub const ORDERER_CAPABILITIES: &[&str] = &["V1_4_2"];

/// An org of a made channel.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    /// Its MSP ID, also its group's name.
    pub msp_id: String,
    /// Its encoded `msp.MSPConfig`.
    pub msp_config: Bytes,
}

impl OrgSpec {
    /// The org's group: its MSP value and its member and admin policies (what an
    /// operator's config update adds to a channel's Application group).
    pub fn group(&self) -> ConfigGroup {
        ConfigGroup {
            values: HashMap::from([(
                "MSP".to_string(),
                ConfigValue {
                    version: 0,
                    value: self.msp_config.clone(),
                    mod_policy: ADMINS.into(),
                },
            )]),
            policies: org_set(&self.msp_id),
            mod_policy: ADMINS.into(),
            ..ConfigGroup::default()
        }
    }
}

impl GenesisSpec {
    /// The Orderer group: ConsensusType, BatchSize, BatchTimeout.
    fn orderer_group(&self) -> ConfigGroup {
        let value = |message: Vec<u8>| ConfigValue {
            version: 0,
            value: message.into(),
            mod_policy: ADMINS.into(),
        };
        let batch_size = BatchSizeValue {
            max_message_count: self.batch_size.max_message_count,
            absolute_max_bytes: self.batch_size.absolute_max_bytes,
            preferred_max_bytes: self.batch_size.preferred_max_bytes,
        };
        let timeout = BatchTimeout {
            timeout: format!("{}ms", self.batch_timeout.as_millis()),
        };
        let consensus = ConsensusType {
            r#type: self.consensus.clone(),
            ..ConsensusType::default()
        };
        let mut policies = implicit_meta_set();
        policies.insert(
            "BlockValidation".into(),
            implicit_meta("Writers", Rule::Any),
        );
        let mut values = HashMap::from([
            ("BatchSize".to_string(), value(batch_size.encode_to_vec())),
            ("BatchTimeout".to_string(), value(timeout.encode_to_vec())),
            (
                "ConsensusType".to_string(),
                value(consensus.encode_to_vec()),
            ),
        ]);
        let capabilities = Capabilities {
            capabilities: ORDERER_CAPABILITIES
                .iter()
                .map(|name| (name.to_string(), Capability::default()))
                .collect(),
        };
        values.insert("Capabilities".into(), value(capabilities.encode_to_vec()));
        if !self.kafka_brokers.is_empty() {
            let brokers = KafkaBrokers {
                brokers: self.kafka_brokers.clone(),
            };
            values.insert("KafkaBrokers".into(), value(brokers.encode_to_vec()));
        }
        ConfigGroup {
            groups: self.org_groups(),
            policies,
            values,
            mod_policy: ADMINS.into(),
            ..ConfigGroup::default()
        }
    }

    fn org_groups(&self) -> HashMap<String, ConfigGroup> {
        self.orgs
            .iter()
            .map(|org| (org.msp_id.clone(), org.group()))
            .collect()
    }

    /// The genesis block: number 0, one CONFIG envelope, five empty metadata slots.
    pub fn build(&self) -> Bytes {
        let application = ConfigGroup {
            groups: self.org_groups(),
            policies: implicit_meta_set(),
            mod_policy: ADMINS.into(),
            ..ConfigGroup::default()
        };
        let config = ConfigEnvelope {
            config: Some(Config {
                sequence: self.sequence,
                channel_group: Some(ConfigGroup {
                    groups: HashMap::from([
                        ("Orderer".to_string(), self.orderer_group()),
                        ("Application".to_string(), application),
                    ]),
                    policies: implicit_meta_set(),
                    mod_policy: ADMINS.into(),
                    ..ConfigGroup::default()
                }),
            }),
            last_update: None,
        };
        let channel_header = ChannelHeader {
            r#type: HeaderType::Config as i32,
            channel_id: self.channel_id.clone(),
            ..ChannelHeader::default()
        };
        let payload = Payload {
            header: Some(Header {
                channel_header: channel_header.encode_to_vec().into(),
                signature_header: Bytes::new(),
            }),
            data: config.encode_to_vec().into(),
        };
        let envelope: Bytes = Envelope {
            payload: payload.encode_to_vec().into(),
            signature: Bytes::new(),
        }
        .encode_to_vec()
        .into();
        crate::block::genesis(envelope)
    }
}

/// A genesis block (made by `configtxgen`, say) with its Orderer group's ConsensusType
/// set to `kind` and, when `brokers` is not empty, its KafkaBrokers to `brokers`: the
/// Kafka twin of a solo profile (Fabric's `SampleSingleMSPKafka` differs from
/// `SampleSingleMSPSolo` only so). The data hash is computed again; nothing else changes.
pub fn with_consensus(block: &[u8], kind: &str, brokers: &[String]) -> Result<Bytes, crate::Error> {
    let decode = |what, source| crate::Error::Decode { what, source };
    let mut block = Block::decode(block).map_err(|e| decode("genesis block", e))?;
    let data = block.data.get_or_insert_with(BlockData::default);
    let first = data
        .data
        .first()
        .ok_or_else(|| crate::Error::Config("genesis block holds no envelope".into()))?;
    let mut envelope = Envelope::decode(first.clone()).map_err(|e| decode("envelope", e))?;
    let mut payload =
        Payload::decode(envelope.payload.clone()).map_err(|e| decode("payload", e))?;
    let mut config =
        ConfigEnvelope::decode(payload.data.clone()).map_err(|e| decode("ConfigEnvelope", e))?;
    let orderer = config
        .config
        .as_mut()
        .and_then(|config| config.channel_group.as_mut())
        .and_then(|group| group.groups.get_mut("Orderer"))
        .ok_or_else(|| crate::Error::Config("genesis block has no Orderer group".into()))?;
    let consensus = orderer
        .values
        .entry("ConsensusType".into())
        .or_insert_with(|| ConfigValue {
            mod_policy: ADMINS.into(),
            ..ConfigValue::default()
        });
    let mut value =
        ConsensusType::decode(consensus.value.clone()).map_err(|e| decode("ConsensusType", e))?;
    value.r#type = kind.into();
    consensus.value = value.encode_to_vec().into();
    if !brokers.is_empty() {
        orderer.values.insert(
            "KafkaBrokers".into(),
            ConfigValue {
                version: 0,
                value: KafkaBrokers {
                    brokers: brokers.to_vec(),
                }
                .encode_to_vec()
                .into(),
                mod_policy: ADMINS.into(),
            },
        );
    }
    payload.data = config.encode_to_vec().into();
    envelope.payload = payload.encode_to_vec().into();
    data.data[0] = envelope.encode_to_vec().into();
    let data_hash = hash::data_hash(&data.data);
    if let Some(header) = block.header.as_mut() {
        header.data_hash = Bytes::copy_from_slice(&data_hash);
    }
    Ok(block.encode_to_vec().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelConfig, Consensus};

    #[test]
    fn made_genesis_reads_back_as_its_spec() {
        let spec = GenesisSpec {
            channel_id: "bench".into(),
            consensus: "solo".into(),
            kafka_brokers: Vec::new(),
            batch_size: BatchSize {
                max_message_count: 10,
                absolute_max_bytes: 1000,
                preferred_max_bytes: 500,
            },
            batch_timeout: Duration::from_millis(250),
            orgs: Vec::new(),
            sequence: 0,
        };
        let config = ChannelConfig::from_block(&spec.build()).unwrap();
        assert_eq!(config.channel_id, "bench");
        assert_eq!(config.batch_size, spec.batch_size);
        assert_eq!(config.batch_timeout, spec.batch_timeout);
        assert_eq!(config.consensus, Consensus::Solo);
    }
}
