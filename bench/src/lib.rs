//! Inputs shared by the benches: Fabric's own blocks and envelopes from
//! `../shared/fabric-vectors` (or `$FABRIC_VECTORS`).
#![forbid(unsafe_code)]

use std::path::PathBuf;

use bytes::Bytes;
use orderer_proto::common::Block;
use prost::Message;

/// The folder of Fabric's test vectors.
pub fn vectors() -> PathBuf {
    std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    )
}

/// The envelopes of Fabric's block 215: 500 envelopes with 1 KiB payload data each.
pub fn block_215_envelopes() -> std::io::Result<Vec<Bytes>> {
    let path = vectors().join("blocks/block_215_size1024.pb");
    let block = Block::decode(Bytes::from(std::fs::read(path)?))
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
    Ok(block.data.map(|data| data.data).unwrap_or_default())
}

/// Fabric's `appchannel` genesis block (made by configtxgen v1.4.12): the channel block
/// 215's envelopes were ordered on, whose `SampleOrg` MSP admits their signer.
pub fn appchannel_genesis() -> std::io::Result<Vec<u8>> {
    std::fs::read(vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block"))
}
