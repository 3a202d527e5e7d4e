//! Fabric's block cutter: decides where one batch of envelopes ends and the next begins.
//!
//! The rules (Fabric's `blockcutter.receiver.Ordered`), with a message's size being
//! `len(payload) + len(signature)`:
//! - larger than PreferredMaxBytes: cut what is pending, then the message alone is a batch;
//! - else, if pending bytes + size exceed PreferredMaxBytes: cut pending first;
//! - append; if the pending count reaches MaxMessageCount: cut.
//!
//! The batch timer is the caller's: it runs while [`BlockCutter::has_pending`] is true.
//! Each cut of a started batch tells the cutter's [`FillObserver`] how long the batch took
//! to fill (Fabric's `blockcutter_block_fill_duration`; a message cut alone for its size
//! took no time to fill, as Fabric records it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Told how long each batch took to fill: from its first envelope to its cut.
pub trait FillObserver: std::fmt::Debug + Send + Sync {
    fn block_filled(&self, channel_id: &str, fill: Duration);
}

/// Fabric's `BatchSize`, as read from the channel config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize {
    /// `MaxMessageCount`: a batch never holds more envelopes.
    pub max_message_count: u32,
    /// `AbsoluteMaxBytes`: larger envelopes are rejected at Broadcast.
    pub absolute_max_bytes: u32,
    /// `PreferredMaxBytes`: a batch is cut before it would grow past this.
    pub preferred_max_bytes: u32,
}

/// An envelope on its way into a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The envelope bytes as received.
    pub envelope: Bytes,
    /// `len(payload) + len(signature)`: the size the cutter counts.
    pub size_bytes: u32,
}

/// The envelopes of one future block.
pub type Batch = Vec<Bytes>;

/// Pending envelopes of one channel.
#[derive(Debug)]
pub struct BlockCutter {
    batch_size: BatchSize,
    pending: Batch,
    pending_bytes: u64,
    /// When the pending batch took its first envelope.
    pending_since: Option<Instant>,
    observer: Option<(String, Arc<dyn FillObserver>)>,
}

impl BlockCutter {
    /// A cutter with nothing pending.
    pub fn new(batch_size: BatchSize) -> Self {
        Self {
            batch_size,
            pending: Vec::with_capacity(batch_size.max_message_count as usize),
            pending_bytes: 0,
            pending_since: None,
            observer: None,
        }
    }

    /// This cutter, telling `observer` how long each batch of `channel_id` took to fill.
    #[must_use]
    pub fn observed(mut self, channel_id: &str, observer: Arc<dyn FillObserver>) -> Self {
        self.observer = Some((channel_id.to_string(), observer));
        self
    }

    /// Cuts by `batch_size` from the next message on (a config update changed it).
    pub fn set_batch_size(&mut self, batch_size: BatchSize) {
        self.batch_size = batch_size;
    }

    /// Takes one message; returns the batches it completed (zero, one or two).
    pub fn ordered(&mut self, message: Message) -> Vec<Batch> {
        let mut batches = Vec::new();
        let size_bytes = u64::from(message.size_bytes);
        let preferred_max_bytes = u64::from(self.batch_size.preferred_max_bytes);
        if size_bytes > preferred_max_bytes {
            if self.has_pending() {
                batches.push(self.cut());
            }
            batches.push(vec![message.envelope]);
            if let Some((channel_id, observer)) = &self.observer {
                observer.block_filled(channel_id, Duration::ZERO);
            }
            return batches;
        }
        if self.pending_bytes + size_bytes > preferred_max_bytes {
            batches.push(self.cut());
        }
        if self.pending.is_empty() {
            self.pending_since = Some(Instant::now());
        }
        self.pending.push(message.envelope);
        self.pending_bytes += size_bytes;
        if self.pending.len() >= self.batch_size.max_message_count as usize {
            batches.push(self.cut());
        }
        batches
    }

    /// Cuts whatever is pending (possibly nothing).
    pub fn cut(&mut self) -> Batch {
        if let (Some(since), Some((channel_id, observer))) =
            (self.pending_since.take(), &self.observer)
        {
            observer.block_filled(channel_id, since.elapsed());
        }
        self.pending_bytes = 0;
        let capacity = self.batch_size.max_message_count as usize;
        std::mem::replace(&mut self.pending, Vec::with_capacity(capacity))
    }

    /// Whether a batch has been started: the batch timer runs while this is true.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(size_bytes: u32, tag: u32) -> Message {
        Message {
            envelope: Bytes::from(tag.to_be_bytes().to_vec()),
            size_bytes,
        }
    }

    const SIZE: BatchSize = BatchSize {
        max_message_count: 3,
        absolute_max_bytes: 1000,
        preferred_max_bytes: 100,
    };

    #[test]
    fn cuts_at_max_message_count() {
        let mut cutter = BlockCutter::new(SIZE);
        assert!(cutter.ordered(message(10, 0)).is_empty());
        assert!(cutter.ordered(message(10, 1)).is_empty());
        let batches = cutter.ordered(message(10, 2));
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].len(), 3);
        assert!(!cutter.has_pending());
    }

    #[test]
    fn oversized_message_goes_alone_after_pending() {
        let mut cutter = BlockCutter::new(SIZE);
        cutter.ordered(message(10, 0));
        let batches = cutter.ordered(message(101, 1));
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].len(), 1);
        assert_eq!(batches[1].len(), 1);
        assert!(!cutter.has_pending());
    }

    #[test]
    fn overflow_cuts_pending_first() {
        let mut cutter = BlockCutter::new(SIZE);
        cutter.ordered(message(60, 0));
        let batches = cutter.ordered(message(50, 1));
        assert_eq!(batches, vec![vec![message(60, 0).envelope]]);
        assert!(cutter.has_pending());
    }

    /// A reference model written straight from Fabric's rules, message by message.
    fn model(size: BatchSize, sizes: &[u32]) -> Vec<Vec<usize>> {
        let (mut out, mut pending, mut bytes) = (Vec::new(), Vec::<usize>::new(), 0u64);
        for (index, &s) in sizes.iter().enumerate() {
            let s64 = u64::from(s);
            if s64 > u64::from(size.preferred_max_bytes) {
                if !pending.is_empty() {
                    out.push(std::mem::take(&mut pending));
                }
                out.push(vec![index]);
                bytes = 0;
                continue;
            }
            if bytes + s64 > u64::from(size.preferred_max_bytes) {
                out.push(std::mem::take(&mut pending));
                bytes = 0;
            }
            pending.push(index);
            bytes += s64;
            if pending.len() >= size.max_message_count as usize {
                out.push(std::mem::take(&mut pending));
                bytes = 0;
            }
        }
        out
    }

    #[derive(Debug, Default)]
    struct Fills(std::sync::Mutex<Vec<(String, Duration)>>);

    impl FillObserver for Fills {
        fn block_filled(&self, channel_id: &str, fill: Duration) {
            self.0.lock().unwrap().push((channel_id.to_string(), fill));
        }
    }

    #[test]
    fn every_batch_cut_is_observed_an_oversized_one_as_taking_no_time() {
        let fills = Arc::new(Fills::default());
        let size = BatchSize {
            max_message_count: 2,
            absolute_max_bytes: 1000,
            preferred_max_bytes: 100,
        };
        let mut cutter = BlockCutter::new(size).observed("ch", Arc::clone(&fills) as _);
        // Alone for its size: a batch that took no time to fill (Fabric observes 0).
        assert_eq!(cutter.ordered(message(500, 0)).len(), 1);
        assert!(cutter.ordered(message(10, 1)).is_empty());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(cutter.ordered(message(10, 2)).len(), 1); // full: cut
        assert!(cutter.ordered(message(10, 3)).is_empty());
        assert_eq!(cutter.cut().len(), 1); // the timer's cut
        assert!(cutter.cut().is_empty()); // nothing pending: nothing observed
        let fills = fills.0.lock().unwrap();
        assert_eq!(fills.len(), 3, "{fills:?}");
        assert!(fills.iter().all(|(channel, _)| channel == "ch"));
        assert_eq!(fills[0].1, Duration::ZERO);
        assert!(fills[1].1 >= Duration::from_millis(20), "{fills:?}");
    }

    proptest! {
        #[test]
        fn matches_fabric_rules(
            max_message_count in 1u32..20,
            preferred_max_bytes in 1u32..500,
            sizes in proptest::collection::vec(0u32..600, 0..200),
        ) {
            let size = BatchSize { max_message_count, absolute_max_bytes: 1000, preferred_max_bytes };
            let mut cutter = BlockCutter::new(size);
            let mut batches = Vec::new();
            for (index, &s) in sizes.iter().enumerate() {
                batches.extend(cutter.ordered(message(s, index as u32)));
            }
            let expected: Vec<Batch> = model(size, &sizes)
                .into_iter()
                .map(|batch| batch.into_iter().map(|i| message(0, i as u32).envelope).collect())
                .collect();
            prop_assert_eq!(&batches, &expected);
            for batch in &batches {
                prop_assert!(!batch.is_empty());
                prop_assert!(batch.len() <= max_message_count as usize);
            }
            // Nothing is lost or reordered: batches plus pending are the input in order.
            let mut all: Vec<Bytes> = batches.into_iter().flatten().collect();
            all.extend(cutter.cut());
            let input: Vec<Bytes> = (0..sizes.len()).map(|i| message(0, i as u32).envelope).collect();
            prop_assert_eq!(all, input);
        }
    }
}
