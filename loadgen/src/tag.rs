//! Each envelope of a run carries a tag in its signature header's nonce: the run's id and
//! the envelope's index. Deliver clients find it again in blocks without decoding them
//! (any orderer, ours or Fabric's, keeps envelope bytes as sent). The nonce is the one
//! field of every envelope, whatever its header type and payload, whose content a client
//! chooses freely: a peer only asks that the tx id be derived from it, and a tagged nonce
//! stays unique (random bytes, the run's id, the index).

use bytes::{Buf, Bytes};

use crate::envelope::NONCE_LEN;

/// Bytes of the tag: run id, then envelope index, both little-endian u64.
pub const TAG_LEN: usize = 16;
const _: () = assert!(TAG_LEN <= NONCE_LEN);

/// A nonce ending in the tag of envelope `index` of run `run_id`.
pub fn nonce(run_id: u64, index: u64) -> [u8; NONCE_LEN] {
    let mut nonce = crate::envelope::nonce();
    nonce[NONCE_LEN - TAG_LEN..NONCE_LEN - 8].copy_from_slice(&run_id.to_le_bytes());
    nonce[NONCE_LEN - 8..].copy_from_slice(&index.to_le_bytes());
    nonce
}

/// The envelope index of a tagged envelope of run `run_id`, if it is one.
pub fn index_of(envelope: &[u8], run_id: u64) -> Option<u64> {
    let payload = field(envelope, 1)?;
    let header = field(payload, 1)?;
    let signature_header = field(header, 2)?;
    let nonce = field(signature_header, 2)?;
    let tag = nonce.get(nonce.len().checked_sub(TAG_LEN)?..)?;
    let mut run = [0u8; 8];
    run.copy_from_slice(&tag[..8]);
    if u64::from_le_bytes(run) != run_id {
        return None;
    }
    let mut index = [0u8; 8];
    index.copy_from_slice(&tag[8..]);
    Some(u64::from_le_bytes(index))
}

/// Calls `visit` with every envelope of an encoded block.
pub fn for_each_envelope(block: &Bytes, mut visit: impl FnMut(&[u8])) -> Option<usize> {
    let data = field(block, 2)?;
    let mut count = 0;
    for_each_field(data, |number, value| {
        if number == 1 {
            visit(value);
            count += 1;
        }
    })?;
    Some(count)
}

/// The number in an encoded block's header.
pub fn block_number(block: &[u8]) -> Option<u64> {
    let header = field(block, 1)?;
    let mut rest = header;
    let mut number = 0;
    while !rest.is_empty() {
        let key = varint(&mut rest)?;
        match key & 7 {
            0 => {
                let value = varint(&mut rest)?;
                if key >> 3 == 1 {
                    number = value;
                }
            }
            2 => {
                let length = usize::try_from(varint(&mut rest)?).ok()?;
                rest = rest.get(length..)?;
            }
            _ => return None,
        }
    }
    Some(number)
}

/// The last occurrence of length-delimited field `number` (protobuf's merge rule).
fn field(message: &[u8], number: u64) -> Option<&[u8]> {
    let mut found = None;
    for_each_field(message, |n, value| {
        if n == number {
            found = Some(value);
        }
    })?;
    found
}

/// Walks the top-level length-delimited fields; other wire types are skipped.
fn for_each_field<'a>(message: &'a [u8], mut visit: impl FnMut(u64, &'a [u8])) -> Option<()> {
    let mut rest = message;
    while !rest.is_empty() {
        let key = varint(&mut rest)?;
        match key & 7 {
            0 => {
                varint(&mut rest)?;
            }
            1 => rest = rest.get(8..)?,
            2 => {
                let length = usize::try_from(varint(&mut rest)?).ok()?;
                let value = rest.get(..length)?;
                visit(key >> 3, value);
                rest = &rest[length..];
            }
            5 => rest = rest.get(4..)?,
            _ => return None,
        }
    }
    Some(())
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut buf = *bytes;
    let value = prost::encoding::decode_varint(&mut buf).ok()?;
    bytes.advance(bytes.len() - buf.len());
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{HeaderSpec, seal};
    use orderer_proto::common::{Block, BlockData, HeaderType};
    use prost::Message;

    #[test]
    fn tags_are_found_in_envelopes_and_blocks() {
        let envelopes: Vec<Bytes> = (0..5)
            .map(|index| {
                let header = HeaderSpec {
                    channel_id: "c",
                    header_type: HeaderType::Message,
                    creator: b"creator",
                    nonce: nonce(42, index),
                    tls_cert_hash: &[],
                    extension: Bytes::new(),
                };
                seal(header.encode(), Bytes::from(vec![7u8; 1024]), None).unwrap()
            })
            .collect();
        assert_eq!(index_of(&envelopes[3], 42), Some(3));
        assert_eq!(index_of(&envelopes[3], 43), None);
        let block = Block {
            data: Some(BlockData { data: envelopes }),
            ..Block::default()
        };
        let mut found = Vec::new();
        let count = for_each_envelope(&block.encode_to_vec().into(), |e| {
            found.push(index_of(e, 42).unwrap());
        });
        assert_eq!(count, Some(5));
        assert_eq!(found, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn tagged_nonces_differ_within_and_across_runs() {
        assert_ne!(nonce(1, 0), nonce(1, 1));
        assert_ne!(nonce(1, 0), nonce(2, 0));
        assert_ne!(nonce(1, 0)[..8], nonce(1, 0)[..8], "random bytes first");
    }
}
