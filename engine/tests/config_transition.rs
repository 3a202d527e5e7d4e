//! What a config update may not change (Fabric's `Bundle.ValidateNew`) and the
//! capabilities it may switch on (`checkResources`), on the config of the channel Fabric
//! created in `../shared/fabric-vectors/config-updates/`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use engine::config::{ChannelTree, ConfigBlock, check_capabilities, validate_new};
use orderer_proto::common::{Capabilities, Capability, Config};
use orderer_proto::msp::{FabricMspConfig, MspConfig};
use orderer_proto::orderer::ConsensusType;
use prost::Message;

fn config(name: &str) -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fabric-vectors/config-updates")
        .join(name);
    ConfigBlock::decode(&std::fs::read(path).unwrap())
        .unwrap()
        .config
}

fn tree(config: &Config) -> ChannelTree {
    ChannelTree::from_config(config).unwrap()
}

/// `edit` applied to the value `key` of the group at `path` (below `/Channel`).
fn edit_value<M: Message + Default>(
    config: &mut Config,
    path: &[&str],
    key: &str,
    edit: impl FnOnce(&mut M),
) {
    let mut group = config.channel_group.as_mut().unwrap();
    for name in path {
        group = group.groups.get_mut(*name).unwrap();
    }
    let value = group.values.get_mut(key).unwrap();
    let mut message = M::decode(value.value.clone()).unwrap();
    edit(&mut message);
    value.value = message.encode_to_vec().into();
}

#[test]
fn fabric_updates_pass_and_changes_fabric_forbids_are_refused() {
    let (before, after) = (
        config("newchannel.block0.pb"),
        config("newchannel.block1.pb"),
    );
    validate_new(&tree(&before), &tree(&after)).unwrap();
    check_capabilities(&tree(&after)).unwrap();

    let mut solo_to_kafka = after.clone();
    edit_value::<ConsensusType>(&mut solo_to_kafka, &["Orderer"], "ConsensusType", |c| {
        c.r#type = "kafka".into();
    });
    let refused = validate_new(&tree(&before), &tree(&solo_to_kafka)).unwrap_err();
    assert_eq!(
        refused,
        "attempted to change consensus type from solo to kafka"
    );

    let mut renamed = after.clone();
    edit_value::<MspConfig>(&mut renamed, &["Application", "SampleOrg"], "MSP", |msp| {
        let mut fabric = FabricMspConfig::decode(msp.config.clone()).unwrap();
        fabric.name = "OtherMSP".into();
        msp.config = fabric.encode_to_vec().into();
    });
    let refused = validate_new(&tree(&before), &tree(&renamed)).unwrap_err();
    assert_eq!(
        refused,
        "application org SampleOrg attempted to change MSP ID from SampleOrg to OtherMSP"
    );

    let mut without_application = after.clone();
    without_application
        .channel_group
        .as_mut()
        .unwrap()
        .groups
        .remove("Application");
    let refused = validate_new(&tree(&before), &tree(&without_application)).unwrap_err();
    assert!(refused.contains("application section"), "{refused}");

    let mut future = after;
    edit_value::<Capabilities>(&mut future, &[], "Capabilities", |c| {
        c.capabilities.insert("V9_9".into(), Capability::default());
    });
    let refused = check_capabilities(&tree(&future)).unwrap_err();
    assert_eq!(refused.level, "channel");
    assert_eq!(
        refused.message,
        "Channel capability V9_9 is required but not supported"
    );
    let mut system_like = config("newchannel.block1.pb");
    let consortiums = Default::default();
    system_like
        .channel_group
        .as_mut()
        .unwrap()
        .groups
        .insert("Consortiums".into(), consortiums);
    let refused = validate_new(&tree(&before), &tree(&system_like)).unwrap_err();
    assert_eq!(
        refused,
        "current config has no consortiums section, but new config does"
    );
}
