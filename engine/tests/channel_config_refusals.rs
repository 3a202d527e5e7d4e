//! The channel configs Fabric's `common/channelconfig` refuses (unknown groups and value
//! keys, undecodable values, unknown policy and MSP types), refused by [`ChannelTree`]
//! with the path of the element at fault; and the few things it accepts that look odd.
//! Each config is Fabric's own `SampleDevModeSolo` genesis config with one change.

use std::path::PathBuf;

use bytes::Bytes;
use engine::config::{ChannelTree, ConfigBlock, PolicyDefinition};
use orderer_proto::common::{Config, ConfigGroup, ConfigValue, Policy};
use orderer_proto::msp::{IdemixMspConfig, MspConfig};
use orderer_proto::protos::{AnchorPeer, AnchorPeers};
use prost::Message;

fn sample_config() -> Config {
    let vectors = std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    );
    let path = vectors.join("genesis/v1.4.12/SampleDevModeSolo.genesis.block");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    ConfigBlock::decode(&bytes).expect("a config block").config
}

fn root(config: &mut Config) -> &mut ConfigGroup {
    config.channel_group.as_mut().expect("a channel group")
}

fn group<'c>(config: &'c mut Config, path: &[&str]) -> &'c mut ConfigGroup {
    path.iter().fold(root(config), |group, name| {
        group
            .groups
            .get_mut(*name)
            .unwrap_or_else(|| panic!("no group {name}"))
    })
}

fn value(bytes: impl Into<Bytes>) -> ConfigValue {
    ConfigValue {
        version: 0,
        value: bytes.into(),
        mod_policy: "Admins".into(),
    }
}

fn refusal(config: &Config) -> String {
    match ChannelTree::from_config(config) {
        Ok(_) => panic!("the config was accepted"),
        Err(e) => e.to_string(),
    }
}

fn assert_refused(config: &Config, fragments: &[&str]) {
    let message = refusal(config);
    for fragment in fragments {
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }
}

#[test]
fn unknown_value_key_is_refused_with_its_path() {
    let mut config = sample_config();
    group(&mut config, &["Orderer"])
        .values
        .insert("Foo".into(), value(vec![]));
    assert_refused(&config, &["/Channel/Orderer/Foo", "unexpected value key"]);

    let mut config = sample_config();
    root(&mut config).values.insert("Bar".into(), value(vec![]));
    assert_refused(&config, &["/Channel/Bar", "unexpected value key"]);

    let mut config = sample_config();
    let consortium = group(&mut config, &["Consortiums", "SampleConsortium"]);
    consortium.values.insert("Baz".into(), value(vec![]));
    assert_refused(&config, &["/Channel/Consortiums/SampleConsortium/Baz"]);
}

#[test]
fn undecodable_value_is_refused_with_its_path_and_type() {
    let garbage = vec![0xff_u8, 0xff, 0xff];
    let mut config = sample_config();
    group(&mut config, &["Orderer"])
        .values
        .insert("BatchSize".into(), value(garbage.clone()));
    assert_refused(
        &config,
        &["/Channel/Orderer/BatchSize", "cannot decode BatchSize"],
    );

    let mut config = sample_config();
    let org = group(&mut config, &["Application", "SampleOrg"]);
    org.values
        .insert("AnchorPeers".into(), value(garbage.clone()));
    assert_refused(
        &config,
        &["/Channel/Application/SampleOrg/AnchorPeers", "AnchorPeers"],
    );

    let mut config = sample_config();
    let org = group(&mut config, &["Orderer", "SampleOrg"]);
    let msp = MspConfig {
        r#type: 0,
        config: garbage.into(),
    };
    org.values.insert("MSP".into(), value(msp.encode_to_vec()));
    assert_refused(
        &config,
        &[
            "/Channel/Orderer/SampleOrg/MSP",
            "cannot decode FabricMSPConfig",
        ],
    );
}

#[test]
fn bad_batch_timeout_is_refused_with_its_path() {
    let mut config = sample_config();
    let timeout = orderer_proto::orderer::BatchTimeout {
        timeout: "2 seconds".into(),
    };
    let orderer = group(&mut config, &["Orderer"]);
    orderer
        .values
        .insert("BatchTimeout".into(), value(timeout.encode_to_vec()));
    assert_refused(
        &config,
        &["/Channel/Orderer/BatchTimeout", "invalid duration"],
    );
}

#[test]
fn groups_fabric_does_not_define_are_refused() {
    let mut config = sample_config();
    root(&mut config)
        .groups
        .insert("Foo".into(), ConfigGroup::default());
    assert_refused(&config, &["/Channel/Foo", "disallowed channel group"]);

    for org in [
        &["Orderer", "SampleOrg"][..],
        &["Application", "SampleOrg"],
        &["Consortiums", "SampleConsortium", "SampleOrg"],
    ] {
        let mut config = sample_config();
        group(&mut config, org)
            .groups
            .insert("Sub".into(), ConfigGroup::default());
        let path = format!("/Channel/{}/Sub", org.join("/"));
        assert_refused(&config, &[&path, "does not allow sub-groups"]);
    }
}

#[test]
fn org_values_of_another_org_kind_are_refused() {
    let peers = AnchorPeers {
        anchor_peers: vec![AnchorPeer {
            host: "peer0".into(),
            port: 7051,
        }],
    };
    let mut config = sample_config();
    let org = group(&mut config, &["Orderer", "SampleOrg"]);
    org.values
        .insert("AnchorPeers".into(), value(peers.encode_to_vec()));
    assert_refused(
        &config,
        &[
            "/Channel/Orderer/SampleOrg/AnchorPeers",
            "unexpected value key",
        ],
    );

    let mut config = sample_config();
    let org = group(
        &mut config,
        &["Consortiums", "SampleConsortium", "SampleOrg"],
    );
    org.values.insert("Endpoints".into(), value(vec![]));
    assert_refused(
        &config,
        &["/Channel/Consortiums/SampleConsortium/SampleOrg/Endpoints"],
    );
}

fn with_policy(kind: i32, bytes: Vec<u8>) -> Config {
    let mut config = sample_config();
    let policy = root(&mut config)
        .policies
        .get_mut("Readers")
        .expect("Readers");
    policy.policy = Some(Policy {
        r#type: kind,
        value: bytes.into(),
    });
    config
}

#[test]
fn policies_are_decoded_by_type() {
    assert_refused(
        &with_policy(0, vec![]),
        &["/Channel/Readers", "unknown policy type 0"],
    );
    assert_refused(
        &with_policy(7, vec![]),
        &["/Channel/Readers", "unknown policy type 7"],
    );
    assert_refused(
        &with_policy(1, vec![0xff]),
        &["/Channel/Readers", "SignaturePolicyEnvelope"],
    );
    let meta = orderer_proto::common::ImplicitMetaPolicy {
        sub_policy: "Readers".into(),
        rule: 9,
    };
    assert_refused(
        &with_policy(3, meta.encode_to_vec()),
        &["/Channel/Readers", "unknown rule 9"],
    );

    let tree = ChannelTree::from_config(&with_policy(2, vec![1, 2, 3])).expect("MSP policies read");
    let readers = &tree.policies["Readers"].value;
    assert_eq!(
        *readers,
        PolicyDefinition::Msp(Bytes::from_static(&[1, 2, 3]))
    );

    let mut config = sample_config();
    root(&mut config)
        .policies
        .get_mut("Readers")
        .expect("Readers")
        .policy = None;
    assert_refused(&config, &["/Channel/Readers", "nil"]);
}

#[test]
fn msp_values_are_decoded_by_type() {
    let idemix = IdemixMspConfig {
        name: "IdemixOrg".into(),
        epoch: 3,
        ..Default::default()
    };
    let msp = MspConfig {
        r#type: 1,
        config: idemix.encode_to_vec().into(),
    };
    let mut config = sample_config();
    let org = group(&mut config, &["Application", "SampleOrg"]);
    org.values.insert("MSP".into(), value(msp.encode_to_vec()));
    let tree = ChannelTree::from_config(&config).expect("an idemix MSP reads");
    let org = &tree.application.as_ref().expect("Application").orgs["SampleOrg"];
    assert_eq!(org.msp_id(), Some("IdemixOrg"));
    assert_eq!(org.msp.as_ref().map(|m| m.value.msp_type()), Some(1));

    let msp = MspConfig {
        r#type: 2,
        config: Bytes::new(),
    };
    let org = group(&mut config, &["Application", "SampleOrg"]);
    org.values.insert("MSP".into(), value(msp.encode_to_vec()));
    assert_refused(
        &config,
        &[
            "/Channel/Application/SampleOrg/MSP",
            "unsupported MSP type 2",
        ],
    );
}

#[test]
fn consortiums_group_values_are_kept_unread() {
    let mut config = sample_config();
    group(&mut config, &["Consortiums"])
        .values
        .insert("Anything".into(), value(vec![0xff]));
    let tree = ChannelTree::from_config(&config).expect("Fabric never reads these");
    let unread = &tree
        .consortiums
        .as_ref()
        .expect("Consortiums")
        .unread_values;
    assert_eq!(unread["Anything"].value, Bytes::from_static(&[0xff]));
}

#[test]
fn consortium_value_of_an_application_channel_is_read() {
    let mut config = sample_config();
    let name = orderer_proto::common::Consortium {
        name: "SampleConsortium".into(),
    };
    root(&mut config)
        .values
        .insert("Consortium".into(), value(name.encode_to_vec()));
    let tree = ChannelTree::from_config(&config).expect("Consortium is a channel value");
    assert_eq!(
        tree.consortium.map(|c| c.value).as_deref(),
        Some("SampleConsortium")
    );
}
