//! Any text as a topology snapshot: an error or a topology that round-trips,
//! whose whitelist classifies as egress and audits clean.
#![no_main]

use civo_egress::{Allowlist, IpClass, Topology, audit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(topology) = Topology::from_json(text) else { return };
    let again = Topology::from_json(&topology.to_json()).expect("a snapshot we wrote reads back");
    assert_eq!(again, topology);
    let whitelist = topology.whitelist();
    for entry in whitelist.entries() {
        assert_eq!(topology.classify_ip(entry.ip()).class(), IpClass::Egress);
    }
    let allowlist: Allowlist = whitelist.cidrs().collect();
    assert!(audit(&topology, &allowlist).is_ok());
});
