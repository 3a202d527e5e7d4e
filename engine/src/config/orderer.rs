//! The `/Channel/Orderer` group: consensus, batching, Kafka brokers, channel
//! restrictions, capabilities, and the orderer orgs.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use orderer_proto::common::{ConfigGroup, ConfigValue};
use orderer_proto::orderer::consensus_type::State;
use orderer_proto::orderer::{
    BatchSize as BatchSizeValue, BatchTimeout, ChannelRestrictions, ConsensusType, KafkaBrokers,
};

use super::GoDuration;
use super::entry::{
    Capabilities, Entry, Meta, decode_capabilities, decode_value, group_meta, read_values,
    sub_groups,
};
use super::org::{OrgConfig, OrgKind};
use super::policies::{Policies, group_policies};
use crate::cutter::BatchSize;
use crate::error::Error;

/// The values Fabric's `OrdererProtos` defines (common/channelconfig/orderer.go).
const ORDERER_VALUES: &[&str] = &[
    "BatchSize",
    "BatchTimeout",
    "Capabilities",
    "ChannelRestrictions",
    "ConsensusType",
    "KafkaBrokers",
];

/// `ConsensusType.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsensusState {
    /// `STATE_NORMAL`: the consenter orders transactions.
    Normal,
    /// `STATE_MAINTENANCE`: only config updates (consensus-type migration).
    Maintenance,
    /// A number Fabric does not define; Fabric's decoder keeps it too.
    Other(i32),
}

/// The `ConsensusType` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusSpec {
    /// `type`: `solo`, `kafka`, `etcdraft`, ...
    pub kind: String,
    /// `metadata`: the consenter's own options (for etcdraft, its `ConfigMetadata`).
    pub metadata: Bytes,
    /// `state`.
    pub state: ConsensusState,
}

/// The `/Channel/Orderer` group.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdererConfig {
    /// The group's version and modification policy.
    pub meta: Meta,
    /// Its policies (Readers, Writers, Admins, BlockValidation).
    pub policies: Policies,
    /// `ConsensusType`.
    pub consensus_type: Option<Entry<ConsensusSpec>>,
    /// `BatchSize`.
    pub batch_size: Option<Entry<BatchSize>>,
    /// `BatchTimeout`, parsed as Go's `time.ParseDuration` does.
    pub batch_timeout: Option<Entry<Duration>>,
    /// `KafkaBrokers`.
    pub kafka_brokers: Option<Entry<Vec<String>>>,
    /// `ChannelRestrictions.max_count`: how many channels may exist (0: no limit).
    pub channel_restrictions: Option<Entry<u64>>,
    /// `Capabilities`.
    pub capabilities: Option<Entry<Capabilities>>,
    /// The orderer orgs, by group name.
    pub orgs: BTreeMap<String, OrgConfig>,
}

impl OrdererConfig {
    /// Reads the Orderer group at `path`. Its sub-groups are orgs.
    pub fn from_group(path: &str, group: &ConfigGroup) -> Result<Self, Error> {
        let mut orderer = Self {
            meta: group_meta(group),
            policies: group_policies(path, group)?,
            consensus_type: None,
            batch_size: None,
            batch_timeout: None,
            kafka_brokers: None,
            channel_restrictions: None,
            capabilities: None,
            orgs: BTreeMap::new(),
        };
        read_values(path, group, ORDERER_VALUES, |key, at, value| {
            orderer.read_value(key, at, value)
        })?;
        for (name, at, org) in sub_groups(path, group) {
            let org = OrgConfig::from_group(&at, name, org, OrgKind::Orderer)?;
            orderer.orgs.insert(name.clone(), org);
        }
        Ok(orderer)
    }

    fn read_value(&mut self, key: &str, at: &str, value: &ConfigValue) -> Result<(), Error> {
        match key {
            "ConsensusType" => {
                let entry = decode_value::<ConsensusType>(at, value, "ConsensusType")?;
                self.consensus_type = Some(entry.map(consensus_spec));
            }
            "BatchSize" => {
                let entry = decode_value::<BatchSizeValue>(at, value, "BatchSize")?;
                self.batch_size = Some(entry.map(|value| BatchSize {
                    max_message_count: value.max_message_count,
                    absolute_max_bytes: value.absolute_max_bytes,
                    preferred_max_bytes: value.preferred_max_bytes,
                }));
            }
            "BatchTimeout" => {
                let entry = decode_value::<BatchTimeout>(at, value, "BatchTimeout")?;
                self.batch_timeout = Some(entry.try_map(|value| {
                    value
                        .timeout
                        .parse::<GoDuration>()
                        .map(|d| d.0)
                        .map_err(|_| {
                            Error::Config(format!("{at}: invalid duration {:?}", value.timeout))
                        })
                })?);
            }
            "KafkaBrokers" => {
                let entry = decode_value::<KafkaBrokers>(at, value, "KafkaBrokers")?;
                self.kafka_brokers = Some(entry.map(|value| value.brokers));
            }
            "ChannelRestrictions" => {
                let entry = decode_value::<ChannelRestrictions>(at, value, "ChannelRestrictions")?;
                self.channel_restrictions = Some(entry.map(|value| value.max_count));
            }
            "Capabilities" => self.capabilities = Some(decode_capabilities(at, value)?),
            _ => {}
        }
        Ok(())
    }
}

fn consensus_spec(value: ConsensusType) -> ConsensusSpec {
    let state = match State::try_from(value.state) {
        Ok(State::Normal) => ConsensusState::Normal,
        Ok(State::Maintenance) => ConsensusState::Maintenance,
        Err(_) => ConsensusState::Other(value.state),
    };
    ConsensusSpec {
        kind: value.r#type,
        metadata: value.metadata,
        state,
    }
}
