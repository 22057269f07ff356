//! Discovery: a [`Topology`] built from what the Civo API says.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};

use super::client::{CivoClient, pick_cluster};
use super::error::CivoError;
use super::models::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool, ApiReservedIp};
use crate::names::serialized_names;
use crate::node::{Assignment, AssignmentKind, LoadBalancer, Node, ReservedIp};
use crate::{Cluster, PublicIpPool, TALOS_POD_CIDR, TALOS_SERVICE_CIDR, Topology, parse};

/// Clusters whose instances are fetched at once.
const CONCURRENT_CLUSTERS: usize = 8;

/// Which part of an account to discover: a region (default: the client's),
/// and all clusters (default) or the ones named.
///
/// ```
/// use civo_egress::civo::Selection;
/// let selection = Selection::all().region("LON1").cluster("prod").cluster("9b1d7c42");
/// assert_eq!(selection.clusters(), ["prod", "9b1d7c42"]);
/// assert_eq!(selection.region_code(), Some("LON1"));
/// assert!(Selection::all().clusters().is_empty(), "every cluster");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Selection {
    region: Option<String>,
    clusters: Vec<String>,
}

impl Selection {
    /// Every cluster of the client's region.
    pub fn all() -> Self {
        Self::default()
    }

    /// Asks about `region` instead of the client's.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Adds a cluster, by name or id with the Civo CLI's matching rules.
    /// Without any, every cluster is discovered.
    pub fn cluster(mut self, name_or_id: impl Into<String>) -> Self {
        self.clusters.push(name_or_id.into());
        self
    }

    /// The region asked about, if not the client's.
    #[must_use]
    pub fn region_code(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The clusters named (empty: every cluster).
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }
}

/// What a warning is about. Each kind says what it means for the
/// whitelist ([`Whitelist`](crate::Whitelist)) built from the topology.
///
/// The names (`as_str`, `Display`, `FromStr`, serde) are stable.
///
/// ```
/// use civo_egress::civo::WarningKind;
/// assert_eq!(WarningKind::PublicIpPending.as_str(), "public-ip-pending");
/// assert_eq!("cluster-gone".parse::<WarningKind>()?, WarningKind::ClusterGone);
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WarningKind {
    /// The cluster's `status` is not `ACTIVE` (BUILDING, AVAILABLE,
    /// INSTALLING, UPGRADING, SCALING, DELETING...): nothing documents what
    /// `master_ip` holds before ACTIVE, so the whitelist's egress IP may
    /// still change.
    NotActive,
    /// The cluster says it is not ready (`ready: false`), or one of its
    /// `conditions` is not true (named in the message): its nodes, and so
    /// its `master_ip`, may still change.
    NotReady,
    /// The cluster has no usable `master_ip`; it was left out, and the
    /// whitelist holds none of its egress IPs.
    NoEgressIp,
    /// No instance of the cluster carries its `master_ip` (its gateway node
    /// was replaced, or the answer is stale): the whitelist's egress IP for
    /// it may no longer be the one pods leave from. Verify by observing.
    GatewayMissing,
    /// A legacy cluster: every node has its own public IP, and pods may
    /// leave from it; those IPs are in the whitelist.
    Legacy,
    /// A CNI plugin other than flannel (Cilium): the single-egress-IP
    /// behaviour was measured on K3s with flannel only, so the whitelist is
    /// what the API implies, not what was measured. Verify by observing.
    EgressUnmeasured,
    /// A Talos cluster: its pod and service CIDRs are taken as Talos's
    /// upstream defaults (`TALOS_POD_CIDR`,
    /// `TALOS_SERVICE_CIDR` at the crate root; Civo documents
    /// none), and its egress has never been measured: the whitelist is what
    /// the API implies. Verify by observing.
    Talos,
    /// Nodes of a public-IP node pool have their own public IP: pods on
    /// them leave from it, not from `master_ip`; the whitelist carries those
    /// IPs too.
    PublicIpNodePool,
    /// Nodes of a public-IP node pool have no public IP yet (BUILDING, or
    /// the pool's `count` is larger than its instances): pods scheduled there
    /// will leave from addresses not known yet. The pool is recorded on the
    /// cluster with its pending count; the whitelist is incomplete and grows
    /// with each node of that pool.
    PublicIpPending,
    /// A node has its own public IP although its pool is not a public-IP
    /// node pool (and the cluster is not legacy): an IP attached by hand, or
    /// a pool the API mislabels. It is kept in the egress set (pods on that
    /// node may leave from it), so the whitelist may hold an IP no pod uses.
    UnflaggedPublicIp,
    /// The cluster's instances answered 404 (it was deleted between the
    /// list and the fetch): it was left out, and its egress IPs are not in
    /// the whitelist.
    ClusterGone,
    /// The key may not list reserved IPs (HTTP 403 on `/v2/ips`): reserved
    /// IPs are unknown, so classify cannot say `reserved` and an audit
    /// cannot flag allowlist entries that cover them. The whitelist itself
    /// is unaffected.
    ReservedIpsUnknown,
    /// The key may not list LoadBalancers (HTTP 403 on `/v2/loadbalancers`):
    /// their IPs are unknown, so classify calls them `public` (or
    /// `node-network`) instead of `load-balancer`, and an audit cannot flag
    /// allowlist entries that cover them. The whitelist itself is
    /// unaffected.
    LoadBalancersUnknown,
    /// The key may not list networks (HTTP 403 on `/v2/networks`): no
    /// cluster has a network CIDR, so node-network addresses classify as
    /// `private`, a whitelist for a destination inside a cluster's network
    /// cannot be told from one outside it (it gets the egress set, not the
    /// node IPs), and VLAN connections cannot be seen.
    NetworksUnknown,
    /// The cluster's network, or its CIDR, is missing or absurd.
    Network,
    /// The cluster's network is connected to a customer VLAN (`vlan_id`):
    /// that VLAN's own gateway may carry egress, so pods may not leave
    /// through `master_ip` and the whitelist may be wrong. Verify by
    /// observing.
    VlanConnected,
    /// Nodes have an IPv6 address: IPv6 egress is unmeasured (flannel
    /// masquerades IPv6 only when told to), and the whitelist holds no IPv6
    /// address for them.
    Ipv6Unmeasured,
    /// No cluster was found in the region, and the region was not chosen
    /// (no region given, no `CIVO_REGION`, no Civo CLI `default_region`;
    /// [`DEFAULT_REGION`](super::DEFAULT_REGION) was used): the account may
    /// have clusters in another region, which the (empty) whitelist lacks.
    RegionDefaulted,
    /// A value that is not an address (a placeholder, an empty field); the
    /// item was left out.
    InvalidValue,
}

serialized_names!(WarningKind, "discovery warning kind", {
    NotActive => "not-active",
    NotReady => "not-ready",
    NoEgressIp => "no-egress-ip",
    GatewayMissing => "gateway-missing",
    Legacy => "legacy",
    EgressUnmeasured => "egress-unmeasured",
    Talos => "talos",
    PublicIpNodePool => "public-ip-node-pool",
    PublicIpPending => "public-ip-pending",
    UnflaggedPublicIp => "unflagged-public-ip",
    ClusterGone => "cluster-gone",
    ReservedIpsUnknown => "reserved-ips-unknown",
    LoadBalancersUnknown => "load-balancers-unknown",
    NetworksUnknown => "networks-unknown",
    Network => "network",
    VlanConnected => "vlan-connected",
    Ipv6Unmeasured => "ipv6-unmeasured",
    RegionDefaulted => "region-defaulted",
    InvalidValue => "invalid-value",
});

/// Something discovery noticed and the caller should know: returned, not
/// only logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiscoveryWarning {
    cluster: Option<String>,
    kind: WarningKind,
    message: String,
}

impl DiscoveryWarning {
    /// The cluster concerned, if any.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// What it is about.
    #[must_use]
    pub const fn kind(&self) -> WarningKind {
        self.kind
    }

    /// A sentence for a person.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DiscoveryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cluster {
            Some(cluster) => write!(f, "cluster {cluster}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The outcome of [`CivoClient::discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    topology: Topology,
    warnings: Vec<DiscoveryWarning>,
}

impl Discovery {
    /// The topology discovered.
    #[must_use]
    pub const fn topology(&self) -> &Topology {
        &self.topology
    }

    /// What was noticed on the way.
    #[must_use]
    pub fn warnings(&self) -> &[DiscoveryWarning] {
        &self.warnings
    }

    /// The topology and the warnings.
    #[must_use]
    pub fn into_parts(self) -> (Topology, Vec<DiscoveryWarning>) {
        (self.topology, self.warnings)
    }
}

impl CivoClient {
    /// Builds the topology of a Civo account from its API: each cluster's
    /// egress IP (`master_ip`), its public-IP node pools (matched to the
    /// instances by `pools[].instance_names` and `required_pools[]`) with
    /// their nodes' own IPs and how many have none yet, its network CIDR,
    /// its nodes (with private IPs), the LoadBalancers (linked by
    /// `cluster_id`) and the reserved IPs.
    ///
    /// The number of requests grows with the number of clusters (list pages,
    /// then one request per cluster for its nodes), never with nodes or
    /// LoadBalancers, and they run concurrently. The whole discovery runs
    /// under the client's deadline.
    ///
    /// A partial failure is not a total one: a cluster whose instances
    /// answer 404 (deleted meanwhile) is left out with a
    /// [`WarningKind::ClusterGone`]; a 403 on the reserved IPs, the
    /// LoadBalancers or the networks (a team member without that
    /// permission) discovers the rest with
    /// [`WarningKind::ReservedIpsUnknown`],
    /// [`WarningKind::LoadBalancersUnknown`] or
    /// [`WarningKind::NetworksUnknown`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use civo_egress::civo::{CivoClient, Selection, WarningKind};
    /// use civo_egress::Whitelist;
    /// let client = CivoClient::from_env()?;
    /// let discovery = client.discover(&Selection::all()).await?;
    /// for warning in discovery.warnings() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// let incomplete = discovery.warnings().iter().any(|w| w.kind() == WarningKind::PublicIpPending);
    /// print!("{}", Whitelist::of(discovery.topology())?);
    /// if incomplete {
    ///     eprintln!("nodes of a public-IP pool have no IP yet: run again once they are ACTIVE");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`CivoError`] of the cluster list; an authentication failure
    /// ([`CivoError::Unauthorized`]) anywhere; any other error of the other
    /// requests than the 403s and 404s above (a 5xx after the retries
    /// included: it is transient, and a partial answer that looks complete
    /// would drop IPs from a whitelist); [`CivoError::ClusterNotFound`] or
    /// [`CivoError::AmbiguousCluster`] for a selection that matches no or
    /// several clusters; [`CivoError::Timeout`] at the deadline. Bad values
    /// in the answers are warnings, not errors.
    pub async fn discover(&self, selection: &Selection) -> Result<Discovery, CivoError> {
        let client = match &selection.region {
            Some(region) => self.with_region(region),
            None => self.clone(),
        };
        let deadline = client.new_deadline();
        let client = &client;
        let work = async {
            let (clusters, load_balancers, reserved_ips, networks) = tokio::try_join!(
                client.clusters_by(deadline),
                permitted(client.load_balancers_by(deadline)),
                permitted(client.reserved_ips_by(deadline)),
                permitted(client.networks_by(deadline)),
            )?;
            let chosen: Vec<&ApiCluster> = if selection.clusters.is_empty() {
                clusters.iter().collect()
            } else {
                let mut chosen = Vec::new();
                for query in &selection.clusters {
                    let cluster = pick_cluster(&clusters, query)?;
                    if !chosen.iter().any(|c: &&ApiCluster| c.id == cluster.id) {
                        chosen.push(cluster);
                    }
                }
                chosen
            };
            // Owned ids: a closure over borrowed items would make this future
            // not `Send` (rust-lang/rust#102211).
            let ids: Vec<String> = chosen.iter().map(|c| c.id.clone()).collect();
            let instances: Vec<Option<Vec<ApiInstance>>> = stream::iter(ids)
                .map(|id| async move {
                    if id.is_empty() {
                        return Ok(Some(Vec::new()));
                    }
                    match client.instances_by(&id, deadline).await {
                        Ok(instances) => Ok(Some(instances)),
                        // Deleted between the list and this request.
                        Err(CivoError::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .buffered(CONCURRENT_CLUSTERS)
                .try_collect()
                .await?;
            let account = Account { all_clusters: &clusters, load_balancers, reserved_ips, networks };
            let region = Region { code: client.region(), defaulted: client.region_was_defaulted() };
            Ok(account.assemble(region, &chosen, instances, !selection.clusters.is_empty()))
        };
        match tokio::time::timeout_at(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(CivoError::Timeout { after: client.deadline_length() }),
        }
    }
}

/// A list the key may not read (403) is `None`; every other error stays one.
async fn permitted<T>(list: impl Future<Output = Result<Vec<T>, CivoError>>) -> Result<Option<Vec<T>>, CivoError> {
    match list.await {
        Ok(items) => Ok(Some(items)),
        Err(CivoError::Forbidden { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[derive(Clone, Copy)]
struct Region<'a> {
    code: &'a str,
    defaulted: bool,
}

struct Account<'a> {
    all_clusters: &'a [ApiCluster],
    /// `None`: the key may not list them.
    load_balancers: Option<Vec<ApiLoadBalancer>>,
    reserved_ips: Option<Vec<ApiReservedIp>>,
    networks: Option<Vec<ApiNetwork>>,
}

#[derive(Default)]
struct Notes(Vec<DiscoveryWarning>);

impl Notes {
    fn add(&mut self, cluster: Option<&str>, kind: WarningKind, message: String) {
        self.0.push(DiscoveryWarning { cluster: cluster.map(str::to_owned), kind, message });
    }
}

impl Account<'_> {
    fn assemble(
        self,
        region: Region<'_>,
        chosen: &[&ApiCluster],
        instances: Vec<Option<Vec<ApiInstance>>>,
        restricted: bool,
    ) -> Discovery {
        let mut notes = Notes::default();
        if self.all_clusters.is_empty() && region.defaulted {
            notes.add(None, WarningKind::RegionDefaulted, format!(
                "no cluster in region {}, which was chosen by default (no region given, no CIVO_REGION, no default_region in the Civo CLI config): the account may have clusters in another region",
                region.code
            ));
        }
        if self.load_balancers.is_none() {
            notes.add(None, WarningKind::LoadBalancersUnknown, "the API key may not list LoadBalancers (HTTP 403): their addresses classify as public or node-network, not load-balancer, and an audit cannot flag allowlist entries that cover them".into());
        }
        if self.reserved_ips.is_none() {
            notes.add(None, WarningKind::ReservedIpsUnknown, "the API key may not list reserved IPs (HTTP 403): reserved IPs are unknown, so classify cannot say reserved and an audit cannot flag allowlist entries that cover them".into());
        }
        if self.networks.is_none() {
            notes.add(None, WarningKind::NetworksUnknown, "the API key may not list networks (HTTP 403): no cluster has a network CIDR, so node-network addresses classify as private and a whitelist for a destination inside a cluster's network gets the egress set instead of the node IPs".into());
        }
        let mut clusters: Vec<Cluster> = Vec::new();
        for (api, nodes) in chosen.iter().zip(instances) {
            let Some(nodes) = nodes else {
                notes.add(Some(&api.name), WarningKind::ClusterGone, format!(
                    "its instances answered 404 (deleted after the cluster list was read?): left out, so its egress IPs (master_ip {:?}) are not in the whitelist",
                    api.master_ip
                ));
                continue;
            };
            if clusters.iter().any(|c| c.name() == api.name) {
                notes.add(
                    Some(&api.name),
                    WarningKind::InvalidValue,
                    "a second cluster with this name was left out".into(),
                );
                continue;
            }
            if let Some(cluster) = self.cluster(api, region.code, &nodes, &mut notes) {
                clusters.push(cluster);
            }
        }
        let built: Vec<&str> = clusters.iter().filter_map(Cluster::id).collect();
        let mut standalone = Vec::new();
        for lb in self.load_balancers.iter().flatten() {
            let in_built = built.contains(&lb.cluster_id.as_str()) && !lb.cluster_id.is_empty();
            let deselected = restricted
                && !chosen.iter().any(|c| c.id == lb.cluster_id)
                && self.all_clusters.iter().any(|c| c.id == lb.cluster_id);
            // Standalone LBs, and those of a cluster that was left out (a bad
            // value, deleted meanwhile), stay known outside any cluster.
            if !in_built && !deselected {
                standalone.extend(load_balancer(lb, None, &mut notes));
            }
        }
        let reserved = self.reserved_ips.iter().flatten().filter_map(|r| reserved_ip(r, &mut notes)).collect();
        // Names were made unique above.
        Discovery { topology: Topology::assemble(clusters, standalone, reserved), warnings: notes.0 }
    }

    fn cluster(&self, api: &ApiCluster, region: &str, instances: &[ApiInstance], notes: &mut Notes) -> Option<Cluster> {
        let name = Some(api.name.as_str());
        readiness(api, notes);
        let talos = api.cluster_type.trim().eq_ignore_ascii_case("talos");
        if talos {
            notes.add(name, WarningKind::Talos, format!(
                "a Talos cluster: its pod and service CIDRs are taken as Talos's upstream defaults {TALOS_POD_CIDR} and {TALOS_SERVICE_CIDR} (Civo documents none), and its egress has never been measured (a single egress IP was measured on K3s with flannel only); verify it by observing"
            ));
        }
        let cni = api.cni_plugin.trim();
        if !cni.is_empty() && !cni.eq_ignore_ascii_case("flannel") {
            notes.add(
                name,
                WarningKind::EgressUnmeasured,
                format!(
                    "{}/{}: a single egress IP was measured on K3s with flannel only; verify it by observing",
                    api.cluster_type, api.cni_plugin
                ),
            );
        }
        if api.legacy {
            notes.add(
                name,
                WarningKind::Legacy,
                "legacy cluster: every node has its own public IP, and pods may leave from it".into(),
            );
        }
        let egress = match parse::ip("master_ip", &api.master_ip).and_then(|ip| parse::egress("master_ip", ip, false)) {
            Ok(ip) => ip,
            Err(e) => {
                let kind =
                    if api.master_ip.trim().is_empty() { WarningKind::NoEgressIp } else { WarningKind::InvalidValue };
                notes.add(name, kind, format!("left out: no usable egress IP ({e})"));
                return None;
            }
        };
        let mut builder = Cluster::builder(&api.name).id(&api.id).region(region).egress_ip(egress);
        if talos {
            builder = builder.pod_cidr(TALOS_POD_CIDR).service_cidr(TALOS_SERVICE_CIDR);
        }
        for cidr in self.network_cidrs(api, notes) {
            builder = builder.network_cidr(cidr);
        }
        let pools = Pools::of(api);
        let mut members: Vec<Vec<Member>> = vec![Vec::new(); pools.0.len()];
        let mut public_nodes = Vec::new();
        let mut unflagged = Vec::new();
        let mut ipv6 = Vec::new();
        let mut gateway = false;
        for instance in instances {
            let pool = pools.0.iter().position(|p| p.contains(instance));
            let flagged = pool.is_some_and(|i| pools.0[i].flagged);
            let public = public_ip(api, instance, egress, notes);
            gateway |= public == Some(egress);
            if !instance.ipv6.trim().is_empty() {
                ipv6.push(format!("{} ({})", instance.node_name(), instance.ipv6.trim()));
            }
            if let Some(i) = pool {
                members[i].push(Member {
                    name: instance.node_name().to_owned(),
                    public,
                    status: instance.status.clone(),
                });
            }
            let Some(mut node) = node(api, instance, notes) else { continue };
            if let Some(public) = public {
                node = node.with_public_ip(public);
                if public != egress {
                    let label = format!("{} ({public})", node.name());
                    if flagged || (pools.0.is_empty() && !api.legacy) {
                        public_nodes.push(label);
                    } else if !api.legacy {
                        unflagged.push(label);
                    }
                }
            }
            builder = builder.node(node);
        }
        if !public_nodes.is_empty() {
            notes.add(
                name,
                WarningKind::PublicIpNodePool,
                format!(
                    "pods on {} leave from those nodes' own IPs, not from {egress}: whitelist them too",
                    public_nodes.join(", ")
                ),
            );
        }
        if !unflagged.is_empty() {
            notes.add(name, WarningKind::UnflaggedPublicIp, format!(
                "{} ha{} a public IP of {} own although {} pool is not a public-IP node pool: kept in the egress set (pods there may leave from it), but the whitelist may hold an IP no pod uses; verify by observing",
                unflagged.join(", "),
                if unflagged.len() == 1 { "s" } else { "ve" },
                if unflagged.len() == 1 { "its" } else { "their" },
                if unflagged.len() == 1 { "its" } else { "their" },
            ));
        }
        for (i, pool) in pools.0.iter().enumerate().filter(|(_, p)| p.flagged) {
            let pending = pool.pending(&members[i], notes, name);
            match PublicIpPool::new(pool.id.clone(), pending) {
                Ok(recorded) => builder = builder.public_ip_pool(recorded),
                Err(e) => notes.add(
                    name,
                    WarningKind::InvalidValue,
                    format!("public-IP pool {:?} not recorded: {e}", pool.id),
                ),
            }
        }
        if !gateway {
            notes.add(name, WarningKind::GatewayMissing, format!(
                "no instance carries its master_ip {egress} (its gateway node was replaced, or the API's answer is stale): {egress} may no longer be the IP its pods leave from; verify it by observing"
            ));
        }
        if !ipv6.is_empty() {
            notes.add(name, WarningKind::Ipv6Unmeasured, format!(
                "{} ha{} an IPv6 address: IPv6 egress is unmeasured (flannel masquerades IPv6 only when told to), and the whitelist holds no IPv6 address for {}",
                ipv6.join(", "),
                if ipv6.len() == 1 { "s" } else { "ve" },
                if ipv6.len() == 1 { "it" } else { "them" },
            ));
        }
        for lb in self.load_balancers.iter().flatten().filter(|lb| !api.id.is_empty() && lb.cluster_id == api.id) {
            if let Some(lb) = load_balancer(lb, name, notes) {
                builder = builder.load_balancer(lb);
            }
        }
        match builder.build() {
            Ok(cluster) => Some(cluster),
            Err(e) => {
                notes.add(name, WarningKind::InvalidValue, format!("left out: {e}"));
                None
            }
        }
    }

    fn network_cidrs(&self, api: &ApiCluster, notes: &mut Notes) -> Vec<ipnet::IpNet> {
        let name = Some(api.name.as_str());
        // Unknown networks were reported once, for the whole account.
        let Some(networks) = &self.networks else { return Vec::new() };
        let Some(network) = networks.iter().find(|n| !n.id.is_empty() && n.id == api.network_id) else {
            notes.add(name, WarningKind::Network, format!(
                "network {:?} not found: addresses of its private network will classify as private, not node-network",
                api.network_id
            ));
            return Vec::new();
        };
        if network.is_vlan_connected() {
            notes.add(name, WarningKind::VlanConnected, format!(
                "network {} is connected to customer VLAN {}: that VLAN's gateway may carry egress, so pods may not leave through master_ip {}; verify it by observing",
                network.name, network.vlan_id, api.master_ip
            ));
        }
        let mut cidrs = Vec::new();
        for (field, text) in [("cidr", &network.cidr), ("cidr_v6", &network.cidr_v6)] {
            if text.trim().is_empty() {
                if field == "cidr" {
                    notes.add(name, WarningKind::Network, format!("network {} has no CIDR", network.name));
                }
                continue;
            }
            match parse::network(field, text) {
                Ok(cidr) => cidrs.push(cidr),
                Err(e) => notes.add(name, WarningKind::Network, format!("network {}: {e}; left out", network.name)),
            }
        }
        cidrs
    }
}

/// `status` not ACTIVE; `ready` false or a condition not true.
fn readiness(api: &ApiCluster, notes: &mut Notes) {
    let name = Some(api.name.as_str());
    if !api.status.trim().eq_ignore_ascii_case("ACTIVE") {
        notes.add(
            name,
            WarningKind::NotActive,
            format!("status is {:?}, not ACTIVE: its master_ip, the egress IP, may still change", api.status),
        );
    }
    let mut why = Vec::new();
    if api.ready == Some(false) {
        why.push("ready is false".to_owned());
    }
    for condition in api.conditions.iter().filter(|c| !c.is_true()) {
        let status = if condition.status.trim().is_empty() { "unset" } else { condition.status.trim() };
        let mut text =
            format!("{} is {status}", if condition.kind.is_empty() { "a condition" } else { &condition.kind });
        let detail = [&condition.reason, &condition.message].into_iter().map(|s| s.trim()).filter(|s| !s.is_empty());
        let detail: Vec<&str> = detail.collect();
        if !detail.is_empty() {
            text.push_str(&format!(" ({})", detail.join(": ")));
        }
        why.push(text);
    }
    if !why.is_empty() {
        notes.add(
            name,
            WarningKind::NotReady,
            format!("not ready ({}): its nodes and master_ip, the egress IP, may still change", why.join("; ")),
        );
    }
}

/// One node pool, as `pools[]` and `required_pools[]` describe it together.
struct Pool<'a> {
    id: String,
    flagged: bool,
    /// Nodes asked for: the larger `count`, or the number of names.
    wanted: u32,
    sources: Vec<&'a ApiPool>,
}

struct Pools<'a>(Vec<Pool<'a>>);

impl<'a> Pools<'a> {
    /// `pools[]` then `required_pools[]`, merged by id: a pool is flagged
    /// when either says so (a node that may have its own IP must not be
    /// folded under `master_ip`).
    fn of(api: &'a ApiCluster) -> Self {
        let mut pools: Vec<Pool<'a>> = Vec::new();
        for (i, api_pool) in api.pools.iter().chain(&api.required_pools).enumerate() {
            let id = api_pool.id.trim();
            let names = u32::try_from(api_pool.instance_names.len()).unwrap_or(u32::MAX);
            let wanted = api_pool.count.max(names);
            match pools.iter_mut().find(|p| !id.is_empty() && p.id == id) {
                Some(pool) => {
                    pool.flagged |= api_pool.public_ip_node_pool;
                    pool.wanted = pool.wanted.max(wanted);
                    pool.sources.push(api_pool);
                }
                None => pools.push(Pool {
                    id: if id.is_empty() { format!("pools[{i}]") } else { id.to_owned() },
                    flagged: api_pool.public_ip_node_pool,
                    wanted,
                    sources: vec![api_pool],
                }),
            }
        }
        Self(pools)
    }
}

/// An instance matched to a pool.
#[derive(Clone)]
struct Member {
    name: String,
    public: Option<IpAddr>,
    status: String,
}

impl Pool<'_> {
    fn contains(&self, instance: &ApiInstance) -> bool {
        self.sources.iter().any(|p| p.contains(instance))
    }

    /// How many nodes of this public-IP pool have no usable public IP yet;
    /// warns when some have none.
    fn pending(&self, members: &[Member], notes: &mut Notes, cluster: Option<&str>) -> u32 {
        let without: Vec<String> =
            members
                .iter()
                .filter(|m| m.public.is_none())
                .map(|m| {
                    if m.status.trim().is_empty() {
                        m.name.clone()
                    } else {
                        format!("{} ({})", m.name, m.status.trim())
                    }
                })
                .collect();
        let found = u32::try_from(members.len()).unwrap_or(u32::MAX);
        let missing = self.wanted.saturating_sub(found);
        let pending = u32::try_from(without.len()).unwrap_or(u32::MAX).saturating_add(missing);
        if pending > 0 {
            let mut what = Vec::new();
            if !without.is_empty() {
                what.push(format!("no public IP yet on {}", without.join(", ")));
            }
            if missing > 0 {
                what.push(format!("{missing} more node(s) asked for (count {}) than it has", self.wanted));
            }
            notes.add(cluster, WarningKind::PublicIpPending, format!(
                "public-IP node pool {}: {pending} node(s) without a public IP ({}): pods scheduled there will leave from addresses not known yet, so the whitelist is incomplete and grows with each node of this pool",
                self.id,
                what.join("; ")
            ));
        }
        pending
    }
}

/// The node of an instance, with its private IP; `None` (and a warning)
/// without a usable one.
fn node(api: &ApiCluster, instance: &ApiInstance, notes: &mut Notes) -> Option<Node> {
    let cluster = Some(api.name.as_str());
    let node_name = instance.node_name();
    let private = match parse::ip("private_ip", &instance.private_ip) {
        Ok(ip) => ip,
        Err(e) => {
            let status = instance.status.trim();
            let state = if status.is_empty() || status.eq_ignore_ascii_case("ACTIVE") {
                String::new()
            } else {
                format!(" (status {status})")
            };
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name}{state} left out: {e}"));
            return None;
        }
    };
    match Node::new(node_name, private) {
        Ok(node) => Some(node),
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name:?} left out: {e}"));
            None
        }
    }
}

/// The instance's usable public IP: none when it has none, and none (with a
/// warning) when it is not a global address.
fn public_ip(api: &ApiCluster, instance: &ApiInstance, egress: IpAddr, notes: &mut Notes) -> Option<IpAddr> {
    let cluster = Some(api.name.as_str());
    let node_name = instance.node_name();
    match parse::opt_ip("public_ip", Some(&instance.public_ip)) {
        Ok(None) => None,
        Ok(Some(public)) if public.to_canonical() == egress => Some(egress),
        Ok(Some(public)) => match parse::egress("public_ip", public, false) {
            Ok(public) => Some(public),
            Err(e) => {
                notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name}: public IP ignored: {e}"));
                None
            }
        },
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name}: public IP ignored: {e}"));
            None
        }
    }
}

fn load_balancer(api: &ApiLoadBalancer, cluster: Option<&str>, notes: &mut Notes) -> Option<LoadBalancer> {
    let public = match parse::ip("public_ip", &api.public_ip) {
        Ok(ip) => ip,
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("LoadBalancer {} left out: {e}", api.name));
            return None;
        }
    };
    let lb = match LoadBalancer::new(&api.name, public) {
        Ok(lb) => lb,
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("LoadBalancer {:?} left out: {e}", api.name));
            return None;
        }
    };
    match parse::opt_ip("private_ip", Some(&api.private_ip)) {
        Ok(Some(private)) => Some(lb.with_private_ip(private)),
        Ok(None) => Some(lb),
        Err(e) => {
            notes.add(
                cluster,
                WarningKind::InvalidValue,
                format!("LoadBalancer {}: private IP ignored: {e}", api.name),
            );
            Some(lb)
        }
    }
}

fn reserved_ip(api: &ApiReservedIp, notes: &mut Notes) -> Option<ReservedIp> {
    let ip = match parse::ip("ip", &api.ip) {
        Ok(ip) => ip,
        Err(e) => {
            notes.add(None, WarningKind::InvalidValue, format!("reserved IP {} left out: {e}", api.name));
            return None;
        }
    };
    let reserved = match ReservedIp::new(&api.name, ip) {
        Ok(reserved) => reserved,
        Err(e) => {
            notes.add(None, WarningKind::InvalidValue, format!("reserved IP {:?} left out: {e}", api.name));
            return None;
        }
    };
    let kind = match api.assigned_to.kind.trim() {
        "loadbalancer" => AssignmentKind::LoadBalancer,
        "instance" => AssignmentKind::Instance,
        _ => return Some(reserved),
    };
    match [&api.assigned_to.name, &api.assigned_to.id].into_iter().find(|s| !s.trim().is_empty()) {
        Some(holder) => match Assignment::new(kind, holder.as_str()) {
            Ok(assignment) => Some(reserved.with_assignment(assignment)),
            Err(e) => {
                notes.add(
                    None,
                    WarningKind::InvalidValue,
                    format!("reserved IP {}: assignment ignored: {e}", api.name),
                );
                Some(reserved)
            }
        },
        None => Some(reserved),
    }
}
