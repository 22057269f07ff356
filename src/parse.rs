//! Parsing of addresses and CIDRs with errors that name the field.
//!
//! Shared by the snapshot reader, the cluster builder and Civo discovery.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::TopologyError;
use crate::special;

/// Parses an IP address, folding IPv4-mapped IPv6 to IPv4.
pub(crate) fn ip(field: &str, value: &str) -> Result<IpAddr, TopologyError> {
    value
        .trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| TopologyError::InvalidIp { field: field.to_owned(), value: value.to_owned() })
}

/// Parses an optional IP where `""` (as the Civo API sends it) means none.
pub(crate) fn opt_ip(field: &str, value: Option<&str>) -> Result<Option<IpAddr>, TopologyError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => ip(field, v).map(Some),
    }
}

/// Parses a network CIDR: no host bits, not a catch-all such as `0.0.0.0/0`.
pub(crate) fn network(field: &str, value: &str) -> Result<IpNet, TopologyError> {
    let net = value
        .trim()
        .parse::<IpNet>()
        .map_err(|_| TopologyError::InvalidCidr { field: field.to_owned(), value: value.to_owned() })?;
    checked_network(field, value, net)
}

/// Checks a network CIDR given as `value`: no host bits, not a catch-all.
pub(crate) fn checked_network(field: &str, value: &str, net: IpNet) -> Result<IpNet, TopologyError> {
    if net.trunc() != net {
        return Err(TopologyError::HostBits {
            field: field.to_owned(),
            value: value.to_owned(),
            network: net.trunc().to_string(),
        });
    }
    if net.prefix_len() == 0 {
        return Err(TopologyError::CatchAll { field: field.to_owned(), value: value.to_owned() });
    }
    Ok(net)
}

/// Checks that an egress address is global unicast, unless the caller opted in.
pub(crate) fn egress(field: &str, ip: IpAddr, allow_non_global: bool) -> Result<IpAddr, TopologyError> {
    if allow_non_global {
        return Ok(ip);
    }
    match special::lookup(ip) {
        None => Ok(ip),
        Some(range) => Err(TopologyError::NonGlobalEgress {
            field: field.to_owned(),
            value: ip.to_string(),
            why: format!("{} ({})", range.name, range.rfc),
        }),
    }
}

/// Requires a non-blank string.
pub(crate) fn required(field: &str, value: Option<String>) -> Result<String, TopologyError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(TopologyError::Missing { field: field.to_owned() }),
    }
}
