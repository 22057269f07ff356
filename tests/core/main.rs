//! The pure core through the public API: topology and snapshot, classify,
//! whitelist and audit, destinations and public-IP pools, the golden snapshot, the value traits and Send/Sync,
//! the firewall formats of `Whitelist::render` and the audit's line numbers,
//! and the property tests (among them the differential of the index against
//! a naive scan). Builds and runs with `--no-default-features`. One binary,
//! so the crate is linked once for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod audit;
mod caveats;
mod classify;
mod destination;
mod diff;
mod golden;
mod properties;
mod render;
mod topology;
