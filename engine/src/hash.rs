//! Fabric's block hashes: the data hash over envelope bytes and the header hash over
//! the ASN.1 DER encoding of the header.

use sha2::{Digest, Sha256};

/// Length of every hash in a block header.
pub const HASH_LEN: usize = 32;

/// A SHA-256 digest.
pub type Hash = [u8; HASH_LEN];

/// SHA-256 of the concatenated envelope bytes, as in `BlockHeader.data_hash`.
pub fn data_hash<T: AsRef<[u8]>>(envelopes: &[T]) -> Hash {
    let mut hasher = Sha256::new();
    for envelope in envelopes {
        hasher.update(envelope.as_ref());
    }
    hasher.finalize().into()
}

/// SHA-256 of `SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING
/// data_hash }` in DER: the value the next block carries as `previous_hash`.
pub fn header_hash(number: u64, previous_hash: &[u8], data_hash: &[u8]) -> Hash {
    Sha256::digest(header_asn1(number, previous_hash, data_hash)).into()
}

/// The DER bytes that [`header_hash`] hashes (and that block signatures cover).
pub fn header_asn1(number: u64, previous_hash: &[u8], data_hash: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(16 + previous_hash.len() + data_hash.len());
    der_integer(&mut body, number);
    der_element(&mut body, 0x04, previous_hash);
    der_element(&mut body, 0x04, data_hash);
    let mut out = Vec::with_capacity(body.len() + 4);
    der_element(&mut out, 0x30, &body);
    out
}

/// A non-negative INTEGER in minimal two's complement form.
fn der_integer(out: &mut Vec<u8>, value: u64) {
    let bytes = value.to_be_bytes();
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = Vec::with_capacity(9);
    if bytes[first] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[first..]);
    der_element(out, 0x02, &content);
}

fn der_element(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = (length as u64).to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
        out.push(0x80 | (bytes.len() - first) as u8);
        out.extend_from_slice(&bytes[first..]);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_encoding_is_minimal_and_non_negative() {
        let encode = |n| {
            let mut out = Vec::new();
            der_integer(&mut out, n);
            out
        };
        assert_eq!(encode(0), [0x02, 0x01, 0x00]);
        assert_eq!(encode(127), [0x02, 0x01, 0x7f]);
        assert_eq!(encode(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(encode(216), [0x02, 0x02, 0x00, 0xd8]);
        assert_eq!(encode(256), [0x02, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn long_lengths_use_the_long_form() {
        let mut out = Vec::new();
        der_element(&mut out, 0x04, &[7u8; 300]);
        assert_eq!(&out[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(out.len(), 304);
    }

    #[test]
    fn genesis_header_has_empty_previous_hash() {
        let asn1 = header_asn1(0, &[], &[1u8; 32]);
        assert_eq!(&asn1[..7], &[0x30, 0x27, 0x02, 0x01, 0x00, 0x04, 0x00]);
    }
}
