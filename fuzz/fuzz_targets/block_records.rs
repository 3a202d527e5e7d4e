//! The block file's record reader over arbitrary segment bytes, as on open.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scan = engine::store::record::scan(data, 0, true);
    assert!(scan.end as usize <= data.len());
    assert!(scan.offsets.iter().all(|&offset| offset < scan.end));
});
