//! The table verifier accepts exactly what ring's ECDSA P-256 SHA-256 verifier accepts:
//! signatures made by ring over random messages, their high-S twins, and every kind of
//! damage (bit flips in r, s, the message or the key's choice, out-of-range values).

use std::sync::LazyLock;

use p256_verify::PrecomputedKey;
use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

/// The group order n, big-endian.
const N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// The field prime p, big-endian.
const P: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

struct Signer {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
    precomputed: PrecomputedKey,
}

static SIGNERS: LazyLock<Vec<Signer>> = LazyLock::new(|| {
    let rng = SystemRandom::new();
    (0..3)
        .map(|_| {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("generate key");
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .expect("read key");
            let public = pair.public_key().as_ref().to_vec();
            let precomputed = PrecomputedKey::from_sec1(&public).expect("ring's key is valid");
            Signer {
                pair,
                public,
                precomputed,
            }
        })
        .collect()
});

fn sign(signer: &Signer, message: &[u8]) -> [u8; 64] {
    let signature = signer
        .pair
        .sign(&SystemRandom::new(), message)
        .expect("sign");
    signature.as_ref().try_into().expect("fixed-size signature")
}

fn ring_accepts(public: &[u8], message: &[u8], signature: &[u8; 64]) -> bool {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
        .verify(message, signature)
        .is_ok()
}

fn table_accepts(key: &PrecomputedKey, message: &[u8], signature: &[u8; 64]) -> bool {
    let digest = ring::digest::digest(&ring::digest::SHA256, message);
    let digest: &[u8; 32] = digest.as_ref().try_into().expect("SHA-256 is 32 bytes");
    let (r, s) = signature.split_at(32);
    key.verify_prehashed(
        digest,
        r.try_into().expect("32 bytes"),
        s.try_into().expect("32 bytes"),
    )
}

/// `a - b` for big-endian 256-bit numbers with `a >= b`.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut digit = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        out[i] = digit as u8;
    }
    out
}

/// `a + b` for big-endian 256-bit numbers, wrapping.
fn add_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let sum = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    out
}

fn with_s(signature: &[u8; 64], s: &[u8; 32]) -> [u8; 64] {
    let mut out = *signature;
    out[32..].copy_from_slice(s);
    out
}

fn with_r(signature: &[u8; 64], r: &[u8; 32]) -> [u8; 64] {
    let mut out = *signature;
    out[..32].copy_from_slice(r);
    out
}

fn s_of(signature: &[u8; 64]) -> [u8; 32] {
    signature[32..].try_into().expect("32 bytes")
}

fn r_of(signature: &[u8; 64]) -> [u8; 32] {
    signature[..32].try_into().expect("32 bytes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_signatures_and_their_high_s_twins_are_accepted(
        message in proptest::collection::vec(any::<u8>(), 0..300),
        who in 0usize..3,
    ) {
        let signer = &SIGNERS[who];
        let signature = sign(signer, &message);
        prop_assert!(ring_accepts(&signer.public, &message, &signature));
        prop_assert!(table_accepts(&signer.precomputed, &message, &signature));
        // (r, n - s) is the other valid signature; plain ECDSA accepts both.
        let twin = with_s(&signature, &sub_be(&N, &s_of(&signature)));
        prop_assert!(ring_accepts(&signer.public, &message, &twin));
        prop_assert!(table_accepts(&signer.precomputed, &message, &twin));
    }

    #[test]
    fn damaged_signatures_get_ring_verdicts(
        message in proptest::collection::vec(any::<u8>(), 1..300),
        bit in 0usize..512,
        message_bit in 0usize..8,
        who in 0usize..3,
    ) {
        let signer = &SIGNERS[who];
        let signature = sign(signer, &message);

        let mut flipped = signature;
        flipped[bit / 8] ^= 1 << (bit % 8);
        let table = table_accepts(&signer.precomputed, &message, &flipped);
        prop_assert_eq!(table, ring_accepts(&signer.public, &message, &flipped));
        prop_assert!(!table, "a flipped bit verified");

        let mut altered = message.clone();
        altered[0] ^= 1 << message_bit;
        prop_assert!(!table_accepts(&signer.precomputed, &altered, &signature));
        prop_assert!(!ring_accepts(&signer.public, &altered, &signature));

        let other = &SIGNERS[(who + 1) % 3];
        prop_assert!(!table_accepts(&other.precomputed, &message, &signature));
        prop_assert!(!ring_accepts(&other.public, &message, &signature));
    }

    #[test]
    fn random_signatures_get_ring_verdicts(
        message in proptest::collection::vec(any::<u8>(), 0..64),
        r in any::<[u8; 32]>(),
        s in any::<[u8; 32]>(),
    ) {
        let signer = &SIGNERS[0];
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&r);
        signature[32..].copy_from_slice(&s);
        prop_assert_eq!(
            table_accepts(&signer.precomputed, &message, &signature),
            ring_accepts(&signer.public, &message, &signature)
        );
    }
}

#[test]
fn out_of_range_scalars_are_refused_like_ring() {
    let signer = &SIGNERS[1];
    let message = b"edge cases";
    let signature = sign(signer, message);
    let r = r_of(&signature);
    let s = s_of(&signature);
    let zero = [0u8; 32];
    let ones = [0xFF; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let cases = [
        ("r = 0", with_r(&signature, &zero)),
        ("s = 0", with_s(&signature, &zero)),
        ("r = n", with_r(&signature, &N)),
        ("s = n", with_s(&signature, &N)),
        ("r + n", with_r(&signature, &add_be(&r, &N))),
        ("s + n", with_s(&signature, &add_be(&s, &N))),
        ("r = p", with_r(&signature, &P)),
        ("s = 2^256 - 1", with_s(&signature, &ones)),
        ("r = 1", with_r(&signature, &one)),
        ("s = n - 1", with_s(&signature, &sub_be(&N, &one))),
    ];
    for (name, damaged) in cases {
        let ring = ring_accepts(&signer.public, message, &damaged);
        assert!(!ring, "{name}: ring accepted");
        assert_eq!(
            table_accepts(&signer.precomputed, message, &damaged),
            ring,
            "{name}"
        );
    }
    assert!(table_accepts(&signer.precomputed, message, &signature));
}

#[test]
fn keys_are_read_like_ring() {
    let public = &SIGNERS[2].public;
    assert!(PrecomputedKey::from_sec1(public).is_some());
    let mut off_curve = public.clone();
    off_curve[64] ^= 1;
    assert!(PrecomputedKey::from_sec1(&off_curve).is_none());
    let signature = sign(&SIGNERS[2], b"m");
    assert!(!ring_accepts(&off_curve, b"m", &signature));
    let mut big_x = public.clone();
    big_x[1..33].copy_from_slice(&P);
    assert!(PrecomputedKey::from_sec1(&big_x).is_none(), "x = p");
    assert!(PrecomputedKey::from_sec1(&public[..64]).is_none(), "short");
}
