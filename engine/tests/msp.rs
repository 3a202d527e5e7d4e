//! MSP identity validation and principals, on Fabric's sample MSP and on test CAs.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use bytes::Bytes;
use engine::msp::cert::Cert;
use engine::msp::{IdentityError, Msp, MspManager, NodeRole};
use orderer_proto::common::msp_principal::Classification;
use orderer_proto::common::msp_role::MspRoleType;
use orderer_proto::common::{
    Block, ConfigEnvelope, Envelope, MspPrincipal, OrganizationUnit, Payload,
};
use orderer_proto::msp::{FabricOuIdentifier, SerializedIdentity};
use prost::Message;
use support::*;

fn creator(msp: &str, pem: &str) -> Vec<u8> {
    SerializedIdentity {
        mspid: msp.into(),
        id_bytes: Bytes::from(pem.to_string()),
    }
    .encode_to_vec()
}

fn vectors() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-vectors")
}

#[test]
fn fabric_sample_identity_validates_against_the_genesis_msp() {
    let block =
        Block::decode(
            &std::fs::read(vectors().join("genesis/v1.4.12/appchannel.solo.genesis.block"))
                .unwrap()[..],
        )
        .unwrap();
    let envelope = Envelope::decode(block.data.unwrap().data[0].clone()).unwrap();
    let payload = Payload::decode(envelope.payload).unwrap();
    let root = ConfigEnvelope::decode(payload.data)
        .unwrap()
        .config
        .unwrap()
        .channel_group
        .unwrap();
    let org = &root.groups["Application"].groups["SampleOrg"];
    let msp = Msp::from_config_value(&org.values["MSP"].value).unwrap();
    let manager = MspManager::new([msp]);
    let pem = std::fs::read_to_string(vectors().join("msp/signcerts/peer.pem")).unwrap();
    let identity = manager.deserialize(&creator("SampleOrg", &pem)).unwrap();
    assert!(identity.satisfies(&role("SampleOrg", MspRoleType::Member)));
    assert!(!identity.satisfies(&role("OtherOrg", MspRoleType::Member)));
    assert_eq!(
        manager.deserialize(&creator("OtherOrg", &pem)).unwrap_err(),
        IdentityError::UnknownMsp("OtherOrg".into())
    );
}

#[test]
fn members_chain_to_the_root_and_strangers_do_not() {
    let root = TestCa::root("root");
    let stranger = TestCa::root("stranger");
    let msp = Msp::from_fabric_config(&msp_config("Org1", &root)).unwrap();
    let member = Cert::from_pem(root.issue("alice", &[], 10).pem.as_bytes()).unwrap();
    let identity = msp.validate(member).unwrap();
    assert!(identity.satisfies(&role("Org1", MspRoleType::Member)));
    assert!(!identity.satisfies(&role("Org1", MspRoleType::Admin)));
    let foreign = Cert::from_pem(stranger.issue("mallory", &[], 10).pem.as_bytes()).unwrap();
    assert!(matches!(
        msp.validate(foreign),
        Err(IdentityError::Invalid { .. })
    ));
    let ca_as_identity = Cert::from_pem(root.pem.as_bytes()).unwrap();
    assert!(
        msp.validate(ca_as_identity).is_err(),
        "a CA certificate is no identity"
    );
}

#[test]
fn identities_under_an_intermediate_ca_validate() {
    let root = TestCa::root("root");
    let intermediate = root.intermediate("intermediate");
    let mut config = msp_config("Org1", &root);
    config
        .intermediate_certs
        .push(Bytes::from(intermediate.pem.clone()));
    let msp = Msp::from_fabric_config(&config).unwrap();
    let leaf = Cert::from_pem(intermediate.issue("bob", &[], 11).pem.as_bytes()).unwrap();
    assert!(msp.validate(leaf).is_ok());
}

#[test]
fn revoked_identities_are_refused() {
    let root = TestCa::root("root");
    let mut config = msp_config("Org1", &root);
    config.revocation_list.push(Bytes::from(root.crl(&[66])));
    let msp = Msp::from_fabric_config(&config).unwrap();
    let revoked = Cert::from_pem(root.issue("eve", &[], 66).pem.as_bytes()).unwrap();
    let error = msp.validate(revoked).unwrap_err();
    assert!(error.to_string().contains("revoked"), "{error}");
    let fine = Cert::from_pem(root.issue("carol", &[], 67).pem.as_bytes()).unwrap();
    assert!(msp.validate(fine).is_ok());
}

#[test]
fn a_crl_not_signed_by_the_msp_is_a_config_error() {
    let root = TestCa::root("root");
    let other = TestCa::root("other");
    let mut config = msp_config("Org1", &root);
    config.revocation_list.push(Bytes::from(other.crl(&[1])));
    assert!(Msp::from_fabric_config(&config).is_err());
}

#[test]
fn admins_are_listed_certificates() {
    let root = TestCa::root("root");
    let admin = root.issue("admin", &[], 20);
    let mut config = msp_config("Org1", &root);
    config.admins.push(Bytes::from(admin.pem.clone()));
    let msp = Msp::from_fabric_config(&config).unwrap();
    let identity = msp
        .validate(Cert::from_pem(admin.pem.as_bytes()).unwrap())
        .unwrap();
    assert!(identity.satisfies(&role("Org1", MspRoleType::Admin)));
    assert!(identity.satisfies(&role("Org1", MspRoleType::Member)));
}

#[test]
fn node_ous_classify_identities() {
    let root = TestCa::root("root");
    let mut config = msp_config("Org1", &root);
    config.fabric_node_ous = Some(node_ous());
    let msp = Msp::from_fabric_config(&config).unwrap();
    let validate = |ous: &[&str], serial| {
        msp.validate(Cert::from_pem(root.issue("n", ous, serial).pem.as_bytes()).unwrap())
    };
    let client = validate(&["client"], 30).unwrap();
    assert_eq!(client.node_role, Some(NodeRole::Client));
    assert!(client.satisfies(&role("Org1", MspRoleType::Client)));
    assert!(!client.satisfies(&role("Org1", MspRoleType::Peer)));
    let orderer = validate(&["orderer"], 31).unwrap();
    assert!(orderer.satisfies(&role("Org1", MspRoleType::Orderer)));
    let admin = validate(&["admin"], 32).unwrap();
    assert!(admin.satisfies(&role("Org1", MspRoleType::Admin)));
    assert!(validate(&[], 33).is_err(), "no NodeOU role");
}

#[test]
fn ou_identifiers_restrict_members_and_ou_principals_match() {
    let root = TestCa::root("root");
    let mut config = msp_config("Org1", &root);
    config
        .organizational_unit_identifiers
        .push(FabricOuIdentifier {
            certificate: Bytes::from(root.pem.clone()),
            organizational_unit_identifier: "COP".into(),
        });
    let msp = Msp::from_fabric_config(&config).unwrap();
    let cop = msp
        .validate(Cert::from_pem(root.issue("c", &["COP"], 40).pem.as_bytes()).unwrap())
        .unwrap();
    assert!(
        msp.validate(Cert::from_pem(root.issue("d", &["other"], 41).pem.as_bytes()).unwrap())
            .is_err()
    );
    let principal = |ou: &str, certifiers: &[u8]| MspPrincipal {
        principal_classification: Classification::OrganizationUnit as i32,
        principal: OrganizationUnit {
            msp_identifier: "Org1".into(),
            organizational_unit_identifier: ou.into(),
            certifiers_identifier: Bytes::copy_from_slice(certifiers),
        }
        .encode_to_vec()
        .into(),
    };
    assert!(cop.satisfies(&principal("COP", &cop.chain_id)));
    assert!(!cop.satisfies(&principal("COP", &[0; 32])));
    assert!(!cop.satisfies(&principal("other", &cop.chain_id)));
}

/// TLS CAs are only the TLS stack's business: an RSA one (common with corporate PKIs) is
/// accepted, as Fabric's MSP accepts any X.509 CA there.
#[test]
fn tls_cas_of_any_key_type_are_accepted_and_kept() {
    let root = TestCa::root("root");
    let mut config = msp_config("Org1", &root);
    let rsa = include_bytes!("data/rsa-tls-ca.pem");
    config.tls_root_certs = vec![Bytes::from_static(rsa)];
    let msp = Msp::from_fabric_config(&config).unwrap();
    let manager = engine::msp::MspManager::new([msp]);
    assert_eq!(manager.tls_cas_pem().count(), 1);
    config.tls_root_certs = vec![Bytes::from_static(b"not a certificate")];
    let error = Msp::from_fabric_config(&config).unwrap_err();
    assert!(error.contains("TLS root cert"), "{error}");
}
