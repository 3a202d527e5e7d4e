//! Fabric's config transaction validator and channel-creation templator
//! ([`engine::configtx`]) against the v1.4.12 orderer's own vectors
//! (`fabric-vectors/config-updates`): channel creation from the system channel's genesis,
//! the anchor-peer and BatchSize updates (whole resulting `ConfigEnvelope`s equal to the
//! blocks Fabric cut), and Fabric's refusals word for word; then each rule of
//! `update.go` on updates made here by editing decoded protos.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use bytes::Bytes;
use engine::access::AccessControl;
use engine::configtx::{Validator, new_channel_config};
use engine::msp::local::LocalSigner;
use orderer_proto::common::policy::PolicyType;
use orderer_proto::common::signature_policy::{NOutOf, Type as SignatureRule};
use orderer_proto::common::{
    Block, ChannelHeader, Config, ConfigEnvelope, ConfigGroup, ConfigSignature, ConfigUpdate,
    ConfigUpdateEnvelope, ConfigValue, Consortium, Envelope, Header, HeaderType, MspPrincipal,
    MspRole, Payload, Policy, SignatureHeader, SignaturePolicy, SignaturePolicyEnvelope,
};
use prost::Message;

const CHANNEL: &str = "newchannel";
/// What Fabric's `StandardChannel.ProcessConfigUpdateMsg` puts before the validator's text.
const EXISTING_PREFIX: &str = "error applying config update to existing channel 'newchannel': ";

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors")
}

fn update_file(name: &str) -> Bytes {
    std::fs::read(vectors().join("config-updates").join(name))
        .unwrap()
        .into()
}

/// The `ConfigEnvelope` of a config block (data[0] is a CONFIG envelope).
fn block_config_envelope(path: PathBuf) -> ConfigEnvelope {
    let block = Block::decode(&std::fs::read(path).unwrap()[..]).unwrap();
    let envelope = Envelope::decode(block.data.unwrap().data[0].clone()).unwrap();
    let payload = Payload::decode(envelope.payload).unwrap();
    ConfigEnvelope::decode(payload.data).unwrap()
}

fn newchannel_block(number: u64) -> ConfigEnvelope {
    block_config_envelope(
        vectors()
            .join("config-updates")
            .join(format!("newchannel.block{number}.pb")),
    )
}

fn newchannel_config(number: u64) -> Config {
    newchannel_block(number).config.unwrap()
}

fn system_config() -> Config {
    block_config_envelope(vectors().join("genesis/v1.4.12/SampleSingleMSPSolo.genesis.block"))
        .config
        .unwrap()
}

/// `Validator::propose_update` with the access control of the same config.
fn propose(config: &Config, update: &Bytes) -> Result<ConfigEnvelope, String> {
    let access = AccessControl::from_config(config.channel_group.as_ref().unwrap()).unwrap();
    Validator::new(CHANNEL, config)
        .unwrap()
        .propose_update(update, &access)
}

/// Fabric's answer (`info`) to the broadcast of `sent`, from `broadcasts.json`.
fn fabric_info(sent: &str) -> String {
    let text = std::fs::read_to_string(vectors().join("config-updates/broadcasts.json")).unwrap();
    let broadcasts: serde_json::Value = serde_json::from_str(&text).unwrap();
    let broadcast = broadcasts
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["sent"] == sent)
        .unwrap();
    broadcast["responses"][0]["info"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Fabric's refusal of `sent` on the existing channel, less the caller's prefix.
fn fabric_validator_refusal(sent: &str) -> String {
    fabric_info(sent)
        .strip_prefix(EXISTING_PREFIX)
        .unwrap()
        .to_owned()
}

// ---- The vectors ------------------------------------------------------------------------

#[test]
fn channel_creation_gives_fabrics_genesis_config() {
    let create = update_file("newchannel.create.tx");
    let created = new_channel_config(&system_config(), &create).unwrap();
    let expected = newchannel_block(0);
    assert_eq!(created.config.as_ref().unwrap().sequence, 1);
    assert_eq!(created.config, expected.config);
    assert_eq!(
        created.last_update.as_ref().unwrap().encode_to_vec(),
        create
    );
    assert_eq!(created, expected);
    // The system channel's own block 1 wraps the same CONFIG envelope.
    let system_block = Block::decode(&update_file("system.block1.pb")[..]).unwrap();
    let wrapper = Envelope::decode(system_block.data.unwrap().data[0].clone()).unwrap();
    let inner = Envelope::decode(Payload::decode(wrapper.payload).unwrap().data).unwrap();
    let inner = ConfigEnvelope::decode(Payload::decode(inner.payload).unwrap().data).unwrap();
    assert_eq!(created, inner);
}

#[test]
fn updates_give_fabrics_config_blocks() {
    for (base, update, result) in [
        (0, "newchannel.anchors.tx", 1),
        (1, "newchannel.batchsize.tx", 2),
        // batchsize20 was computed on, and applied to, the sequence-3 config (block 2).
        (2, "newchannel.batchsize20.tx", 7),
    ] {
        let config = newchannel_config(base);
        let update_bytes = update_file(update);
        let proposed = propose(&config, &update_bytes).unwrap();
        let expected = newchannel_block(result);
        assert_eq!(
            proposed.config.as_ref().unwrap().sequence,
            config.sequence + 1,
            "{update}"
        );
        assert_eq!(proposed.config, expected.config, "{update}");
        assert_eq!(
            proposed.last_update.as_ref().unwrap().encode_to_vec(),
            update_bytes,
            "{update}"
        );
        assert_eq!(proposed, expected, "{update}");
    }
}

#[test]
fn validator_reports_the_config_it_was_given() {
    let config = newchannel_config(2);
    let validator = Validator::new(CHANNEL, &config).unwrap();
    assert_eq!(validator.sequence(), 3);
    assert_eq!(validator.channel_id(), CHANNEL);
    assert_eq!(validator.config(), &config);
}

#[test]
fn refusals_on_the_existing_channel_are_fabrics_word_for_word() {
    let config = newchannel_config(2);
    for sent in [
        "reject.stale.tx",
        "reject.stale_readset.tx",
        "reject.notadmin.sigonly.tx",
        "reject.channelmismatch.tx",
        "reject.exists.tx",
    ] {
        let refusal = propose(&config, &update_file(sent)).unwrap_err();
        assert_eq!(refusal, fabric_validator_refusal(sent), "{sent}");
    }
}

/// Fabric refuses `reject.notadmin.tx` earlier (the envelope fails `/Channel/Writers`);
/// the validator refuses it too, on its ConfigSignature alone.
#[test]
fn outsider_update_is_refused_by_its_mod_policy() {
    let refusal = propose(&newchannel_config(2), &update_file("reject.notadmin.tx")).unwrap_err();
    assert_eq!(
        refusal,
        "error authorizing update: error validating DeltaSet: policy for [Value]  /Channel/Orderer/BatchSize not satisfied: implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Admins' sub-policies to be satisfied"
    );
}

#[test]
fn channel_creation_by_an_outsider_is_fabrics_refusal() {
    let refusal = new_channel_config(&system_config(), &update_file("reject.create_notadmin.tx"))
        .unwrap_err();
    assert_eq!(refusal, fabric_info("reject.create_notadmin.tx"));
}

// ---- Updates made here ------------------------------------------------------------------

fn admin() -> LocalSigner {
    LocalSigner::from_msp_dir(&vectors().join("msp"), "SampleOrg").unwrap()
}

/// A CONFIG_UPDATE envelope for `update`, with one ConfigSignature per signer (the outer
/// envelope is signed by the admin; the validator does not look at it).
fn envelope(update: &ConfigUpdate, signers: &[&LocalSigner]) -> Bytes {
    let config_update = Bytes::from(update.encode_to_vec());
    let signatures = signers
        .iter()
        .map(|signer| {
            let header = Bytes::from(
                SignatureHeader {
                    creator: signer.creator().clone(),
                    nonce: Bytes::copy_from_slice(&signer.nonce()),
                }
                .encode_to_vec(),
            );
            let mut signed = header.to_vec();
            signed.extend_from_slice(&config_update);
            ConfigSignature {
                signature_header: header,
                signature: signer.sign(&signed).unwrap().into(),
            }
        })
        .collect();
    let admin = admin();
    let payload = Payload {
        header: Some(Header {
            channel_header: ChannelHeader {
                r#type: HeaderType::ConfigUpdate as i32,
                channel_id: update.channel_id.clone(),
                ..ChannelHeader::default()
            }
            .encode_to_vec()
            .into(),
            signature_header: SignatureHeader {
                creator: admin.creator().clone(),
                nonce: Bytes::copy_from_slice(&admin.nonce()),
            }
            .encode_to_vec()
            .into(),
        }),
        data: ConfigUpdateEnvelope {
            config_update,
            signatures,
        }
        .encode_to_vec()
        .into(),
    }
    .encode_to_vec();
    Envelope {
        signature: admin.sign(&payload).unwrap().into(),
        payload: payload.into(),
    }
    .encode_to_vec()
    .into()
}

/// An update whose read set is the whole current tree and whose write set is that tree
/// after `edit` (which bumps what it changes).
fn update_from(config: &Config, edit: impl FnOnce(&mut ConfigGroup)) -> ConfigUpdate {
    let read = config.channel_group.clone().unwrap();
    let mut write = read.clone();
    edit(&mut write);
    ConfigUpdate {
        channel_id: CHANNEL.into(),
        read_set: Some(read),
        write_set: Some(write),
        ..ConfigUpdate::default()
    }
}

fn orderer(group: &mut ConfigGroup) -> &mut ConfigGroup {
    group.groups.get_mut("Orderer").unwrap()
}

fn extra_value(version: u64, mod_policy: &str) -> ConfigValue {
    ConfigValue {
        version,
        value: Bytes::from_static(b"extra"),
        mod_policy: mod_policy.into(),
    }
}

fn result_group(proposed: &ConfigEnvelope) -> &ConfigGroup {
    proposed
        .config
        .as_ref()
        .unwrap()
        .channel_group
        .as_ref()
        .unwrap()
}

fn delta_refusal(why: &str) -> String {
    format!("error authorizing update: error validating DeltaSet: {why}")
}

/// A new element (version 0) is checked for `mod_policy` syntax only: its own
/// `mod_policy` need not name a policy and nobody signs for it. Its group must change
/// for it to be part of the result, and the group's change is what needs signatures.
#[test]
fn new_element_at_version_zero_needs_no_policy() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        let orderer = orderer(root);
        orderer.version += 1;
        orderer
            .values
            .insert("Extra".into(), extra_value(0, "NoSuchPolicy"));
    });
    let proposed = propose(&config, &envelope(&update, &[&admin()])).unwrap();
    let orderer = &result_group(&proposed).groups["Orderer"];
    assert_eq!(orderer.version, 1);
    assert_eq!(orderer.values["Extra"], extra_value(0, "NoSuchPolicy"));
    assert_eq!(proposed.config.as_ref().unwrap().sequence, 4);
}

/// Fabric's quirk: with its group unchanged, a new element is the whole delta, needs no
/// signature, and is then dropped from the result (no group names it).
#[test]
fn unsigned_new_element_in_an_unchanged_group_is_accepted_and_dropped() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        orderer(root)
            .values
            .insert("Extra".into(), extra_value(0, "Admins"));
    });
    let proposed = propose(&config, &envelope(&update, &[])).unwrap();
    assert_eq!(
        result_group(&proposed),
        config.channel_group.as_ref().unwrap()
    );
}

#[test]
fn new_element_not_at_version_zero_is_refused() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        let orderer = orderer(root);
        orderer.version += 1;
        orderer
            .values
            .insert("Extra".into(), extra_value(3, "Admins"));
    });
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        delta_refusal(
            "attempted to set key [Value]  /Channel/Orderer/Extra to version 3, but key does not exist"
        )
    );
}

#[test]
fn existing_element_must_go_to_the_next_version() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        let batch_size = orderer(root).values.get_mut("BatchSize").unwrap();
        batch_size.version += 2;
    });
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        delta_refusal(
            "attempt to set key [Value]  /Channel/Orderer/BatchSize to version 3, but key is at version 1"
        )
    );
}

#[test]
fn empty_delta_set_is_refused() {
    let config = newchannel_config(2);
    let update = update_from(&config, |_| {});
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        delta_refusal("delta set was empty -- update would have no effect")
    );
    let nothing = ConfigUpdate {
        channel_id: CHANNEL.into(),
        ..ConfigUpdate::default()
    };
    assert_eq!(
        propose(&config, &envelope(&nothing, &[&admin()])).unwrap_err(),
        delta_refusal("delta set was empty -- update would have no effect")
    );
}

#[test]
fn bad_mod_policy_syntax_is_refused() {
    let config = newchannel_config(2);
    for (mod_policy, why) in [
        ("", "mod_policy not set"),
        (
            "Orderer//Admins",
            "path element at 1 is invalid: config ID illegal, cannot be empty",
        ),
        (
            "Ad*mins",
            "path element at 0 is invalid: config ID 'Ad*mins' contains illegal characters",
        ),
    ] {
        let update = update_from(&config, |root| {
            let batch_size = orderer(root).values.get_mut("BatchSize").unwrap();
            batch_size.version += 1;
            batch_size.mod_policy = mod_policy.into();
        });
        assert_eq!(
            propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
            delta_refusal(&format!(
                "invalid mod_policy for element [Value]  /Channel/Orderer/BatchSize: {why}"
            ))
        );
    }
}

/// The current element's `mod_policy` must name a policy of the config.
#[test]
fn unknown_current_mod_policy_is_refused() {
    let mut config = newchannel_config(2);
    for mod_policy in ["NoSuchPolicy", "/Channel/Orderer/NoSuch", "/Other/Admins"] {
        orderer(config.channel_group.as_mut().unwrap())
            .values
            .get_mut("BatchSize")
            .unwrap()
            .mod_policy = mod_policy.into();
        let update = update_from(&config, |root| {
            orderer(root).values.get_mut("BatchSize").unwrap().version += 1;
        });
        assert_eq!(
            propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
            delta_refusal(&format!(
                "unexpected missing policy {mod_policy} for item [Value]  /Channel/Orderer/BatchSize"
            ))
        );
    }
}

/// Relative `mod_policy`s resolve in the element's group (a group's own, a value's
/// container), absolute ones from the root. `/Channel/Admins` is MAJORITY of two orgs'
/// groups, `/Channel/Orderer/Admins` of one, so the unsigned refusal tells which.
#[test]
fn mod_policy_resolves_like_fabrics_policy_managers() {
    let config = newchannel_config(2);
    let requires = |n: usize| {
        format!(
            "implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires {n} of the 'Admins' sub-policies to be satisfied"
        )
    };
    type Edit = fn(&mut ConfigGroup);
    let cases: [(&str, Edit, usize); 4] = [
        // A root value with "Admins": /Channel/Admins.
        (
            "[Value]  /Channel/HashingAlgorithm",
            |root| root.values.get_mut("HashingAlgorithm").unwrap().version += 1,
            2,
        ),
        // A root value with "/Channel/Orderer/Admins".
        (
            "[Value]  /Channel/OrdererAddresses",
            |root| root.values.get_mut("OrdererAddresses").unwrap().version += 1,
            1,
        ),
        // A group with "Admins": its own, /Channel/Orderer/Admins.
        (
            "[Group]  /Channel/Orderer",
            |root| orderer(root).version += 1,
            1,
        ),
        // The root group with "Admins": /Channel/Admins.
        ("[Group]  /Channel", |root| root.version += 1, 2),
    ];
    for (key, edit, n) in cases {
        let update = update_from(&config, edit);
        assert_eq!(
            propose(&config, &envelope(&update, &[])).unwrap_err(),
            delta_refusal(&format!("policy for {key} not satisfied: {}", requires(n))),
            "{key}"
        );
        propose(&config, &envelope(&update, &[&admin()])).unwrap();
    }
}

/// A group raised to the next version without one of its children deletes it.
#[test]
fn an_update_can_delete_by_leaving_out() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        let orderer = orderer(root);
        orderer.version += 1;
        orderer.values.remove("BatchTimeout");
    });
    let proposed = propose(&config, &envelope(&update, &[&admin()])).unwrap();
    let orderer = &result_group(&proposed).groups["Orderer"];
    assert!(!orderer.values.contains_key("BatchTimeout"));
    assert_eq!(orderer.values.len(), 4);
}

#[test]
fn read_set_must_match_the_config() {
    let config = newchannel_config(2);
    let mut update = update_from(&config, |root| {
        orderer(root).values.get_mut("BatchSize").unwrap().version += 1;
    });
    let read = update.read_set.as_mut().unwrap();
    orderer(read)
        .values
        .insert("Missing".into(), extra_value(0, "Admins"));
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        "error authorizing update: error validating ReadSet: existing config does not contain element for [Value]  /Channel/Orderer/Missing but was in the read set"
    );
    let mut update = update_from(&config, |_| {});
    orderer(update.read_set.as_mut().unwrap()).version = 5;
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        "error authorizing update: error validating ReadSet: proposed update requires that key [Group]  /Channel/Orderer be at version 5, but it is currently at version 0"
    );
}

#[test]
fn bad_element_names_are_refused() {
    let config = newchannel_config(2);
    let update = update_from(&config, |root| {
        root.values
            .insert("bad name".into(), extra_value(0, "Admins"));
    });
    assert_eq!(
        propose(&config, &envelope(&update, &[&admin()])).unwrap_err(),
        "error authorizing update: error mapping WriteSet: Illegal characters in key: [Value]  "
    );
}

#[test]
fn non_config_update_envelope_is_refused() {
    let refusal = propose(
        &newchannel_config(2),
        &update_file("newchannel.pending.msg00.tx"),
    )
    .unwrap_err();
    assert_eq!(
        refusal,
        "error converting envelope to config update: invalid type MESSAGE, expected CONFIG_UPDATE"
    );
}

#[test]
fn validator_checks_the_channel_id_and_names() {
    let config = newchannel_config(2);
    let error = Validator::new("New_Channel", &config).unwrap_err();
    assert_eq!(
        error.to_string(),
        "channel config: bad channel ID: channel ID 'New_Channel' contains illegal characters"
    );
    let mut bad = config.clone();
    bad.channel_group
        .as_mut()
        .unwrap()
        .policies
        .insert("a b".into(), Default::default());
    assert_eq!(
        Validator::new(CHANNEL, &bad).unwrap_err().to_string(),
        "channel config: error converting config to map: Illegal characters in key: [Policy] "
    );
    let no_group = Config {
        sequence: 3,
        channel_group: None,
    };
    assert_eq!(
        Validator::new(CHANNEL, &no_group).unwrap_err().to_string(),
        "channel config: nil channel group"
    );
}

// ---- Signature sets ---------------------------------------------------------------------

/// `config` with `/Channel/Orderer/Admins` replaced by an n-out-of over `count` copies of
/// the SampleOrg admin principal.
fn with_orderer_admins_n_of(config: &Config, n: i32, count: usize) -> Config {
    let mut config = config.clone();
    let principal = MspPrincipal {
        principal_classification: 0,
        principal: MspRole {
            msp_identifier: "SampleOrg".into(),
            role: 1,
        }
        .encode_to_vec()
        .into(),
    };
    let rule = SignaturePolicy {
        r#type: Some(SignatureRule::NOutOf(NOutOf {
            n,
            rules: vec![
                SignaturePolicy {
                    r#type: Some(SignatureRule::SignedBy(0)),
                };
                count
            ],
        })),
    };
    let envelope = SignaturePolicyEnvelope {
        version: 0,
        rule: Some(rule),
        identities: vec![principal],
    };
    orderer(config.channel_group.as_mut().unwrap())
        .policies
        .get_mut("Admins")
        .unwrap()
        .policy = Some(Policy {
        r#type: PolicyType::Signature as i32,
        value: envelope.encode_to_vec().into(),
    });
    config
}

/// One identity counts once however often it signs; a signature that does not verify
/// does not count.
#[test]
fn signature_sets_are_deduplicated_and_verified() {
    let admin = admin();
    let bump = |root: &mut ConfigGroup| {
        orderer(root).values.get_mut("BatchSize").unwrap().version += 1;
    };
    let two_admins = with_orderer_admins_n_of(&newchannel_config(2), 2, 2);
    let update = update_from(&two_admins, bump);
    assert_eq!(
        propose(&two_admins, &envelope(&update, &[&admin, &admin])).unwrap_err(),
        delta_refusal(
            "policy for [Value]  /Channel/Orderer/BatchSize not satisfied: signature set did not satisfy policy"
        )
    );
    let one_admin = with_orderer_admins_n_of(&newchannel_config(2), 1, 1);
    let update = update_from(&one_admin, bump);
    propose(&one_admin, &envelope(&update, &[&admin, &admin])).unwrap();

    // The same update, its only ConfigSignature's last byte changed.
    let good = Envelope::decode(envelope(&update, &[&admin])).unwrap();
    let mut payload = Payload::decode(good.payload.clone()).unwrap();
    let mut update_envelope = ConfigUpdateEnvelope::decode(payload.data.clone()).unwrap();
    let mut signature = update_envelope.signatures[0].signature.to_vec();
    *signature.last_mut().unwrap() ^= 1;
    update_envelope.signatures[0].signature = signature.into();
    payload.data = update_envelope.encode_to_vec().into();
    let forged = Envelope {
        payload: payload.encode_to_vec().into(),
        signature: good.signature,
    };
    assert_eq!(
        propose(&one_admin, &forged.encode_to_vec().into()).unwrap_err(),
        delta_refusal(
            "policy for [Value]  /Channel/Orderer/BatchSize not satisfied: signature set did not satisfy policy"
        )
    );
}

#[test]
fn evaluate_signed_names_an_unknown_policy() {
    let config = newchannel_config(2);
    let access = AccessControl::from_config(config.channel_group.as_ref().unwrap()).unwrap();
    assert_eq!(
        access.evaluate_signed("/Channel/Nope", &[]).unwrap_err(),
        "could not find policy /Channel/Nope"
    );
    assert_eq!(
        access.evaluate_signed("/Channel/Admins", &[]).unwrap_err(),
        "implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 2 of the 'Admins' sub-policies to be satisfied"
    );
}

// ---- The templator's own checks ---------------------------------------------------------

/// The creation update of the vectors, its ConfigUpdate edited (signatures left as they
/// were: these checks come before any signature is looked at).
fn edited_create(edit: impl FnOnce(&mut ConfigUpdate)) -> Bytes {
    let original = Envelope::decode(update_file("newchannel.create.tx")).unwrap();
    let mut payload = Payload::decode(original.payload.clone()).unwrap();
    let mut update_envelope = ConfigUpdateEnvelope::decode(payload.data.clone()).unwrap();
    let mut update = ConfigUpdate::decode(update_envelope.config_update.clone()).unwrap();
    edit(&mut update);
    update_envelope.config_update = update.encode_to_vec().into();
    payload.data = update_envelope.encode_to_vec().into();
    Envelope {
        payload: payload.encode_to_vec().into(),
        signature: original.signature,
    }
    .encode_to_vec()
    .into()
}

fn write_set(update: &mut ConfigUpdate) -> &mut ConfigGroup {
    update.write_set.as_mut().unwrap()
}

#[test]
fn templator_refusals_are_fabrics() {
    type Edit = fn(&mut ConfigUpdate);
    let cases: [(Edit, &str); 7] = [
        (
            |u| u.channel_id = "otherchannel".into(),
            "Failing initial channel config creation: mismatched channel IDs: 'otherchannel' != 'newchannel'",
        ),
        (
            |u| u.write_set = None,
            "Config update has an empty writeset",
        ),
        (
            |u| {
                write_set(u).groups.remove("Application");
            },
            "Config update has missing application group",
        ),
        (
            |u| write_set(u).groups.get_mut("Application").unwrap().version = 2,
            "Config update for channel creation does not set application group version to 1, was 2",
        ),
        (
            |u| {
                write_set(u).values.remove("Consortium");
            },
            "Consortium config value missing",
        ),
        (
            |u| {
                write_set(u).values.get_mut("Consortium").unwrap().value = Consortium {
                    name: "NoSuchConsortium".into(),
                }
                .encode_to_vec()
                .into();
            },
            "Unknown consortium name: NoSuchConsortium",
        ),
        (
            |u| {
                let application = write_set(u).groups.get_mut("Application").unwrap();
                application
                    .groups
                    .insert("OtherOrg".into(), ConfigGroup::default());
            },
            "Attempted to include a member which is not in the consortium",
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(
            new_channel_config(&system_config(), &edited_create(edit)).unwrap_err(),
            expected
        );
    }
}

#[test]
fn templator_needs_consortiums_and_members() {
    let no_members = edited_create(|u| {
        write_set(u)
            .groups
            .get_mut("Application")
            .unwrap()
            .groups
            .clear();
    });
    assert_eq!(
        new_channel_config(&system_config(), &no_members).unwrap_err(),
        "Proposed configuration has no application group members, but consortium contains members"
    );
    let mut no_consortiums = system_config();
    no_consortiums
        .channel_group
        .as_mut()
        .unwrap()
        .groups
        .remove("Consortiums");
    assert_eq!(
        new_channel_config(&no_consortiums, &update_file("newchannel.create.tx")).unwrap_err(),
        "The ordering system channel does not appear to support creating channels"
    );
}

/// The creation update is applied to the template with the template's own rules: its
/// edited ConfigUpdate no longer matches the admin's ConfigSignature, so
/// ChannelCreationPolicy is not met.
#[test]
fn creation_signature_must_cover_the_update() {
    let edited = edited_create(|u| {
        write_set(u)
            .groups
            .get_mut("Application")
            .unwrap()
            .values
            .remove("ACLs");
    });
    assert_eq!(
        new_channel_config(&system_config(), &edited).unwrap_err(),
        "error validating channel creation transaction for new channel 'newchannel', could not succesfully apply update to template configuration: error authorizing update: error validating DeltaSet: policy for [Group]  /Channel/Application not satisfied: implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Admins' sub-policies to be satisfied"
    );
}

/// A creation update whose member org's group holds `depth` nested groups, the deepest
/// with `values` values, every name `name_len` characters long.
fn deep_create(depth: usize, values: usize, name_len: usize) -> Bytes {
    let name = |tag: usize| format!("{tag:0>name_len$}");
    edited_create(|update| {
        let mut leaf = ConfigGroup::default();
        for index in 0..values {
            leaf.values.insert(name(index), ConfigValue::default());
        }
        let mut group = leaf;
        for level in 0..depth {
            let mut parent = ConfigGroup::default();
            parent.groups.insert(name(level), group);
            group = parent;
        }
        let application = write_set(update).groups.get_mut("Application").unwrap();
        let member = application.groups.get_mut("SampleOrg").unwrap();
        member.groups.insert(name(999_999), group);
    })
}

/// A small hostile update cannot make the orderer map gigabytes: nesting and the bytes
/// of the elements' paths are bounded (Fabric bounds neither).
#[test]
fn deep_or_huge_updates_are_refused_before_they_cost_memory() {
    let system = system_config();
    let deep = new_channel_config(&system, &deep_create(40, 1, 8)).unwrap_err();
    assert!(deep.contains("nest deeper than"), "{deep}");
    let started = std::time::Instant::now();
    let huge = deep_create(12, 40_000, 249);
    assert!(huge.len() < 12 << 20, "{} bytes", huge.len());
    let refused = new_channel_config(&system, &huge).unwrap_err();
    assert!(refused.contains("config is too large"), "{refused}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
