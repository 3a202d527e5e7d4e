//! A development certificate authority made in memory with rcgen: the benchmark's embedded
//! channel and the tests need an org whose certificates outlive any sample's expiry.
//! Production orgs bring their own MSP directories; nothing here is meant for them.

use std::path::Path;

use bytes::Bytes;
use orderer_proto::msp::{FabricMspConfig, MspConfig};
use prost::Message;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, RevokedCertParams, SanType,
    SerialNumber,
};

use crate::Error;
use crate::msp::Signer;

/// Certificates are valid from 2020 to 2099: far past any run of this code.
const VALID_FROM_YEAR: i32 = 2020;
const VALID_TO_YEAR: i32 = 2099;

/// An org's root CA.
#[derive(Debug)]
pub struct DevCa {
    msp_id: String,
    pem: String,
    issuer: Issuer<'static, KeyPair>,
    next_serial: std::sync::atomic::AtomicU64,
}

/// A certificate issued by a [`DevCa`], with its key.
#[derive(Debug)]
pub struct Issued {
    /// The org's MSP ID.
    pub msp_id: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
    /// The certificate's serial number.
    pub serial: u64,
}

fn params(common_name: &str, ous: &[&str], serial: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    for ou in ous {
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, *ou);
    }
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_before = rcgen::date_time_ymd(VALID_FROM_YEAR, 1, 1);
    params.not_after = rcgen::date_time_ymd(VALID_TO_YEAR, 1, 1);
    params
}

fn msp_error(error: impl std::fmt::Display) -> Error {
    Error::Msp(error.to_string())
}

impl DevCa {
    /// A fresh self-signed root CA for the org `msp_id`.
    pub fn generate(msp_id: &str) -> Result<Self, Error> {
        let key = KeyPair::generate().map_err(msp_error)?;
        let mut params = params(&format!("ca.{}", msp_id.to_lowercase()), &[], 1);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).map_err(msp_error)?;
        Ok(Self {
            msp_id: msp_id.into(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
            next_serial: std::sync::atomic::AtomicU64::new(2),
        })
    }

    /// The org's MSP ID.
    pub fn msp_id(&self) -> &str {
        &self.msp_id
    }

    /// The root certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// A P-256 end-entity certificate with `ous` as organizational units.
    pub fn issue(&self, common_name: &str, ous: &[&str]) -> Result<Issued, Error> {
        self.issue_until(common_name, ous, VALID_TO_YEAR)
    }

    /// [`DevCa::issue`], valid until January 1st of `year`.
    pub fn issue_until(&self, common_name: &str, ous: &[&str], year: i32) -> Result<Issued, Error> {
        self.issue_with(common_name, ous, |params| {
            params.not_after = rcgen::date_time_ymd(year, 1, 1);
            Ok(())
        })
    }

    /// A TLS certificate for `names` (IP addresses or DNS names, also its subject
    /// alternative names), good for server and client authentication.
    pub fn issue_tls(&self, names: &[&str]) -> Result<Issued, Error> {
        let common_name = names.first().copied().unwrap_or("tls");
        self.issue_with(common_name, &[], |params| {
            params.subject_alt_names = names
                .iter()
                .map(|name| match name.parse::<std::net::IpAddr>() {
                    Ok(ip) => Ok(SanType::IpAddress(ip)),
                    Err(_) => rcgen::string::Ia5String::try_from(*name)
                        .map(SanType::DnsName)
                        .map_err(msp_error),
                })
                .collect::<Result<_, _>>()?;
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            Ok(())
        })
    }

    /// A P-256 end-entity certificate of this CA, its parameters changed by `edit`.
    fn issue_with(
        &self,
        common_name: &str,
        ous: &[&str],
        edit: impl FnOnce(&mut CertificateParams) -> Result<(), Error>,
    ) -> Result<Issued, Error> {
        let key = KeyPair::generate().map_err(msp_error)?;
        let serial = self
            .next_serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut params = params(common_name, ous, serial);
        edit(&mut params)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(msp_error)?;
        Ok(Issued {
            msp_id: self.msp_id.clone(),
            cert_pem: cert.pem(),
            key_pkcs8_der: key.serialize_der(),
            serial,
        })
    }

    /// The org's encoded `msp.MSPConfig` (type 0, Fabric's X.509 MSP): this CA as its only
    /// root, `admins` as its admins, no NodeOUs.
    pub fn msp_config(&self, admins: &[&Issued]) -> Bytes {
        self.msp_config_revoking(admins, &[])
            .unwrap_or_else(|_| unreachable!("no revocation list to sign"))
    }

    /// [`DevCa::msp_config`] with a revocation list, signed by this CA, of `revoked`.
    pub fn msp_config_revoking(
        &self,
        admins: &[&Issued],
        revoked: &[&Issued],
    ) -> Result<Bytes, Error> {
        let revocation_list = if revoked.is_empty() {
            Vec::new()
        } else {
            vec![Bytes::from(self.crl(revoked)?)]
        };
        let fabric = FabricMspConfig {
            name: self.msp_id.clone(),
            root_certs: vec![Bytes::from(self.pem.clone())],
            admins: admins
                .iter()
                .map(|admin| Bytes::from(admin.cert_pem.clone()))
                .collect(),
            revocation_list,
            ..FabricMspConfig::default()
        };
        Ok(MspConfig {
            r#type: 0,
            config: fabric.encode_to_vec().into(),
        }
        .encode_to_vec()
        .into())
    }

    /// A PEM revocation list of `revoked`, signed by this CA.
    fn crl(&self, revoked: &[&Issued]) -> Result<String, Error> {
        let params = CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(VALID_FROM_YEAR, 1, 1),
            next_update: rcgen::date_time_ymd(VALID_TO_YEAR, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|issued| RevokedCertParams {
                    serial_number: SerialNumber::from(issued.serial),
                    revocation_time: rcgen::date_time_ymd(VALID_FROM_YEAR, 1, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.issuer)
            .and_then(|crl| crl.pem())
            .map_err(msp_error)
    }
}

impl Issued {
    /// A client signer with this certificate and key.
    pub fn signer(&self) -> Result<Signer, Error> {
        Signer::new(&self.msp_id, self.cert_pem.as_bytes(), &self.key_pkcs8_der)
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.key_pkcs8_der)
    }

    /// Writes a Fabric MSP directory for this identity: `signcerts/cert.pem`,
    /// `keystore/key.pem`, `cacerts/ca.pem` (the issuing root) and `admincerts/cert.pem`
    /// (the identity itself: Fabric's v1.4 MSP refuses a local MSP without declared
    /// admins), so Fabric's own orderer and peer load it too.
    pub fn write_msp_dir(&self, ca: &DevCa, dir: &Path) -> Result<(), Error> {
        let key_pem = self.key_pem();
        for (sub, file, contents) in [
            ("signcerts", "cert.pem", self.cert_pem.as_str()),
            ("admincerts", "cert.pem", self.cert_pem.as_str()),
            ("keystore", "key.pem", key_pem.as_str()),
            ("cacerts", "ca.pem", ca.cert_pem()),
        ] {
            let sub = dir.join(sub);
            std::fs::create_dir_all(&sub)
                .and_then(|()| std::fs::write(sub.join(file), contents))
                .map_err(|e| Error::Msp(format!("write {}: {e}", sub.display())))?;
        }
        Ok(())
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_identities_sign_and_write_an_msp_dir() {
        let ca = DevCa::generate("BenchOrg").unwrap();
        let client = ca.issue("client", &["client"]).unwrap();
        let signer = client.signer().unwrap();
        signer.sign(b"hello").unwrap();
        let dir = tempfile::tempdir().unwrap();
        client.write_msp_dir(&ca, dir.path()).unwrap();
        let reread = Signer::from_msp_dir(dir.path(), "BenchOrg").unwrap();
        assert_eq!(reread.creator(), signer.creator());
        let config = MspConfig::decode(ca.msp_config(&[&client])).unwrap();
        let fabric = FabricMspConfig::decode(config.config).unwrap();
        assert_eq!(fabric.name, "BenchOrg");
        assert_eq!(fabric.admins.len(), 1);
    }
}
