//! What discovery says, one function per sentence: each returns a
//! [`Warning`] without its cluster (the caller names it), so the wording
//! lives in one place and the assembling code reads as decisions.

use std::net::IpAddr;

use super::error::CivoError;
use crate::warning::{Subject, Warning, WarningKind};
use crate::{TALOS_POD_CIDR, TALOS_SERVICE_CIDR};

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

// ---- Regions ----

pub(super) fn region_defaulted(code: &str) -> Warning {
    Warning::new(
        WarningKind::RegionDefaulted,
        format!(
            "no cluster in region {code}, which was chosen by default (no region given, no CIVO_REGION, no default_region in the Civo CLI config): the account may have clusters in another region"
        ),
    )
}

pub(super) fn region_empty(code: &str) -> Warning {
    Warning::new(WarningKind::RegionEmpty, format!("no cluster in region {code}"))
}

pub(super) fn no_kubernetes_region() -> Warning {
    Warning::new(WarningKind::RegionEmpty, "no region of the account offers Kubernetes (/v2/regions)")
}

pub(super) fn region_failed(code: &str, error: &CivoError) -> Warning {
    Warning::new(
        WarningKind::RegionFailed,
        format!(
            "region {code} could not be read ({error}): its clusters are missing from the snapshot, and their egress IPs from the whitelist"
        ),
    )
}

// ---- Lists the key may not read (HTTP 403) ----

pub(super) fn load_balancers_unknown() -> Warning {
    Warning::new(
        WarningKind::LoadBalancersUnknown,
        "the API key may not list LoadBalancers (HTTP 403): their addresses classify as public or node-network, not load-balancer, and an audit cannot flag allowlist entries that cover them",
    )
}

pub(super) fn reserved_ips_unknown() -> Warning {
    Warning::new(
        WarningKind::ReservedIpsUnknown,
        "the API key may not list reserved IPs (HTTP 403): reserved IPs are unknown, so classify cannot say reserved and an audit cannot flag allowlist entries that cover them",
    )
}

pub(super) fn networks_unknown() -> Warning {
    Warning::new(
        WarningKind::NetworksUnknown,
        "the API key may not list networks (HTTP 403): no cluster has a network CIDR, so node-network addresses classify as private and a whitelist for a destination inside a cluster's network gets the egress set instead of the node IPs",
    )
}

// ---- Clusters left out ----

pub(super) fn cluster_gone(master_ip: &str) -> Warning {
    Warning::new(
        WarningKind::ClusterGone,
        format!(
            "its instances answered 404 (deleted after the cluster list was read?): left out, so its egress IPs (master_ip {master_ip:?}) are not in the whitelist"
        ),
    )
}

pub(super) fn no_egress_ip(blank: bool, error: &crate::TopologyError) -> Warning {
    let kind = if blank { WarningKind::NoEgressIp } else { WarningKind::InvalidValue };
    Warning::new(kind, format!("left out: no usable egress IP ({error})"))
}

pub(super) fn not_built(error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("left out: {error}"))
}

pub(super) fn same_cluster_twice(id: &str, name: &str) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("left out: the API listed cluster {id:?} ({name:?}) twice"))
}

// ---- What the cluster says of itself ----

pub(super) fn not_active(status: &str) -> Warning {
    Warning::new(
        WarningKind::NotActive,
        format!("status is {status:?}, not ACTIVE: its master_ip, the egress IP, may still change"),
    )
}

pub(super) fn not_ready(why: &[String]) -> Warning {
    Warning::new(
        WarningKind::NotReady,
        format!("not ready ({}): its nodes and master_ip, the egress IP, may still change", why.join("; ")),
    )
}

pub(super) fn talos() -> Warning {
    Warning::new(
        WarningKind::Talos,
        format!(
            "a Talos cluster: its pod and service CIDRs are taken as Talos's upstream defaults {TALOS_POD_CIDR} and {TALOS_SERVICE_CIDR} (Civo documents none), and its egress has never been measured (a single egress IP was measured on K3s with flannel only); verify it by observing"
        ),
    )
}

pub(super) fn egress_unmeasured(cluster_type: &str, cni: &str) -> Warning {
    Warning::new(
        WarningKind::EgressUnmeasured,
        format!(
            "{cluster_type}/{cni}: a single egress IP was measured on K3s with flannel only; verify it by observing"
        ),
    )
}

pub(super) fn legacy() -> Warning {
    Warning::new(WarningKind::Legacy, "legacy cluster: every node has its own public IP, and pods may leave from it")
}

// ---- Its network ----

pub(super) fn network_not_found(network_id: &str) -> Warning {
    Warning::new(
        WarningKind::Network,
        format!(
            "network {network_id:?} not found: addresses of its private network will classify as private, not node-network"
        ),
    )
}

pub(super) fn vlan_connected(network: &str, vlan: &str, master_ip: &str) -> Warning {
    Warning::new(WarningKind::VlanConnected, format!(
        "network {network} is connected to customer VLAN {vlan}: that VLAN's gateway may carry egress, so pods may not leave through master_ip {master_ip}; verify it by observing"
    ))
    .about(Subject::Network(network.to_owned()))
}

pub(super) fn network_without_cidr(network: &str) -> Warning {
    Warning::new(WarningKind::Network, format!("network {network} has no CIDR"))
        .about(Subject::Network(network.to_owned()))
}

pub(super) fn network_cidr_bad(network: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::Network, format!("network {network}: {error}; left out"))
        .about(Subject::Network(network.to_owned()))
}

// ---- Its nodes and pools ----

pub(super) fn public_ip_nodes(labels: &[String], egress: IpAddr) -> Warning {
    Warning::new(
        WarningKind::PublicIpNodePool,
        format!("pods on {} leave from those nodes' own IPs, not from {egress}: whitelist them too", labels.join(", ")),
    )
}

pub(super) fn unflagged_public_ips(labels: &[String]) -> Warning {
    let n = labels.len();
    Warning::new(
        WarningKind::UnflaggedPublicIp,
        format!(
            "{} ha{} a public IP of {} own although {} pool is not a public-IP node pool: kept in the egress set (pods there may leave from it), but the whitelist may hold an IP no pod uses; verify by observing",
            labels.join(", "),
            plural(n, "s", "ve"),
            plural(n, "its", "their"),
            plural(n, "its", "their"),
        ),
    )
}

pub(super) fn public_ip_pending(pool: &str, pending: u32, what: &[String]) -> Warning {
    Warning::new(WarningKind::PublicIpPending, format!(
        "public-IP node pool {pool}: {pending} node(s) without a public IP ({}): pods scheduled there will leave from addresses not known yet, so the whitelist is incomplete and grows with each node of this pool",
        what.join("; ")
    ))
    .about(Subject::Pool(pool.to_owned()))
}

/// A pool node that has its public IP but no private IP yet (BUILDING):
/// the core's nodes need a private IP, so its IP is said here.
pub(super) fn pool_not_recorded(pool: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("public-IP pool {pool:?} not recorded: {error}"))
        .about(Subject::Pool(pool.to_owned()))
}

pub(super) fn gateway_missing(egress: IpAddr) -> Warning {
    Warning::new(
        WarningKind::GatewayMissing,
        format!(
            "no instance carries its master_ip {egress} (its gateway node was replaced, or the API's answer is stale): {egress} may no longer be the IP its pods leave from; verify it by observing"
        ),
    )
}

pub(super) fn ipv6_unmeasured(nodes: &[String]) -> Warning {
    let n = nodes.len();
    Warning::new(
        WarningKind::Ipv6Unmeasured,
        format!(
            "{} ha{} an IPv6 address: IPv6 egress is unmeasured (flannel masquerades IPv6 only when told to), and the whitelist holds no IPv6 address for {}",
            nodes.join(", "),
            plural(n, "s", "ve"),
            plural(n, "it", "them"),
        ),
    )
}

pub(super) fn node_left_out(node: &str, state: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(
        WarningKind::NodePending,
        format!(
            "node {node}{state} left out, without a usable private IP ({error}): a destination inside the cluster's network will see its address, which no whitelist lists yet; discover again once it has one"
        ),
    )
    .about(Subject::Node(node.to_owned()))
}

pub(super) fn node_unnamed(node: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("node {node:?} left out: {error}"))
}

pub(super) fn public_ip_ignored(node: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("node {node}: public IP ignored: {error}"))
}

// ---- LoadBalancers and reserved IPs ----

pub(super) fn load_balancer_left_out(name: &str, error: &crate::TopologyError, quoted: bool) -> Warning {
    let name = if quoted { format!("{name:?}") } else { name.to_owned() };
    Warning::new(WarningKind::InvalidValue, format!("LoadBalancer {name} left out: {error}"))
}

pub(super) fn load_balancer_private_ignored(name: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("LoadBalancer {name}: private IP ignored: {error}"))
}

pub(super) fn reserved_ip_left_out(name: &str, error: &crate::TopologyError, quoted: bool) -> Warning {
    let name = if quoted { format!("{name:?}") } else { name.to_owned() };
    Warning::new(WarningKind::InvalidValue, format!("reserved IP {name} left out: {error}"))
}

pub(super) fn assignment_ignored(name: &str, error: &crate::TopologyError) -> Warning {
    Warning::new(WarningKind::InvalidValue, format!("reserved IP {name}: assignment ignored: {error}"))
}

pub(super) fn region_unusable(code: &str, error: &CivoError) -> Warning {
    let shown: String = code.chars().take(40).collect();
    Warning::new(
        WarningKind::RegionFailed,
        format!(
            "region {shown:?} of /v2/regions was not asked ({error}): its clusters, if any, are not in the snapshot"
        ),
    )
}
