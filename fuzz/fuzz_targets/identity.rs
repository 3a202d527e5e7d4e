//! A creator (serialized identity: MSP ID and certificate) and signature checked against
//! a channel's Writers policy, as Broadcast does for every envelope (expiry by
//! capability, identity, signature, policy). The channel is Fabric's `appchannel`
//! genesis from the test vectors, so identities are parsed and validated against a real
//! org's MSP.
#![no_main]

use std::sync::LazyLock;

use engine::admission::{self, Rules};
use engine::config::ChannelConfig;
use engine::envelope::SignedData;
use libfuzzer_sys::fuzz_target;

static CHANNEL: LazyLock<ChannelConfig> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fabric-vectors/genesis/v1.4.12/appchannel.solo.genesis.block"
    );
    let block = std::fs::read(path).expect("the Fabric vectors beside the repository");
    ChannelConfig::from_block(&block).expect("Fabric's genesis block reads")
});

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (creator, rest) = data.split_at(split);
    let signed = SignedData {
        creator: bytes::Bytes::copy_from_slice(creator),
        payload: bytes::Bytes::from_static(b"payload"),
        signature: bytes::Bytes::copy_from_slice(rest),
    };
    let _ = admission::authorize_writer(&CHANNEL, &signed, Rules::default(), 1_800_000_000);
});
