//! The network layers through the public API, every peer a server of the
//! test's own on loopback: the Civo API client and discovery, the resolver
//! and its sources, the fault matrix of docs/reliability.md, and the
//! secret-leak checks. One binary, so reqwest and hickory are linked once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod ca_fingerprint;
mod civo;
mod civo_pools;
mod deadline;
mod discover_cases;
mod fault_matrix;
mod kube_api;
mod kubeconfig;
#[cfg(feature = "probe")]
mod probe;
mod resolve;
mod security;
mod vantage;
mod watch;
