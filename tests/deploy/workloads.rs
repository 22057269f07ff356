//! The rendered workloads run: `probe_component_runs_in_the_cluster` (the
//! probe component's kubeconfig and RBAC, a real probe against a TLS fake
//! API, and `civo-egress probe` with the CronJob's arguments) and
//! `watch_takes_the_deployment_arguments`.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use civo_egress::probe::{MANAGED_BY, MANAGED_BY_LABEL, Probe};
use civo_egress::{EgressStatus, Topology};
use serde_json::Value;

use crate::common::kube_api::{FakeKube, SeenRequest, kubelet, lab_nodes};
use crate::render::{
    IN_CLUSTER_SERVER, METRICS_PORT, NAMESPACE, SECRET_KEY, SERVICE_ACCOUNT_DIR, base, object, pod_template, runtime,
    scratch, strings, text, with_probe,
};

// ---------------------------------------------------------------------------
// probe_component_runs_in_the_cluster

const EGRESS: &str = "212.2.253.151";
const PUBLIC: &str = "212.2.246.9";

fn lab_topology() -> Topology {
    Topology::from_json(&format!(
        r#"{{"clusters": [{{"name": "lab", "egress_ip": "{EGRESS}", "network_cidr": "192.168.1.0/24",
        "nodes": [{{"name": "k3s-gw", "private_ip": "192.168.1.2", "public_ip": "{EGRESS}"}},
                  {{"name": "k3s-worker-a", "private_ip": "192.168.1.3"}},
                  {{"name": "k3s-public", "private_ip": "192.168.1.4", "public_ip": "{PUBLIC}"}}]}}]}}"#
    ))
    .unwrap()
}

/// The component's kubeconfig, its API server and service-account files
/// pointed at `fake` and at copies in `dir` (the rest as rendered).
fn in_cluster_kubeconfig(fake: &FakeKube, dir: &Path) -> PathBuf {
    let rendered = object(with_probe(), "ConfigMap", "civo-egress-probe-kubeconfig")["data"]["kubeconfig"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(rendered.contains(&format!("server: {IN_CLUSTER_SERVER}\n")), "{rendered}");
    assert!(rendered.contains(&format!("certificate-authority: {SERVICE_ACCOUNT_DIR}ca.crt\n")), "{rendered}");
    assert!(rendered.contains(&format!("tokenFile: {SERVICE_ACCOUNT_DIR}token\n")), "{rendered}");
    std::fs::write(dir.join("ca.crt"), fake.ca_pem().unwrap()).unwrap();
    std::fs::write(dir.join("token"), format!("{}\n", fake.token().unwrap())).unwrap();
    let text =
        rendered.replace(IN_CLUSTER_SERVER, &fake.url()).replace(SERVICE_ACCOUNT_DIR, &format!("{}/", dir.display()));
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

/// An RBAC rule list's verdict on (verb, resource).
fn allows(rules: &Value, verb: &str, resource: &str) -> bool {
    rules.as_array().unwrap().iter().any(|r| {
        let has = |key: &str, want: &str| r[key].as_array().unwrap().iter().any(|v| v == want || v == "*");
        has("apiGroups", "") && has("resources", resource) && has("verbs", verb)
    })
}

/// The RBAC verb, resource and namespace of a request to the core API
/// group; `None` for discovery.
fn rbac_request(request: &SeenRequest) -> Option<(String, String, Option<String>)> {
    let path = request.path.strip_prefix("/api/v1/")?;
    let parts: Vec<&str> = path.split('/').collect();
    let (namespace, rest) = match parts[..] {
        ["namespaces", ns, ref rest @ ..] if !rest.is_empty() => (Some(ns.to_owned()), rest.to_vec()),
        _ => (None, parts.clone()),
    };
    let watch = request.query.split('&').any(|kv| kv == "watch=true" || kv == "watch=1");
    let (verb, resource) = match (request.method.as_str(), &rest[..]) {
        ("GET", [resource]) => (if watch { "watch" } else { "list" }, (*resource).to_owned()),
        ("POST", [resource]) => ("create", (*resource).to_owned()),
        ("DELETE", [resource]) => ("deletecollection", (*resource).to_owned()),
        ("GET", [resource, _]) => ("get", (*resource).to_owned()),
        ("DELETE", [resource, _]) => ("delete", (*resource).to_owned()),
        ("PUT", [resource, _]) => ("update", (*resource).to_owned()),
        ("PATCH", [resource, _]) => ("patch", (*resource).to_owned()),
        ("GET", [resource, _, sub]) => ("get", format!("{resource}/{sub}")),
        (method, rest) => panic!("an unexpected request: {method} {rest:?}"),
    };
    Some((verb.to_owned(), resource, namespace))
}

pub(crate) fn probe_component_runs_in_the_cluster() {
    let docs = with_probe();
    let cronjob = object(docs, "CronJob", "civo-egress-probe");
    let role = object(docs, "Role", "civo-egress-probe");
    let cluster_role = object(docs, "ClusterRole", "civo-egress-probe-nodes");
    // The probe's pods go in the CronJob's namespace (POD_NAMESPACE), the Role's.
    let container = &pod_template(cronjob)["spec"]["containers"][0];
    assert!(strings(&container["args"]).contains(&"--namespace=$(POD_NAMESPACE)".to_owned()));
    let namespace = cronjob["metadata"]["namespace"].as_str().unwrap();
    assert_eq!(role["metadata"]["namespace"], namespace);
    let dir = scratch("probe");
    runtime().block_on(async {
        let fake = FakeKube::builder()
            .tls()
            .nodes(lab_nodes(PUBLIC))
            .kubelet(kubelet(&[("k3s-gw", EGRESS), ("k3s-worker-a", EGRESS), ("k3s-public", PUBLIC)]))
            .start()
            .await;
        fake.enforce_pod_security_restricted(true);
        let kubeconfig = in_cluster_kubeconfig(&fake, &dir);
        let probe = Probe::builder()
            .kubeconfig(&kubeconfig)
            .namespace(namespace)
            .pod_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let topology = lab_topology();
        let report = probe.run(topology.cluster("lab").unwrap()).await.unwrap();
        assert_eq!(report.status(), EgressStatus::Confirmed, "{report:#?}");
        let egress: Vec<IpAddr> = [PUBLIC, EGRESS].iter().map(|ip| ip.parse().unwrap()).collect();
        assert_eq!(report.egress_ips(), egress);
        let label = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
        assert!(fake.wait_no_pods_matching(&label, Duration::from_secs(6)).await.is_empty());

        let created = fake.created_pods();
        assert_eq!(created.len(), 3, "one pod per node, each admitted");
        assert!(created.iter().all(|p| p["metadata"]["namespace"] == namespace));
        // Every request the probe made is one its Role or ClusterRole allows.
        let mut used = BTreeSet::new();
        for request in fake.requests() {
            assert!(request.authenticated, "{request:?}");
            let Some((verb, resource, ns)) = rbac_request(&request) else { continue };
            let allowed = match &ns {
                Some(ns) => ns == namespace && allows(&role["rules"], &verb, &resource),
                None => allows(&cluster_role["rules"], &verb, &resource),
            };
            assert!(allowed, "the component's RBAC does not allow {verb} {resource} in {ns:?}: {request:?}");
            used.insert(format!("{verb} {resource}"));
        }
        for needed in ["list nodes", "create pods", "get pods", "get pods/log", "delete pods"] {
            assert!(used.contains(needed), "{needed} not seen: {used:?}");
        }
    });
    probe_cronjob_arguments_parse(&dir, container);
}

/// `civo-egress probe` with the CronJob's arguments (its `$(VAR)`s as the
/// kubelet expands them, the kubeconfig pointed at a fake API) gets as far
/// as the Civo API, unreachable here: exit 3, a runtime failure, not 2
/// (bad usage); and exit 2 once the kubeconfig's token file is gone, which
/// shows the kubeconfig was read before.
fn probe_cronjob_arguments_parse(dir: &Path, container: &Value) {
    let args: Vec<String> = strings(&container["args"])
        .into_iter()
        .map(|a| {
            a.replace("$(CIVO_EGRESS_CLUSTER)", "lab")
                .replace("$(POD_NAMESPACE)", NAMESPACE)
                .replace("/etc/civo-egress/kubeconfig/kubeconfig", &dir.join("kubeconfig").display().to_string())
        })
        .collect();
    assert!(!args.iter().any(|a| a.contains("$(")), "{args:?}");
    assert!(args.iter().any(|a| a.contains(&*dir.display().to_string())), "--kubeconfig: {args:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let probe = |args: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_civo-egress"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("CIVO_TOKEN", "test-key-not-a-real-one")
            .env("CIVO_REGION", "LON1")
            .env("CIVO_API_URL", format!("http://{closed}"))
            .output()
            .unwrap()
    };
    let out = probe(&args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("cannot reach the Civo API"), "{}", text(&out));
    std::fs::remove_file(dir.join("token")).unwrap();
    let out = probe(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("token-file") && text(&out).contains("no such file"), "{}", text(&out));
}

// ---------------------------------------------------------------------------
// watch_takes_the_deployment_arguments

/// `civo-egress watch` with the Deployment's command and arguments (the
/// allowlist a copy of the rendered ConfigMap's, `--listen` on a free
/// loopback port, `--once` to end) gets as far as the Civo API, unreachable
/// here: exit 3 with the API's error, not 2 (bad usage); and exit 2 naming
/// the allowlist once its file is gone, which shows it was read before.
pub(crate) fn watch_takes_the_deployment_arguments() {
    let docs = base();
    let container = &pod_template(object(docs, "Deployment", "civo-egress"))["spec"]["containers"][0];
    let map = object(docs, "ConfigMap", "civo-egress-allowlists");
    let dir = scratch("watch");
    for (key, text) in map["data"].as_object().unwrap() {
        std::fs::write(dir.join(key), text.as_str().unwrap()).unwrap();
    }
    let listen = format!("--listen=0.0.0.0:{METRICS_PORT}");
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    let argv: Vec<String> = strings(&container["command"]).into_iter().chain(strings(&container["args"])).collect();
    assert_eq!(argv[0], "civo-egress");
    assert!(argv.contains(&listen), "{argv:?}");
    let mut args: Vec<String> = argv[1..]
        .iter()
        .map(|a| {
            if *a == listen { "--listen=127.0.0.1:0".to_owned() } else { a.replace(mount, &dir.display().to_string()) }
        })
        .collect();
    args.push("--once".to_owned());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let watch = || {
        Command::new(env!("CARGO_BIN_EXE_civo-egress"))
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &dir)
            .env(SECRET_KEY, "test-key-not-a-real-one")
            .env("CIVO_API_URL", format!("http://{closed}"))
            .output()
            .unwrap()
    };
    let out = watch();
    assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out));
    assert!(text(&out).contains("cannot reach the Civo API"), "{}", text(&out));
    std::fs::remove_file(dir.join("partner.txt")).unwrap();
    let out = watch();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("allowlist partner") && text(&out).contains("no such file"), "{}", text(&out));
}
