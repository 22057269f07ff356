//! The binding snapshot JSON of the resources: lenient raw shapes in,
//! validated values out, and the writer.
//!
//! This file sits *below* [`Topology`](crate::Topology): it turns JSON into
//! validated clusters, LoadBalancers and reserved IPs ([`RawTopology::into_parts`])
//! and writes them back ([`SnapshotRef`]); `topology.rs` calls it from
//! `Topology::from_json` and from `Topology`'s serde impls, so both read
//! through the same function and accept exactly the same inputs.
//!
//! Reading goes through string-typed mirrors of the public types so that an
//! error names the field path (`clusters[1].nodes[0].private_ip`) and the
//! value, instead of serde's "invalid IP address syntax". Every level keeps
//! the fields it does not know, in document order, so that a typo is an
//! error that names it and the field it was probably meant to be.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::cluster::{Cluster, NetworkId};
use crate::error::TopologyError;
use crate::fingerprint::{self, CaFingerprint};
use crate::left_out::LeftOut;
use crate::node::{Assignment, AssignmentKind, LoadBalancer, Node, PublicIpPool, ReservedIp};
use crate::parse;
use crate::topology::FORMAT_VERSION;
use crate::validation::Validation;
use crate::warning::{RawWarning, Warning, WarningKind};

/// The validated contents of a snapshot.
pub(crate) struct Snapshot {
    pub(crate) clusters: Vec<Cluster>,
    /// LoadBalancers outside any cluster.
    pub(crate) load_balancers: Vec<LoadBalancer>,
    pub(crate) reserved_ips: Vec<ReservedIp>,
    pub(crate) left_out: Vec<LeftOut>,
    /// The version, when newer than [`FORMAT_VERSION`].
    pub(crate) newer: Option<u64>,
    /// The selection it was made with, when recorded.
    pub(crate) coverage: Option<Coverage>,
}

const TOPOLOGY_FIELDS: &[&str] =
    &["format_version", "selection", "clusters", "load_balancers", "reserved_ips", "left_out"];
const SELECTION_FIELDS: &[&str] = &["clusters", "regions"];
const CLUSTER_FIELDS: &[&str] = &[
    "name",
    "id",
    "region",
    "egress_ip",
    "network_cidr",
    "pod_cidr",
    "service_cidr",
    "nodes",
    "load_balancers",
    "public_ip_pools",
    "network",
    "caveats",
    "ca_fingerprint",
];
const NETWORK_FIELDS: &[&str] = &["id", "name"];
const NODE_FIELDS: &[&str] = &["name", "private_ip", "public_ip"];
const LB_FIELDS: &[&str] = &["name", "public_ip", "private_ip"];
const RESERVED_FIELDS: &[&str] = &["name", "ip", "assigned_to"];
const ASSIGNMENT_FIELDS: &[&str] = &["type", "name"];
const POOL_FIELDS: &[&str] = &["id", "pending"];

/// The names of the fields a level did not know, in document order.
#[derive(Debug, Default)]
pub(crate) struct Unknown(Vec<String>);

impl<'de> Deserialize<'de> for Unknown {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Unknown;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unknown, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(name);
                }
                Ok(Unknown(names))
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl Unknown {
    /// Fails on the first unknown field unless `validation` accepts them.
    fn check(&self, known: &[&'static str], validation: Validation) -> Result<(), TopologyError> {
        match self.0.first() {
            Some(field) if !validation.allows_unknown_fields() => Err(TopologyError::UnknownField {
                field: field.clone(),
                suggestion: suggest(field, known).map(str::to_owned),
            }),
            _ => Ok(()),
        }
    }
}

/// The known field `unknown` was probably meant to be: the same once case,
/// `_` and `-` are folded (`networkCidr`), or a couple of edits away
/// (`cluster`, `egress_ips`, `typ`).
fn suggest(unknown: &str, known: &[&'static str]) -> Option<&'static str> {
    let fold =
        |s: &str| -> Vec<char> { s.chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect() };
    let folded = fold(unknown);
    if let Some(&same) = known.iter().find(|k| fold(k) == folded) {
        return Some(same);
    }
    known
        .iter()
        .map(|&k| (edit_distance(&folded, &fold(k)), k))
        .filter(|&(d, k)| d <= 2 && d * 3 <= k.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// One string or a list of them (dual stack), remembering which.
#[derive(Debug, Default)]
pub(crate) struct OneOrMany {
    items: Vec<String>,
    list: bool,
}

impl OneOrMany {
    /// `name` for a single string, `name[i]` for each item of a list (or
    /// always `name[i]` when `indexed`).
    fn fields<'a>(&'a self, name: &'a str, indexed: bool) -> impl Iterator<Item = (String, &'a str)> + 'a {
        let index = self.list || indexed;
        self.items
            .iter()
            .enumerate()
            .map(move |(i, item)| (if index { format!("{name}[{i}]") } else { name.to_owned() }, item.as_str()))
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany { items: vec![v.to_owned()], list: false })
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(OneOrMany { items, list: true })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// What a snapshot covers: the regions discovery read, and the clusters
/// it was asked for (none: every cluster of those regions). The snapshot's
/// optional top-level `"selection"`, written by discovery
/// ([`Topology::coverage`](crate::Topology::coverage)); a snapshot without
/// it covers what it holds, as far as anyone can tell.
///
/// [`diff`](crate::diff) reads it: a cluster outside what the other
/// snapshot covers (another region, or a cluster it was not asked for) is
/// not compared, never called removed.
///
/// Serializes as `{"clusters": [...], "regions": [...]}`, `clusters`
/// omitted when empty. A cluster is named as it was asked for: a name, an
/// id or `REGION/NAME`.
///
/// ```
/// use civo_egress::{Coverage, Topology};
/// let coverage = Coverage::new(["LON1"])?.with_clusters(["prod"])?;
/// assert_eq!((coverage.clusters(), coverage.regions()), (&["prod".to_owned()][..], &["LON1".to_owned()][..]));
/// let topology = Topology::from_json(r#"{"selection": {"clusters": ["prod"], "regions": ["LON1"]},
///   "clusters": [{"name": "prod", "region": "LON1", "egress_ip": "74.220.24.10"}]}"#)?;
/// assert_eq!(topology.coverage(), Some(&coverage));
/// assert_eq!(Topology::from_json(&topology.to_json())?, topology);
/// assert_eq!(Topology::from_json(r#"{"clusters": []}"#)?.coverage(), None, "unknown");
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawCoverage", into = "RawCoverage")]
#[non_exhaustive]
pub struct Coverage {
    clusters: Vec<String>,
    regions: Vec<String>,
}

impl Coverage {
    /// Every cluster of `regions` (region codes, such as `LON1`; none:
    /// nothing is covered).
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] for a blank code.
    pub fn new<I, S>(regions: I) -> Result<Self, TopologyError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(Self { clusters: Vec::new(), regions: non_blank("regions", regions)? })
    }

    /// The same, for the clusters `clusters` names only: each a name, an
    /// id or `REGION/NAME`, as discovery was asked for them (none: every
    /// cluster).
    ///
    /// # Errors
    ///
    /// [`TopologyError::Missing`] for a blank one.
    pub fn with_clusters<I, S>(mut self, clusters: I) -> Result<Self, TopologyError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clusters = non_blank("clusters", clusters)?;
        Ok(self)
    }

    /// The clusters asked for, as asked (empty: every cluster of the
    /// regions).
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// The region codes covered, as discovery read them (a region whose
    /// lists failed is not among them).
    #[must_use]
    pub fn regions(&self) -> &[String] {
        &self.regions
    }
}

/// Each item, required non-blank, as `name[i]`.
fn non_blank<I, S>(name: &str, items: I) -> Result<Vec<String>, TopologyError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().enumerate().map(|(i, item)| parse::required(&format!("{name}[{i}]"), Some(item.into()))).collect()
}

/// [`Coverage`] as the snapshot writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoverage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clusters: Option<Vec<String>>,
    regions: Option<Vec<String>>,
}

impl TryFrom<RawCoverage> for Coverage {
    type Error = TopologyError;

    fn try_from(raw: RawCoverage) -> Result<Self, TopologyError> {
        let regions = raw.regions.ok_or_else(|| TopologyError::Missing { field: "regions".into() })?;
        Self::new(regions)?.with_clusters(raw.clusters.unwrap_or_default())
    }
}

impl From<Coverage> for RawCoverage {
    fn from(coverage: Coverage) -> Self {
        Self { clusters: Some(coverage.clusters).filter(|c| !c.is_empty()), regions: Some(coverage.regions) }
    }
}

/// The top-level `selection`, strictly for this format (a typo names the
/// field it was probably meant to be), leniently for a newer one.
fn coverage(raw: serde_json::Value, read: Read) -> Result<Coverage, TopologyError> {
    let mut raw = raw;
    if read.newer || read.validation.allows_unknown_fields() {
        retain_known(&mut raw, SELECTION_FIELDS);
    }
    let fields: RawCoverage = serde_json::from_value(raw).map_err(|e| match suggest_field(&e) {
        Some(field) => {
            TopologyError::UnknownField { suggestion: suggest(&field, SELECTION_FIELDS).map(str::to_owned), field }
        }
        None => invalid(&e),
    })?;
    Coverage::try_from(fields)
}

/// A snapshot as read, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawTopology {
    format_version: Option<u64>,
    selection: Option<serde_json::Value>,
    clusters: Option<Vec<RawCluster>>,
    left_out: Option<Vec<serde_json::Value>>,
    load_balancers: Option<Vec<RawLoadBalancer>>,
    reserved_ips: Option<Vec<RawReservedIp>>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCluster {
    name: Option<String>,
    id: Option<String>,
    region: Option<String>,
    egress_ip: Option<OneOrMany>,
    network_cidr: Option<OneOrMany>,
    pod_cidr: Option<OneOrMany>,
    service_cidr: Option<OneOrMany>,
    nodes: Option<Vec<RawNode>>,
    load_balancers: Option<Vec<RawLoadBalancer>>,
    public_ip_pools: Option<Vec<RawPool>>,
    network: Option<RawNetwork>,
    caveats: Option<Vec<serde_json::Value>>,
    ca_fingerprint: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawNetwork {
    id: Option<String>,
    name: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawPool {
    id: Option<String>,
    pending: Option<u32>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawNode {
    name: Option<String>,
    private_ip: Option<String>,
    public_ip: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawLoadBalancer {
    name: Option<String>,
    public_ip: Option<String>,
    private_ip: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawReservedIp {
    name: Option<String>,
    ip: Option<String>,
    assigned_to: Option<RawAssignment>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawAssignment {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

impl RawTopology {
    /// Validates the snapshot into its resources. Cluster names are not yet
    /// checked for repeats: `Topology::new` does that.
    ///
    /// A snapshot of a newer format version is read with unknown fields
    /// (and unknown caveat kinds) accepted; for this version they stay
    /// errors unless `validation` accepts them.
    pub(crate) fn into_parts(self, validation: Validation) -> Result<Snapshot, TopologyError> {
        let newer = self.format_version.filter(|&v| v > u64::from(FORMAT_VERSION));
        if self.format_version == Some(0) {
            return Err(TopologyError::InvalidValue {
                field: "format_version".into(),
                value: "0".into(),
                expected: "a format version, from 1",
            });
        }
        let read = Read {
            validation: validation.allow_unknown_fields(validation.allows_unknown_fields() || newer.is_some()),
            newer: newer.is_some(),
        };
        let validation = read.validation;
        self.unknown.check(TOPOLOGY_FIELDS, validation)?;
        let clusters = enumerate(self.clusters, "clusters", |raw| raw.into_cluster(read))?;
        let load_balancers = enumerate(self.load_balancers, "load_balancers", |raw| raw.into_lb(validation))?;
        let reserved_ips = enumerate(self.reserved_ips, "reserved_ips", |raw| raw.into_reserved(validation))?;
        let left_out = enumerate(self.left_out, "left_out", |raw| {
            let mut raw = raw;
            if read.newer || read.validation.allows_unknown_fields() {
                retain_known(&mut raw, &["name", "id", "region", "kind", "reason"]);
            }
            if read.newer {
                lenient_kind(&mut raw);
            }
            serde_json::from_value::<LeftOut>(raw).map_err(|e| invalid(&e))
        })?;
        let coverage = self.selection.map(|raw| coverage(raw, read).map_err(|e| e.within("selection"))).transpose()?;
        Ok(Snapshot { clusters, load_balancers, reserved_ips, left_out, newer, coverage })
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

/// How a snapshot is read: its validation, and whether it is of a newer
/// format (unknown fields and caveat kinds then accepted).
#[derive(Clone, Copy)]
struct Read {
    validation: Validation,
    newer: bool,
}

/// A value that serde refused inside an item read as JSON.
fn invalid(e: &serde_json::Error) -> TopologyError {
    TopologyError::InvalidValue { field: String::new(), value: e.to_string(), expected: "a valid entry" }
}

/// Drops the fields a newer format may have added.
fn retain_known(value: &mut serde_json::Value, known: &[&str]) {
    if let serde_json::Value::Object(map) = value {
        map.retain(|k, _| known.contains(&k.as_str()));
    }
}

/// A kind this version does not know, from a newer format: `unrecognized`,
/// its name kept at the start of the message or reason.
fn lenient_kind(value: &mut serde_json::Value) {
    let serde_json::Value::Object(map) = value else { return };
    let Some(serde_json::Value::String(kind)) = map.get("kind") else { return };
    if kind.parse::<WarningKind>().is_ok() {
        return;
    }
    let kind = kind.clone();
    map.insert("kind".into(), WarningKind::Unrecognized.as_str().into());
    for text in ["message", "reason"] {
        if let Some(serde_json::Value::String(s)) = map.get_mut(text) {
            *s = format!("{kind}: {s}");
        }
    }
}

/// A cluster's caveat, strictly for this format, leniently for a newer one.
fn caveat(raw: serde_json::Value, read: Read) -> Result<Warning, TopologyError> {
    let mut raw = raw;
    if read.newer || read.validation.allows_unknown_fields() {
        retain_known(&mut raw, &["kind", "node", "pool", "source", "network", "message"]);
    }
    if read.newer {
        lenient_kind(&mut raw);
    }
    let fields: RawWarning = serde_json::from_value(raw).map_err(|e| match suggest_field(&e) {
        Some(field) => TopologyError::UnknownField {
            suggestion: suggest(&field, &["kind", "node", "pool", "source", "network", "message"]).map(str::to_owned),
            field,
        },
        None => invalid(&e),
    })?;
    if fields.cluster.is_some() {
        return Err(TopologyError::UnknownField { field: "cluster".into(), suggestion: None });
    }
    fields
        .into_warning(|name| name.parse().map(|k| (k, None)).map_err(|e: crate::ParseNameError| e.to_string()))
        .map_err(|why| TopologyError::InvalidValue {
            field: String::new(),
            value: why,
            expected: "a caveat: {\"kind\", \"message\"}",
        })
}

/// The field serde named as unknown, if that is the error.
fn suggest_field(e: &serde_json::Error) -> Option<String> {
    let text = e.to_string();
    let rest = text.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

impl RawCluster {
    fn into_cluster(self, read: Read) -> Result<Cluster, TopologyError> {
        let validation = read.validation;
        self.unknown.check(CLUSTER_FIELDS, validation)?;
        let name = parse::required("name", self.name)?;
        let mut builder = Cluster::builder(name).validation(validation);
        if let Some(id) = self.id {
            builder = builder.id(id);
        }
        if let Some(region) = self.region {
            builder = builder.region(region);
        }
        let egress = self.egress_ip.unwrap_or_default();
        let mut seen: Vec<IpAddr> = Vec::new();
        for (field, text) in egress.fields("egress_ip", false) {
            let ip = parse::ip(&field, text)?;
            if seen.iter().any(|e| e.is_ipv4() == ip.is_ipv4()) {
                return Err(TopologyError::DuplicateEgressFamily { field, value: ip.to_string() });
            }
            seen.push(ip);
            builder = builder.egress_ip(ip);
        }
        if seen.is_empty() {
            return Err(TopologyError::Missing { field: "egress_ip".into() });
        }
        for (name, cidrs) in
            [("network_cidr", &self.network_cidr), ("pod_cidr", &self.pod_cidr), ("service_cidr", &self.service_cidr)]
        {
            let Some(cidrs) = cidrs else { continue };
            for (field, text) in cidrs.fields(name, true) {
                let net = parse::network(&field, text)?;
                builder = match name {
                    "network_cidr" => builder.network_cidr(net),
                    "pod_cidr" => builder.pod_cidr(net),
                    _ => builder.service_cidr(net),
                };
            }
        }
        for node in enumerate(self.nodes, "nodes", |raw| raw.into_node(validation))? {
            builder = builder.node(node);
        }
        for lb in enumerate(self.load_balancers, "load_balancers", |raw| raw.into_lb(validation))? {
            builder = builder.load_balancer(lb);
        }
        for pool in enumerate(self.public_ip_pools, "public_ip_pools", |raw| raw.into_pool(validation))? {
            builder = builder.public_ip_pool(pool);
        }
        if let Some(network) = self.network {
            network.unknown.check(NETWORK_FIELDS, validation).map_err(|e| e.within("network"))?;
            let id = parse::required("id", network.id).map_err(|e| e.within("network"))?;
            builder = builder.network(NetworkId::new(id, network.name).map_err(|e| e.within("network"))?);
        }
        for caveat in enumerate(self.caveats, "caveats", |raw| caveat(raw, read))? {
            builder = builder.caveat(caveat);
        }
        if let Some(text) = self.ca_fingerprint {
            let fingerprint = text.parse::<CaFingerprint>().map_err(|e| TopologyError::InvalidValue {
                field: "ca_fingerprint".into(),
                value: format!("{text:?}: {}", e.why),
                expected: fingerprint::EXPECTED,
            })?;
            builder = builder.ca_fingerprint(fingerprint);
        }
        builder.build()
    }
}

impl RawNode {
    fn into_node(self, validation: Validation) -> Result<Node, TopologyError> {
        self.unknown.check(NODE_FIELDS, validation)?;
        let name = parse::required("name", self.name)?;
        let public = parse::opt_ip("public_ip", self.public_ip.as_deref())?;
        // A node without a private IP is one still BUILDING that has its
        // public IP already; without either it would say nothing.
        let private = match (self.private_ip.filter(|p| !p.trim().is_empty()), public) {
            (None, Some(public)) => return Node::building(name, public),
            (private, _) => parse::required("private_ip", private)?,
        };
        let node = Node::new(name, parse::ip("private_ip", &private)?)?;
        Ok(match public {
            Some(public) => node.with_public_ip(public),
            None => node,
        })
    }
}

impl RawPool {
    fn into_pool(self, validation: Validation) -> Result<PublicIpPool, TopologyError> {
        self.unknown.check(POOL_FIELDS, validation)?;
        let id = parse::required("id", self.id)?;
        PublicIpPool::new(id, self.pending.unwrap_or(0))
    }
}

impl RawLoadBalancer {
    fn into_lb(self, validation: Validation) -> Result<LoadBalancer, TopologyError> {
        self.unknown.check(LB_FIELDS, validation)?;
        let name = parse::required("name", self.name)?;
        let public = parse::required("public_ip", self.public_ip)?;
        let lb = LoadBalancer::new(name, parse::ip("public_ip", &public)?)?;
        Ok(match parse::opt_ip("private_ip", self.private_ip.as_deref())? {
            Some(private) => lb.with_private_ip(private),
            None => lb,
        })
    }
}

impl RawReservedIp {
    fn into_reserved(self, validation: Validation) -> Result<ReservedIp, TopologyError> {
        self.unknown.check(RESERVED_FIELDS, validation)?;
        let name = parse::required("name", self.name)?;
        let ip = parse::required("ip", self.ip)?;
        let reserved = ReservedIp::new(name, parse::ip("ip", &ip)?)?;
        let Some(assigned) = self.assigned_to else { return Ok(reserved) };
        let assignment = assigned.into_assignment(validation).map_err(|e| e.within("assigned_to"))?;
        Ok(match assignment {
            Some(assignment) => reserved.with_assignment(assignment),
            None => reserved,
        })
    }
}

impl RawAssignment {
    /// `None` when both fields are absent or blank (as the Civo API writes
    /// an unassigned IP).
    fn into_assignment(self, validation: Validation) -> Result<Option<Assignment>, TopologyError> {
        self.unknown.check(ASSIGNMENT_FIELDS, validation)?;
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&self.kind) && blank(&self.name) {
            return Ok(None);
        }
        let text = parse::required("type", self.kind)?;
        let kind = text
            .trim()
            .parse::<AssignmentKind>()
            .map_err(|_| TopologyError::InvalidAssignment { field: "type".into(), value: text.clone() })?;
        let name = parse::required("name", self.name)?;
        Assignment::new(kind, name).map(Some)
    }
}

/// Standalone `Cluster`, `Node`, `LoadBalancer` and `ReservedIp` values read
/// through the same checks as in a snapshot, strictly (mapped addresses
/// folded, `""` as none, unknown fields rejected).
impl<'de> Deserialize<'de> for Cluster {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawCluster::deserialize(deserializer)?
            .into_cluster(Read { validation: Validation::strict(), newer: false })
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawNode::deserialize(deserializer)?.into_node(Validation::strict()).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for LoadBalancer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawLoadBalancer::deserialize(deserializer)?.into_lb(Validation::strict()).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ReservedIp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawReservedIp::deserialize(deserializer)?.into_reserved(Validation::strict()).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Assignment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawAssignment::deserialize(deserializer)?
            .into_assignment(Validation::strict())
            .and_then(|a| a.ok_or_else(|| TopologyError::Missing { field: "type".into() }))
            .map_err(de::Error::custom)
    }
}

/// Writes a list as one value when it has one entry, as the format shows
/// it, and as a list otherwise.
struct OneOrList<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for OneOrList<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl Serialize for Cluster {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Cluster", 13)?;
        s.serialize_field("name", self.name())?;
        if let Some(id) = self.id() {
            s.serialize_field("id", id)?;
        }
        if let Some(region) = self.region() {
            s.serialize_field("region", region)?;
        }
        s.serialize_field("egress_ip", &OneOrList(self.cluster_egress_ips()))?;
        if !self.network_cidrs().is_empty() {
            s.serialize_field("network_cidr", &OneOrList::<IpNet>(self.network_cidrs()))?;
        }
        s.serialize_field("pod_cidr", &OneOrList(self.pod_cidrs()))?;
        s.serialize_field("service_cidr", &OneOrList(self.service_cidrs()))?;
        s.serialize_field("nodes", self.nodes())?;
        s.serialize_field("load_balancers", self.load_balancers())?;
        if !self.public_ip_pools().is_empty() {
            s.serialize_field("public_ip_pools", self.public_ip_pools())?;
        }
        if let Some(network) = self.network() {
            s.serialize_field("network", &NetworkRef(network))?;
        }
        if !self.caveats().is_empty() {
            let caveats: Vec<_> = self.caveats().iter().map(Warning::without_cluster).collect();
            s.serialize_field("caveats", &caveats)?;
        }
        if let Some(fingerprint) = self.ca_fingerprint() {
            s.serialize_field("ca_fingerprint", &fingerprint)?;
        }
        s.end()
    }
}

struct NetworkRef<'a>(&'a NetworkId);

impl Serialize for NetworkRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Network", 2)?;
        s.serialize_field("id", self.0.id())?;
        if let Some(name) = self.0.name() {
            s.serialize_field("name", name)?;
        }
        s.end()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Node", 3)?;
        s.serialize_field("name", self.name())?;
        if let Some(private) = self.private_ip() {
            s.serialize_field("private_ip", &private)?;
        }
        if let Some(public) = self.public_ip() {
            s.serialize_field("public_ip", &public)?;
        }
        s.end()
    }
}

impl Serialize for LoadBalancer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("LoadBalancer", 3)?;
        s.serialize_field("name", self.name())?;
        s.serialize_field("public_ip", &self.public_ip())?;
        if let Some(private) = self.private_ip() {
            s.serialize_field("private_ip", &private)?;
        }
        s.end()
    }
}

impl Serialize for ReservedIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ReservedIp", 3)?;
        s.serialize_field("name", self.name())?;
        s.serialize_field("ip", &self.ip())?;
        if let Some(assignment) = self.assigned_to() {
            s.serialize_field("assigned_to", assignment)?;
        }
        s.end()
    }
}

impl Serialize for Assignment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Assignment", 2)?;
        s.serialize_field("type", &self.kind())?;
        s.serialize_field("name", self.name())?;
        s.end()
    }
}

/// A topology's resources as the snapshot JSON writes them: `clusters`
/// always, `selection` when known, the top-level `load_balancers`,
/// `reserved_ips` and `left_out` when not empty.
pub(crate) struct SnapshotRef<'a> {
    pub(crate) coverage: Option<&'a Coverage>,
    pub(crate) clusters: &'a [Cluster],
    pub(crate) load_balancers: &'a [LoadBalancer],
    pub(crate) reserved_ips: &'a [ReservedIp],
    pub(crate) left_out: &'a [LeftOut],
    /// The `format_version` to write.
    pub(crate) version: u64,
}

impl Serialize for SnapshotRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Topology", 6)?;
        s.serialize_field("format_version", &self.version)?;
        if let Some(coverage) = self.coverage {
            s.serialize_field("selection", coverage)?;
        }
        s.serialize_field("clusters", self.clusters)?;
        if !self.load_balancers.is_empty() {
            s.serialize_field("load_balancers", self.load_balancers)?;
        }
        if !self.reserved_ips.is_empty() {
            s.serialize_field("reserved_ips", self.reserved_ips)?;
        }
        if !self.left_out.is_empty() {
            s.serialize_field("left_out", self.left_out)?;
        }
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_fold_case_and_allow_a_few_edits() {
        assert_eq!(suggest("networkCidr", CLUSTER_FIELDS), Some("network_cidr"));
        assert_eq!(suggest("cluster", TOPOLOGY_FIELDS), Some("clusters"));
        assert_eq!(suggest("egress_ips", CLUSTER_FIELDS), Some("egress_ip"));
        assert_eq!(suggest("EgressIP", CLUSTER_FIELDS), Some("egress_ip"));
        assert_eq!(suggest("typ", ASSIGNMENT_FIELDS), Some("type"));
        assert_eq!(suggest("colour", CLUSTER_FIELDS), None);
        assert_eq!(suggest("id", RESERVED_FIELDS), None, "one edit from `ip` is too far for two letters");
    }
}
