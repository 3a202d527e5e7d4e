//! Every file Fabric's tools made decodes with these types; envelopes and blocks encode
//! back to the same bytes. (Config groups hold protobuf maps that Fabric writes in random
//! order, so config is only decoded, never compared after re-encoding.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use orderer_proto::common::{Block, ConfigEnvelope, Envelope, Payload};
use prost::Message;

fn vectors() -> PathBuf {
    std::env::var_os("FABRIC_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors"),
        PathBuf::from,
    )
}

fn files(folder: &str) -> Vec<(String, Vec<u8>)> {
    let dir = vectors().join(folder);
    let mut out: Vec<_> = walk(&dir)
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no files under {}", dir.display());
    out
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn envelopes_decode_and_reencode_identically() {
    for (name, bytes) in files("envelopes") {
        let envelope = Envelope::decode(&bytes[..]).unwrap();
        assert_eq!(envelope.encode_to_vec(), bytes, "{name}");
        let payload = Payload::decode(envelope.payload).unwrap();
        assert_eq!(
            payload.encode_to_vec().len(),
            payload.encoded_len(),
            "{name}"
        );
        assert!(payload.header.is_some(), "{name}");
    }
}

#[test]
fn blocks_decode_and_reencode_identically() {
    for (name, bytes) in files("blocks") {
        let block = Block::decode(&bytes[..]).unwrap();
        assert_eq!(block.encode_to_vec(), bytes, "{name}");
        let data = block.data.unwrap();
        assert!(data.data.len() == 500 || data.data.len() == 100, "{name}");
        for envelope in &data.data {
            let decoded = Envelope::decode(envelope.clone()).unwrap();
            assert_eq!(&decoded.encode_to_vec()[..], &envelope[..], "{name}");
        }
        assert_eq!(block.metadata.unwrap().metadata.len(), 5, "{name}");
    }
}

#[test]
fn genesis_blocks_decode_down_to_their_config() {
    for (name, bytes) in files("genesis") {
        let block = Block::decode(&bytes[..]).unwrap();
        assert_eq!(block.header.as_ref().unwrap().number, 0, "{name}");
        assert_eq!(
            block.encode_to_vec(),
            bytes,
            "{name}: the block's own framing"
        );
        let envelope = Envelope::decode(block.data.unwrap().data[0].clone()).unwrap();
        let payload = Payload::decode(envelope.payload).unwrap();
        let config = ConfigEnvelope::decode(payload.data)
            .unwrap()
            .config
            .unwrap();
        let root = config.channel_group.unwrap();
        assert!(root.groups.contains_key("Orderer"), "{name}");
    }
}
