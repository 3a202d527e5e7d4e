//! Broadcast's decoding of an envelope, its payload and headers (`engine::envelope`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = engine::envelope::inspect(bytes::Bytes::copy_from_slice(data));
});
