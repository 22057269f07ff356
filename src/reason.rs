//! The sentences behind each classification.

use std::fmt::Display;

use crate::class::IpClass;
use crate::cluster::Cluster;

/// One sentence a person can act on, for an address of `class` described by
/// `subject` (e.g. "node w-1", "pod CIDR 10.42.0.0/16") in `clusters`.
pub(crate) fn write(class: IpClass, subject: impl Display, clusters: &[String]) -> String {
    let of = match clusters {
        [] => String::new(),
        [one] => format!(" of cluster {one}"),
        many => format!(" of clusters {}", many.join(", ")),
    };
    match class {
        IpClass::Egress => format!("{subject}{of}: pods leave the cluster from this address; whitelist it"),
        IpClass::LoadBalancer => {
            format!("{subject}{of}: carries inbound traffic only, pods never leave from it; do not whitelist it")
        }
        IpClass::Reserved => format!("{subject}: not used for pod egress; do not whitelist it"),
        IpClass::Node => format!(
            "private IP of {subject}{of}: not seen by destinations outside the cluster's network, which see the egress IP (whitelist that instead); a destination inside the network sees it as the source of the pods on this node"
        ),
        IpClass::NodeNetwork => format!(
            "inside the {subject}{of}, not a known node or LoadBalancer: not seen by destinations outside the cluster's network, which see the egress IP (whitelist that instead); a destination inside the network sees the nodes' private IPs"
        ),
        IpClass::Pod => format!(
            "inside the {subject}{of}: pod traffic is masqueraded to the egress IP before it leaves; whitelist that instead"
        ),
        IpClass::Service => {
            format!(
                "inside the {subject}{of}: cluster-internal service addresses never leave the cluster; do not whitelist it"
            )
        }
        IpClass::Special => {
            format!("{subject}: special-purpose, never the source of a cluster's internet traffic; do not whitelist it")
        }
        IpClass::Private => {
            format!(
                "{subject}, claimed by no cluster: private addresses are never seen on the internet; do not whitelist it"
            )
        }
        IpClass::Public => {
            "public address unknown to this topology: no cluster's pods leave from it; do not whitelist it".to_owned()
        }
    }
}

/// `pool a`, `pools a, b`.
fn pools(cluster: &Cluster) -> String {
    let ids: Vec<&str> = cluster.public_ip_pools().iter().map(|p| p.id()).collect();
    match ids.as_slice() {
        [one] => format!("public-IP pool {one}"),
        many => format!("public-IP pools {}", many.join(", ")),
    }
}

/// `1 node has`, `2 nodes have`.
pub(crate) fn nodes_have(n: u32) -> String {
    if n == 1 { "1 node has".to_owned() } else { format!("{n} nodes have") }
}

/// What a cluster's public-IP pools do to its egress set, as a clause to
/// append to the reason of its egress IPs; `None` without pools.
pub(crate) fn pool_note(cluster: &Cluster) -> Option<String> {
    if cluster.public_ip_pools().is_empty() {
        return None;
    }
    let mut note =
        format!("; the egress set of cluster {} grows with each node of its {}", cluster.name(), pools(cluster));
    let pending = cluster.pending_public_nodes();
    if pending > 0 {
        note.push_str(&format!(", and is incomplete now: {} no public IP yet", nodes_have(pending)));
    }
    Some(note)
}

/// The warning of a cluster whose egress set grows with its pools.
pub(crate) fn grows_with_pool(cluster: &Cluster) -> String {
    format!(
        "the egress set grows with each node of {}: each new node egresses from its own public IP, which must be added to the whitelist when the node gets it",
        pools(cluster)
    )
}

/// The warning (and audit reason) of a cluster with pending public nodes.
pub(crate) fn incomplete(cluster: &Cluster) -> String {
    let pending = cluster.pending_public_nodes();
    let which: Vec<String> = cluster
        .public_ip_pools()
        .iter()
        .filter(|p| p.pending() > 0)
        .map(|p| format!("{} of public-IP pool {}", p.pending(), p.id()))
        .collect();
    format!(
        "incomplete: {} no public IP yet ({}); pods scheduled there will leave from addresses nobody can list yet, so refresh the topology once they have one",
        nodes_have(pending),
        which.join(", ")
    )
}

/// The reason of an unknown public address when some clusters have pending
/// public-IP-pool nodes: it cannot be ruled out as an egress IP.
pub(crate) fn public_while_pending(clusters: &[Cluster]) -> Option<String> {
    let pending: Vec<String> = clusters
        .iter()
        .filter(|c| c.pending_public_nodes() > 0)
        .map(|c| format!("{} of cluster {}", pools(c), c.name()))
        .collect();
    if pending.is_empty() {
        return None;
    }
    let total = clusters.iter().fold(0u32, |sum, c| sum.saturating_add(c.pending_public_nodes()));
    Some(format!(
        "public address unknown to this topology, but {} no public IP yet in {}: it may be the IP a new node will get, so it cannot be ruled out as an egress IP; refresh the topology before whitelisting or rejecting it",
        nodes_have(total),
        pending.join("; ")
    ))
}
