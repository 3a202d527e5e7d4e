//! A creator (serialized identity: MSP ID and certificate) and signature checked against
//! a channel's Writers policy, as Broadcast does for every envelope.
#![no_main]

use std::sync::LazyLock;

use engine::access::{AccessControl, SignedData, WRITERS};
use engine::genesis::GenesisSpec;
use libfuzzer_sys::fuzz_target;

static ACCESS: LazyLock<std::sync::Arc<AccessControl>> = LazyLock::new(|| {
    let spec = GenesisSpec {
        channel_id: "fuzz".into(),
        consensus: "solo".into(),
        kafka_brokers: Vec::new(),
        batch_size: engine::cutter::BatchSize {
            max_message_count: 10,
            absolute_max_bytes: 1 << 20,
            preferred_max_bytes: 1 << 19,
        },
        batch_timeout: std::time::Duration::from_secs(1),
        orgs: Vec::new(),
        sequence: 0,
    };
    engine::config::ChannelConfig::from_block(&spec.build())
        .expect("a made genesis block reads")
        .access
});

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (creator, rest) = data.split_at(split);
    let signed = SignedData {
        creator: bytes::Bytes::copy_from_slice(creator),
        payload: bytes::Bytes::from_static(b"payload"),
        signature: bytes::Bytes::copy_from_slice(rest),
    };
    let _ = ACCESS.check(&signed, WRITERS, 1_800_000_000);
});
