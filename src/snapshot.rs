//! The binding snapshot JSON: lenient raw shapes in, validated types out.
//!
//! Reading goes through string-typed mirrors of the public types so that an
//! error names the field path (`clusters[1].nodes[0].private_ip`) and the
//! value, instead of serde's "invalid IP address syntax".

use std::fmt;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::error::TopologyError;
use crate::node::{Assignment, AssignmentKind, LoadBalancer, Node, ReservedIp};
use crate::parse;
use crate::topology::Topology;
use crate::validation::Validation;

/// One CIDR or a list of them (dual stack).
#[derive(Debug, Default)]
pub(crate) struct OneOrMany(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR string or a list of CIDR strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany(items))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawTopology {
    clusters: Option<Vec<RawCluster>>,
    load_balancers: Option<Vec<RawLoadBalancer>>,
    reserved_ips: Option<Vec<RawReservedIp>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCluster {
    name: Option<String>,
    id: Option<String>,
    region: Option<String>,
    egress_ip: Option<String>,
    network_cidr: Option<OneOrMany>,
    pod_cidr: Option<OneOrMany>,
    service_cidr: Option<OneOrMany>,
    nodes: Option<Vec<RawNode>>,
    load_balancers: Option<Vec<RawLoadBalancer>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawNode {
    name: Option<String>,
    private_ip: Option<String>,
    public_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawLoadBalancer {
    name: Option<String>,
    public_ip: Option<String>,
    private_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawReservedIp {
    name: Option<String>,
    ip: Option<String>,
    assigned_to: Option<RawAssignment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawAssignment {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
}

impl RawTopology {
    pub(crate) fn into_topology(self, validation: Validation) -> Result<Topology, TopologyError> {
        let clusters = enumerate(self.clusters, "clusters", |raw| raw.into_cluster(validation))?;
        let load_balancers = enumerate(self.load_balancers, "load_balancers", RawLoadBalancer::into_lb)?;
        let reserved_ips = enumerate(self.reserved_ips, "reserved_ips", RawReservedIp::into_reserved)?;
        Topology::new(clusters, load_balancers, reserved_ips)
    }
}

/// Converts each item, prefixing its errors with `name[i]`.
fn enumerate<R, T>(
    items: Option<Vec<R>>,
    name: &str,
    convert: impl Fn(R) -> Result<T, TopologyError>,
) -> Result<Vec<T>, TopologyError> {
    items
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, raw)| convert(raw).map_err(|e| e.within(&format!("{name}[{i}]"))))
        .collect()
}

impl RawCluster {
    fn into_cluster(self, validation: Validation) -> Result<Cluster, TopologyError> {
        let name = parse::required("name", self.name)?;
        let mut builder = Cluster::builder(name).validation(validation);
        if let Some(id) = self.id {
            builder = builder.id(id);
        }
        if let Some(region) = self.region {
            builder = builder.region(region);
        }
        match self.egress_ip {
            Some(ip) => builder = builder.egress_ip(ip),
            None => builder = builder.fail(TopologyError::Missing { field: "egress_ip".into() }),
        }
        for (field, cidrs) in
            [("network_cidr", self.network_cidr), ("pod_cidr", self.pod_cidr), ("service_cidr", self.service_cidr)]
        {
            for cidr in cidrs.unwrap_or_default().0 {
                builder = match field {
                    "network_cidr" => builder.network_cidr(cidr),
                    "pod_cidr" => builder.pod_cidr(cidr),
                    _ => builder.service_cidr(cidr),
                };
            }
        }
        for node in enumerate(self.nodes, "nodes", RawNode::into_node)? {
            builder = builder.node(node);
        }
        for lb in enumerate(self.load_balancers, "load_balancers", RawLoadBalancer::into_lb)? {
            builder = builder.load_balancer(lb);
        }
        builder.build()
    }
}

impl RawNode {
    fn into_node(self) -> Result<Node, TopologyError> {
        let name = parse::required("name", self.name)?;
        let private = parse::required("private_ip", self.private_ip)?;
        let node = Node::new(name, parse::ip("private_ip", &private)?);
        Ok(match parse::opt_ip("public_ip", self.public_ip.as_deref())? {
            Some(public) => node.with_public_ip(public),
            None => node,
        })
    }
}

impl RawLoadBalancer {
    fn into_lb(self) -> Result<LoadBalancer, TopologyError> {
        let name = parse::required("name", self.name)?;
        let public = parse::required("public_ip", self.public_ip)?;
        let lb = LoadBalancer::new(name, parse::ip("public_ip", &public)?);
        Ok(match parse::opt_ip("private_ip", self.private_ip.as_deref())? {
            Some(private) => lb.with_private_ip(private),
            None => lb,
        })
    }
}

impl RawReservedIp {
    fn into_reserved(self) -> Result<ReservedIp, TopologyError> {
        let name = parse::required("name", self.name)?;
        let ip = parse::required("ip", self.ip)?;
        let reserved = ReservedIp::new(name, parse::ip("ip", &ip)?);
        let Some(assigned) = self.assigned_to else { return Ok(reserved) };
        let kind = match assigned.kind.as_deref().map(str::trim) {
            None | Some("") => return Ok(reserved),
            Some("loadbalancer") => AssignmentKind::LoadBalancer,
            Some("instance") => AssignmentKind::Instance,
            Some(other) => {
                return Err(TopologyError::InvalidAssignment { field: "assigned_to.type".into(), value: other.into() });
            }
        };
        let name = parse::required("assigned_to.name", assigned.name)?;
        Ok(reserved.with_assignment(Assignment::new(kind, name)))
    }
}

/// Standalone `Node`, `LoadBalancer` and `ReservedIp` values read through the
/// same checks as in a snapshot (mapped addresses folded, `""` as none).
impl TryFrom<RawNode> for Node {
    type Error = TopologyError;
    fn try_from(raw: RawNode) -> Result<Self, TopologyError> {
        raw.into_node()
    }
}

impl TryFrom<RawLoadBalancer> for LoadBalancer {
    type Error = TopologyError;
    fn try_from(raw: RawLoadBalancer) -> Result<Self, TopologyError> {
        raw.into_lb()
    }
}

impl TryFrom<RawReservedIp> for ReservedIp {
    type Error = TopologyError;
    fn try_from(raw: RawReservedIp) -> Result<Self, TopologyError> {
        raw.into_reserved()
    }
}

/// Writes a CIDR list as one string when it has one entry, as the format
/// shows it, and as a list otherwise.
struct Cidrs<'a>(&'a [IpNet]);

impl Serialize for Cidrs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl Serialize for Cluster {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Cluster", 9)?;
        s.serialize_field("name", &self.name)?;
        if let Some(id) = &self.id {
            s.serialize_field("id", id)?;
        }
        if let Some(region) = &self.region {
            s.serialize_field("region", region)?;
        }
        s.serialize_field("egress_ip", &self.egress_ip)?;
        if !self.network_cidrs.is_empty() {
            s.serialize_field("network_cidr", &Cidrs(&self.network_cidrs))?;
        }
        s.serialize_field("pod_cidr", &Cidrs(&self.pod_cidrs))?;
        s.serialize_field("service_cidr", &Cidrs(&self.service_cidrs))?;
        s.serialize_field("nodes", &self.nodes)?;
        s.serialize_field("load_balancers", &self.load_balancers)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Cluster {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawCluster::deserialize(deserializer)?.into_cluster(Validation::strict()).map_err(de::Error::custom)
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Topology", 3)?;
        s.serialize_field("clusters", self.clusters())?;
        if !self.load_balancers().is_empty() {
            s.serialize_field("load_balancers", self.load_balancers())?;
        }
        if !self.reserved_ips().is_empty() {
            s.serialize_field("reserved_ips", self.reserved_ips())?;
        }
        s.end()
    }
}

impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawTopology::deserialize(deserializer)?.into_topology(Validation::strict()).map_err(de::Error::custom)
    }
}
