//! The `/Channel/Application` group: ACLs, capabilities, and the application orgs.

use std::collections::BTreeMap;

use orderer_proto::common::{ConfigGroup, ConfigValue};
use orderer_proto::protos::AcLs;

use super::entry::{
    Capabilities, Entry, Meta, decode_capabilities, decode_value, group_meta, read_values,
    sub_groups,
};
use super::org::{OrgConfig, OrgKind};
use super::policies::{Policies, group_policies};
use crate::error::Error;

/// The values Fabric's `ApplicationProtos` defines (common/channelconfig/application.go).
const APPLICATION_VALUES: &[&str] = &["ACLs", "Capabilities"];

/// The `/Channel/Application` group.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationConfig {
    /// The group's version and modification policy.
    pub meta: Meta,
    /// Its policies (Readers, Writers, Admins; LifecycleEndorsement and Endorsement in
    /// v2.x).
    pub policies: Policies,
    /// `ACLs`: the policy (`policy_ref`) guarding each peer API resource.
    pub acls: Option<Entry<BTreeMap<String, String>>>,
    /// `Capabilities`.
    pub capabilities: Option<Entry<Capabilities>>,
    /// The application orgs, by group name.
    pub orgs: BTreeMap<String, OrgConfig>,
}

impl ApplicationConfig {
    /// Reads the Application group at `path`. Its sub-groups are orgs.
    pub fn from_group(path: &str, group: &ConfigGroup) -> Result<Self, Error> {
        let mut application = Self {
            meta: group_meta(group),
            policies: group_policies(path, group)?,
            acls: None,
            capabilities: None,
            orgs: BTreeMap::new(),
        };
        read_values(path, group, APPLICATION_VALUES, |key, at, value| {
            application.read_value(key, at, value)
        })?;
        for (name, at, org) in sub_groups(path, group) {
            let org = OrgConfig::from_group(&at, name, org, OrgKind::Application)?;
            application.orgs.insert(name.clone(), org);
        }
        Ok(application)
    }

    fn read_value(&mut self, key: &str, at: &str, value: &ConfigValue) -> Result<(), Error> {
        match key {
            "ACLs" => {
                let entry = decode_value::<AcLs>(at, value, "ACLs")?;
                self.acls = Some(entry.map(|value| {
                    value
                        .acls
                        .into_iter()
                        .map(|(resource, api)| (resource, api.policy_ref))
                        .collect()
                }));
            }
            "Capabilities" => self.capabilities = Some(decode_capabilities(at, value)?),
            _ => {}
        }
        Ok(())
    }
}
