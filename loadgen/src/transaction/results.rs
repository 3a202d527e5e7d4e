//! A chaincode action's results sized to order: a `rwset.TxReadWriteSet` (KV data model)
//! holding one namespace that writes one key, whose value is padded so the encoded set
//! has the size asked for. Exactly, but for a few sizes that no set of this shape has (a
//! length prefix around the namespace grows from one byte to two at 128, so a set of 130
//! bytes cannot be made): there it is one byte smaller.

use bytes::Bytes;
use orderer_proto::kvrwset::{KvWrite, KvrwSet};
use orderer_proto::rwset::tx_read_write_set::DataModel;
use orderer_proto::rwset::{NsReadWriteSet, TxReadWriteSet};
use prost::Message;
use prost::encoding::{encoded_len_varint, key_len};

/// Most bytes appended to the key so the set reaches its size exactly: a value one byte
/// longer can add up to five (its tag and four length prefixes growing at once).
const KEY_PADDING_MAX: usize = 16;

/// A read-write set of `namespace` writing `key`, of `size` bytes (or one less, see the
/// module's note), or the smallest such set (an empty value) when `size` is below it.
pub fn sized(namespace: &str, key: &str, size: usize) -> Bytes {
    let (value_bytes, padding) = fit(namespace.len(), key.len(), size);
    let mut key = key.to_string();
    key.extend(std::iter::repeat_n('_', padding));
    let write = KvWrite {
        key,
        is_delete: false,
        value: vec![0u8; value_bytes].into(),
    };
    let rwset = KvrwSet {
        writes: vec![write],
        ..KvrwSet::default()
    };
    TxReadWriteSet {
        data_model: DataModel::Kv as i32,
        ns_rwset: vec![NsReadWriteSet {
            namespace: namespace.to_string(),
            rwset: rwset.encode_to_vec().into(),
            collection_hashed_rwset: Vec::new(),
        }],
    }
    .encode_to_vec()
    .into()
}

/// The value length and key padding that make the set `size` bytes, if any do; else those
/// of the largest set below `size` (or of the smallest set).
fn fit(namespace: usize, key: usize, size: usize) -> (usize, usize) {
    let smallest = encoded_len(namespace, key, 0);
    let Some(room) = size.checked_sub(smallest) else {
        return (0, 0);
    };
    // The value takes at most `room` bytes; a few shorter values leave the key padding
    // room to land exactly, whatever length prefixes grow on the way.
    let values = (room.saturating_sub(KEY_PADDING_MAX)..=room).rev();
    let mut best = (0, 0);
    for value in values {
        for padding in 0..=KEY_PADDING_MAX {
            let length = encoded_len(namespace, key + padding, value);
            if length == size {
                return (value, padding);
            }
            if length < size && length > encoded_len(namespace, key + best.1, best.0) {
                best = (value, padding);
            }
        }
    }
    best
}

/// Encoded bytes of the set [`sized`] builds with a `key`-byte key and a `value`-byte value.
fn encoded_len(namespace: usize, key: usize, value: usize) -> usize {
    let write = field_len(1, key) + if value > 0 { field_len(3, value) } else { 0 };
    let rwset = field_len(3, write);
    let ns = field_len(1, namespace) + field_len(2, rwset);
    field_len(2, ns)
}

/// Bytes of a length-delimited field `tag` of `length` bytes.
fn field_len(tag: u32, length: usize) -> usize {
    key_len(tag) + encoded_len_varint(length as u64) + length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_from_the_smallest_set_up_is_met_within_a_byte() {
        let smallest = encoded_len(7, 48, 0);
        let mut short = Vec::new();
        for size in smallest..40_000 {
            let (value, padding) = fit(7, 48, size);
            let length = encoded_len(7, 48 + padding, value);
            assert!(
                length == size || length + 1 == size,
                "size {size}: {length}"
            );
            if length < size {
                short.push(size);
            }
        }
        // One size per length prefix that grows (four nested prefixes, at 128 and 16,384).
        assert!(short.len() <= 8, "sizes missed: {short:?}");
    }

    #[test]
    fn the_computed_length_is_the_encoded_length() {
        let key = "k".repeat(48);
        let smallest = encoded_len(7, 48, 0);
        // Across the sizes where the length prefixes grow (128 and 16,384 bytes).
        for size in (smallest..600).chain(16_200..16_600) {
            let (value, padding) = fit(7, 48, size);
            let length = sized("loadgen", &key, size).len();
            assert_eq!(length, encoded_len(7, 48 + padding, value), "size {size}");
        }
        for size in [0, 10, 1024, 100_000] {
            let set = sized("loadgen", &key, size);
            assert_eq!(set.len(), size.max(smallest), "size {size}");
            let decoded = TxReadWriteSet::decode(set).unwrap();
            assert_eq!(decoded.ns_rwset[0].namespace, "loadgen");
            let rwset = KvrwSet::decode(decoded.ns_rwset[0].rwset.clone()).unwrap();
            assert!(rwset.writes[0].key.starts_with(&key));
        }
    }
}
