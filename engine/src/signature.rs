//! Verification of a client's ECDSA P-256 signature as Fabric's verifier does it:
//! SHA-256, ASN.1 DER, and S in the lower half of the group order (a high-S twin of a
//! valid signature is rejected, so signatures are not malleable).
//!
//! Two verifiers accept exactly the same signatures: ring's ([`verify`]) for any key,
//! and the table-based one of the `p256-verify` crate ([`verify_precomputed`]) for keys
//! that sign often, whose precomputed multiples make a verification about twice as fast
//! (see ARCHITECTURE.md, "Signature verification").

mod der;

pub use p256_verify::PrecomputedKey;
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

/// Half the P-256 group order, big-endian: the largest S accepted.
const P256_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// Why a signature is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not a DER `SEQUENCE { INTEGER r, INTEGER s }`.
    #[error("signature is not a DER ECDSA signature")]
    Malformed,
    /// S is in the upper half of the group order.
    #[error("signature has a high S value")]
    HighS,
    /// The signature does not verify with the identity's key.
    #[error("signature does not verify")]
    Invalid,
}

/// Verifies `signature` over `message` with an uncompressed P-256 `public_key`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
    low_s(signature)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key)
        .verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}

/// [`verify`] with a key's precomputed table: same verdicts, same errors.
pub fn verify_precomputed(
    key: &PrecomputedKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    // One strict parse; the lenient precheck runs only to name why a signature that
    // is not strict DER fails, so both verifiers give the same error.
    let Some((r, s)) = der::parse_rs(signature) else {
        low_s(signature)?;
        return Err(SignatureError::Invalid);
    };
    if is_high(&s) {
        return Err(SignatureError::HighS);
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, message);
    let digest: &[u8; 32] = digest
        .as_ref()
        .try_into()
        .map_err(|_| SignatureError::Invalid)?;
    if key.verify_prehashed(digest, &r, &s) {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

/// The checks made before either verifier runs: DER shape and low S.
fn low_s(signature: &[u8]) -> Result<(), SignatureError> {
    let s = s_value(signature).ok_or(SignatureError::Malformed)?;
    if is_high(s) {
        return Err(SignatureError::HighS);
    }
    Ok(())
}

/// Rewrites a DER signature whose S is in the upper half as (r, n - s), Fabric's low-S
/// form. `None` if it is not a DER ECDSA signature.
pub fn to_low_s(der: &[u8]) -> Option<Vec<u8>> {
    if is_high(s_value(der)?) {
        negate_s(der)
    } else {
        Some(der.to_vec())
    }
}

/// The other valid signature of the same message: (r, n - s). Turns a low-S signature
/// into its high-S twin and back.
pub fn negate_s(der: &[u8]) -> Option<Vec<u8>> {
    let s = s_value(der)?;
    let (r, _) = integer(der.get(2..)?)?;
    let trimmed = &s[s.iter().position(|&b| b != 0)?..];
    let mut s32 = [0u8; 32];
    s32.get_mut(32usize.checked_sub(trimmed.len())?..)?
        .copy_from_slice(trimmed);
    let mut negated = [0u8; 32];
    let mut borrow = false;
    for i in (0..32).rev() {
        let (value, under) = P256_ORDER[i].overflowing_sub(s32[i]);
        let (value, under_borrow) = value.overflowing_sub(u8::from(borrow));
        negated[i] = value;
        borrow = under || under_borrow;
    }
    Some(encode_signature(r, &negated))
}

/// Order of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn encode_signature(r: &[u8], s: &[u8; 32]) -> Vec<u8> {
    let minimal = |value: &[u8]| {
        let first = value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(value.len() - 1);
        let pad = value[first] & 0x80 != 0;
        let mut out = vec![0x02, (value.len() - first + usize::from(pad)) as u8];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(&value[first..]);
        out
    };
    let (r, s) = (minimal(r), minimal(s));
    let mut out = vec![0x30, (r.len() + s.len()) as u8];
    out.extend(r);
    out.extend(s);
    out
}

/// The S integer's content bytes.
fn s_value(der: &[u8]) -> Option<&[u8]> {
    let body = der.strip_prefix(&[0x30])?;
    let (&length, body) = body.split_first()?;
    if usize::from(length) != body.len() || length >= 0x80 {
        return None;
    }
    let (_, rest) = integer(body)?;
    let (s, rest) = integer(rest)?;
    rest.is_empty().then_some(s)
}

fn integer(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let bytes = bytes.strip_prefix(&[0x02])?;
    let (&length, bytes) = bytes.split_first()?;
    (bytes.len() >= usize::from(length)).then(|| bytes.split_at(usize::from(length)))
}

fn is_high(s: &[u8]) -> bool {
    let trimmed = &s[s.iter().position(|&b| b != 0).unwrap_or(s.len())..];
    if trimmed.len() != 32 {
        return trimmed.len() > 32;
    }
    trimmed > &P256_HALF_ORDER[..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    #[test]
    fn low_s_verifies_high_s_twin_and_flipped_bits_do_not() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = key.public_key().as_ref();
        let mut checked = 0;
        for attempt in 0u32..64 {
            let message = attempt.to_le_bytes();
            let signature = key.sign(&rng, &message).unwrap().as_ref().to_vec();
            assert_eq!(
                verify(public, &message, &to_low_s(&signature).unwrap()),
                Ok(())
            );
            let (low, high) = match verify(public, &message, &signature) {
                Ok(()) => (signature.clone(), negate_s(&signature).unwrap()),
                Err(SignatureError::HighS) => (negate_s(&signature).unwrap(), signature.clone()),
                Err(other) => panic!("{other}"),
            };
            assert_eq!(verify(public, &message, &low), Ok(()));
            assert_eq!(verify(public, &message, &high), Err(SignatureError::HighS));
            let mut flipped = low.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 1;
            assert!(verify(public, &message, &flipped).is_err());
            assert_eq!(
                verify(public, b"other message", &low),
                Err(SignatureError::Invalid)
            );
            checked += 1;
        }
        assert_eq!(checked, 64);
        assert_eq!(
            verify(public, b"m", b"\x30\x00"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn fabric_client_signature_verifies() {
        use orderer_proto::common::{Envelope, Payload, SignatureHeader};
        use orderer_proto::msp::SerializedIdentity;
        use prost::Message;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fabric-vectors");
        let bytes = std::fs::read(dir.join("envelopes/envelope_0_size1024.pb")).unwrap();
        let envelope = Envelope::decode(&bytes[..]).unwrap();
        let payload = Payload::decode(envelope.payload.clone()).unwrap();
        let header = SignatureHeader::decode(payload.header.unwrap().signature_header).unwrap();
        let identity = SerializedIdentity::decode(header.creator).unwrap();
        let cert = crate::msp::cert::Cert::from_pem(&identity.id_bytes).unwrap();
        assert_eq!(
            verify(&cert.public_key, &envelope.payload, &envelope.signature),
            Ok(())
        );
        let mut flipped = envelope.signature.to_vec();
        flipped[10] ^= 0x01;
        assert!(verify(&cert.public_key, &envelope.payload, &flipped).is_err());
    }
}
