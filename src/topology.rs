//! [`Topology`]: the egress topology of a Civo account, and
//! [`classify_ip`].
//!
//! Every inherent method of `Topology` is here. It is assembled from the
//! resources below it (clusters, LoadBalancers, reserved IPs), compiles the
//! index, and reads and writes the snapshot JSON through `snapshot.rs`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cause::Cause;
use crate::classify::Classification;
use crate::cluster::Cluster;
use crate::consistency;
use crate::error::TopologyError;
use crate::index::{AnswerRef, Compiled, Index, Resources};
use crate::left_out::LeftOut;
use crate::node::{LoadBalancer, ReservedIp};
use crate::snapshot::{Coverage, RawTopology, SnapshotRef};
use crate::validation::Validation;
use crate::warning::Warning;

/// The version of the snapshot format this crate writes (`format_version`)
/// and reads in full. A snapshot without the field is of version 1, read as
/// such; one of a newer version is read with the fields this version does
/// not know ignored, and a `newer-format` warning.
///
/// Version 2 added `selection` (what the snapshot covers) and each
/// cluster's `ca_fingerprint`: a reader of version 1 reads them leniently,
/// warned, instead of refusing them as unknown fields.
pub const FORMAT_VERSION: u32 = 2;

/// A Civo account's egress topology: clusters (with their egress IPs,
/// networks, nodes and LoadBalancers), LoadBalancers outside any cluster,
/// and reserved IPs.
///
/// A `Topology` is immutable and validated. It compiles its classification
/// index when it is built, so [`classify_ip`](Self::classify_ip) is a lookup;
/// cloning is cheap (the index is shared). To follow a changing account,
/// build a new `Topology` and swap it in (e.g. behind an `Arc`): readers of
/// the old one are not blocked.
///
/// It (de)serializes as the snapshot JSON documented in the crate root;
/// `serde` and [`from_json`](Self::from_json) read through the same checks.
///
/// ```
/// use civo_egress::{IpClass, Topology, Whitelist};
/// let topology = Topology::from_json(r#"{
///   "clusters": [{"name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
///                 "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]}]
/// }"#)?;
/// assert_eq!(topology.classify_ip("212.2.251.1".parse()?).class(), IpClass::LoadBalancer);
/// assert_eq!(Whitelist::of(&topology)?.to_string(), "212.2.253.151/32\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Empty topologies
///
/// A topology without clusters is valid ([`Topology::empty`], `{}` or
/// `{"clusters": []}`): it still classifies addresses by the IANA tables.
/// But it has no egress IP, so [`Whitelist::of`](crate::Whitelist::of) and
/// [`Audit::builder`](crate::Audit::builder) refuse it with [`TopologyError::NoClusters`]
/// rather than answer "allow nothing" or "ok" for a snapshot that lost its
/// clusters. A caller who means it says so, with the one opt-in of the
/// crate: [`Whitelist::of_allowing_empty`](crate::Whitelist::of_allowing_empty),
/// and `allow_empty(true)` on [`WhitelistBuilder`](crate::WhitelistBuilder::allow_empty)
/// and [`AuditBuilder`](crate::AuditBuilder::allow_empty).
#[derive(Clone)]
pub struct Topology {
    /// The resources and their compiled index, shared by clones.
    inner: Arc<Inner>,
    /// What the snapshot says beside its resources, shared by clones.
    notes: Arc<Notes>,
}

/// What a topology is made of, and the index compiled from it.
#[derive(Debug)]
struct Inner {
    compiled: Compiled,
    /// What the resources say of themselves, found once when built.
    contradictions: Vec<Warning>,
}

/// What a topology knows beside its resources.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
struct Notes {
    left_out: Vec<LeftOut>,
    /// Of a snapshot of a newer format: the version read.
    newer: Option<u64>,
    /// The selection discovery was made with, when recorded.
    coverage: Option<Coverage>,
    /// Computed when built: the self-contradictions, the newer format, the
    /// left-out clusters.
    warnings: Vec<Warning>,
}

impl Topology {
    /// Assembles a topology from clusters built with [`Cluster::builder`],
    /// LoadBalancers outside any cluster, and reserved IPs.
    ///
    /// ```
    /// use civo_egress::{Cluster, LoadBalancer, Topology};
    /// let prod = Cluster::builder("prod").egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?).build()?;
    /// let legacy = LoadBalancer::new("legacy", "212.2.251.9".parse()?)?;
    /// let topology = Topology::new(vec![prod], vec![legacy], vec![])?;
    /// assert_eq!(topology.load_balancers().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TopologyError::DuplicateCluster`] when two clusters share a name.
    pub fn new(
        clusters: Vec<Cluster>,
        load_balancers: Vec<LoadBalancer>,
        reserved_ips: Vec<ReservedIp>,
    ) -> Result<Self, TopologyError> {
        // Two are one when both have ids and they are equal, or when one
        // lacks an id and their names and regions are equal: counted in one
        // pass, so that a snapshot of 250k clusters costs no quadratic time.
        let mut ids = std::collections::HashSet::new();
        let mut names: std::collections::HashMap<(&str, Option<String>), (usize, usize)> =
            std::collections::HashMap::new();
        for c in &clusters {
            if let Some(id) = c.id()
                && !ids.insert(id)
            {
                return Err(TopologyError::DuplicateCluster { name: c.label() });
            }
            let (with_id, without) = names.entry((c.name(), c.region().map(str::to_ascii_uppercase))).or_insert((0, 0));
            if c.id().is_some() {
                *with_id += 1
            } else {
                *without += 1
            };
            if *without > 0 && *with_id + *without > 1 {
                return Err(TopologyError::DuplicateCluster { name: c.label() });
            }
        }
        Ok(Self::assemble(clusters, load_balancers, reserved_ips))
    }

    /// Builds the index; the caller has made clusters unique.
    pub(crate) fn assemble(
        clusters: Vec<Cluster>,
        load_balancers: Vec<LoadBalancer>,
        reserved_ips: Vec<ReservedIp>,
    ) -> Self {
        let resources = Resources::new(clusters, load_balancers, reserved_ips);
        let contradictions =
            consistency::check(&resources.clusters, &resources.load_balancers, &resources.reserved_ips);
        let compiled = Compiled::new(resources);
        let notes = Notes { warnings: contradictions.clone(), ..Notes::default() };
        Self { inner: Arc::new(Inner { compiled, contradictions }), notes: Arc::new(notes) }
    }

    /// The same topology, recording the clusters discovery had to leave
    /// out (see [`LeftOut`]): each adds a `left-out` warning to
    /// [`warnings`](Self::warnings), and the snapshot keeps them.
    ///
    /// ```
    /// use civo_egress::{Cluster, LeftOut, Topology, WarningKind};
    /// let prod = Cluster::builder("prod").egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?).build()?;
    /// let gone = LeftOut::new("old", WarningKind::ClusterGone, "deleted while discovery ran")?;
    /// let topology = Topology::new(vec![prod], vec![], vec![])?.with_left_out(vec![gone]);
    /// assert_eq!(topology.left_out().len(), 1);
    /// assert_eq!(Topology::from_json(&topology.to_json())?, topology);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_left_out(self, left_out: Vec<LeftOut>) -> Self {
        let (newer, coverage) = (self.notes.newer, self.notes.coverage.clone());
        self.with_notes(left_out, newer, coverage)
    }

    /// The same topology, recording what it covers: the regions discovery
    /// read and the clusters it was asked for (see [`Coverage`]). The
    /// snapshot keeps it as `selection`, and [`diff`](crate::diff) does not
    /// call removed a cluster outside it.
    ///
    /// ```
    /// use civo_egress::{Cluster, Coverage, Topology};
    /// let prod = Cluster::builder("prod").region("LON1").egress_ip("212.2.253.151".parse::<std::net::IpAddr>()?).build()?;
    /// let coverage = Coverage::new(["LON1"])?.with_clusters(["prod"])?;
    /// let topology = Topology::new(vec![prod], vec![], vec![])?.with_coverage(coverage.clone());
    /// assert_eq!(topology.coverage(), Some(&coverage));
    /// assert!(topology.to_json().contains(r#""selection""#));
    /// assert_eq!(Topology::from_json(&topology.to_json())?, topology);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_coverage(self, coverage: Coverage) -> Self {
        let (left_out, newer) = (self.notes.left_out.clone(), self.notes.newer);
        self.with_notes(left_out, newer, Some(coverage))
    }

    /// What the snapshot covers, when it recorded it (discovery does): the
    /// regions read and the clusters asked for. `None` for a snapshot
    /// written without it, which covers what it holds as far as anyone can
    /// tell.
    #[must_use]
    pub fn coverage(&self) -> Option<&Coverage> {
        self.notes.coverage.as_ref()
    }

    fn with_notes(self, left_out: Vec<LeftOut>, newer: Option<u64>, coverage: Option<Coverage>) -> Self {
        let mut warnings = self.inner.contradictions.clone();
        if let Some(version) = newer {
            warnings.insert(0, Warning::new(crate::WarningKind::NewerFormat, format!(
                "the snapshot is of format version {version}, newer than this tool's {FORMAT_VERSION}: the fields it does not know were ignored, so it may miss what they say; upgrade civo-egress"
            )));
        }
        warnings.extend(left_out.iter().map(LeftOut::warning));
        Self { inner: self.inner, notes: Arc::new(Notes { left_out, newer, coverage, warnings }) }
    }

    /// The clusters discovery saw but had to leave out, with why.
    #[must_use]
    pub fn left_out(&self) -> &[LeftOut] {
        &self.notes.left_out
    }

    /// What the topology says of itself, for every command that reads it
    /// to show: self-contradictions (a network that overlaps its pod or
    /// service CIDR, a node outside its network, a LoadBalancer or
    /// reserved IP equal to an egress IP, a reserved IP on a node, a node
    /// whose private IP is public, repeated node names), a snapshot of a
    /// newer format, and the clusters left out. Loading never fails on
    /// them. The clusters' own [caveats](Cluster::caveats) are apart.
    ///
    /// ```
    /// use civo_egress::{Topology, WarningKind};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
    ///   "network_cidr": "192.168.1.0/24", "nodes": [{"name": "w-1", "private_ip": "192.168.7.4"}]}]}"#)?;
    /// assert_eq!(topology.warnings()[0].kind(), WarningKind::NodeOutsideNetwork);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.notes.warnings
    }

    /// The one cluster `query` names: its id, `REGION/NAME` (region in any
    /// case), or its name when no other cluster carries it. The one way to
    /// choose a cluster, for every command.
    ///
    /// ```
    /// use civo_egress::{Topology, TopologyError};
    /// let topology = Topology::from_json(r#"{"clusters": [
    ///   {"name": "prod", "id": "5e0c", "region": "LON1", "egress_ip": "74.220.24.10"},
    ///   {"name": "prod", "id": "9b1d", "region": "FRA1", "egress_ip": "74.220.26.44"}]}"#)?;
    /// assert_eq!(topology.select("fra1/prod")?.id(), Some("9b1d"));
    /// assert_eq!(topology.select("5e0c")?.region(), Some("LON1"));
    /// assert!(matches!(
    ///     topology.select("prod"),
    ///     Err(TopologyError::AmbiguousCluster { candidates, .. }) if candidates == ["LON1/prod (5e0c)", "FRA1/prod (9b1d)"]
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TopologyError::UnknownCluster`] when no cluster answers to it,
    /// [`TopologyError::ClusterLeftOut`] when only a cluster the snapshot
    /// left out does, [`TopologyError::AmbiguousCluster`] when several do.
    pub fn select(&self, query: &str) -> Result<&Cluster, TopologyError> {
        let trimmed = query.trim();
        let found: Vec<&Cluster> = self.clusters().iter().filter(|c| c.answers_to(query)).collect();
        // An id, or REGION/NAME, that names one cluster exactly wins.
        let exact = |c: &&&Cluster| {
            c.id() == Some(trimmed) || (trimmed.contains('/') && c.label().eq_ignore_ascii_case(trimmed))
        };
        if let [one] = found.iter().filter(exact).collect::<Vec<_>>().as_slice() {
            return Ok(one);
        }
        // A cluster left out by that name is a candidate too: never pick
        // the present one silently when the name may mean the other.
        let left: Vec<&LeftOut> = self.left_out().iter().filter(|l| l.answers_to(query)).collect();
        match (found.as_slice(), left.as_slice()) {
            ([one], []) => Ok(one),
            ([], []) => Err(TopologyError::UnknownCluster { name: query.to_owned() }),
            ([], [first, ..]) => Err(TopologyError::ClusterLeftOut { name: first.label(), reason: first.to_string() }),
            (many, left) => Err(TopologyError::AmbiguousCluster {
                name: query.to_owned(),
                candidates: many
                    .iter()
                    .map(|c| candidate(c))
                    .chain(left.iter().map(|l| format!("{} (left out)", l.label())))
                    .collect(),
            }),
        }
    }

    /// A topology with nothing in it (also [`Topology::default`]): every
    /// address classifies by the IANA tables alone.
    ///
    /// ```
    /// use civo_egress::{IpClass, Topology};
    /// let empty = Topology::empty();
    /// assert!(empty.is_empty());
    /// assert_eq!(empty.classify_ip("10.42.0.7".parse()?).class(), IpClass::Private);
    /// assert_eq!(empty, Topology::from_json("{}")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn empty() -> Self {
        Self::assemble(Vec::new(), Vec::new(), Vec::new())
    }

    /// Reads a snapshot (the binding JSON format), strictly validated:
    /// the same checks as `serde_json::from_str::<Topology>`.
    ///
    /// # Errors
    ///
    /// [`TopologyError::Json`] for malformed JSON or a value of the wrong
    /// type (a snapshot is a JSON object: `[]` and `null` are refused);
    /// [`TopologyError::UnknownField`] for a field the format does not know;
    /// any other variant for a value that fails validation, naming its
    /// field path.
    pub fn from_json(json: &str) -> Result<Self, TopologyError> {
        Self::from_json_with(json, Validation::strict())
    }

    /// Reads a snapshot with the given [`Validation`].
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json), less what `validation` accepts.
    pub fn from_json_with(json: &str, validation: Validation) -> Result<Self, TopologyError> {
        let raw: RawTopology = serde_json::from_str(json).map_err(|e| TopologyError::Json {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
            source: Cause::new(e),
        })?;
        Self::from_raw(raw, validation)
    }

    fn from_raw(raw: RawTopology, validation: Validation) -> Result<Self, TopologyError> {
        let parts = raw.into_parts(validation)?;
        Ok(Self::new(parts.clusters, parts.load_balancers, parts.reserved_ips)?.with_notes(
            parts.left_out,
            parts.newer,
            parts.coverage,
        ))
    }

    /// Writes the snapshot JSON, pretty-printed; [`from_json`](Self::from_json)
    /// reads it back to an equal topology (one built with
    /// [`Validation::allow_non_global`] reads back with the same validation).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a snapshot is strings, addresses and lists: it always serializes") // ok: no map keys, no failing Serialize
    }

    /// The clusters, in the order given.
    #[must_use]
    pub fn clusters(&self) -> &[Cluster] {
        &self.inner.compiled.resources.clusters
    }

    /// The cluster `query` names, if exactly one: see
    /// [`select`](Self::select), which says why not.
    #[must_use]
    pub fn cluster(&self, query: &str) -> Option<&Cluster> {
        self.select(query).ok()
    }

    /// LoadBalancers linked to no cluster.
    #[must_use]
    pub fn load_balancers(&self) -> &[LoadBalancer] {
        &self.inner.compiled.resources.load_balancers
    }

    /// The account's reserved IPs.
    #[must_use]
    pub fn reserved_ips(&self) -> &[ReservedIp] {
        &self.inner.compiled.resources.reserved_ips
    }

    /// Whether the topology holds nothing: no cluster, no LoadBalancer, no
    /// reserved IP. (`clusters().is_empty()` is what
    /// [`Whitelist::of`](crate::Whitelist::of) and [`Audit::builder`](crate::Audit::builder) refuse.)
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.clusters().is_empty() && self.load_balancers().is_empty() && self.reserved_ips().is_empty()
    }

    /// What `ip` is, whether to whitelist it, and why. See [`classify_ip`].
    #[inline]
    pub fn classify_ip(&self, ip: IpAddr) -> Classification<'_> {
        let compiled = &self.inner.compiled;
        Classification::new(ip, compiled.lookup(ip), compiled)
    }

    pub(crate) fn index(&self) -> &Index {
        &self.inner.compiled.index
    }

    /// The answer of `id`, an id this topology's index made.
    pub(crate) fn answer(&self, id: u32) -> AnswerRef<'_> {
        self.inner.compiled.answer(id)
    }
}

/// `REGION/NAME (ID)`: how an ambiguous name's candidates are listed.
fn candidate(c: &Cluster) -> String {
    match c.id() {
        Some(id) => format!("{} ({id})", c.label()),
        None => c.label(),
    }
}

/// Classifies `ip` against `topology`: the same as
/// [`Topology::classify_ip`].
///
/// Infallible and allocation-free: three dependent loads in a fixed-depth
/// table for IPv4 (a short search and a hash probe near known hosts for
/// IPv6), in an index the topology built once. The answer's reason is
/// written only when read.
///
/// ```
/// use civo_egress::{classify_ip, IpClass, Topology};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let pod = classify_ip(&topology, "10.42.0.7".parse()?);
/// assert_eq!(pod.class(), IpClass::Pod);
/// assert!(!pod.is_whitelistable());
/// assert!(classify_ip(&topology, "212.2.253.151".parse()?).is_whitelistable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[inline]
pub fn classify_ip(topology: &Topology, ip: IpAddr) -> Classification<'_> {
    topology.classify_ip(ip)
}

impl Default for Topology {
    /// [`Topology::empty`].
    fn default() -> Self {
        Self::empty()
    }
}

impl PartialEq for Topology {
    fn eq(&self, other: &Self) -> bool {
        (Arc::ptr_eq(&self.inner, &other.inner) || self.inner.compiled.resources == other.inner.compiled.resources)
            && self.notes == other.notes
    }
}

impl Eq for Topology {}

impl std::hash::Hash for Topology {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.compiled.resources.hash(state);
        self.notes.left_out.hash(state);
        self.notes.coverage.hash(state);
    }
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("clusters", &self.clusters())
            .field("load_balancers", &self.load_balancers().len())
            .field("reserved_ips", &self.reserved_ips().len())
            .finish()
    }
}

/// The snapshot JSON, as [`Topology::to_json`] writes it.
impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl FromStr for Topology {
    type Err = TopologyError;

    /// Same as [`Topology::from_json`].
    fn from_str(json: &str) -> Result<Self, Self::Err> {
        Self::from_json(json)
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            coverage: self.coverage(),
            clusters: self.clusters(),
            load_balancers: self.load_balancers(),
            reserved_ips: self.reserved_ips(),
            left_out: self.left_out(),
            // A snapshot of a newer format, written again, keeps saying it
            // is one: its reader is told that fields were dropped.
            version: self.notes.newer.map_or(u64::from(FORMAT_VERSION), |v| v),
        }
        .serialize(serializer)
    }
}

/// Strict, exactly as [`Topology::from_json`].
impl<'de> Deserialize<'de> for Topology {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_raw(RawTopology::deserialize(deserializer)?, Validation::strict()).map_err(serde::de::Error::custom)
    }
}
