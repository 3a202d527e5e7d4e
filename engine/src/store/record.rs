//! The on-disk record: a fixed header followed by the `common.Block` bytes as served.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "FBLK" (little-endian u32)
//!      4     4  body length in bytes
//!      8     8  block number
//!     16     4  CRC32C over the block number (8 bytes LE) and the body
//!     20     4  reserved, zero
//! ```
//! A record is valid when its magic matches, its body fits in the segment and its CRC
//! matches. Zero bytes after the last record mark the end of a preallocated segment.

/// What a scan of a segment found.
#[derive(Debug)]
pub struct Scan {
    /// Record offsets, in block order.
    pub offsets: Vec<u64>,
    /// Where the next record goes.
    pub end: u64,
    /// Why the scan stopped before the zeroed end, if it did.
    pub fault: Option<String>,
}

/// Walks the records of a segment's `bytes` from the start, the first holding block
/// `first_block`. With `verify`, each body's CRC is checked too. Reads bytes from disk
/// as they are: every input is handled (fuzzed in `fuzz/`).
pub fn scan(bytes: &[u8], first_block: u64, verify: bool) -> Scan {
    let mut scan = Scan {
        offsets: Vec::new(),
        end: 0,
        fault: None,
    };
    let mut expected = first_block;
    loop {
        let offset = scan.end as usize;
        let Some(header_bytes) = bytes.get(offset..offset + HEADER_LEN) else {
            break;
        };
        let header_bytes: &[u8; HEADER_LEN] =
            header_bytes.try_into().expect("slice has HEADER_LEN bytes");
        let header = match RecordHeader::decode(header_bytes) {
            Ok(header) => header,
            Err(HeaderFault::End) => break,
            Err(HeaderFault::BadMagic) => {
                scan.fault = Some(format!("bad record header at offset {offset}"));
                break;
            }
        };
        let body_end = offset + HEADER_LEN + header.body_len as usize;
        let fault = if header.number != expected {
            Some(format!(
                "record at offset {offset} holds block {}",
                header.number
            ))
        } else if body_end > bytes.len() {
            Some(format!(
                "record at offset {offset} runs past the segment end"
            ))
        } else if verify && !header.matches(&bytes[offset + HEADER_LEN..body_end]) {
            Some(format!("record at offset {offset} fails its CRC"))
        } else {
            None
        };
        if fault.is_some() {
            scan.fault = fault;
            break;
        }
        scan.offsets.push(scan.end);
        scan.end = body_end as u64;
        expected += 1;
    }
    scan
}

/// Record header size in bytes.
pub const HEADER_LEN: usize = 24;
const _: () = assert!(HEADER_LEN == 4 + 4 + 8 + 4 + 4);

/// "FBLK" read as a little-endian u32.
pub const MAGIC: u32 = u32::from_le_bytes(*b"FBLK");

/// The fixed part of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Length of the block bytes that follow.
    pub body_len: u32,
    /// Block number.
    pub number: u64,
    /// CRC32C of the number and the body.
    pub crc: u32,
}

/// Why a header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderFault {
    /// All zero: the end of the written part of a segment.
    End,
    /// Not zero and not a record: a torn or overwritten header.
    BadMagic,
}

impl RecordHeader {
    /// A header for `body` as block `number`; the CRC is computed before the write.
    pub fn for_body(number: u64, body: &[u8]) -> Self {
        Self {
            body_len: u32::try_from(body.len()).unwrap_or(u32::MAX),
            number,
            crc: checksum(number, body),
        }
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        out[4..8].copy_from_slice(&self.body_len.to_le_bytes());
        out[8..16].copy_from_slice(&self.number.to_le_bytes());
        out[16..20].copy_from_slice(&self.crc.to_le_bytes());
        out
    }

    /// Reads a header from the first [`HEADER_LEN`] bytes of `bytes`.
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Result<Self, HeaderFault> {
        let word = |range: std::ops::Range<usize>| {
            let mut buf = [0u8; 4];
            buf.copy_from_slice(&bytes[range]);
            u32::from_le_bytes(buf)
        };
        if word(0..4) != MAGIC {
            return Err(if bytes.iter().all(|&b| b == 0) {
                HeaderFault::End
            } else {
                HeaderFault::BadMagic
            });
        }
        let mut number = [0u8; 8];
        number.copy_from_slice(&bytes[8..16]);
        Ok(Self {
            body_len: word(4..8),
            number: u64::from_le_bytes(number),
            crc: word(16..20),
        })
    }

    /// Whether `body` is the body this header was written for.
    pub fn matches(&self, body: &[u8]) -> bool {
        body.len() == self.body_len as usize && checksum(self.number, body) == self.crc
    }
}

fn checksum(number: u64, body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&number.to_le_bytes()), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn header_round_trips(number: u64, body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let header = RecordHeader::for_body(number, &body);
            let decoded = RecordHeader::decode(&header.encode()).unwrap();
            prop_assert_eq!(decoded, header);
            prop_assert!(decoded.matches(&body));
        }

        #[test]
        fn any_flipped_body_bit_is_detected(body in proptest::collection::vec(any::<u8>(), 1..300), bit: usize) {
            let header = RecordHeader::for_body(7, &body);
            let mut flipped = body.clone();
            let bit = bit % (body.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!header.matches(&flipped));
        }
    }

    #[test]
    fn zeros_mark_the_end_and_garbage_is_bad_magic() {
        assert_eq!(
            RecordHeader::decode(&[0; HEADER_LEN]),
            Err(HeaderFault::End)
        );
        assert_eq!(
            RecordHeader::decode(&[1; HEADER_LEN]),
            Err(HeaderFault::BadMagic)
        );
    }
}
