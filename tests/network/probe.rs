//! The probe (feature `probe`) against the fake Kubernetes API of
//! tests/common/kube_api.rs, whose kubelet runs each pod's curl command
//! through a curl emulator here: success on every node, a mismatch, 403 on
//! create, a pod that never starts, a pod Pending past the deadline, a 500,
//! a node that does not exist, a dropped future; after every case no pod
//! with the probe's label is left; no token or client key in any output.

use std::net::IpAddr;
use std::time::Duration;

use civo_egress::EgressStatus as ProbeStatus;
use civo_egress::Validation;
use civo_egress::probe::{MANAGED_BY, MANAGED_BY_LABEL, Probe, ProbeError, ProbeReport};
use civo_egress::{Cluster, Node, Topology};
use civo_egress::{Subject, WarningKind};

use crate::common::kube_api::{Behaviour, Credentials, EchoKubelet, FakeKube, kubelet, lab_nodes};

const ECHO_A: &str = "https://echo-a.test/ip";
const ECHO_B: &str = "https://echo-b.test/ip";
const EGRESS: &str = "212.2.253.151";
const PUBLIC: &str = "212.2.246.9";

fn label() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY}")
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn lab_cluster() -> Cluster {
    let topology = Topology::from_json(&format!(
        r#"{{"clusters": [{{"name": "lab", "egress_ip": "{EGRESS}", "network_cidr": "192.168.1.0/24",
        "nodes": [{{"name": "gw", "private_ip": "192.168.1.2", "public_ip": "{EGRESS}"}},
                  {{"name": "worker-a", "private_ip": "192.168.1.3"}},
                  {{"name": "k3s-public", "private_ip": "192.168.1.9", "public_ip": "{PUBLIC}"}}]}}]}}"#
    ))
    .unwrap();
    topology.cluster("lab").unwrap().clone()
}

fn lab_kubelet() -> EchoKubelet {
    kubelet(&[("k3s-gw", EGRESS), ("k3s-worker-a", EGRESS), ("k3s-public", PUBLIC)])
}

struct Lab {
    fake: FakeKube,
    dir: std::path::PathBuf,
}

async fn lab(name: &str, tls: bool) -> Lab {
    let mut builder = FakeKube::builder().nodes(lab_nodes(PUBLIC)).kubelet(lab_kubelet());
    if tls {
        builder = builder.tls().client_cert();
    }
    let fake = builder.start().await;
    let dir = std::env::temp_dir().join(format!("civo-egress-probe-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fake.write_kubeconfig(&dir);
    Lab { fake, dir }
}

impl Lab {
    fn probe(&self) -> civo_egress::probe::ProbeBuilder {
        Probe::builder()
            .kubeconfig(self.dir.join("kubeconfig"))
            .echo_url(ECHO_A)
            .echo_url(ECHO_B)
            .pod_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
    }

    /// No pod with the probe's label is left (deletions spawned by a drop
    /// land a little later).
    async fn assert_no_pod_left(&self) {
        let left = self.fake.wait_no_pods_matching(&label(), Duration::from_secs(6)).await;
        assert!(left.is_empty(), "pods left behind: {left:#?}");
    }

    /// Neither the token nor the client key in `text`.
    fn assert_no_secret(&self, text: &str) {
        if let Some(token) = self.fake.token() {
            assert!(!text.contains(token), "the token leaked: {text}");
        }
        if let Some(key) = self.fake.client_key_pem() {
            for line in key.lines().filter(|l| l.len() > 16 && !l.starts_with("-----")) {
                assert!(!text.contains(line), "the client key leaked: {text}");
            }
        }
    }

    fn assert_report_has_no_secret(&self, report: &ProbeReport) {
        self.assert_no_secret(&format!("{report:?}"));
        self.assert_no_secret(&serde_json::to_string(report).unwrap());
        for row in report.nodes() {
            if let Some(error) = row.error() {
                self.assert_error_has_no_secret(error);
            }
        }
    }

    fn assert_error_has_no_secret(&self, error: &ProbeError) {
        let mut link: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = link {
            self.assert_no_secret(&e.to_string());
            self.assert_no_secret(&format!("{e:?}"));
            link = e.source();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_leaves_from_its_expected_ip() {
    let lab = lab("success", true).await;
    let probe = lab.probe().build().unwrap();
    lab.assert_no_secret(&format!("{probe:?}"));
    let report = probe.run(&lab_cluster()).await.unwrap();
    assert_eq!(report.status(), ProbeStatus::Confirmed, "{report:#?}");
    assert_eq!(report.cluster(), "lab");
    assert_eq!(report.egress_ips(), [ip(PUBLIC), ip(EGRESS)]);
    let names: Vec<&str> = report.nodes().iter().map(|n| n.node()).collect();
    assert_eq!(names, ["k3s-gw", "k3s-public", "k3s-worker-a"]);
    let gw = report.node("k3s-gw").unwrap();
    assert_eq!(
        (gw.private_ip(), gw.expected(), gw.observed()),
        (Some(ip("192.168.1.2")), &[ip(EGRESS)][..], Some(ip(EGRESS)))
    );
    assert!(gw.in_topology(), "joined by InternalIP although the names differ");
    assert_eq!(gw.observations().len(), 2);
    assert!(gw.observations().iter().all(|o| o.ip() == Some(ip(EGRESS))));
    // The public-IP node joins by name (its InternalIP differs) and expects its own IP.
    let public = report.node("k3s-public").unwrap();
    assert_eq!((public.expected(), public.observed()), (&[ip(PUBLIC)][..], Some(ip(PUBLIC))));
    assert_eq!(report.node("k3s-worker-a").unwrap().expected(), [ip(EGRESS)]);
    assert!(report.warnings().is_empty(), "{:?}", report.warnings());
    assert!(report.after_last_log().is_some_and(|d| d <= report.elapsed()));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "confirmed");
    assert_eq!(json["nodes"][0]["error"], serde_json::Value::Null);
    lab.assert_report_has_no_secret(&report);

    // The pods as created: pinned, tolerant, restricted, labelled, named.
    let created = lab.fake.created_pods();
    assert_eq!(created.len(), 3);
    for pod in &created {
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("civo-egress-probe-") && name.len() <= 63, "{name}");
        assert_eq!(pod["metadata"]["namespace"], "default");
        assert_eq!(pod["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY);
        let spec = &pod["spec"];
        assert!(spec["nodeName"].as_str().is_some_and(|n| name.contains(n)));
        assert_eq!(spec["restartPolicy"], "Never");
        assert!(spec["activeDeadlineSeconds"].as_i64().is_some_and(|s| s > 0));
        assert_eq!(spec["tolerations"], serde_json::json!([{"operator": "Exists"}]));
        let sc = &spec["containers"][0]["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["runAsNonRoot"], true);
        assert!(sc["runAsUser"].as_i64().is_some_and(|u| u > 0));
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
        assert_eq!(spec["containers"][0]["image"], "curlimages/curl");
    }
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_leaving_from_another_ip_is_a_mismatch_naming_it() {
    let lab = lab("mismatch", false).await;
    lab.fake.set_kubelet(kubelet(&[
        ("k3s-gw", "212.2.253.160"),
        ("k3s-worker-a", "212.2.253.160"),
        ("k3s-public", PUBLIC),
    ]));
    let report = lab.probe().build().unwrap().run(&lab_cluster()).await.unwrap();
    assert_eq!(report.status(), ProbeStatus::Mismatch);
    assert_eq!(report.node("k3s-worker-a").unwrap().status(), ProbeStatus::Mismatch);
    assert_eq!(report.node("k3s-public").unwrap().status(), ProbeStatus::Confirmed);
    let warning = report
        .warnings()
        .iter()
        .find(|w| w.kind() == WarningKind::Mismatch && w.subject() == Some(&Subject::Node("k3s-worker-a".into())))
        .unwrap();
    assert_eq!(warning.cluster(), Some(lab_cluster().name()));
    let row = report.node("k3s-worker-a").unwrap();
    assert_eq!(row.observed(), Some(ip("212.2.253.160")));
    assert_eq!(row.expected(), [ip(EGRESS)]);
    assert!(warning.message().contains("212.2.253.160") && warning.message().contains(EGRESS));
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_create_everywhere_is_the_error_of_the_run() {
    let lab = lab("forbidden", true).await;
    lab.fake.forbid_pod_create();
    // Rule 8: every node failing alike is a probe that could not run, not
    // a report of unknown rows.
    let error = lab.probe().build().unwrap().run(&lab_cluster()).await.unwrap_err();
    assert!(error.is_forbidden(), "{error:?}");
    lab.assert_error_has_no_secret(&error);
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_never_starts_times_out_and_is_deleted() {
    let lab = lab("never-starts", false).await;
    lab.fake.set_kubelet(lab_kubelet().node("k3s-worker-a", Behaviour::NeverStarts));
    lab.fake.honour_active_deadline(false);
    let started = std::time::Instant::now();
    let report = lab.probe().pod_timeout(Duration::from_secs(2)).build().unwrap().run(&lab_cluster()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    // Rule 8: the others were probed, the failed node leaves it partial.
    assert_eq!(report.status(), ProbeStatus::Partial);
    assert!(!report.status().is_ok());
    let row = report.node("k3s-worker-a").unwrap();
    assert_eq!(row.status(), ProbeStatus::Unknown);
    let error = row.error().unwrap();
    assert!(error.is_timeout(), "{error:?}");
    assert!(matches!(error, ProbeError::PodTimeout { phase, .. } if phase.contains("ImagePullBackOff")), "{error}");
    assert!(
        report
            .warnings()
            .iter()
            .any(|w| w.kind() == WarningKind::NotProbed && w.subject() == Some(&Subject::Node("k3s-worker-a".into())))
    );
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_pending_past_the_deadline_is_deleted_and_the_run_returns() {
    let lab = lab("deadline", false).await;
    lab.fake.set_kubelet(EchoKubelet::new().node("k3s-gw", Behaviour::NeverStarts));
    lab.fake.honour_active_deadline(false);
    let started = std::time::Instant::now();
    let report = lab
        .probe()
        .node("k3s-gw")
        .pod_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .run(&lab_cluster())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    // The one node asked failed: the probe could not run.
    assert!(report.is_timeout(), "{report:?}");
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_typed() {
    let lab = lab("500", false).await;
    lab.fake.fail(Some("POST"), "/api/v1/namespaces/*", 500);
    // Every create failing alike: the run's error.
    let error = lab.probe().build().unwrap().run(&lab_cluster()).await.unwrap_err();
    assert_eq!(error.status(), Some(500), "{error:?}");
    lab.assert_no_pod_left().await;
    // A 500 on the node list: the probe cannot start.
    lab.fake.clear_faults();
    lab.fake.fail(Some("GET"), "/api/v1/nodes", 500);
    let error = lab.probe().build().unwrap().run(&lab_cluster()).await.unwrap_err();
    assert_eq!(error.status(), Some(500), "{error:?}");
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_fails_without_answers_is_a_pod_failure() {
    let lab = lab("fails", false).await;
    lab.fake
        .set_kubelet(lab_kubelet().node("k3s-public", Behaviour::Exit(6, "curl: (6) Could not resolve host\n".into())));
    let report = lab.probe().build().unwrap().run(&lab_cluster()).await.unwrap();
    let row = report.node("k3s-public").unwrap();
    assert_eq!(row.status(), ProbeStatus::Unknown);
    assert!(row.error().is_some_and(ProbeError::is_pod_failure), "{row:?}");
    assert_eq!(report.status(), ProbeStatus::Partial);
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_named_that_does_not_exist_is_a_row_error() {
    let lab = lab("no-such-node", false).await;
    let report = lab.probe().node("k3s-worker-a").node("k3s-ghost").build().unwrap().run(&lab_cluster()).await.unwrap();
    assert_eq!(report.status(), ProbeStatus::Partial, "the node asked for was not probed");
    let names: Vec<&str> = report.nodes().iter().map(|n| n.node()).collect();
    assert_eq!(names, ["k3s-worker-a", "k3s-ghost"]);
    let ghost = report.node("k3s-ghost").unwrap();
    assert!(ghost.error().is_some_and(ProbeError::is_no_such_node));
    assert_eq!((ghost.private_ip(), ghost.observed(), ghost.pod()), (None, None, None));
    assert_eq!(lab.fake.created_pods().len(), 1, "only the node that exists got a pod");
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_run_leaves_no_pod() {
    let lab = lab("dropped", false).await;
    lab.fake.set_kubelet(EchoKubelet::new().node("k3s-gw", Behaviour::Hang).node("k3s-worker-a", Behaviour::Hang));
    lab.fake.honour_active_deadline(false);
    let probe = lab.probe().build().unwrap();
    let cluster = lab_cluster();
    // Boxed: dropping it drops the future itself (a `tokio::pin!` would not).
    let mut run = Box::pin(probe.run(&cluster));
    // Run until the pods exist, then drop the future.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        tokio::select! {
            _ = &mut run => panic!("the run ended although its pods hang"),
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if lab.fake.pods_matching(&label()).len() >= 2 || tokio::time::Instant::now() > deadline {
            break;
        }
    }
    assert!(lab.fake.pods_matching(&label()).len() >= 2, "the pods were created");
    drop(run);
    lab.assert_no_pod_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_unauthorized_without_the_token() {
    let lab = lab("unauthorized", false).await;
    let wrong = "wrong-token-5a4b3c2d1e0f";
    let config = lab.fake.kubeconfig_with(&Credentials { token: Some(wrong.to_owned()), client_cert: false });
    std::fs::write(lab.dir.join("wrong"), config).unwrap();
    let probe = lab.probe().kubeconfig(lab.dir.join("wrong")).build().unwrap();
    let error = probe.run(&lab_cluster()).await.unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = link {
        assert!(!e.to_string().contains(wrong) && !format!("{e:?}").contains(wrong), "{e:?}");
        link = e.source();
    }
    assert!(!format!("{probe:?}").contains(wrong));
    // An unknown context is bad input, found at build.
    let error = lab.probe().context("nope").build().unwrap_err();
    assert!(error.is_config() && matches!(error, ProbeError::Kubeconfig { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_global_answers_need_the_lab_opt_in() {
    let lab = lab("non-global", false).await;
    lab.fake.set_kubelet(kubelet(&[("k3s-worker-a", "198.51.100.7")]));
    let cluster = Cluster::builder("doc")
        .egress_ip(ip("198.51.100.7"))
        .node(Node::new("k3s-worker-a", ip("192.168.1.3")).unwrap())
        .validation(Validation::strict().allow_non_global(true))
        .build()
        .unwrap();
    let strict = lab.probe().node("k3s-worker-a").build().unwrap().run(&cluster).await.unwrap();
    assert_eq!(strict.status(), ProbeStatus::Unknown);
    let row = strict.node("k3s-worker-a").unwrap();
    assert!(
        row.observations()
            .iter()
            .all(|o| matches!(o.error(), Some(civo_egress::resolve::SourceError::NonGlobal { .. })))
    );
    let lab_opt_in = civo_egress::AddressPolicy::AllowNonGlobal;
    let report = lab.probe().node("k3s-worker-a").addresses(lab_opt_in).build().unwrap().run(&cluster).await.unwrap();
    assert_eq!(report.status(), ProbeStatus::Confirmed);
    assert_eq!(report.egress_ips(), [ip("198.51.100.7")]);
    lab.assert_no_pod_left().await;
}

/// The builder reads the kubeconfig as strictly as the CLI, and every file
/// it names with a cap: a FIFO or a device is refused at once, never handed
/// to kube-rs (which would block on the one and exhaust memory on the other).
#[test]
fn the_builder_refuses_special_files_a_kubeconfig_names() {
    let dir = std::env::temp_dir().join(format!("civo-egress-probe-named-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(dir.join("key.fifo")).status().unwrap().success());
    std::fs::write(dir.join("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let config = |ca: &str, key: &str| {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority: {ca}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate: cert.pem\n    client-key: {key}\n"
        )
    };
    let cases = [
        ("fifo.yaml", config("cert.pem", "key.fifo"), "client-key", "FIFO"),
        ("zero.yaml", config("/dev/zero", "cert.pem"), "certificate-authority", "not a regular file"),
        ("missing.yaml", config("cert.pem", "nope.pem"), "client-key", "no such file"),
    ];
    for (name, text, field, why) in cases {
        std::fs::write(dir.join(name), text).unwrap();
        let started = std::time::Instant::now();
        let error = Probe::builder().kubeconfig(dir.join(name)).build().expect_err("refused");
        assert!(started.elapsed() < Duration::from_secs(2), "{name}: at once");
        let text = error.to_string();
        assert!(error.is_config() && text.contains(field) && text.contains(why), "{name}: {text}");
    }
    // Named files that are fine are read and inlined: the build succeeds.
    std::fs::write(dir.join("ok.yaml"), config("cert.pem", "cert.pem")).unwrap();
    assert!(Probe::builder().kubeconfig(dir.join("ok.yaml")).build().is_ok());
    // What kubectl refuses, the builder refuses (the crate's reader): no server.
    std::fs::write(dir.join("noserver.yaml"), config("cert.pem", "cert.pem").replace("server:", "serverx:")).unwrap();
    assert!(Probe::builder().kubeconfig(dir.join("noserver.yaml")).build().is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
