//! Any text as an allowlist: an error naming a line, or entries that print
//! and parse back, and audit without panicking.
#![no_main]

use civo_egress::{Allowlist, Topology, audit};
use libfuzzer_sys::fuzz_target;

const TOPOLOGY: &str = include_str!("../../examples/topology.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Allowlist::parse(text) {
        Err(e) => assert!(e.line() >= 1 && e.line() <= text.lines().count()),
        Ok(list) => {
            let again = Allowlist::parse(&list.to_string()).expect("an allowlist we wrote reads back");
            assert_eq!(again.len(), list.len());
            let topology = Topology::from_json(TOPOLOGY).unwrap();
            let _ = audit(&topology, &list);
        }
    }
});
