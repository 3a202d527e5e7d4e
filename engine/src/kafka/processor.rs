//! Fabric's Kafka `processMessagesToBlocks` rules, free of I/O: what each message read
//! from the partition does to the pending batch, which blocks it cuts and which offsets
//! those blocks record. Every node applies them to the same partition and so cuts the
//! same blocks.

use bytes::Bytes;
use orderer_proto::common::Envelope;
use orderer_proto::orderer::KafkaMessage;
use orderer_proto::orderer::kafka_message::Type;
use orderer_proto::orderer::kafka_message_regular::Class;
use prost::Message as _;

use super::message::Offsets;
use crate::cutter::{Batch, BlockCutter, Message};

/// What the batch timer does after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Leave it as it is.
    Keep,
    /// Start it unless it runs (envelopes are pending).
    Start,
    /// Stop it (nothing is pending).
    Stop,
}

/// The result of one message.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Blocks cut, in order, each with the offsets it records.
    pub blocks: Vec<(Batch, Offsets)>,
    /// What the batch timer does.
    pub timer: Option<Timer>,
}

/// Why a message was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The message is dropped, as Fabric drops it (every node drops it alike).
    Skip(String),
    /// The chain must stop here: going on would make blocks other nodes do not make.
    Halt(String),
}

/// The consenter state of one channel.
#[derive(Debug)]
pub struct Processor {
    cutter: BlockCutter,
    /// The newest block cut (stored or on its way to the store).
    last_cut: u64,
    offsets: Offsets,
    /// The config sequence this node validates against.
    sequence: u64,
}

impl Processor {
    /// The state of a chain whose newest block is `last_cut` and records `offsets`.
    pub fn new(cutter: BlockCutter, last_cut: u64, offsets: Offsets, sequence: u64) -> Self {
        Self {
            cutter,
            last_cut,
            offsets,
            sequence,
        }
    }

    /// The newest block cut.
    pub fn last_cut(&self) -> u64 {
        self.last_cut
    }

    /// The first offset to read: the one after the newest block's, or `None` for the
    /// oldest.
    pub fn resume_from(&self) -> Option<i64> {
        self.offsets.resume_from()
    }

    /// Whether envelopes wait for a cut.
    pub fn has_pending(&self) -> bool {
        self.cutter.has_pending()
    }

    /// Takes the message at `offset`.
    pub fn consume(&mut self, offset: i64, value: Bytes) -> Result<Outcome, Refusal> {
        let message = KafkaMessage::decode(value).map_err(|error| {
            Refusal::Skip(format!(
                "message at offset {offset} is not a KafkaMessage: {error}"
            ))
        })?;
        match message.r#type {
            Some(Type::Connect(_)) | None => Ok(Outcome::default()),
            Some(Type::TimeToCut(time_to_cut)) => {
                self.time_to_cut(offset, time_to_cut.block_number)
            }
            Some(Type::Regular(regular)) => {
                let class = Class::try_from(regular.class).unwrap_or(Class::Unknown);
                if class != Class::Normal {
                    // A config message, or one from a v1.0 orderer (class UNKNOWN, which
                    // Fabric re-validates): this orderer takes no config updates, and
                    // dropping it would fork from the nodes that take it.
                    return Err(Refusal::Halt(format!(
                        "message at offset {offset} has class {}, which this orderer does not process",
                        class.as_str_name()
                    )));
                }
                if regular.original_offset != 0 && regular.original_offset <= self.offsets.processed
                {
                    return Ok(Outcome::default()); // re-submitted and taken already
                }
                if regular.config_seq < self.sequence {
                    // Fabric re-validates such a message and re-orders it. This orderer's
                    // config sequence never moves (it takes no config updates), so only a
                    // foreign orderer can have written it.
                    return Err(Refusal::Halt(format!(
                        "message at offset {offset} was validated at config sequence {}, before this channel's {}",
                        regular.config_seq, self.sequence
                    )));
                }
                let envelope = Envelope::decode(regular.payload.clone()).map_err(|error| {
                    Refusal::Skip(format!(
                        "payload at offset {offset} is not an envelope: {error}"
                    ))
                })?;
                let size_bytes = envelope.payload.len() + envelope.signature.len();
                let message = Message {
                    envelope: regular.payload,
                    size_bytes: u32::try_from(size_bytes).unwrap_or(u32::MAX),
                };
                let original = match regular.original_offset {
                    0 => self.offsets.processed,
                    original => original,
                };
                Ok(self.normal(offset, message, original))
            }
        }
    }

    /// Fabric's `commitNormalMsg`.
    fn normal(&mut self, offset: i64, message: Message, original: i64) -> Outcome {
        let batches = self.cutter.ordered(message);
        let pending = self.cutter.has_pending();
        let timer = Some(if pending { Timer::Start } else { Timer::Stop });
        if batches.is_empty() {
            self.offsets.processed = original;
            return Outcome {
                blocks: Vec::new(),
                timer,
            };
        }
        let two = batches.len() == 2;
        let mut persisted = offset;
        if pending || two {
            // The newest envelope is not in the first batch.
            persisted -= 1;
        } else {
            self.offsets.processed = original;
        }
        let mut blocks = Vec::with_capacity(batches.len());
        let mut batches = batches.into_iter();
        if let Some(first) = batches.next() {
            blocks.push(self.cut(first, persisted));
        }
        if let Some(second) = batches.next() {
            self.offsets.processed = original;
            blocks.push(self.cut(second, offset));
        }
        Outcome { blocks, timer }
    }

    /// Fabric's `processTimeToCut`.
    fn time_to_cut(&mut self, offset: i64, block_number: u64) -> Result<Outcome, Refusal> {
        let expected = self.last_cut + 1;
        if block_number < expected {
            return Ok(Outcome::default()); // stale: the block was cut already
        }
        if block_number > expected {
            return Err(Refusal::Halt(format!(
                "time-to-cut at offset {offset} is for block {block_number}, beyond the next block {expected}"
            )));
        }
        let batch = self.cutter.cut();
        if batch.is_empty() {
            return Err(Refusal::Halt(format!(
                "time-to-cut at offset {offset} for block {block_number}, but nothing is pending"
            )));
        }
        // Fabric's time-to-cut block records no resubmitted-config offset.
        let resubmitted = std::mem::take(&mut self.offsets.resubmitted);
        let block = self.cut(batch, offset);
        self.offsets.resubmitted = resubmitted;
        Ok(Outcome {
            blocks: vec![block],
            timer: Some(Timer::Stop),
        })
    }

    fn cut(&mut self, batch: Batch, persisted: i64) -> (Batch, Offsets) {
        self.last_cut += 1;
        self.offsets.persisted = persisted;
        (batch, self.offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutter::BatchSize;
    use crate::kafka::message;

    fn processor(max_message_count: u32) -> Processor {
        let cutter = BlockCutter::new(BatchSize {
            max_message_count,
            absolute_max_bytes: 1 << 20,
            preferred_max_bytes: 1 << 19,
        });
        Processor::new(cutter, 0, Offsets::default(), 0)
    }

    fn envelope(tag: u8) -> Bytes {
        Envelope {
            payload: vec![tag; 10].into(),
            signature: vec![1; 5].into(),
        }
        .encode_to_vec()
        .into()
    }

    fn normal(tag: u8) -> Bytes {
        message::normal(&envelope(tag), 0).into()
    }

    #[test]
    fn a_full_batch_records_the_offset_of_its_last_envelope() {
        let mut p = processor(2);
        assert!(
            p.consume(0, message::connect().into())
                .unwrap()
                .blocks
                .is_empty()
        );
        let first = p.consume(1, normal(1)).unwrap();
        assert!(first.blocks.is_empty());
        assert_eq!(first.timer, Some(Timer::Start));
        let second = p.consume(2, normal(2)).unwrap();
        assert_eq!(second.timer, Some(Timer::Stop));
        let [(batch, offsets)] = &second.blocks[..] else {
            panic!("one block expected: {second:?}");
        };
        assert_eq!(batch, &vec![envelope(1), envelope(2)]);
        assert_eq!(offsets.persisted, 2);
        assert_eq!(p.last_cut(), 1);
    }

    #[test]
    fn time_to_cut_cuts_once_and_stale_ones_are_ignored() {
        let mut p = processor(10);
        p.consume(5, normal(1)).unwrap();
        let cut = p.consume(6, message::time_to_cut(1).into()).unwrap();
        let [(batch, offsets)] = &cut.blocks[..] else {
            panic!("one block expected: {cut:?}");
        };
        assert_eq!(batch.len(), 1);
        assert_eq!(offsets.persisted, 6, "the time-to-cut's own offset");
        // The other node's time-to-cut for the same block arrives later: stale.
        p.consume(7, normal(2)).unwrap();
        let stale = p.consume(8, message::time_to_cut(1).into()).unwrap();
        assert!(stale.blocks.is_empty());
        assert!(p.has_pending());
        assert!(matches!(
            p.consume(9, message::time_to_cut(3).into()),
            Err(Refusal::Halt(_))
        ));
    }

    #[test]
    fn an_oversized_envelope_cuts_pending_first_recording_the_offset_before_it() {
        let cutter = BlockCutter::new(BatchSize {
            max_message_count: 10,
            absolute_max_bytes: 1 << 20,
            preferred_max_bytes: 20,
        });
        let mut p = processor(10);
        p.cutter = cutter;
        p.consume(3, normal(1)).unwrap();
        let big: Bytes = message::normal(
            &Envelope {
                payload: vec![2; 50].into(),
                signature: Bytes::new(),
            }
            .encode_to_vec()
            .into(),
            0,
        )
        .into();
        let out = p.consume(4, big).unwrap();
        let persisted: Vec<i64> = out.blocks.iter().map(|(_, o)| o.persisted).collect();
        assert_eq!(persisted, [3, 4]);
        assert_eq!(p.last_cut(), 2);
    }

    #[test]
    fn config_and_foreign_messages_halt_and_garbage_is_skipped() {
        let mut p = processor(10);
        let config: Bytes = KafkaMessage {
            r#type: Some(Type::Regular(orderer_proto::orderer::KafkaMessageRegular {
                payload: envelope(1),
                config_seq: 0,
                class: Class::Config as i32,
                original_offset: 0,
            })),
        }
        .encode_to_vec()
        .into();
        assert!(matches!(p.consume(0, config), Err(Refusal::Halt(_))));
        assert!(matches!(
            p.consume(1, Bytes::from_static(&[0xff, 0xff])),
            Err(Refusal::Skip(_))
        ));
        assert!(!p.has_pending());
    }
}
