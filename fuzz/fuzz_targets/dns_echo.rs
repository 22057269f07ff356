//! Any bytes as a DNS echo server's response: decoded as hickory-proto
//! decodes it, read by the DNS echo source's own extraction for A, AAAA and
//! TXT and each family; the assertions are in `civo_egress::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    civo_egress::fuzzing::dns_echo_answer(data);
});
