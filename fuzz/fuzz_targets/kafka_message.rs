//! A message read from a channel's Kafka partition, through Fabric's rules.
#![no_main]

use engine::cutter::{BatchSize, BlockCutter};
use engine::kafka::message::Offsets;
use engine::kafka::processor::Processor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cutter = BlockCutter::new(BatchSize {
        max_message_count: 3,
        absolute_max_bytes: 1 << 16,
        preferred_max_bytes: 1 << 12,
    });
    let mut processor = Processor::new(cutter, 0, Offsets::default(), 1, true);
    for (offset, chunk) in data.split(|&b| b == 0xFE).enumerate() {
        let _ = processor.consume(
            offset as i64,
            bytes::Bytes::copy_from_slice(chunk),
            &|_| Ok(()),
        );
    }
});
