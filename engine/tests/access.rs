//! Writers and Readers checks on signed envelopes: Fabric's own signed envelopes against
//! Fabric's genesis block, and every way an envelope is refused.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use engine::access::{READERS, SignedData, WRITERS};
use engine::config::ChannelConfig;
use orderer_proto::common::{Envelope, Payload, SignatureHeader, Status};
use orderer_proto::msp::SerializedIdentity;
use prost::Message;
use support::*;

/// 2026-01-01 and 2028-01-01: inside and after the sample certificate's validity.
const BEFORE_EXPIRY: i64 = 1_767_225_600;
const AFTER_EXPIRY: i64 = 1_830_297_600;

fn vectors() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors")
}

fn channel() -> ChannelConfig {
    ChannelConfig::from_block(
        &std::fs::read(vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block")).unwrap(),
    )
    .unwrap()
}

fn fabric_signed() -> SignedData {
    fabric_signed_file("envelope_0_size1024.pb")
}

fn fabric_signed_file(name: &str) -> SignedData {
    let envelope =
        Envelope::decode(&std::fs::read(vectors().join("envelopes").join(name)).unwrap()[..])
            .unwrap();
    let payload = Payload::decode(envelope.payload.clone()).unwrap();
    let header = SignatureHeader::decode(payload.header.unwrap().signature_header).unwrap();
    SignedData {
        creator: header.creator,
        payload: envelope.payload,
        signature: envelope.signature,
    }
}

#[test]
fn fabric_signed_envelope_may_write_and_read() {
    let access = channel().access;
    access
        .check(&fabric_signed(), WRITERS, BEFORE_EXPIRY)
        .unwrap();
    access
        .check(&fabric_signed(), READERS, BEFORE_EXPIRY)
        .unwrap();
}

/// A creator that signs often is verified with its key's table from then on; the table
/// path accepts Fabric's envelopes and refuses the same forgeries as ring's.
#[test]
fn frequent_signer_gets_a_key_table_with_the_same_verdicts() {
    let access = channel().access;
    for _ in 0..engine::access::KEY_TABLE_AFTER_USES - 1 {
        access
            .check(&fabric_signed(), WRITERS, BEFORE_EXPIRY)
            .unwrap();
    }
    assert_eq!(access.key_tables(), 0);
    access
        .check(&fabric_signed(), WRITERS, BEFORE_EXPIRY)
        .unwrap();
    assert_eq!(access.key_tables(), 1);
    for name in [
        "envelope_0_size1024.pb",
        "envelope_0_size256.pb",
        "envelope_1_size1024.pb",
        "envelope_1_size256.pb",
    ] {
        access
            .check(&fabric_signed_file(name), WRITERS, BEFORE_EXPIRY)
            .unwrap();
        let mut flipped = fabric_signed_file(name);
        let mut signature = flipped.signature.to_vec();
        signature[12] ^= 0x04;
        flipped.signature = signature.into();
        let rejection = access.check(&flipped, WRITERS, BEFORE_EXPIRY).unwrap_err();
        assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
        let mut twin = fabric_signed_file(name);
        twin.signature = engine::signature::negate_s(&twin.signature).unwrap().into();
        let rejection = access.check(&twin, WRITERS, BEFORE_EXPIRY).unwrap_err();
        assert!(rejection.info.contains("high S"), "{}", rejection.info);
    }
    assert_eq!(access.key_tables(), 1, "one creator, one table");
}

#[test]
fn expired_identity_is_bad_request() {
    let rejection = channel()
        .access
        .check(&fabric_signed(), WRITERS, AFTER_EXPIRY)
        .unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest);
    assert_eq!(rejection.info, "identity expired");
}

#[test]
fn flipped_signature_bit_is_forbidden() {
    let mut signed = fabric_signed();
    let mut signature = signed.signature.to_vec();
    signature[12] ^= 0x04;
    signed.signature = signature.into();
    let rejection = channel()
        .access
        .check(&signed, WRITERS, BEFORE_EXPIRY)
        .unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
}

#[test]
fn high_s_twin_of_a_valid_signature_is_forbidden() {
    let mut signed = fabric_signed();
    signed.signature = engine::signature::negate_s(&signed.signature)
        .unwrap()
        .into();
    let rejection = channel()
        .access
        .check(&signed, WRITERS, BEFORE_EXPIRY)
        .unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
    assert!(rejection.info.contains("high S"), "{}", rejection.info);
}

#[test]
fn identity_from_an_unknown_ca_is_forbidden() {
    let stranger = TestCa::root("stranger");
    let issued = stranger.issue("mallory", &[], 5);
    let signer = loadgen::msp::Signer::new(
        "SampleOrg",
        issued.pem.as_bytes(),
        &issued.key.serialize_der(),
    )
    .unwrap();
    let payload = Bytes::from_static(b"payload");
    let signed = SignedData {
        creator: signer.creator().clone(),
        signature: signer.sign(&payload).unwrap().into(),
        payload,
    };
    let rejection = channel()
        .access
        .check(&signed, WRITERS, BEFORE_EXPIRY)
        .unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
    assert!(
        rejection.info.contains("does not chain"),
        "{}",
        rejection.info
    );
}

#[test]
fn creator_that_does_not_parse_is_forbidden() {
    let access = channel().access;
    for creator in [
        Bytes::from_static(b"\xff\xff"),
        SerializedIdentity {
            mspid: "SampleOrg".into(),
            id_bytes: Bytes::from_static(b"not a pem"),
        }
        .encode_to_vec()
        .into(),
        SerializedIdentity {
            mspid: "NoSuchOrg".into(),
            id_bytes: Bytes::new(),
        }
        .encode_to_vec()
        .into(),
    ] {
        let signed = SignedData {
            creator,
            ..fabric_signed()
        };
        let rejection = access.check(&signed, WRITERS, BEFORE_EXPIRY).unwrap_err();
        assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
    }
}
