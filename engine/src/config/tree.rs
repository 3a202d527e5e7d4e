//! The whole channel configuration, typed: every group, value and policy of the
//! `/Channel` group, as Fabric's `common/channelconfig` package reads it.

use std::collections::BTreeMap;

use orderer_proto::common::{
    BlockDataHashingStructure, Config, ConfigGroup, ConfigValue, Consortium, HashingAlgorithm,
    OrdererAddresses,
};

use super::application::ApplicationConfig;
use super::block::ConfigBlock;
use super::consortiums::ConsortiumsConfig;
use super::entry::{
    Capabilities, Entry, Meta, decode_capabilities, decode_value, group_meta, read_values,
    sub_groups,
};
use super::orderer::OrdererConfig;
use super::org::OrgConfig;
use super::policies::{Policies, group_policies};
use crate::error::Error;

/// The values Fabric's `ChannelProtos` defines (common/channelconfig/channel.go).
const CHANNEL_VALUES: &[&str] = &[
    "BlockDataHashingStructure",
    "Capabilities",
    "Consortium",
    "HashingAlgorithm",
    "OrdererAddresses",
];

/// A channel's configuration: the `/Channel` group with every value and policy decoded.
///
/// This is the decoding layer: it refuses what Fabric refuses when it reads a config
/// (unknown groups and value keys, undecodable values, unknown policy and MSP types), but
/// does not apply the checks Fabric makes on top (batch size limits, hashing algorithm
/// names, capability requirements, MSP certificate validation).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTree {
    /// `Config.sequence`.
    pub sequence: u64,
    /// The Channel group's version and modification policy.
    pub meta: Meta,
    /// Its policies (Readers, Writers, Admins).
    pub policies: Policies,
    /// `HashingAlgorithm.name` (`SHA256`).
    pub hashing_algorithm: Option<Entry<String>>,
    /// `BlockDataHashingStructure.width` (`u32::MAX`).
    pub block_data_hashing_structure: Option<Entry<u32>>,
    /// `OrdererAddresses`.
    pub orderer_addresses: Option<Entry<Vec<String>>>,
    /// `Consortium.name`: on an application channel, the consortium that created it.
    pub consortium: Option<Entry<String>>,
    /// `Capabilities`.
    pub capabilities: Option<Entry<Capabilities>>,
    /// `/Channel/Orderer`.
    pub orderer: Option<OrdererConfig>,
    /// `/Channel/Application` (application channels; system channels of the sample
    /// profiles carry one too).
    pub application: Option<ApplicationConfig>,
    /// `/Channel/Consortiums` (system channels).
    pub consortiums: Option<ConsortiumsConfig>,
}

impl ChannelTree {
    /// The path of the root group.
    pub const ROOT: &'static str = "/Channel";

    /// Reads the configuration a config block carries.
    pub fn from_block(block_bytes: &[u8]) -> Result<Self, Error> {
        Self::from_config(&ConfigBlock::decode(block_bytes)?.config)
    }

    /// Reads a `Config` (from a `ConfigEnvelope`).
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let root = config
            .channel_group
            .as_ref()
            .ok_or_else(|| Error::Config(format!("{}: config has no channel group", Self::ROOT)))?;
        Self::from_group(config.sequence, root)
    }

    /// Reads the `/Channel` group. Its sub-groups may only be Orderer, Application and
    /// Consortiums (Fabric: "Disallowed channel group", common/channelconfig/channel.go).
    pub fn from_group(sequence: u64, root: &ConfigGroup) -> Result<Self, Error> {
        let path = Self::ROOT;
        let mut tree = Self {
            sequence,
            meta: group_meta(root),
            policies: group_policies(path, root)?,
            hashing_algorithm: None,
            block_data_hashing_structure: None,
            orderer_addresses: None,
            consortium: None,
            capabilities: None,
            orderer: None,
            application: None,
            consortiums: None,
        };
        read_values(path, root, CHANNEL_VALUES, |key, at, value| {
            tree.read_value(key, at, value)
        })?;
        for (name, at, group) in sub_groups(path, root) {
            match name.as_str() {
                "Orderer" => tree.orderer = Some(OrdererConfig::from_group(&at, group)?),
                "Application" => {
                    tree.application = Some(ApplicationConfig::from_group(&at, group)?);
                }
                "Consortiums" => {
                    tree.consortiums = Some(ConsortiumsConfig::from_group(&at, group)?);
                }
                _ => {
                    return Err(Error::Config(format!(
                        "{at}: disallowed channel group (allowed: Application, Consortiums, \
                         Orderer)"
                    )));
                }
            }
        }
        Ok(tree)
    }

    fn read_value(&mut self, key: &str, at: &str, value: &ConfigValue) -> Result<(), Error> {
        match key {
            "HashingAlgorithm" => {
                let entry = decode_value::<HashingAlgorithm>(at, value, "HashingAlgorithm")?;
                self.hashing_algorithm = Some(entry.map(|value| value.name));
            }
            "BlockDataHashingStructure" => {
                let entry = decode_value::<BlockDataHashingStructure>(
                    at,
                    value,
                    "BlockDataHashingStructure",
                )?;
                self.block_data_hashing_structure = Some(entry.map(|value| value.width));
            }
            "OrdererAddresses" => {
                let entry = decode_value::<OrdererAddresses>(at, value, "OrdererAddresses")?;
                self.orderer_addresses = Some(entry.map(|value| value.addresses));
            }
            "Consortium" => {
                let entry = decode_value::<Consortium>(at, value, "Consortium")?;
                self.consortium = Some(entry.map(|value| value.name));
            }
            "Capabilities" => self.capabilities = Some(decode_capabilities(at, value)?),
            _ => {}
        }
        Ok(())
    }

    /// Every org of the channel with its path: the Orderer's, the Application's, then each
    /// consortium's.
    pub fn orgs(&self) -> Vec<(String, &OrgConfig)> {
        let root = Self::ROOT;
        let mut groups: Vec<(String, &BTreeMap<String, OrgConfig>)> = Vec::new();
        if let Some(orderer) = &self.orderer {
            groups.push((format!("{root}/Orderer"), &orderer.orgs));
        }
        if let Some(application) = &self.application {
            groups.push((format!("{root}/Application"), &application.orgs));
        }
        for (name, consortium) in self.consortiums.iter().flat_map(|c| &c.consortiums) {
            groups.push((format!("{root}/Consortiums/{name}"), &consortium.orgs));
        }
        groups
            .into_iter()
            .flat_map(|(prefix, orgs)| {
                orgs.iter()
                    .map(move |(name, org)| (format!("{prefix}/{name}"), org))
            })
            .collect()
    }
}
