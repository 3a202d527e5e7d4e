//! The pieces every typed config element shares: its `version` and `mod_policy`, values
//! decoded under their path, and Fabric's refusal of keys a group does not define.

use std::collections::BTreeSet;

use orderer_proto::common::{Capabilities as CapabilitiesValue, ConfigGroup, ConfigValue};
use prost::Message;

use crate::error::Error;

/// The capability names a `Capabilities` value switches on (`V1_4_2`, `V2_0`, ...).
pub type Capabilities = BTreeSet<String>;

/// What every config group, value and policy carries besides its content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// Incremented by each config update that changes the element.
    pub version: u64,
    /// The policy (relative to the element's group, or absolute) that may change it.
    pub mod_policy: String,
}

/// A config value or policy: its content, typed, and its [`Meta`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<T> {
    /// Version and modification policy.
    pub meta: Meta,
    /// The decoded content.
    pub value: T,
}

impl<T> Entry<T> {
    /// The same entry with its content converted.
    pub fn map<U>(self, convert: impl FnOnce(T) -> U) -> Entry<U> {
        Entry {
            meta: self.meta,
            value: convert(self.value),
        }
    }

    /// The same entry with its content converted by a conversion that may fail.
    pub fn try_map<U>(
        self,
        convert: impl FnOnce(T) -> Result<U, Error>,
    ) -> Result<Entry<U>, Error> {
        Ok(Entry {
            meta: self.meta,
            value: convert(self.value)?,
        })
    }
}

/// The [`Meta`] of a group.
pub(crate) fn group_meta(group: &ConfigGroup) -> Meta {
    Meta {
        version: group.version,
        mod_policy: group.mod_policy.clone(),
    }
}

/// `value` decoded as the message `type_name`; errors name the value's path and the type.
pub(crate) fn decode_value<M: Message + Default>(
    path: &str,
    value: &ConfigValue,
    type_name: &str,
) -> Result<Entry<M>, Error> {
    let message = M::decode(&value.value[..])
        .map_err(|e| Error::Config(format!("{path}: cannot decode {type_name}: {e}")))?;
    Ok(Entry {
        meta: Meta {
            version: value.version,
            mod_policy: value.mod_policy.clone(),
        },
        value: message,
    })
}

/// A `Capabilities` value, as the set of capability names.
pub(crate) fn decode_capabilities(
    path: &str,
    value: &ConfigValue,
) -> Result<Entry<Capabilities>, Error> {
    Ok(
        decode_value::<CapabilitiesValue>(path, value, "Capabilities")?
            .map(|value| value.capabilities.into_keys().collect()),
    )
}

/// Calls `read` with each value of `group` (in key order) and its path, after checking
/// that its key is one of `allowed`.
///
/// Fabric decodes a group's values with `DeserializeProtoValuesFromGroup`
/// (common/channelconfig/standardvalues.go), which fails with "Unexpected key" on any key
/// its group does not define; so does this.
pub(crate) fn read_values(
    path: &str,
    group: &ConfigGroup,
    allowed: &[&str],
    mut read: impl FnMut(&str, &str, &ConfigValue) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut keys: Vec<&String> = group.values.keys().collect();
    keys.sort();
    for key in keys {
        let at = format!("{path}/{key}");
        if !allowed.contains(&key.as_str()) {
            return Err(Error::Config(format!(
                "{at}: unexpected value key {key:?} (allowed here: {})",
                allowed.join(", ")
            )));
        }
        read(key, &at, &group.values[key])?;
    }
    Ok(())
}

/// Refuses a group that has sub-groups, as Fabric does for organizations
/// (common/channelconfig/organization.go, applicationorg.go, orderer.go).
pub(crate) fn no_sub_groups(path: &str, group: &ConfigGroup, what: &str) -> Result<(), Error> {
    let mut names: Vec<&String> = group.groups.keys().collect();
    names.sort();
    match names.first() {
        None => Ok(()),
        Some(name) => Err(Error::Config(format!(
            "{path}/{name}: {what} does not allow sub-groups"
        ))),
    }
}

/// The sub-groups of `group` in name order, each with its path.
pub(crate) fn sub_groups<'g>(
    path: &str,
    group: &'g ConfigGroup,
) -> Vec<(&'g String, String, &'g ConfigGroup)> {
    let mut children: Vec<(&String, String, &ConfigGroup)> = group
        .groups
        .iter()
        .map(|(name, child)| (name, format!("{path}/{name}"), child))
        .collect();
    children.sort_by(|a, b| a.0.cmp(b.0));
    children
}
