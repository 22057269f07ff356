//! [`ProbeReport`]: where each node's pods leave from, against what the
//! topology expects.

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::error::ProbeError;
use crate::resolve::SourceError;
use crate::verdict::{self, Answers, NodeEvidence, ProbeEvidence, Verdict};
use crate::{EgressStatus, FamilyVerdict, Subject, Warning, WarningKind};

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
    status: EgressStatus,
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
        let status = verdict::node_status(&facts.expected, &ips);
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

    /// What the verdict weighs of this row.
    fn evidence(&self) -> NodeEvidence {
        let answers = self
            .observations
            .iter()
            .map(|o| {
                let mut said = Answers { source: o.url.clone(), ..Answers::default() };
                match &o.outcome {
                    Ok(ip) => said.ips.push(*ip),
                    Err(SourceError::NonGlobal { ip, why }) => said.rejected.push((*ip, why.clone())),
                    Err(error) => said.failure = Some(error.to_string()),
                }
                said
            })
            .collect();
        NodeEvidence {
            node: self.node.clone(),
            expected: self.expected.clone(),
            answers,
            failure: self.error.as_ref().map(ToString::to_string),
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

    /// The node's verdict: `confirmed` when every address its pod left
    /// from is expected of it, `mismatch` when one is not, `unknown` when it
    /// could not be probed.
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
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

/// What [`Probe::run`](super::Probe::run) found: a row per node, and the
/// crate's one verdict over them ([`families`](Self::families)).
///
/// Serializes as `{"cluster", "status", "egress_ips", "stale_ips",
/// "unverified_ips", "families": [...], "nodes": [...], "warnings": [...]}`,
/// each family a [`FamilyVerdict`], each warning a [`Warning`] object:
/// `{"kind", "cluster", "node"?, "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    cluster: String,
    verdict: Verdict,
    nodes: Vec<NodeProbe>,
    elapsed: Duration,
    after_last_log: Option<Duration>,
}

impl ProbeReport {
    /// The verdict over `nodes`, with the warnings they call for, plus
    /// `missing` (topology nodes Kubernetes does not list). `complete`:
    /// every node of the cluster was asked (only then is an IP proven
    /// stale).
    pub(crate) fn conclude(cluster: &str, nodes: Vec<NodeProbe>, missing: &[String], complete: bool) -> Self {
        let evidence = ProbeEvidence {
            cluster,
            nodes: nodes.iter().map(NodeProbe::evidence).collect(),
            complete: complete && missing.is_empty(),
        };
        let mut verdict = verdict::probe(&evidence);
        let warn = |kind, node: &str, message: String| {
            let warning = Warning::new(kind, message).about(Subject::Node(node.to_owned()));
            if cluster.is_empty() { warning } else { warning.with_cluster(cluster) }
        };
        let mut facts = Vec::new();
        for row in nodes.iter().filter(|row| !row.in_topology && row.private_ip.is_some()) {
            facts.push(warn(
                WarningKind::NotInTopology,
                &row.node,
                format!(
                    "node {} is not in the topology (by InternalIP or name): expected to leave from {} (refresh the topology: a new node of a public-IP pool leaves from its own IP)",
                    row.node,
                    list(&row.expected)
                ),
            ));
        }
        for node in missing {
            facts.push(warn(
                WarningKind::NotInCluster,
                node,
                format!("node {node} of the topology is not in the cluster's node list (removed or renamed?)"),
            ));
        }
        verdict.warnings.splice(0..0, facts);
        Self { cluster: cluster.to_owned(), verdict, nodes, elapsed: Duration::ZERO, after_last_log: None }
    }

    /// Puts `warnings` (the snapshot's caveats of the cluster) first.
    pub(crate) fn prepend_warnings(&mut self, warnings: &[Warning]) {
        self.verdict.warnings.splice(0..0, warnings.iter().cloned());
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

    /// The least certain of the families' statuses: `confirmed` when
    /// every node was probed and left from an IP its expected set holds,
    /// `mismatch` when one left from another, `partial` when a node could
    /// not be probed, `unverified` when an expected family was observed by
    /// no node, `unknown` when no node could be probed.
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
        self.verdict.status
    }

    /// Each address family's verdict.
    #[must_use]
    pub fn families(&self) -> &[FamilyVerdict] {
        &self.verdict.families
    }

    /// What pods leave from, as far as shown: every address a node left
    /// from, and the expected IPs of nodes that could not be probed
    /// ([`unverified_ips`](Self::unverified_ips)).
    #[must_use]
    pub fn egress_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::egress_ips)
    }

    /// Expected IPs no node left from, once every node of the cluster was
    /// probed: safe to remove from a whitelist.
    #[must_use]
    pub fn stale_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::stale_ips)
    }

    /// Egress IPs no node's observation verified (nodes not probed, a
    /// family no echo service answered, nodes not asked).
    #[must_use]
    pub fn unverified_ips(&self) -> Vec<IpAddr> {
        self.verdict.collect(FamilyVerdict::unverified_ips)
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
        &self.verdict.warnings
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
        let mut s = serializer.serialize_struct("ProbeReport", 8)?;
        s.serialize_field("cluster", &self.cluster)?;
        s.serialize_field("status", &self.status())?;
        s.serialize_field("egress_ips", &self.egress_ips())?;
        s.serialize_field("stale_ips", &self.stale_ips())?;
        s.serialize_field("unverified_ips", &self.unverified_ips())?;
        s.serialize_field("families", self.families())?;
        s.serialize_field("nodes", &self.nodes)?;
        s.serialize_field("warnings", self.warnings())?;
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
        assert_eq!(ok.status(), EgressStatus::Confirmed);
        assert_eq!(ok.observed(), Some(ip("212.2.253.151")));
        assert!(ok.error().is_none());
        let bad = row("w-2", "212.2.253.151", &[Ok("212.2.253.151"), Ok("212.2.253.160")]);
        assert_eq!(bad.status(), EgressStatus::Mismatch);
        assert_eq!(bad.observed(), Some(ip("212.2.253.160")), "the offending address");
        let none = row("w-3", "212.2.253.151", &[Err(SourceError::BadAnswer("x".into()))]);
        assert_eq!(none.status(), EgressStatus::Unknown);
        assert!(matches!(none.error(), Some(ProbeError::NoEcho { .. })));

        let report = ProbeReport::conclude("prod", vec![ok.clone(), bad, none.clone()], &["w-9".into()], true);
        assert_eq!(report.status(), EgressStatus::Mismatch);
        assert_eq!(report.egress_ips(), [ip("212.2.253.151"), ip("212.2.253.160")]);
        assert!(report.stale_ips().is_empty(), "a node not probed proves nothing stale");
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

        // Rule 8: a node not probed leaves the report partial, not confirmed.
        let partial = ProbeReport::conclude("prod", vec![ok, none.clone()], &[], true);
        assert_eq!(partial.status(), EgressStatus::Partial);
        assert_eq!(partial.unverified_ips(), Vec::<IpAddr>::new(), "w-3's IP was seen on w-1");
        assert_eq!(ProbeReport::conclude("prod", vec![none], &[], true).status(), EgressStatus::Unknown);
        assert_eq!(ProbeReport::conclude("prod", vec![], &[], true).status(), EgressStatus::Unknown);
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
        let report = ProbeReport::conclude("prod", vec![ok, none], &[], true);
        let json = serde_json::to_value(&report).unwrap_or_default();
        let keys: Vec<&str> = json.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(
            keys,
            ["cluster", "egress_ips", "families", "nodes", "stale_ips", "status", "unverified_ips", "warnings"]
        );
        assert_eq!(json["status"], "partial");
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
        for status in EgressStatus::ALL {
            assert_eq!(status.as_str().parse::<EgressStatus>().ok(), Some(*status));
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
