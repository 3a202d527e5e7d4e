//! Fabric's policies over a channel's config tree: `SignaturePolicyEnvelope` (n-out-of
//! over signed-by principals) and `ImplicitMetaPolicy` (ANY, ALL or MAJORITY of the
//! same-named policy of each sub-group), addressed by path (`/Channel/Writers`).
//!
//! Evaluation takes identities whose signatures the caller has already verified, each
//! once (Fabric deduplicates signers the same way).

use std::collections::HashMap;
use std::sync::Arc;

use orderer_proto::common::implicit_meta_policy::Rule;
use orderer_proto::common::policy::PolicyType;
use orderer_proto::common::signature_policy::Type as SignatureRule;
use orderer_proto::common::{
    ConfigGroup, ImplicitMetaPolicy, MspPrincipal, SignaturePolicy, SignaturePolicyEnvelope,
};
use prost::Message;

use crate::msp::Identity;

/// Deepest nesting of n-out-of rules accepted: bounds evaluation on hostile config.
const RULE_DEPTH_MAX: usize = 32;

/// A compiled policy.
#[derive(Debug)]
pub enum Policy {
    /// n-out-of over principals.
    Signature {
        /// The rule tree.
        rule: SignaturePolicy,
        /// The principals `signed_by` indexes into.
        principals: Vec<MspPrincipal>,
    },
    /// A rule over the same-named policy of every sub-group.
    ImplicitMeta {
        /// ANY, ALL or MAJORITY.
        rule: Rule,
        /// One per sub-group: its policy of that name, or [`Policy::Reject`].
        sub_policies: Vec<Arc<Policy>>,
    },
    /// A policy type this orderer does not evaluate: never satisfied.
    Unsupported(i32),
    /// Fabric's reject policy: what a missing sub-policy is.
    Reject,
}

impl Policy {
    /// Whether `signers` (distinct, signatures verified) satisfy the policy.
    pub fn evaluate(&self, signers: &[&Identity]) -> bool {
        match self {
            Self::Signature { rule, principals } => {
                let mut used = vec![false; signers.len()];
                satisfies(rule, principals, signers, &mut used, 0)
            }
            Self::ImplicitMeta { rule, sub_policies } => {
                let threshold = match rule {
                    _ if sub_policies.is_empty() => 0,
                    Rule::Any => 1,
                    Rule::All => sub_policies.len(),
                    Rule::Majority => sub_policies.len() / 2 + 1,
                };
                let mut met = 0;
                for policy in sub_policies {
                    if met >= threshold {
                        break;
                    }
                    met += usize::from(policy.evaluate(signers));
                }
                met >= threshold
            }
            Self::Unsupported(_) | Self::Reject => false,
        }
    }
}

/// Fabric's cauthdsl: each signer counts for one `signed_by` at most; a branch of an
/// n-out-of only consumes signers if it is satisfied.
fn satisfies(
    rule: &SignaturePolicy,
    principals: &[MspPrincipal],
    signers: &[&Identity],
    used: &mut [bool],
    depth: usize,
) -> bool {
    if depth > RULE_DEPTH_MAX {
        return false;
    }
    match &rule.r#type {
        Some(SignatureRule::SignedBy(index)) => {
            let Some(principal) = usize::try_from(*index).ok().and_then(|i| principals.get(i))
            else {
                return false;
            };
            for (position, signer) in signers.iter().enumerate() {
                if !used[position] && signer.satisfies(principal) {
                    used[position] = true;
                    return true;
                }
            }
            false
        }
        Some(SignatureRule::NOutOf(n_out_of)) => {
            let mut verified = 0;
            let mut trial = used.to_vec();
            for rule in &n_out_of.rules {
                trial.copy_from_slice(used);
                if satisfies(rule, principals, signers, &mut trial, depth + 1) {
                    verified += 1;
                    used.copy_from_slice(&trial);
                }
            }
            verified >= n_out_of.n
        }
        None => false,
    }
}

/// Every policy of a channel config, by path.
#[derive(Debug, Default)]
pub struct PolicyTree {
    policies: HashMap<String, Arc<Policy>>,
    /// The sub-policy name of each implicit meta policy, by path (for failure texts).
    implicit_sub_policies: HashMap<String, String>,
}

impl PolicyTree {
    /// Compiles the policies of the root group (`/Channel`) and all its sub-groups.
    pub fn from_config(root: &ConfigGroup) -> Result<Self, String> {
        let mut tree = Self::default();
        tree.compile_group(root, "/Channel", 0)?;
        Ok(tree)
    }

    /// The policy at `path`, e.g. `/Channel/Writers`.
    pub fn get(&self, path: &str) -> Option<&Arc<Policy>> {
        self.policies.get(path)
    }

    /// [`Policy::evaluate`] of the policy at `path`, with Fabric's words for a refusal:
    /// "signature set did not satisfy policy" (cauthdsl), "implicit policy evaluation
    /// failed - N sub-policies were satisfied, but this policy requires M of the 'X'
    /// sub-policies to be satisfied" (`common/policies/implicitmeta.go`), "could not find
    /// policy {path}" when the config defines none there.
    pub fn evaluate_explained(&self, path: &str, signers: &[&Identity]) -> Result<(), String> {
        let policy = self
            .get(path)
            .ok_or_else(|| format!("could not find policy {path}"))?;
        if policy.evaluate(signers) {
            return Ok(());
        }
        match &**policy {
            Policy::Signature { .. } => Err("signature set did not satisfy policy".into()),
            Policy::ImplicitMeta { rule, sub_policies } => {
                let threshold = match rule {
                    _ if sub_policies.is_empty() => 0,
                    Rule::Any => 1,
                    Rule::All => sub_policies.len(),
                    Rule::Majority => sub_policies.len() / 2 + 1,
                };
                let satisfied = sub_policies
                    .iter()
                    .filter(|sub_policy| sub_policy.evaluate(signers))
                    .count();
                let name = self
                    .implicit_sub_policies
                    .get(path)
                    .map_or("", String::as_str);
                Err(format!(
                    "implicit policy evaluation failed - {satisfied} sub-policies were satisfied, but this policy requires {threshold} of the '{name}' sub-policies to be satisfied"
                ))
            }
            Policy::Unsupported(policy_type) => {
                Err(format!("policy type {policy_type} is not supported"))
            }
            Policy::Reject => Err(format!("No such policy: '{path}'")),
        }
    }

    fn compile_group(
        &mut self,
        group: &ConfigGroup,
        path: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > RULE_DEPTH_MAX {
            return Err(format!("{path}: config groups nest too deep"));
        }
        let mut children: Vec<(&String, &ConfigGroup)> = group.groups.iter().collect();
        children.sort_by(|a, b| a.0.cmp(b.0));
        for (name, child) in &children {
            self.compile_group(child, &format!("{path}/{name}"), depth + 1)?;
        }
        for (name, config_policy) in &group.policies {
            let policy = config_policy.policy.clone().unwrap_or_default();
            let compiled = match PolicyType::try_from(policy.r#type) {
                Ok(PolicyType::Signature) => {
                    let envelope = SignaturePolicyEnvelope::decode(policy.value)
                        .map_err(|e| format!("{path}/{name}: SignaturePolicyEnvelope: {e}"))?;
                    let rule = envelope
                        .rule
                        .ok_or_else(|| format!("{path}/{name}: signature policy has no rule"))?;
                    Policy::Signature {
                        rule,
                        principals: envelope.identities,
                    }
                }
                Ok(PolicyType::ImplicitMeta) => {
                    let meta = ImplicitMetaPolicy::decode(policy.value)
                        .map_err(|e| format!("{path}/{name}: ImplicitMetaPolicy: {e}"))?;
                    let rule = Rule::try_from(meta.rule)
                        .map_err(|_| format!("{path}/{name}: unknown implicit meta rule"))?;
                    self.implicit_sub_policies
                        .insert(format!("{path}/{name}"), meta.sub_policy.clone());
                    // One sub-policy per child group, as Fabric's newImplicitMetaPolicy
                    // (common/policies/implicitmeta.go) takes one from every child's
                    // manager: a child without the named policy contributes one that
                    // always rejects, and ALL and MAJORITY count it.
                    let sub_policies = children
                        .iter()
                        .map(|(child, _)| {
                            self.get(&format!("{path}/{child}/{}", meta.sub_policy))
                                .cloned()
                                .unwrap_or_else(|| Arc::new(Policy::Reject))
                        })
                        .collect();
                    Policy::ImplicitMeta { rule, sub_policies }
                }
                _ => Policy::Unsupported(policy.r#type),
            };
            self.policies
                .insert(format!("{path}/{name}"), Arc::new(compiled));
        }
        Ok(())
    }
}
