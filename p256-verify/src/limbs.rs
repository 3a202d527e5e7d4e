//! 256-bit numbers as four little-endian 64-bit limbs, and Montgomery multiplication
//! modulo an odd 256-bit modulus. Variable time: every input here is public.

/// A 256-bit number, least significant limb first.
pub type Limbs = [u64; 4];

/// An odd modulus below 2^256 with its Montgomery constants (R = 2^256).
#[derive(Debug)]
pub struct Modulus {
    /// The modulus.
    pub m: Limbs,
    /// `-m^-1 mod 2^64`.
    pub m0_inv: u64,
    /// `R^2 mod m`, to bring numbers into Montgomery form.
    pub r2: Limbs,
}

impl Modulus {
    /// Derives the constants of `m`, which must be odd and above 2^255.
    pub const fn new(m: Limbs) -> Self {
        Self {
            m,
            m0_inv: neg_inverse_u64(m[0]),
            r2: r_squared(&m),
        }
    }
}

/// `-x^-1 mod 2^64` for odd `x`, by Newton's iteration.
const fn neg_inverse_u64(x: u64) -> u64 {
    let mut inv: u64 = 1;
    let mut step = 0;
    while step < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inv)));
        step += 1;
    }
    inv.wrapping_neg()
}

/// `2^512 mod m` by 512 modular doublings of 1 (for `m` above 2^255).
const fn r_squared(m: &Limbs) -> Limbs {
    let mut x: Limbs = [1, 0, 0, 0];
    let mut step = 0;
    while step < 512 {
        let top = x[3] >> 63;
        x = [
            x[0] << 1,
            (x[1] << 1) | (x[0] >> 63),
            (x[2] << 1) | (x[1] >> 63),
            (x[3] << 1) | (x[2] >> 63),
        ];
        if top == 1 || !less_than(&x, m) {
            x = sub(&x, m).0;
        }
        step += 1;
    }
    x
}

/// Reads 32 big-endian bytes.
pub fn from_be_bytes(bytes: &[u8; 32]) -> Limbs {
    let mut limbs = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        limbs[3 - i] = u64::from_be_bytes(word);
    }
    limbs
}

/// `a < b`.
#[inline(always)]
pub const fn less_than(a: &Limbs, b: &Limbs) -> bool {
    let mut i = 4;
    while i > 0 {
        i -= 1;
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// `a == 0`.
#[inline(always)]
pub fn is_zero(a: &Limbs) -> bool {
    (a[0] | a[1] | a[2] | a[3]) == 0
}

/// `a + b` and the carry out.
#[inline(always)]
pub const fn add(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let (l0, c0) = a[0].overflowing_add(b[0]);
    let (l1, c1) = carrying_add(a[1], b[1], c0);
    let (l2, c2) = carrying_add(a[2], b[2], c1);
    let (l3, c3) = carrying_add(a[3], b[3], c2);
    ([l0, l1, l2, l3], c3)
}

/// `a - b` and the borrow out.
#[inline(always)]
pub const fn sub(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let (l0, b0) = a[0].overflowing_sub(b[0]);
    let (l1, b1) = borrowing_sub(a[1], b[1], b0);
    let (l2, b2) = borrowing_sub(a[2], b[2], b1);
    let (l3, b3) = borrowing_sub(a[3], b[3], b2);
    ([l0, l1, l2, l3], b3)
}

#[inline(always)]
const fn carrying_add(a: u64, b: u64, carry: bool) -> (u64, bool) {
    let (sum, c1) = a.overflowing_add(b);
    let (sum, c2) = sum.overflowing_add(carry as u64);
    (sum, c1 | c2)
}

#[inline(always)]
const fn borrowing_sub(a: u64, b: u64, borrow: bool) -> (u64, bool) {
    let (diff, b1) = a.overflowing_sub(b);
    let (diff, b2) = diff.overflowing_sub(borrow as u64);
    (diff, b1 | b2)
}

/// `a + b mod m` for `a, b < m`.
#[inline(always)]
pub fn add_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (sum, carry) = add(a, b);
    if carry || !less_than(&sum, m) {
        sub(&sum, m).0
    } else {
        sum
    }
}

/// `a - b mod m` for `a, b < m`.
#[inline(always)]
pub fn sub_mod(a: &Limbs, b: &Limbs, m: &Limbs) -> Limbs {
    let (diff, borrow) = sub(a, b);
    if borrow { add(&diff, m).0 } else { diff }
}

/// `a * b * R^-1 mod m` for `a, b < m` (coarsely integrated operand scanning).
#[inline(always)]
pub fn mont_mul(a: &Limbs, b: &Limbs, modulus: &Modulus) -> Limbs {
    let m = &modulus.m;
    let mut t = [0u64; 6];
    for &b_i in b {
        let mut carry = 0u64;
        for j in 0..4 {
            let x = u128::from(t[j]) + u128::from(a[j]) * u128::from(b_i) + u128::from(carry);
            t[j] = x as u64;
            carry = (x >> 64) as u64;
        }
        let x = u128::from(t[4]) + u128::from(carry);
        t[4] = x as u64;
        t[5] = (x >> 64) as u64;

        let q = t[0].wrapping_mul(modulus.m0_inv);
        let x = u128::from(t[0]) + u128::from(q) * u128::from(m[0]);
        let mut carry = (x >> 64) as u64;
        for j in 1..4 {
            let x = u128::from(t[j]) + u128::from(q) * u128::from(m[j]) + u128::from(carry);
            t[j - 1] = x as u64;
            carry = (x >> 64) as u64;
        }
        let x = u128::from(t[4]) + u128::from(carry);
        t[3] = x as u64;
        t[4] = t[5] + (x >> 64) as u64;
    }
    let result = [t[0], t[1], t[2], t[3]];
    if t[4] != 0 || !less_than(&result, m) {
        sub(&result, m).0
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn montgomery_constants_are_right_for_a_small_check() {
        // m = 2^256 - 189 (odd, above 2^255): R mod m = 189, R^2 mod m = 189^2.
        let m = Modulus::new([u64::MAX - 188, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(m.r2, [189 * 189, 0, 0, 0]);
        assert_eq!(m.m[0].wrapping_mul(m.m0_inv), u64::MAX); // m * m0_inv = -1
        // to Montgomery and back: x * R^2 * R^-1 * R^-1 = x.
        let x = [12345, 678, 9, 10];
        let x_mont = mont_mul(&x, &m.r2, &m);
        assert_eq!(mont_mul(&x_mont, &[1, 0, 0, 0], &m), x);
    }

    #[test]
    fn big_endian_bytes() {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        bytes[0] = 0x80;
        assert_eq!(from_be_bytes(&bytes), [1, 0, 0, 0x8000_0000_0000_0000]);
    }
}
