//! Test CAs made with rcgen, and MSP configs over them.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use orderer_proto::common::msp_principal::Classification;
use orderer_proto::common::msp_role::MspRoleType;
use orderer_proto::common::{MspPrincipal, MspRole};
use orderer_proto::msp::{FabricMspConfig, FabricNodeOUs, FabricOuIdentifier};
use prost::Message;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer,
    KeyIdMethod, KeyPair, RevokedCertParams, SerialNumber,
};

/// A certificate authority for tests.
pub struct TestCa {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// An issued identity: its certificate and key.
pub struct TestIdentity {
    pub pem: String,
    pub key: KeyPair,
    pub serial: u64,
}

fn params(common_name: &str, ous: &[&str], serial: u64) -> CertificateParams {
    let mut params = CertificateParams::new(vec![]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    for ou in ous {
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, *ou);
    }
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    params
}

impl TestCa {
    pub fn root(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = params(name, &[], 1);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    pub fn intermediate(&self, name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = params(name, &[], 2);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    pub fn issue(&self, common_name: &str, ous: &[&str], serial: u64) -> TestIdentity {
        self.issue_valid(common_name, ous, serial, (2020, 2099))
    }

    /// An identity valid from January of `years.0` to January of `years.1`.
    pub fn issue_valid(
        &self,
        common_name: &str,
        ous: &[&str],
        serial: u64,
        years: (i32, i32),
    ) -> TestIdentity {
        let key = KeyPair::generate().unwrap();
        let mut params = params(common_name, ous, serial);
        params.not_before = rcgen::date_time_ymd(years.0, 1, 1);
        params.not_after = rcgen::date_time_ymd(years.1, 1, 1);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        TestIdentity {
            pem: cert.pem(),
            key,
            serial,
        }
    }

    pub fn crl(&self, serials: &[u64]) -> String {
        let params = CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2024, 1, 1),
            next_update: rcgen::date_time_ymd(2098, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from(*serial),
                    revocation_time: rcgen::date_time_ymd(2024, 1, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).unwrap().pem().unwrap()
    }
}

/// A FabricMSPConfig with `root` as its only root CA.
pub fn msp_config(name: &str, root: &TestCa) -> FabricMspConfig {
    FabricMspConfig {
        name: name.into(),
        root_certs: vec![Bytes::from(root.pem.clone())],
        ..FabricMspConfig::default()
    }
}

/// NodeOUs client/peer/admin/orderer, certified by any of the MSP's CAs.
pub fn node_ous() -> FabricNodeOUs {
    let ou = |name: &str| {
        Some(FabricOuIdentifier {
            certificate: Bytes::new(),
            organizational_unit_identifier: name.into(),
        })
    };
    FabricNodeOUs {
        enable: true,
        client_ou_identifier: ou("client"),
        peer_ou_identifier: ou("peer"),
        admin_ou_identifier: ou("admin"),
        orderer_ou_identifier: ou("orderer"),
    }
}

/// A ROLE principal.
pub fn role(msp: &str, role: MspRoleType) -> MspPrincipal {
    MspPrincipal {
        principal_classification: Classification::Role as i32,
        principal: MspRole {
            msp_identifier: msp.into(),
            role: role as i32,
        }
        .encode_to_vec()
        .into(),
    }
}
