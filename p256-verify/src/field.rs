//! The P-256 base field, integers modulo p = 2^256 - 2^224 + 2^192 + 2^96 - 1, held in
//! Montgomery form and always fully reduced, so equal elements have equal limbs.

use crate::limbs::{self, Limbs, Modulus};

/// p, least significant limb first.
const P: Modulus = Modulus::new([
    0xFFFF_FFFF_FFFF_FFFF,
    0x0000_0000_FFFF_FFFF,
    0x0000_0000_0000_0000,
    0xFFFF_FFFF_0000_0001,
]);

/// An element of the base field, in Montgomery form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fe(Limbs);

impl Fe {
    /// Zero.
    pub const ZERO: Self = Self([0; 4]);

    /// Reads a big-endian number, or `None` if it is not below p.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        Self::from_limbs(&limbs::from_be_bytes(bytes))
    }

    /// Takes a number, or `None` if it is not below p.
    pub fn from_limbs(value: &Limbs) -> Option<Self> {
        limbs::less_than(value, &P.m).then(|| Self(limbs::mont_mul(value, &P.r2, &P)))
    }

    /// One.
    pub fn one() -> Self {
        Self(limbs::mont_mul(&[1, 0, 0, 0], &P.r2, &P))
    }

    /// `self == 0`.
    #[inline(always)]
    pub fn is_zero(&self) -> bool {
        limbs::is_zero(&self.0)
    }

    /// `self + other`.
    #[inline(always)]
    pub fn add(&self, other: &Self) -> Self {
        Self(limbs::add_mod(&self.0, &other.0, &P.m))
    }

    /// `self - other`.
    #[inline(always)]
    pub fn sub(&self, other: &Self) -> Self {
        Self(limbs::sub_mod(&self.0, &other.0, &P.m))
    }

    /// `2 * self`.
    #[inline(always)]
    pub fn double(&self) -> Self {
        self.add(self)
    }

    /// `-self`.
    #[inline(always)]
    pub fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// `self * other`.
    #[inline(always)]
    pub fn mul(&self, other: &Self) -> Self {
        Self(limbs::mont_mul(&self.0, &other.0, &P))
    }

    /// `self^2`.
    #[inline(always)]
    pub fn square(&self) -> Self {
        self.mul(self)
    }

    /// The element as a big-endian number below p.
    #[cfg(test)]
    pub fn to_be_bytes(self) -> [u8; 32] {
        let plain = limbs::mont_mul(&self.0, &[1, 0, 0, 0], &P);
        let mut out = [0u8; 32];
        for (i, limb) in plain.iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// `self^-1` (Fermat: `self^(p-2)`), zero for zero. Only used when building tables.
    pub fn invert(&self) -> Self {
        let exponent = limbs::sub(&P.m, &[2, 0, 0, 0]).0;
        let mut result = Self::one();
        for bit in (0..256).rev() {
            result = result.square();
            if (exponent[bit / 64] >> (bit % 64)) & 1 == 1 {
                result = result.mul(self);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_agrees_with_small_numbers() {
        let two = Fe::from_limbs(&[2, 0, 0, 0]).expect("below p");
        let three = Fe::from_limbs(&[3, 0, 0, 0]).expect("below p");
        let six = Fe::from_limbs(&[6, 0, 0, 0]).expect("below p");
        assert_eq!(two.mul(&three), six);
        assert_eq!(six.sub(&three), three);
        assert_eq!(three.sub(&six).add(&three), Fe::ZERO);
        assert_eq!(two.invert().mul(&two), Fe::one());
        assert_eq!(three.neg().add(&three), Fe::ZERO);
        assert!(Fe::from_limbs(&P.m).is_none());
    }

    #[test]
    fn minus_one_squared_is_one() {
        let minus_one = limbs::sub(&P.m, &[1, 0, 0, 0]).0;
        let minus_one = Fe::from_limbs(&minus_one).expect("below p");
        assert_eq!(minus_one.square(), Fe::one());
        assert_eq!(minus_one.add(&Fe::one()), Fe::ZERO);
    }
}
