//! Blocks are signed by the orderer's local MSP. The check here decodes the SIGNATURES
//! metadata and verifies the signature with ring and its own DER encoding of the header,
//! sharing nothing with the signing code. The ORDERER slot carries the consenter's
//! value: nothing for solo, for Kafka a `Metadata` holding the KafkaMetadata of the
//! block's last offset.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use loadgen::client::BroadcastStream;
use orderer_proto::common::{Metadata, OrdererBlockMetadata, SignatureHeader};
use orderer_proto::msp::SerializedIdentity;
use orderer_proto::orderer::KafkaMetadata;
use prost::Message;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use support::backend::{Backend, generic};
use support::*;
use x509_parser::prelude::{FromDer, X509Certificate};

/// DER of `SEQUENCE { INTEGER number, OCTET STRING previous, OCTET STRING data }`, for
/// block numbers below 128 and 32-byte hashes.
fn header_der(number: u64, previous: &[u8], data: &[u8]) -> Vec<u8> {
    assert!(number < 128 && previous.len() == 32 && data.len() == 32);
    let mut out = vec![0x30, 3 + 34 + 34, 0x02, 0x01, number as u8, 0x04, 32];
    out.extend_from_slice(previous);
    out.extend_from_slice(&[0x04, 32]);
    out.extend_from_slice(data);
    out
}

async fn blocks_carry_the_local_msp_signature(backend: &Backend) {
    let (channel, genesis_block) = backend.channel("signed");
    let ledger = tempfile::tempdir().unwrap();
    let orderer = backend.start(ledger.path(), &genesis_block).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    broadcast_all(&mut stream, &[message(&channel, b"signed")]).await;
    let block = decode_block(&fetch_blocks(&mut client, &channel, 1, 1).await[0]);

    let header = block.header.clone().unwrap();
    let slot = &block.metadata.unwrap().metadata[0];
    let metadata = Metadata::decode(slot.clone()).unwrap();
    let value = OrdererBlockMetadata::decode(metadata.value.clone()).unwrap();
    assert_eq!(value.last_config.unwrap().index, 0);
    match backend {
        Backend::Solo => assert!(value.consenter_metadata.is_empty()),
        // The topic holds the CONNECT at offset 0, the envelope at 1 and the time-to-cut
        // that cut the block at 2: a block cut by time-to-cut records the latter's offset.
        Backend::Kafka(_) => {
            let consenter = Metadata::decode(value.consenter_metadata.clone()).unwrap();
            assert_eq!(
                KafkaMetadata::decode(consenter.value).unwrap(),
                KafkaMetadata {
                    last_offset_persisted: 2,
                    last_original_offset_processed: 0,
                    last_resubmitted_config_offset: 0,
                }
            );
        }
    }
    assert_eq!(metadata.signatures.len(), 1);
    let signature = &metadata.signatures[0];
    let signature_header = SignatureHeader::decode(signature.signature_header.clone()).unwrap();
    assert_eq!(signature_header.nonce.len(), 24);
    let creator = SerializedIdentity::decode(signature_header.creator).unwrap();
    assert_eq!(creator.mspid, ORG);
    assert_eq!(&creator.id_bytes[..], org().orderer.cert_pem.as_bytes());

    let pem = std::str::from_utf8(&creator.id_bytes).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64_decode(&body);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let public_key = cert.public_key().subject_public_key.data.to_vec();
    let mut signed = metadata.value.to_vec();
    signed.extend_from_slice(&signature.signature_header);
    signed.extend_from_slice(&header_der(
        header.number,
        &header.previous_hash,
        &header.data_hash,
    ));
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public_key)
        .verify(&signed, &signature.signature)
        .expect("the block signature verifies with the orderer org's certificate");
    orderer.stop().await;
}

generic!(blocks_carry_the_local_msp_signature);

fn base64_decode(text: &str) -> Vec<u8> {
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64"),
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(table).collect();
    bytes
        .chunks(4)
        .flat_map(|chunk| {
            let mut n = 0u32;
            for (i, &v) in chunk.iter().enumerate() {
                n |= u32::from(v) << (18 - 6 * i);
            }
            let out = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out[..chunk.len() - 1].to_vec()
        })
        .collect()
}
