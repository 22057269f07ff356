//! The whitelist a destination needs: the egress IPs for a partner on the
//! internet, the nodes' private IPs for a destination inside a cluster's
//! network, as host CIDRs, with what the list cannot promise.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

use crate::class::IpClass;
use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::node::Node;
use crate::reason;
use crate::special;
use crate::topology::Topology;
use crate::warning::{Warning, WarningKind};

/// One address to whitelist, with the clusters that leave from it and why.
///
/// Deserializing checks what [`Whitelist::of`] guarantees: a host CIDR
/// (`/32` or `/128`; an IPv4-mapped one is stored as IPv4), at least one
/// cluster, and a reason.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WhitelistEntry {
    cidr: IpNet,
    clusters: Vec<String>,
    reason: String,
}

impl WhitelistEntry {
    /// The host CIDR (`/32` or `/128`).
    #[must_use]
    pub const fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The address.
    #[must_use]
    pub fn ip(&self) -> IpAddr {
        self.cidr.addr()
    }

    /// The clusters whose pods leave from it.
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// Why it is whitelisted.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Debug for WhitelistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WhitelistEntry({} {:?})", self.cidr, self.clusters)
    }
}

impl<'de> Deserialize<'de> for WhitelistEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            cidr: IpNet,
            clusters: Vec<String>,
            reason: String,
        }
        let Shape { cidr, clusters, reason } = Shape::deserialize(deserializer)?;
        use serde::de::Error;
        if cidr.prefix_len() != cidr.max_prefix_len() {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr} is not a host CIDR (/32 or /128)")));
        }
        if clusters.is_empty() || clusters.iter().any(|c| c.trim().is_empty()) {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr}: no cluster, or a blank cluster name")));
        }
        if reason.trim().is_empty() {
            return Err(D::Error::custom(format_args!("whitelist entry {cidr}: no reason")));
        }
        Ok(Self { cidr: IpNet::from(cidr.addr().to_canonical()), clusters, reason })
    }
}

/// The source addresses a destination will see from some clusters,
/// deduplicated and sorted (IPv4 first), with the [warnings](Self::warnings)
/// that say where the list is not the whole story. Serializes as a JSON
/// array of `{"cidr", "clusters", "reason"}` (the warnings are not part of
/// it: read them from [`warnings`](Self::warnings)); displays as one CIDR
/// per line.
///
/// For a destination outside every cluster network (the internet, a
/// partner; the default), that is the egress set: each cluster's egress
/// IP(s) and the public IP of each public-IP-pool node. For a destination
/// inside a cluster's network (a Civo database or instance on the same
/// private network), it is that cluster's node private IPs: see
/// [`WhitelistBuilder::destination`].
///
/// ```
/// use civo_egress::{Topology, Whitelist};
/// let topology = Topology::from_json(r#"{"clusters": [
///   {"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"],
///    "nodes": [{"name": "edge", "private_ip": "192.168.10.6", "public_ip": "74.220.24.77"}]},
///   {"name": "staging", "egress_ip": "74.220.26.44"}]}"#)?;
/// let all = Whitelist::of(&topology)?;
/// assert_eq!(all.to_string(), "74.220.24.10/32\n74.220.24.77/32\n74.220.26.44/32\n2a00:1450::10/128\n");
/// assert_eq!(all.v4().len(), 3);
/// assert_eq!(all.v6().len(), 1);
/// let staging = Whitelist::of_clusters(&topology, &["staging"])?;
/// assert_eq!(staging.iter().map(|e| e.ip().to_string()).collect::<Vec<_>>(), ["74.220.26.44"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Deserializing checks the same invariants: host CIDRs only, each with its
/// clusters and reason, and no address twice (the entries are sorted). A
/// deserialized whitelist has no warnings and no destination.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Whitelist {
    entries: Vec<WhitelistEntry>,
    warnings: Vec<Warning>,
    destination: Option<IpAddr>,
}

/// Chooses the clusters and the destination of a [`Whitelist`]; made by
/// [`Whitelist::builder`].
///
/// ```
/// use civo_egress::{Topology, Whitelist, WarningKind};
/// let topology = Topology::from_json(r#"{"clusters": [{
///   "name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
///   "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}, {"name": "w-2", "private_ip": "192.168.1.5"}]}]}"#)?;
/// // A partner on the internet sees the egress IP:
/// let partner = Whitelist::builder(&topology).destination("8.8.8.8".parse::<std::net::IpAddr>()?).build()?;
/// assert_eq!(partner.to_string(), "212.2.253.151/32\n");
/// // A database on the cluster's own network sees each node's private IP:
/// let database = Whitelist::builder(&topology)
///     .cluster("prod")
///     .destination("192.168.1.50".parse::<std::net::IpAddr>()?)
///     .build()?;
/// assert_eq!(database.to_string(), "192.168.1.4/32\n192.168.1.5/32\n");
/// assert_eq!(database.warnings()[0].kind(), WarningKind::FollowsNodes);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WhitelistBuilder<'t> {
    topology: &'t Topology,
    clusters: Option<Vec<String>>,
    destination: Option<IpAddr>,
    allow_empty: bool,
}

impl<'t> WhitelistBuilder<'t> {
    /// Adds one cluster, by name, to the selection (default: every cluster).
    pub fn cluster(mut self, name: impl Into<String>) -> Self {
        self.clusters.get_or_insert_with(Vec::new).push(name.into());
        self
    }

    /// Adds these clusters, by name, to the selection (default: every
    /// cluster). An empty list still makes an explicit, empty selection.
    pub fn clusters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clusters.get_or_insert_with(Vec::new).extend(names.into_iter().map(Into::into));
        self
    }

    /// The address the whitelist is for (default: a destination outside
    /// every cluster network, such as a partner on the internet).
    ///
    /// - Outside every selected cluster's `network_cidr`: the egress set.
    /// - Inside the network of some selected clusters: the private IP of
    ///   each of their nodes in that network (flannel masquerades pod
    ///   traffic to the node's address on the interface it leaves by, and
    ///   such packets never pass the gateway), with a
    ///   [`FollowsNodes`](WarningKind::FollowsNodes) warning. The
    ///   other selected clusters cannot reach it privately
    ///   ([`NoPrivateRoute`](WarningKind::NoPrivateRoute)) and add
    ///   nothing.
    /// - Not a public address and inside no selected network: the egress
    ///   set, with a [`NoPrivateRoute`](WarningKind::NoPrivateRoute)
    ///   warning for each cluster.
    /// - In the pod or service CIDR of a selected cluster: an error at
    ///   [`build`](Self::build) ([`TopologyError::DestinationInsideCluster`]):
    ///   pods reach it without leaving the cluster, no whitelist applies.
    ///
    /// A node's or LoadBalancer's private IP is inside the network (node
    /// IPs); a LoadBalancer's public IP or another Civo public IP is reached
    /// from the egress IPs. IPv4-mapped addresses count as IPv4.
    pub fn destination(mut self, destination: impl Into<IpAddr>) -> Self {
        self.destination = Some(destination.into().to_canonical());
        self
    }

    /// Whether an empty selection (a topology without clusters, or an
    /// empty list of names) gives an empty whitelist rather than an error.
    pub fn allow_empty(mut self, allow: bool) -> Self {
        self.allow_empty = allow;
        self
    }

    /// Computes the whitelist.
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownCluster`] for a name not in the topology;
    /// [`TopologyError::NoClusters`] when the selection is empty, unless
    /// [`allow_empty`](Self::allow_empty); and
    /// [`TopologyError::DestinationInsideCluster`] for a destination in a
    /// selected cluster's pod or service CIDR.
    pub fn build(self) -> Result<Whitelist, TopologyError> {
        let topology = self.topology;
        let selected: Vec<&Cluster> = match &self.clusters {
            None => topology.clusters().iter().collect(),
            Some(names) => {
                let mut chosen: Vec<&Cluster> = Vec::with_capacity(names.len());
                for name in names {
                    let cluster = topology.select(name)?;
                    if !chosen.iter().any(|c| std::ptr::eq(*c, cluster)) {
                        chosen.push(cluster);
                    }
                }
                chosen
            }
        };
        if selected.is_empty() && !self.allow_empty {
            return Err(TopologyError::NoClusters);
        }
        let whitelist = match self.destination {
            None => Whitelist::egress(topology, &selected, None),
            Some(destination) => Whitelist::for_destination(topology, &selected, destination)?,
        };
        Ok(whitelist.with_caveats(topology, &selected, self.clusters.is_none()))
    }
}

impl Whitelist {
    /// Chooses the clusters and the destination, then
    /// [`build`](WhitelistBuilder::build)s: see [`WhitelistBuilder`].
    /// [`of`](Self::of), [`of_clusters`](Self::of_clusters) and
    /// [`of_allowing_empty`](Self::of_allowing_empty) are its shortcuts.
    pub fn builder(topology: &Topology) -> WhitelistBuilder<'_> {
        WhitelistBuilder { topology, clusters: None, destination: None, allow_empty: false }
    }

    /// Every egress IP of every cluster: each cluster's own egress IP(s),
    /// and the public IP of every node in a public-IP node pool. For a
    /// destination outside every cluster network.
    ///
    /// # Errors
    ///
    /// [`TopologyError::NoClusters`] when the topology has no cluster: see
    /// [`of_allowing_empty`](Self::of_allowing_empty).
    pub fn of(topology: &Topology) -> Result<Self, TopologyError> {
        Self::builder(topology).build()
    }

    /// As [`of`](Self::of), but an empty whitelist for a topology without
    /// clusters: the explicit opt-in for callers who expect that.
    ///
    /// ```
    /// use civo_egress::{Topology, TopologyError, Whitelist};
    /// let empty = Topology::empty();
    /// assert_eq!(Whitelist::of(&empty), Err(TopologyError::NoClusters));
    /// assert!(Whitelist::of_allowing_empty(&empty).is_empty());
    /// ```
    #[must_use]
    pub fn of_allowing_empty(topology: &Topology) -> Self {
        let all: Vec<&Cluster> = topology.clusters().iter().collect();
        Self::egress(topology, &all, None).with_caveats(topology, &all, true)
    }

    /// What the snapshot knew, first: each selected cluster's caveats and
    /// the topology's warnings about it; and last the clusters left out of
    /// it, when no selection excludes them.
    fn with_caveats(mut self, topology: &Topology, selected: &[&Cluster], every: bool) -> Self {
        let caveats = selected.iter().flat_map(|c| c.caveats().iter().cloned());
        // The topology's own contradictions about these clusters (a
        // LoadBalancer on an egress IP...) put the list in doubt as much.
        let contradictions = topology.warnings().iter().filter(|w| {
            w.kind() != WarningKind::LeftOut && w.cluster().is_some_and(|n| selected.iter().any(|c| c.label() == n))
        });
        let before: Vec<Warning> = caveats.chain(contradictions.cloned()).collect();
        self.warnings.splice(0..0, before);
        if every {
            self.warnings.extend(topology.left_out().iter().map(crate::LeftOut::warning));
        }
        self
    }

    /// The whitelist of the named clusters only.
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownCluster`] when a name is not in the topology,
    /// [`TopologyError::NoClusters`] when `names` is empty.
    pub fn of_clusters<S: AsRef<str>>(topology: &Topology, names: &[S]) -> Result<Self, TopologyError> {
        Self::builder(topology).clusters(names.iter().map(|n| n.as_ref().to_owned())).build()
    }

    /// The egress set of `clusters`, with their pool warnings.
    fn egress(topology: &Topology, clusters: &[&Cluster], destination: Option<IpAddr>) -> Self {
        // `egress_ips()` without its list per cluster: sorted and deduplicated here.
        let mut ips: Vec<IpAddr> = clusters
            .iter()
            .flat_map(|c| c.cluster_egress_ips().iter().copied().chain(c.nodes().iter().filter_map(|n| n.public_ip())))
            .collect();
        ips.sort_unstable();
        ips.dedup();
        let entries = ips
            .into_iter()
            .map(|ip| {
                let answer = topology.classify_ip(ip);
                WhitelistEntry {
                    cidr: IpNet::from(ip),
                    clusters: answer.clusters().to_vec(),
                    reason: answer.reason().into(),
                }
            })
            .collect();
        let mut warnings = Vec::new();
        for c in clusters {
            if !c.public_ip_pools().is_empty() {
                warnings.push(warning(WarningKind::GrowsWithPool, c, reason::grows_with_pool(c)));
            }
            if c.pending_public_nodes() > 0 {
                warnings.push(warning(WarningKind::Incomplete, c, reason::incomplete(c)));
            }
        }
        Self { entries, warnings, destination }
    }

    fn for_destination(topology: &Topology, selected: &[&Cluster], to: IpAddr) -> Result<Self, TopologyError> {
        let answer = topology.classify_ip(to);
        if matches!(answer.class(), IpClass::Pod | IpClass::Service)
            && let Some(c) = selected.iter().find(|c| answer.clusters().iter().any(|n| n == c.name()))
        {
            return Err(TopologyError::DestinationInsideCluster {
                destination: to.to_string(),
                class: answer.class().as_str(),
                cluster: c.name().to_owned(),
            });
        }
        let networks =
            |c: &Cluster| -> Vec<IpNet> { c.network_cidrs().iter().copied().filter(|n| n.contains(&to)).collect() };
        let private = match to {
            IpAddr::V4(v4) => v4.is_private(),
            IpAddr::V6(v6) => v6.is_unique_local(),
        };
        if private && let Some(c) = selected.iter().find(|c| !c.network_known_for(to)) {
            return Err(TopologyError::NetworkUnknown {
                destination: to.to_string(),
                cluster: c.label(),
                why: "its network is unknown (the API key could not read networks, or the network was not found)"
                    .into(),
            });
        }
        let inside: Vec<&Cluster> = selected.iter().copied().filter(|c| !networks(c).is_empty()).collect();
        // An IPv6 destination sees each node's IPv6 address: every node
        // must have a known one in that network, or the list would be short.
        for c in inside.iter().filter(|_| to.is_ipv6()) {
            let nets = networks(c);
            let unknown: Vec<&str> = c
                .nodes()
                .iter()
                .filter(|n| !n.private_ip().is_some_and(|ip| nets.iter().any(|net| net.contains(&ip))))
                .map(Node::name)
                .collect();
            if !unknown.is_empty() || c.nodes().is_empty() {
                return Err(TopologyError::NetworkUnknown {
                    destination: to.to_string(),
                    cluster: c.label(),
                    why: if unknown.is_empty() {
                        "it has no known node".into()
                    } else {
                        format!("the IPv6 address of node {} in that network is not known", unknown.join(", "))
                    },
                });
            }
        }
        if let [first, rest @ ..] = inside.as_slice()
            && rest.iter().any(|c| !same_network(first, c))
        {
            return Err(TopologyError::AmbiguousDestination {
                destination: to.to_string(),
                candidates: inside
                    .iter()
                    .map(|c| {
                        let nets: Vec<String> = networks(c).iter().map(ToString::to_string).collect();
                        match c.network() {
                            Some(id) => format!("{} (network {id}, {})", c.label(), nets.join(", ")),
                            None => format!("{} ({})", c.label(), nets.join(", ")),
                        }
                    })
                    .collect(),
            });
        }
        let mut whitelist = if inside.is_empty() {
            Self::egress(topology, selected, Some(to))
        } else {
            Self::nodes(&inside, to, &networks)
        };
        if special::lookup(to).is_some() {
            for c in selected.iter().filter(|c| !inside.iter().any(|i| i.name() == c.name())) {
                let message = format!(
                    "destination {to} is not a public address and is inside none of the cluster's networks: its pods cannot reach it privately, and it is not routed on the internet"
                );
                whitelist.warnings.push(warning(WarningKind::NoPrivateRoute, c, message));
            }
        }
        Ok(whitelist)
    }

    /// The node private IPs of `inside` in the networks holding `to`.
    fn nodes(inside: &[&Cluster], to: IpAddr, networks: &dyn Fn(&Cluster) -> Vec<IpNet>) -> Self {
        // (address, cluster index in `inside`, node name, network)
        let mut found: Vec<(IpAddr, usize, &str, IpNet)> = Vec::new();
        let mut warnings = Vec::new();
        for (ci, c) in inside.iter().enumerate() {
            let nets = networks(c);
            for n in c.nodes() {
                let Some(private) = n.private_ip() else { continue };
                if let Some(&net) = nets.iter().find(|net| net.contains(&private)) {
                    found.push((private, ci, n.name(), net));
                }
            }
            let net = nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let message = format!(
                "destination {to} is inside the cluster's network {net}, so it sees the private IP of the node each pod runs on: the list follows the cluster's nodes and changes as nodes come and go (scaling, upgrades, replaced nodes); refresh it when they do"
            );
            warnings.push(warning(WarningKind::FollowsNodes, c, message));
            if c.pending_public_nodes() > 0 {
                warnings.push(warning(WarningKind::Incomplete, c, reason::incomplete(c)));
            }
            let mut building: Vec<&str> =
                c.nodes().iter().filter(|n| n.private_ip().is_none()).map(Node::name).collect();
            // Nodes discovery left out for want of a private IP.
            let pending = c.caveats().iter().filter(|w| w.kind() == WarningKind::NodePending);
            building.extend(pending.filter_map(|w| w.subject()).map(crate::Subject::name));
            if !building.is_empty() {
                let message = format!(
                    "incomplete: node {} has no private IP yet (BUILDING): pods on it will reach {to} from an address nobody can list yet; refresh the topology once it has one",
                    building.join(", ")
                );
                warnings.push(warning(WarningKind::Incomplete, c, message));
            }
        }
        found.sort_by_key(|&(ip, ci, name, _)| (ip, ci, name));
        let mut entries = Vec::new();
        let mut rest = found.as_slice();
        while let [(ip, _, name, net), ..] = rest {
            let same = rest.iter().take_while(|f| f.0 == *ip).count();
            let (group, tail) = rest.split_at(same);
            rest = tail;
            let mut clusters: Vec<String> = Vec::new();
            for &(_, ci, _, _) in group {
                let cluster = inside[ci].name();
                if !clusters.iter().any(|c| c == cluster) {
                    clusters.push(cluster.to_owned());
                }
            }
            let more = match same - 1 {
                0 => String::new(),
                more => format!(" (and {more} more)"),
            };
            let of = match clusters.as_slice() {
                [one] => format!("cluster {one}"),
                many => format!("clusters {}", many.join(", ")),
            };
            let reason = format!(
                "private IP of node {name}{more} of {of}: pods on it reach {to} from this address inside network {net} (flannel masquerades to the node's address, and the packets never pass the gateway); whitelist it for this destination, and follow the nodes: the list changes as nodes come and go"
            );
            entries.push(WhitelistEntry { cidr: IpNet::from(*ip), clusters, reason });
        }
        Self { entries, warnings, destination: Some(to) }
    }

    /// What the list cannot promise, per cluster: public-IP pools that make
    /// it grow, nodes still without a public IP (then it is incomplete
    /// now), a destination that follows the nodes, clusters that cannot
    /// reach the destination. In selection order. Not serialized with the
    /// whitelist.
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Whether the list lacks no address known to be missing: no
    /// public-IP-pool node is still without a public IP
    /// ([`Incomplete`](WarningKind::Incomplete)) and no cluster was left out
    /// of the snapshot ([`LeftOut`](WarningKind::LeftOut)).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        !self.warnings.iter().any(|w| matches!(w.kind(), WarningKind::Incomplete | WarningKind::LeftOut))
    }

    /// The warnings that put the list itself in doubt (see
    /// [`WarningKind::doubts_egress`]): an incomplete set, a cluster left
    /// out, an egress never measured or not settled. Every deployable
    /// rendering repeats them as comments; none means the list is as sure
    /// as the snapshot.
    pub fn doubts(&self) -> impl Iterator<Item = &Warning> {
        self.warnings.iter().filter(|w| w.kind().doubts_egress())
    }

    /// The destination the whitelist was built for, if one was given.
    #[must_use]
    pub const fn destination(&self) -> Option<IpAddr> {
        self.destination
    }

    /// The entries, sorted by address, IPv4 first.
    #[must_use]
    pub fn entries(&self) -> &[WhitelistEntry] {
        &self.entries
    }

    /// The IPv4 entries (`/32`).
    #[must_use]
    pub fn v4(&self) -> &[WhitelistEntry] {
        &self.entries[..self.v6_start()]
    }

    /// The IPv6 entries (`/128`).
    #[must_use]
    pub fn v6(&self) -> &[WhitelistEntry] {
        &self.entries[self.v6_start()..]
    }

    fn v6_start(&self) -> usize {
        self.entries.partition_point(|e| e.cidr.addr().is_ipv4())
    }

    /// The entries, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, WhitelistEntry> {
        self.entries.iter()
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing to whitelist.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `ip` is one of the entries.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.binary_search_by(|e| e.cidr.addr().cmp(&ip)).is_ok()
    }

    /// The CIDRs alone.
    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.entries.iter().map(|e| e.cidr)
    }
}

impl fmt::Debug for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| e.cidr)).finish()
    }
}

impl fmt::Display for Whitelist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.iter().try_for_each(|e| writeln!(f, "{}", e.cidr))
    }
}

/// The entries alone, as a JSON array (not the warnings).
impl Serialize for Whitelist {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Whitelist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut entries = Vec::<WhitelistEntry>::deserialize(deserializer)?;
        entries.sort_by_key(|e| e.cidr.addr());
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].cidr == pair[1].cidr) {
            return Err(serde::de::Error::custom(format_args!("whitelist lists {} twice", pair[0].cidr)));
        }
        Ok(Self { entries, warnings: Vec::new(), destination: None })
    }
}

/// Whether two clusters' networks are one: the same network id, or, where
/// neither records one, the same region (as snapshots written before
/// network identities were recorded, where clusters sharing a CIDR in one
/// region share the network); never when neither says its region.
fn same_network(a: &Cluster, b: &Cluster) -> bool {
    match (a.network(), b.network()) {
        (Some(x), Some(y)) => x.id() == y.id(),
        // Without ids, one region says one network; without regions either,
        // nothing does.
        (None, None) => match (a.region(), b.region()) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            _ => false,
        },
        _ => false,
    }
}

fn warning(kind: WarningKind, cluster: &Cluster, message: String) -> Warning {
    Warning::new(kind, message).with_cluster(cluster.label())
}

impl<'a> IntoIterator for &'a Whitelist {
    type Item = &'a WhitelistEntry;
    type IntoIter = std::slice::Iter<'a, WhitelistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for Whitelist {
    type Item = WhitelistEntry;
    type IntoIter = std::vec::IntoIter<WhitelistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}
