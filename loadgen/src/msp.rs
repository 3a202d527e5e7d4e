//! A client identity from a Fabric MSP directory, and ECDSA P-256 signing as Fabric
//! expects it: SHA-256, ASN.1 DER, S normalised to the lower half of the group order.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use orderer_proto::msp::SerializedIdentity;
use prost::Message;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

use crate::Error;

/// Order of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// A signing identity: the serialized creator and its private key.
#[derive(Debug)]
pub struct Signer {
    creator: Bytes,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Signer {
    /// Reads `signcerts/` and `keystore/` of a Fabric MSP directory.
    pub fn from_msp_dir(dir: &Path, msp_id: &str) -> Result<Self, Error> {
        let cert = std::fs::read(first_file(&dir.join("signcerts"))?)
            .map_err(|e| Error::Msp(format!("read signcert in {}: {e}", dir.display())))?;
        let key = std::fs::read(first_file(&dir.join("keystore"))?)
            .map_err(|e| Error::Msp(format!("read key in {}: {e}", dir.display())))?;
        Self::new(msp_id, &cert, &pem_body(&key)?)
    }

    /// An identity from a PEM certificate and a PKCS#8 DER private key.
    pub fn new(msp_id: &str, cert_pem: &[u8], pkcs8_der: &[u8]) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8_der, &rng)
            .map_err(|e| Error::Msp(format!("private key is not a P-256 PKCS#8 key: {e}")))?;
        let creator = SerializedIdentity {
            mspid: msp_id.to_string(),
            id_bytes: Bytes::copy_from_slice(cert_pem),
        }
        .encode_to_vec()
        .into();
        Ok(Self { creator, key, rng })
    }

    /// A fresh self-signed identity, for runs that bring no MSP directory.
    pub fn ephemeral(msp_id: &str) -> Result<Self, Error> {
        let key = rcgen::KeyPair::generate().map_err(|e| Error::Msp(e.to_string()))?;
        let params = rcgen::CertificateParams::new(vec!["loadgen.client".to_string()])
            .map_err(|e| Error::Msp(e.to_string()))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| Error::Msp(e.to_string()))?;
        Self::new(msp_id, cert.pem().as_bytes(), &key.serialize_der())
    }

    /// The encoded `SerializedIdentity` to put in signature headers.
    pub fn creator(&self) -> &Bytes {
        &self.creator
    }

    /// The public key, an uncompressed P-256 point (to check signatures against).
    pub fn public_key(&self) -> &[u8] {
        use ring::signature::KeyPair as _;
        self.key.public_key().as_ref()
    }

    /// Signs `message`: DER ECDSA over SHA-256, low-S.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .key
            .sign(&self.rng, message)
            .map_err(|_| Error::Msp("signing failed".into()))?;
        to_low_s(signature.as_ref()).ok_or_else(|| Error::Msp("bad DER signature".into()))
    }
}

fn first_file(dir: &Path) -> Result<PathBuf, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Msp(format!("read {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .next()
        .ok_or_else(|| Error::Msp(format!("{} holds no file", dir.display())))
}

/// The DER bytes of the first block of a PEM file (a certificate chain's leaf).
pub fn first_pem_der(pem: &[u8]) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(pem).map_err(|_| Error::Msp("PEM is not text".into()))?;
    let (Some(begin), Some(end)) = (text.find("-----BEGIN"), text.find("-----END")) else {
        return Err(Error::Msp("no PEM block".into()));
    };
    if end < begin {
        return Err(Error::Msp("a PEM block ends before it begins".into()));
    }
    pem_body(&text.as_bytes()[begin..end])
}

/// The DER bytes inside a PEM block.
fn pem_body(pem: &[u8]) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(pem).map_err(|_| Error::Msp("PEM is not text".into()))?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| Error::Msp(format!("PEM body is not base64: {e}")))
}

/// Rewrites a DER `SEQUENCE { INTEGER r, INTEGER s }` with `s` replaced by `n - s` when
/// `s` is in the upper half of the group order, as Fabric's verifier requires.
pub fn to_low_s(der: &[u8]) -> Option<Vec<u8>> {
    let (r, s) = parse_signature(der)?;
    let s = to_32(s)?;
    let mut half = [0u8; 32];
    let mut carry = 0u8;
    for (out, byte) in half.iter_mut().zip(P256_ORDER) {
        *out = (byte >> 1) | (carry << 7);
        carry = byte & 1;
    }
    let s = if s > half {
        subtract(&P256_ORDER, &s)
    } else {
        s
    };
    Some(encode_signature(r, &s))
}

fn parse_signature(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = der.strip_prefix(&[0x30])?;
    let (&length, body) = body.split_first()?;
    if length as usize != body.len() || length >= 0x80 {
        return None;
    }
    let (r, rest) = integer(body)?;
    let (s, rest) = integer(rest)?;
    rest.is_empty().then_some((r, s))
}

fn integer(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let bytes = bytes.strip_prefix(&[0x02])?;
    let (&length, bytes) = bytes.split_first()?;
    (bytes.len() >= length as usize).then(|| bytes.split_at(length as usize))
}

fn to_32(integer: &[u8]) -> Option<[u8; 32]> {
    let trimmed = &integer[integer
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(integer.len())..];
    let mut out = [0u8; 32];
    let start = 32usize.checked_sub(trimmed.len())?;
    out[start..].copy_from_slice(trimmed);
    Some(out)
}

fn subtract(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut value = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(value < 0);
        if value < 0 {
            value += 256;
        }
        out[i] = value as u8;
    }
    out
}

fn encode_signature(r: &[u8], s: &[u8; 32]) -> Vec<u8> {
    let minimal = |value: &[u8]| {
        let first = value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(value.len() - 1);
        let mut out = Vec::with_capacity(34);
        out.push(0x02);
        let pad = value[first] & 0x80 != 0;
        out.push((value.len() - first + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(&value[first..]);
        out
    };
    let (r, s) = (minimal(r), minimal(s));
    let mut out = Vec::with_capacity(2 + r.len() + s.len());
    out.push(0x30);
    out.push((r.len() + s.len()) as u8);
    out.extend_from_slice(&r);
    out.extend_from_slice(&s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair as _;
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    #[test]
    fn signatures_are_low_s_and_verify() {
        let signer = Signer::ephemeral("Org").unwrap();
        let public = signer.key.public_key().as_ref().to_vec();
        let mut half = P256_ORDER;
        half[0] = 0x7f;
        for index in 0..64u32 {
            let message = index.to_le_bytes();
            let signature = signer.sign(&message).unwrap();
            let (_, s) = parse_signature(&signature).unwrap();
            assert!(to_32(s).unwrap() <= half, "low S");
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
                .verify(&message, &signature)
                .unwrap();
        }
    }

    #[test]
    fn high_s_is_flipped_and_low_s_kept() {
        let r = [1u8; 32];
        let high = subtract(
            &P256_ORDER,
            &[
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 5,
            ],
        );
        let der = encode_signature(&r, &high);
        let low = to_low_s(&der).unwrap();
        let (_, s) = parse_signature(&low).unwrap();
        assert_eq!(s, &[5]);
        assert_eq!(to_low_s(&low).unwrap(), low);
    }

    #[test]
    fn fabric_sample_msp_loads() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fabric-vectors/msp");
        let signer = Signer::from_msp_dir(&dir, "SampleOrg").unwrap();
        let identity = SerializedIdentity::decode(signer.creator().clone()).unwrap();
        assert_eq!(identity.mspid, "SampleOrg");
        assert!(
            identity
                .id_bytes
                .starts_with(b"-----BEGIN CERTIFICATE-----")
        );
        signer.sign(b"hello").unwrap();
    }
}
