//! Block hashing reproduces Fabric's on blocks Fabric's own orderer cut.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use engine::hash;
use orderer_proto::common::Block;
use prost::Message;

fn block(name: &str) -> Block {
    let dir = std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    );
    Block::decode(&std::fs::read(dir.join("blocks").join(name)).unwrap()[..]).unwrap()
}

const BLOCKS: [&str; 4] = [
    "block_213_size256.pb",
    "block_214_size256.pb",
    "block_215_size1024.pb",
    "block_216_size1024.pb",
];

#[test]
fn data_hashes_match_fabric() {
    for name in BLOCKS {
        let block = block(name);
        let header = block.header.unwrap();
        let computed = hash::data_hash(&block.data.unwrap().data);
        assert_eq!(&computed[..], &header.data_hash[..], "{name}");
    }
}

#[test]
fn header_hash_chain_213_to_216_matches_fabric() {
    let blocks: Vec<Block> = BLOCKS.iter().map(|name| block(name)).collect();
    for pair in blocks.windows(2) {
        let (previous, next) = (
            pair[0].header.as_ref().unwrap(),
            pair[1].header.as_ref().unwrap(),
        );
        assert_eq!(next.number, previous.number + 1);
        let computed = hash::header_hash(
            previous.number,
            &previous.previous_hash,
            &previous.data_hash,
        );
        assert_eq!(
            &computed[..],
            &next.previous_hash[..],
            "block {}",
            next.number
        );
    }
}

#[test]
fn assembled_block_matches_fabric_block_215_data() {
    let fabric = block("block_215_size1024.pb");
    let header = fabric.header.clone().unwrap();
    let envelopes = fabric.data.clone().unwrap().data;
    let mut tip = engine::block::ChainTip {
        number: 214,
        header_hash: header.previous_hash.as_ref().try_into().unwrap(),
        last_config: 0,
    };
    let ours = engine::block::assemble(&mut tip, envelopes, None).unwrap();
    let ours = Block::decode(ours.bytes).unwrap();
    assert_eq!(
        ours.header.unwrap(),
        header,
        "same number, previous hash and data hash"
    );
    assert_eq!(ours.data, fabric.data);
    let next = block("block_216_size1024.pb").header.unwrap();
    assert_eq!(&tip.header_hash[..], &next.previous_hash[..]);
}

/// Fabric's own block signature verifies under the rule our block signer follows:
/// ECDSA over `value || signature_header || header DER`, by the orderer org's certificate.
#[test]
fn fabric_block_signature_verifies_over_value_header_and_header_der() {
    use orderer_proto::common::{Metadata, SignatureHeader};
    use orderer_proto::msp::SerializedIdentity;
    for name in BLOCKS {
        let block = block(name);
        let header = block.header.unwrap();
        let metadata = Metadata::decode(block.metadata.unwrap().metadata[0].clone()).unwrap();
        let signature = &metadata.signatures[0];
        let creator = SignatureHeader::decode(signature.signature_header.clone())
            .unwrap()
            .creator;
        let identity = SerializedIdentity::decode(creator).unwrap();
        let cert = engine::msp::cert::Cert::from_pem(&identity.id_bytes).unwrap();
        let signed = [
            &metadata.value[..],
            &signature.signature_header[..],
            &hash::header_asn1(header.number, &header.previous_hash, &header.data_hash),
        ]
        .concat();
        engine::signature::verify(&cert.public_key, &signed, &signature.signature).unwrap();
    }
}
