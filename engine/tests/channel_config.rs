//! The typed channel config ([`ChannelTree`]) of every genesis block Fabric's
//! `configtxgen` made (v1.4.12 and v2.2.15, system and application channels), checked
//! element by element against `configtxgen -inspectBlock` dumps and against the values of
//! Fabric's sample profiles. `channel_config_refusals.rs` has the configs it refuses.

mod config_summary;

use std::path::PathBuf;
use std::time::Duration;

use engine::config::{
    ChannelConfig, ChannelTree, ConfigBlock, ConsensusState, MspDefinition, OrgConfig,
    PolicyDefinition,
};
use orderer_proto::common::implicit_meta_policy::Rule;

use config_summary::json::{channel_id_of, config_of, num};
use config_summary::{Summary, json_summary, tree_summary};

fn vectors() -> PathBuf {
    std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    )
}

fn block_bytes(name: &str) -> Vec<u8> {
    let path = vectors()
        .join("genesis")
        .join(format!("{name}.genesis.block"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn tree(name: &str) -> ChannelTree {
    ChannelTree::from_block(&block_bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dump(name: &str) -> serde_json::Value {
    let path = vectors().join("json").join(format!("{name}.genesis.json"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&text).expect("the dump is JSON")
}

/// Every genesis block of the vectors.
const BLOCKS: [&str; 7] = [
    "v1.4.12/SampleDevModeKafka",
    "v1.4.12/SampleDevModeSolo",
    "v1.4.12/SampleSingleMSPSolo",
    "v1.4.12/appchannel.kafka",
    "v1.4.12/appchannel.solo",
    "v2.2.15/SampleDevModeKafka",
    "v2.2.15/SampleDevModeSolo",
];

/// The v1.4.12 blocks that have a JSON dump.
const DUMPED: [&str; 4] = [
    "SampleDevModeKafka",
    "SampleDevModeSolo",
    "SampleSingleMSPSolo",
    "appchannel.solo",
];

fn assert_same(name: &str, typed: &Summary, dumped: &Summary) {
    let missing: Vec<&String> = dumped.keys().filter(|k| !typed.contains_key(*k)).collect();
    let extra: Vec<&String> = typed.keys().filter(|k| !dumped.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{name}: the typed tree lacks {missing:?}"
    );
    assert!(extra.is_empty(), "{name}: the typed tree adds {extra:?}");
    for (key, line) in dumped {
        assert_eq!(&typed[key], line, "{name}: {key}");
    }
}

#[test]
fn every_element_of_the_json_dumps_is_in_the_typed_tree() {
    for name in DUMPED {
        let dump = dump(name);
        let bytes = block_bytes(&format!("v1.4.12/{name}"));
        let block = ConfigBlock::decode(&bytes).expect("a config block");
        assert_eq!(
            block.channel_header.channel_id,
            channel_id_of(&dump),
            "{name}"
        );
        let tree = ChannelTree::from_config(&block.config).expect("the config reads");
        assert_eq!(tree.sequence, num(&config_of(&dump)["sequence"]), "{name}");
        let summary = json_summary(&dump);
        assert!(summary.len() > 25, "{name}: the dump was walked");
        assert_same(name, &tree_summary(&tree), &summary);
    }
}

#[test]
fn appchannel_kafka_is_appchannel_solo_with_kafka_consensus() {
    let mut expected = json_summary(&dump("appchannel.solo"));
    let consensus = "value /Channel/Orderer/ConsensusType".to_string();
    let line = expected[&consensus].replace("| solo ", "| kafka ");
    expected.insert(consensus, line);
    expected.insert(
        "value /Channel/Orderer/KafkaBrokers".into(),
        "v0 mod=Admins | kafka0:9092,kafka1:9092,kafka2:9092".into(),
    );
    let typed = tree_summary(&tree("v1.4.12/appchannel.kafka"));
    assert_same("appchannel.kafka", &typed, &expected);
}

fn assert_implicit_meta(policies: &engine::config::Policies, name: &str, rule: Rule, sub: &str) {
    let entry = policies
        .get(name)
        .unwrap_or_else(|| panic!("no {name} policy"));
    assert_eq!(entry.meta.mod_policy, "Admins");
    assert_eq!(
        entry.value,
        PolicyDefinition::ImplicitMeta {
            rule,
            sub_policy: sub.into()
        },
        "{name}"
    );
}

fn assert_group_policies(policies: &engine::config::Policies) {
    assert_implicit_meta(policies, "Readers", Rule::Any, "Readers");
    assert_implicit_meta(policies, "Writers", Rule::Any, "Writers");
    assert_implicit_meta(policies, "Admins", Rule::Majority, "Admins");
}

/// The sample org, as every profile of the vectors defines it.
fn assert_sample_org(path: &str, org: &OrgConfig) {
    assert_eq!(org.name, "SampleOrg", "{path}");
    assert_eq!(org.msp_id(), Some("SampleOrg"), "{path}");
    let msp = &org.msp.as_ref().expect("an MSP value").value;
    let MspDefinition::Fabric(fabric) = msp else {
        panic!("{path}: not an X.509 MSP");
    };
    assert_eq!(fabric.root_certs.len(), 1, "{path}");
    assert_eq!(fabric.admins.len(), 1, "{path}");
    assert_eq!(fabric.tls_root_certs.len(), 1, "{path}");
    for name in ["Readers", "Writers", "Admins"] {
        let policy = &org.policies.get(name).expect("the org policy").value;
        let PolicyDefinition::Signature(envelope) = policy else {
            panic!("{path}/{name}: not a signature policy");
        };
        assert_eq!(envelope.identities.len(), 1, "{path}/{name}");
    }
}

fn assert_orderer(name: &str, tree: &ChannelTree) {
    let orderer = tree.orderer.as_ref().expect("an Orderer group");
    assert_group_policies(&orderer.policies);
    assert_implicit_meta(&orderer.policies, "BlockValidation", Rule::Any, "Writers");
    let consensus = &orderer
        .consensus_type
        .as_ref()
        .expect("ConsensusType")
        .value;
    let kafka = name.contains("Kafka") || name.contains("kafka");
    assert_eq!(
        consensus.kind,
        if kafka { "kafka" } else { "solo" },
        "{name}"
    );
    assert_eq!(consensus.state, ConsensusState::Normal);
    assert!(consensus.metadata.is_empty());
    let batch = orderer.batch_size.as_ref().expect("BatchSize").value;
    assert_eq!(
        (
            batch.max_message_count,
            batch.absolute_max_bytes,
            batch.preferred_max_bytes
        ),
        (500, 10 * 1024 * 1024, 2 * 1024 * 1024)
    );
    let timeout = orderer.batch_timeout.as_ref().expect("BatchTimeout").value;
    assert_eq!(timeout, Duration::from_secs(2));
    let brokers = orderer.kafka_brokers.as_ref().map(|b| b.value.clone());
    let expected = ["kafka0:9092", "kafka1:9092", "kafka2:9092"].map(String::from);
    assert_eq!(brokers, kafka.then(|| expected.to_vec()), "{name}");
    assert_eq!(
        orderer.channel_restrictions.as_ref().map(|r| r.value),
        Some(0)
    );
    let capability = if name.starts_with("v2") {
        "V2_0"
    } else {
        "V1_4_2"
    };
    let capabilities = &orderer.capabilities.as_ref().expect("Capabilities").value;
    assert_eq!(capabilities.iter().collect::<Vec<_>>(), [capability]);
    assert_eq!(orderer.orgs.keys().collect::<Vec<_>>(), ["SampleOrg"]);
    let org = &orderer.orgs["SampleOrg"];
    assert_sample_org(&format!("{name} orderer org"), org);
    let endpoints = org.endpoints.as_ref().expect("Endpoints").value.clone();
    assert_eq!(endpoints, ["127.0.0.1:7050"]);
    assert!(org.anchor_peers.is_none());
}

fn assert_application(name: &str, tree: &ChannelTree) {
    let single_msp = name.contains("SingleMSP");
    assert_eq!(tree.application.is_none(), single_msp, "{name}");
    let Some(application) = &tree.application else {
        return;
    };
    assert_group_policies(&application.policies);
    let v2 = name.starts_with("v2");
    let acls = &application.acls.as_ref().expect("ACLs").value;
    assert_eq!(acls.len(), if v2 { 20 } else { 16 }, "{name}");
    assert_eq!(acls["peer/Propose"], "/Channel/Application/Writers");
    assert_eq!(acls["qscc/GetChainInfo"], "/Channel/Application/Readers");
    let capabilities = &application
        .capabilities
        .as_ref()
        .expect("Capabilities")
        .value;
    let capability = if v2 { "V2_0" } else { "V1_4_2" };
    assert_eq!(capabilities.iter().collect::<Vec<_>>(), [capability]);
    assert_eq!(application.orgs.keys().collect::<Vec<_>>(), ["SampleOrg"]);
    let org = &application.orgs["SampleOrg"];
    assert_sample_org(&format!("{name} application org"), org);
    let anchors = &org.anchor_peers.as_ref().expect("AnchorPeers").value;
    let anchors: Vec<(&str, i32)> = anchors.iter().map(|p| (p.host.as_str(), p.port)).collect();
    assert_eq!(anchors, [("127.0.0.1", 7051)]);
    assert!(org.endpoints.is_none());
}

fn assert_consortiums(name: &str, tree: &ChannelTree) {
    let system = !name.contains("appchannel");
    assert_eq!(tree.consortiums.is_some(), system, "{name}");
    let Some(consortiums) = &tree.consortiums else {
        return;
    };
    assert_eq!(consortiums.meta.mod_policy, "/Channel/Orderer/Admins");
    assert!(consortiums.unread_values.is_empty());
    let admins = &consortiums.policies.get("Admins").expect("Admins").value;
    assert_eq!(
        admins.policy_type(),
        orderer_proto::common::policy::PolicyType::Signature
    );
    let names: Vec<&String> = consortiums.consortiums.keys().collect();
    assert_eq!(names, ["SampleConsortium"]);
    let consortium = &consortiums.consortiums["SampleConsortium"];
    let policy = consortium
        .channel_creation_policy
        .as_ref()
        .expect("ChannelCreationPolicy");
    assert_eq!(policy.meta.mod_policy, "/Channel/Orderer/Admins");
    assert_eq!(
        policy.value,
        PolicyDefinition::ImplicitMeta {
            rule: Rule::Any,
            sub_policy: "Admins".into()
        }
    );
    assert_eq!(consortium.orgs.keys().collect::<Vec<_>>(), ["SampleOrg"]);
    assert_sample_org(
        &format!("{name} consortium org"),
        &consortium.orgs["SampleOrg"],
    );
}

#[test]
fn every_genesis_block_holds_the_sample_profile_values() {
    for name in BLOCKS {
        let bytes = block_bytes(name);
        let channel_id = ConfigBlock::decode(&bytes)
            .expect("a config block")
            .channel_header
            .channel_id;
        let expected_id = if name.contains("appchannel") {
            "appchannel"
        } else {
            "test-system-channel-name"
        };
        assert_eq!(channel_id, expected_id);
        let tree = ChannelTree::from_block(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(tree.sequence, 0);
        assert_group_policies(&tree.policies);
        assert_eq!(
            tree.hashing_algorithm.as_ref().map(|h| h.value.as_str()),
            Some("SHA256")
        );
        let width = tree.block_data_hashing_structure.as_ref().map(|w| w.value);
        assert_eq!(width, Some(u32::MAX));
        let v2 = name.starts_with("v2");
        // v2.x configtxgen leaves the global list out when every orderer org has Endpoints.
        let addresses = tree.orderer_addresses.as_ref().map(|a| a.value.clone());
        assert_eq!(
            addresses,
            (!v2).then(|| vec!["127.0.0.1:7050".to_string()]),
            "{name}"
        );
        assert_eq!(
            tree.orderer_addresses
                .as_ref()
                .map(|a| a.meta.mod_policy.as_str()),
            (!v2).then_some("/Channel/Orderer/Admins")
        );
        assert!(tree.consortium.is_none());
        let capabilities = &tree.capabilities.as_ref().expect("Capabilities").value;
        let capability = if v2 { "V2_0" } else { "V1_4_3" };
        assert_eq!(capabilities.iter().collect::<Vec<_>>(), [capability]);
        assert_orderer(name, &tree);
        assert_application(name, &tree);
        assert_consortiums(name, &tree);
        let mut org_paths = vec!["/Channel/Orderer/SampleOrg"];
        if tree.application.is_some() {
            org_paths.push("/Channel/Application/SampleOrg");
        }
        if tree.consortiums.is_some() {
            org_paths.push("/Channel/Consortiums/SampleConsortium/SampleOrg");
        }
        let paths: Vec<String> = tree.orgs().into_iter().map(|(path, _)| path).collect();
        assert_eq!(paths, org_paths, "{name}");
    }
}

#[test]
fn v2_2_15_blocks_carry_endorsement_policies() {
    for name in ["v2.2.15/SampleDevModeSolo", "v2.2.15/SampleDevModeKafka"] {
        let tree = tree(name);
        let application = tree.application.as_ref().expect("an Application group");
        let policies = &application.policies;
        assert_implicit_meta(policies, "Endorsement", Rule::Majority, "Endorsement");
        assert_implicit_meta(
            policies,
            "LifecycleEndorsement",
            Rule::Majority,
            "Endorsement",
        );
        let acls = &application.acls.as_ref().expect("ACLs").value;
        assert_eq!(
            acls["_lifecycle/CommitChaincodeDefinition"],
            "/Channel/Application/Writers"
        );
        for (path, org) in tree.orgs() {
            let endorsement = &org.policies.get("Endorsement").expect("Endorsement").value;
            assert_eq!(
                endorsement.policy_type(),
                orderer_proto::common::policy::PolicyType::Signature,
                "{path}"
            );
        }
    }
}

#[test]
fn single_msp_profile_admins_are_sample_org_admins() {
    let tree = tree("v1.4.12/SampleSingleMSPSolo");
    let orderer = tree.orderer.as_ref().expect("an Orderer group");
    let line = config_summary::policy_line(&orderer.orgs["SampleOrg"].policies["Admins"].value);
    assert_eq!(line, "SIGNATURE v0 OutOf(1,[0]) [SampleOrg.ADMIN]");
}

#[test]
fn channel_config_carries_the_tree() {
    let config = ChannelConfig::from_block(&block_bytes("v1.4.12/appchannel.solo"))
        .expect("the engine reads the block");
    assert_eq!(config.channel_id, "appchannel");
    assert_eq!(*config.tree, tree("v1.4.12/appchannel.solo"));
    let orderer = config.tree.orderer.as_ref().expect("an Orderer group");
    assert_eq!(
        orderer.batch_size.as_ref().map(|b| b.value),
        Some(config.batch_size)
    );
    assert_eq!(
        orderer.batch_timeout.as_ref().map(|t| t.value),
        Some(config.batch_timeout)
    );
}
