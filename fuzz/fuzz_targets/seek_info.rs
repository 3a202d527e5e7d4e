//! Deliver's decoding of a signed seek request and its `SeekInfo`, and the plan made
//! from it against a chain of some height.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = engine::deliver::SeekRequest::decode(data) {
        let _ = request.plan(7);
    }
});
