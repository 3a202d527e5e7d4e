//! A channel's configuration read from a config block (genesis files, Kafka messages).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = engine::config::ChannelConfig::from_block(data);
});
