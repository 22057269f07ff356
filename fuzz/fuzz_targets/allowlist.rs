//! Any text as an allowlist: an error naming a line, or entries that print
//! and parse back, and audit without panicking.
#![no_main]

use civo_egress::{Allowlist, Audit, Topology};
use libfuzzer_sys::fuzz_target;

const TOPOLOGY: &str = include_str!("../../examples/topology.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Allowlist::parse(text) {
        Err(e) => assert!(e.line() >= 1 && e.line() <= text.lines().count()),
        Ok(list) => {
            let again = Allowlist::parse(&list.to_string()).expect("an allowlist we wrote reads back"); // ok: the fuzz oracle
            assert_eq!(again, list);
            let json = serde_json::to_string(&list).expect("an allowlist serializes"); // ok: the fuzz oracle
            let back: Allowlist = serde_json::from_str(&json).expect("an allowlist we wrote deserializes"); // ok: the fuzz oracle
            assert_eq!(back, list);
            for entry in &list {
                assert!(list.allows(entry.net().network()), "{entry:?} allows its own network");
            }
            let topology = Topology::from_json(TOPOLOGY).expect("the example topology reads"); // ok: the fuzz oracle
            let audit = Audit::builder(&topology).build().expect("the example topology has a cluster"); // ok: the fuzz oracle
            let report = audit.run(&list);
            assert_eq!(report.is_ok(), report.findings().iter().all(|f| f.severity() != civo_egress::Severity::Error));
        }
    }
});
