//! One line per config element, keyed by its path: made from the typed [`ChannelTree`]
//! and from a `configtxgen -inspectBlock` JSON dump the same way, so the two can be
//! compared whole. A group, value or policy the typed tree drops, or one it adds, shows
//! up as a missing or extra key.
#![allow(dead_code)]

pub mod json;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use engine::config::{
    ApplicationConfig, ChannelTree, ConsensusState, ConsortiumsConfig, Entry, Meta, MspDefinition,
    OrdererConfig, OrgConfig, Policies, PolicyDefinition,
};
use orderer_proto::common::msp_principal::Classification;
use orderer_proto::common::msp_role::MspRoleType;
use orderer_proto::common::signature_policy::Type as SignatureRule;
use orderer_proto::common::{MspRole, SignaturePolicy, SignaturePolicyEnvelope};
use orderer_proto::msp::FabricMspConfig;
use prost::Message;

pub use json::json_summary;

/// Path (prefixed by the element's kind) to its summary line.
pub type Summary = BTreeMap<String, String>;

fn meta_line(meta: &Meta) -> String {
    format!("v{} mod={}", meta.version, meta.mod_policy)
}

fn put_group(out: &mut Summary, path: &str, meta: &Meta, policies: &Policies) {
    out.insert(format!("group {path}"), meta_line(meta));
    for (name, entry) in policies {
        out.insert(
            format!("policy {path}/{name}"),
            format!("{} | {}", meta_line(&entry.meta), policy_line(&entry.value)),
        );
    }
}

fn put_value<T>(
    out: &mut Summary,
    path: &str,
    entry: Option<&Entry<T>>,
    line: impl Fn(&T) -> String,
) {
    if let Some(entry) = entry {
        out.insert(
            format!("value {path}"),
            format!("{} | {}", meta_line(&entry.meta), line(&entry.value)),
        );
    }
}

/// `IMPLICIT_META <RULE> <sub_policy>` or `SIGNATURE v<version> <rule> [<principals>]`.
pub fn policy_line(policy: &PolicyDefinition) -> String {
    match policy {
        PolicyDefinition::ImplicitMeta { rule, sub_policy } => {
            format!("IMPLICIT_META {} {sub_policy}", rule.as_str_name())
        }
        PolicyDefinition::Signature(envelope) => signature_line(envelope),
        PolicyDefinition::Msp(bytes) => format!("MSP {} bytes", bytes.len()),
    }
}

fn signature_line(envelope: &SignaturePolicyEnvelope) -> String {
    let principals: Vec<String> = envelope
        .identities
        .iter()
        .map(|principal| {
            assert_eq!(
                principal.principal_classification,
                Classification::Role as i32,
                "the vectors hold ROLE principals only"
            );
            let role = MspRole::decode(&principal.principal[..]).expect("MSPRole decodes");
            let name = MspRoleType::try_from(role.role)
                .expect("known role")
                .as_str_name();
            format!("{}.{name}", role.msp_identifier)
        })
        .collect();
    let rule = envelope
        .rule
        .as_ref()
        .map_or_else(|| "none".into(), rule_line);
    format!(
        "SIGNATURE v{} {rule} [{}]",
        envelope.version,
        principals.join(",")
    )
}

fn rule_line(rule: &SignaturePolicy) -> String {
    match &rule.r#type {
        Some(SignatureRule::SignedBy(index)) => index.to_string(),
        Some(SignatureRule::NOutOf(n_out_of)) => {
            let rules: Vec<String> = n_out_of.rules.iter().map(rule_line).collect();
            format!("OutOf({},[{}])", n_out_of.n, rules.join(","))
        }
        None => "none".into(),
    }
}

fn b64_list(items: &[bytes::Bytes]) -> String {
    let encoded: Vec<String> = items.iter().map(|item| STANDARD.encode(item)).collect();
    format!("[{}]", encoded.join(","))
}

/// The fields of an X.509 MSP config, certificates in base64 as the JSON dump has them.
pub fn fabric_msp_line(config: &FabricMspConfig) -> String {
    let ous: Vec<String> = config
        .organizational_unit_identifiers
        .iter()
        .map(|ou| {
            let cert = STANDARD.encode(&ou.certificate);
            format!("{}:{cert}", ou.organizational_unit_identifier)
        })
        .collect();
    let crypto = config.crypto_config.as_ref().map_or_else(String::new, |c| {
        format!(
            "{}/{}",
            c.signature_hash_family, c.identity_identifier_hash_function
        )
    });
    format!(
        "name={} roots={} inters={} admins={} crls={} ous=[{}] crypto={crypto} \
         tls_roots={} tls_inters={} node_ous={:?} signer={}",
        config.name,
        b64_list(&config.root_certs),
        b64_list(&config.intermediate_certs),
        b64_list(&config.admins),
        b64_list(&config.revocation_list),
        ous.join(","),
        b64_list(&config.tls_root_certs),
        b64_list(&config.tls_intermediate_certs),
        config.fabric_node_ous.as_ref().map(|n| n.enable),
        config.signing_identity.is_some(),
    )
}

fn msp_line(msp: &MspDefinition) -> String {
    match msp {
        MspDefinition::Fabric(config) => format!("type=0 {}", fabric_msp_line(config)),
        MspDefinition::Idemix(config) => format!("type=1 name={}", config.name),
    }
}

fn put_org(out: &mut Summary, path: &str, org: &OrgConfig) {
    put_group(out, path, &org.meta, &org.policies);
    put_value(out, &format!("{path}/MSP"), org.msp.as_ref(), msp_line);
    put_value(
        out,
        &format!("{path}/Endpoints"),
        org.endpoints.as_ref(),
        |a| a.join(","),
    );
    put_value(
        out,
        &format!("{path}/AnchorPeers"),
        org.anchor_peers.as_ref(),
        |peers| {
            let peers: Vec<String> = peers
                .iter()
                .map(|p| format!("{}:{}", p.host, p.port))
                .collect();
            peers.join(",")
        },
    );
}

fn capabilities_line(capabilities: &engine::config::Capabilities) -> String {
    capabilities.iter().cloned().collect::<Vec<_>>().join(",")
}

fn put_orderer(out: &mut Summary, path: &str, orderer: &OrdererConfig) {
    put_group(out, path, &orderer.meta, &orderer.policies);
    let at = |key: &str| format!("{path}/{key}");
    put_value(
        out,
        &at("ConsensusType"),
        orderer.consensus_type.as_ref(),
        |c| {
            let state = match c.state {
                ConsensusState::Normal => "STATE_NORMAL".to_string(),
                ConsensusState::Maintenance => "STATE_MAINTENANCE".to_string(),
                ConsensusState::Other(n) => n.to_string(),
            };
            format!("{} {state} metadata={}", c.kind, c.metadata.len())
        },
    );
    put_value(out, &at("BatchSize"), orderer.batch_size.as_ref(), |b| {
        format!(
            "{} {} {}",
            b.max_message_count, b.absolute_max_bytes, b.preferred_max_bytes
        )
    });
    put_value(
        out,
        &at("BatchTimeout"),
        orderer.batch_timeout.as_ref(),
        |d| format!("{d:?}"),
    );
    put_value(
        out,
        &at("KafkaBrokers"),
        orderer.kafka_brokers.as_ref(),
        |b| b.join(","),
    );
    put_value(
        out,
        &at("ChannelRestrictions"),
        orderer.channel_restrictions.as_ref(),
        u64::to_string,
    );
    put_value(
        out,
        &at("Capabilities"),
        orderer.capabilities.as_ref(),
        capabilities_line,
    );
    for (name, org) in &orderer.orgs {
        put_org(out, &at(name), org);
    }
}

fn put_application(out: &mut Summary, path: &str, application: &ApplicationConfig) {
    put_group(out, path, &application.meta, &application.policies);
    put_value(
        out,
        &format!("{path}/ACLs"),
        application.acls.as_ref(),
        |acls| {
            let acls: Vec<String> = acls.iter().map(|(k, v)| format!("{k}={v}")).collect();
            acls.join(",")
        },
    );
    let capabilities = application.capabilities.as_ref();
    put_value(
        out,
        &format!("{path}/Capabilities"),
        capabilities,
        capabilities_line,
    );
    for (name, org) in &application.orgs {
        put_org(out, &format!("{path}/{name}"), org);
    }
}

fn put_consortiums(out: &mut Summary, path: &str, consortiums: &ConsortiumsConfig) {
    put_group(out, path, &consortiums.meta, &consortiums.policies);
    for (key, entry) in &consortiums.unread_values {
        put_value(out, &format!("{path}/{key}"), Some(entry), |b| {
            format!("raw {} bytes", b.len())
        });
    }
    for (name, consortium) in &consortiums.consortiums {
        let at = format!("{path}/{name}");
        put_group(out, &at, &consortium.meta, &consortium.policies);
        let policy = consortium.channel_creation_policy.as_ref();
        put_value(
            out,
            &format!("{at}/ChannelCreationPolicy"),
            policy,
            policy_line,
        );
        for (org_name, org) in &consortium.orgs {
            put_org(out, &format!("{at}/{org_name}"), org);
        }
    }
}

/// Every group, value and policy of `tree`.
pub fn tree_summary(tree: &ChannelTree) -> Summary {
    let mut out = Summary::new();
    let root = ChannelTree::ROOT;
    put_group(&mut out, root, &tree.meta, &tree.policies);
    let at = |key: &str| format!("{root}/{key}");
    put_value(
        &mut out,
        &at("HashingAlgorithm"),
        tree.hashing_algorithm.as_ref(),
        String::clone,
    );
    let width = tree.block_data_hashing_structure.as_ref();
    put_value(
        &mut out,
        &at("BlockDataHashingStructure"),
        width,
        u32::to_string,
    );
    put_value(
        &mut out,
        &at("OrdererAddresses"),
        tree.orderer_addresses.as_ref(),
        |a| a.join(","),
    );
    put_value(
        &mut out,
        &at("Consortium"),
        tree.consortium.as_ref(),
        String::clone,
    );
    put_value(
        &mut out,
        &at("Capabilities"),
        tree.capabilities.as_ref(),
        capabilities_line,
    );
    if let Some(orderer) = &tree.orderer {
        put_orderer(&mut out, &at("Orderer"), orderer);
    }
    if let Some(application) = &tree.application {
        put_application(&mut out, &at("Application"), application);
    }
    if let Some(consortiums) = &tree.consortiums {
        put_consortiums(&mut out, &at("Consortiums"), consortiums);
    }
    out
}
