//! The sentences behind each classification.

use std::fmt;

use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::warning::WarningKind;

/// One sentence a person can act on, for an address of `class` described by
/// `subject` (e.g. "node w-1", "pod CIDR 10.42.0.0/16") in `clusters`:
/// written when displayed, so that 100k host answers cost no strings until
/// somebody reads one.
pub(crate) struct Sentence<'a, S> {
    pub(crate) class: IpClass,
    pub(crate) subject: S,
    pub(crate) clusters: &'a [String],
}

/// ` of cluster a`, ` of clusters a, b`, or nothing.
struct Of<'a>(&'a [String]);

impl fmt::Display for Of<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => Ok(()),
            [one] => write!(f, " of cluster {one}"),
            [first, rest @ ..] => {
                write!(f, " of clusters {first}")?;
                rest.iter().try_for_each(|name| write!(f, ", {name}"))
            }
        }
    }
}

impl<S: fmt::Display> fmt::Display for Sentence<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (subject, of) = (&self.subject, Of(self.clusters));
        match self.class {
            IpClass::Egress => write!(f, "{subject}{of}: pods leave the cluster from this address; whitelist it"),
            IpClass::LoadBalancer => {
                write!(f, "{subject}{of}: carries inbound traffic only, pods never leave from it; do not whitelist it")
            }
            IpClass::Reserved => write!(f, "{subject}: not used for pod egress; do not whitelist it"),
            IpClass::Node => write!(
                f,
                "private IP of {subject}{of}: not seen by destinations outside the cluster's network, which see the egress IP (whitelist that instead); a destination inside the network sees it as the source of the pods on this node"
            ),
            IpClass::NodeNetwork => write!(
                f,
                "inside the {subject}{of}, not a known node or LoadBalancer: not seen by destinations outside the cluster's network, which see the egress IP (whitelist that instead); a destination inside the network sees the nodes' private IPs"
            ),
            IpClass::Pod => write!(
                f,
                "inside the {subject}{of}: pod traffic is masqueraded to the egress IP before it leaves; whitelist that instead"
            ),
            IpClass::Service => write!(
                f,
                "inside the {subject}{of}: cluster-internal service addresses never leave the cluster; do not whitelist it"
            ),
            IpClass::Special => write!(
                f,
                "{subject}: special-purpose, never the source of a cluster's internet traffic; do not whitelist it"
            ),
            IpClass::Private => write!(
                f,
                "{subject}, claimed by no cluster: private addresses are never seen on the internet; do not whitelist it"
            ),
            IpClass::Public => f.write_str(PUBLIC),
        }
    }
}

/// The reason of a public address nothing claims.
pub(crate) const PUBLIC: &str =
    "public address unknown to this topology: no cluster's pods leave from it; do not whitelist it";

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
/// append to the reason of its egress IPs; nothing without pools.
pub(crate) struct PoolNote<'a>(pub(crate) &'a Cluster);

impl fmt::Display for PoolNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cluster = self.0;
        // What the snapshot records against this egress IP: it is not
        // verified, whatever the pools say.
        let doubts =
            cluster.caveats().iter().filter(|c| c.kind().doubts_egress() && c.kind() != WarningKind::PublicIpPending);
        for (i, caveat) in doubts.enumerate() {
            let lead = if i == 0 { "; but not verified: " } else { "; " };
            write!(f, "{lead}{} ({})", caveat.kind(), caveat.message())?;
        }
        if cluster.public_ip_pools().is_empty() {
            return Ok(());
        }
        write!(f, "; the egress set of cluster {} grows with each node of its {}", cluster.name(), pools(cluster))?;
        match cluster.pending_public_nodes() {
            0 => Ok(()),
            pending => write!(f, ", and is incomplete now: {} no public IP yet", nodes_have(pending)),
        }
    }
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
    // Clusters whose egress may be another address than the one recorded
    // (a reserved IP on a node is the topology's own warning, said apart).
    let elsewhere: Vec<String> = clusters
        .iter()
        .filter(|c| c.caveats().iter().any(|w| w.kind().egress_may_be_elsewhere()))
        .map(Cluster::label)
        .collect();
    let unverified = (!elsewhere.is_empty()).then(|| {
        format!(
            "the egress of cluster {} is not verified (see its caveats): pods may leave from another address than the one recorded",
            elsewhere.join(", ")
        )
    });
    let total = clusters.iter().fold(0u32, |sum, c| sum.saturating_add(c.pending_public_nodes()));
    let pending = (!pending.is_empty()).then(|| {
        format!(
            "{} no public IP yet in {}: it may be the IP a new node will get",
            nodes_have(total),
            pending.join("; ")
        )
    });
    let why: Vec<String> = pending.into_iter().chain(unverified).collect();
    if why.is_empty() {
        return None;
    }
    Some(format!(
        "public address unknown to this topology, but {}; so it cannot be ruled out as an egress IP: refresh the topology and observe the egress (civo-egress resolve or probe) before whitelisting or rejecting it",
        why.join("; and ")
    ))
}
