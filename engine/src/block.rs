//! Block assembly (header, data, the five metadata slots) and the few facts the engine
//! reads back from stored blocks.

use bytes::Bytes;
use orderer_proto::common::{
    Block, BlockData, BlockHeader, BlockMetadata, LastConfig, Metadata, MetadataSignature,
    OrdererBlockMetadata, SignatureHeader,
};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::hash::{self, Hash};
use crate::msp::local::LocalSigner;

/// Number of entries in `BlockMetadata.metadata` (SIGNATURES .. COMMIT_HASH).
pub const METADATA_SLOTS: usize = 5;
const SLOT_SIGNATURES: usize = 0;
const SLOT_LAST_CONFIG: usize = 1;
const SLOT_ORDERER: usize = 3;

/// What a chain needs to know of its newest block to continue it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    /// Number of the newest block.
    pub number: u64,
    /// Header hash of the newest block: the next block's `previous_hash`.
    pub header_hash: Hash,
    /// Number of the newest config block.
    pub last_config: u64,
}

/// A block ready to be stored, with the facts the writer publishes.
#[derive(Debug, Clone)]
pub struct AssembledBlock {
    /// Block number.
    pub number: u64,
    /// Encoded `common.Block`.
    pub bytes: Bytes,
    /// What this block makes durable once stored: solo, how many envelopes this process
    /// has ordered up to and including it; Kafka, the last offset it persists. The writer
    /// publishes it after the sync, for acknowledgements that wait for the disk.
    pub covers: i64,
}

/// Builds the block after `tip` holding `envelopes` (the bytes as received), signed by
/// `signer` when there is one, and advances `tip` to it.
pub fn assemble(
    tip: &mut ChainTip,
    envelopes: Vec<Bytes>,
    signer: Option<&LocalSigner>,
) -> Result<AssembledBlock, Error> {
    assemble_with(tip, envelopes, signer, &[])
}

/// [`assemble`] for a consenter that keeps metadata in its blocks (Kafka's
/// `KafkaMetadata`): as Fabric's block writer, `consenter_value` goes into the ORDERER
/// slot as `Metadata{value}`, and that entry's bytes into
/// `OrdererBlockMetadata.consenter_metadata`. Empty writes neither (solo).
pub fn assemble_with(
    tip: &mut ChainTip,
    envelopes: Vec<Bytes>,
    signer: Option<&LocalSigner>,
    consenter_value: &[u8],
) -> Result<AssembledBlock, Error> {
    let number = tip.number + 1;
    let data_hash = hash::data_hash(&envelopes);
    let header_asn1 = hash::header_asn1(number, &tip.header_hash, &data_hash);
    let block = Block {
        header: Some(BlockHeader {
            number,
            previous_hash: Bytes::copy_from_slice(&tip.header_hash),
            data_hash: Bytes::copy_from_slice(&data_hash),
        }),
        data: Some(BlockData { data: envelopes }),
        metadata: Some(BlockMetadata {
            metadata: metadata_slots(tip.last_config, &header_asn1, signer, consenter_value)?,
        }),
    };
    tip.header_hash = Sha256::digest(&header_asn1).into();
    tip.number = number;
    Ok(AssembledBlock {
        number,
        bytes: block.encode_to_vec().into(),
        covers: 0,
    })
}

/// The five metadata entries of a block cut by this orderer: SIGNATURES carries
/// `OrdererBlockMetadata{last_config}` and the orderer's signature over
/// `value || signature_header || header_asn1` (as Fabric's block writer), LAST_CONFIG the
/// unsigned `LastConfig` as Fabric v1.4.1+ writes it, the other slots stay empty.
fn metadata_slots(
    last_config: u64,
    header_asn1: &[u8],
    signer: Option<&LocalSigner>,
    consenter_value: &[u8],
) -> Result<Vec<Bytes>, Error> {
    let mut slots = vec![Bytes::new(); METADATA_SLOTS];
    if !consenter_value.is_empty() {
        slots[SLOT_ORDERER] = Metadata {
            value: Bytes::copy_from_slice(consenter_value),
            signatures: Vec::new(),
        }
        .encode_to_vec()
        .into();
    }
    let value: Bytes = OrdererBlockMetadata {
        last_config: Some(LastConfig { index: last_config }),
        consenter_metadata: slots[SLOT_ORDERER].clone(),
    }
    .encode_to_vec()
    .into();
    let mut signatures = Vec::new();
    if let Some(signer) = signer {
        let signature_header: Bytes = SignatureHeader {
            creator: signer.creator().clone(),
            nonce: Bytes::copy_from_slice(&signer.nonce()),
        }
        .encode_to_vec()
        .into();
        let signed = [&value[..], &signature_header[..], header_asn1].concat();
        signatures.push(MetadataSignature {
            signature: signer.sign(&signed)?.into(),
            signature_header,
            identifier_header: Bytes::new(),
        });
    }
    slots[SLOT_SIGNATURES] = Metadata { value, signatures }.encode_to_vec().into();
    slots[SLOT_LAST_CONFIG] = Metadata {
        value: LastConfig { index: last_config }.encode_to_vec().into(),
        signatures: Vec::new(),
    }
    .encode_to_vec()
    .into();
    Ok(slots)
}

/// Block 0 of a channel created through the system channel, as Fabric's registrar writes
/// it (`blockledger.CreateNextBlock` on an empty ledger): the CONFIG envelope alone, no
/// previous hash, five empty metadata entries, unsigned.
pub fn genesis(config_envelope: Bytes) -> Bytes {
    let envelopes = vec![config_envelope];
    let data_hash = hash::data_hash(&envelopes);
    Block {
        header: Some(BlockHeader {
            number: 0,
            previous_hash: Bytes::new(),
            data_hash: Bytes::copy_from_slice(&data_hash),
        }),
        data: Some(BlockData { data: envelopes }),
        metadata: Some(BlockMetadata {
            metadata: vec![Bytes::new(); METADATA_SLOTS],
        }),
    }
    .encode_to_vec()
    .into()
}

/// Reads the header of a stored block and returns its tip, taking `last_config` from
/// the block's LAST_CONFIG entry (0 when absent, as in a genesis block).
pub fn tip_of(block_bytes: &[u8]) -> Result<ChainTip, Error> {
    let block = Block::decode(block_bytes).map_err(|source| Error::Decode {
        what: "stored block",
        source,
    })?;
    let header = block.header.unwrap_or_default();
    let last_config = block
        .metadata
        .and_then(|metadata| metadata.metadata.get(SLOT_LAST_CONFIG).cloned())
        .and_then(|entry| Metadata::decode(entry).ok())
        .and_then(|entry| LastConfig::decode(entry.value).ok())
        .map_or(0, |last| last.index);
    Ok(ChainTip {
        number: header.number,
        header_hash: hash::header_hash(header.number, &header.previous_hash, &header.data_hash),
        last_config,
    })
}

/// The consenter's value kept in a stored block: the ORDERER slot's `Metadata.value`
/// (Fabric v1.4), else `OrdererBlockMetadata.consenter_metadata` in the SIGNATURES slot
/// (Fabric v2 reads it there). Empty when the block has none (a genesis or solo block).
pub fn consenter_value_of(block_bytes: &[u8]) -> Result<Bytes, Error> {
    let decode = |what, source| Error::Decode { what, source };
    let block = Block::decode(block_bytes).map_err(|source| decode("stored block", source))?;
    let slots = block.metadata.unwrap_or_default().metadata;
    let entry = |slot: usize| slots.get(slot).cloned().unwrap_or_default();
    let orderer = Metadata::decode(entry(SLOT_ORDERER))
        .map_err(|source| decode("ORDERER metadata", source))?;
    if !orderer.value.is_empty() {
        return Ok(orderer.value);
    }
    let signatures = Metadata::decode(entry(SLOT_SIGNATURES))
        .map_err(|source| decode("SIGNATURES metadata", source))?;
    let value = OrdererBlockMetadata::decode(signatures.value)
        .map_err(|source| decode("OrdererBlockMetadata", source))?;
    let consenter = Metadata::decode(value.consenter_metadata)
        .map_err(|source| decode("consenter metadata", source))?;
    Ok(consenter.value)
}

/// The block with its data left out, as Fabric 3.x sends it for `HEADER_WITH_SIG`
/// (config blocks keep their data). Copies the stored header and metadata fields as
/// they are.
pub fn without_data(block_bytes: &Bytes) -> Result<Bytes, Error> {
    let block = Block::decode(block_bytes.clone()).map_err(|source| Error::Decode {
        what: "stored block",
        source,
    })?;
    if block.data.as_ref().is_some_and(is_config_data) {
        return Ok(block_bytes.clone());
    }
    let stripped = Block {
        data: None,
        ..block
    };
    Ok(stripped.encode_to_vec().into())
}

fn is_config_data(data: &BlockData) -> bool {
    use orderer_proto::common::{ChannelHeader, Envelope, HeaderType, Payload};
    let Some(first) = data.data.first() else {
        return false;
    };
    Envelope::decode(first.clone())
        .ok()
        .and_then(|envelope| Payload::decode(envelope.payload).ok())
        .and_then(|payload| payload.header)
        .and_then(|header| ChannelHeader::decode(header.channel_header).ok())
        .is_some_and(|header| header.r#type == HeaderType::Config as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembled_blocks_chain_by_header_hash() {
        let mut tip = ChainTip {
            number: 0,
            header_hash: [9; 32],
            last_config: 0,
        };
        let first = assemble(&mut tip, vec![Bytes::from_static(b"a")], None).unwrap();
        let second = assemble(&mut tip, vec![Bytes::from_static(b"b")], None).unwrap();
        let first_tip = tip_of(&first.bytes).unwrap();
        let second_block = Block::decode(second.bytes.clone()).unwrap();
        let header = second_block.header.unwrap();
        assert_eq!(header.number, 2);
        assert_eq!(&header.previous_hash[..], &first_tip.header_hash[..]);
        assert_eq!(tip_of(&second.bytes).unwrap(), tip);
    }

    #[test]
    fn metadata_has_five_slots_with_last_config() {
        let slots = metadata_slots(0, &[], None, &[]).unwrap();
        assert_eq!(slots.len(), METADATA_SLOTS);
        // Metadata{value: OrdererBlockMetadata{last_config: LastConfig{}}}, as Fabric writes it.
        assert_eq!(&slots[SLOT_SIGNATURES][..], &[0x0a, 0x02, 0x0a, 0x00]);
        assert!(slots[SLOT_LAST_CONFIG].is_empty());
        assert!(slots[2..].iter().all(Bytes::is_empty));
        let slots = metadata_slots(3, &[], None, &[]).unwrap();
        assert_eq!(&slots[SLOT_LAST_CONFIG][..], &[0x0a, 0x02, 0x08, 0x03]);
    }

    #[test]
    fn consenter_value_goes_to_the_orderer_slot_and_the_signed_value() {
        let mut tip = ChainTip {
            number: 0,
            header_hash: [1; 32],
            last_config: 0,
        };
        let value = [0x08, 0x2a]; // KafkaMetadata{last_offset_persisted: 42}
        let block = assemble_with(&mut tip, vec![Bytes::from_static(b"a")], None, &value).unwrap();
        let slots = Block::decode(block.bytes.clone())
            .unwrap()
            .metadata
            .unwrap()
            .metadata;
        // Metadata{value}, as Fabric v1.4's block writer puts it in the ORDERER slot.
        assert_eq!(&slots[SLOT_ORDERER][..], &[0x0a, 0x02, 0x08, 0x2a]);
        let signed = Metadata::decode(slots[SLOT_SIGNATURES].clone()).unwrap();
        let orderer = OrdererBlockMetadata::decode(signed.value).unwrap();
        assert_eq!(orderer.consenter_metadata, slots[SLOT_ORDERER]);
        assert_eq!(&consenter_value_of(&block.bytes).unwrap()[..], &value);
        let plain = assemble(&mut tip, vec![Bytes::from_static(b"b")], None).unwrap();
        assert!(consenter_value_of(&plain.bytes).unwrap().is_empty());
    }
}
