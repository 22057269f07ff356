//! Discovery: a [`Topology`] built from what the Civo API says.

use std::fmt;
use std::net::IpAddr;

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};

use super::client::{CivoClient, pick_cluster};
use super::error::CivoError;
use super::models::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiReservedIp};
use crate::node::{Assignment, AssignmentKind, LoadBalancer, Node, ReservedIp};
use crate::resolve::serialized_names;
use crate::{Cluster, Topology, parse};

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

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WarningKind {
    /// The cluster is not `ACTIVE`: its egress IP may still change.
    NotActive,
    /// The cluster has no usable `master_ip`; it was left out.
    NoEgressIp,
    /// A legacy cluster: every node has its own public IP.
    Legacy,
    /// Talos or Cilium: the single-egress-IP behaviour was measured on K3s
    /// with flannel only.
    EgressUnmeasured,
    /// Nodes with their own public IP: pods on them leave from that IP.
    PublicIpNodePool,
    /// The cluster's network, or its CIDR, is missing or absurd.
    Network,
    /// A value that is not an address (a placeholder, an empty field); the
    /// item was left out.
    InvalidValue,
}

serialized_names!(WarningKind, "discovery warning kind", {
    NotActive => "not-active",
    NoEgressIp => "no-egress-ip",
    Legacy => "legacy",
    EgressUnmeasured => "egress-unmeasured",
    PublicIpNodePool => "public-ip-node-pool",
    Network => "network",
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
    /// egress IP (`master_ip`) and public-IP-pool nodes, its network CIDR, its
    /// nodes (with private IPs), the LoadBalancers (linked by `cluster_id`)
    /// and the reserved IPs.
    ///
    /// The number of requests grows with the number of clusters (list pages,
    /// then one request per cluster for its nodes), never with nodes or
    /// LoadBalancers, and they run concurrently. The whole discovery runs
    /// under the client's deadline.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use civo_egress::civo::{CivoClient, Selection};
    /// use civo_egress::Whitelist;
    /// let client = CivoClient::from_env()?;
    /// let discovery = client.discover(&Selection::all()).await?;
    /// for warning in discovery.warnings() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// print!("{}", Whitelist::of(discovery.topology())?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`CivoError`] of the requests; [`CivoError::ClusterNotFound`] or
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
                client.load_balancers_by(deadline),
                client.reserved_ips_by(deadline),
                client.networks_by(deadline),
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
            let instances: Vec<Vec<ApiInstance>> = stream::iter(ids)
                .map(|id| async move {
                    if id.is_empty() { Ok(Vec::new()) } else { client.instances_by(&id, deadline).await }
                })
                .buffered(CONCURRENT_CLUSTERS)
                .try_collect()
                .await?;
            let account = Account { all_clusters: &clusters, load_balancers, reserved_ips, networks };
            Ok(account.assemble(client.region(), &chosen, instances, !selection.clusters.is_empty()))
        };
        match tokio::time::timeout_at(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(CivoError::Timeout { after: client.deadline_length() }),
        }
    }
}

struct Account<'a> {
    all_clusters: &'a [ApiCluster],
    load_balancers: Vec<ApiLoadBalancer>,
    reserved_ips: Vec<ApiReservedIp>,
    networks: Vec<ApiNetwork>,
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
        region: &str,
        chosen: &[&ApiCluster],
        instances: Vec<Vec<ApiInstance>>,
        restricted: bool,
    ) -> Discovery {
        let mut notes = Notes::default();
        let mut clusters: Vec<Cluster> = Vec::new();
        for (api, nodes) in chosen.iter().zip(instances) {
            if clusters.iter().any(|c| c.name() == api.name) {
                notes.add(
                    Some(&api.name),
                    WarningKind::InvalidValue,
                    "a second cluster with this name was left out".into(),
                );
                continue;
            }
            if let Some(cluster) = self.cluster(api, region, &nodes, &mut notes) {
                clusters.push(cluster);
            }
        }
        let built: Vec<&str> = clusters.iter().filter_map(Cluster::id).collect();
        let mut standalone = Vec::new();
        for lb in &self.load_balancers {
            let in_built = built.contains(&lb.cluster_id.as_str()) && !lb.cluster_id.is_empty();
            let deselected = restricted
                && !chosen.iter().any(|c| c.id == lb.cluster_id)
                && self.all_clusters.iter().any(|c| c.id == lb.cluster_id);
            // Standalone LBs, and those of a cluster that was left out for a
            // bad value, stay known outside any cluster.
            if !in_built && !deselected {
                standalone.extend(load_balancer(lb, None, &mut notes));
            }
        }
        let reserved = self.reserved_ips.iter().filter_map(|r| reserved_ip(r, &mut notes)).collect();
        // Names were made unique above.
        Discovery { topology: Topology::assemble(clusters, standalone, reserved), warnings: notes.0 }
    }

    fn cluster(&self, api: &ApiCluster, region: &str, instances: &[ApiInstance], notes: &mut Notes) -> Option<Cluster> {
        let name = Some(api.name.as_str());
        if !api.status.eq_ignore_ascii_case("ACTIVE") {
            notes.add(
                name,
                WarningKind::NotActive,
                format!("status is {:?}, not ACTIVE: its egress IP may still change", api.status),
            );
        }
        if api.cluster_type.eq_ignore_ascii_case("talos") || api.cni_plugin.eq_ignore_ascii_case("cilium") {
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
        for cidr in self.network_cidrs(api, notes) {
            builder = builder.network_cidr(cidr);
        }
        let mut public_nodes = Vec::new();
        for instance in instances {
            if let Some(node) = node(api, instance, egress, notes) {
                if node.public_ip().is_some_and(|ip| ip != egress) {
                    public_nodes.push(format!(
                        "{} ({})",
                        node.name(),
                        node.public_ip().map(|ip| ip.to_string()).unwrap_or_default()
                    ));
                }
                builder = builder.node(node);
            }
        }
        if !public_nodes.is_empty() && !api.legacy {
            notes.add(
                name,
                WarningKind::PublicIpNodePool,
                format!(
                    "pods on {} leave from those nodes' own IPs, not from {egress}: whitelist them too",
                    public_nodes.join(", ")
                ),
            );
        }
        for lb in self.load_balancers.iter().filter(|lb| !api.id.is_empty() && lb.cluster_id == api.id) {
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
        let Some(network) = self.networks.iter().find(|n| !n.id.is_empty() && n.id == api.network_id) else {
            notes.add(name, WarningKind::Network, format!(
                "network {:?} not found: addresses of its private network will classify as private, not node-network",
                api.network_id
            ));
            return Vec::new();
        };
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

fn node(api: &ApiCluster, instance: &ApiInstance, egress: IpAddr, notes: &mut Notes) -> Option<Node> {
    let cluster = Some(api.name.as_str());
    let node_name = instance.node_name();
    let private = match parse::ip("private_ip", &instance.private_ip) {
        Ok(ip) => ip,
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name} left out: {e}"));
            return None;
        }
    };
    let node = match Node::new(node_name, private) {
        Ok(node) => node,
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name:?} left out: {e}"));
            return None;
        }
    };
    match parse::opt_ip("public_ip", Some(&instance.public_ip)) {
        Ok(None) => Some(node),
        Ok(Some(public)) if public == egress => Some(node.with_public_ip(public)),
        Ok(Some(public)) => match parse::egress("public_ip", public, false) {
            Ok(public) => Some(node.with_public_ip(public)),
            Err(e) => {
                notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name}: public IP ignored: {e}"));
                Some(node)
            }
        },
        Err(e) => {
            notes.add(cluster, WarningKind::InvalidValue, format!("node {node_name}: public IP ignored: {e}"));
            Some(node)
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
