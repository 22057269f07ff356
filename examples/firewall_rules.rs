//! A firewall's unit test, on the pure core: does the allowlist a firewall
//! (or a partner) ships let in exactly the cluster's egress IPs, and nothing
//! of the clusters' own (pods, nodes, LoadBalancers)?
//!
//! ```text
//! cargo run --no-default-features --example firewall_rules                       # the embedded example
//! cargo run --no-default-features --example firewall_rules -- account.json allowlist.txt
//! ```
//!
//! It needs no feature: with `default-features = false` the crate pulls no
//! tokio, reqwest or hickory. Exit 0 when the allowlist is right, 1 with one
//! line per finding when it is not, 2 on unreadable input.
//!
//! To make it a test of your own firewall crate, add
//! `civo-egress = { version = "0.1", default-features = false }` to its
//! `[dev-dependencies]`, keep [`check`] as it is, and call it from a test:
//!
//! ```text
//! #[test]
//! fn the_firewall_lets_in_exactly_the_egress_ips() {
//!     let snapshot = include_str!("../fixtures/account.json"); // civo-egress discover > account.json
//!     let allowlist = include_str!("../fixtures/allowlist.txt"); // what the firewall allows
//!     let findings = check(snapshot, allowlist).unwrap();
//!     assert!(findings.is_empty(), "{findings:#?}");
//! }
//! ```

use std::process::ExitCode;

use civo_egress::{Allowlist, Audit, Severity, Topology, Whitelist};

/// The article's cluster (egress 212.2.253.151).
const SNAPSHOT: &str = include_str!("topology.json");
/// A firewall's allowlist for it: the egress IP, and a partner's own public range.
const ALLOWLIST: &str =
    "# partner firewall\n212.2.253.151/32  # my-cluster egress\n185.199.108.0/22  # the partner's own offices\n";

/// The errors the audit finds (one line each), or why the input is unusable.
///
/// # Errors
///
/// The snapshot or the allowlist does not parse, or the topology has no cluster.
fn check(snapshot: &str, allowlist: &str) -> Result<Vec<String>, String> {
    let topology = Topology::from_json(snapshot).map_err(|e| format!("snapshot: {e}"))?;
    let allowlist = Allowlist::parse(allowlist).map_err(|e| format!("allowlist: {e}"))?;
    let mut errors: Vec<String> = Audit::builder(&topology)
        .build()
        .map_err(|e| e.to_string())?
        .run(&allowlist)
        .findings()
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .map(ToString::to_string)
        .collect();
    // The same question from the other side: every whitelisted egress IP is let in.
    let whitelist = Whitelist::of(&topology).map_err(|e| e.to_string())?;
    for entry in whitelist.iter().filter(|entry| !allowlist.allows(entry.ip())) {
        errors.push(format!("egress IP {} of {:?} is not let in", entry.ip(), entry.clusters()));
    }
    Ok(errors)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let inputs = match args.as_slice() {
        [] => Ok((SNAPSHOT.to_owned(), ALLOWLIST.to_owned())),
        [snapshot, allowlist] => std::fs::read_to_string(snapshot)
            .and_then(|s| Ok((s, std::fs::read_to_string(allowlist)?)))
            .map_err(|e| format!("cannot read the input: {e}")),
        _ => Err("usage: firewall_rules [SNAPSHOT_JSON ALLOWLIST_FILE]".to_owned()),
    };
    match inputs.and_then(|(snapshot, allowlist)| check(&snapshot, &allowlist)) {
        Ok(errors) if errors.is_empty() => {
            println!("ok: the allowlist lets in every egress IP and nothing of the clusters' own");
            ExitCode::SUCCESS
        }
        Ok(errors) => {
            errors.iter().for_each(|e| eprintln!("{e}"));
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}
