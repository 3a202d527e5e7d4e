//! ECDSA P-256 verification for public keys that verify many signatures.
//!
//! A Fabric orderer verifies every envelope, and most envelopes of a channel are signed
//! by a handful of client identities. For such a key, [`PrecomputedKey`] keeps the
//! multiples `j * 2^(6i) * Q` of the public key Q (88 KiB), next to the same table for
//! the generator G, so `u1*G + u2*Q` costs about 86 mixed point additions and no
//! doubling, instead of the ~256 doublings and ~100 additions of a general
//! double-scalar multiplication. Building the table costs about ten verifications, so
//! callers build it only for keys seen often and use a general verifier otherwise.
//!
//! Verification only handles public data (key, digest, signature), so variable-time
//! arithmetic is fine here; nothing in this crate touches a private key.
//!
//! The accepted set is exactly that of ECDSA verification (FIPS 186-4 §6.4.2) on a
//! pre-hashed 32-byte digest: `r` and `s` in `[1, n-1]`, `R = u1*G + u2*Q` not the point
//! at infinity, and `x(R) mod n == r`. Low-S rules (Fabric's) are the caller's concern.
#![forbid(unsafe_code)]

mod field;
mod limbs;
mod point;
mod scalar;
mod table;

use std::sync::LazyLock;

use field::Fe;
use point::{Affine, Jacobian};
use table::{Table, WINDOWS};

/// The generator's table, built once per process on first use.
static GENERATOR: LazyLock<Table> = LazyLock::new(|| Table::new(&Affine::generator()));

/// A P-256 public key with its table of multiples.
#[derive(Debug)]
pub struct PrecomputedKey {
    table: Table,
}

impl PrecomputedKey {
    /// Heap bytes one key's table occupies.
    pub const TABLE_BYTES: usize = Table::BYTES;

    /// Reads an uncompressed SEC1 point (`0x04 || X || Y`, 65 bytes) and precomputes its
    /// table; `None` if the encoding is not that or the point is not on the curve.
    pub fn from_sec1(encoded: &[u8]) -> Option<Self> {
        let (&tag, coordinates) = encoded.split_first()?;
        if tag != 0x04 || coordinates.len() != 64 {
            return None;
        }
        let (x, y) = coordinates.split_at(32);
        let point = Affine::from_coordinates(x.try_into().ok()?, y.try_into().ok()?)?;
        Some(Self {
            table: Table::new(&point),
        })
    }

    /// Verifies the signature `(r, s)` (big-endian) over a 32-byte digest (SHA-256 of
    /// the message for ECDSA-with-SHA256).
    pub fn verify_prehashed(&self, digest: &[u8; 32], r: &[u8; 32], s: &[u8; 32]) -> bool {
        let (Some(r), Some(s)) = (
            scalar::nonzero_from_be_bytes(r),
            scalar::nonzero_from_be_bytes(s),
        ) else {
            return false;
        };
        let e = scalar::from_digest(digest);
        let w = scalar::invert(&s);
        let u1 = table::recode(&scalar::mul(&e, &w));
        let u2 = table::recode(&scalar::mul(&r, &w));
        let generator = &*GENERATOR;
        let mut acc = Jacobian::infinity();
        for window in 0..WINDOWS {
            acc = generator.add_digit(&acc, window, u1[window]);
            acc = self.table.add_digit(&acc, window, u2[window]);
        }
        x_matches(&acc, &r)
    }
}

/// `x(point) mod n == r`, without inverting Z: x = X / Z^2, and since n < p, x mod n == r
/// means x == r or x == r + n (the latter only when r + n < p).
fn x_matches(point: &Jacobian, r: &limbs::Limbs) -> bool {
    if point.is_infinity() {
        return false;
    }
    let z2 = point.z.square();
    let candidate = |x: &limbs::Limbs| Fe::from_limbs(x).is_some_and(|x| x.mul(&z2) == point.x);
    if candidate(r) {
        return true;
    }
    let (r_plus_n, overflow) = limbs::add(r, scalar::order());
    !overflow && candidate(&r_plus_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_table_holds_multiples_of_g() {
        let g = Affine::generator();
        let mut acc = Jacobian::infinity();
        acc = GENERATOR.add_digit(&acc, 0, 2);
        let two_g = Jacobian::from_affine(&g).double();
        assert_eq!(
            Jacobian::batch_to_affine(&[acc]),
            Jacobian::batch_to_affine(&[two_g])
        );
    }

    #[test]
    fn rejects_malformed_keys() {
        assert!(PrecomputedKey::from_sec1(&[]).is_none());
        assert!(
            PrecomputedKey::from_sec1(&[0x04; 65]).is_none(),
            "off the curve"
        );
        assert!(
            PrecomputedKey::from_sec1(&[0x02; 33]).is_none(),
            "compressed"
        );
    }

    /// The r + n branch: x(R) in [n, p) cannot come from a real signature in practice
    /// (probability about 2^-128), so it is checked on x_matches directly.
    #[test]
    fn x_is_compared_mod_n() {
        let z = Fe::from_limbs(&[7, 0, 0, 3]).expect("below p");
        let at = |x: &limbs::Limbs| Jacobian {
            x: Fe::from_limbs(x).expect("below p").mul(&z.square()),
            y: Fe::one(),
            z,
        };
        let five = [5, 0, 0, 0];
        let n_plus_five = limbs::add(scalar::order(), &five).0;
        assert!(x_matches(&at(&five), &five));
        assert!(x_matches(&at(&n_plus_five), &five));
        assert!(!x_matches(&at(&[6, 0, 0, 0]), &five));
        assert!(!x_matches(&Jacobian::infinity(), &five));
    }
}
