//! Genesis blocks made in code, for runs that bring no `configtxgen` block (the
//! benchmark's embedded default). Bytes we make ourselves may be encoded freely.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use orderer_proto::common::{
    Block, BlockData, BlockHeader, BlockMetadata, ChannelHeader, Config, ConfigEnvelope,
    ConfigGroup, ConfigValue, Envelope, Header, HeaderType, Payload,
};
use orderer_proto::orderer::{BatchSize as BatchSizeValue, BatchTimeout, ConsensusType};
use prost::Message;

use crate::block::METADATA_SLOTS;
use crate::cutter::BatchSize;
use crate::hash;

/// What a made genesis block configures.
#[derive(Debug, Clone)]
pub struct GenesisSpec {
    /// The channel.
    pub channel_id: String,
    /// `ConsensusType.type`, e.g. `solo`.
    pub consensus: String,
    /// `BatchSize`.
    pub batch_size: BatchSize,
    /// `BatchTimeout`.
    pub batch_timeout: Duration,
}

impl GenesisSpec {
    /// The Orderer group: ConsensusType, BatchSize, BatchTimeout.
    fn orderer_group(&self) -> ConfigGroup {
        let value = |message: Vec<u8>| ConfigValue {
            version: 0,
            value: message.into(),
            mod_policy: "Admins".into(),
        };
        let batch_size = BatchSizeValue {
            max_message_count: self.batch_size.max_message_count,
            absolute_max_bytes: self.batch_size.absolute_max_bytes,
            preferred_max_bytes: self.batch_size.preferred_max_bytes,
        };
        let timeout = BatchTimeout {
            timeout: format!("{}ms", self.batch_timeout.as_millis()),
        };
        let consensus = ConsensusType {
            r#type: self.consensus.clone(),
            ..ConsensusType::default()
        };
        ConfigGroup {
            values: HashMap::from([
                ("BatchSize".to_string(), value(batch_size.encode_to_vec())),
                ("BatchTimeout".to_string(), value(timeout.encode_to_vec())),
                (
                    "ConsensusType".to_string(),
                    value(consensus.encode_to_vec()),
                ),
            ]),
            mod_policy: "Admins".into(),
            ..ConfigGroup::default()
        }
    }

    /// The genesis block: number 0, one CONFIG envelope, five empty metadata slots.
    pub fn build(&self) -> Bytes {
        let orderer = self.orderer_group();
        let config = ConfigEnvelope {
            config: Some(Config {
                sequence: 0,
                channel_group: Some(ConfigGroup {
                    groups: HashMap::from([("Orderer".to_string(), orderer)]),
                    mod_policy: "Admins".into(),
                    ..ConfigGroup::default()
                }),
            }),
            last_update: None,
        };
        let channel_header = ChannelHeader {
            r#type: HeaderType::Config as i32,
            channel_id: self.channel_id.clone(),
            ..ChannelHeader::default()
        };
        let payload = Payload {
            header: Some(Header {
                channel_header: channel_header.encode_to_vec().into(),
                signature_header: Bytes::new(),
            }),
            data: config.encode_to_vec().into(),
        };
        let envelope: Bytes = Envelope {
            payload: payload.encode_to_vec().into(),
            signature: Bytes::new(),
        }
        .encode_to_vec()
        .into();
        let data_hash = hash::data_hash(std::slice::from_ref(&envelope));
        Block {
            header: Some(BlockHeader {
                number: 0,
                previous_hash: Bytes::new(),
                data_hash: Bytes::copy_from_slice(&data_hash),
            }),
            data: Some(BlockData {
                data: vec![envelope],
            }),
            metadata: Some(BlockMetadata {
                metadata: vec![Bytes::new(); METADATA_SLOTS],
            }),
        }
        .encode_to_vec()
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelConfig, Consensus};

    #[test]
    fn made_genesis_reads_back_as_its_spec() {
        let spec = GenesisSpec {
            channel_id: "bench".into(),
            consensus: "solo".into(),
            batch_size: BatchSize {
                max_message_count: 10,
                absolute_max_bytes: 1000,
                preferred_max_bytes: 500,
            },
            batch_timeout: Duration::from_millis(250),
        };
        let config = ChannelConfig::from_block(&spec.build()).unwrap();
        assert_eq!(config.channel_id, "bench");
        assert_eq!(config.batch_size, spec.batch_size);
        assert_eq!(config.batch_timeout, spec.batch_timeout);
        assert_eq!(config.consensus, Consensus::Solo);
    }
}
