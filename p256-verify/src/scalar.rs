//! Integers modulo the group order n, as plain (not Montgomery) numbers below n.

use crate::limbs::{self, Limbs, Modulus};

/// n, least significant limb first.
const N: Modulus = Modulus::new([
    0xF3B9_CAC2_FC63_2551,
    0xBCE6_FAAD_A717_9E84,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_0000_0000,
]);

/// The group order n.
pub const fn order() -> &'static Limbs {
    &N.m
}

/// A big-endian number in `[1, n-1]`, as ECDSA requires of `r` and `s`.
pub fn nonzero_from_be_bytes(bytes: &[u8; 32]) -> Option<Limbs> {
    let value = limbs::from_be_bytes(bytes);
    (!limbs::is_zero(&value) && limbs::less_than(&value, &N.m)).then_some(value)
}

/// A 256-bit digest as a number mod n (one subtraction suffices: n > 2^255).
pub fn from_digest(digest: &[u8; 32]) -> Limbs {
    let value = limbs::from_be_bytes(digest);
    if limbs::less_than(&value, &N.m) {
        value
    } else {
        limbs::sub(&value, &N.m).0
    }
}

/// `a * b mod n`.
pub fn mul(a: &Limbs, b: &Limbs) -> Limbs {
    // (a b R^-1) (R^2) R^-1 = a b.
    limbs::mont_mul(&limbs::mont_mul(a, b, &N), &N.r2, &N)
}

/// `a^-1 mod n` for `a` in `[1, n-1]`, by the binary extended Euclidean algorithm.
/// Variable time, which is fine: `s` is public.
pub fn invert(a: &Limbs) -> Limbs {
    let mut u = *a;
    let mut v = N.m;
    let mut x1: Limbs = [1, 0, 0, 0];
    let mut x2: Limbs = [0; 4];
    const ONE: Limbs = [1, 0, 0, 0];
    // Invariants: x1 * a = u and x2 * a = v (mod n); gcd(u, v) = 1.
    while u != ONE && v != ONE {
        while u[0] & 1 == 0 {
            u = shift_right(&u, false);
            x1 = halve(&x1);
        }
        while v[0] & 1 == 0 {
            v = shift_right(&v, false);
            x2 = halve(&x2);
        }
        if limbs::less_than(&u, &v) {
            v = limbs::sub(&v, &u).0;
            x2 = limbs::sub_mod(&x2, &x1, &N.m);
        } else {
            u = limbs::sub(&u, &v).0;
            x1 = limbs::sub_mod(&x1, &x2, &N.m);
        }
    }
    if u == ONE { x1 } else { x2 }
}

/// `x / 2 mod n` for `x < n`.
fn halve(x: &Limbs) -> Limbs {
    if x[0] & 1 == 0 {
        shift_right(x, false)
    } else {
        let (sum, carry) = limbs::add(x, &N.m);
        shift_right(&sum, carry)
    }
}

/// `(top * 2^256 + x) >> 1`.
fn shift_right(x: &Limbs, top: bool) -> Limbs {
    [
        (x[0] >> 1) | (x[1] << 63),
        (x[1] >> 1) | (x[2] << 63),
        (x[2] >> 1) | (x[3] << 63),
        (x[3] >> 1) | (u64::from(top) << 63),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_value_is_one() {
        let minus_one = limbs::sub(&N.m, &[1, 0, 0, 0]).0;
        for a in [
            [1, 0, 0, 0],
            [2, 0, 0, 0],
            [0x1234_5678, 0x9abc_def0, 0x0fed_cba9, 0x8765_4321],
            minus_one,
        ] {
            assert_eq!(mul(&invert(&a), &a), [1, 0, 0, 0], "{a:x?}");
        }
        assert_eq!(invert(&minus_one), minus_one);
    }

    #[test]
    fn range_checks() {
        assert!(nonzero_from_be_bytes(&[0; 32]).is_none());
        assert!(nonzero_from_be_bytes(&[0xff; 32]).is_none());
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(nonzero_from_be_bytes(&one), Some([1, 0, 0, 0]));
        // 2^256 - 1 reduces to 2^256 - 1 - n.
        let reduced = from_digest(&[0xff; 32]);
        assert_eq!(limbs::add(&reduced, &N.m), ([u64::MAX; 4], false));
    }
}
