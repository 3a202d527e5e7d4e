//! Writers and Readers checks on signed envelopes, through [`engine::admission`]:
//! Fabric's own signed envelopes against Fabric's genesis block, every way an envelope is
//! refused, channels without organizations, and expiry by capability and by node setting.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use engine::admission::{self, Rules};
use engine::config::ChannelConfig;
use engine::envelope::SignedData;
use engine::rejection::Rejection;
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

/// Broadcast's checks after decoding (expiry by capability, signature, Writers).
fn write(config: &ChannelConfig, signed: &SignedData, now_unix: i64) -> Result<(), Rejection> {
    admission::authorize_writer(config, signed, Rules::default(), now_unix)
}

/// Deliver's checks (expiry, signature, Readers).
fn read(config: &ChannelConfig, signed: &SignedData, now_unix: i64) -> Result<i64, Rejection> {
    admission::authorize_reader(&config.access, signed, Rules::default(), now_unix)
        .map(|admitted| admitted.expires_at_unix)
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
    let config = channel();
    write(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap();
    read(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap();
}

/// A creator that signs often is verified with its key's table from then on; the table
/// path accepts Fabric's envelopes and refuses the same forgeries as ring's.
#[test]
fn frequent_signer_gets_a_key_table_with_the_same_verdicts() {
    let config = channel();
    for _ in 0..engine::access::KEY_TABLE_AFTER_USES - 1 {
        write(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap();
    }
    assert_eq!(config.access.key_tables(), 0);
    write(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap();
    assert_eq!(config.access.key_tables(), 1);
    for name in [
        "envelope_0_size1024.pb",
        "envelope_0_size256.pb",
        "envelope_1_size1024.pb",
        "envelope_1_size256.pb",
    ] {
        write(&config, &fabric_signed_file(name), BEFORE_EXPIRY).unwrap();
        let mut flipped = fabric_signed_file(name);
        let mut signature = flipped.signature.to_vec();
        signature[12] ^= 0x04;
        flipped.signature = signature.into();
        let rejection = write(&config, &flipped, BEFORE_EXPIRY).unwrap_err();
        assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
        let mut twin = fabric_signed_file(name);
        twin.signature = engine::signature::negate_s(&twin.signature).unwrap().into();
        let rejection = write(&config, &twin, BEFORE_EXPIRY).unwrap_err();
        assert!(rejection.info.contains("high S"), "{}", rejection.info);
    }
    assert_eq!(config.access.key_tables(), 1, "one creator, one table");
}

#[test]
fn expired_identity_is_bad_request() {
    let rejection = write(&channel(), &fabric_signed(), AFTER_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest);
    assert_eq!(rejection.info, "identity expired");
}

#[test]
fn flipped_signature_bit_is_forbidden() {
    let mut signed = fabric_signed();
    let mut signature = signed.signature.to_vec();
    signature[12] ^= 0x04;
    signed.signature = signature.into();
    let rejection = write(&channel(), &signed, BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
}

#[test]
fn high_s_twin_of_a_valid_signature_is_forbidden() {
    let mut signed = fabric_signed();
    signed.signature = engine::signature::negate_s(&signed.signature)
        .unwrap()
        .into();
    let rejection = write(&channel(), &signed, BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
    assert!(rejection.info.contains("high S"), "{}", rejection.info);
}

/// Signed by a `SampleOrg` identity of a CA the channel does not know (valid until 2099).
fn stranger_signed() -> SignedData {
    let stranger = TestCa::root("stranger");
    let issued = stranger.issue("mallory", &[], 5);
    let signer = loadgen::msp::Signer::new(
        "SampleOrg",
        issued.pem.as_bytes(),
        &issued.key.serialize_der(),
    )
    .unwrap();
    let payload = Bytes::from_static(b"payload");
    SignedData {
        creator: signer.creator().clone(),
        signature: signer.sign(&payload).unwrap().into(),
        payload,
    }
}

#[test]
fn identity_from_an_unknown_ca_is_forbidden() {
    let signed = stranger_signed();
    let rejection = write(&channel(), &signed, BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
    assert!(
        rejection.info.contains("does not chain"),
        "{}",
        rejection.info
    );
}

#[test]
fn creator_that_does_not_parse_is_forbidden() {
    let config = channel();
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
        let rejection = write(&config, &signed, BEFORE_EXPIRY).unwrap_err();
        assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
    }
}

/// `channel()` with its root config group changed by `edit` first. (Test bytes:
/// re-encoding is fine here.)
fn channel_edited(edit: impl FnOnce(&mut orderer_proto::common::ConfigGroup)) -> ChannelConfig {
    use orderer_proto::common::{Block, ConfigEnvelope};
    let mut block =
        Block::decode(
            &std::fs::read(vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block"))
                .unwrap()[..],
        )
        .unwrap();
    let data = block.data.as_mut().unwrap();
    let mut envelope = Envelope::decode(data.data[0].clone()).unwrap();
    let mut payload = Payload::decode(envelope.payload.clone()).unwrap();
    let mut config = ConfigEnvelope::decode(payload.data.clone()).unwrap();
    edit(
        config
            .config
            .as_mut()
            .unwrap()
            .channel_group
            .as_mut()
            .unwrap(),
    );
    payload.data = config.encode_to_vec().into();
    envelope.payload = payload.encode_to_vec().into();
    data.data[0] = envelope.encode_to_vec().into();
    ChannelConfig::from_block(&block.encode_to_vec()).unwrap()
}

/// `channel()` with the Orderer group's capabilities removed: a channel on which Fabric
/// does not check a Broadcast signer's expiry.
fn channel_without_capabilities() -> ChannelConfig {
    let config = channel_edited(|root| {
        let orderer = root.groups.get_mut("Orderer").unwrap();
        assert!(orderer.values.remove("Capabilities").is_some());
    });
    assert!(!config.expiration_check());
    config
}

/// Fabric's `SigFilter` answers a policy the channel does not define with a plain error,
/// which Broadcast classifies BAD_REQUEST; Deliver's session check answers FORBIDDEN.
#[test]
fn an_undefined_policy_is_bad_request_on_broadcast_and_forbidden_on_deliver() {
    let config = channel_edited(|root| {
        assert!(root.policies.remove("Writers").is_some());
        assert!(root.policies.remove("Readers").is_some());
    });
    let rejection = write(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest, "{}", rejection.info);
    assert!(
        rejection.info.contains("/Channel/Writers"),
        "{}",
        rejection.info
    );
    let rejection = read(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
}

/// A channel whose config has no organizations (configtxgen's `SampleInsecureSolo`):
/// every Readers and Writers policy is an implicit meta policy over nothing, threshold 0,
/// met without looking at any identity (Fabric's common/policies/implicitmeta.go).
fn channel_without_orgs() -> ChannelConfig {
    let spec = engine::genesis::GenesisSpec {
        channel_id: "insecure".into(),
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
    ChannelConfig::from_block(&spec.build()).unwrap()
}

#[test]
fn channel_without_organizations_admits_any_envelope() {
    let config = channel_without_orgs();
    let mut flipped = fabric_signed();
    let mut signature = flipped.signature.to_vec();
    signature[12] ^= 0x04;
    flipped.signature = signature.into();
    let payload = Bytes::from_static(b"payload");
    for signed in [
        SignedData {
            creator: Bytes::new(),
            payload: payload.clone(),
            signature: Bytes::new(),
        },
        SignedData {
            creator: Bytes::from_static(b"\xff\xff not an identity"),
            payload,
            signature: Bytes::from_static(b"not a signature"),
        },
        flipped,
        fabric_signed(),
    ] {
        write(&config, &signed, BEFORE_EXPIRY).unwrap();
        read(&config, &signed, BEFORE_EXPIRY).unwrap();
    }
    // Fabric's expiration rule reads the certificate alone, before the policy: an expired
    // certificate is still refused where the capability asks for the check.
    let rejection = write(&config, &fabric_signed(), AFTER_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest);
    let rejection = read(&config, &fabric_signed(), AFTER_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
}

/// Fabric's `expirationRejectRule` (orderer/common/msgprocessor/expiration.go) applies
/// only when the Orderer capabilities enable ExpirationCheck; Deliver's session access
/// control (common/deliver/acl.go) always checks expiry.
#[test]
fn broadcast_checks_expiry_only_with_the_capability_deliver_always() {
    let config = channel_without_capabilities();
    write(&config, &fabric_signed(), AFTER_EXPIRY).unwrap();
    let rejection = read(&config, &fabric_signed(), AFTER_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden);
    assert_eq!(rejection.info, "client identity expired");
    let with_capability = channel();
    assert!(with_capability.expiration_check());
    let rejection = write(&with_capability, &fabric_signed(), AFTER_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest);
}

/// `General.Authentication.NoExpirationChecks: true` turns both checks off, and a Deliver
/// session then never ends for expiry.
#[test]
fn no_expiration_checks_admits_expired_signers_everywhere() {
    let config = channel();
    let off = Rules {
        expiration_checks: false,
    };
    admission::authorize_writer(&config, &fabric_signed(), off, AFTER_EXPIRY).unwrap();
    let admitted =
        admission::authorize_reader(&config.access, &fabric_signed(), off, AFTER_EXPIRY).unwrap();
    assert_eq!(admitted.expires_at_unix, i64::MAX);
    let expires_at = read(&config, &fabric_signed(), BEFORE_EXPIRY).unwrap();
    assert!(expires_at > BEFORE_EXPIRY && expires_at < AFTER_EXPIRY);
}

/// Expiry comes before the signature filter, as in Fabric's rule order: an expired
/// certificate of an unknown CA is BAD_REQUEST ("identity expired"), not FORBIDDEN.
#[test]
fn expiry_is_judged_before_the_identity_is_validated() {
    let signed = stranger_signed();
    // The test CA's certificates are valid until 2099.
    let after_2099 = 4_102_444_800 + 86_400;
    let rejection = write(&channel(), &signed, after_2099).unwrap_err();
    assert_eq!(rejection.status, Status::BadRequest, "{}", rejection.info);
    assert_eq!(rejection.info, "identity expired");
    let rejection = write(&channel(), &signed, BEFORE_EXPIRY).unwrap_err();
    assert_eq!(rejection.status, Status::Forbidden, "{}", rejection.info);
}
