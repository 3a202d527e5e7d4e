//! A group's policies, decoded by their type.

use std::collections::BTreeMap;

use bytes::Bytes;
use orderer_proto::common::implicit_meta_policy::Rule;
use orderer_proto::common::policy::PolicyType;
use orderer_proto::common::{ConfigGroup, ImplicitMetaPolicy, Policy, SignaturePolicyEnvelope};
use prost::Message;

use super::entry::{Entry, Meta};
use crate::error::Error;

/// A group's policies by name.
pub type Policies = BTreeMap<String, Entry<PolicyDefinition>>;

/// A `common.Policy`, its `value` decoded according to its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyDefinition {
    /// `SIGNATURE` (1): a signature policy over MSP principals.
    Signature(SignaturePolicyEnvelope),
    /// `IMPLICIT_META` (3): a rule over the same-named policy of every sub-group.
    ImplicitMeta {
        /// `ANY`, `ALL` or `MAJORITY`.
        rule: Rule,
        /// The sub-groups' policy the rule counts.
        sub_policy: String,
    },
    /// `MSP` (2): kept as its raw bytes. Fabric defines no format for it, and its policy
    /// manager registers no provider for it (common/channelconfig/bundle.go), so a Fabric
    /// node refuses a config that uses it when it builds the channel's policies.
    Msp(Bytes),
}

impl PolicyDefinition {
    /// The policy's `common.Policy.PolicyType`.
    pub fn policy_type(&self) -> PolicyType {
        match self {
            Self::Signature(_) => PolicyType::Signature,
            Self::ImplicitMeta { .. } => PolicyType::ImplicitMeta,
            Self::Msp(_) => PolicyType::Msp,
        }
    }

    /// Decodes `policy`; errors name `path`. Type `UNKNOWN` (0) and numbers Fabric does
    /// not define are refused, as Fabric's policy manager refuses types it has no provider
    /// for ("unknown policy type", common/policies/policy.go). An implicit meta rule
    /// outside ANY/ALL/MAJORITY is refused too: Fabric would give it a threshold of 0
    /// (common/policies/implicitmeta.go), which no one means.
    pub fn decode(path: &str, policy: &Policy) -> Result<Self, Error> {
        let cannot = |type_name: &str, e: prost::DecodeError| {
            Error::Config(format!("{path}: cannot decode {type_name}: {e}"))
        };
        match PolicyType::try_from(policy.r#type) {
            Ok(PolicyType::Signature) => SignaturePolicyEnvelope::decode(&policy.value[..])
                .map(Self::Signature)
                .map_err(|e| cannot("SignaturePolicyEnvelope", e)),
            Ok(PolicyType::ImplicitMeta) => {
                let meta = ImplicitMetaPolicy::decode(&policy.value[..])
                    .map_err(|e| cannot("ImplicitMetaPolicy", e))?;
                let rule = Rule::try_from(meta.rule).map_err(|_| {
                    Error::Config(format!(
                        "{path}: implicit meta policy has unknown rule {}",
                        meta.rule
                    ))
                })?;
                Ok(Self::ImplicitMeta {
                    rule,
                    sub_policy: meta.sub_policy,
                })
            }
            Ok(PolicyType::Msp) => Ok(Self::Msp(policy.value.clone())),
            Ok(PolicyType::Unknown) | Err(_) => Err(Error::Config(format!(
                "{path}: unknown policy type {}",
                policy.r#type
            ))),
        }
    }
}

/// The policies of the group at `path`, each decoded; a `ConfigPolicy` without its
/// `policy` is refused as Fabric refuses it ("policy ... was nil", common/policies/policy.go).
pub(crate) fn group_policies(path: &str, group: &ConfigGroup) -> Result<Policies, Error> {
    let mut names: Vec<&String> = group.policies.keys().collect();
    names.sort();
    let mut policies = Policies::new();
    for name in names {
        let config_policy = &group.policies[name];
        let at = format!("{path}/{name}");
        let policy = config_policy
            .policy
            .as_ref()
            .ok_or_else(|| Error::Config(format!("{at}: policy is nil")))?;
        let entry = Entry {
            meta: Meta {
                version: config_policy.version,
                mod_policy: config_policy.mod_policy.clone(),
            },
            value: PolicyDefinition::decode(&at, policy)?,
        };
        policies.insert(name.clone(), entry);
    }
    Ok(policies)
}
