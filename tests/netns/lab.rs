//! The lab: namespaces, links, masquerading, echo services, and the proofs.

use std::future::Future;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc::Sender;
use std::time::Duration;

use civo_egress::resolve::{
    DnsEchoSource, DnsEchoStyle, EgressReport, EgressResolver, EgressSource, EgressStatus, HttpEchoSource, IpFamily,
    TopologySource, Vantage,
};
use civo_egress::{Topology, Validation};

const GATEWAY_IP: &str = "203.0.113.10";
const REPLACED_IP: &str = "203.0.113.11";
const PUBLIC_WORKER_IP: &str = "203.0.113.20";
const HTTP_ECHO: &str = "http://198.51.100.80/";
const DNS_ECHO: &str = "198.51.100.53:53";
/// A host on the cluster's private network, with an HTTP echo service.
const PRIVATE_DESTINATION: &str = "192.168.1.50";
const PRIVATE_ECHO: &str = "http://192.168.1.50/";
const PRIVATE_BIND: &str = "192.168.1.50:80";
/// What flannel does on every node: pod traffic to anything but pods leaves
/// from the node's address on the interface it leaves by.
const POD_MASQUERADE: &str = "ip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16";

const SNAPSHOT: &str = r#"{"clusters": [{"name": "lab", "egress_ip": "203.0.113.10", "network_cidr": "192.168.1.0/24",
  "nodes": [{"name": "gw", "private_ip": "192.168.1.1", "public_ip": "203.0.113.10"},
            {"name": "w1", "private_ip": "192.168.1.2"}, {"name": "w2", "private_ip": "192.168.1.3"},
            {"name": "pw", "private_ip": "192.168.1.4", "public_ip": "203.0.113.20"}]}]}"#;
/// The same cluster as a snapshot that does not know the public-IP worker
/// has a public IP of its own: its pods' egress is not what it expects.
const SNAPSHOT_NO_PUBLIC: &str = r#"{"clusters": [{"name": "lab", "egress_ip": "203.0.113.10", "network_cidr": "192.168.1.0/24",
  "nodes": [{"name": "gw", "private_ip": "192.168.1.1", "public_ip": "203.0.113.10"},
            {"name": "w1", "private_ip": "192.168.1.2"}, {"name": "w2", "private_ip": "192.168.1.3"},
            {"name": "pw", "private_ip": "192.168.1.4"}]}]}"#;

fn run(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Runs a command that must succeed: the harness fails, never skips, once root.
fn must(args: &[&str]) {
    let out = run(args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// The namespaces of one lab, removed when it is dropped (a failing test
/// unwinds through here too).
struct Lab {
    prefix: String,
    made: Vec<String>,
    files: Vec<PathBuf>,
}

impl Lab {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn add_ns(&mut self, name: &str) {
        let ns = self.ns(name);
        must(&["ip", "netns", "add", &ns]);
        self.made.push(ns.clone());
        must(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    }

    fn ip(&self, name: &str, args: &[&str]) {
        let ns = self.ns(name);
        let mut all = vec!["ip", "-n", ns.as_str()];
        all.extend_from_slice(args);
        must(&all);
    }

    /// A veth pair from `a` (named `a_if`) to `b` (named `b_if`).
    fn link(&self, a: &str, a_if: &str, b: &str, b_if: &str) {
        let (na, nb) = (self.ns(a), self.ns(b));
        must(&["ip", "link", "add", a_if, "netns", &na, "type", "veth", "peer", "name", b_if, "netns", &nb]);
        self.ip(a, &["link", "set", a_if, "up"]);
        self.ip(b, &["link", "set", b_if, "up"]);
    }

    /// Forwarding on, and one masquerade rule per `rules` entry.
    fn forward_and_masquerade(&self, name: &str, rules: &[&str]) {
        let ns = self.ns(name);
        must(&["ip", "netns", "exec", &ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        let rules: String = rules.iter().map(|rule| format!("    {rule} masquerade\n")).collect();
        let ruleset = format!(
            "table ip lab {{\n  chain post {{\n    type nat hook postrouting priority srcnat; policy accept;\n{rules}  }}\n}}\n"
        );
        let mut nft = Command::new("ip")
            .args(["netns", "exec", &ns, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("nft runs");
        std::io::Write::write_all(&mut nft.stdin.take().unwrap(), ruleset.as_bytes()).unwrap();
        let out = nft.wait_with_output().unwrap();
        assert!(out.status.success(), "nft in {ns}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A pod namespace `pod` on node `node`, with the pod CIDR /24 `index`.
    fn pod(&mut self, node: &str, pod: &str, index: u8) {
        self.add_ns(pod);
        let (node_if, pod_if) = (format!("p{index}"), "eth0".to_owned());
        self.link(node, &node_if, pod, &pod_if);
        self.ip(node, &["addr", "add", &format!("10.42.{index}.1/24"), "dev", &node_if]);
        self.ip(pod, &["addr", "add", &format!("10.42.{index}.2/24"), "dev", &pod_if]);
        self.ip(pod, &["route", "add", "default", "via", &format!("10.42.{index}.1")]);
    }

    fn build() -> Self {
        let mut lab = Self { prefix: format!("ce{}-", std::process::id()), made: Vec::new(), files: Vec::new() };
        for ns in ["inet", "gw", "w1", "w2", "pw"] {
            lab.add_ns(ns);
        }
        // The internet: a bridge for the public sides, the echo services' addresses.
        lab.ip("inet", &["link", "add", "br0", "type", "bridge"]);
        lab.ip("inet", &["link", "set", "br0", "up"]);
        lab.ip("inet", &["addr", "add", "203.0.113.1/24", "dev", "br0"]);
        lab.ip("inet", &["addr", "add", "198.51.100.80/32", "dev", "lo"]);
        lab.ip("inet", &["addr", "add", "198.51.100.53/32", "dev", "lo"]);
        // The gateway: public side with the egress IP, private side the node network.
        lab.link("gw", "pub", "inet", "gw0");
        lab.ip("inet", &["link", "set", "gw0", "master", "br0"]);
        lab.ip("gw", &["addr", "add", &format!("{GATEWAY_IP}/24"), "dev", "pub"]);
        lab.ip("gw", &["route", "add", "default", "via", "203.0.113.1"]);
        lab.ip("gw", &["link", "add", "brn", "type", "bridge"]);
        lab.ip("gw", &["link", "set", "brn", "up"]);
        lab.ip("gw", &["addr", "add", "192.168.1.1/24", "dev", "brn"]);
        // Out of its public side everything leaves from the egress IP; its own
        // pods reach the node network from its private IP, as flannel does.
        lab.forward_and_masquerade("gw", &["oifname \"pub\"", POD_MASQUERADE]);
        // Private workers, routed through the gateway, masquerading their pods.
        for (node, host) in [("w1", 2), ("w2", 3), ("pw", 4)] {
            let port = format!("n{host}");
            lab.link(node, "eth0", "gw", &port);
            lab.ip("gw", &["link", "set", &port, "master", "brn"]);
            lab.ip(node, &["addr", "add", &format!("192.168.1.{host}/24"), "dev", "eth0"]);
        }
        for node in ["w1", "w2"] {
            lab.ip(node, &["route", "add", "default", "via", "192.168.1.1"]);
            lab.forward_and_masquerade(node, &[POD_MASQUERADE]);
        }
        // The public-IP pool worker: its own public side and default route.
        lab.link("pw", "pub", "inet", "pw0");
        lab.ip("inet", &["link", "set", "pw0", "master", "br0"]);
        lab.ip("pw", &["addr", "add", &format!("{PUBLIC_WORKER_IP}/24"), "dev", "pub"]);
        lab.ip("pw", &["route", "add", "default", "via", "203.0.113.1"]);
        lab.forward_and_masquerade("pw", &["oifname \"pub\"", POD_MASQUERADE]);
        // A destination inside the cluster's network (a managed database, say).
        lab.add_ns("db");
        lab.link("db", "eth0", "gw", "n50");
        lab.ip("gw", &["link", "set", "n50", "master", "brn"]);
        lab.ip("db", &["addr", "add", &format!("{PRIVATE_DESTINATION}/24"), "dev", "eth0"]);
        // A pod on every node.
        for (node, pod, index) in [("gw", "pod-gw", 0), ("w1", "pod-w1", 1), ("w2", "pod-w2", 2), ("pw", "pod-pw", 3)] {
            lab.pod(node, pod, index);
        }
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Runs `work` on a thread that has entered namespace `ns`, with a runtime
/// of its own: every socket it opens lives in that namespace.
fn in_namespace<T: Send + 'static>(ns: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let path = PathBuf::from("/var/run/netns").join(ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        work()
    })
    .join()
    .unwrap()
}

/// Runs what `start` serves on a thread inside namespace `ns`, until the
/// returned sender is dropped.
fn serve_in<T: 'static, F: Future<Output = T>>(ns: &str, start: impl FnOnce() -> F + Send + 'static) -> Sender<()> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let (ready, is_ready) = std::sync::mpsc::channel();
    let path = PathBuf::from("/var/run/netns").join(ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let _serving = runtime.block_on(start());
        ready.send(()).unwrap();
        let _ = stopped.recv();
        drop(runtime);
    });
    is_ready.recv_timeout(Duration::from_secs(10)).expect("the services started");
    stop
}

/// An HTTP echo on `bind`: it answers the source address it really saw.
async fn http_echo(bind: &str) {
    crate::common::server::serve_on(bind.parse().unwrap(), |request| {
        crate::common::server::Reply::text(200, "text/plain", format!("{}\n", request.peer.ip()))
    })
    .await;
}

/// The echo services of the internet namespace, HTTP and DNS.
fn start_echo_services(ns: &str) -> Sender<()> {
    serve_in(ns, || async {
        http_echo("198.51.100.80:80").await;
        let dns = crate::common::dns::FakeDns::start_on(DNS_ECHO.parse().unwrap()).await;
        dns.opendns(crate::common::dns::Answer::Asker);
        dns
    })
}

/// An HTTP echo service on the private destination, in its own namespace.
fn start_private_echo(ns: &str) -> Sender<()> {
    serve_in(ns, || http_echo(PRIVATE_BIND))
}

/// What the private destination sees a pod come from.
fn seen_by_private_destination(ns: &str) -> IpAddr {
    in_namespace(ns, || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let source = HttpEchoSource::builder(PRIVATE_ECHO)
            .addresses(civo_egress::AddressPolicy::AllowNonGlobal)
            .build()
            .unwrap();
        let seen = runtime.block_on(source.gather(IpFamily::V4)).unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen[0]
    })
}

/// The CLI on the host: `whitelist --destination` as JSON.
fn whitelist_for_destination(snapshot: &std::path::Path, destination: &str) -> Vec<IpAddr> {
    let out = run(&[
        cli_binary().to_str().unwrap(),
        "whitelist",
        "--topology",
        snapshot.to_str().unwrap(),
        "--allow-non-global",
        "--destination",
        destination,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ips: Vec<IpAddr> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["cidr"].as_str().unwrap().parse::<civo_egress::ipnet::IpNet>().unwrap().addr())
        .collect();
    ips.sort();
    ips
}

/// The `civo-egress` binary, built by cargo for this test (feature `cli`).
fn cli_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_civo-egress"))
}

/// The library, inside a pod: the snapshot expects, the echo services observe.
fn resolve_in(ns: &str) -> EgressReport {
    resolve_in_with(ns, SNAPSHOT)
}

/// The library, inside a pod, with `snapshot` as what is expected.
fn resolve_in_with(ns: &str, snapshot: &'static str) -> EgressReport {
    in_namespace(ns, move || {
        let lab = civo_egress::AddressPolicy::AllowNonGlobal;
        let topology = Topology::from_json_with(snapshot, Validation::strict().allow_non_global(true)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            EgressResolver::builder()
                .cluster("lab")
                .vantage(Vantage::Pod)
                .addresses(lab)
                .quorum(2)
                .deadline(Duration::from_secs(5))
                .source(TopologySource::new(&topology, "lab").unwrap())
                .source(HttpEchoSource::builder(HTTP_ECHO).addresses(lab).build().unwrap())
                .source(DnsEchoSource::new(DnsEchoStyle::OpenDns, DNS_ECHO.parse().unwrap()))
                .build()
                .unwrap()
                .resolve()
                .await
        })
    })
}

/// The CLI, inside a pod.
fn cli_in(ns: &str, snapshot: &std::path::Path) -> (i32, serde_json::Value) {
    let binary = cli_binary();
    let out = run(&[
        "ip",
        "netns",
        "exec",
        ns,
        binary.to_str().unwrap(),
        "resolve",
        "--topology",
        snapshot.to_str().unwrap(),
        "--cluster",
        "lab",
        "--allow-non-global",
        "--echo-url",
        HTTP_ECHO,
        "--dns-server",
        DNS_ECHO,
        "--quorum",
        "2",
        "--vantage",
        "pod",
        "--timeout",
        "5",
        "--format",
        "json",
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

fn observed_by_each(report: &EgressReport) -> Vec<(String, Option<IpAddr>)> {
    report.evidence().iter().filter(|e| e.source() != "topology:lab").map(|e| (e.source().to_owned(), e.ip())).collect()
}

pub(crate) fn the_articles_experiment_in_network_namespaces() {
    let mut lab = Lab::build();
    let stop = start_echo_services(&lab.ns("inet"));
    let gateway: IpAddr = GATEWAY_IP.parse().unwrap();
    let public_worker: IpAddr = PUBLIC_WORKER_IP.parse().unwrap();

    // 1 and 4: every pod on a private worker or on the gateway leaves from the
    // gateway's IP, by HTTP and by DNS alike, and the snapshot confirms it.
    for pod in ["pod-w1", "pod-w2", "pod-gw"] {
        let report = resolve_in(&lab.ns(pod));
        let seen = observed_by_each(&report);
        assert_eq!(seen.len(), 2, "{pod}: {report:?}");
        assert!(seen.iter().all(|(_, ip)| *ip == Some(gateway)), "{pod}: HTTP and DNS saw {seen:?}");
        assert_eq!(report.status(), EgressStatus::Confirmed, "{pod}: {report:?}");
        assert_eq!(report.observed(), Some(gateway));
    }
    // 2: a pod on the public-IP worker leaves from that worker's own IP, which
    // the snapshot's egress set holds and its whitelist lists.
    let report = resolve_in(&lab.ns("pod-pw"));
    assert!(observed_by_each(&report).iter().all(|(_, ip)| *ip == Some(public_worker)), "{report:?}");
    assert_eq!(report.status(), EgressStatus::Confirmed, "{report:?}");
    // Rule 1: a pod sees only its own node. This pod never saw the gateway's
    // IP, which the other nodes' pods leave from: it stays an egress IP, and
    // is not stale.
    assert_eq!(report.egress_ips(), [gateway, public_worker], "{report:?}");
    assert!(report.stale_ips().is_empty(), "one pod proves nothing stale: {report:?}");
    let topology = Topology::from_json_with(SNAPSHOT, Validation::strict().allow_non_global(true)).unwrap();
    assert!(civo_egress::Whitelist::of(&topology).unwrap().contains(public_worker));

    // The CLI, run inside a pod, agrees, on a private worker and on the public-IP worker.
    let snapshot = std::env::temp_dir().join(format!("{}snapshot.json", lab.prefix));
    std::fs::write(&snapshot, SNAPSHOT).unwrap();
    lab.files.push(snapshot.clone());
    for pod in ["pod-w1", "pod-pw"] {
        let (code, json) = cli_in(&lab.ns(pod), &snapshot);
        assert_eq!((code, json["status"].as_str()), (0, Some("confirmed")), "{pod}: {json}");
        assert_eq!(json["egress_ips"], serde_json::json!([GATEWAY_IP, PUBLIC_WORKER_IP]), "{pod}: {json}");
        assert_eq!(json["stale_ips"], serde_json::json!([]), "{pod}: {json}");
    }

    // Rule 1, the other half: a pod whose egress the snapshot does not expect
    // (it does not know the public-IP worker's own IP) is a mismatch; the
    // observed IP joins the expected ones, and the gateway's IP, which this
    // pod could not see, is not stale.
    let report = resolve_in_with(&lab.ns("pod-pw"), SNAPSHOT_NO_PUBLIC);
    assert_eq!((report.status(), report.observed()), (EgressStatus::Mismatch, Some(public_worker)), "{report:?}");
    assert_eq!(report.egress_ips(), [gateway, public_worker], "expected + observed: {report:?}");
    assert!(report.stale_ips().is_empty(), "{report:?}");
    assert!(report.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::Mismatch), "{report:?}");
    let no_public = std::env::temp_dir().join(format!("{}snapshot-no-public.json", lab.prefix));
    std::fs::write(&no_public, SNAPSHOT_NO_PUBLIC).unwrap();
    lab.files.push(no_public.clone());
    let (code, json) = cli_in(&lab.ns("pod-pw"), &no_public);
    assert_eq!((code, json["status"].as_str()), (1, Some("mismatch")), "{json}");
    assert_eq!(json["egress_ips"], serde_json::json!([GATEWAY_IP, PUBLIC_WORKER_IP]), "{json}");
    assert_eq!(json["stale_ips"], serde_json::json!([]), "{json}");
    // The pods the snapshot is right about are still confirmed by it.
    let (code, json) = cli_in(&lab.ns("pod-w2"), &no_public);
    assert_eq!((code, json["status"].as_str()), (0, Some("confirmed")), "{json}");

    // 5: the answer depends on the destination. A host inside the cluster's
    // network sees each pod come from its node's private IP (it never passes
    // the gateway), while the internet sees the egress IPs; the whitelist for
    // that destination lists exactly the node IPs it observed.
    let stop_private = start_private_echo(&lab.ns("db"));
    let mut seen_privately = Vec::new();
    for pod in ["pod-gw", "pod-w1", "pod-w2", "pod-pw"] {
        let private = seen_by_private_destination(&lab.ns(pod));
        let internet = observed_by_each(&resolve_in(&lab.ns(pod)));
        assert!(
            internet.iter().all(|(_, ip)| ip.is_some() && *ip != Some(private)),
            "{pod}: {private} vs {internet:?}"
        );
        seen_privately.push(private);
    }
    seen_privately.sort();
    let node_ips: Vec<IpAddr> =
        ["192.168.1.1", "192.168.1.2", "192.168.1.3", "192.168.1.4"].map(|ip| ip.parse().unwrap()).into();
    assert_eq!(seen_privately, node_ips, "each pod reaches the private destination from its node's IP");
    assert_eq!(whitelist_for_destination(&snapshot, PRIVATE_DESTINATION), seen_privately);
    assert_eq!(
        whitelist_for_destination(&snapshot, "198.51.100.80"),
        [gateway, public_worker],
        "the internet: egress IPs"
    );
    drop(stop_private);

    // 6: the probe, from the host through the Kubernetes API, sees every node:
    // private workers and the gateway leave from the gateway's IP, the
    // public-IP worker from its own.
    #[cfg(feature = "probe")]
    {
        let report = probe_lab(&lab, None);
        assert_eq!(report.status(), civo_egress::EgressStatus::Confirmed, "{report:?}");
        for (node, ip) in [("gw", gateway), ("w1", gateway), ("w2", gateway), ("pw", public_worker)] {
            assert_eq!(report.node(node).and_then(|n| n.observed()), Some(ip), "{node}: {report:?}");
        }
        assert_eq!(report.egress_ips(), [gateway, public_worker]);
        assert!(report.stale_ips().is_empty() && report.unverified_ips().is_empty(), "{report:?}");

        // Rule 8: the public-IP worker's pod never starts. The other nodes
        // are probed; the report is partial (a failure), and that node's
        // expected IP stays among the egress IPs, unverified, not stale.
        let report = probe_lab(&lab, Some("pw"));
        assert_eq!(report.status(), civo_egress::EgressStatus::Partial, "{report:?}");
        assert!(!report.status().is_ok());
        for (node, ip) in [("gw", gateway), ("w1", gateway), ("w2", gateway)] {
            assert_eq!(report.node(node).and_then(|n| n.observed()), Some(ip), "{node}: {report:?}");
        }
        let row = report.node("pw").unwrap();
        assert_eq!((row.observed(), row.status()), (None, civo_egress::EgressStatus::Unknown), "{report:?}");
        assert!(row.error().is_some_and(civo_egress::probe::ProbeError::is_timeout), "{row:?}");
        assert!(report.egress_ips().contains(&public_worker) && report.egress_ips().contains(&gateway), "{report:?}");
        assert_eq!(report.unverified_ips(), [public_worker], "{report:?}");
        assert!(report.stale_ips().is_empty(), "a node not probed proves nothing stale: {report:?}");
        let not_probed = report
            .warnings()
            .iter()
            .find(|w| {
                w.kind() == civo_egress::WarningKind::NotProbed
                    && w.subject() == Some(&civo_egress::Subject::Node("pw".to_owned()))
            })
            .unwrap_or_else(|| panic!("a not-probed warning naming pw: {report:?}"));
        assert!(
            not_probed.message().contains("node pw") && not_probed.message().contains(PUBLIC_WORKER_IP),
            "{not_probed}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert!(
            json["warnings"].as_array().unwrap().iter().any(|w| w["kind"] == "not-probed" && w["node"] == "pw"),
            "{json}"
        );
    }

    // 3: the control plane is replaced: the gateway leaves from a new IP.
    lab.ip("gw", &["addr", "del", &format!("{GATEWAY_IP}/24"), "dev", "pub"]);
    lab.ip("gw", &["addr", "add", &format!("{REPLACED_IP}/24"), "dev", "pub"]);
    lab.ip("gw", &["route", "replace", "default", "via", "203.0.113.1"]);
    let (code, json) = cli_in(&lab.ns("pod-w1"), &snapshot);
    assert_eq!((code, json["status"].as_str()), (1, Some("mismatch")), "{json}");
    // Rule 1: what the cluster is expected to leave from, and what this pod
    // leaves from now; one pod proves no expected IP stale (the public-IP
    // worker still leaves from its own).
    assert_eq!(json["egress_ips"], serde_json::json!([GATEWAY_IP, PUBLIC_WORKER_IP, REPLACED_IP]), "{json}");
    assert_eq!(json["stale_ips"], serde_json::json!([]), "{json}");
    let report = resolve_in(&lab.ns("pod-w2"));
    assert_eq!((report.status(), report.observed()), (EgressStatus::Mismatch, Some(REPLACED_IP.parse().unwrap())));
    assert!(report.stale_ips().is_empty(), "{report:?}");
    assert!(report.warnings().iter().any(|w| w.kind() == civo_egress::WarningKind::Mismatch), "{report:?}");
    // The probe names each node that now leaves from an IP the whitelist lacks, and both IPs.
    #[cfg(feature = "probe")]
    {
        let replaced: IpAddr = REPLACED_IP.parse().unwrap();
        let report = probe_lab(&lab, None);
        assert_eq!(report.status(), civo_egress::EgressStatus::Mismatch, "{report:?}");
        // Every node probed, none left from the old gateway IP: only this
        // proves it stale. The public-IP worker's IP is still in use.
        assert_eq!(report.stale_ips(), [gateway], "{report:?}");
        assert!(report.unverified_ips().is_empty(), "{report:?}");
        assert!(report.egress_ips().contains(&replaced) && report.egress_ips().contains(&public_worker), "{report:?}");
        assert!(!report.egress_ips().contains(&gateway), "{report:?}");
        for node in ["gw", "w1", "w2"] {
            let row = report.node(node).unwrap();
            assert_eq!((row.observed(), row.status()), (Some(replaced), civo_egress::EgressStatus::Mismatch));
            let named = |w: &&civo_egress::Warning| {
                w.kind() == civo_egress::WarningKind::Mismatch
                    && w.subject() == Some(&civo_egress::Subject::Node(node.to_owned()))
            };
            let warning = report.warnings().iter().find(named).unwrap_or_else(|| panic!("{node}: {report:?}"));
            // Both IPs: in the row, and in the sentence.
            assert_eq!(row.expected(), [gateway]);
            let (replaced_text, gateway_text) = (replaced.to_string(), gateway.to_string());
            assert!(
                warning.message().contains(&replaced_text) && warning.message().contains(&gateway_text),
                "{warning}"
            );
        }
        assert_eq!(report.node("pw").and_then(|n| n.observed()), Some(public_worker), "the public worker is unchanged");
    }

    drop(stop);
}

/// The fake Kubernetes API's kubelet for the lab: it runs each probe pod's
/// command (curl against the echo URLs) inside the pod namespace of the
/// node the pod is pinned to, and serves what it printed as the pod's log.
#[cfg(feature = "probe")]
struct NetnsKubelet {
    prefix: String,
    /// When the last pod's log was ready: the probe's time to return is measured from it.
    last_log: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// The nodes whose pods the fake's own kubelet handles instead
    /// ([`Behaviour::NeverStarts`](crate::common::kube_api::Behaviour::NeverStarts)...).
    overridden: Vec<String>,
    overrides: crate::common::kube_api::EchoKubelet,
}

#[cfg(feature = "probe")]
#[async_trait::async_trait]
impl crate::common::kube_api::Kubelet for NetnsKubelet {
    async fn start(&self, pod: &crate::common::kube_api::PodRun) -> crate::common::kube_api::Start {
        if self.overridden.contains(&pod.node) {
            return crate::common::kube_api::Kubelet::start(&self.overrides, pod).await;
        }
        crate::common::kube_api::Start::Run
    }

    async fn run(&self, pod: &crate::common::kube_api::PodRun) -> crate::common::kube_api::Exit {
        if self.overridden.contains(&pod.node) {
            return crate::common::kube_api::Kubelet::run(&self.overrides, pod).await;
        }
        let ns = format!("{}pod-{}", self.prefix, pod.node);
        let argv = pod.argv();
        let out = tokio::process::Command::new("ip")
            .args(["netns", "exec", &ns])
            .args(&argv)
            .kill_on_drop(true)
            .output()
            .await
            .expect("ip netns exec runs");
        *self.last_log.lock().unwrap() = Some(std::time::Instant::now());
        crate::common::kube_api::Exit {
            code: out.status.code().unwrap_or(1),
            log: String::from_utf8_lossy(&out.stdout).into(),
        }
    }
}

/// A directory removed when dropped (a failing assertion unwinds through it too).
#[cfg(feature = "probe")]
struct TempDir(PathBuf);

#[cfg(feature = "probe")]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The probe, from the host through the fake Kubernetes API, against the
/// lab's nodes; the pods of `never_starts` never start (the fake kubelet's
/// `Behaviour::NeverStarts`), and then each pod has 2 s.
#[cfg(feature = "probe")]
fn probe_lab(lab: &Lab, never_starts: Option<&str>) -> civo_egress::probe::ProbeReport {
    use crate::common::kube_api::{Behaviour, EchoKubelet, FakeKube, FakeNode};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let last_log = std::sync::Arc::new(std::sync::Mutex::new(None));
        let nodes = [("gw", "192.168.1.1"), ("w1", "192.168.1.2"), ("w2", "192.168.1.3"), ("pw", "192.168.1.4")]
            .map(|(name, ip)| FakeNode::new(name, ip));
        let mut kubelet = NetnsKubelet {
            prefix: lab.prefix.clone(),
            last_log: last_log.clone(),
            overridden: Vec::new(),
            overrides: EchoKubelet::new(),
        };
        if let Some(node) = never_starts {
            kubelet.overridden.push(node.to_owned());
            kubelet.overrides = kubelet.overrides.node(node, Behaviour::NeverStarts);
        }
        let fake = FakeKube::builder().nodes(nodes).kubelet(kubelet).tls().client_cert().start().await;
        // The probe's own pod timeout, not the kubelet's activeDeadlineSeconds, ends the wait.
        fake.honour_active_deadline(never_starts.is_none());
        let dir = TempDir(std::env::temp_dir().join(format!("{}kube", lab.prefix)));
        std::fs::create_dir_all(&dir.0).unwrap();
        let kubeconfig = fake.write_kubeconfig(&dir.0);
        let topology = Topology::from_json_with(SNAPSHOT, Validation::strict().allow_non_global(true)).unwrap();
        let mut probe = civo_egress::probe::Probe::builder()
            .kubeconfig(&kubeconfig)
            .echo_url(HTTP_ECHO)
            .addresses(civo_egress::AddressPolicy::AllowNonGlobal)
            .timeout(Duration::from_secs(30));
        if never_starts.is_some() {
            probe = probe.pod_timeout(Duration::from_secs(2));
        }
        let probe = probe.build().unwrap();
        let started = std::time::Instant::now();
        let report = probe.run(topology.cluster("lab").unwrap()).await.unwrap();
        let returned = std::time::Instant::now();
        let last = last_log.lock().unwrap().expect("the kubelet ran pods");
        let case = never_starts.map_or_else(String::new, |node| format!(" ({node}'s pod never starts)"));
        eprintln!(
            "probe of the 4-node lab{case}: {:?} wall, {:?} from the last pod's log to the return",
            returned - started,
            returned - last
        );
        let left = fake.wait_no_pods_matching("app.kubernetes.io/managed-by", Duration::from_secs(6)).await;
        assert!(left.is_empty(), "the probe left pods behind: {left:#?}");
        drop(dir);
        report
    })
}
