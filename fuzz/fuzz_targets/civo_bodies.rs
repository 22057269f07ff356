//! Any bytes as every body the Civo API sends (page envelopes, plain
//! lists, error bodies under every status): parsed or refused, never a
//! panic, and no error ever shows the API key, even when the body holds it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    civo_egress::fuzzing::civo_bodies(data);
});
