//! Reads partition 0 of a channel's topic in offset order and never skips one: Fabric's
//! topics have no compaction and no transactions, so offsets are consecutive. When the
//! next message read is past the expected offset (a broker can briefly show a later
//! message before an earlier one becomes visible), the reader seeks back and reads
//! again; a block is never cut across a gap.

use std::time::Duration;

use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};

use super::options::KafkaOptions;
use super::producer::PARTITION;

/// One message read.
#[derive(Debug)]
pub struct Record {
    /// Its offset.
    pub offset: i64,
    /// Its value.
    pub value: Bytes,
}

/// The reader of one channel's partition.
pub struct PartitionReader {
    consumer: BaseConsumer,
    topic: String,
    /// The offset the next message must have; `None` before the first one read from
    /// the oldest offset.
    next: Option<i64>,
    /// Times the reader found a gap and sought back.
    gaps: u64,
}

impl std::fmt::Debug for PartitionReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionReader")
            .field("topic", &self.topic)
            .field("next", &self.next)
            .field("gaps", &self.gaps)
            .finish_non_exhaustive()
    }
}

impl PartitionReader {
    /// Reads `topic` from offset `from`, or from the oldest offset when `None`.
    pub fn open(
        options: &KafkaOptions,
        bootstrap: &str,
        topic: &str,
        from: Option<i64>,
    ) -> Result<Self, KafkaError> {
        let mut config = options.client(
            bootstrap,
            &[
                // A block waits for its last message: do not let fetches idle long.
                ("fetch.wait.max.ms", "5".into()),
                // Bounded prefetch.
                ("queued.max.messages.kbytes", "65536".into()),
            ],
        );
        // What the reader's correctness rests on: not overridable.
        config
            // librdkafka needs a group even for assign(); nothing is committed.
            .set("group.id", format!("orderer-{topic}"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Never jump: an offset that is gone is an error, not a silent skip.
            .set("auto.offset.reset", "error");
        let consumer: BaseConsumer = config.create()?;
        let reader = Self {
            consumer,
            topic: topic.to_string(),
            next: from,
            gaps: 0,
        };
        reader.seek(from.map_or(Offset::Beginning, Offset::Offset))?;
        Ok(reader)
    }

    fn seek(&self, offset: Offset) -> Result<(), KafkaError> {
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(&self.topic, PARTITION, offset)?;
        self.consumer.assign(&assignment)
    }

    /// Times a gap was found (each followed by a seek back).
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// The next message in offset order, waiting up to `timeout`; `None` when none came
    /// (or one came out of order and was set aside).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Record>, KafkaError> {
        let Some(read) = self.consumer.poll(timeout) else {
            return Ok(None);
        };
        let message = read?;
        let offset = message.offset();
        if let Some(next) = self.next {
            if offset < next {
                return Ok(None); // read again after a seek back: taken already
            }
            if offset > next {
                drop(message);
                self.gaps += 1;
                tracing::warn!(topic = %self.topic, expected = next, read = offset,
                    "gap in the partition: reading again from the expected offset");
                self.seek(Offset::Offset(next))?;
                return Ok(None);
            }
        }
        self.next = Some(offset + 1);
        Ok(Some(Record {
            offset,
            value: Bytes::copy_from_slice(message.payload().unwrap_or_default()),
        }))
    }
}
