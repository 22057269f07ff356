//! The Civo API's bodies, read leniently: unknown fields are ignored, `null`
//! stands for an empty string or list, strings for booleans. Values are kept
//! as the API sent them (a `master_ip` may be the placeholder
//! `"your.cluster.ip.address"`); discovery checks them and reports what it
//! cannot use. Fields are private, read through accessors, so that a field
//! the API adds or drops is not a breaking change.

use serde::Deserialize;

use super::{ca, lenient};
use crate::fingerprint::CaFingerprint;

/// One page of a paginated list (`/v2/kubernetes/clusters`, `/v2/ips`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de> + Default"))]
pub(crate) struct Page<T> {
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) page: u32,
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) per_page: u32,
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
    pub(crate) id: String,
    /// The cluster name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// `ACTIVE` when built.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) status: String,
    /// `k3s` or `talos`.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) cluster_type: String,
    /// `flannel` or `cilium`.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) cni_plugin: String,
    /// The cluster IP: the egress IP of every node without its own public IP.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) master_ip: String,
    /// `https://<master_ip>:6443`.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) api_endpoint: String,
    /// `<id>.k8s.civo.com`.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) dns_entry: String,
    /// The private network the nodes live in.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) network_id: String,
    /// A 2019-2020 cluster whose every node has a public IP.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) legacy: bool,
    /// Whether the cluster says it is ready; `None` when the API did not say.
    #[serde(deserialize_with = "lenient::opt_flag")]
    pub(crate) ready: Option<bool>,
    /// The readiness conditions (`null` is none).
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) conditions: Vec<ApiCondition>,
    /// The node pools.
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) pools: Vec<ApiPool>,
    /// The pools asked for (id, size, count, flag; no instances).
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) required_pools: Vec<ApiPool>,
    /// The fingerprint of the CA in the cluster's `kubeconfig`. The
    /// kubeconfig itself holds the cluster's admin credentials: it is read
    /// for its `certificate-authority-data` and dropped, never kept.
    #[serde(rename = "kubeconfig", deserialize_with = "ca::from_kubeconfig")]
    pub(crate) ca_fingerprint: Option<CaFingerprint>,
}

/// A readiness condition of a cluster (`ControlPlaneReady`,
/// `WorkerNodesReady`, `ClusterVersionSync`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiCondition {
    /// What the condition is about (the JSON's `type`).
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub(crate) kind: String,
    /// `True`, `False` or `Unknown` (a boolean is read as its text).
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) status: String,
    /// Why, in one word.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) reason: String,
    /// Why, in a sentence.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) message: String,
}

/// A node pool of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiPool {
    /// The pool id.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) id: String,
    /// The instance size of its nodes.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) size: String,
    /// The number of nodes asked for.
    #[serde(deserialize_with = "lenient::count")]
    pub(crate) count: u32,
    /// The instance names (hostnames) in the pool.
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) instance_names: Vec<String>,
    /// The instances in the pool (without `private_ip` in cluster objects).
    #[serde(deserialize_with = "lenient::list")]
    pub(crate) instances: Vec<ApiInstance>,
    /// Whether each node of the pool gets its own public IP.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) public_ip_node_pool: bool,
}

/// An instance (`GET /v2/kubernetes/clusters/{id}/instances` has the full
/// model, with `private_ip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiInstance {
    /// The instance id.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) id: String,
    /// The instance name (often absent; `hostname` is the node name).
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// The node name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) hostname: String,
    /// Its address in the cluster network.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) private_ip: String,
    /// Its public IP, `""` for most nodes.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) public_ip: String,
    /// Its IPv6 address, `""` when none.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) ipv6: String,
    /// `ACTIVE` when running.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) status: String,
}

impl ApiInstance {
    /// The node's name: [`hostname`](Self::hostname), else
    /// [`name`](Self::name), else [`id`](Self::id).
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
    pub(crate) id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// Its public IP.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) public_ip: String,
    /// Its address in the cluster network.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) private_ip: String,
    /// The cluster it serves, `""` for a standalone LoadBalancer.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) cluster_id: String,
    /// The reserved IP it uses, if any.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) reserved_ip: String,
    /// `available` when ready.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) state: String,
}

/// A reserved IP (`GET /v2/ips`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiReservedIp {
    /// The reserved IP id.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// The address.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) ip: String,
    /// What holds it; empty strings when unassigned.
    #[serde(deserialize_with = "lenient::object")]
    pub(crate) assigned_to: ApiAssignment,
}

/// What a reserved IP is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiAssignment {
    /// The resource id.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) id: String,
    /// `loadbalancer`, `instance`, or `""`.
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub(crate) kind: String,
    /// The resource name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
}

/// A private network (`GET /v2/networks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiNetwork {
    /// The network id.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) id: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// Whether it is the region's default network.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) default: bool,
    /// The IPv4 CIDR.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) cidr: String,
    /// The IPv6 CIDR, `""` when none.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) cidr_v6: String,
    /// The name the Civo CLI shows.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) label: String,
    /// `Active` when usable.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) status: String,
    /// Whether IPv4 is on.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) ipv4_enabled: bool,
    /// Whether IPv6 is on.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) ipv6_enabled: bool,
    /// The network's IPv4 gateway.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) gateway_ipv4: String,
    /// The customer VLAN the network is connected to, as text (`""` when
    /// none; a number, a string or an object is kept as its JSON text).
    #[serde(deserialize_with = "lenient::presence")]
    pub(crate) vlan_id: String,
}

/// A region (`GET /v2/regions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiRegion {
    /// The region code, e.g. `LON1`.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) code: String,
    /// Its name.
    #[serde(deserialize_with = "lenient::string")]
    pub(crate) name: String,
    /// Whether it is the account's default region.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) default: bool,
    /// What the region offers.
    #[serde(deserialize_with = "lenient::object")]
    pub(crate) features: ApiRegionFeatures,
}

/// The features of a region that matter for egress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ApiRegionFeatures {
    /// Whether Kubernetes is offered.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) kubernetes: bool,
    /// Whether public-IP node pools can be created.
    #[serde(deserialize_with = "lenient::flag")]
    pub(crate) public_ip_node_pools: bool,
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

/// Getters named like the fields: `&str` for strings, a slice for lists, a
/// reference for nested objects, the value for flags and counts.
macro_rules! getters {
    ($ty:ident { $($(#[$doc:meta])* $field:ident: $kind:tt $(<$inner:ty>)?),+ $(,)? }) => {
        impl $ty {
            $(getters!(@one $(#[$doc])* $field: $kind $(<$inner>)?);)+
        }
    };
    (@one $(#[$doc:meta])* $field:ident: str) => {
        $(#[$doc])*
        #[must_use]
        pub fn $field(&self) -> &str {
            &self.$field
        }
    };
    (@one $(#[$doc:meta])* $field:ident: copy<$inner:ty>) => {
        $(#[$doc])*
        #[must_use]
        pub const fn $field(&self) -> $inner {
            self.$field
        }
    };
    (@one $(#[$doc:meta])* $field:ident: list<$inner:ty>) => {
        $(#[$doc])*
        #[must_use]
        pub fn $field(&self) -> &[$inner] {
            &self.$field
        }
    };
    (@one $(#[$doc:meta])* $field:ident: object<$inner:ty>) => {
        $(#[$doc])*
        #[must_use]
        pub const fn $field(&self) -> &$inner {
            &self.$field
        }
    };
}

getters!(ApiCluster {
    /// The cluster id.
    id: str,
    /// The cluster name.
    name: str,
    /// `ACTIVE` when built.
    status: str,
    /// `k3s` or `talos`.
    cluster_type: str,
    /// `flannel` or `cilium`.
    cni_plugin: str,
    /// The cluster IP, as sent (unchecked): the egress IP of every node
    /// without its own public IP.
    master_ip: str,
    /// `https://<master_ip>:6443`.
    api_endpoint: str,
    /// `<id>.k8s.civo.com`.
    dns_entry: str,
    /// The private network the nodes live in.
    network_id: str,
    /// A 2019-2020 cluster whose every node has a public IP.
    legacy: copy<bool>,
    /// Whether the cluster says it is ready; `None` when the API did not say.
    ready: copy<Option<bool>>,
    /// The readiness conditions (empty when `null`).
    conditions: list<ApiCondition>,
    /// The node pools.
    pools: list<ApiPool>,
    /// The pools asked for, where the API returns them (id, size, count,
    /// flag; no instances).
    required_pools: list<ApiPool>,
    /// The fingerprint of the cluster's Kubernetes CA certificate, from the
    /// `certificate-authority-data` of the `kubeconfig` the API sends;
    /// `None` when there is none that decodes. The kubeconfig itself, which
    /// holds the cluster's admin credentials, is never kept.
    ca_fingerprint: copy<Option<CaFingerprint>>,
});

getters!(ApiCondition {
    /// What the condition is about (the JSON's `type`), e.g. `WorkerNodesReady`.
    kind: str,
    /// `True`, `False` or `Unknown`, as sent.
    status: str,
    /// Why, in one word.
    reason: str,
    /// Why, in a sentence.
    message: str,
});

getters!(ApiPool {
    /// The pool id.
    id: str,
    /// The instance size of its nodes.
    size: str,
    /// The number of nodes asked for.
    count: copy<u32>,
    /// The instance names (hostnames) in the pool.
    instance_names: list<String>,
    /// The instances in the pool (without `private_ip` in cluster objects).
    instances: list<ApiInstance>,
    /// Whether each node of the pool gets its own public IP.
    public_ip_node_pool: copy<bool>,
});

getters!(ApiInstance {
    /// The instance id.
    id: str,
    /// The instance name (often absent; `hostname` is the node name).
    name: str,
    /// The node name.
    hostname: str,
    /// Its address in the cluster network, as sent.
    private_ip: str,
    /// Its public IP, `""` for most nodes.
    public_ip: str,
    /// Its IPv6 address, `""` when none.
    ipv6: str,
    /// `ACTIVE` when running.
    status: str,
});

getters!(ApiLoadBalancer {
    /// The LoadBalancer id.
    id: str,
    /// Its name.
    name: str,
    /// Its public IP, as sent.
    public_ip: str,
    /// Its address in the cluster network.
    private_ip: str,
    /// The cluster it serves, `""` for a standalone LoadBalancer.
    cluster_id: str,
    /// The reserved IP it uses, if any.
    reserved_ip: str,
    /// `available` when ready.
    state: str,
});

getters!(ApiReservedIp {
    /// The reserved IP id.
    id: str,
    /// Its name.
    name: str,
    /// The address, as sent.
    ip: str,
    /// What holds it; empty strings when unassigned.
    assigned_to: object<ApiAssignment>,
});

getters!(ApiAssignment {
    /// The resource id.
    id: str,
    /// `loadbalancer`, `instance`, or `""` (the JSON's `type`).
    kind: str,
    /// The resource name.
    name: str,
});

getters!(ApiNetwork {
    /// The network id.
    id: str,
    /// Its name.
    name: str,
    /// The IPv4 CIDR, as sent.
    cidr: str,
    /// The IPv6 CIDR, `""` when none.
    cidr_v6: str,
    /// The name the Civo CLI shows.
    label: str,
    /// `Active` when usable.
    status: str,
    /// Whether IPv4 is on.
    ipv4_enabled: copy<bool>,
    /// Whether IPv6 is on.
    ipv6_enabled: copy<bool>,
    /// The network's IPv4 gateway, as sent.
    gateway_ipv4: str,
    /// The customer VLAN it is connected to, as text; `""` when none. See
    /// [`is_vlan_connected`](Self::is_vlan_connected).
    vlan_id: str,
});

getters!(ApiRegion {
    /// The region code, e.g. `LON1`.
    code: str,
    /// Its name.
    name: str,
    /// What the region offers.
    features: object<ApiRegionFeatures>,
});

getters!(ApiRegionFeatures {
    /// Whether Kubernetes is offered.
    kubernetes: copy<bool>,
    /// Whether public-IP node pools can be created.
    public_ip_node_pools: copy<bool>,
});

impl ApiNetwork {
    /// Whether it is the region's default network.
    #[must_use]
    pub const fn is_default(&self) -> bool {
        self.default
    }

    /// Whether the network is connected to a customer VLAN (`vlan_id` set
    /// and not `0`): that VLAN's own gateway may carry egress.
    #[must_use]
    pub fn is_vlan_connected(&self) -> bool {
        let id = self.vlan_id.trim();
        !id.is_empty() && id != "0"
    }
}

impl ApiCondition {
    /// Whether the condition holds (`status` is `True`, in any case).
    #[must_use]
    pub fn is_true(&self) -> bool {
        self.status.trim().eq_ignore_ascii_case("true")
    }
}

impl ApiPool {
    /// Whether `instance` belongs to this pool: its node name is one of
    /// [`instance_names`](Self::instance_names), or it is one of
    /// [`instances`](Self::instances) (same id or hostname).
    #[must_use]
    pub fn contains(&self, instance: &ApiInstance) -> bool {
        let name = instance.node_name();
        let named = !name.is_empty()
            && self
                .instance_names
                .iter()
                .any(|n| n.trim() == name || (!instance.name.is_empty() && n.trim() == instance.name));
        named
            || self.instances.iter().any(|i| {
                (!i.id.is_empty() && i.id == instance.id) || (!i.hostname.is_empty() && i.hostname == instance.hostname)
            })
    }
}

impl ApiRegion {
    /// Whether it is the account's default region.
    #[must_use]
    pub const fn is_default(&self) -> bool {
        self.default
    }
}
