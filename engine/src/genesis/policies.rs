//! The policies `configtxgen` writes for a sample profile: signature policies per org,
//! implicit-meta policies above them.

use std::collections::HashMap;

use bytes::Bytes;
use orderer_proto::common::implicit_meta_policy::Rule;
use orderer_proto::common::msp_principal::Classification;
use orderer_proto::common::msp_role::MspRoleType;
use orderer_proto::common::policy::PolicyType;
use orderer_proto::common::signature_policy::{NOutOf, Type as SignatureRule};
use orderer_proto::common::{
    ConfigPolicy, ImplicitMetaPolicy, MspPrincipal, MspRole, Policy, SignaturePolicy,
    SignaturePolicyEnvelope,
};
use prost::Message;

/// The policy every config element names as its `mod_policy`.
pub const ADMINS: &str = "Admins";

fn config_policy(kind: PolicyType, value: Vec<u8>) -> ConfigPolicy {
    ConfigPolicy {
        version: 0,
        policy: Some(Policy {
            r#type: kind as i32,
            value: value.into(),
        }),
        mod_policy: ADMINS.into(),
    }
}

/// `rule` over the policy `sub_policy` of every sub-group.
pub fn implicit_meta(sub_policy: &str, rule: Rule) -> ConfigPolicy {
    let value = ImplicitMetaPolicy {
        sub_policy: sub_policy.into(),
        rule: rule as i32,
    };
    config_policy(PolicyType::ImplicitMeta, value.encode_to_vec())
}

/// `OR('<msp_id>.<role>')`: one signature by an identity of that role.
pub fn signed_by_role(msp_id: &str, role: MspRoleType) -> ConfigPolicy {
    let principal = MspPrincipal {
        principal_classification: Classification::Role as i32,
        principal: Bytes::from(
            MspRole {
                msp_identifier: msp_id.into(),
                role: role as i32,
            }
            .encode_to_vec(),
        ),
    };
    let value = SignaturePolicyEnvelope {
        version: 0,
        rule: Some(SignaturePolicy {
            r#type: Some(SignatureRule::NOutOf(NOutOf {
                n: 1,
                rules: vec![SignaturePolicy {
                    r#type: Some(SignatureRule::SignedBy(0)),
                }],
            })),
        }),
        identities: vec![principal],
    };
    config_policy(PolicyType::Signature, value.encode_to_vec())
}

/// Readers and Writers `ANY`, Admins `MAJORITY`: the policies of the Channel, Orderer and
/// Application groups in Fabric's sample profiles.
pub fn implicit_meta_set() -> HashMap<String, ConfigPolicy> {
    HashMap::from([
        ("Readers".to_string(), implicit_meta("Readers", Rule::Any)),
        ("Writers".to_string(), implicit_meta("Writers", Rule::Any)),
        (ADMINS.to_string(), implicit_meta(ADMINS, Rule::Majority)),
    ])
}

/// An org's Readers and Writers (any member) and Admins (any admin).
pub fn org_set(msp_id: &str) -> HashMap<String, ConfigPolicy> {
    HashMap::from([
        (
            "Readers".to_string(),
            signed_by_role(msp_id, MspRoleType::Member),
        ),
        (
            "Writers".to_string(),
            signed_by_role(msp_id, MspRoleType::Member),
        ),
        (
            ADMINS.to_string(),
            signed_by_role(msp_id, MspRoleType::Admin),
        ),
    ])
}
