//! What Broadcast makes of a CONFIG_UPDATE, as Fabric v1.4.12's message processors do
//! (orderer/common/msgprocessor/standardchannel.go and systemchannel.go): an update to an
//! existing channel becomes a CONFIG envelope the orderer signs; an update naming a
//! channel that does not exist, sent to a system channel, becomes that channel's genesis
//! config wrapped in an ORDERER_TRANSACTION. Either is then ordered alone in a block
//! ([`ConfigMessage`]). The validation itself is [`crate::configtx`]'s.

use std::sync::Arc;

use bytes::Bytes;
use orderer_proto::common::{
    ChannelHeader, ConfigEnvelope, Envelope, Header, HeaderType, Payload, SignatureHeader,
};
use prost::Message as _;

use crate::admission::{self, Rules};
use crate::block;
use crate::config::ChannelConfig;
use crate::configtx;
use crate::envelope::{self, Inspected};
use crate::msp::local::LocalSigner;
use crate::rejection::Rejection;

/// A config change ready to be ordered: its envelope goes alone into a block.
#[derive(Debug, Clone)]
pub struct ConfigMessage {
    /// The CONFIG envelope (an update), or the ORDERER_TRANSACTION envelope wrapping the
    /// new channel's CONFIG envelope (a creation), signed by this orderer.
    pub envelope: Bytes,
    /// The config sequence of the channel it was validated on: a chain whose config
    /// moved on since validates it again before ordering it (Fabric's `ProcessConfigMsg`).
    pub config_seq: u64,
    /// What writing its block does.
    pub change: Change,
}

/// What a config block does once written.
#[derive(Debug, Clone)]
pub enum Change {
    /// The channel runs on this configuration from the block on.
    Update(Arc<ChannelConfig>),
    /// A channel is created (on the system channel): its block 0.
    NewChannel {
        /// The new channel.
        channel_id: String,
        /// Its genesis block, as Fabric's registrar writes it.
        genesis: Bytes,
    },
}

impl ConfigMessage {
    /// A config message read back from a Kafka partition, ordered on `channel_id`
    /// under config sequence `config_seq`: what it does, decoded from its envelope.
    pub fn from_envelope(
        channel_id: &str,
        envelope: Bytes,
        config_seq: u64,
    ) -> Result<Self, String> {
        let (header, data) = payload_of(&envelope)?;
        let change = match HeaderType::try_from(header.r#type) {
            Ok(HeaderType::Config) => {
                let proposed = ConfigEnvelope::decode(data)
                    .map_err(|e| format!("CONFIG envelope holds no ConfigEnvelope: {e}"))?;
                Change::Update(Arc::new(new_config(channel_id, &proposed)?))
            }
            Ok(HeaderType::OrdererTransaction) => {
                let (inner, _) = payload_of(&data)?;
                if inner.r#type != HeaderType::Config as i32 {
                    return Err("ORDERER_TRANSACTION does not wrap a CONFIG envelope".into());
                }
                Change::NewChannel {
                    channel_id: inner.channel_id,
                    genesis: block::genesis(data),
                }
            }
            _ => {
                return Err(format!(
                    "header type {} is not a config message",
                    header.r#type
                ));
            }
        };
        Ok(Self {
            envelope,
            config_seq,
            change,
        })
    }
}

/// The node's part in processing a config update: its signing identity and admission
/// settings, and the time expiry is judged by.
#[derive(Debug, Clone, Copy)]
pub struct Orderer<'a> {
    /// Signs the CONFIG and ORDERER_TRANSACTION envelopes it makes.
    pub signer: Option<&'a LocalSigner>,
    /// `General.Authentication.NoExpirationChecks`, as rules.
    pub rules: Rules,
    /// Seconds since the Unix epoch.
    pub now_unix: i64,
}

/// Fabric's `StandardChannel.ProcessConfigUpdateMsg`: the update's envelope passes the
/// channel's filters (size, expiry, Writers), the update is validated against the
/// current config (`ProposeConfigUpdate`, then the new config must read as a bundle and
/// keep its consensus type), and the result is a CONFIG envelope signed by this orderer
/// that passes the filters again.
pub fn process_update(
    current: &ChannelConfig,
    update: Inspected,
    orderer: Orderer<'_>,
) -> Result<ConfigMessage, Rejection> {
    let channel_id = &current.channel_id;
    let initial = |rejection: Rejection| Rejection {
        info: format!(
            "config update for existing channel did not pass initial checks: {}",
            rejection.info
        ),
        ..rejection
    };
    admission::admit(current, update.clone(), orderer.rules, orderer.now_unix).map_err(initial)?;
    let applying = |why: String| {
        Rejection::bad_request(format!(
            "error applying config update to existing channel '{channel_id}': {why}"
        ))
    };
    let validator = configtx::Validator::new(channel_id, &current.proto)
        .map_err(|e| applying(e.to_string()))?;
    let proposed = validator
        .propose_update(&update.message.envelope, &current.access)
        .map_err(applying)?;
    let config = new_config(channel_id, &proposed).map_err(applying)?;
    // ChainSupport.ProposeConfigUpdate's wording, around checkResources' own.
    crate::config::check_capabilities(&config.tree).map_err(|unsupported| {
        applying(format!(
            "config update is not compatible: config requires unsupported {} capabilities: {}: {}",
            unsupported.level, unsupported.message, unsupported.message
        ))
    })?;
    crate::config::validate_new(&current.tree, &config.tree).map_err(applying)?;
    let envelope = signed_envelope(
        HeaderType::Config,
        channel_id,
        orderer.signer,
        &proposed.encode_to_vec(),
    )?;
    let message = ConfigMessage {
        envelope,
        config_seq: current.sequence,
        change: Change::Update(Arc::new(config)),
    };
    final_checks(current, &message, orderer).map_err(|rejection| Rejection {
        info: format!(
            "config update for existing channel did not pass final checks: {}",
            rejection.info
        ),
        ..rejection
    })?;
    Ok(message)
}

/// Fabric's `SystemChannel.ProcessConfigUpdateMsg` for a channel that does not exist:
/// the new channel's config from the system channel's template and the update
/// ([`configtx::new_channel_config`]; the update's own envelope signature is not
/// checked, as in Fabric), its CONFIG envelope, wrapped in an ORDERER_TRANSACTION for
/// the system channel, which passes the system channel's filters.
pub fn process_creation(
    system: &ChannelConfig,
    update: Inspected,
    orderer: Orderer<'_>,
    channels: usize,
) -> Result<ConfigMessage, Rejection> {
    let channel_id = update.channel_id.clone();
    // Fabric's SystemChainFilter: `ChannelRestrictions.max_count`, 0 for no limit.
    let max_count = system
        .tree
        .orderer
        .as_ref()
        .and_then(|orderer| orderer.channel_restrictions.as_ref())
        .map_or(0, |entry| entry.value);
    if max_count > 0 && u64::try_from(channels).unwrap_or(u64::MAX) > max_count {
        return Err(Rejection::bad_request(format!(
            "channel creation would exceed maximimum number of channels: {max_count}"
        )));
    }
    // The name is checked by the templator, in Fabric's words; the registrar checks it
    // again before it makes a directory of it.
    let proposed = configtx::new_channel_config(&system.proto, &update.message.envelope)
        .map_err(Rejection::bad_request)?;
    // As the system channel's filter words it (authorizeAndInspect).
    let config = new_config(&channel_id, &proposed)
        .map_err(|why| Rejection::bad_request(format!("config does not validly parse: {why}")))?;
    crate::config::check_capabilities(&config.tree).map_err(|unsupported| {
        Rejection::bad_request(format!(
            "config update is not compatible: {}",
            unsupported.message
        ))
    })?;
    let inner = signed_envelope(
        HeaderType::Config,
        &channel_id,
        orderer.signer,
        &proposed.encode_to_vec(),
    )?;
    let genesis = block::genesis(inner.clone());
    let envelope = signed_envelope(
        HeaderType::OrdererTransaction,
        &system.channel_id,
        orderer.signer,
        &inner,
    )?;
    let message = ConfigMessage {
        envelope,
        config_seq: system.sequence,
        change: Change::NewChannel {
            channel_id,
            genesis,
        },
    };
    final_checks(system, &message, orderer)?;
    Ok(message)
}

/// Fabric's `ProcessConfigMsg`: a config message validated under an older config is
/// processed again from the update it carries (`last_update`), against `current`.
pub fn reprocess(
    current: &ChannelConfig,
    envelope: &Bytes,
    orderer: Orderer<'_>,
    channels: usize,
) -> Result<ConfigMessage, Rejection> {
    let bad = |why: String| Rejection::bad_request(why);
    let (header, data) = payload_of(envelope).map_err(bad)?;
    let header_type = header.r#type;
    let config_envelope = match HeaderType::try_from(header_type) {
        Ok(HeaderType::Config) => data,
        Ok(HeaderType::OrdererTransaction) => payload_of(&data).map_err(bad)?.1,
        _ => {
            return Err(bad(format!(
                "header type {header_type} is not a config message"
            )));
        }
    };
    let config_envelope = ConfigEnvelope::decode(config_envelope)
        .map_err(|e| bad(format!("config message holds no ConfigEnvelope: {e}")))?;
    let update = envelope::inspect(
        config_envelope
            .last_update
            .unwrap_or_default()
            .encode_to_vec()
            .into(),
    )?;
    if header_type == HeaderType::Config as i32 {
        process_update(current, update, orderer)
    } else {
        // The system channel's filters count the channels again (SystemChainFilter).
        process_creation(current, update, orderer, channels)
    }
}

/// The proposed config read as the channel's new configuration.
fn new_config(channel_id: &str, proposed: &ConfigEnvelope) -> Result<ChannelConfig, String> {
    let config = proposed
        .config
        .clone()
        .ok_or_else(|| "the proposed ConfigEnvelope has no config".to_string())?;
    ChannelConfig::from_config(channel_id, config).map_err(|error| error.to_string())
}

/// The filters applied again to what the orderer made (size, and Writers on its own
/// signature: the orderer must be a writer of the channel).
fn final_checks(
    channel: &ChannelConfig,
    message: &ConfigMessage,
    orderer: Orderer<'_>,
) -> Result<(), Rejection> {
    let inspected = envelope::inspect_own(message.envelope.clone())?;
    admission::admit(channel, inspected, orderer.rules, orderer.now_unix).map(|_| ())
}

/// The channel header and data of an envelope's payload.
fn payload_of(raw: &Bytes) -> Result<(ChannelHeader, Bytes), String> {
    let envelope = Envelope::decode(raw.clone()).map_err(|e| e.to_string())?;
    let payload = Payload::decode(envelope.payload).map_err(|e| e.to_string())?;
    let channel_header = ChannelHeader::decode(payload.header.unwrap_or_default().channel_header)
        .map_err(|e| e.to_string())?;
    Ok((channel_header, payload.data))
}

/// Fabric's `CreateSignedEnvelope(type, channel, signer, data, 0, 0)`: a channel header
/// with version and epoch 0, no tx id and the time in whole seconds, and the signer's
/// signature header; the payload signed by the signer. Without a signer the orderer
/// cannot make config envelopes (BAD_REQUEST).
pub fn signed_envelope(
    header_type: HeaderType,
    channel_id: &str,
    signer: Option<&LocalSigner>,
    data: &[u8],
) -> Result<Bytes, Rejection> {
    let signer = signer.ok_or_else(|| {
        Rejection::bad_request(
            "this orderer has no signing identity (General.LocalMSPDir), so it cannot order config changes",
        )
    })?;
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    let channel_header = ChannelHeader {
        r#type: header_type as i32,
        version: 0,
        timestamp: Some(prost_types::Timestamp { seconds, nanos: 0 }),
        channel_id: channel_id.to_string(),
        tx_id: String::new(),
        epoch: 0,
        ..ChannelHeader::default()
    };
    let signature_header = SignatureHeader {
        creator: signer.creator().clone(),
        nonce: Bytes::copy_from_slice(&signer.nonce()),
    };
    let payload = Payload {
        header: Some(Header {
            channel_header: channel_header.encode_to_vec().into(),
            signature_header: signature_header.encode_to_vec().into(),
        }),
        data: Bytes::copy_from_slice(data),
    }
    .encode_to_vec();
    let signature = signer.sign(&payload).map_err(|error| {
        Rejection::bad_request(format!("cannot sign the config envelope: {error}"))
    })?;
    Ok(Envelope {
        payload: payload.into(),
        signature: signature.into(),
    }
    .encode_to_vec()
    .into())
}
