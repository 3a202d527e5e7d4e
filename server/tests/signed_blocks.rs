//! Blocks are signed by the orderer's local MSP. The check here decodes the SIGNATURES
//! metadata and verifies the signature with ring and its own DER encoding of the header,
//! sharing nothing with the signing code.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use loadgen::client::BroadcastStream;
use orderer_proto::common::{Metadata, OrdererBlockMetadata, SignatureHeader};
use orderer_proto::msp::SerializedIdentity;
use prost::Message;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_carry_the_local_msp_signature() {
    let ledger = tempfile::tempdir().unwrap();
    let orderer = TestOrderer::start_fabric(ledger.path()).await;
    let mut client = orderer.client().await;
    let mut stream = BroadcastStream::open(&mut client).await.unwrap();
    let signer = fabric_signer();
    broadcast_all(&mut stream, &[message_by(&signer, CHANNEL, b"signed")]).await;
    let block = decode_block(&fetch_blocks_as(&mut client, &signer, 1, 1).await[0]);

    let header = block.header.clone().unwrap();
    let slot = &block.metadata.unwrap().metadata[0];
    let metadata = Metadata::decode(slot.clone()).unwrap();
    let value = OrdererBlockMetadata::decode(metadata.value.clone()).unwrap();
    assert_eq!(value.last_config.unwrap().index, 0);
    assert_eq!(metadata.signatures.len(), 1);
    let signature = &metadata.signatures[0];
    let signature_header = SignatureHeader::decode(signature.signature_header.clone()).unwrap();
    assert_eq!(signature_header.nonce.len(), 24);
    let creator = SerializedIdentity::decode(signature_header.creator).unwrap();
    assert_eq!(creator.mspid, "SampleOrg");
    let expected_cert = std::fs::read(vectors().join("msp/signcerts/peer.pem")).unwrap();
    assert_eq!(&creator.id_bytes[..], &expected_cert[..]);

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
