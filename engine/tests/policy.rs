//! Policies: every form (n-out-of, ANY/ALL/MAJORITY, admin vs member, NodeOU roles) on
//! identities from test CAs, and the policy tree of Fabric's genesis block.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::collections::HashMap;

use engine::msp::cert::Cert;
use engine::msp::{Identity, Msp};
use engine::policy::PolicyTree;
use orderer_proto::common::implicit_meta_policy::Rule;
use orderer_proto::common::msp_role::MspRoleType;
use orderer_proto::common::signature_policy::{NOutOf, Type as SignatureRule};
use orderer_proto::common::{
    Block, ConfigEnvelope, ConfigGroup, ConfigPolicy, Envelope, ImplicitMetaPolicy, MspPrincipal,
    Payload, Policy, SignaturePolicy, SignaturePolicyEnvelope,
};
use prost::Message;
use support::*;

fn signed_by(index: i32) -> SignaturePolicy {
    SignaturePolicy {
        r#type: Some(SignatureRule::SignedBy(index)),
    }
}

fn n_out_of(n: i32, rules: Vec<SignaturePolicy>) -> SignaturePolicy {
    SignaturePolicy {
        r#type: Some(SignatureRule::NOutOf(NOutOf { n, rules })),
    }
}

fn signature_policy(rule: SignaturePolicy, principals: Vec<MspPrincipal>) -> ConfigPolicy {
    let envelope = SignaturePolicyEnvelope {
        version: 0,
        rule: Some(rule),
        identities: principals,
    };
    ConfigPolicy {
        policy: Some(Policy {
            r#type: 1,
            value: envelope.encode_to_vec().into(),
        }),
        ..ConfigPolicy::default()
    }
}

fn implicit(rule: Rule, sub_policy: &str) -> ConfigPolicy {
    let meta = ImplicitMetaPolicy {
        sub_policy: sub_policy.into(),
        rule: rule as i32,
    };
    ConfigPolicy {
        policy: Some(Policy {
            r#type: 3,
            value: meta.encode_to_vec().into(),
        }),
        ..ConfigPolicy::default()
    }
}

fn org_group(msp: &str) -> ConfigGroup {
    let one = |kind| signature_policy(n_out_of(1, vec![signed_by(0)]), vec![role(msp, kind)]);
    ConfigGroup {
        policies: HashMap::from([
            ("Readers".to_string(), one(MspRoleType::Member)),
            ("Writers".to_string(), one(MspRoleType::Member)),
            ("Admins".to_string(), one(MspRoleType::Admin)),
            ("Clients".to_string(), one(MspRoleType::Client)),
        ]),
        ..ConfigGroup::default()
    }
}

/// Three orgs under Application; ANY Readers, ALL Writers, MAJORITY Admins.
fn tree() -> PolicyTree {
    let application = ConfigGroup {
        groups: ["Org1", "Org2", "Org3"]
            .iter()
            .map(|org| (org.to_string(), org_group(org)))
            .collect(),
        policies: HashMap::from([
            ("Readers".to_string(), implicit(Rule::Any, "Readers")),
            ("Writers".to_string(), implicit(Rule::All, "Writers")),
            ("Admins".to_string(), implicit(Rule::Majority, "Admins")),
            ("Clients".to_string(), implicit(Rule::Any, "Clients")),
        ]),
        ..ConfigGroup::default()
    };
    let two_of_org1_org2 = signature_policy(
        n_out_of(2, vec![signed_by(0), signed_by(1)]),
        vec![
            role("Org1", MspRoleType::Member),
            role("Org2", MspRoleType::Member),
        ],
    );
    let leaf = ConfigGroup {
        policies: HashMap::from([("Empty".to_string(), implicit(Rule::All, "Nothing"))]),
        ..ConfigGroup::default()
    };
    let root = ConfigGroup {
        groups: HashMap::from([
            ("Application".to_string(), application),
            ("Leaf".to_string(), leaf),
        ]),
        policies: HashMap::from([
            ("TwoOrgs".to_string(), two_of_org1_org2),
            ("Empty".to_string(), implicit(Rule::All, "Nothing")),
        ]),
        ..ConfigGroup::default()
    };
    PolicyTree::from_config(&root).unwrap()
}

struct Orgs {
    cas: Vec<TestCa>,
    msps: Vec<Msp>,
}

impl Orgs {
    fn new() -> Self {
        let cas: Vec<TestCa> = (1..=3).map(|i| TestCa::root(&format!("ca{i}"))).collect();
        let msps = cas
            .iter()
            .enumerate()
            .map(|(i, ca)| {
                let mut config = msp_config(&format!("Org{}", i + 1), ca);
                config.fabric_node_ous = Some(node_ous());
                Msp::from_fabric_config(&config).unwrap()
            })
            .collect();
        Self { cas, msps }
    }

    /// An identity of org `n` (1-based) with NodeOU `role`.
    fn identity(&self, n: usize, role: &str, serial: u64) -> Identity {
        let issued = self.cas[n - 1].issue(&format!("{role}{serial}"), &[role], serial);
        self.msps[n - 1]
            .validate(Cert::from_pem(issued.pem.as_bytes()).unwrap())
            .unwrap()
    }
}

#[test]
fn implicit_meta_any_all_majority() {
    let orgs = Orgs::new();
    let tree = tree();
    let (m1, m2, m3) = (
        orgs.identity(1, "client", 1),
        orgs.identity(2, "client", 2),
        orgs.identity(3, "peer", 3),
    );
    let readers = tree.get("/Channel/Application/Readers").unwrap();
    assert!(readers.evaluate(&[&m2]), "ANY: one org's member is enough");
    assert!(!readers.evaluate(&[]));
    let writers = tree.get("/Channel/Application/Writers").unwrap();
    assert!(
        !writers.evaluate(&[&m1, &m2]),
        "ALL: two of three orgs are not enough"
    );
    assert!(writers.evaluate(&[&m1, &m2, &m3]));
    let (a1, a2) = (orgs.identity(1, "admin", 4), orgs.identity(2, "admin", 5));
    let admins = tree.get("/Channel/Application/Admins").unwrap();
    assert!(
        !admins.evaluate(&[&a1]),
        "MAJORITY: one of three is not a majority"
    );
    assert!(admins.evaluate(&[&a1, &a2]));
    assert!(!admins.evaluate(&[&m1, &m2]), "members are not admins");
    assert!(
        tree.get("/Channel/Leaf/Empty").unwrap().evaluate(&[]),
        "no sub-groups, so no sub-policies: threshold 0, satisfied by nobody"
    );
    assert!(
        !tree
            .get("/Channel/Empty")
            .unwrap()
            .evaluate(&[&m1, &m2, &m3]),
        "sub-groups without the sub-policy each count as a rejecting sub-policy"
    );
}

#[test]
fn n_out_of_counts_each_signer_once() {
    let orgs = Orgs::new();
    let tree = tree();
    let two_orgs = tree.get("/Channel/TwoOrgs").unwrap();
    let (m1, m1b, m2) = (
        orgs.identity(1, "client", 1),
        orgs.identity(1, "peer", 2),
        orgs.identity(2, "client", 3),
    );
    assert!(two_orgs.evaluate(&[&m1, &m2]));
    assert!(
        !two_orgs.evaluate(&[&m1, &m1b]),
        "two Org1 signers do not make Org2"
    );
    assert!(!two_orgs.evaluate(&[&m1]));
}

#[test]
fn node_ou_roles_are_principals() {
    let orgs = Orgs::new();
    let tree = tree();
    let clients = tree.get("/Channel/Application/Clients").unwrap();
    assert!(clients.evaluate(&[&orgs.identity(3, "client", 1)]));
    assert!(!clients.evaluate(&[&orgs.identity(3, "peer", 2)]));
    assert!(!clients.evaluate(&[&orgs.identity(3, "orderer", 3)]));
}

#[test]
fn fabric_genesis_policy_tree_admits_the_sample_identity() {
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors");
    let block = Block::decode(
        &std::fs::read(path.join("genesis/v1.4.12/appchannel.solo.genesis.block")).unwrap()[..],
    )
    .unwrap();
    let envelope = Envelope::decode(block.data.unwrap().data[0].clone()).unwrap();
    let root = ConfigEnvelope::decode(Payload::decode(envelope.payload).unwrap().data)
        .unwrap()
        .config
        .unwrap()
        .channel_group
        .unwrap();
    let tree = PolicyTree::from_config(&root).unwrap();
    let msp =
        Msp::from_config_value(&root.groups["Application"].groups["SampleOrg"].values["MSP"].value)
            .unwrap();
    let pem = std::fs::read(path.join("msp/signcerts/peer.pem")).unwrap();
    let identity = msp.validate(Cert::from_pem(&pem).unwrap()).unwrap();
    for policy in [
        "/Channel/Writers",
        "/Channel/Readers",
        "/Channel/Application/Writers",
    ] {
        assert!(tree.get(policy).unwrap().evaluate(&[&identity]), "{policy}");
    }
}

/// Fabric's `newImplicitMetaPolicy` (common/policies/implicitmeta.go) takes one
/// sub-policy from every child group; a child without the named policy gives one that
/// always rejects, and ALL and MAJORITY count it.
#[test]
fn implicit_meta_counts_children_that_lack_the_sub_policy() {
    let orgs = Orgs::new();
    let mut lacking = org_group("Org2");
    lacking.policies.remove("Writers");
    let application = ConfigGroup {
        groups: HashMap::from([
            ("Org1".to_string(), org_group("Org1")),
            ("Org2".to_string(), lacking),
        ]),
        policies: HashMap::from([
            ("AllWriters".to_string(), implicit(Rule::All, "Writers")),
            (
                "MajorityWriters".to_string(),
                implicit(Rule::Majority, "Writers"),
            ),
            ("AnyWriters".to_string(), implicit(Rule::Any, "Writers")),
            (
                "AllMissing".to_string(),
                implicit(Rule::All, "NoSuchPolicy"),
            ),
        ]),
        ..ConfigGroup::default()
    };
    let root = ConfigGroup {
        groups: HashMap::from([("Application".to_string(), application)]),
        ..ConfigGroup::default()
    };
    let tree = PolicyTree::from_config(&root).unwrap();
    let (m1, m2) = (orgs.identity(1, "client", 1), orgs.identity(2, "client", 2));
    let policy = |name: &str| tree.get(&format!("/Channel/Application/{name}")).unwrap();
    assert!(
        !policy("AllWriters").evaluate(&[&m1, &m2]),
        "ALL over two orgs where Org2 has no Writers can never be met"
    );
    assert!(
        !policy("MajorityWriters").evaluate(&[&m1, &m2]),
        "MAJORITY of two needs both, and Org2's rejects"
    );
    assert!(policy("AnyWriters").evaluate(&[&m1]));
    assert!(!policy("AnyWriters").evaluate(&[&m2]));
    assert!(
        !policy("AllMissing").evaluate(&[&m1, &m2]),
        "two children without the sub-policy: two rejecting sub-policies, not zero"
    );
}
