//! deploy/kubernetes (the watcher's kustomize base, and its probe component)
//! held to the tools a cluster and its Prometheus would judge it with:
//!
//! - `kustomize_renders`: `kubectl kustomize` renders the base, and the base
//!   with the probe component through an overlay of the test's own, to
//!   exactly the expected objects, every reference between them resolved
//!   (the generated ConfigMaps' hashed names, the Service's selector and
//!   named port, the service accounts, the bindings), the API key's Secret
//!   referenced but never rendered, the shipped allowlist parsable; and the
//!   overlay README.md shows renders, its settings landing.
//! - `kubernetes_validate_strict`: every core object passes `python3 -m
//!   kubernetes_validate --strict` (PyPI `kubernetes-validate`, its
//!   Kubernetes schemas) for the versions in [`KUBERNETES_VERSIONS`], and a
//!   broken copy does not; the Prometheus Operator's kinds, which it has no
//!   schema for, are checked here instead: the ServiceMonitor selects the
//!   Service and names its port, the PrometheusRule holds exactly
//!   [`ALERTS`] and its `spec` passes `promtool check rules`.
//! - `restricted_profile_admits_the_pod`: the Deployment's and the
//!   CronJob's pod templates, created as pods through a kube-rs client in
//!   the fake Kubernetes API (tests/common/kube_api.rs) enforcing the Pod
//!   Security "restricted" profile (tests/common/admission.rs), are
//!   admitted; copies each missing one setting are refused with the API's
//!   403 message. `admission_check_names_each_violation` holds that check
//!   to the admission plugin's words, one violation at a time.
//! - `alert_rules`: the PrometheusRule's `spec` written as a rules file,
//!   `promtool check rules` and `promtool test rules` with
//!   deploy/kubernetes/tests/alerts.test.yml, which must test every alert
//!   firing and not firing; and each alert's expression replaced by one that
//!   never fires, then by one that always does, must fail those tests.
//! - `watch_takes_the_deployment_arguments`: `civo-egress watch --once`
//!   with the Deployment's arguments reads the allowlist and gets as far as
//!   the (unreachable) Civo API.
//! - `probe_component_runs_in_the_cluster`: the probe component's in-cluster
//!   kubeconfig (its server and service-account files pointed at a TLS fake
//!   API, the rest as rendered) runs a real probe in the CronJob's
//!   namespace under the restricted profile, every request it makes allowed
//!   by the component's Role and ClusterRole; and `civo-egress probe` takes
//!   the CronJob's arguments, failing only where the Civo API is reached.
//!
//! Its own libtest-mimic harness, as tests/oracles.rs: a trial whose tool
//! (`kubectl` with kustomize, `promtool`, kubernetes-validate) is missing is
//! reported as ignored, decided at run time and said on stderr, unless the
//! environment has `CI=true`: there it runs, and fails. `.ci/run` installs
//! them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use civo_egress::probe::{MANAGED_BY, MANAGED_BY_LABEL, Probe};
use civo_egress::{Allowlist, EgressStatus, Topology};
use serde_json::{Value, json};

use common::admission::{forbidden_message, restricted_violations};
use common::kube_api::{FakeKube, FakeNode, SeenRequest, kubelet};

/// The kustomize base, relative to the crate.
const BASE: &str = "deploy/kubernetes";
/// The probe component, relative to the crate.
const PROBE_COMPONENT: &str = "deploy/kubernetes/components/probe";
/// The alerts' unit tests, relative to the crate.
const ALERT_TESTS: &str = "deploy/kubernetes/tests/alerts.test.yml";
/// The namespace everything goes in.
const NAMESPACE: &str = "civo-egress";
/// The Secret the user creates with the Civo API key (never rendered).
const SECRET: &str = "civo-egress-api-key";
/// Its key.
const SECRET_KEY: &str = "CIVO_TOKEN";
/// The watcher's metrics port (`--listen`), and its name.
const METRICS_PORT: i64 = 9464;
const METRICS_PORT_NAME: &str = "metrics";

/// The kubernetes-validate `.ci/run` installs (any version holding the
/// schemas of [`KUBERNETES_VERSIONS`] would do).
const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";
/// The Kubernetes versions the objects are validated against: one Civo's
/// K3s ships, and the newest kubernetes-validate knows.
const KUBERNETES_VERSIONS: &[&str] = &["1.33.0", "1.37.0"];

/// The alerts of the PrometheusRule, in order.
const ALERTS: &[&str] = &[
    "CivoEgressAllowlistNotCovering",
    "CivoEgressPoolIncomplete",
    "CivoEgressRefreshFailing",
    "CivoEgressRefreshStale",
    "CivoEgressWatcherAbsent",
    "CivoEgressChanged",
    "CivoEgressVerdictMismatch",
    "CivoEgressVerdictUnverified",
];

/// The objects of the base, as (kind, name) with generated names unhashed.
const BASE_OBJECTS: &[(&str, &str)] = &[
    ("ConfigMap", "civo-egress-allowlists"),
    ("Deployment", "civo-egress"),
    ("Namespace", "civo-egress"),
    ("PrometheusRule", "civo-egress"),
    ("Service", "civo-egress"),
    ("ServiceAccount", "civo-egress"),
    ("ServiceMonitor", "civo-egress"),
];

/// What the probe component adds.
const PROBE_OBJECTS: &[(&str, &str)] = &[
    ("ClusterRole", "civo-egress-probe-nodes"),
    ("ClusterRoleBinding", "civo-egress-probe-nodes"),
    ("ConfigMap", "civo-egress-probe"),
    ("ConfigMap", "civo-egress-probe-kubeconfig"),
    ("CronJob", "civo-egress-probe"),
    ("Role", "civo-egress-probe"),
    ("RoleBinding", "civo-egress-probe"),
    ("ServiceAccount", "civo-egress-probe"),
];

/// Where Kubernetes mounts a pod's service-account token, CA and namespace.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount/";
/// The API server, as a pod names it.
const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

// ---------------------------------------------------------------------------
// The harness.

/// Whether a trial may be ignored here: `Some(why)` when a tool it needs is
/// missing. Under `CI=true` it runs anyway (and fails).
fn ignored(name: &str, missing: &Option<String>, ci: bool) -> bool {
    match (missing, ci) {
        (None, _) => false,
        (Some(why), false) => {
            eprintln!("tests/deploy.rs: {name}: ignored: {why}");
            true
        }
        (Some(why), true) => {
            eprintln!("tests/deploy.rs: {name}: CI=true, so the trial must run: {why}");
            false
        }
    }
}

/// `None` when `program args` runs and succeeds, else why not and how to
/// install it.
fn tool_missing(program: &str, args: &[&str], install: &str) -> Option<String> {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`{program} {}` failed: {} ({install})",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("{program}: {e} ({install})")),
    }
}

/// kubectl with kustomize 5 (components, `labels:`), as kubectl 1.27 and later have.
fn kubectl_missing() -> Option<String> {
    let install = "install kubectl 1.27 or later, whose kustomize is 5";
    if let Some(why) = tool_missing("kubectl", &["version", "--client", "-o", "json"], install) {
        return Some(why);
    }
    let out = Command::new("kubectl").args(["version", "--client", "-o", "json"]).output().ok()?;
    let version: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let kustomize = version["kustomizeVersion"].as_str().unwrap_or("none");
    let major = kustomize.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok());
    (major.unwrap_or(0) < 5).then(|| format!("kubectl's kustomize is {kustomize}, not 5 or later ({install})"))
}

fn promtool_missing() -> Option<String> {
    tool_missing("promtool", &["--version"], "apt-get install prometheus")
}

fn kubernetes_validate_missing() -> Option<String> {
    let install = format!("python3 -m pip install kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}");
    tool_missing("python3", &["-m", "kubernetes_validate", "--version"], &install)
}

/// The first of the tools missing.
fn first_missing(needs: &[Option<String>]) -> Option<String> {
    needs.iter().flatten().next().cloned()
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let kubectl = kubectl_missing();
    let promtool = promtool_missing();
    let validate = kubernetes_validate_missing();
    let trial = |name: &'static str, missing: Option<String>, check: fn()| {
        let ignore = ignored(name, &missing, ci);
        libtest_mimic::Trial::test(name, move || match &missing {
            Some(why) => Err(format!("the trial cannot run: {why}").into()),
            None => {
                check();
                Ok(())
            }
        })
        .with_ignored_flag(ignore)
    };
    let trials = vec![
        trial("kustomize_renders", kubectl.clone(), kustomize_renders),
        trial(
            "kubernetes_validate_strict",
            first_missing(&[kubectl.clone(), validate, promtool.clone()]),
            kubernetes_validate_strict,
        ),
        trial("restricted_profile_admits_the_pod", kubectl.clone(), restricted_profile_admits_the_pod),
        trial("admission_check_names_each_violation", None, admission_check_names_each_violation),
        trial("alert_rules", first_missing(&[kubectl.clone(), promtool]), alert_rules),
        trial("probe_component_runs_in_the_cluster", kubectl.clone(), probe_component_runs_in_the_cluster),
        trial("watch_takes_the_deployment_arguments", kubectl, watch_takes_the_deployment_arguments),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}

// ---------------------------------------------------------------------------
// Rendering.

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A directory of this run's own under the target dir (kept for a look
/// after a failure; the next run starts afresh).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-test-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `to` relative to the directory `from` (kustomize refuses absolute paths).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from = from.canonicalize().unwrap();
    let to = to.canonicalize().unwrap();
    let common = from.components().zip(to.components()).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in from.components().skip(common) {
        path.push("..");
    }
    for part in to.components().skip(common) {
        path.push(part);
    }
    path
}

/// `kubectl kustomize DIR`, each document parsed.
fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The base, rendered once.
fn base() -> &'static [Value] {
    static BASE_DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    BASE_DOCS.get_or_init(|| kustomize(&crate_dir().join(BASE)))
}

/// The base with the probe component, through an overlay as the README
/// shows it (the base and the component by relative path), rendered once.
fn with_probe() -> &'static [Value] {
    static WITH_PROBE: OnceLock<Vec<Value>> = OnceLock::new();
    WITH_PROBE.get_or_init(|| {
        let overlay = scratch("overlay");
        let base = relative(&overlay, &crate_dir().join(BASE));
        let component = relative(&overlay, &crate_dir().join(PROBE_COMPONENT));
        let text = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {}\ncomponents:\n  - {}\n",
            base.display(),
            component.display()
        );
        std::fs::write(overlay.join("kustomization.yaml"), text).unwrap();
        kustomize(&overlay)
    })
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or("")
}

/// A generated ConfigMap's name without kustomize's hash suffix.
fn unhashed(doc: &Value) -> String {
    let name = name(doc);
    match (kind(doc), name.rsplit_once('-')) {
        ("ConfigMap", Some((stem, hash)))
            if hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) =>
        {
            stem.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The one object of this kind and (unhashed) name.
fn object<'a>(docs: &'a [Value], of_kind: &str, named: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| kind(d) == of_kind && unhashed(d) == named).collect();
    assert_eq!(found.len(), 1, "one {of_kind} {named}, found {}", found.len());
    found[0]
}

/// (kind, unhashed name) of every object, sorted.
fn inventory(docs: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = docs.iter().map(|d| (kind(d).to_owned(), unhashed(d))).collect();
    all.sort();
    all
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = list.iter().map(|(k, n)| ((*k).to_owned(), (*n).to_owned())).collect();
    all.sort();
    all
}

/// Whether every label of `selector` is in `labels` with the same value.
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().unwrap();
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The pod template of a Deployment or a CronJob.
fn pod_template(doc: &Value) -> &Value {
    match kind(doc) {
        "Deployment" => &doc["spec"]["template"],
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"],
        other => panic!("no pod template in a {other}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// The container's env var `name`.
fn env<'a>(container: &'a Value, var: &str) -> &'a Value {
    let all = container["env"].as_array().unwrap();
    all.iter().find(|e| e["name"] == var).unwrap_or_else(|| panic!("no env {var} in {container:#}"))
}

// ---------------------------------------------------------------------------
// kustomize_renders

fn kustomize_renders() {
    let base = base();
    assert_eq!(inventory(base), owned(BASE_OBJECTS));
    let with_probe = with_probe();
    let mut expected: Vec<(&str, &str)> = BASE_OBJECTS.to_vec();
    expected.extend_from_slice(PROBE_OBJECTS);
    assert_eq!(inventory(with_probe), owned(&expected));
    // The component adds; it changes nothing of the base.
    for doc in base {
        assert!(with_probe.contains(doc), "the probe component changed {} {}", kind(doc), name(doc));
    }

    for doc in with_probe {
        let what = format!("{} {}", kind(doc), name(doc));
        let labels = &doc["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/name"], "civo-egress", "{what}");
        assert_eq!(labels["app.kubernetes.io/part-of"], "civo-egress", "{what}");
        let cluster_scoped = matches!(kind(doc), "Namespace" | "ClusterRole" | "ClusterRoleBinding");
        if cluster_scoped {
            assert!(doc["metadata"]["namespace"].is_null(), "{what}");
        } else {
            assert_eq!(doc["metadata"]["namespace"], NAMESPACE, "{what}");
        }
        // The API key is the user's to create: never rendered, never committed.
        assert_ne!(kind(doc), "Secret", "{what}");
        assert!(!serde_json::to_string(doc).unwrap().contains("kind\":\"Secret"), "{what}");
    }
    for path in files_under(&crate_dir().join(BASE)) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.lines().any(|l| l.trim() == "kind: Secret"), "a Secret committed in {}", path.display());
    }

    let namespace = object(base, "Namespace", NAMESPACE);
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(namespace["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")], "restricted");
    }

    // The watcher.
    let deployment = object(base, "Deployment", "civo-egress");
    assert_eq!(deployment["spec"]["replicas"], 1);
    let template = pod_template(deployment);
    assert!(selects(&deployment["spec"]["selector"]["matchLabels"], &template["metadata"]["labels"]));
    let pod = &template["spec"];
    let account = object(base, "ServiceAccount", pod["serviceAccountName"].as_str().unwrap());
    assert_eq!(account["automountServiceAccountToken"], false, "the watcher needs no Kubernetes API");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let watch = &containers[0];
    let argv: Vec<String> = strings(&watch["command"]).into_iter().chain(strings(&watch["args"])).collect();
    assert_eq!(argv[..2], ["civo-egress", "watch"], "{argv:?}");
    assert!(argv.contains(&"--all-regions".to_owned()), "{argv:?}");
    assert!(argv.contains(&format!("--listen=0.0.0.0:{METRICS_PORT}")), "{argv:?}");
    assert_eq!(
        watch["ports"],
        json!([{"name": METRICS_PORT_NAME, "containerPort": METRICS_PORT, "protocol": "TCP"}]),
        "the port --listen binds, named"
    );
    assert_eq!(watch["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": METRICS_PORT_NAME}));
    assert_eq!(watch["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": METRICS_PORT_NAME}));
    for key in ["cpu", "memory"] {
        assert!(watch["resources"]["requests"][key].is_string(), "a {key} request");
    }
    assert!(watch["resources"]["limits"]["memory"].is_string(), "a memory limit");
    assert_secret_ref(watch);

    // Each --allowlist NAME=FILE is a key of the mounted, generated ConfigMap.
    let allowlists: Vec<&String> = argv
        .iter()
        .zip(argv.iter().skip(1))
        .filter(|(flag, _)| *flag == "--allowlist")
        .map(|(_, value)| value)
        .collect();
    assert_eq!(allowlists.len(), 1, "{argv:?}");
    for value in allowlists {
        let (list, file) = value.split_once('=').unwrap();
        assert_eq!(list, "partner");
        let (dir, key) = file.rsplit_once('/').unwrap();
        let mount = watch["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == dir).unwrap();
        assert_eq!(mount["readOnly"], true);
        let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
        let map = object(base, "ConfigMap", "civo-egress-allowlists");
        assert_eq!(volume["configMap"]["name"].as_str(), Some(name(map)), "the hashed name, rewritten");
        let text = map["data"][key].as_str().unwrap();
        Allowlist::parse(text).unwrap();
        let on_disk = std::fs::read_to_string(crate_dir().join(BASE).join("allowlists").join(key)).unwrap();
        assert_eq!(text, on_disk);
    }

    // The Service selects the watcher's pods, and only them.
    let service = object(base, "Service", "civo-egress");
    assert!(selects(&service["spec"]["selector"], &template["metadata"]["labels"]));
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": METRICS_PORT_NAME, "port": METRICS_PORT, "targetPort": METRICS_PORT_NAME, "protocol": "TCP"}])
    );
    let cronjob = object(with_probe, "CronJob", "civo-egress-probe");
    assert!(!selects(&service["spec"]["selector"], &pod_template(cronjob)["metadata"]["labels"]));

    // The probe: hourly, one at a time, its references resolved.
    let spec = &cronjob["spec"];
    let schedule: Vec<&str> = spec["schedule"].as_str().unwrap().split(' ').collect();
    assert!(schedule.len() == 5 && schedule[0].parse::<u8>().is_ok_and(|m| m < 60) && schedule[1..] == ["*"; 4]);
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    let pod = &pod_template(cronjob)["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["automountServiceAccountToken"], true, "the probe talks to the Kubernetes API");
    let account = object(with_probe, "ServiceAccount", pod["serviceAccountName"].as_str().unwrap());
    let probe = &pod["containers"][0];
    assert_eq!(strings(&probe["command"]), ["civo-egress"]);
    assert_eq!(strings(&probe["args"])[0], "probe");
    assert!(strings(&probe["args"]).contains(&"--format=json".to_owned()));
    assert_secret_ref(probe);
    for var in ["CIVO_EGRESS_CLUSTER", "CIVO_REGION"] {
        let from = &env(probe, var)["valueFrom"]["configMapKeyRef"];
        let map = object(with_probe, "ConfigMap", "civo-egress-probe");
        assert_eq!(from["name"].as_str(), Some(name(map)), "{var}");
        assert!(map["data"][from["key"].as_str().unwrap()].is_string(), "{var}");
    }
    assert_eq!(env(probe, "POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"], "metadata.namespace");
    let kubeconfig = object(with_probe, "ConfigMap", "civo-egress-probe-kubeconfig");
    assert_eq!(pod["volumes"][0]["configMap"]["name"].as_str(), Some(name(kubeconfig)));
    let mount = format!("{}/kubeconfig", probe["volumeMounts"][0]["mountPath"].as_str().unwrap());
    assert!(strings(&probe["args"]).contains(&format!("--kubeconfig={mount}")));
    // Its bindings name its ServiceAccount and roles that exist.
    for (binding, binding_name, role) in
        [("RoleBinding", "civo-egress-probe", "Role"), ("ClusterRoleBinding", "civo-egress-probe-nodes", "ClusterRole")]
    {
        let binding = object(with_probe, binding, binding_name);
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": name(account), "namespace": NAMESPACE}])
        );
        assert_eq!(binding["roleRef"]["kind"], role);
        object(with_probe, role, binding["roleRef"]["name"].as_str().unwrap());
    }
    readme_overlay_renders();
}

/// The overlay README.md shows (its "Your own overlay" example, with the
/// second allowlist's patch), rendered: the image, the probe's cluster, the
/// allowlist and the Prometheus selector label all land.
fn readme_overlay_renders() {
    let readme = std::fs::read_to_string(crate_dir().join(BASE).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```yaml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let overlay = blocks.iter().find(|b| b.starts_with("# my-overlay/kustomization.yaml")).expect("the overlay");
    let second_list = blocks.iter().find(|b| b.contains("bank=/etc/civo-egress/allowlists/bank.txt")).unwrap();
    let dir = scratch("readme-overlay");
    let base = relative(&dir, &crate_dir().join(BASE));
    let (head, tail) = overlay.split_once("\nlabels:\n").unwrap();
    let text =
        format!("{head}\n{second_list}labels:\n{tail}").replace("../deploy/kubernetes", &base.display().to_string());
    std::fs::write(dir.join("kustomization.yaml"), text).unwrap();
    std::fs::write(dir.join("partner.txt"), "212.2.253.151/32\n").unwrap();
    let docs = kustomize(&dir);
    let deployment = object(&docs, "Deployment", "civo-egress");
    let cronjob = object(&docs, "CronJob", "civo-egress-probe");
    for doc in [deployment, cronjob] {
        assert_eq!(pod_template(doc)["spec"]["containers"][0]["image"], "registry.example.com/civo-egress:0.1.0");
    }
    let args = strings(&pod_template(deployment)["spec"]["containers"][0]["args"]);
    assert!(args.ends_with(&["--allowlist".to_owned(), "bank=/etc/civo-egress/allowlists/bank.txt".to_owned()]));
    assert_eq!(
        object(&docs, "ConfigMap", "civo-egress-allowlists")["data"],
        json!({"partner.txt": "212.2.253.151/32\n"})
    );
    let settings = object(&docs, "ConfigMap", "civo-egress-probe");
    assert_eq!(settings["data"], json!({"cluster": "prod", "region": "LON1"}));
    let from = &env(&pod_template(cronjob)["spec"]["containers"][0], "CIVO_EGRESS_CLUSTER")["valueFrom"];
    assert_eq!(from["configMapKeyRef"]["name"].as_str(), Some(name(settings)), "the patched ConfigMap's new hash");
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        assert_eq!(object(&docs, kind, "civo-egress")["metadata"]["labels"]["release"], "kube-prometheus-stack");
    }
}

/// `CIVO_TOKEN` from the user's Secret.
fn assert_secret_ref(container: &Value) {
    assert_eq!(
        env(container, SECRET_KEY)["valueFrom"],
        json!({"secretKeyRef": {"name": SECRET, "key": SECRET_KEY}}),
        "the API key from the Secret the user creates"
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// kubernetes_validate_strict

fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn is_prometheus_operator(doc: &Value) -> bool {
    doc["apiVersion"].as_str().is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
}

/// `python3 -m kubernetes_validate --strict -k VERSION FILES`.
fn kubernetes_validate(version: &str, files: &[PathBuf]) -> Output {
    run(Command::new("python3").args(["-m", "kubernetes_validate", "--strict", "-k", version]).args(files))
}

fn kubernetes_validate_strict() {
    let dir = scratch("kubernetes-validate");
    let mut files = Vec::new();
    for (i, doc) in with_probe().iter().filter(|d| !is_prometheus_operator(d)).enumerate() {
        let path = dir.join(format!("{i:02}-{}-{}.json", kind(doc), name(doc)));
        std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        files.push(path);
    }
    assert_eq!(files.len(), BASE_OBJECTS.len() + PROBE_OBJECTS.len() - 2, "every core object");
    for version in KUBERNETES_VERSIONS {
        let out = kubernetes_validate(version, &files);
        let said = text(&out);
        assert!(out.status.success(), "kubernetes-validate -k {version}:\n{said}");
        assert_eq!(said.lines().filter(|l| l.contains(" passed for resource ")).count(), files.len(), "{said}");
        assert!(!said.contains("WARN") && !said.contains("ERROR"), "{said}");
    }
    // --strict bites: an unknown field, and a wrong type, are refused.
    let mut broken = object(base(), "Deployment", "civo-egress").clone();
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystm"] = json!(true);
    let mut wrong_type = object(base(), "Service", "civo-egress").clone();
    wrong_type["spec"]["ports"][0]["port"] = json!("9464");
    for (what, doc) in [("an unknown field", broken), ("a string port", wrong_type)] {
        let path = dir.join("broken.json");
        std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
        let out = kubernetes_validate(KUBERNETES_VERSIONS[0], &[path]);
        assert!(!out.status.success(), "kubernetes-validate accepted {what}: {}", text(&out));
    }

    // The Prometheus Operator's kinds, which it has no schema for.
    let base = base();
    let service = object(base, "Service", "civo-egress");
    let monitor = object(base, "ServiceMonitor", "civo-egress");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["metadata"]["namespace"], service["metadata"]["namespace"], "no namespaceSelector needed");
    assert!(monitor["spec"]["namespaceSelector"].is_null());
    assert!(selects(&monitor["spec"]["selector"]["matchLabels"], &service["metadata"]["labels"]));
    let port_names: Vec<&Value> = service["spec"]["ports"].as_array().unwrap().iter().map(|p| &p["name"]).collect();
    let endpoints = monitor["spec"]["endpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for endpoint in endpoints {
        assert!(port_names.contains(&&endpoint["port"]), "{endpoint}: not a port of the Service");
        assert_eq!(endpoint["path"], "/metrics");
        let seconds = |v: &Value| v.as_str().unwrap().strip_suffix('s').unwrap().parse::<u32>().unwrap();
        assert!(seconds(&endpoint["scrapeTimeout"]) < seconds(&endpoint["interval"]));
    }
    let rule = object(base, "PrometheusRule", "civo-egress");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    let rules: Vec<&Value> =
        rule["spec"]["groups"].as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap()).collect();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    assert_eq!(names, ALERTS);
    for r in &rules {
        assert!(matches!(r["labels"]["severity"].as_str(), Some("critical" | "warning")), "{r}");
        for key in ["summary", "description"] {
            assert!(r["annotations"][key].as_str().is_some_and(|s| !s.is_empty()), "{r}: {key}");
        }
    }
    let rules_dir = scratch("prometheusrule-spec");
    let path = write_rules(&rules_dir, &rule["spec"]);
    let out = run(Command::new("promtool").arg("check").arg("rules").arg(&path));
    assert!(out.status.success(), "promtool check rules:\n{}", text(&out));
    assert!(text(&out).contains(&format!("SUCCESS: {} rules found", ALERTS.len())), "{}", text(&out));
}

/// Writes a PrometheusRule's `spec` as `dir/rules.yml` (JSON is YAML).
fn write_rules(dir: &Path, spec: &Value) -> PathBuf {
    let path = dir.join("rules.yml");
    std::fs::write(&path, serde_json::to_string_pretty(spec).unwrap()).unwrap();
    path
}

// ---------------------------------------------------------------------------
// alert_rules

fn alert_rules() {
    let spec = &object(base(), "PrometheusRule", "civo-egress")["spec"];
    let tests_text = std::fs::read_to_string(crate_dir().join(ALERT_TESTS)).unwrap();
    let dir = scratch("alert-rules");
    let rules = write_rules(&dir, spec);
    std::fs::write(dir.join("alerts.test.yml"), &tests_text).unwrap();
    let out = run(Command::new("promtool").arg("check").arg("rules").arg(&rules));
    assert!(out.status.success(), "promtool check rules:\n{}", text(&out));
    let promtool_test = || run(Command::new("promtool").args(["test", "rules", "alerts.test.yml"]).current_dir(&dir));
    let out = promtool_test();
    assert!(out.status.success(), "promtool test rules:\n{}", text(&out));
    assert!(text(&out).contains("SUCCESS"), "{}", text(&out));

    // Every alert is tested firing and not firing.
    let tests: Value = serde_saphyr::from_str(&tests_text).unwrap();
    assert_eq!(tests["rule_files"], json!(["rules.yml"]));
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
        .collect();
    for alert in ALERTS {
        let of_it: Vec<&&Value> = cases.iter().filter(|c| c["alertname"] == *alert).collect();
        let firing = of_it.iter().filter(|c| c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty())).count();
        let silent = of_it.iter().filter(|c| c["exp_alerts"].as_array().is_some_and(Vec::is_empty)).count();
        assert!(firing >= 1 && silent >= 2, "{alert}: tested firing {firing} and not firing {silent} times");
    }
    let tested: BTreeSet<&str> = cases.iter().filter_map(|c| c["alertname"].as_str()).collect();
    assert_eq!(tested, ALERTS.iter().copied().collect(), "tests of alerts that do not exist");

    // The tests bite: an alert that never fires, or always does, fails them.
    for (i, alert) in ALERTS.iter().enumerate() {
        for (mutation, expr) in [("never fires", "vector(1) == 0"), ("always fires", "vector(1)")] {
            let mut mutated = spec.clone();
            let rule = mutated["groups"][0]["rules"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|r| r["alert"] == *alert)
                .unwrap();
            rule["expr"] = json!(expr);
            write_rules(&dir, &mutated);
            let out = promtool_test();
            let said = text(&out);
            assert!(!out.status.success(), "alert {i} {alert} {mutation}, yet the tests pass:\n{said}");
            assert!(said.contains(&format!("alertname: {alert},")), "{alert} {mutation}:\n{said}");
        }
    }
    write_rules(&dir, spec);
}

// ---------------------------------------------------------------------------
// The Pod Security "restricted" profile.

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A kube-rs client for the fake, from its kubeconfig.
async fn client(fake: &FakeKube) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&fake.kubeconfig()).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(config).unwrap()
}

/// A template as the pod its controller would create, with the
/// service-account token volume the API server adds when the token is
/// mounted (the pod's `automountServiceAccountToken`, else its account's).
fn pod_from(docs: &[Value], template: &Value, pod_name: &str) -> Value {
    let mut spec = template["spec"].clone();
    let account = spec["serviceAccountName"].as_str().unwrap_or("default").to_owned();
    let account_automount = docs
        .iter()
        .find(|d| kind(d) == "ServiceAccount" && name(d) == account)
        .map(|a| a["automountServiceAccountToken"].clone())
        .unwrap_or(Value::Null);
    let automount = spec["automountServiceAccountToken"].as_bool().or(account_automount.as_bool()).unwrap_or(true);
    if automount {
        let volume = "kube-api-access-x7k2p";
        spec["volumes"].as_array_mut().unwrap().push(json!({"name": volume, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
        ]}}));
        for container in spec["containers"].as_array_mut().unwrap() {
            container["volumeMounts"].as_array_mut().unwrap().push(json!({
                "name": volume, "mountPath": SERVICE_ACCOUNT_DIR.trim_end_matches('/'), "readOnly": true}));
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": NAMESPACE, "labels": template["metadata"]["labels"]},
        "spec": spec,
    })
}

/// A change that breaks a pod.
type Breaks = fn(&mut Value);

/// Creates `pod` through kube-rs: `Ok` when admitted, else the API's 403 message.
async fn create(client: &kube::Client, pod: &Value) -> Result<(), String> {
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(pod.clone()).unwrap();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), NAMESPACE);
    match pods.create(&kube::api::PostParams::default(), &pod).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 403 && status.reason == "Forbidden" => Err(status.message),
        Err(e) => panic!("creating {:?}: {e}", pod.metadata.name),
    }
}

fn restricted_profile_admits_the_pod() {
    let docs = with_probe();
    let deployment = pod_template(object(docs, "Deployment", "civo-egress"));
    let cronjob = pod_template(object(docs, "CronJob", "civo-egress-probe"));
    runtime().block_on(async {
        let fake = FakeKube::builder().node(FakeNode::new("k3s-worker-a", "192.168.1.3")).start().await;
        fake.enforce_pod_security_restricted(true);
        let client = client(&fake).await;
        let watcher = pod_from(docs, deployment, "civo-egress-watcher");
        assert!(watcher["spec"]["volumes"].as_array().unwrap().iter().all(|v| v["projected"].is_null()));
        let probe = pod_from(docs, cronjob, "civo-egress-probe");
        assert!(probe["spec"]["volumes"].as_array().unwrap().iter().any(|v| !v["projected"].is_null()));
        for pod in [&watcher, &probe] {
            assert_eq!(create(&client, pod).await, Ok(()), "{}", pod["metadata"]["name"]);
        }

        // Each copy missing one setting of the profile is refused, with the
        // admission plugin's words.
        let c = r#"container "watch""#;
        let broken: Vec<(&str, Breaks, String)> = vec![
            (
                "runasnonroot",
                |p| drop(p["spec"]["securityContext"].as_object_mut().unwrap().remove("runAsNonRoot")),
                format!("runAsNonRoot != true (pod or {c} must set securityContext.runAsNonRoot=true)"),
            ),
            (
                "capabilities",
                |p| drop(p["spec"]["containers"][0]["securityContext"].as_object_mut().unwrap().remove("capabilities")),
                format!(r#"unrestricted capabilities ({c} must set securityContext.capabilities.drop=["ALL"])"#),
            ),
            (
                "escalation",
                |p| p["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true),
                format!("allowPrivilegeEscalation != false ({c} must set securityContext.allowPrivilegeEscalation=false)"),
            ),
            (
                "seccomp",
                |p| drop(p["spec"]["securityContext"].as_object_mut().unwrap().remove("seccompProfile")),
                format!(
                    r#"seccompProfile (pod or {c} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
                ),
            ),
            (
                "root",
                |p| p["spec"]["securityContext"]["runAsUser"] = json!(0),
                "runAsUser=0 (pod must not set runAsUser=0)".to_owned(),
            ),
            (
                "hostpath",
                |p| {
                    p["spec"]["volumes"].as_array_mut().unwrap().push(json!({"name": "host", "hostPath": {"path": "/etc"}}))
                },
                r#"restricted volume types (volume "host" uses restricted volume type "hostPath")"#.to_owned(),
            ),
        ];
        for (what, breaks, violation) in broken {
            let mut pod = watcher.clone();
            let pod_name = format!("civo-egress-watcher-{what}");
            pod["metadata"]["name"] = json!(pod_name);
            breaks(&mut pod);
            let refused = create(&client, &pod).await.expect_err(what);
            assert_eq!(refused, forbidden_message(&pod_name, &[violation]), "{what}");
        }
        let created: Vec<Value> = fake.created_pods().iter().map(|p| p["metadata"]["name"].clone()).collect();
        assert_eq!(created, [json!("civo-egress-watcher"), json!("civo-egress-probe")]);
    });
}

fn admission_check_names_each_violation() {
    let ok = json!({
        "metadata": {"name": "p"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "c", "configMap": {"name": "x"}}, {"name": "e", "emptyDir": {}}],
            "containers": [{"name": "a", "image": "i", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
        },
    });
    assert_eq!(restricted_violations(&ok), Vec::<String>::new());
    let cases: Vec<(Breaks, &str)> = vec![
        (|p| p["spec"]["hostNetwork"] = json!(true), "host namespaces (hostNetwork=true)"),
        (
            |p| p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 8080}]),
            r#"hostPort (container "a" uses hostPort 8080)"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true),
            r#"privileged (container "a" must not set securityContext.privileged=true)"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["procMount"] = json!("Unmasked"),
            r#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#,
        ),
        (
            |p| p["spec"]["securityContext"]["sysctls"] = json!([{"name": "kernel.msgmax", "value": "1"}]),
            "forbidden sysctls (kernel.msgmax)",
        ),
        (
            |p| {
                p["metadata"]["annotations"] = json!({"container.apparmor.security.beta.kubernetes.io/a": "unconfined"})
            },
            r#"forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/a="unconfined")"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["SYS_ADMIN"]),
            r#"unrestricted capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add)"#,
        ),
        (
            |p| p["spec"]["volumes"][1] = json!({"name": "n", "nfs": {"server": "s", "path": "/"}}),
            r#"restricted volume types (volume "n" uses restricted volume type "nfs")"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false),
            r#"runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0),
            r#"runAsUser=0 (container "a" must not set runAsUser=0)"#,
        ),
        (
            |p| p["spec"]["containers"][0]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"}),
            r#"seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined")"#,
        ),
    ];
    for (breaks, violation) in cases {
        let mut pod = ok.clone();
        breaks(&mut pod);
        assert_eq!(restricted_violations(&pod), [violation], "{pod:#}");
    }
    // An init container counts; the violations come in the plugin's order.
    let mut pod = ok.clone();
    pod["spec"]["initContainers"] = json!([{"name": "init", "image": "i"}]);
    pod["spec"]["hostPID"] = json!(true);
    assert_eq!(
        restricted_violations(&pod),
        [
            "host namespaces (hostPID=true)",
            r#"allowPrivilegeEscalation != false (container "init" must set securityContext.allowPrivilegeEscalation=false)"#,
            r#"unrestricted capabilities (container "init" must set securityContext.capabilities.drop=["ALL"])"#,
        ]
    );
}

// ---------------------------------------------------------------------------
// probe_component_runs_in_the_cluster

const EGRESS: &str = "212.2.253.151";
const PUBLIC: &str = "212.2.246.9";

fn lab_nodes() -> Vec<FakeNode> {
    vec![
        FakeNode::new("k3s-gw", "192.168.1.2").role("control-plane").taint(
            "node-role.kubernetes.io/control-plane",
            None,
            "NoSchedule",
        ),
        FakeNode::new("k3s-worker-a", "192.168.1.3"),
        FakeNode::new("k3s-public", "192.168.1.4").external_ip(PUBLIC),
    ]
}

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

fn probe_component_runs_in_the_cluster() {
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
            .nodes(lab_nodes())
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
fn watch_takes_the_deployment_arguments() {
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
