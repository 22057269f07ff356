//! Any text as a topology snapshot: an error or a topology that round-trips
//! (through `from_json` and through serde, which must agree), whose
//! whitelist classifies as egress and audits clean (unless a public-IP pool
//! still has nodes without an IP: then it cannot be judged complete).
#![no_main]

use civo_egress::{Allowlist, Audit, IpClass, Topology, Whitelist, WhitelistFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let read = Topology::from_json(text);
    let via_serde = serde_json::from_str::<Topology>(text);
    assert_eq!(read.is_ok(), via_serde.is_ok(), "from_json and serde disagree on {text:?}");
    let Ok(topology) = read else { return };
    assert_eq!(via_serde.ok().as_ref(), Some(&topology));
    let again = Topology::from_json(&topology.to_json()).expect("a snapshot we wrote reads back"); // ok: the fuzz oracle
    assert_eq!(again, topology);
    let whitelist = Whitelist::of_allowing_empty(&topology);
    assert_eq!(Whitelist::of(&topology).is_ok(), !topology.clusters().is_empty());
    for entry in whitelist.entries() {
        assert_eq!(topology.classify_ip(entry.ip()).class(), IpClass::Egress);
    }
    let allowlist = Allowlist::from(&whitelist);
    // Clean, unless the list is in doubt (a public-IP pool still has nodes
    // without an IP, a cluster was left out, an egress never measured...):
    // then no allowlist can be judged right.
    let audit = Audit::builder(&topology).allow_empty(true).build().expect("every cluster, empty allowed"); // ok: the fuzz oracle
    assert_eq!(audit.run(&allowlist).is_ok(), whitelist.doubts().next().is_none());
    // A file written from the list says so, and reads back as the same allowlist.
    let text = whitelist.render(WhitelistFormat::Text).to_string();
    assert_eq!(text.contains("# INCOMPLETE") || text.contains("# NOT VERIFIED"), whitelist.doubts().next().is_some());
    assert_eq!(text.parse::<Allowlist>().ok().as_ref(), Some(&allowlist), "{text}");
    // The topology's warnings and the clusters' caveats are well-formed.
    for w in topology.warnings().iter().chain(topology.clusters().iter().flat_map(|c| c.caveats())) {
        assert!(!w.message().trim().is_empty());
    }
});
