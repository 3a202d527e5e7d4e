//! Points of P-256 (y^2 = x^3 - 3x + b): affine, and Jacobian (x = X/Z^2, y = Y/Z^3)
//! with Z = 0 for the point at infinity. Formulas from the Explicit-Formulas Database
//! (dbl-2001-b, add-1998-cmo-2, and add-1998-cmo-2 with Z2 = 1), with their exceptional cases
//! (equal or opposite inputs, infinity) handled explicitly.

use crate::field::Fe;

/// The curve's `b`, big-endian.
const B: [u8; 32] = [
    0x5A, 0xC6, 0x35, 0xD8, 0xAA, 0x3A, 0x93, 0xE7, 0xB3, 0xEB, 0xBD, 0x55, 0x76, 0x98, 0x86, 0xBC,
    0x65, 0x1D, 0x06, 0xB0, 0xCC, 0x53, 0xB0, 0xF6, 0x3B, 0xCE, 0x3C, 0x3E, 0x27, 0xD2, 0x60, 0x4B,
];

/// The generator's x, big-endian.
const GX: [u8; 32] = [
    0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4, 0x40, 0xF2,
    0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98, 0xC2, 0x96,
];

/// The generator's y, big-endian.
const GY: [u8; 32] = [
    0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A, 0x7C, 0x0F, 0x9E, 0x16,
    0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40, 0x68, 0x37, 0xBF, 0x51, 0xF5,
];

/// A finite point in affine coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Affine {
    pub x: Fe,
    pub y: Fe,
}

impl Affine {
    /// The curve's generator G.
    pub fn generator() -> Self {
        Self::from_coordinates(&GX, &GY).expect("G lies on the curve")
    }

    /// The point `(x, y)` given big-endian, or `None` unless both are below p and the
    /// point lies on the curve. P-256 has prime order, so every such point generates it.
    pub fn from_coordinates(x: &[u8; 32], y: &[u8; 32]) -> Option<Self> {
        let x = Fe::from_be_bytes(x)?;
        let y = Fe::from_be_bytes(y)?;
        let b = Fe::from_be_bytes(&B)?;
        let three_x = x.double().add(&x);
        let rhs = x.square().mul(&x).sub(&three_x).add(&b);
        (y.square() == rhs).then_some(Self { x, y })
    }

    /// `-self`.
    #[inline(always)]
    pub fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

/// A point in Jacobian coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Jacobian {
    pub x: Fe,
    pub y: Fe,
    pub z: Fe,
}

impl Jacobian {
    /// The point at infinity.
    pub fn infinity() -> Self {
        Self {
            x: Fe::one(),
            y: Fe::one(),
            z: Fe::ZERO,
        }
    }

    /// `self` is the point at infinity.
    #[inline(always)]
    pub fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// An affine point in Jacobian form.
    pub fn from_affine(point: &Affine) -> Self {
        Self {
            x: point.x,
            y: point.y,
            z: Fe::one(),
        }
    }

    /// `2 * self` (dbl-2001-b, a = -3).
    pub fn double(&self) -> Self {
        if self.is_infinity() || self.y.is_zero() {
            return Self::infinity();
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x = alpha.square().sub(&beta4.double());
        let z = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma_sq8 = gamma.square().double().double().double();
        let y = alpha.mul(&beta4.sub(&x)).sub(&gamma_sq8);
        Self { x, y, z }
    }

    /// `self + other` for an affine `other` (add-1998-cmo-2 with Z2 = 1).
    #[inline(always)]
    pub fn add_affine(&self, other: &Affine) -> Self {
        if self.is_infinity() {
            return Self::from_affine(other);
        }
        let z1z1 = self.z.square();
        let u2 = other.x.mul(&z1z1);
        let s2 = other.y.mul(&self.z).mul(&z1z1);
        self.sum(&self.x, &self.y, &u2, &s2, &self.z)
    }

    /// `self + other` (add-1998-cmo-2).
    pub fn add(&self, other: &Self) -> Self {
        if self.is_infinity() {
            return *other;
        }
        if other.is_infinity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&other.z).mul(&z2z2);
        let s2 = other.y.mul(&self.z).mul(&z1z1);
        self.sum(&u1, &s1, &u2, &s2, &self.z.mul(&other.z))
    }

    /// The common end of both additions, from the inputs brought to a common Z:
    /// `u = X * Z_other^2`, `s = Y * Z_other^3`, and `z1z2 = Z1 * Z2`.
    #[inline(always)]
    fn sum(&self, u1: &Fe, s1: &Fe, u2: &Fe, s2: &Fe, z1z2: &Fe) -> Self {
        let h = u2.sub(u1);
        let r = s2.sub(s1);
        if h.is_zero() {
            // Equal x: the same point (double it) or opposite points.
            return if r.is_zero() {
                self.double()
            } else {
                Self::infinity()
            };
        }
        let hh = h.square();
        let hhh = h.mul(&hh);
        let v = u1.mul(&hh);
        let x = r.square().sub(&hhh).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&s1.mul(&hhh));
        let z = z1z2.mul(&h);
        Self { x, y, z }
    }

    /// Affine forms of many points with one field inversion (Montgomery's trick).
    /// Points at infinity come out as the zero point, which callers never produce.
    pub fn batch_to_affine(points: &[Self]) -> Vec<Affine> {
        let mut prefix = Vec::with_capacity(points.len());
        let mut product = Fe::one();
        for point in points {
            prefix.push(product);
            if !point.is_infinity() {
                product = product.mul(&point.z);
            }
        }
        let mut inverse = product.invert();
        let mut out = vec![Affine::default(); points.len()];
        for (i, point) in points.iter().enumerate().rev() {
            if point.is_infinity() {
                continue;
            }
            let z_inv = inverse.mul(&prefix[i]);
            inverse = inverse.mul(&point.z);
            let z_inv2 = z_inv.square();
            out[i] = Affine {
                x: point.x.mul(&z_inv2),
                y: point.y.mul(&z_inv2).mul(&z_inv),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_affine(point: &Jacobian) -> Affine {
        Jacobian::batch_to_affine(std::slice::from_ref(point))[0]
    }

    #[test]
    fn group_law_is_consistent() {
        let g = Affine::generator();
        let g_j = Jacobian::from_affine(&g);
        let two_g = g_j.double();
        let three_g = two_g.add_affine(&g);
        assert_eq!(to_affine(&three_g), to_affine(&g_j.add(&two_g)));
        assert_eq!(to_affine(&g_j.add_affine(&g)), to_affine(&two_g));
        assert!(g_j.add_affine(&g.neg()).is_infinity());
        assert!(g_j.add(&Jacobian::from_affine(&g.neg())).is_infinity());
        let four_g = two_g.double();
        assert_eq!(to_affine(&four_g), to_affine(&three_g.add_affine(&g)));
        // Results stay on the curve.
        let p = to_affine(&four_g);
        let back = Affine::from_coordinates(&p.x.to_be_bytes(), &p.y.to_be_bytes());
        assert_eq!(back, Some(p));
    }
}
