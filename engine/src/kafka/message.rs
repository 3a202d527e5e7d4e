//! The messages on a channel's partition (`KafkaMessage`) and the offsets each block
//! records (`KafkaMetadata`), encoded as Fabric's Kafka consenter encodes them.

use bytes::Bytes;
use orderer_proto::orderer::kafka_message::Type;
use orderer_proto::orderer::kafka_message_regular::Class;
use orderer_proto::orderer::{
    KafkaMessage, KafkaMessageConnect, KafkaMessageRegular, KafkaMessageTimeToCut, KafkaMetadata,
};
use prost::Message as _;

use crate::block;
use crate::error::Error;

/// Sarama's `OffsetOldest` (-2) minus one: Fabric's "nothing persisted yet", so that
/// consumption starts at the oldest offset.
pub const NOTHING_PERSISTED: i64 = -3;

/// `KafkaMessage{Regular{payload: envelope, config_seq, class: NORMAL}}`: an envelope
/// validated against config sequence `config_seq`, ordered for the first time
/// (`original_offset` 0).
pub fn normal(envelope: &Bytes, config_seq: u64) -> Vec<u8> {
    resubmitted(envelope, config_seq, 0)
}

/// A NORMAL message re-validated against config sequence `config_seq` and ordered again;
/// `original_offset` is where it was first read, so that the nodes which all re-submit
/// it take only the first copy.
pub fn resubmitted(envelope: &Bytes, config_seq: u64, original_offset: i64) -> Vec<u8> {
    regular(envelope, config_seq, Class::Normal, original_offset)
}

/// `KafkaMessage{Regular{payload: envelope, config_seq, class: CONFIG}}`: a CONFIG or
/// ORDERER_TRANSACTION envelope validated against `config_seq`; `original_offset` is
/// where it was first read when it is re-submitted (0 otherwise).
pub fn config(envelope: &Bytes, config_seq: u64, original_offset: i64) -> Vec<u8> {
    regular(envelope, config_seq, Class::Config, original_offset)
}

fn regular(envelope: &Bytes, config_seq: u64, class: Class, original_offset: i64) -> Vec<u8> {
    KafkaMessage {
        r#type: Some(Type::Regular(KafkaMessageRegular {
            payload: envelope.clone(),
            config_seq,
            class: class as i32,
            original_offset,
        })),
    }
    .encode_to_vec()
}

/// `KafkaMessage{TimeToCut{block_number}}`: the batch timer of a node expired while
/// block `block_number` was pending.
pub fn time_to_cut(block_number: u64) -> Vec<u8> {
    KafkaMessage {
        r#type: Some(Type::TimeToCut(KafkaMessageTimeToCut { block_number })),
    }
    .encode_to_vec()
}

/// `KafkaMessage{Connect{}}`: posted by each node at start, so the partition exists and
/// holds at least one message before the node reads it.
pub fn connect() -> Vec<u8> {
    KafkaMessage {
        r#type: Some(Type::Connect(KafkaMessageConnect {
            payload: Bytes::new(),
        })),
    }
    .encode_to_vec()
}

/// The offsets a block records (`KafkaMetadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    /// `last_offset_persisted`: the partition offset of the last message in or behind
    /// the block; a restarted node reads on from the next one.
    pub persisted: i64,
    /// `last_original_offset_processed`: the newest re-submitted message taken.
    pub processed: i64,
    /// `last_resubmitted_config_offset`.
    pub resubmitted: i64,
}

impl Default for Offsets {
    fn default() -> Self {
        Self {
            persisted: NOTHING_PERSISTED,
            processed: 0,
            resubmitted: 0,
        }
    }
}

impl Offsets {
    /// The offsets recorded in a stored block; the default (start from the oldest
    /// offset) when it records none, as a genesis block.
    pub fn of_block(block_bytes: &[u8]) -> Result<Self, Error> {
        let value = block::consenter_value_of(block_bytes)?;
        if value.is_empty() {
            return Ok(Self::default());
        }
        let metadata = KafkaMetadata::decode(value).map_err(|source| Error::Decode {
            what: "KafkaMetadata",
            source,
        })?;
        Ok(Self {
            persisted: metadata.last_offset_persisted,
            processed: metadata.last_original_offset_processed,
            resubmitted: metadata.last_resubmitted_config_offset,
        })
    }

    /// The encoded `KafkaMetadata`.
    pub fn encode(&self) -> Vec<u8> {
        KafkaMetadata {
            last_offset_persisted: self.persisted,
            last_original_offset_processed: self.processed,
            last_resubmitted_config_offset: self.resubmitted,
        }
        .encode_to_vec()
    }

    /// The first offset a node whose ledger ends here reads, or `None` for the oldest.
    pub fn resume_from(&self) -> Option<i64> {
        (self.persisted > NOTHING_PERSISTED).then_some(self.persisted + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_through_a_block() {
        let offsets = Offsets {
            persisted: 41,
            processed: 0,
            resubmitted: 0,
        };
        let mut tip = block::ChainTip {
            number: 0,
            header_hash: [0; 32],
            last_config: 0,
        };
        let stored = block::assemble_with(
            &mut tip,
            vec![Bytes::from_static(b"e")],
            None,
            &offsets.encode(),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let read = Offsets::of_block(&stored.bytes).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(read, offsets);
        assert_eq!(read.resume_from(), Some(42));
        assert_eq!(Offsets::default().resume_from(), None);
    }

    #[test]
    fn messages_decode_as_fabric_defines_them() {
        let envelope = Bytes::from_static(b"envelope");
        let decoded = KafkaMessage::decode(&normal(&envelope, 7)[..]).ok();
        let Some(Type::Regular(regular)) = decoded.and_then(|m| m.r#type) else {
            panic!("not a regular message");
        };
        assert_eq!(regular.payload, envelope);
        assert_eq!(regular.config_seq, 7);
        assert_eq!(regular.class, Class::Normal as i32);
        // TimeToCut{block_number: 5}: field 2 (message) holding field 1 = 5.
        assert_eq!(time_to_cut(5), [0x12, 0x02, 0x08, 0x05]);
        // Connect{}: field 3, empty.
        assert_eq!(connect(), [0x1a, 0x00]);
    }
}
