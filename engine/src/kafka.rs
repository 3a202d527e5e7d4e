//! Fabric's Kafka consenter: every orderer node produces the envelopes it accepts to
//! the channel's topic (one partition, named after the channel) and cuts blocks from
//! that partition in offset order, so all nodes cut the same blocks.
//!
//! ```text
//! Broadcast --produce--> [librdkafka queue: queue_messages_max] --> topic/0
//!   (SUCCESS when the broker acknowledged the write; acks=all, idempotent)
//! topic/0 --consume, offsets checked consecutive--> chain worker (pinned): Regular ->
//!   cutter; TimeToCut{n} -> cut block n; Connect -> nothing --> writer (as solo)
//! ```
//! - [`options`]: the node's `Kafka.*` settings as librdkafka properties.
//! - [`message`]: the `KafkaMessage`s on the partition and the `KafkaMetadata` in blocks.
//! - [`processor`]: Fabric's `processMessagesToBlocks` rules, free of I/O.
//! - [`producer`]: the idempotent producer and its acknowledgements.
//! - [`partition`]: the partition reader that never skips an offset.
//! - [`worker`]: the chain worker that ties them together.

pub mod message;
pub mod options;
pub mod partition;
pub mod processor;
pub mod producer;
pub mod security;
pub(crate) mod worker;

pub use options::{KafkaOptions, Retry};
pub use producer::{Ack, Producer};
pub use security::{KafkaTls, SaslPlain};
