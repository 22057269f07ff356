//! [`ProbeReport`]: where each node's pods leave from, against what the
//! topology expects.

use std::net::IpAddr;
use std::time::Duration;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::error::ProbeError;
use crate::names::serialized_names;
use crate::resolve::SourceError;
use crate::{Subject, Warning, WarningKind};

/// The verdict of a probe, overall or for one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProbeStatus {
    /// Every probed node left from an IP its expected set holds.
    Confirmed,
    /// A node left from an IP outside its expected set: the whitelist lacks
    /// it, and breaks the pods there.
    Mismatch,
    /// No node (or, for a node, no echo service) could be probed.
    Unknown,
}

serialized_names!(ProbeStatus, "probe status", {
    Confirmed => "confirmed",
    Mismatch => "mismatch",
    Unknown => "unknown",
});

impl ProbeStatus {
    /// Whether the whitelist holds: `confirmed`.
    #[must_use]
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Confirmed)
    }
}

/// What one echo URL answered a node's pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoObservation {
    url: String,
    outcome: Result<IpAddr, SourceError>,
}

impl EchoObservation {
    pub(crate) const fn new(url: String, outcome: Result<IpAddr, SourceError>) -> Self {
        Self { url, outcome }
    }

    /// The echo URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it saw the pod's connection come from.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        self.outcome.as_ref().ok().copied()
    }

    /// What was wrong with its answer (the HTTP echo source's errors).
    #[must_use]
    pub fn error(&self) -> Option<&SourceError> {
        self.outcome.as_ref().err()
    }
}

/// One node's row: its pod's observations against its expected egress.
///
/// Serializes as `{"node", "private_ip", "expected": [...], "observed":
/// "..."|null, "status", "error": "..."|null}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProbe {
    node: String,
    private_ip: Option<IpAddr>,
    in_topology: bool,
    expected: Vec<IpAddr>,
    pod: Option<String>,
    observations: Vec<EchoObservation>,
    observed: Option<IpAddr>,
    status: ProbeStatus,
    error: Option<ProbeError>,
    elapsed: Duration,
}

/// What a node's row is made from.
#[derive(Debug)]
pub(crate) struct NodeFacts {
    pub(crate) node: String,
    pub(crate) private_ip: Option<IpAddr>,
    pub(crate) in_topology: bool,
    pub(crate) expected: Vec<IpAddr>,
    pub(crate) pod: Option<String>,
    pub(crate) elapsed: Duration,
}

impl NodeProbe {
    /// A row: the status and the `observed` address follow from the
    /// observations. `observed` is the first address outside the expected
    /// set (in URL order) when there is one, else the address most URLs
    /// answered (the first of a tie).
    pub(crate) fn new(facts: NodeFacts, observations: Vec<EchoObservation>, error: Option<ProbeError>) -> Self {
        let ips: Vec<IpAddr> = observations.iter().filter_map(EchoObservation::ip).collect();
        let outside = ips.iter().copied().find(|ip| !facts.expected.contains(ip));
        let most = ips.iter().copied().max_by_key(|ip| {
            let count = ips.iter().filter(|other| *other == ip).count();
            // The first of a tie: the earlier, the larger the key.
            (count, usize::MAX - ips.iter().position(|other| other == ip).unwrap_or(0))
        });
        let observed = outside.or(most);
        let status = match (observed, outside) {
            (None, _) => ProbeStatus::Unknown,
            (Some(_), Some(_)) => ProbeStatus::Mismatch,
            (Some(_), None) => ProbeStatus::Confirmed,
        };
        let error = match (error, observed) {
            (Some(error), _) => Some(error),
            (None, Some(_)) => None,
            (None, None) => observations
                .iter()
                .find_map(|o| o.error().map(|e| ProbeError::NoEcho { url: o.url().to_owned(), source: e.clone() })),
        };
        // A pod-level error with observations (a pod that failed after
        // printing answers) stays in the row, the status is the answers'.
        Self {
            node: facts.node,
            private_ip: facts.private_ip,
            in_topology: facts.in_topology,
            expected: facts.expected,
            pod: facts.pod,
            observations,
            observed,
            status,
            error,
            elapsed: facts.elapsed,
        }
    }

    /// The node's name.
    #[must_use]
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Its InternalIP (the snapshot node's `private_ip`), or the topology's
    /// when the Kubernetes node has none; `None` for a node that does not
    /// exist.
    #[must_use]
    pub const fn private_ip(&self) -> Option<IpAddr> {
        self.private_ip
    }

    /// Whether the topology knows the node (by its InternalIP or its name).
    #[must_use]
    pub const fn in_topology(&self) -> bool {
        self.in_topology
    }

    /// The addresses its pods may leave from: the cluster's egress IP(s),
    /// or its own public IP for a node of a public-IP pool.
    #[must_use]
    pub fn expected(&self) -> &[IpAddr] {
        &self.expected
    }

    /// The probe pod's name, once one was created.
    #[must_use]
    pub fn pod(&self) -> Option<&str> {
        self.pod.as_deref()
    }

    /// What each echo URL answered, in URL order (empty when no pod ran).
    #[must_use]
    pub fn observations(&self) -> &[EchoObservation] {
        &self.observations
    }

    /// The address the node's pod left from: the first outside the
    /// expected set when there is one, else the one most echo URLs saw.
    #[must_use]
    pub const fn observed(&self) -> Option<IpAddr> {
        self.observed
    }

    /// The node's verdict.
    #[must_use]
    pub const fn status(&self) -> ProbeStatus {
        self.status
    }

    /// Why the node could not be probed, if it could not.
    #[must_use]
    pub const fn error(&self) -> Option<&ProbeError> {
        self.error.as_ref()
    }

    /// From the pod's creation to its log.
    #[must_use]
    pub const fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl Serialize for NodeProbe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("NodeProbe", 6)?;
        s.serialize_field("node", &self.node)?;
        s.serialize_field("private_ip", &self.private_ip)?;
        s.serialize_field("expected", &self.expected)?;
        s.serialize_field("observed", &self.observed)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("error", &self.error.as_ref().map(ToString::to_string))?;
        s.end()
    }
}

fn list(ips: &[IpAddr]) -> String {
    ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What [`Probe::run`](super::Probe::run) found: a row per node, the
/// overall status, and the addresses the nodes left from.
///
/// Serializes as `{"cluster", "status", "egress_ips", "nodes": [...],
/// "warnings": [...]}`, each warning a [`Warning`] object: `{"kind",
/// "cluster", "node"?, "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    cluster: String,
    status: ProbeStatus,
    egress_ips: Vec<IpAddr>,
    nodes: Vec<NodeProbe>,
    pub(crate) warnings: Vec<Warning>,
    elapsed: Duration,
    after_last_log: Option<Duration>,
}

impl ProbeReport {
    /// The verdict over `nodes`, with the warnings they call for, plus
    /// `missing` (topology nodes Kubernetes does not list).
    pub(crate) fn conclude(cluster: &str, nodes: Vec<NodeProbe>, missing: &[String]) -> Self {
        let warn = |kind, node: &str, message: String| {
            let warning = Warning::new(kind, message).about(Subject::Node(node.to_owned()));
            if cluster.is_empty() { warning } else { warning.with_cluster(cluster) }
        };
        let mut warnings = Vec::new();
        for row in &nodes {
            if !row.in_topology && row.private_ip.is_some() {
                warnings.push(warn(
                    WarningKind::NotInTopology,
                    &row.node,
                    format!(
                        "node {} is not in the topology (by InternalIP or name): expected to leave from {} (refresh the topology: a new node of a public-IP pool leaves from its own IP)",
                        row.node,
                        list(&row.expected)
                    ),
                ));
            }
            let ips: Vec<IpAddr> = row.observations.iter().filter_map(EchoObservation::ip).collect();
            if ips.iter().any(|ip| Some(*ip) != ips.first().copied()) {
                warnings.push(warn(
                    WarningKind::Disagreement,
                    &row.node,
                    format!(
                        "the echo services disagree on node {}: {}, expected {} (a proxy, or a lying echo service)",
                        row.node,
                        row.observations
                            .iter()
                            .filter_map(|o| o.ip().map(|ip| format!("{} saw {ip}", o.url())))
                            .collect::<Vec<_>>()
                            .join(", "),
                        list(&row.expected)
                    ),
                ));
            }
            match (row.status, row.observed) {
                (ProbeStatus::Mismatch, Some(observed)) => warnings.push(warn(
                    WarningKind::Mismatch,
                    &row.node,
                    format!(
                        "node {} left from {observed}, not from {}: a whitelist of the expected egress breaks pods on {} (the gateway node may have been replaced, or the node has its own public IP)",
                        row.node,
                        list(&row.expected),
                        row.node
                    ),
                )),
                (ProbeStatus::Unknown, _) => warnings.push(warn(
                    WarningKind::NotProbed,
                    &row.node,
                    format!(
                        "node {} was not probed: {}",
                        row.node,
                        row.error.as_ref().map_or_else(|| "no answer".to_owned(), ToString::to_string)
                    ),
                )),
                _ => {}
            }
        }
        for node in missing {
            warnings.push(warn(
                WarningKind::NotInCluster,
                node,
                format!("node {node} of the topology is not in the cluster's node list (removed or renamed?)"),
            ));
        }
        let status = if nodes.iter().any(|n| n.status == ProbeStatus::Mismatch) {
            ProbeStatus::Mismatch
        } else if nodes.iter().any(|n| n.status == ProbeStatus::Confirmed) {
            ProbeStatus::Confirmed
        } else {
            ProbeStatus::Unknown
        };
        let mut egress_ips: Vec<IpAddr> =
            nodes.iter().flat_map(|n| n.observations.iter().filter_map(EchoObservation::ip)).collect();
        egress_ips.sort_unstable();
        egress_ips.dedup();
        Self {
            cluster: cluster.to_owned(),
            status,
            egress_ips,
            nodes,
            warnings,
            elapsed: Duration::ZERO,
            after_last_log: None,
        }
    }

    pub(crate) const fn with_times(mut self, elapsed: Duration, after_last_log: Option<Duration>) -> Self {
        self.elapsed = elapsed;
        self.after_last_log = after_last_log;
        self
    }

    /// The cluster's name.
    #[must_use]
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// `confirmed` when every probed node left from an IP its expected set
    /// holds, `mismatch` when one left from another, `unknown` when no node
    /// could be probed.
    #[must_use]
    pub const fn status(&self) -> ProbeStatus {
        self.status
    }

    /// The addresses the probed nodes left from (every echo URL's answer),
    /// deduplicated and sorted.
    #[must_use]
    pub fn egress_ips(&self) -> &[IpAddr] {
        &self.egress_ips
    }

    /// A row per node, in the order asked (by name when all were probed).
    #[must_use]
    pub fn nodes(&self) -> &[NodeProbe] {
        &self.nodes
    }

    /// The row of `node`.
    #[must_use]
    pub fn node(&self, node: &str) -> Option<&NodeProbe> {
        self.nodes.iter().find(|n| n.node == node)
    }

    /// What the probe noticed, each a [`Warning`] about the cluster and
    /// its node ([`Subject::Node`]): mismatches
    /// ([`WarningKind::Mismatch`], its sentence naming both addresses, which
    /// the node's row also holds: [`NodeProbe::observed`],
    /// [`NodeProbe::expected`]), nodes not probed
    /// ([`WarningKind::NotProbed`]), nodes the topology or the cluster lacks
    /// ([`WarningKind::NotInTopology`], [`WarningKind::NotInCluster`]),
    /// disagreeing echo services ([`WarningKind::Disagreement`]).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The probe's wall time, from the start of [`Probe::run`](super::Probe::run)
    /// to its return (pods deleted).
    #[must_use]
    pub const fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// From the last pod's log to the return (the deletions and the
    /// sweep); `None` when no log was read.
    #[must_use]
    pub const fn after_last_log(&self) -> Option<Duration> {
        self.after_last_log
    }
}

impl Serialize for ProbeReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ProbeReport", 5)?;
        s.serialize_field("cluster", &self.cluster)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("egress_ips", &self.egress_ips)?;
        s.serialize_field("nodes", &self.nodes)?;
        s.serialize_field("warnings", &self.warnings)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn row(node: &str, expected: &str, answers: &[Result<&str, SourceError>]) -> NodeProbe {
        let observations = answers
            .iter()
            .enumerate()
            .map(|(i, a)| EchoObservation::new(format!("https://echo{i}.example/"), a.clone().map(ip)))
            .collect();
        let facts = NodeFacts {
            node: node.into(),
            private_ip: Some(ip("192.168.1.4")),
            in_topology: true,
            expected: vec![ip(expected)],
            pod: Some(format!("civo-egress-probe-{node}-x")),
            elapsed: Duration::ZERO,
        };
        NodeProbe::new(facts, observations, None)
    }

    #[test]
    fn rows_and_verdicts() {
        let ok = row("w-1", "212.2.253.151", &[Ok("212.2.253.151"), Err(SourceError::Timeout(Duration::from_secs(5)))]);
        assert_eq!(ok.status(), ProbeStatus::Confirmed);
        assert_eq!(ok.observed(), Some(ip("212.2.253.151")));
        assert!(ok.error().is_none());
        let bad = row("w-2", "212.2.253.151", &[Ok("212.2.253.151"), Ok("212.2.253.160")]);
        assert_eq!(bad.status(), ProbeStatus::Mismatch);
        assert_eq!(bad.observed(), Some(ip("212.2.253.160")), "the offending address");
        let none = row("w-3", "212.2.253.151", &[Err(SourceError::BadAnswer("x".into()))]);
        assert_eq!(none.status(), ProbeStatus::Unknown);
        assert!(matches!(none.error(), Some(ProbeError::NoEcho { .. })));

        let report = ProbeReport::conclude("prod", vec![ok.clone(), bad, none.clone()], &["w-9".into()]);
        assert_eq!(report.status(), ProbeStatus::Mismatch);
        assert_eq!(report.egress_ips(), [ip("212.2.253.151"), ip("212.2.253.160")]);
        let mismatch = report.warnings().iter().find(|w| w.kind() == WarningKind::Mismatch);
        assert_eq!(mismatch.and_then(Warning::subject), Some(&Subject::Node("w-2".into())));
        assert_eq!(mismatch.and_then(Warning::cluster), Some("prod"));
        let message = mismatch.map(Warning::message).unwrap_or_default();
        assert!(message.contains("212.2.253.160") && message.contains("212.2.253.151"), "{message}");
        let w2 = report.node("w-2");
        assert_eq!(w2.and_then(NodeProbe::observed), Some(ip("212.2.253.160")));
        assert_eq!(w2.map(NodeProbe::expected), Some(&[ip("212.2.253.151")][..]));
        let kinds: Vec<_> = report.warnings().iter().map(Warning::kind).collect();
        assert!(kinds.contains(&WarningKind::Disagreement));
        assert!(kinds.contains(&WarningKind::NotProbed));
        assert!(kinds.contains(&WarningKind::NotInCluster));
        let missing = report.warnings().iter().find(|w| w.kind() == WarningKind::NotInCluster);
        assert_eq!(missing.and_then(Warning::subject), Some(&Subject::Node("w-9".into())));

        assert_eq!(ProbeReport::conclude("prod", vec![ok, none.clone()], &[]).status(), ProbeStatus::Confirmed);
        assert_eq!(ProbeReport::conclude("prod", vec![none], &[]).status(), ProbeStatus::Unknown);
        assert_eq!(ProbeReport::conclude("prod", vec![], &[]).status(), ProbeStatus::Unknown);
    }

    #[test]
    fn json_shape_is_the_binding_one() {
        let ok = row("w-1", "212.2.253.151", &[Ok("212.2.253.151")]);
        let none = NodeProbe::new(
            NodeFacts {
                node: "w-9".into(),
                private_ip: None,
                in_topology: false,
                expected: vec![ip("212.2.253.151")],
                pod: None,
                elapsed: Duration::ZERO,
            },
            Vec::new(),
            Some(ProbeError::NoSuchNode { node: "w-9".into() }),
        );
        let report = ProbeReport::conclude("prod", vec![ok, none], &[]);
        let json = serde_json::to_value(&report).unwrap_or_default();
        let keys: Vec<&str> = json.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(keys, ["cluster", "egress_ips", "nodes", "status", "warnings"]);
        assert_eq!(json["status"], "confirmed");
        assert_eq!(json["egress_ips"], serde_json::json!(["212.2.253.151"]));
        assert_eq!(
            json["nodes"][0],
            serde_json::json!({"node": "w-1", "private_ip": "192.168.1.4", "expected": ["212.2.253.151"],
                "observed": "212.2.253.151", "status": "confirmed", "error": null})
        );
        assert_eq!(json["nodes"][1]["observed"], serde_json::Value::Null);
        assert_eq!(json["nodes"][1]["private_ip"], serde_json::Value::Null);
        assert_eq!(json["nodes"][1]["status"], "unknown");
        assert_eq!(json["nodes"][1]["error"], "no node \"w-9\" in the cluster");
        assert_eq!(json["warnings"][0]["kind"], "not-probed");
        assert_eq!(json["warnings"][0]["cluster"], "prod");
        assert_eq!(json["warnings"][0]["node"], "w-9");
        assert!(json["warnings"][0]["message"].as_str().is_some_and(|w| w.contains("w-9")));
        for status in ProbeStatus::ALL {
            assert_eq!(status.as_str().parse::<ProbeStatus>().ok(), Some(*status));
        }
        // The probe's warning kinds keep the names they had.
        for (kind, name) in [
            (WarningKind::Mismatch, "mismatch"),
            (WarningKind::NotProbed, "not-probed"),
            (WarningKind::NotInTopology, "not-in-topology"),
            (WarningKind::NotInCluster, "not-in-cluster"),
            (WarningKind::Disagreement, "disagreement"),
        ] {
            assert_eq!(kind.as_str(), name);
        }
    }
}
