//! Fabric's Kafka `processMessagesToBlocks` rules, free of I/O: what each message read
//! from the partition does to the pending batch, which blocks it cuts and which offsets
//! those blocks record. Every node applies them to the same partition and so cuts the
//! same blocks.

use bytes::Bytes;
use orderer_proto::common::{ChannelHeader, Envelope, HeaderType, Payload};
use orderer_proto::orderer::kafka_message::Type;
use orderer_proto::orderer::kafka_message_regular::Class;
use orderer_proto::orderer::{KafkaMessage, KafkaMessageRegular};
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
    /// An envelope to produce again (Fabric's re-submission).
    pub resubmit: Option<Resubmit>,
    /// A config message, for the worker to judge ([`Processor::commit_config`]).
    pub config: Option<ConfigRead>,
}

/// A config message read from the partition (class CONFIG, or a CONFIG or
/// ORDERER_TRANSACTION envelope in compatibility mode). Fabric's `processRegular`: one
/// validated under an older config is processed again and re-submitted; otherwise the
/// pending batch is cut and the config envelope is a block alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRead {
    /// The CONFIG or ORDERER_TRANSACTION envelope.
    pub envelope: Bytes,
    /// The sequence it was validated against.
    pub config_seq: u64,
    /// Where it was read.
    pub offset: i64,
    /// `last_original_offset_processed` once it is committed.
    pub original: i64,
    /// Compatibility mode: validated again whatever its sequence, committed as read,
    /// never re-submitted.
    pub compat: bool,
}

/// A message validated under an older config, valid under the current one: produced again
/// with the current config sequence and `original_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resubmit {
    /// The envelope.
    pub envelope: Bytes,
    /// The offset it was read at.
    pub original_offset: i64,
}

/// Fabric's `ProcessNormalMsg` on an envelope under the chain's current config: the
/// reason it is refused, if it is.
pub type Validate<'a> = &'a dyn Fn(&Bytes) -> Result<(), String>;

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
    /// The Orderer capability `Resubmission` (`V1_1` or `V1_4_2`): without it (or for a
    /// message of class UNKNOWN, from a v1.0 orderer) every message is validated again
    /// when read and never re-ordered, Fabric's compatibility mode.
    resubmission: bool,
}

impl Processor {
    /// The state of a chain whose newest block is `last_cut` and records `offsets`, its
    /// config at `sequence`, with or without the `resubmission` capability.
    pub fn new(
        cutter: BlockCutter,
        last_cut: u64,
        offsets: Offsets,
        sequence: u64,
        resubmission: bool,
    ) -> Self {
        Self {
            cutter,
            last_cut,
            offsets,
            sequence,
            resubmission,
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

    /// Takes the message at `offset`; `validate` is called for the messages Fabric
    /// validates again when reading them.
    pub fn consume(
        &mut self,
        offset: i64,
        value: Bytes,
        validate: Validate<'_>,
    ) -> Result<Outcome, Refusal> {
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
            Some(Type::Regular(regular)) => self.regular(offset, regular, validate),
        }
    }

    /// Fabric's `processRegular`.
    fn regular(
        &mut self,
        offset: i64,
        regular: KafkaMessageRegular,
        validate: Validate<'_>,
    ) -> Result<Outcome, Refusal> {
        let class = Class::try_from(regular.class).unwrap_or(Class::Unknown);
        let envelope = Envelope::decode(regular.payload.clone()).map_err(|error| {
            Refusal::Skip(format!(
                "payload at offset {offset} is not an envelope: {error}"
            ))
        })?;
        let size_bytes = envelope.payload.len() + envelope.signature.len();
        let message = Message {
            envelope: regular.payload.clone(),
            size_bytes: u32::try_from(size_bytes).unwrap_or(u32::MAX),
        };
        let discard = |why: String| {
            Refusal::Skip(format!(
                "discarding bad normal message at offset {offset} because = {why}"
            ))
        };
        if class == Class::Unknown || !self.resubmission {
            // Compatibility mode: validate again, never re-order.
            return match header_type(&envelope) {
                Some(HeaderType::Config | HeaderType::OrdererTransaction) => {
                    Ok(self.config_read(offset, regular, true))
                }
                Some(HeaderType::ConfigUpdate) => Err(Refusal::Skip(format!(
                    "message at offset {offset}: not expecting message of type ConfigUpdate"
                ))),
                _ => {
                    validate(&regular.payload).map_err(discard)?;
                    Ok(self.normal(offset, message, self.offsets.processed))
                }
            };
        }
        if regular.original_offset != 0 && regular.original_offset <= self.offsets.processed {
            return Ok(Outcome::default()); // re-submitted and taken already
        }
        if class == Class::Config {
            // A config message another node re-submitted (this one may have found it
            // invalid): every node's blocks record it alike (Fabric's processRegular).
            self.offsets.resubmitted = self.offsets.resubmitted.max(regular.original_offset);
            return Ok(self.config_read(offset, regular, false));
        }
        if regular.config_seq < self.sequence {
            // The config moved on since the message was validated: validate it again and
            // order it again, first read here.
            validate(&regular.payload).map_err(discard)?;
            return Ok(Outcome {
                resubmit: Some(Resubmit {
                    envelope: regular.payload,
                    original_offset: offset,
                }),
                ..Outcome::default()
            });
        }
        let original = match regular.original_offset {
            0 => self.offsets.processed,
            original => original,
        };
        Ok(self.normal(offset, message, original))
    }

    /// A config message for the worker to judge.
    fn config_read(&self, offset: i64, regular: KafkaMessageRegular, compat: bool) -> Outcome {
        let original = match regular.original_offset {
            0 => self.offsets.processed,
            original => original,
        };
        Outcome {
            config: Some(ConfigRead {
                envelope: regular.payload,
                config_seq: regular.config_seq,
                offset,
                original,
                compat,
            }),
            ..Outcome::default()
        }
    }

    /// The current config sequence.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Fabric's `commitConfigMsg`: the pending batch is cut (recording the offset before
    /// the config message), then the config envelope is a block alone (recording its
    /// own). The batch timer stops.
    pub fn commit_config(&mut self, read: &ConfigRead) -> Vec<(Batch, Offsets)> {
        let mut blocks = Vec::with_capacity(2);
        let pending = self.cutter.cut();
        if !pending.is_empty() {
            blocks.push(self.cut(pending, read.offset - 1));
        }
        self.offsets.processed = read.original;
        blocks.push(self.cut(vec![read.envelope.clone()], read.offset));
        blocks
    }

    /// A config message read at `offset` was processed again and re-submitted: the
    /// blocks record it (`last_resubmitted_config_offset`).
    pub fn config_resubmitted(&mut self, offset: i64) {
        self.offsets.resubmitted = offset;
    }

    /// The channel's config changed (a config block was cut): later messages are judged
    /// by `sequence` and batched by `batch_size`.
    pub fn reconfigured(
        &mut self,
        sequence: u64,
        batch_size: crate::cutter::BatchSize,
        resubmission: bool,
    ) {
        self.sequence = sequence;
        self.cutter.set_batch_size(batch_size);
        self.resubmission = resubmission;
    }

    /// Fabric's `commitNormalMsg`.
    fn normal(&mut self, offset: i64, message: Message, original: i64) -> Outcome {
        let batches = self.cutter.ordered(message);
        let pending = self.cutter.has_pending();
        let timer = Some(if pending { Timer::Start } else { Timer::Stop });
        if batches.is_empty() {
            self.offsets.processed = original;
            return Outcome {
                timer,
                ..Outcome::default()
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
        Outcome {
            blocks,
            timer,
            ..Outcome::default()
        }
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
            ..Outcome::default()
        })
    }

    fn cut(&mut self, batch: Batch, persisted: i64) -> (Batch, Offsets) {
        self.last_cut += 1;
        self.offsets.persisted = persisted;
        (batch, self.offsets)
    }
}

/// The channel header type of `envelope`, if it decodes.
fn header_type(envelope: &Envelope) -> Option<HeaderType> {
    let payload = Payload::decode(envelope.payload.clone()).ok()?;
    let header = ChannelHeader::decode(payload.header?.channel_header).ok()?;
    HeaderType::try_from(header.r#type).ok()
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
        Processor::new(cutter, 0, Offsets::default(), 0, true)
    }

    /// For paths on which Fabric does not validate again.
    fn unchecked(_: &Bytes) -> Result<(), String> {
        panic!("validated on a path Fabric does not validate again")
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
            p.consume(0, message::connect().into(), &unchecked)
                .unwrap()
                .blocks
                .is_empty()
        );
        let first = p.consume(1, normal(1), &unchecked).unwrap();
        assert!(first.blocks.is_empty());
        assert_eq!(first.timer, Some(Timer::Start));
        let second = p.consume(2, normal(2), &unchecked).unwrap();
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
        p.consume(5, normal(1), &unchecked).unwrap();
        let cut = p
            .consume(6, message::time_to_cut(1).into(), &unchecked)
            .unwrap();
        let [(batch, offsets)] = &cut.blocks[..] else {
            panic!("one block expected: {cut:?}");
        };
        assert_eq!(batch.len(), 1);
        assert_eq!(offsets.persisted, 6, "the time-to-cut's own offset");
        // The other node's time-to-cut for the same block arrives later: stale.
        p.consume(7, normal(2), &unchecked).unwrap();
        let stale = p
            .consume(8, message::time_to_cut(1).into(), &unchecked)
            .unwrap();
        assert!(stale.blocks.is_empty());
        assert!(p.has_pending());
        assert!(matches!(
            p.consume(9, message::time_to_cut(3).into(), &unchecked),
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
        p.consume(3, normal(1), &unchecked).unwrap();
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
        let out = p.consume(4, big, &unchecked).unwrap();
        let persisted: Vec<i64> = out.blocks.iter().map(|(_, o)| o.persisted).collect();
        assert_eq!(persisted, [3, 4]);
        assert_eq!(p.last_cut(), 2);
    }

    #[test]
    fn config_messages_go_to_the_worker_and_garbage_is_skipped() {
        let mut p = processor(10);
        let config: Bytes = KafkaMessage {
            r#type: Some(Type::Regular(KafkaMessageRegular {
                payload: envelope(1),
                config_seq: 0,
                class: Class::Config as i32,
                original_offset: 0,
            })),
        }
        .encode_to_vec()
        .into();
        let read = p.consume(0, config, &unchecked).unwrap();
        assert_eq!(
            read.config.map(|read| (read.offset, read.compat)),
            Some((0, false)),
            "a config message is the worker's to judge"
        );
        assert!(matches!(
            p.consume(1, Bytes::from_static(&[0xff, 0xff]), &unchecked),
            Err(Refusal::Skip(_))
        ));
        assert!(!p.has_pending());
    }

    /// An envelope whose channel header has `header_type`.
    fn typed(header_type: HeaderType, tag: u8) -> Bytes {
        let header = orderer_proto::common::Header {
            channel_header: ChannelHeader {
                r#type: header_type as i32,
                ..ChannelHeader::default()
            }
            .encode_to_vec()
            .into(),
            signature_header: Bytes::new(),
        };
        Envelope {
            payload: Payload {
                header: Some(header),
                data: vec![tag; 4].into(),
            }
            .encode_to_vec()
            .into(),
            signature: vec![1; 5].into(),
        }
        .encode_to_vec()
        .into()
    }

    fn regular(envelope: &Bytes, config_seq: u64, class: Class) -> Bytes {
        KafkaMessage {
            r#type: Some(Type::Regular(KafkaMessageRegular {
                payload: envelope.clone(),
                config_seq,
                class: class as i32,
                original_offset: 0,
            })),
        }
        .encode_to_vec()
        .into()
    }

    #[test]
    fn a_message_validated_under_an_older_config_is_validated_again_and_resubmitted() {
        let cutter = BlockCutter::new(BatchSize {
            max_message_count: 10,
            absolute_max_bytes: 1 << 20,
            preferred_max_bytes: 1 << 19,
        });
        let mut p = Processor::new(cutter, 0, Offsets::default(), 1, true);
        let (good, bad) = (envelope(1), envelope(2));
        let valid = |raw: &Bytes| {
            if *raw == good {
                Ok(())
            } else {
                Err("identity expired".to_string())
            }
        };
        let out = p
            .consume(5, message::normal(&good, 0).into(), &valid)
            .unwrap();
        assert_eq!(
            out.resubmit,
            Some(Resubmit {
                envelope: good.clone(),
                original_offset: 5
            })
        );
        assert!(
            out.blocks.is_empty() && !p.has_pending(),
            "not ordered here"
        );
        let refused = p.consume(6, message::normal(&bad, 0).into(), &valid);
        assert!(
            matches!(&refused, Err(Refusal::Skip(why)) if why.contains("discarding bad normal message") && why.contains("identity expired")),
            "{refused:?}"
        );
        // Every node re-submits it: the first copy read is ordered, the others dropped.
        let copy = || Bytes::from(message::resubmitted(&good, 1, 5));
        p.consume(9, copy(), &unchecked).unwrap();
        assert!(p.has_pending());
        p.consume(10, copy(), &unchecked).unwrap();
        let cut = p
            .consume(11, message::time_to_cut(1).into(), &unchecked)
            .unwrap();
        let [(batch, offsets)] = &cut.blocks[..] else {
            panic!("one block expected: {cut:?}");
        };
        assert_eq!(batch, &vec![good.clone()]);
        assert_eq!((offsets.persisted, offsets.processed), (11, 5));
    }

    #[test]
    fn without_resubmission_or_for_class_unknown_every_message_is_validated_again() {
        let cutter = BlockCutter::new(BatchSize {
            max_message_count: 10,
            absolute_max_bytes: 1 << 20,
            preferred_max_bytes: 1 << 19,
        });
        let mut compat = Processor::new(cutter, 0, Offsets::default(), 0, false);
        let checked = std::cell::Cell::new(0);
        let refuse_tag_2 = |raw: &Bytes| {
            checked.set(checked.get() + 1);
            if *raw == typed(HeaderType::Message, 2) {
                Err("permission denied".to_string())
            } else {
                Ok(())
            }
        };
        let message = |tag| regular(&typed(HeaderType::Message, tag), 0, Class::Normal);
        compat.consume(1, message(1), &refuse_tag_2).unwrap();
        assert!(matches!(
            compat.consume(2, message(2), &refuse_tag_2),
            Err(Refusal::Skip(_))
        ));
        assert_eq!(checked.get(), 2);
        assert!(
            compat.has_pending(),
            "the valid one is ordered, not re-submitted"
        );
        let config = regular(&typed(HeaderType::Config, 3), 0, Class::Normal);
        let read = compat.consume(3, config, &refuse_tag_2).unwrap();
        assert!(read.config.is_some_and(|read| read.compat));

        let mut p = processor(10);
        let unknown = |header_type, tag| regular(&typed(header_type, tag), 0, Class::Unknown);
        p.consume(1, unknown(HeaderType::Message, 1), &refuse_tag_2)
            .unwrap();
        assert_eq!(checked.get(), 3);
        assert!(matches!(
            p.consume(2, unknown(HeaderType::ConfigUpdate, 4), &refuse_tag_2),
            Err(Refusal::Skip(why)) if why.contains("ConfigUpdate")
        ));
    }
}
