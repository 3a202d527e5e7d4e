//! Fixed-base tables: for a point P and each 6-bit window i, the multiples
//! `j * 2^(6i) * P` for j = 1..=32, in affine form. A 256-bit scalar, recoded into
//! 43 signed digits in [-31, 32], then costs at most 43 mixed additions and no doubling.

use crate::limbs::Limbs;
use crate::point::{Affine, Jacobian};

/// Bits per window.
const WINDOW_BITS: usize = 6;
/// Windows covering 256 bits.
pub const WINDOWS: usize = 256usize.div_ceil(WINDOW_BITS);
/// Multiples kept per window: digits are in `[-ENTRIES + 1, ENTRIES]`.
const ENTRIES: usize = 1 << (WINDOW_BITS - 1);

/// The multiples of one point.
#[derive(Debug)]
pub struct Table {
    /// `points[i * ENTRIES + j - 1] = j * 2^(WINDOW_BITS * i) * P`.
    points: Box<[Affine]>,
}

impl Table {
    /// Bytes the points of one table occupy.
    pub const BYTES: usize = WINDOWS * ENTRIES * std::mem::size_of::<Affine>();

    /// Precomputes the multiples of `point` (about 1,400 point additions and one field
    /// inversion).
    pub fn new(point: &Affine) -> Self {
        let mut multiples = Vec::with_capacity(WINDOWS * ENTRIES);
        let mut base = Jacobian::from_affine(point);
        for _ in 0..WINDOWS {
            let mut multiple = base;
            multiples.push(multiple);
            for _ in 1..ENTRIES {
                multiple = multiple.add(&base);
                multiples.push(multiple);
            }
            // 2^WINDOW_BITS * base = 2 * (ENTRIES * base).
            base = multiple.double();
        }
        Self {
            points: Jacobian::batch_to_affine(&multiples).into_boxed_slice(),
        }
    }

    /// Adds `digit * 2^(WINDOW_BITS * window) * P` to `acc`.
    #[inline(always)]
    pub fn add_digit(&self, acc: &Jacobian, window: usize, digit: i8) -> Jacobian {
        let index = window * ENTRIES + usize::from(digit.unsigned_abs());
        match digit {
            0 => *acc,
            1.. => acc.add_affine(&self.points[index - 1]),
            _ => acc.add_affine(&self.points[index - 1].neg()),
        }
    }
}

/// `k` as signed digits `d_i` in `[-31, 32]` with `k = sum d_i 2^(6i)`, for `k < 2^256`.
pub fn recode(k: &Limbs) -> [i8; WINDOWS] {
    let mut digits = [0i8; WINDOWS];
    let mut carry = 0u64;
    for (i, digit) in digits.iter_mut().enumerate() {
        let raw = window_bits(k, i * WINDOW_BITS) + carry;
        // raw <= 64, so the casts below are exact.
        if raw > ENTRIES as u64 {
            *digit = (raw as i64 - (1 << WINDOW_BITS)) as i8;
            carry = 1;
        } else {
            *digit = raw as i8;
            carry = 0;
        }
    }
    // The top window holds only 256 - 42 * 6 = 4 bits, so no carry leaves it.
    debug_assert_eq!(carry, 0);
    digits
}

/// The `WINDOW_BITS` bits of `k` from bit `start` (bits past 255 are zero).
fn window_bits(k: &Limbs, start: usize) -> u64 {
    let limb = start / 64;
    let offset = start % 64;
    let mut bits = k[limb] >> offset;
    if offset + WINDOW_BITS > 64 && limb + 1 < 4 {
        bits |= k[limb + 1] << (64 - offset);
    }
    bits & ((1 << WINDOW_BITS) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuilds k from its digits with i128 arithmetic, 64 bits at a time.
    fn value_of(digits: &[i8; WINDOWS]) -> Limbs {
        let mut out = [0u64; 4];
        let mut acc: i128 = 0;
        let mut acc_bits = 0usize;
        let mut limb = 0usize;
        for (i, &digit) in digits.iter().enumerate() {
            let shift = i * WINDOW_BITS - limb * 64;
            acc += i128::from(digit) << shift;
            acc_bits = shift + WINDOW_BITS;
            if acc_bits >= 64 && limb < 3 {
                out[limb] = acc as u64;
                acc >>= 64;
                limb += 1;
            }
        }
        let _ = acc_bits;
        out[limb] = acc as u64;
        out
    }

    #[test]
    fn recoding_round_trips() {
        for k in [
            [0, 0, 0, 0],
            [1, 0, 0, 0],
            [u64::MAX; 4],
            [0x2020_2020_2020_2020; 4],
            [
                0xF3B9_CAC2_FC63_2550,
                0xBCE6_FAAD_A717_9E84,
                u64::MAX,
                0xFFFF_FFFF_0000_0000,
            ],
        ] {
            let digits = recode(&k);
            assert!(digits.iter().all(|d| (-31..=32).contains(d)));
            assert_eq!(value_of(&digits), k, "{k:x?}");
        }
    }
}
