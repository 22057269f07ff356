//! The rules themselves (see [the module docs](super)): pure functions from
//! what was expected and observed to a [`Verdict`].

use std::net::IpAddr;

use super::{EgressStatus, FamilyVerdict, IpFamily, Verdict};
use crate::{Subject, Warning, WarningKind};

/// What one source said: the addresses it gave that count, the ones
/// rejected (not global unicast) with what they are, and why it gave
/// nothing, if it did not answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Answers {
    pub(crate) source: String,
    pub(crate) ips: Vec<IpAddr>,
    pub(crate) rejected: Vec<(IpAddr, String)>,
    pub(crate) failure: Option<String>,
}

/// What the resolver gathered.
#[derive(Debug, Clone)]
pub(crate) struct ResolveEvidence<'a> {
    pub(crate) cluster: Option<&'a str>,
    /// Rule 7: checked like observations.
    pub(crate) expected: Vec<Answers>,
    pub(crate) observers: Vec<Answers>,
    /// Whether the observations were made from inside the cluster (rule 3
    /// is the caller's: a proven or stated pod).
    pub(crate) in_cluster: bool,
    pub(crate) quorum: usize,
    /// Rule 6's opt-in: an expected-only answer passes inside the cluster.
    pub(crate) accept_expected: bool,
    /// The kinds of the caveats that put the expected egress in doubt (a
    /// public-IP pool node without its IP yet, an unmeasured CNI, a cluster
    /// not ACTIVE...): an expected-only answer then does not pass.
    pub(crate) doubts: Vec<WarningKind>,
    pub(crate) family: IpFamily,
}

/// One node's probe.
#[derive(Debug, Clone)]
pub(crate) struct NodeEvidence {
    pub(crate) node: String,
    pub(crate) expected: Vec<IpAddr>,
    /// One per echo URL.
    pub(crate) answers: Vec<Answers>,
    /// Why the node's pod gave nothing, when it did not run.
    pub(crate) failure: Option<String>,
}

/// What the probe gathered.
#[derive(Debug, Clone)]
pub(crate) struct ProbeEvidence<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) nodes: Vec<NodeEvidence>,
    /// Whether every node of the cluster was asked (not `--node` a few):
    /// only then can an expected IP be proven stale.
    pub(crate) complete: bool,
}

const FAMILIES: [IpFamily; 2] = [IpFamily::V4, IpFamily::V6];

fn list(ips: &[IpAddr]) -> String {
    ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn push_new(all: &mut Vec<IpAddr>, ip: IpAddr) {
    if !all.contains(&ip) {
        all.push(ip);
    }
}

fn union<'a>(sets: impl IntoIterator<Item = &'a [IpAddr]>, family: IpFamily) -> Vec<IpAddr> {
    let mut all = Vec::new();
    for ip in sets.into_iter().flatten().filter(|ip| family.admits(**ip)) {
        push_new(&mut all, *ip);
    }
    all
}

fn minus(set: &[IpAddr], without: &[IpAddr]) -> Vec<IpAddr> {
    set.iter().copied().filter(|ip| !without.contains(ip)).collect()
}

/// A warning about `cluster`, when one is named.
fn warning(cluster: Option<&str>, kind: WarningKind, message: String) -> Warning {
    let warning = Warning::new(kind, message);
    match cluster {
        Some(cluster) if !cluster.is_empty() => warning.with_cluster(cluster),
        _ => warning,
    }
}

fn overall(families: &[FamilyVerdict]) -> EgressStatus {
    families.iter().map(|f| f.status).max_by_key(|s| s.rank()).unwrap_or(EgressStatus::Unknown)
}

/// How many observers gave each address of `family` (each counts once),
/// most first, then by address: the same whatever order they answered in.
fn tally(observers: &[Answers], family: IpFamily) -> Vec<(IpAddr, Vec<&str>)> {
    let mut tally: Vec<(IpAddr, Vec<&str>)> = Vec::new();
    for observer in observers {
        let mut mine: Vec<IpAddr> = observer.ips.iter().copied().filter(|ip| family.admits(*ip)).collect();
        mine.sort_unstable();
        mine.dedup();
        for ip in mine {
            match tally.iter_mut().find(|(t, _)| *t == ip) {
                Some((_, who)) => who.push(&observer.source),
                None => tally.push((ip, vec![observer.source.as_str()])),
            }
        }
    }
    for (_, who) in &mut tally {
        who.sort_unstable();
    }
    tally.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    tally
}

/// The address a quorum agrees on, more than any other: a tie has none.
fn winner(tally: &[(IpAddr, Vec<&str>)], quorum: usize) -> Option<IpAddr> {
    let (leader, who) = tally.first()?;
    let runner_up = tally.get(1).map_or(0, |(_, w)| w.len());
    (who.len() >= quorum && who.len() > runner_up).then_some(*leader)
}

/// Rule 2: two sources conflict when neither's addresses hold the other's
/// (the kubeconfig names the gateway only, the Civo API the gateway and
/// the public-IP nodes: no conflict).
fn conflicting(expected: &[Answers], family: IpFamily) -> Option<(&Answers, &Answers)> {
    let sets: Vec<(&Answers, Vec<IpAddr>)> =
        expected.iter().map(|e| (e, union([e.ips.as_slice()], family))).filter(|(_, ips)| !ips.is_empty()).collect();
    let holds = |a: &[IpAddr], b: &[IpAddr]| b.iter().all(|ip| a.contains(ip));
    // The first pair by source name: the same whatever order the sources
    // were given in.
    let mut pairs: Vec<(&Answers, &Answers)> = Vec::new();
    for (i, (a, a_ips)) in sets.iter().enumerate() {
        for (b, b_ips) in &sets[i + 1..] {
            if !holds(a_ips, b_ips) && !holds(b_ips, a_ips) {
                pairs.push(if a.source <= b.source { (*a, *b) } else { (*b, *a) });
            }
        }
    }
    pairs.into_iter().min_by(|x, y| (&x.0.source, &x.1.source).cmp(&(&y.0.source, &y.1.source)))
}

fn said(expected: &[Answers], family: IpFamily) -> String {
    let mut parts = Vec::new();
    for e in expected {
        let ips = union([e.ips.as_slice()], family);
        if !ips.is_empty() {
            parts.push(format!("{} said {}", e.source, list(&ips)));
        }
    }
    parts.sort_unstable();
    parts.join("; ")
}

/// What an observer that gave no address of any family ran into.
fn cause(answers: &Answers) -> String {
    if !answers.rejected.is_empty() {
        let what: Vec<String> = answers.rejected.iter().map(|(ip, why)| format!("{ip} rejected ({why})")).collect();
        return what.join(", ");
    }
    answers.failure.clone().unwrap_or_else(|| "no address".to_owned())
}

/// The resolver's verdict.
pub(crate) fn resolve(e: &ResolveEvidence<'_>) -> (Verdict, Option<IpAddr>) {
    let cluster = e.cluster;
    let mut warnings = Vec::new();
    let note = |kind, message| warning(cluster, kind, message);
    for source in e.expected.iter().filter(|s| !s.rejected.is_empty()) {
        let what: Vec<String> = source.rejected.iter().map(|(ip, why)| format!("{ip} ({why})")).collect();
        let rest = if source.ips.is_empty() { "the source is not used" } else { "that address is not used" };
        warnings.push(
            warning(
                cluster,
                WarningKind::SourceUnusable,
                format!(
                    "{} gave {}: not an address pods leave from (a tunnel, a port-forward or a private API endpoint?); {rest}",
                    source.source,
                    what.join(", ")
                ),
            )
            .about(Subject::Source(source.source.clone())),
        );
    }
    for source in e.expected.iter().filter(|s| s.ips.is_empty() && s.rejected.is_empty()) {
        let why = source.failure.clone().unwrap_or_else(|| "no address".to_owned());
        warnings.push(
            warning(
                cluster,
                WarningKind::SourceUnusable,
                format!("{} said nothing ({why}): what it expects is not known", source.source),
            )
            .about(Subject::Source(source.source.clone())),
        );
    }
    let expected_any = e.expected.iter().any(|s| !s.ips.is_empty());
    // Expected sources were asked and none said anything usable: what is
    // observed cannot be checked against them.
    let expected_lost = !e.expected.is_empty() && !expected_any;
    let observers_asked = !e.observers.is_empty();
    let observed_any = e.observers.iter().any(|o| !o.ips.is_empty());
    let mut families = Vec::new();
    let mut host_observed = None;
    for family in FAMILIES.into_iter().filter(|f| e.family.admits(probe_ip(*f))) {
        let expected = union(e.expected.iter().map(|s| s.ips.as_slice()), family);
        let tally = tally(&e.observers, family);
        let agreed = winner(&tally, e.quorum);
        let conflict = conflicting(&e.expected, family);
        if !e.in_cluster {
            host_observed = host_observed.or(agreed);
            if expected.is_empty() {
                continue;
            }
        } else if expected.is_empty() && tally.is_empty() {
            continue;
        }
        let name = if family == IpFamily::V4 { "IPv4" } else { "IPv6" };
        if expected.len() > 1 {
            warnings.push(note(
                WarningKind::SeveralExpected,
                format!(
                    "several {name} egress IPs expected ({}): pods on public-IP pool nodes leave from their node's own IP; whitelist all of them",
                    list(&expected)
                ),
            ));
        }
        if let Some((a, b)) = conflict {
            warnings.push(note(
                WarningKind::Conflict,
                format!(
                    "the expected sources disagree on the {name} egress ({}): {} and {} cannot both be right, so nothing is confirmed; refresh the stale one (civo-egress discover, or the kubeconfig from the Civo API)",
                    said(&e.expected, family),
                    a.source,
                    b.source
                ),
            ));
        }
        let observed = if e.in_cluster { agreed } else { None };
        // Rule 5: every observer that said otherwise, by name.
        let dissent = |w: IpAddr| -> String {
            let others: Vec<String> = tally
                .iter()
                .filter(|(ip, _)| *ip != w)
                .map(|(ip, who)| format!("{} said {ip}", who.join(" and ")))
                .collect();
            if others.is_empty() { String::new() } else { format!(" (not unanimous: {})", others.join(", ")) }
        };
        if let Some(w) = agreed {
            for (ip, who) in tally.iter().filter(|(ip, _)| *ip != w) {
                for source in who {
                    warnings.push(
                        warning(
                            cluster,
                            WarningKind::Outlier,
                            format!("{source} observed {ip}, not the agreed {w}: a proxy, or a lying echo service?"),
                        )
                        .about(Subject::Source((*source).to_owned())),
                    );
                }
            }
        } else if tally.len() > 1 {
            let what: Vec<String> = tally.iter().map(|(ip, who)| format!("{} said {ip}", who.join(" and "))).collect();
            warnings.push(note(
                WarningKind::Disagreement,
                format!(
                    "observers disagree on the {name} egress ({}): no address won, so none is trusted",
                    what.join(", ")
                ),
            ));
        } else if let Some((ip, who)) = tally.first() {
            warnings.push(note(
                WarningKind::NoQuorum,
                format!(
                    "no quorum on the {name} egress: only {} observed {ip}, {} must agree",
                    who.join(" and "),
                    e.quorum
                ),
            ));
        }
        let (status, egress, unverified) = match observed {
            Some(w) if conflict.is_some() && expected.contains(&w) => {
                (EgressStatus::Conflict, expected.clone(), minus(&expected, &[w]))
            }
            Some(w) if expected.contains(&w) => (EgressStatus::Confirmed, expected.clone(), minus(&expected, &[w])),
            Some(w) if expected_any => {
                let mut egress = expected.clone();
                push_new(&mut egress, w);
                let was = if expected.is_empty() {
                    format!("nothing expected an {name} egress")
                } else {
                    format!("expected {}", list(&expected))
                };
                let keep = if expected.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; keep {} until `civo-egress probe` shows no node leaves from it (a pod sees only its own node)",
                        list(&expected)
                    )
                };
                warnings.push(note(
                    WarningKind::Mismatch,
                    format!(
                        "observed {w} from inside the cluster{}, but {was}: the whitelist lacks {w}, allow it (the gateway node may have been replaced, or this pod runs on a node with its own public IP){keep}",
                        dissent(w)
                    ),
                ));
                (EgressStatus::Mismatch, egress, expected.clone())
            }
            Some(w) if expected_lost => {
                warnings.push(note(
                    WarningKind::Unverified,
                    format!(
                        "observed {w} from inside the cluster{}, but no expected source said anything usable: it cannot be checked against what the cluster should leave from",
                        dissent(w)
                    ),
                ));
                (EgressStatus::Unknown, vec![w], vec![w])
            }
            Some(w) => (EgressStatus::Observed, vec![w], Vec::new()),
            None if conflict.is_some() => (EgressStatus::Conflict, expected.clone(), expected.clone()),
            None if expected.is_empty() => (EgressStatus::Unknown, Vec::new(), Vec::new()),
            // What the topology says, unobserved, and in doubt: not a pass.
            None if !e.doubts.is_empty() => {
                let kinds: Vec<&str> = e.doubts.iter().map(|k| k.as_str()).collect();
                warnings.push(note(
                    WarningKind::Unverified,
                    format!(
                        "the expected {} {} in doubt ({}) and no observation from inside the cluster verified {}: run this in a pod of the cluster, or `civo-egress probe`",
                        list(&expected),
                        if expected.len() == 1 { "is" } else { "are" },
                        kinds.join(", "),
                        if expected.len() == 1 { "it" } else { "them" }
                    ),
                ));
                (EgressStatus::Unverified, expected.clone(), expected.clone())
            }
            None if !e.in_cluster || !observers_asked => (EgressStatus::Expected, expected.clone(), expected.clone()),
            // The opt-in accepts an answer nothing contradicted: not one
            // an observer saw leave from an address outside the set.
            None if e.accept_expected && tally.iter().all(|(ip, _)| expected.contains(ip)) => {
                (EgressStatus::Expected, expected.clone(), expected.clone())
            }
            None => {
                if observed_any {
                    warnings.push(note(
                        WarningKind::Unverified,
                        format!(
                            "no quorum of observers agreed on an {name} address: the expected {} stay unverified",
                            list(&expected)
                        ),
                    ));
                }
                (EgressStatus::Unverified, expected.clone(), expected.clone())
            }
        };
        families.push(FamilyVerdict {
            family,
            status,
            egress_ips: egress,
            stale_ips: Vec::new(),
            unverified_ips: unverified,
            observed,
        });
    }
    if observers_asked && !observed_any {
        let mut causes: Vec<String> = e.observers.iter().map(|o| format!("{}: {}", o.source, cause(o))).collect();
        causes.sort_unstable();
        let mut rejected: Vec<String> =
            e.observers.iter().flat_map(|o| o.rejected.iter().map(|(ip, why)| format!("{ip} ({why})"))).collect();
        rejected.sort_unstable();
        rejected.dedup();
        if !rejected.is_empty() && e.observers.iter().all(|o| !o.rejected.is_empty() || o.failure.is_some()) {
            warnings.push(note(
                WarningKind::AllRejected,
                format!(
                    "every observed answer was rejected as not global unicast: {}; a proxy, NAT or lab network answered, not the egress (in a lab, accept such answers with --allow-non-global)",
                    rejected.join(", ")
                ),
            ));
        }
        if e.in_cluster {
            let accept = if e.accept_expected {
                "accepted as expected-only (--accept-expected)"
            } else {
                "the check fails; pass --accept-expected to accept an expected-only answer"
            };
            warnings.push(note(
                WarningKind::NothingObserved,
                format!("nothing was observed from inside the cluster ({}): {accept}", causes.join("; ")),
            ));
        }
    }
    if !e.in_cluster && observers_asked {
        let seen = match host_observed {
            Some(ip) => format!("they saw {ip}, this host's IP"),
            None => "they agreed on no address, and any they see is this host's IP".to_owned(),
        };
        warnings.insert(
            0,
            warning(
                cluster,
                WarningKind::HostVantage,
                format!(
                    "observed from a host outside the cluster: {seen}, not the cluster's egress, so it is not compared with the expected IPs; to observe the cluster's egress, run this in a pod of the cluster or use `civo-egress probe` (--vantage pod where this host's egress is the cluster's)"
                ),
            ),
        );
        let expected = union(e.expected.iter().map(|s| s.ips.as_slice()), IpFamily::Both);
        if let Some(ip) = host_observed.filter(|ip| expected.contains(ip)) {
            warnings.insert(
                1,
                warning(
                    cluster,
                    WarningKind::HostMatchesExpected,
                    format!(
                        "this host's observed IP {ip} is one of the expected egress IPs: the host may be inside the cluster after all (then --vantage pod) or share its egress; this is not a confirmation"
                    ),
                ),
            );
        }
    }
    let status = overall(&families);
    (Verdict { status, families, warnings }, host_observed)
}

/// An address of `family`, to ask `IpFamily::admits` which families are asked.
const fn probe_ip(family: IpFamily) -> IpAddr {
    match family {
        IpFamily::V6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        _ => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

/// A node's status: `confirmed` when every address its pod left from is
/// expected of it, `mismatch` when one is not, `unknown` when it gave none.
pub(crate) fn node_status(expected: &[IpAddr], observed: &[IpAddr]) -> EgressStatus {
    if observed.is_empty() {
        EgressStatus::Unknown
    } else if observed.iter().all(|ip| expected.contains(ip)) {
        EgressStatus::Confirmed
    } else {
        EgressStatus::Mismatch
    }
}

/// The probe's verdict.
pub(crate) fn probe(e: &ProbeEvidence<'_>) -> Verdict {
    let cluster = Some(e.cluster);
    let mut warnings = Vec::new();
    let about =
        |kind, node: &str, message: String| warning(cluster, kind, message).about(Subject::Node(node.to_owned()));
    let ips_of =
        |n: &NodeEvidence| -> Vec<IpAddr> { union(n.answers.iter().map(|a| a.ips.as_slice()), IpFamily::Both) };
    for node in &e.nodes {
        let ips = ips_of(node);
        if ips.len() > 1 {
            let saw: Vec<String> = node
                .answers
                .iter()
                .flat_map(|a| a.ips.iter().map(move |ip| format!("{} saw {ip}", a.source)))
                .collect();
            warnings.push(about(
                WarningKind::Disagreement,
                &node.node,
                format!(
                    "the echo services disagree on node {}: {}, expected {} (a proxy, or a lying echo service)",
                    node.node,
                    saw.join(", "),
                    list(&node.expected)
                ),
            ));
        }
        let outside = minus(&ips, &node.expected);
        if !outside.is_empty() {
            // Rule 5: the advice says which echo URLs saw something else.
            let others: Vec<String> = node
                .answers
                .iter()
                .flat_map(|a| {
                    a.ips.iter().filter(|ip| !outside.contains(ip)).map(move |ip| format!("{} saw {ip}", a.source))
                })
                .collect();
            let dissent =
                if others.is_empty() { String::new() } else { format!(" (not unanimous: {})", others.join(", ")) };
            warnings.push(about(
                WarningKind::Mismatch,
                &node.node,
                format!(
                    "node {} left from {}{dissent}, not from {}: the whitelist lacks {}, allow it, or pods on {} break (the gateway node may have been replaced, or the node has its own public IP)",
                    node.node,
                    list(&outside),
                    list(&node.expected),
                    list(&outside),
                    node.node
                ),
            ));
        }
        if ips.is_empty() {
            let why = node.failure.clone().unwrap_or_else(|| {
                let causes: Vec<String> = node.answers.iter().map(|a| format!("{}: {}", a.source, cause(a))).collect();
                if causes.is_empty() { "no answer".to_owned() } else { causes.join("; ") }
            });
            warnings.push(about(
                WarningKind::NotProbed,
                &node.node,
                format!(
                    "node {} was not probed ({why}): its expected {} stay among the egress IPs, unverified",
                    node.node,
                    list(&node.expected)
                ),
            ));
        }
    }
    let mut families = Vec::new();
    for family in FAMILIES {
        let expected = union(e.nodes.iter().map(|n| n.expected.as_slice()), family);
        let observed: Vec<IpAddr> = {
            let mut all = Vec::new();
            for node in &e.nodes {
                for ip in ips_of(node).into_iter().filter(|ip| family.admits(*ip)) {
                    push_new(&mut all, ip);
                }
            }
            all.sort_unstable();
            all
        };
        if expected.is_empty() && observed.is_empty() {
            continue;
        }
        let mismatch =
            e.nodes.iter().any(|n| ips_of(n).iter().any(|ip| family.admits(*ip) && !n.expected.contains(ip)));
        // Per family: a node expected to leave from an address of this
        // family and seen leaving from none of it was not probed in it (a
        // pod that answered over IPv6 only says nothing of its IPv4).
        let answered_in = |n: &NodeEvidence| ips_of(n).iter().any(|ip| family.admits(*ip));
        let unprobed =
            e.nodes.iter().filter(|n| n.expected.iter().any(|ip| family.admits(*ip)) && !answered_in(n)).count();
        let proven = e.complete && unprobed == 0 && !observed.is_empty();
        let stale = if proven { minus(&expected, &observed) } else { Vec::new() };
        let unverified = minus(&minus(&expected, &observed), &stale);
        let status = if mismatch {
            EgressStatus::Mismatch
        } else if e.nodes.iter().all(|n| ips_of(n).is_empty()) {
            EgressStatus::Unknown
        } else if observed.is_empty() {
            EgressStatus::Unverified
        } else if unprobed > 0 {
            EgressStatus::Partial
        } else {
            EgressStatus::Confirmed
        };
        let mut egress = observed.clone();
        for ip in &unverified {
            push_new(&mut egress, *ip);
        }
        families.push(FamilyVerdict {
            family,
            status,
            egress_ips: egress,
            stale_ips: stale,
            unverified_ips: unverified,
            observed: None,
        });
    }
    let status = overall(&families);
    Verdict { status, families, warnings }
}

/// Whether a cluster's egress set is fully known: its verdict is ok and no
/// node of a public-IP pool waits for its IP. Only then can an allowlist be
/// said to cover it, or a watch be clear.
#[cfg(feature = "watch")]
pub(crate) const fn egress_known(status: EgressStatus, pending: u32) -> bool {
    status.is_ok() && pending == 0
}

/// The verdict on a cluster's expected egress alone, nothing observed: what
/// the watcher says of a cluster it does not observe. [`resolve`]'s rule
/// itself, not a second one: `expected`, or `unverified` while a caveat
/// doubts the egress (a public-IP pool node without its IP, an unmeasured
/// CNI, a cluster not ACTIVE...), `unknown` without any IP.
#[cfg(feature = "watch")]
pub(crate) fn expected_only(cluster: &str, ips: &[IpAddr], caveats: &[Warning]) -> EgressStatus {
    let mut doubts: Vec<WarningKind> = Vec::new();
    for kind in caveats.iter().map(Warning::kind).filter(|kind| kind.doubts_egress()) {
        if !doubts.contains(&kind) {
            doubts.push(kind);
        }
    }
    let evidence = ResolveEvidence {
        cluster: Some(cluster),
        expected: vec![Answers { source: "topology".to_owned(), ips: ips.to_vec(), ..Answers::default() }],
        observers: Vec::new(),
        in_cluster: false,
        quorum: 1,
        accept_expected: false,
        doubts,
        family: IpFamily::Both,
    };
    resolve(&evidence).0.status
}
