//! The `/Channel/Consortiums` group of a system channel: each consortium's channel
//! creation policy and member orgs.

use std::collections::BTreeMap;

use bytes::Bytes;
use orderer_proto::common::{ConfigGroup, Policy};

use super::entry::{Entry, Meta, decode_value, group_meta, read_values, sub_groups};
use super::org::{OrgConfig, OrgKind};
use super::policies::{Policies, PolicyDefinition, group_policies};
use crate::error::Error;

/// The values Fabric's `ConsortiumProtos` defines (common/channelconfig/consortium.go).
const CONSORTIUM_VALUES: &[&str] = &["ChannelCreationPolicy"];

/// The `/Channel/Consortiums` group.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsortiumsConfig {
    /// The group's version and modification policy.
    pub meta: Meta,
    /// Its policies (configtxgen writes an `Admins` that no one satisfies).
    pub policies: Policies,
    /// Values of the Consortiums group itself, raw. Fabric defines none here and, unlike
    /// every other group, never reads them (common/channelconfig/consortiums.go), so it
    /// accepts any; they are kept rather than refused.
    pub unread_values: BTreeMap<String, Entry<Bytes>>,
    /// The consortiums, by name.
    pub consortiums: BTreeMap<String, ConsortiumConfig>,
}

/// A consortium: the orgs that may create application channels together.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsortiumConfig {
    /// The group's version and modification policy.
    pub meta: Meta,
    /// Its policies (configtxgen writes none).
    pub policies: Policies,
    /// `ChannelCreationPolicy`: a `common.Policy`, decoded.
    pub channel_creation_policy: Option<Entry<PolicyDefinition>>,
    /// The member orgs, by group name.
    pub orgs: BTreeMap<String, OrgConfig>,
}

impl ConsortiumsConfig {
    /// Reads the Consortiums group at `path`. Its sub-groups are consortiums.
    pub fn from_group(path: &str, group: &ConfigGroup) -> Result<Self, Error> {
        let unread_values = group
            .values
            .iter()
            .map(|(key, value)| {
                let entry = Entry {
                    meta: Meta {
                        version: value.version,
                        mod_policy: value.mod_policy.clone(),
                    },
                    value: value.value.clone(),
                };
                (key.clone(), entry)
            })
            .collect();
        let mut consortiums = BTreeMap::new();
        for (name, at, consortium) in sub_groups(path, group) {
            consortiums.insert(name.clone(), ConsortiumConfig::from_group(&at, consortium)?);
        }
        Ok(Self {
            meta: group_meta(group),
            policies: group_policies(path, group)?,
            unread_values,
            consortiums,
        })
    }
}

impl ConsortiumConfig {
    /// Reads a consortium group at `path`. Its sub-groups are orgs.
    pub fn from_group(path: &str, group: &ConfigGroup) -> Result<Self, Error> {
        let mut channel_creation_policy = None;
        read_values(path, group, CONSORTIUM_VALUES, |_, at, value| {
            let entry = decode_value::<Policy>(at, value, "Policy")?;
            channel_creation_policy =
                Some(entry.try_map(|policy| PolicyDefinition::decode(at, &policy))?);
            Ok(())
        })?;
        let mut orgs = BTreeMap::new();
        for (name, at, org) in sub_groups(path, group) {
            let org = OrgConfig::from_group(&at, name, org, OrgKind::Consortium)?;
            orgs.insert(name.clone(), org);
        }
        Ok(Self {
            meta: group_meta(group),
            policies: group_policies(path, group)?,
            channel_creation_policy,
            orgs,
        })
    }
}
