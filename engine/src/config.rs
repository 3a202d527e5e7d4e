//! The parts of a channel's configuration the ordering engine runs on, read from a
//! config block (the genesis block first). The block's bytes are never re-encoded.

use std::sync::Arc;
use std::time::Duration;

use orderer_proto::common::{
    Block, ChannelHeader, ConfigEnvelope, ConfigGroup, Envelope, HeaderType, Payload,
};
use orderer_proto::orderer::{BatchSize as BatchSizeValue, BatchTimeout, ConsensusType};
use prost::Message;

use crate::access::AccessControl;
use crate::cutter::BatchSize;
use crate::error::Error;

/// How a channel's envelopes are ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consensus {
    /// In-process ordering on one node.
    Solo,
}

/// A channel's ordering parameters and access control.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    /// The channel's name.
    pub channel_id: String,
    /// `Config.sequence` of the block this was read from.
    pub sequence: u64,
    /// `Orderer/BatchSize`.
    pub batch_size: BatchSize,
    /// `Orderer/BatchTimeout`.
    pub batch_timeout: Duration,
    /// `Orderer/ConsensusType`.
    pub consensus: Consensus,
    /// The orgs' MSPs and the channel's policies.
    pub access: Arc<AccessControl>,
}

impl ChannelConfig {
    /// Reads the configuration carried by a config block (for example a genesis block).
    pub fn from_block(block_bytes: &[u8]) -> Result<Self, Error> {
        let block = decode::<Block>(block_bytes, "config block")?;
        let envelope = block
            .data
            .and_then(|data| data.data.into_iter().next())
            .ok_or_else(|| Error::Config("config block holds no envelope".into()))?;
        let envelope = decode::<Envelope>(&envelope, "config envelope")?;
        let payload = decode::<Payload>(&envelope.payload, "config payload")?;
        let header = payload
            .header
            .ok_or_else(|| Error::Config("config payload has no header".into()))?;
        let channel_header = decode::<ChannelHeader>(&header.channel_header, "channel header")?;
        if channel_header.r#type != HeaderType::Config as i32 {
            return Err(Error::Config(format!(
                "block's envelope has header type {}, not CONFIG",
                channel_header.r#type
            )));
        }
        let config_envelope = decode::<ConfigEnvelope>(&payload.data, "ConfigEnvelope")?;
        let config = config_envelope
            .config
            .ok_or_else(|| Error::Config("ConfigEnvelope has no config".into()))?;
        let root = config.channel_group.unwrap_or_default();
        let orderer = root
            .groups
            .get("Orderer")
            .ok_or_else(|| Error::Config("channel config has no Orderer group".into()))?;
        Ok(Self {
            channel_id: channel_header.channel_id,
            sequence: config.sequence,
            batch_size: batch_size(orderer)?,
            batch_timeout: batch_timeout(orderer)?,
            consensus: consensus(orderer)?,
            access: Arc::new(AccessControl::from_config(&root).map_err(Error::Config)?),
        })
    }
}

fn decode<M: Message + Default>(bytes: &[u8], what: &'static str) -> Result<M, Error> {
    M::decode(bytes).map_err(|source| Error::Decode { what, source })
}

fn value<'g>(group: &'g ConfigGroup, key: &str) -> Result<&'g [u8], Error> {
    group
        .values
        .get(key)
        .map(|value| &value.value[..])
        .ok_or_else(|| Error::Config(format!("Orderer group has no {key} value")))
}

fn batch_size(orderer: &ConfigGroup) -> Result<BatchSize, Error> {
    let value = decode::<BatchSizeValue>(value(orderer, "BatchSize")?, "BatchSize")?;
    if value.max_message_count == 0 {
        return Err(Error::Config(
            "BatchSize.MaxMessageCount must be above 0".into(),
        ));
    }
    if value.absolute_max_bytes == 0 {
        return Err(Error::Config(
            "BatchSize.AbsoluteMaxBytes must be above 0".into(),
        ));
    }
    if value.preferred_max_bytes > value.absolute_max_bytes {
        return Err(Error::Config(format!(
            "BatchSize.PreferredMaxBytes ({}) is above AbsoluteMaxBytes ({})",
            value.preferred_max_bytes, value.absolute_max_bytes
        )));
    }
    Ok(BatchSize {
        max_message_count: value.max_message_count,
        absolute_max_bytes: value.absolute_max_bytes,
        preferred_max_bytes: value.preferred_max_bytes,
    })
}

fn batch_timeout(orderer: &ConfigGroup) -> Result<Duration, Error> {
    let value = decode::<BatchTimeout>(value(orderer, "BatchTimeout")?, "BatchTimeout")?;
    let timeout: GoDuration = value.timeout.parse()?;
    if timeout.0.is_zero() {
        return Err(Error::Config("BatchTimeout must be above 0".into()));
    }
    Ok(timeout.0)
}

fn consensus(orderer: &ConfigGroup) -> Result<Consensus, Error> {
    let value = decode::<ConsensusType>(value(orderer, "ConsensusType")?, "ConsensusType")?;
    match value.r#type.as_str() {
        "solo" => Ok(Consensus::Solo),
        other => Err(Error::Config(format!(
            "ConsensusType {other:?} is not supported by this orderer yet (supported: solo)"
        ))),
    }
}

/// A duration written as Go's `time.ParseDuration` reads it: "2s", "500ms", "1m30s",
/// "1.5h"; units ns, us (µs), ms, s, m, h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

impl std::str::FromStr for GoDuration {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::Config(format!("invalid duration {text:?}"));
        if text == "0" {
            return Ok(Self(Duration::ZERO));
        }
        let mut rest = text;
        let mut total_ns = 0f64;
        if rest.is_empty() {
            return Err(invalid());
        }
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(invalid)?;
            let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
            rest = &rest[number_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit_ns = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(invalid()),
            };
            total_ns += number * unit_ns;
            rest = &rest[unit_len..];
        }
        Ok(Self(Duration::from_nanos(total_ns.round() as u64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        let parse = |s: &str| s.parse::<GoDuration>().map(|d| d.0);
        assert_eq!(parse("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("250us").unwrap(), Duration::from_micros(250));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        for bad in ["", "2", "s", "2x", "1..2s"] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
