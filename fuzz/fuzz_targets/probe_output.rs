//! Any bytes as a probe pod's log (the first byte: how many echo URLs),
//! split back into one outcome per URL by the probe's parser, with and
//! without the lab opt-in; the assertions are in `civo_egress::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    civo_egress::fuzzing::probe_output(data);
});
