//! Strict DER for ECDSA signatures, `SEQUENCE { INTEGER r, INTEGER s }`, as ring reads
//! it: short-form lengths, minimal non-negative integers, nothing trailing. Used where
//! the signature is checked by our own table-based verifier instead of ring, so that
//! both paths accept exactly the same encodings.

/// `r` and `s` as 32-byte big-endian numbers, or `None` if `der` is not a strict DER
/// signature with both values of at most 32 bytes.
pub fn parse_rs(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let body = der.strip_prefix(&[0x30])?;
    let (&length, body) = body.split_first()?;
    if length >= 0x80 || usize::from(length) != body.len() {
        return None;
    }
    let (r, rest) = minimal_integer(body)?;
    let (s, rest) = minimal_integer(rest)?;
    rest.is_empty().then_some((r, s))
}

/// One minimally encoded, non-negative INTEGER of at most 32 value bytes.
fn minimal_integer(bytes: &[u8]) -> Option<([u8; 32], &[u8])> {
    let bytes = bytes.strip_prefix(&[0x02])?;
    let (&length, bytes) = bytes.split_first()?;
    let length = usize::from(length);
    if length == 0 || length >= 0x80 || bytes.len() < length {
        return None;
    }
    let (value, rest) = bytes.split_at(length);
    if value[0] & 0x80 != 0 {
        return None; // negative
    }
    let value = match value {
        [0, next, ..] if next & 0x80 == 0 => return None, // a needless leading zero
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    let mut out = [0u8; 32];
    out.get_mut(32usize.checked_sub(value.len())?..)?
        .copy_from_slice(value);
    Some((out, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_encodings_only() {
        let mut r = [0u8; 32];
        r[31] = 5;
        let mut s = [0u8; 32];
        s[0] = 0x80;
        // r = 5, s = 0x80 00.. (needs a leading zero)
        let mut good = vec![0x30, 3 + 35, 0x02, 1, 5, 0x02, 33, 0];
        good.extend_from_slice(&s);
        assert_eq!(parse_rs(&good), Some((r, s)));
        let cases: [&[u8]; 6] = [
            &[0x30, 6, 0x02, 1, 5, 0x02, 1, 0x85],    // negative s
            &[0x30, 7, 0x02, 2, 0, 5, 0x02, 1, 5],    // needless leading zero
            &[0x30, 6, 0x02, 1, 5, 0x02, 1, 5, 0],    // trailing byte
            &[0x30, 5, 0x02, 0, 0x02, 1, 5],          // empty integer
            &[0x31, 6, 0x02, 1, 5, 0x02, 1, 5],       // not a sequence
            &[0x30, 0x81, 6, 0x02, 1, 5, 0x02, 1, 5], // long-form length
        ];
        for bad in cases {
            assert_eq!(parse_rs(bad), None, "{bad:02x?}");
        }
        let mut long = vec![0x30, 3 + 35, 0x02, 1, 5, 0x02, 33, 1];
        long.extend_from_slice(&s);
        assert_eq!(parse_rs(&long), None, "33 value bytes");
        assert_eq!(
            parse_rs(&[0x30, 6, 0x02, 1, 0, 0x02, 1, 0]),
            Some(([0; 32], [0; 32]))
        );
    }
}
