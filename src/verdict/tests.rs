//! The verdict table: one row per rule and case.

use std::net::IpAddr;

use super::rules::{Answers, NodeEvidence, ProbeEvidence, ResolveEvidence, probe, resolve};
use super::{EgressStatus, IpFamily, Verdict};
use crate::WarningKind;

const G: &str = "212.2.253.151"; // the gateway (master_ip)
const P: &str = "212.2.253.160"; // a public-IP pool node's own IP
const X: &str = "74.220.17.9"; // an address nothing expected
const Y: &str = "74.220.17.10";
const V6: &str = "2a00:1098:2b::1";

fn ip(text: &str) -> IpAddr {
    text.parse().expect("a test address") // ok: test
}

fn ips(texts: &[&str]) -> Vec<IpAddr> {
    texts.iter().map(|t| ip(t)).collect()
}

fn said(source: &str, texts: &[&str]) -> Answers {
    Answers { source: source.into(), ips: ips(texts), ..Answers::default() }
}

fn failed(source: &str, why: &str) -> Answers {
    Answers { source: source.into(), failure: Some(why.into()), ..Answers::default() }
}

fn rejected(source: &str, text: &str) -> Answers {
    Answers { source: source.into(), rejected: vec![(ip(text), "private-use (RFC 1918)".into())], ..Answers::default() }
}

/// A resolver row: vantage, expected sources, observers, opt-in.
struct Case {
    name: &'static str,
    in_cluster: bool,
    expected: Vec<Answers>,
    observers: Vec<Answers>,
    accept: bool,
    doubts: &'static [WarningKind],
    status: EgressStatus,
    egress: &'static [&'static str],
    unverified: &'static [&'static str],
    kinds: &'static [WarningKind],
}

fn run(case: &Case) -> Verdict {
    let evidence = ResolveEvidence {
        cluster: Some("prod"),
        expected: case.expected.clone(),
        observers: case.observers.clone(),
        in_cluster: case.in_cluster,
        quorum: 2,
        accept_expected: case.accept,
        doubts: case.doubts.to_vec(),
        family: IpFamily::Both,
    };
    resolve(&evidence).0
}

#[allow(clippy::too_many_lines)] // a table
fn cases() -> Vec<Case> {
    use EgressStatus as S;
    use WarningKind as K;
    let pod = true;
    vec![
        Case {
            name: "confirmed",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[],
            status: S::Confirmed,
            egress: &[G],
            unverified: &[],
            kinds: &[],
        },
        Case {
            name: "rule 1: a pod on a public-IP node never makes the gateway stale",
            in_cluster: pod,
            expected: vec![said("civo", &[G, P])],
            observers: vec![said("a", &[P]), said("b", &[P])],
            accept: false,
            doubts: &[],
            status: S::Confirmed,
            egress: &[G, P],
            unverified: &[G],
            kinds: &[K::SeveralExpected],
        },
        Case {
            name: "rule 1: an unexpected IP joins the egress, nothing becomes stale",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[X]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Mismatch,
            egress: &[G, X],
            unverified: &[G],
            kinds: &[K::Mismatch],
        },
        Case {
            name: "rule 2: expected sources that disagree, observed one of them",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G]), said("kubeconfig", &[X])],
            observers: vec![said("a", &[X]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Conflict,
            egress: &[G, X],
            unverified: &[G],
            kinds: &[K::SeveralExpected, K::Conflict],
        },
        Case {
            name: "rule 2: a conflict observed from nowhere is still a conflict",
            in_cluster: false,
            expected: vec![said("snapshot", &[G]), said("kubeconfig", &[X])],
            observers: vec![],
            accept: false,
            doubts: &[],
            status: S::Conflict,
            egress: &[G, X],
            unverified: &[G, X],
            kinds: &[K::SeveralExpected, K::Conflict],
        },
        Case {
            name: "rule 2: neither source observed is a mismatch",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G]), said("kubeconfig", &[X])],
            observers: vec![said("a", &[Y]), said("b", &[Y])],
            accept: false,
            doubts: &[],
            status: S::Mismatch,
            egress: &[G, X, Y],
            unverified: &[G, X],
            kinds: &[K::SeveralExpected, K::Conflict, K::Mismatch],
        },
        Case {
            name: "rule 2: a source that names fewer (the kubeconfig, the gateway only) is no conflict",
            in_cluster: pod,
            expected: vec![said("civo", &[G, P]), said("kubeconfig", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[],
            status: S::Confirmed,
            egress: &[G, P],
            unverified: &[P],
            kinds: &[K::SeveralExpected],
        },
        Case {
            name: "rule 3: from a host, observations are the host's",
            in_cluster: false,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[X]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Expected,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::HostVantage],
        },
        Case {
            name: "rule 3: a host that leaves from an expected IP confirms nothing",
            in_cluster: false,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[],
            status: S::Expected,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::HostVantage, K::HostMatchesExpected],
        },
        Case {
            name: "rule 4: an IPv6 egress nothing expected is a mismatch",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G]), said("c", &[V6]), said("d", &[V6])],
            accept: false,
            doubts: &[],
            status: S::Mismatch,
            egress: &[G, V6],
            unverified: &[],
            kinds: &[K::Mismatch],
        },
        Case {
            name: "rule 5: a split vote names the dissenter",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[X]), said("b", &[X]), said("c", &[Y])],
            accept: false,
            doubts: &[],
            status: S::Mismatch,
            egress: &[G, X],
            unverified: &[G],
            kinds: &[K::Outlier, K::Mismatch],
        },
        Case {
            name: "rule 5: a tie trusts nobody",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::Disagreement, K::Unverified],
        },
        Case {
            name: "rule 6: inside a pod, nothing observed fails",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![failed("a", "no answer within 3000 ms"), failed("b", "unreachable: refused")],
            accept: false,
            doubts: &[],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::NothingObserved],
        },
        Case {
            name: "rule 6: ... unless an expected-only answer is accepted",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![failed("a", "no answer within 3000 ms"), failed("b", "unreachable: refused")],
            accept: true,
            doubts: &[],
            status: S::Expected,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::NothingObserved],
        },
        Case {
            name: "rule 6: every answer rejected (a transparent proxy) fails",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![rejected("a", "10.0.0.7"), rejected("b", "10.0.0.7")],
            accept: false,
            doubts: &[],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::AllRejected, K::NothingObserved],
        },
        Case {
            name: "rule 6: no observer asked (--no-observe) is expected",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![],
            accept: false,
            doubts: &[],
            status: S::Expected,
            egress: &[G],
            unverified: &[G],
            kinds: &[],
        },
        Case {
            name: "rule 7: a kubeconfig on a tunnel is unusable, the others decide",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G]), rejected("kubeconfig", "127.0.0.1")],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[],
            status: S::Confirmed,
            egress: &[G],
            unverified: &[],
            kinds: &[K::SourceUnusable],
        },
        Case {
            name: "rule 7: only an unusable source is nothing expected",
            in_cluster: false,
            expected: vec![rejected("kubeconfig", "127.0.0.1")],
            observers: vec![],
            accept: false,
            doubts: &[],
            status: S::Unknown,
            egress: &[],
            unverified: &[],
            kinds: &[K::SourceUnusable],
        },
        Case {
            name: "rule 6: the opt-in never accepts an answer an observer contradicted",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[X])],
            accept: true,
            doubts: &[],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::Disagreement, K::Unverified],
        },
        Case {
            name: "rule 7: every expected source failed: an observation cannot be checked",
            in_cluster: pod,
            expected: vec![failed("kubeconfig", "nonexistent.invalid does not resolve")],
            observers: vec![said("a", &[X]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Unknown,
            egress: &[X],
            unverified: &[X],
            kinds: &[K::SourceUnusable, K::Unverified],
        },
        Case {
            name: "rule 7: one expected source failed, another decides",
            in_cluster: pod,
            expected: vec![failed("civo-api", "no answer within 3000 ms"), said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[],
            status: S::Confirmed,
            egress: &[G],
            unverified: &[],
            kinds: &[K::SourceUnusable],
        },
        Case {
            name: "an expected-only answer in doubt (a pool node without its IP) does not pass",
            in_cluster: false,
            expected: vec![said("snapshot", &[G])],
            observers: vec![],
            accept: false,
            doubts: &[K::PublicIpPending],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::Unverified],
        },
        Case {
            name: "an observation from inside settles a doubt",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), said("b", &[G])],
            accept: false,
            doubts: &[K::PublicIpPending],
            status: S::Confirmed,
            egress: &[G],
            unverified: &[],
            kinds: &[],
        },
        Case {
            name: "nothing expected, observed from a pod",
            in_cluster: pod,
            expected: vec![],
            observers: vec![said("a", &[X]), said("b", &[X])],
            accept: false,
            doubts: &[],
            status: S::Observed,
            egress: &[X],
            unverified: &[],
            kinds: &[],
        },
        Case {
            name: "nothing expected, nothing observed",
            in_cluster: pod,
            expected: vec![],
            observers: vec![failed("a", "no answer"), failed("b", "no answer")],
            accept: true,
            doubts: &[],
            status: S::Unknown,
            egress: &[],
            unverified: &[],
            kinds: &[K::NothingObserved],
        },
        Case {
            name: "no quorum on an expected address",
            in_cluster: pod,
            expected: vec![said("snapshot", &[G])],
            observers: vec![said("a", &[G]), failed("b", "no answer")],
            accept: false,
            doubts: &[],
            status: S::Unverified,
            egress: &[G],
            unverified: &[G],
            kinds: &[K::NoQuorum, K::Unverified],
        },
    ]
}

#[test]
fn the_resolver_table() {
    for case in cases() {
        let verdict = run(&case);
        let name = case.name;
        assert_eq!(verdict.status, case.status, "{name}: {verdict:#?}");
        assert_eq!(verdict.collect(|f| f.egress_ips()), ips(case.egress), "{name}: egress");
        assert_eq!(verdict.collect(|f| f.unverified_ips()), ips(case.unverified), "{name}: unverified");
        assert!(verdict.collect(|f| f.stale_ips()).is_empty(), "{name}: one vantage proves nothing stale");
        let kinds: Vec<WarningKind> = verdict.warnings.iter().map(|w| w.kind()).collect();
        assert_eq!(kinds, case.kinds, "{name}: {:#?}", verdict.warnings);
        assert_eq!(
            verdict.status.is_ok(),
            matches!(case.status, EgressStatus::Confirmed | EgressStatus::Expected | EgressStatus::Observed)
        );
    }
}

#[test]
fn advice_on_a_split_vote_names_who_disagreed() {
    let case = cases().into_iter().find(|c| c.name.starts_with("rule 5: a split")).expect("the row"); // ok: test
    let verdict = run(&case);
    let advice = verdict.warnings.iter().find(|w| w.kind() == WarningKind::Mismatch).expect("advice"); // ok: test
    assert!(advice.message().contains(&format!("c said {Y}")), "{advice}");
    assert!(advice.message().contains("keep 212.2.253.151"), "{advice}");
}

#[test]
fn the_refusal_names_the_cause_per_source() {
    let case = cases().into_iter().find(|c| c.name.starts_with("rule 6: inside")).expect("the row"); // ok: test
    let verdict = run(&case);
    let nothing = verdict.warnings.iter().find(|w| w.kind() == WarningKind::NothingObserved).expect("the refusal"); // ok: test
    let message = nothing.message();
    assert!(
        message.contains("a: no answer within 3000 ms") && message.contains("b: unreachable: refused"),
        "{message}"
    );
    assert!(message.contains("--accept-expected") && !message.contains("quorum"), "{message}");
}

/// Rule 4: the same answers in any order give the same verdict, warnings
/// and all.
#[test]
fn order_does_not_matter() {
    let sort = |mut v: Vec<IpAddr>| {
        v.sort_unstable();
        v
    };
    let said = |v: &Verdict| v.warnings.iter().map(ToString::to_string).collect::<Vec<_>>();
    for case in cases() {
        let first = run(&case);
        let mut observers = case.observers.clone();
        let n = observers.len();
        // The order answers arrive in changes nothing at all.
        for round in 0..n.max(1) * 3 {
            if n > 0 {
                observers.rotate_left(1);
            }
            if round % 2 == 1 && n > 1 {
                observers.swap(0, n - 1);
            }
            let again = run(&Case { observers: observers.clone(), ..copy(&case) });
            assert_eq!(again, first, "{}", case.name);
        }
        // The order sources were given in changes no verdict, no address
        // set and no warning kind (lists keep the given order).
        let mut expected = case.expected.clone();
        expected.reverse();
        let again = run(&Case { expected, ..copy(&case) });
        assert_eq!(again.status, first.status, "{}", case.name);
        assert_eq!(sort(again.collect(|f| f.egress_ips())), sort(first.collect(|f| f.egress_ips())), "{}", case.name);
        let kinds = |v: &Verdict| v.warnings.iter().map(|w| w.kind()).collect::<Vec<_>>();
        assert_eq!(kinds(&again), kinds(&first), "{}", case.name);
        let conflict = |v: &Verdict| said(v).into_iter().filter(|w| w.contains("disagree on")).collect::<Vec<_>>();
        assert_eq!(conflict(&again), conflict(&first), "{}: the conflict reads the same", case.name);
    }
}

fn copy(case: &Case) -> Case {
    Case {
        name: case.name,
        in_cluster: case.in_cluster,
        expected: case.expected.clone(),
        observers: case.observers.clone(),
        accept: case.accept,
        doubts: case.doubts,
        status: case.status,
        egress: case.egress,
        unverified: case.unverified,
        kinds: case.kinds,
    }
}

/// Rule 4: a quorum in one family leaves the other's verdict its own.
#[test]
fn families_are_decided_separately() {
    let evidence = ResolveEvidence {
        cluster: None,
        expected: vec![said("snapshot", &[G, V6])],
        observers: vec![said("a", &[G]), said("b", &[G]), said("c", &[])],
        in_cluster: true,
        quorum: 2,
        accept_expected: false,
        doubts: Vec::new(),
        family: IpFamily::Both,
    };
    let verdict = resolve(&evidence).0;
    let statuses: Vec<(IpFamily, EgressStatus)> = verdict.families.iter().map(|f| (f.family, f.status)).collect();
    assert_eq!(statuses, [(IpFamily::V4, EgressStatus::Confirmed), (IpFamily::V6, EgressStatus::Unverified)]);
    assert_eq!(verdict.status, EgressStatus::Unverified, "the least certain family decides");
    let only_v4 = ResolveEvidence { family: IpFamily::V4, ..evidence };
    assert_eq!(resolve(&only_v4).0.status, EgressStatus::Confirmed, "a family not asked about is not judged");
}

fn node(name: &str, expected: &[&str], saw: &[&str]) -> NodeEvidence {
    NodeEvidence {
        node: name.into(),
        expected: ips(expected),
        answers: saw.iter().enumerate().map(|(i, s)| said(&format!("https://echo{i}/"), &[s])).collect(),
        failure: None,
    }
}

fn unprobed(name: &str, expected: &[&str]) -> NodeEvidence {
    NodeEvidence { node: name.into(), expected: ips(expected), answers: vec![], failure: Some("pod Pending".into()) }
}

#[test]
fn the_probe_table() {
    use EgressStatus as S;
    type Row = (
        &'static str,
        Vec<NodeEvidence>,
        bool,
        S,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );
    // name, nodes, complete → status, egress, stale, unverified
    let rows: Vec<Row> = vec![
        (
            "every node confirmed",
            vec![node("w1", &[G], &[G, G]), node("w2", &[G], &[G])],
            true,
            S::Confirmed,
            &[G],
            &[],
            &[],
        ),
        (
            "a public-IP node and a gateway node",
            vec![node("w1", &[P], &[P]), node("w2", &[G], &[G])],
            true,
            S::Confirmed,
            &[G, P],
            &[],
            &[],
        ),
        (
            "rule 8: a node not probed is partial, its IPs kept, unverified",
            vec![node("w1", &[P], &[P]), unprobed("w2", &[G])],
            true,
            S::Partial,
            &[P, G],
            &[],
            &[G],
        ),
        (
            "a replaced gateway, every node probed: the old one proven stale",
            vec![node("w1", &[G], &[X]), node("w2", &[G], &[X])],
            true,
            S::Mismatch,
            &[X],
            &[G],
            &[],
        ),
        (
            "a replaced gateway, some nodes asked (--node): nothing proven",
            vec![node("w1", &[G], &[X])],
            false,
            S::Mismatch,
            &[X, G],
            &[],
            &[G],
        ),
        (
            "a public-IP node leaving from the gateway: its own IP proven stale",
            vec![node("w1", &[P], &[G]), node("w2", &[G], &[G])],
            true,
            S::Mismatch,
            &[G],
            &[P],
            &[],
        ),
        ("no node probed", vec![unprobed("w1", &[G]), unprobed("w2", &[G])], true, S::Unknown, &[G], &[], &[G]),
        (
            "a node that answered over IPv6 only was not probed in IPv4: nothing of IPv4 proven stale",
            vec![node("gw", &[G, V6], &[V6]), node("pool", &[P], &[P])],
            true,
            S::Partial,
            &[P, G, V6],
            &[],
            &[G],
        ),
        ("no node at all", vec![], true, S::Unknown, &[], &[], &[]),
    ];
    for (name, nodes, complete, status, egress, stale, unverified) in rows {
        let verdict = probe(&ProbeEvidence { cluster: "prod", nodes, complete });
        assert_eq!(verdict.status, status, "{name}: {verdict:#?}");
        assert_eq!(verdict.collect(|f| f.egress_ips()), ips(egress), "{name}: egress");
        assert_eq!(verdict.collect(|f| f.stale_ips()), ips(stale), "{name}: stale");
        assert_eq!(verdict.collect(|f| f.unverified_ips()), ips(unverified), "{name}: unverified");
    }
}

#[test]
fn the_probe_names_what_it_could_not_probe_and_disagreeing_urls() {
    let nodes = vec![node("w1", &[P], &[P, G]), unprobed("w2", &[G])];
    let verdict = probe(&ProbeEvidence { cluster: "prod", nodes, complete: true });
    let kinds: Vec<WarningKind> = verdict.warnings.iter().map(|w| w.kind()).collect();
    assert_eq!(kinds, [WarningKind::Disagreement, WarningKind::Mismatch, WarningKind::NotProbed]);
    let not_probed = &verdict.warnings[2];
    assert!(not_probed.message().contains("pod Pending") && not_probed.message().contains("unverified"));
    assert_eq!(not_probed.subject(), Some(&crate::Subject::Node("w2".into())));
}
