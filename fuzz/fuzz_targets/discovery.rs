//! Bytes as what discovery fetched from the Civo API (a cluster list, each
//! cluster's instances or `404`, the networks, LoadBalancers and reserved
//! IPs or `403`, split at NUL bytes), assembled into a snapshot: it reads
//! back under strict validation, equal, and every cluster asked about is
//! in it or recorded as left out.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    civo_egress::fuzzing::civo_assembly(data);
});
