//! The parts of a channel's configuration the ordering engine runs on, read from a
//! config block (the genesis block first). The block's bytes are never re-encoded.
//!
//! [`ChannelTree`] is the whole configuration, typed: every group, value and policy, read
//! as Fabric's `common/channelconfig` reads it. [`ChannelConfig`] is what the chain needs
//! to run, with the tree it was read from.

mod application;
mod block;
mod consortiums;
mod entry;
mod orderer;
mod org;
mod policies;
mod transition;
mod tree;

pub use application::ApplicationConfig;
pub use block::ConfigBlock;
pub use consortiums::{ConsortiumConfig, ConsortiumsConfig};
pub use entry::{Capabilities, Entry, Meta};
pub use orderer::{ConsensusSpec, ConsensusState, OrdererConfig};
pub use org::{MSP_TYPE_FABRIC, MSP_TYPE_IDEMIX, MspDefinition, OrgConfig, OrgKind};
pub use policies::{Policies, PolicyDefinition};
pub use transition::{Unsupported, check_capabilities, validate_new};
pub use tree::ChannelTree;

use std::sync::Arc;
use std::time::Duration;

use orderer_proto::common::Config;

use crate::access::AccessControl;
use crate::cutter::BatchSize;
use crate::error::Error;

/// How a channel's envelopes are ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consensus {
    /// In-process ordering on one node.
    Solo,
    /// Fabric's Kafka consenter: every node produces to the channel's one-partition topic
    /// and cuts blocks from it.
    Kafka {
        /// `Orderer/KafkaBrokers`: bootstrap addresses (the node's `Kafka.Brokers`
        /// setting, when given, replaces them).
        brokers: Vec<String>,
    },
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
    /// The whole configuration, typed.
    pub tree: Arc<ChannelTree>,
    /// The configuration as it was ordered: what config updates are validated against.
    pub proto: Arc<Config>,
}

impl ChannelConfig {
    /// The Orderer capabilities that include Fabric's ExpirationCheck (and Kafka's
    /// Resubmission): `V1_1`, `V1_4_2` or `V2_0`.
    pub fn expiration_check(&self) -> bool {
        self.tree
            .orderer
            .as_ref()
            .and_then(|orderer| orderer.capabilities.as_ref())
            .is_some_and(|capabilities| {
                ["V1_1", "V1_4_2", "V2_0"]
                    .iter()
                    .any(|name| capabilities.value.contains(*name))
            })
    }

    /// Reads the configuration carried by a config block (for example a genesis block).
    pub fn from_block(block_bytes: &[u8]) -> Result<Self, Error> {
        let ConfigBlock {
            channel_header,
            config,
        } = ConfigBlock::decode(block_bytes)?;
        Self::from_config(&channel_header.channel_id, config)
    }

    /// Reads `config` as the configuration of `channel_id`, with the checks Fabric's
    /// bundle makes on it (an Orderer group, batch size and timeout limits, a consensus
    /// type this orderer runs).
    pub fn from_config(channel_id: &str, config: Config) -> Result<Self, Error> {
        let root = config.channel_group.clone().unwrap_or_default();
        let tree = ChannelTree::from_group(config.sequence, &root)?;
        let orderer = tree
            .orderer
            .as_ref()
            .ok_or_else(|| Error::Config("channel config has no Orderer group".into()))?;
        Ok(Self {
            channel_id: channel_id.to_string(),
            sequence: config.sequence,
            batch_size: batch_size(orderer)?,
            batch_timeout: batch_timeout(orderer)?,
            consensus: consensus(orderer)?,
            access: Arc::new(AccessControl::from_config(&root).map_err(Error::Config)?),
            tree: Arc::new(tree),
            proto: Arc::new(config),
        })
    }

    /// Whether this is a system channel: one with a Consortiums group, which creates
    /// channels (Fabric 1.x and 2.x before channel participation).
    pub fn is_system_channel(&self) -> bool {
        self.tree.consortiums.is_some()
    }
}

fn missing(key: &str) -> Error {
    Error::Config(format!("Orderer group has no {key} value"))
}

/// The batch size, checked as Fabric's `validateBatchSize` does.
fn batch_size(orderer: &OrdererConfig) -> Result<BatchSize, Error> {
    let value = orderer
        .batch_size
        .as_ref()
        .ok_or_else(|| missing("BatchSize"))?
        .value;
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
    Ok(value)
}

fn batch_timeout(orderer: &OrdererConfig) -> Result<Duration, Error> {
    let timeout = orderer
        .batch_timeout
        .as_ref()
        .ok_or_else(|| missing("BatchTimeout"))?
        .value;
    if timeout.is_zero() {
        return Err(Error::Config("BatchTimeout must be above 0".into()));
    }
    Ok(timeout)
}

fn consensus(orderer: &OrdererConfig) -> Result<Consensus, Error> {
    let spec = &orderer
        .consensus_type
        .as_ref()
        .ok_or_else(|| missing("ConsensusType"))?
        .value;
    match spec.kind.as_str() {
        "solo" => Ok(Consensus::Solo),
        "kafka" => {
            let brokers = orderer
                .kafka_brokers
                .as_ref()
                .map(|entry| entry.value.clone())
                .unwrap_or_default();
            Ok(Consensus::Kafka { brokers })
        }
        other => Err(Error::Config(format!(
            "ConsensusType {other:?} is not supported by this orderer yet (supported: solo, kafka)"
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
