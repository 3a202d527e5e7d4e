//! The config a new channel starts from, and the creation update applied to it: Fabric
//! v1.4.12's `DefaultTemplator.NewChannelConfig` and `SystemChannel.ProcessConfigUpdateMsg`
//! (`orderer/common/msgprocessor/systemchannel.go`), with the parts of
//! `channelconfig.NewBundle` (`common/channelconfig/bundle.go`) that can refuse a template.
//!
//! The template is the system channel's root values and policies, a copy of its Orderer
//! group, the `Consortium` value, and an Application group holding the requested members
//! of the consortium and one policy, `ChannelCreationPolicy` (the consortium's), which is
//! also the group's `mod_policy`. The creation update must raise that group to version 1,
//! so the consortium's policy decides who may create channels. With the V1_1 or V1_4_2
//! orderer capability (`PredictableChannelTemplate`) the root's `mod_policy` is the
//! system channel's and every version in the template is 0.

use bytes::Bytes;
use orderer_proto::common::{
    Capabilities, ChannelHeader, Config, ConfigEnvelope, ConfigGroup, ConfigPolicy, ConfigUpdate,
    ConfigUpdateEnvelope, ConfigValue, Consortium, Envelope, Payload, Policy,
};
use prost::Message as _;

use super::Validator;
use crate::access::AccessControl;

const APPLICATION: &str = "Application";
const ORDERER: &str = "Orderer";
const CONSORTIUMS: &str = "Consortiums";
const CONSORTIUM: &str = "Consortium";
const CAPABILITIES: &str = "Capabilities";
const CHANNEL_CREATION_POLICY: &str = "ChannelCreationPolicy";
const ADMINS: &str = "Admins";
/// Orderer capabilities that turn on `PredictableChannelTemplate`
/// (`common/capabilities/orderer.go`).
const PREDICTABLE_TEMPLATE_CAPABILITIES: [&str; 2] = ["V1_1", "V1_4_2"];

/// What the templator reads from a channel-creation CONFIG_UPDATE.
#[derive(Debug)]
struct Request {
    /// The new channel's ID (channel header and config update agree on it).
    channel_id: String,
    /// The consortium named by the write set's `Consortium` value.
    consortium: String,
    /// The organisations of the write set's Application group.
    members: Vec<String>,
}

/// Fabric's `DefaultTemplator.NewChannelConfig` + the template's `ProposeConfigUpdate`,
/// i.e. what `SystemChannel.ProcessConfigUpdateMsg` computes for a channel that does not
/// exist: `system` is the system channel's current `Config`, `update` the CONFIG_UPDATE
/// envelope bytes. Returns the new channel's `ConfigEnvelope` (sequence 1, `last_update`
/// the envelope) or Fabric's text, wrapped as Fabric wraps it ("error validating channel
/// creation transaction for new channel 'X', could not succesfully apply update to
/// template configuration: error authorizing update: ...").
///
/// As in Fabric, the outer envelope's signature is not checked here: only the
/// `ConfigSignature`s count, against the template's `ChannelCreationPolicy`.
pub fn new_channel_config(system: &Config, update: &Bytes) -> Result<ConfigEnvelope, String> {
    let request = decode_request(update)?;
    let system_group = system
        .channel_group
        .as_ref()
        .ok_or_else(|| String::from("the system channel config has no channel group"))?;
    let channel_group = channel_template(system_group, &request)?;
    let access = new_bundle(&channel_group)?;
    let template = Config {
        sequence: 0,
        channel_group: Some(channel_group),
    };
    let validator = Validator::from_config(&request.channel_id, &template)
        .map_err(|error| format!("initializing configtx manager failed: {error}"))?;
    validator.propose_update(update, &access).map_err(|error| {
        format!(
            "error validating channel creation transaction for new channel '{}', could not succesfully apply update to template configuration: {error}",
            request.channel_id
        )
    })
}

/// The checks of `NewChannelConfig` on the update itself, in Fabric's order and words.
fn decode_request(update: &Bytes) -> Result<Request, String> {
    let envelope = Envelope::decode(update.clone()).map_err(|error| {
        format!("Failing initial channel config creation because of envelope unmarshaling error: {error}")
    })?;
    let payload = Payload::decode(envelope.payload).map_err(|error| {
        format!("Failing initial channel config creation because of payload unmarshaling error: error unmarshaling Payload: {error}")
    })?;
    let update_envelope = ConfigUpdateEnvelope::decode(payload.data).map_err(|error| {
        format!("Failing initial channel config creation because of config update envelope unmarshaling error: {error}")
    })?;
    let header = payload.header.ok_or_else(|| {
        String::from(
            "Failed initial channel config creation because config update header was missing",
        )
    })?;
    let channel_header = ChannelHeader::decode(header.channel_header).map_err(|error| {
        format!("Failed initial channel config creation because channel header was malformed: error unmarshaling ChannelHeader: {error}")
    })?;
    let config_update = ConfigUpdate::decode(update_envelope.config_update).map_err(|error| {
        format!("Failing initial channel config creation because of config update unmarshaling error: {error}")
    })?;
    if config_update.channel_id != channel_header.channel_id {
        return Err(format!(
            "Failing initial channel config creation: mismatched channel IDs: '{}' != '{}'",
            config_update.channel_id, channel_header.channel_id
        ));
    }
    let write_set = config_update
        .write_set
        .ok_or_else(|| String::from("Config update has an empty writeset"))?;
    let application = write_set
        .groups
        .get(APPLICATION)
        .ok_or_else(|| String::from("Config update has missing application group"))?;
    if application.version != 1 {
        return Err(format!(
            "Config update for channel creation does not set application group version to 1, was {}",
            application.version
        ));
    }
    let consortium = write_set
        .values
        .get(CONSORTIUM)
        .ok_or_else(|| String::from("Consortium config value missing"))?;
    let consortium = Consortium::decode(consortium.value.clone())
        .map_err(|error| format!("Error reading unmarshaling consortium name: {error}"))?;
    let mut members: Vec<String> = application.groups.keys().cloned().collect();
    members.sort();
    Ok(Request {
        channel_id: channel_header.channel_id,
        consortium: consortium.name,
        members,
    })
}

/// The template channel group (`NewChannelConfig` after the update's own checks).
fn channel_template(system: &ConfigGroup, request: &Request) -> Result<ConfigGroup, String> {
    let application = application_template(system, request)?;
    let orderer = system
        .groups
        .get(ORDERER)
        .ok_or_else(|| String::from("the system channel config has no Orderer group"))?;
    let mut channel = ConfigGroup {
        values: system.values.clone(),
        policies: system.policies.clone(),
        ..ConfigGroup::default()
    };
    channel.groups.insert(ORDERER.into(), orderer.clone());
    channel.groups.insert(APPLICATION.into(), application);
    channel.values.insert(
        CONSORTIUM.into(),
        ConfigValue {
            version: 0,
            value: Consortium {
                name: request.consortium.clone(),
            }
            .encode_to_vec()
            .into(),
            mod_policy: ADMINS.into(),
        },
    );
    if predictable_channel_template(orderer) {
        channel.mod_policy = system.mod_policy.clone();
        zero_versions(&mut channel);
    }
    Ok(channel)
}

/// The template's Application group: `ChannelCreationPolicy` and the requested members,
/// each a copy of the consortium's org (when the consortium has members, the request must
/// name at least one, and only members).
fn application_template(system: &ConfigGroup, request: &Request) -> Result<ConfigGroup, String> {
    let consortiums = system.groups.get(CONSORTIUMS).ok_or_else(|| {
        String::from("The ordering system channel does not appear to support creating channels")
    })?;
    let consortium = consortiums
        .groups
        .get(&request.consortium)
        .ok_or_else(|| format!("Unknown consortium name: {}", request.consortium))?;
    let mut application = ConfigGroup {
        mod_policy: CHANNEL_CREATION_POLICY.into(),
        ..ConfigGroup::default()
    };
    application.policies.insert(
        CHANNEL_CREATION_POLICY.into(),
        ConfigPolicy {
            policy: channel_creation_policy(consortium)?,
            ..ConfigPolicy::default()
        },
    );
    if !consortium.groups.is_empty() {
        if request.members.is_empty() {
            return Err("Proposed configuration has no application group members, but consortium contains members".into());
        }
        for member in &request.members {
            let org = consortium.groups.get(member).ok_or_else(|| {
                String::from("Attempted to include a member which is not in the consortium")
            })?;
            application.groups.insert(member.clone(), org.clone());
        }
    }
    Ok(application)
}

/// The consortium's `ChannelCreationPolicy` value (`channelconfig.ConsortiumConfig`).
fn channel_creation_policy(consortium: &ConfigGroup) -> Result<Option<Policy>, String> {
    consortium
        .values
        .get(CHANNEL_CREATION_POLICY)
        .map(|value| {
            Policy::decode(value.value.clone()).map_err(|error| {
                format!("the consortium's ChannelCreationPolicy is not a Policy: {error}")
            })
        })
        .transpose()
}

/// Whether the system channel's orderer capabilities include V1_1 or V1_4_2.
fn predictable_channel_template(orderer: &ConfigGroup) -> bool {
    orderer
        .values
        .get(CAPABILITIES)
        .and_then(|value| Capabilities::decode(value.value.clone()).ok())
        .is_some_and(|capabilities| {
            PREDICTABLE_TEMPLATE_CAPABILITIES
                .iter()
                .any(|name| capabilities.capabilities.contains_key(*name))
        })
}

/// Fabric's `zeroVersions`: every version in the tree set to 0.
fn zero_versions(group: &mut ConfigGroup) {
    group.version = 0;
    for value in group.values.values_mut() {
        value.version = 0;
    }
    for policy in group.policies.values_mut() {
        policy.version = 0;
    }
    for child in group.groups.values_mut() {
        zero_versions(child);
    }
}

/// The parts of `channelconfig.NewBundle` that can refuse a template: `preValidate`
/// (capabilities need the orderer's first), then the MSPs and policies (Fabric's
/// `NewChannelConfig` and `NewManagerImpl`, whose checks this orderer's own MSP and policy
/// readers stand in for). Returns the template's access control, which evaluates the
/// update's signatures.
fn new_bundle(group: &ConfigGroup) -> Result<AccessControl, String> {
    if let Some(orderer) = group.groups.get(ORDERER)
        && !orderer.values.contains_key(CAPABILITIES)
    {
        if group.values.contains_key(CAPABILITIES) {
            return Err("cannot enable channel capabilities without orderer support first".into());
        }
        if group
            .groups
            .get(APPLICATION)
            .is_some_and(|application| application.values.contains_key(CAPABILITIES))
        {
            return Err(
                "cannot enable application capabilities without orderer support first".into(),
            );
        }
    }
    let nil_creation_policy = group
        .groups
        .get(APPLICATION)
        .and_then(|application| application.policies.get(CHANNEL_CREATION_POLICY))
        .is_some_and(|policy| policy.policy.is_none());
    if nil_creation_policy {
        return Err(format!(
            "initializing policymanager failed: policy {CHANNEL_CREATION_POLICY} at path Channel/{APPLICATION} was nil"
        ));
    }
    AccessControl::from_config(group)
        .map_err(|error| format!("initializing channelconfig failed: {error}"))
}
