//! The facts of an X.509 certificate the MSP checks, parsed once into owned values.

use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey};
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

/// A parsed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    /// The whole DER encoding.
    pub der: Vec<u8>,
    signed: SignedPart,
    /// Raw DER of the subject name.
    pub subject: Vec<u8>,
    /// Raw DER of the issuer name.
    pub issuer: Vec<u8>,
    /// The subject's public key: an uncompressed EC point.
    pub public_key: Vec<u8>,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// Serial number, big-endian, no leading zeros.
    pub serial: Vec<u8>,
    /// Organizational units of the subject.
    pub ous: Vec<String>,
    /// Basic constraints say CA.
    pub is_ca: bool,
}

impl Cert {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".into());
        }
        if cert.public_key().algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
            return Err("the certificate's key is not an EC key".into());
        }
        let algorithm = &cert.signature_algorithm.algorithm;
        let signature_sha384 = *algorithm == OID_SIG_ECDSA_WITH_SHA384;
        if *algorithm != OID_SIG_ECDSA_WITH_SHA256 && !signature_sha384 {
            return Err(format!(
                "unsupported certificate signature algorithm {algorithm}"
            ));
        }
        Ok(Self {
            der: der.to_vec(),
            signed: SignedPart {
                tbs: cert.tbs_certificate.as_ref().to_vec(),
                signature: cert.signature_value.data.to_vec(),
                sha384: signature_sha384,
            },
            subject: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().as_raw().to_vec(),
            public_key: cert.public_key().subject_public_key.data.to_vec(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            serial: cert.serial.to_bytes_be(),
            ous: cert
                .subject()
                .iter_organizational_unit()
                .filter_map(|ou| ou.as_str().ok().map(str::to_string))
                .collect(),
            is_ca: cert.is_ca(),
        })
    }

    /// Parses the first PEM certificate in `pem`.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        Self::from_der(&pem_block(pem, "CERTIFICATE")?)
    }

    /// Whether `issuer` signed this certificate (names and signature).
    pub fn is_issued_by(&self, issuer: &Cert) -> bool {
        self.issuer == issuer.subject && self.signed.is_signed_by(issuer)
    }
}

/// A parsed CRL: who issued it and which serials it revokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    /// Raw DER of the issuer name.
    pub issuer: Vec<u8>,
    /// Revoked serial numbers, big-endian, no leading zeros.
    pub serials: Vec<Vec<u8>>,
    signed: SignedPart,
}

impl Crl {
    /// Parses a PEM (or DER) CRL.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let der = if bytes.starts_with(b"-----") {
            pem_block(bytes, "X509 CRL")?
        } else {
            bytes.to_vec()
        };
        let (_, crl) =
            CertificateRevocationList::from_der(&der).map_err(|e| format!("not a CRL: {e}"))?;
        Ok(Self {
            issuer: crl.issuer().as_raw().to_vec(),
            serials: crl
                .iter_revoked_certificates()
                .map(|r| r.serial().to_bytes_be())
                .collect(),
            signed: SignedPart {
                tbs: crl.tbs_cert_list.as_ref().to_vec(),
                signature: crl.signature_value.data.to_vec(),
                sha384: crl.signature_algorithm.algorithm == OID_SIG_ECDSA_WITH_SHA384,
            },
        })
    }

    /// Whether `issuer` signed this CRL.
    pub fn is_issued_by(&self, issuer: &Cert) -> bool {
        self.issuer == issuer.subject && self.signed.is_signed_by(issuer)
    }
}

/// The to-be-signed bytes of a certificate or CRL and its issuer's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedPart {
    tbs: Vec<u8>,
    signature: Vec<u8>,
    sha384: bool,
}

impl SignedPart {
    /// ECDSA verification with the issuer's key (P-256 or P-384).
    fn is_signed_by(&self, issuer: &Cert) -> bool {
        let algorithm: &dyn signature::VerificationAlgorithm =
            match (issuer.public_key.len(), self.sha384) {
                (65, false) => &signature::ECDSA_P256_SHA256_ASN1,
                (65, true) => &signature::ECDSA_P256_SHA384_ASN1,
                (97, false) => &signature::ECDSA_P384_SHA256_ASN1,
                (97, true) => &signature::ECDSA_P384_SHA384_ASN1,
                _ => return false,
            };
        UnparsedPublicKey::new(algorithm, &issuer.public_key)
            .verify(&self.tbs, &self.signature)
            .is_ok()
    }
}

/// Checks that `pem` holds an X.509 CA certificate with any key type, as Fabric's MSP
/// checks its TLS CAs (an RSA TLS CA is fine: only the TLS stack uses it).
pub fn check_tls_ca_pem(pem: &[u8]) -> Result<(), String> {
    let der = pem_block(pem, "CERTIFICATE")?;
    let (_, cert) =
        X509Certificate::from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    if !cert.is_ca() {
        return Err("the certificate does not have the CA attribute".into());
    }
    Ok(())
}

/// The DER bytes of the first PEM block with `label`.
pub fn pem_block(pem: &[u8], label: &str) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "PEM is not text".to_string())?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| format!("no {label} PEM block"))?
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| format!("unterminated {label} PEM block"))?
        + start;
    let body: String = text[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("{label} PEM body is not base64: {e}"))
}
