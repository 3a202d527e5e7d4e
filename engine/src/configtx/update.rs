//! Authorizing a config update against the current config: Fabric v1.4.12's
//! `common/configtx/update.go` (`verifyReadSet`, `computeDeltaSet`, `validateModPolicy`,
//! `verifyDeltaSet`, `verifyFullProposedConfig`, `authorizeUpdate`, `policyForItem`,
//! `computeUpdateResult`).
//!
//! Go walks the read set and the delta set in its random map order, so when an update
//! breaks several rules Fabric may name any of them; here both are walked in key order
//! (see [`super::configmap`]), which names one of the answers Fabric could give.

use bytes::Bytes;
use orderer_proto::common::{ConfigUpdate, ConfigUpdateEnvelope, SignatureHeader};
use prost::Message as _;

use super::configmap::{self, Comparable, ConfigMap, ROOT};
use crate::access::AccessControl;
use crate::envelope::SignedData;

/// What an update is checked against: the channel, its current elements and the
/// evaluator of their `mod_policy`s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current<'a> {
    /// The channel's ID.
    pub(crate) channel_id: &'a str,
    /// The current config, flattened.
    pub(crate) map: &'a ConfigMap,
    /// The channel's MSPs and policies (built from the same config).
    pub(crate) access: &'a AccessControl,
}

impl Current<'_> {
    /// Fabric's `authorizeUpdate`: the full proposed config map, or the refusal.
    pub(crate) fn authorize_update(
        &self,
        envelope: &ConfigUpdateEnvelope,
    ) -> Result<ConfigMap, String> {
        let update = ConfigUpdate::decode(envelope.config_update.clone())
            .map_err(|error| error.to_string())?;
        if update.channel_id != self.channel_id {
            return Err(format!(
                "ConfigUpdate for channel '{}' but envelope for channel '{}'",
                update.channel_id, self.channel_id
            ));
        }
        let read_set = configmap::map_config(update.read_set.as_ref(), ROOT)
            .map_err(|error| format!("error mapping ReadSet: {error}"))?;
        self.verify_read_set(&read_set)
            .map_err(|error| format!("error validating ReadSet: {error}"))?;
        let write_set = configmap::map_config(update.write_set.as_ref(), ROOT)
            .map_err(|error| format!("error mapping WriteSet: {error}"))?;
        let delta_set = compute_delta_set(&read_set, write_set.clone());
        let signed = signed_data(envelope)?;
        self.verify_delta_set(&delta_set, &signed)
            .map_err(|error| format!("error validating DeltaSet: {error}"))?;
        let proposed = self.compute_update_result(delta_set);
        verify_full_proposed_config(&write_set, &proposed)
            .map_err(|error| format!("full config did not verify: {error}"))?;
        Ok(proposed)
    }

    /// Fabric's `verifyReadSet`: every read element exists at the version read.
    fn verify_read_set(&self, read_set: &ConfigMap) -> Result<(), String> {
        for (key, read) in read_set {
            let existing = self.map.get(key).ok_or_else(|| {
                format!(
                    "existing config does not contain element for {key} but was in the read set"
                )
            })?;
            if existing.version() != read.version() {
                return Err(format!(
                    "proposed update requires that key {key} be at version {}, but it is currently at version {}",
                    read.version(),
                    existing.version()
                ));
            }
        }
        Ok(())
    }

    /// Fabric's `verifyDeltaSet`: each changed element has a valid `mod_policy`, the next
    /// version (0 for a new element, which needs no signature), and its current
    /// `mod_policy` is satisfied by the update's signatures.
    fn verify_delta_set(&self, delta_set: &ConfigMap, signed: &[SignedData]) -> Result<(), String> {
        if delta_set.is_empty() {
            return Err("delta set was empty -- update would have no effect".into());
        }
        for (key, value) in delta_set {
            validate_mod_policy(value.mod_policy())
                .map_err(|error| format!("invalid mod_policy for element {key}: {error}"))?;
            let Some(existing) = self.map.get(key) else {
                if value.version() != 0 {
                    return Err(format!(
                        "attempted to set key {key} to version {}, but key does not exist",
                        value.version()
                    ));
                }
                continue;
            };
            if value.version() != existing.version().wrapping_add(1) {
                return Err(format!(
                    "attempt to set key {key} to version {}, but key is at version {}",
                    value.version(),
                    existing.version()
                ));
            }
            let policy = self.policy_for_item(existing).ok_or_else(|| {
                format!(
                    "unexpected missing policy {} for item {key}",
                    existing.mod_policy()
                )
            })?;
            self.access
                .evaluate_signed(&policy, signed)
                .map_err(|error| format!("policy for {key} not satisfied: {error}"))?;
        }
        Ok(())
    }

    /// Fabric's `policyForItem`: the absolute path of the policy that `item`'s
    /// `mod_policy` names, if the config defines it. A relative name is looked up in the
    /// item's group (a group's own, a value's or policy's container), an absolute one
    /// from `/Channel`, as Fabric's policy managers resolve them.
    fn policy_for_item(&self, item: &Comparable) -> Option<String> {
        let mod_policy = item.mod_policy();
        let path = if let Some(absolute) = mod_policy.strip_prefix('/') {
            // The root manager's GetPolicy: the name must start with its own path, which
            // it then cuts off together with the separator that should follow.
            if !absolute.starts_with(ROOT) {
                return None;
            }
            let relative = absolute.get(ROOT.len() + 1..)?;
            format!("/{ROOT}/{relative}")
        } else if mod_policy.is_empty() {
            return None;
        } else {
            let mut base = String::new();
            for name in &item.path {
                base.push('/');
                base.push_str(name);
            }
            if item.is_group() {
                base.push('/');
                base.push_str(&item.key);
            }
            format!("{base}/{mod_policy}")
        };
        self.map
            .contains_key(&configmap::policy_key(&path))
            .then_some(path)
    }

    /// Fabric's `computeUpdateResult`: the current elements, overwritten by the delta.
    fn compute_update_result(&self, delta_set: ConfigMap) -> ConfigMap {
        let mut proposed = self.map.clone();
        proposed.extend(delta_set);
        proposed
    }
}

/// Fabric's `computeDeltaSet`: the written elements that were not read, or were read at
/// another version.
fn compute_delta_set(read_set: &ConfigMap, write_set: ConfigMap) -> ConfigMap {
    write_set
        .into_iter()
        .filter(|(key, written)| {
            read_set
                .get(key)
                .is_none_or(|read| read.version() != written.version())
        })
        .collect()
}

/// Fabric's `validateModPolicy`: set, and each `/`-separated element (after an optional
/// leading `/`) a valid config ID.
pub(crate) fn validate_mod_policy(mod_policy: &str) -> Result<(), String> {
    if mod_policy.is_empty() {
        return Err("mod_policy not set".into());
    }
    let trimmed = mod_policy.strip_prefix('/').unwrap_or(mod_policy);
    for (index, element) in trimmed.split('/').enumerate() {
        configmap::validate_config_id(element)
            .map_err(|error| format!("path element at {index} is invalid: {error}"))?;
    }
    Ok(())
}

/// Fabric's `verifyFullProposedConfig`: every written element is in the result.
fn verify_full_proposed_config(write_set: &ConfigMap, proposed: &ConfigMap) -> Result<(), String> {
    match write_set.keys().find(|key| !proposed.contains_key(*key)) {
        Some(key) => Err(format!(
            "writeset contained key {key} which did not appear in proposed config"
        )),
        None => Ok(()),
    }
}

/// Fabric's `ConfigUpdateEnvelope.AsSignedData`: one signed item per `ConfigSignature`,
/// its creator from the signature header, over `signature_header || config_update`.
fn signed_data(envelope: &ConfigUpdateEnvelope) -> Result<Vec<SignedData>, String> {
    envelope
        .signatures
        .iter()
        .map(|signature| {
            let header = SignatureHeader::decode(signature.signature_header.clone())
                .map_err(|error| error.to_string())?;
            let mut payload =
                Vec::with_capacity(signature.signature_header.len() + envelope.config_update.len());
            payload.extend_from_slice(&signature.signature_header);
            payload.extend_from_slice(&envelope.config_update);
            Ok(SignedData {
                creator: header.creator,
                payload: Bytes::from(payload),
                signature: signature.signature.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mod_policy_syntax_is_fabrics() {
        assert_eq!(validate_mod_policy("Admins"), Ok(()));
        assert_eq!(validate_mod_policy("/Channel/Orderer/Admins"), Ok(()));
        assert_eq!(validate_mod_policy("SampleOrg/Admins"), Ok(()));
        assert_eq!(validate_mod_policy(""), Err("mod_policy not set".into()));
        assert_eq!(
            validate_mod_policy("/Channel//Admins"),
            Err("path element at 1 is invalid: config ID illegal, cannot be empty".into())
        );
        assert_eq!(
            validate_mod_policy("Ad mins"),
            Err(
                "path element at 0 is invalid: config ID 'Ad mins' contains illegal characters"
                    .into()
            )
        );
    }
}
