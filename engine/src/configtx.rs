//! Fabric v1.4.12's config transaction validator (`common/configtx`) and the system
//! channel's channel-creation templator (`orderer/common/msgprocessor/systemchannel.go`),
//! as pure functions: a CONFIG_UPDATE envelope and the current config in, the next
//! `ConfigEnvelope` or Fabric's refusal text out.
//!
//! - [`Validator`]: `configtx.ValidatorImpl` of one channel; [`Validator::propose_update`]
//!   is its `ProposeConfigUpdate` (read set, delta set, `mod_policy`s, result).
//! - [`new_channel_config`]: `DefaultTemplator.NewChannelConfig` followed by the
//!   template's `ProposeConfigUpdate`, what the system channel computes for a
//!   CONFIG_UPDATE naming a channel that does not exist.
//!
//! Parts: `configmap` flattens a config tree into path-keyed elements and back
//! (`configmap.go`, `compare.go`); `update` authorizes an update (`update.go`);
//! `template` builds the new channel's template (`systemchannel.go`).
//!
//! Where Go iterates a map in random order (the read set, the delta set), this module
//! goes in key order: an update that breaks several rules gets one of the answers Fabric
//! could give.

mod configmap;
mod template;
mod update;

use bytes::Bytes;
use orderer_proto::common::{
    ChannelHeader, Config, ConfigEnvelope, ConfigUpdateEnvelope, Envelope, HeaderType, Payload,
};
use prost::Message as _;

use crate::Error;
use crate::access::AccessControl;
use configmap::{ConfigMap, ROOT};

pub use template::new_channel_config;

/// Longest channel ID accepted (Fabric's `maxLength`).
const CHANNEL_ID_LENGTH_MAX: usize = configmap::ID_LENGTH_MAX;

/// Fabric's `configtx.ValidatorImpl` for one channel config
/// (`common/configtx/validator.go`).
#[derive(Debug, Clone)]
pub struct Validator {
    channel_id: String,
    sequence: u64,
    map: ConfigMap,
    config: Config,
}

impl Validator {
    /// `channel_id` and the channel's current `Config` (sequence and channel_group):
    /// Fabric's `NewValidatorImpl`, which checks the channel ID and every element name.
    pub fn new(channel_id: &str, config: &Config) -> Result<Self, Error> {
        Self::from_config(channel_id, config).map_err(Error::Config)
    }

    /// [`Self::new`] with Fabric's error text as it is.
    pub(crate) fn from_config(channel_id: &str, config: &Config) -> Result<Self, String> {
        let group = config
            .channel_group
            .as_ref()
            .ok_or_else(|| String::from("nil channel group"))?;
        validate_channel_id(channel_id).map_err(|error| format!("bad channel ID: {error}"))?;
        let map = configmap::map_config(Some(group), ROOT)
            .map_err(|error| format!("error converting config to map: {error}"))?;
        Ok(Self {
            channel_id: channel_id.to_owned(),
            sequence: config.sequence,
            map,
            config: config.clone(),
        })
    }

    /// The current config's sequence.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The channel's ID.
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// The current config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fabric's `ProposeConfigUpdate`: `update` is the CONFIG_UPDATE Envelope (it becomes
    /// `last_update`); `access` evaluates `mod_policy`s (it is the [`AccessControl`] built
    /// from this same config). Returns the `ConfigEnvelope` at sequence + 1, or the
    /// refusal worded as Fabric's (e.g. "error authorizing update: error validating
    /// ReadSet: proposed update requires that key [Group]  /Channel/Application be at
    /// version 0, but it is currently at version 1").
    pub fn propose_update(
        &self,
        update: &Bytes,
        access: &AccessControl,
    ) -> Result<ConfigEnvelope, String> {
        let envelope = Envelope::decode(update.clone()).map_err(|error| {
            format!(
                "error converting envelope to config update: error unmarshaling Envelope: {error}"
            )
        })?;
        let update_envelope = envelope_to_config_update(&envelope)
            .map_err(|error| format!("error converting envelope to config update: {error}"))?;
        let current = update::Current {
            channel_id: &self.channel_id,
            map: &self.map,
            access,
        };
        let proposed = current
            .authorize_update(&update_envelope)
            .map_err(|error| format!("error authorizing update: {error}"))?;
        let channel_group = configmap::config_map_to_config(&proposed, ROOT)
            .map_err(|error| format!("could not turn configMap back to channelGroup: {error}"))?;
        Ok(ConfigEnvelope {
            config: Some(Config {
                sequence: self.sequence.wrapping_add(1),
                channel_group: Some(channel_group),
            }),
            last_update: Some(envelope),
        })
    }
}

/// Fabric's `validateChannelID`: 1 to 249 characters, `[a-z][a-z0-9.-]*`.
fn validate_channel_id(channel_id: &str) -> Result<(), String> {
    if channel_id.is_empty() {
        return Err("channel ID illegal, cannot be empty".into());
    }
    if channel_id.len() > CHANNEL_ID_LENGTH_MAX {
        return Err(format!(
            "channel ID illegal, cannot be longer than {CHANNEL_ID_LENGTH_MAX}"
        ));
    }
    let mut bytes = channel_id.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !(first_ok && rest_ok) {
        return Err(format!(
            "channel ID '{channel_id}' contains illegal characters"
        ));
    }
    Ok(())
}

/// Fabric's `utils.EnvelopeToConfigUpdate` (`UnmarshalEnvelopeOfType` with CONFIG_UPDATE).
fn envelope_to_config_update(envelope: &Envelope) -> Result<ConfigUpdateEnvelope, String> {
    let payload = Payload::decode(envelope.payload.clone())
        .map_err(|error| format!("error unmarshaling Payload: {error}"))?;
    let header = payload
        .header
        .ok_or_else(|| String::from("envelope must have a Header"))?;
    let channel_header = ChannelHeader::decode(header.channel_header)
        .map_err(|error| format!("error unmarshaling ChannelHeader: {error}"))?;
    if channel_header.r#type != HeaderType::ConfigUpdate as i32 {
        let name = HeaderType::try_from(channel_header.r#type).map_or_else(
            |_| channel_header.r#type.to_string(),
            |known| known.as_str_name().to_owned(),
        );
        return Err(format!("invalid type {name}, expected CONFIG_UPDATE"));
    }
    ConfigUpdateEnvelope::decode(payload.data)
        .map_err(|error| format!("error unmarshaling message for type CONFIG_UPDATE: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_are_checked_as_fabric_does() {
        assert!(validate_channel_id("newchannel").is_ok());
        assert!(validate_channel_id("a.b-c9").is_ok());
        assert!(validate_channel_id(&"a".repeat(249)).is_ok());
        assert_eq!(
            validate_channel_id(&"a".repeat(250)).unwrap_err(),
            "channel ID illegal, cannot be longer than 249"
        );
        assert_eq!(
            validate_channel_id("").unwrap_err(),
            "channel ID illegal, cannot be empty"
        );
        for bad in ["9abc", "Abc", "abC", "a_b", "-a"] {
            assert_eq!(
                validate_channel_id(bad).unwrap_err(),
                format!("channel ID '{bad}' contains illegal characters")
            );
        }
    }
}
