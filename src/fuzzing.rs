//! Entry points for the fuzz targets in `fuzz/`, compiled only under
//! `--cfg fuzzing` (which `cargo fuzz` sets). Not part of the API.

use std::net::IpAddr;

use crate::{IpClass, Topology};

/// The compiled index and the naive scan must agree on `ip`.
///
/// # Panics
///
/// When they disagree: that is what the fuzzer looks for.
#[allow(clippy::panic)]
pub fn check_classify(topology: &Topology, ip: IpAddr) {
    let fast = topology.classify_ip(ip);
    let (class, clusters) =
        crate::index::naive::naive(topology.clusters(), topology.load_balancers(), topology.reserved_ips(), ip);
    if (fast.class(), fast.clusters()) != (class, clusters.as_slice()) {
        panic!("index and scan disagree on {ip}: {fast} vs {class} {clusters:?}"); // ok: the fuzz oracle
    }
    let parts = (topology.clusters(), topology.load_balancers(), topology.reserved_ips());
    if let Some(reason) = crate::index::naive::naive_host_reason(parts.0, parts.1, parts.2, ip)
        && fast.reason() != reason
    {
        panic!("index and scan disagree on the reason of {ip}: {} vs {reason}", fast.reason()); // ok: the fuzz oracle
    }
    if fast.is_whitelistable() != (class == IpClass::Egress) {
        panic!("whitelistable and class disagree on {ip}"); // ok: the fuzz oracle
    }
}

/// Parses an HTTP echo body as the HTTP echo source does.
#[cfg(feature = "http-probe")]
pub fn parse_echo(body: &[u8], html: bool) -> Option<IpAddr> {
    crate::resolve::parse_echo(body, html).ok()
}

/// Any bytes as every Civo API body: see `civo::fuzz::bodies`.
#[cfg(feature = "civo-api")]
pub fn civo_bodies(data: &[u8]) {
    crate::civo::fuzz::bodies(data);
}

/// Any text as the Civo CLI's config: see `civo::fuzz::cli_config`.
#[cfg(feature = "civo-api")]
pub fn civo_cli_config(text: &str) {
    crate::civo::fuzz::cli_config(text);
}

/// Bytes as what discovery fetched, assembled and read back: see
/// `civo::fuzz::assembly`.
#[cfg(feature = "civo-api")]
pub fn civo_assembly(data: &[u8]) {
    crate::civo::fuzz::assembly(data);
}
