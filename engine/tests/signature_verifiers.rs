//! ring's verifier and the table verifier give the same verdict, with the same error, on
//! valid signatures, their high-S twins, and DER damaged in every way: bit flips,
//! truncation, trailing bytes, padded or long-form lengths.

use std::sync::LazyLock;

use engine::signature::{self, PrecomputedKey, SignatureError};
use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

struct Signer {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
    table: PrecomputedKey,
}

static SIGNER: LazyLock<Signer> = LazyLock::new(|| {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("generate key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .expect("read key");
    let public = pair.public_key().as_ref().to_vec();
    let table = PrecomputedKey::from_sec1(&public).expect("valid key");
    Signer {
        pair,
        public,
        table,
    }
});

fn low_s_signature(message: &[u8]) -> Vec<u8> {
    let signature = SIGNER
        .pair
        .sign(&SystemRandom::new(), message)
        .expect("sign");
    signature::to_low_s(signature.as_ref()).expect("DER from ring")
}

fn verdicts(
    message: &[u8],
    signature: &[u8],
) -> (Result<(), SignatureError>, Result<(), SignatureError>) {
    (
        signature::verify(&SIGNER.public, message, signature),
        signature::verify_precomputed(&SIGNER.table, message, signature),
    )
}

/// Ways to damage a DER signature.
#[derive(Debug, Clone)]
enum Damage {
    FlipBit(usize),
    Truncate(usize),
    Append(u8),
    /// A needless leading zero inserted in r's value, lengths fixed up.
    PadR,
    /// The outer length written in long form (0x81 nn).
    LongFormLength,
    Replace(usize, u8),
}

fn damage(der: &[u8], how: &Damage) -> Vec<u8> {
    let mut out = der.to_vec();
    match *how {
        Damage::FlipBit(bit) => out[(bit / 8) % der.len()] ^= 1 << (bit % 8),
        Damage::Truncate(len) => out.truncate(len % der.len()),
        Damage::Append(byte) => out.push(byte),
        Damage::PadR => {
            out.insert(4, 0);
            out[3] += 1;
            out[1] += 1;
        }
        Damage::LongFormLength => {
            out.insert(1, 0x81);
        }
        Damage::Replace(at, byte) => out[at % der.len()] = byte,
    }
    out
}

fn any_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0usize..600).prop_map(Damage::FlipBit),
        (0usize..80).prop_map(Damage::Truncate),
        any::<u8>().prop_map(Damage::Append),
        Just(Damage::PadR),
        Just(Damage::LongFormLength),
        ((0usize..80), any::<u8>()).prop_map(|(at, byte)| Damage::Replace(at, byte)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn both_verifiers_agree(
        message in proptest::collection::vec(any::<u8>(), 0..200),
        how in any_damage(),
    ) {
        let good = low_s_signature(&message);
        prop_assert_eq!(verdicts(&message, &good), (Ok(()), Ok(())));

        let twin = signature::negate_s(&good).expect("DER");
        let (ring, table) = verdicts(&message, &twin);
        prop_assert_eq!(ring, Err(SignatureError::HighS));
        prop_assert_eq!(table, Err(SignatureError::HighS));

        let damaged = damage(&good, &how);
        let (ring, table) = verdicts(&message, &damaged);
        prop_assert_eq!(ring, table, "{:?} -> {:02x?}", how, damaged);
        if damaged != good {
            prop_assert!(ring.is_err(), "{:?} -> {:02x?} verified", how, damaged);
        }
    }
}
