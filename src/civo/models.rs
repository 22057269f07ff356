//! The Civo API's bodies, read leniently: unknown fields are ignored, `null`
//! stands for an empty string or list, strings for booleans. Values are kept
//! as the API sent them (a `master_ip` may be the placeholder
//! `"your.cluster.ip.address"`); discovery checks them and reports what it
//! cannot use.

use serde::Deserialize;

use super::lenient;

/// One page of a paginated list (`/v2/kubernetes/clusters`, `/v2/ips`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(crate) struct Page<T> {
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) page: u32,
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) pages: u32,
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) items: Vec<T>,
}

/// A Kubernetes cluster (`GET /v2/kubernetes/clusters/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiCluster {
    /// The cluster id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The cluster name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// `ACTIVE` when built.
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    /// `k3s` or `talos`.
    #[serde(deserialize_with = "lenient::string")]
    pub cluster_type: String,
    /// `flannel` or `cilium`.
    #[serde(deserialize_with = "lenient::string")]
    pub cni_plugin: String,
    /// The cluster IP: the egress IP of every node without its own public IP.
    #[serde(deserialize_with = "lenient::string")]
    pub master_ip: String,
    /// `https://<master_ip>:6443`.
    #[serde(deserialize_with = "lenient::string")]
    pub api_endpoint: String,
    /// `<id>.k8s.civo.com`.
    #[serde(deserialize_with = "lenient::string")]
    pub dns_entry: String,
    /// The private network the nodes live in.
    #[serde(deserialize_with = "lenient::string")]
    pub network_id: String,
    /// A 2019-2020 cluster whose every node has a public IP.
    #[serde(deserialize_with = "lenient::flag")]
    pub legacy: bool,
    /// The node pools.
    #[serde(deserialize_with = "lenient::list")]
    pub pools: Vec<ApiPool>,
}

/// A node pool of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiPool {
    /// The pool id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The number of nodes asked for.
    #[serde(deserialize_with = "lenient::count")]
    pub count: u32,
    /// The instance names (hostnames) in the pool.
    #[serde(deserialize_with = "lenient::list")]
    pub instance_names: Vec<String>,
    /// The instances in the pool (without `private_ip` in cluster objects).
    #[serde(deserialize_with = "lenient::list")]
    pub instances: Vec<ApiInstance>,
    /// Whether each node of the pool gets its own public IP.
    #[serde(deserialize_with = "lenient::flag")]
    pub public_ip_node_pool: bool,
}

/// An instance (`GET /v2/kubernetes/clusters/{id}/instances` has the full
/// model, with `private_ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiInstance {
    /// The instance id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The instance name (often absent; `hostname` is the node name).
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// The node name.
    #[serde(deserialize_with = "lenient::string")]
    pub hostname: String,
    /// Its address in the cluster network.
    #[serde(deserialize_with = "lenient::string")]
    pub private_ip: String,
    /// Its public IP, `""` for most nodes.
    #[serde(deserialize_with = "lenient::string")]
    pub public_ip: String,
    /// `ACTIVE` when running.
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
}

impl ApiInstance {
    /// The node's name: `hostname`, else `name`, else `id`.
    #[must_use]
    pub fn node_name(&self) -> &str {
        [&self.hostname, &self.name, &self.id].into_iter().find(|s| !s.is_empty()).map_or("", |s| s.as_str())
    }
}

/// A LoadBalancer (`GET /v2/loadbalancers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiLoadBalancer {
    /// The LoadBalancer id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Its public IP.
    #[serde(deserialize_with = "lenient::string")]
    pub public_ip: String,
    /// Its address in the cluster network.
    #[serde(deserialize_with = "lenient::string")]
    pub private_ip: String,
    /// The cluster it serves, `""` for a standalone LoadBalancer.
    #[serde(deserialize_with = "lenient::string")]
    pub cluster_id: String,
    /// The reserved IP it uses, if any.
    #[serde(deserialize_with = "lenient::string")]
    pub reserved_ip: String,
    /// `available` when ready.
    #[serde(deserialize_with = "lenient::string")]
    pub state: String,
}

/// A reserved IP (`GET /v2/ips`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiReservedIp {
    /// The reserved IP id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// The address.
    #[serde(deserialize_with = "lenient::string")]
    pub ip: String,
    /// What holds it; empty strings when unassigned.
    #[serde(deserialize_with = "lenient::object")]
    pub assigned_to: ApiAssignment,
}

/// What a reserved IP is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiAssignment {
    /// The resource id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// `loadbalancer`, `instance`, or `""`.
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
    /// The resource name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
}

/// A private network (`GET /v2/networks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiNetwork {
    /// The network id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Whether it is the region's default network.
    #[serde(deserialize_with = "lenient::flag")]
    pub default: bool,
    /// The IPv4 CIDR.
    #[serde(deserialize_with = "lenient::string")]
    pub cidr: String,
    /// The IPv6 CIDR, `""` when none.
    #[serde(deserialize_with = "lenient::string")]
    pub cidr_v6: String,
}

/// A region (`GET /v2/regions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiRegion {
    /// The region code, e.g. `LON1`.
    #[serde(deserialize_with = "lenient::string")]
    pub code: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Whether it is the account's default region.
    #[serde(deserialize_with = "lenient::flag")]
    pub default: bool,
    /// What the region offers.
    #[serde(deserialize_with = "lenient::object")]
    pub features: ApiRegionFeatures,
}

/// The features of a region that matter for egress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiRegionFeatures {
    /// Whether Kubernetes is offered.
    #[serde(deserialize_with = "lenient::flag")]
    pub kubernetes: bool,
    /// Whether public-IP node pools can be created.
    #[serde(deserialize_with = "lenient::flag")]
    pub public_ip_node_pools: bool,
}

/// Civo's error body: `{"code", "reason"}`, or `{"result", "status"}` for 401.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiErrorBody {
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) code: String,
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) reason: String,
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) result: String,
}
