//! The rendering: `kubectl kustomize` of the base, and of the base with the
//! probe component through an overlay of the test's own, each once; the
//! objects' names and references; and what the other trials share (the
//! paths and names deploy/kubernetes uses, scratch directories, running a
//! tool, the PrometheusRule's `spec` as a rules file, a tokio runtime).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The kustomize base, relative to the crate.
pub(crate) const BASE: &str = "deploy/kubernetes";
/// The probe component, relative to the crate.
const PROBE_COMPONENT: &str = "deploy/kubernetes/components/probe";
/// The namespace everything goes in.
pub(crate) const NAMESPACE: &str = "civo-egress";
/// The Secret the user creates with the Civo API key (never rendered).
pub(crate) const SECRET: &str = "civo-egress-api-key";
/// Its key.
pub(crate) const SECRET_KEY: &str = "CIVO_TOKEN";
/// The watcher's metrics port (`--listen`), and its name.
pub(crate) const METRICS_PORT: i64 = 9464;
pub(crate) const METRICS_PORT_NAME: &str = "metrics";

/// The alerts of the PrometheusRule, in order.
pub(crate) const ALERTS: &[&str] = &[
    "CivoEgressAllowlistNotCovering",
    "CivoEgressAllowlistUnproven",
    "CivoEgressPoolIncomplete",
    "CivoEgressClusterLeftOut",
    "CivoEgressAccountUnknown",
    "CivoEgressRefreshFailing",
    "CivoEgressRefreshStale",
    "CivoEgressNothingWatched",
    "CivoEgressWatcherAbsent",
    "CivoEgressChanged",
    "CivoEgressVerdictMismatch",
    "CivoEgressVerdictUnverified",
];

/// The objects of the base, as (kind, name) with generated names unhashed.
pub(crate) const BASE_OBJECTS: &[(&str, &str)] = &[
    ("ConfigMap", "civo-egress-allowlists"),
    ("Deployment", "civo-egress"),
    ("Namespace", "civo-egress"),
    ("PrometheusRule", "civo-egress"),
    ("Service", "civo-egress"),
    ("ServiceAccount", "civo-egress"),
    ("ServiceMonitor", "civo-egress"),
];

/// What the probe component adds.
pub(crate) const PROBE_OBJECTS: &[(&str, &str)] = &[
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
pub(crate) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount/";
/// The API server, as a pod names it.
pub(crate) const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

pub(crate) fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A directory of this run's own under the target dir (kept for a look
/// after a failure; the next run starts afresh).
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-test-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `to` relative to the directory `from` (kustomize refuses absolute paths).
pub(crate) fn relative(from: &Path, to: &Path) -> PathBuf {
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
pub(crate) fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The base, rendered once.
pub(crate) fn base() -> &'static [Value] {
    static BASE_DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    BASE_DOCS.get_or_init(|| kustomize(&crate_dir().join(BASE)))
}

/// The base with the probe component, through an overlay as the README
/// shows it (the base and the component by relative path), rendered once.
pub(crate) fn with_probe() -> &'static [Value] {
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

pub(crate) fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

pub(crate) fn name(doc: &Value) -> &str {
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
pub(crate) fn object<'a>(docs: &'a [Value], of_kind: &str, named: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| kind(d) == of_kind && unhashed(d) == named).collect();
    assert_eq!(found.len(), 1, "one {of_kind} {named}, found {}", found.len());
    found[0]
}

/// (kind, unhashed name) of every object, sorted.
pub(crate) fn inventory(docs: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = docs.iter().map(|d| (kind(d).to_owned(), unhashed(d))).collect();
    all.sort();
    all
}

pub(crate) fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = list.iter().map(|(k, n)| ((*k).to_owned(), (*n).to_owned())).collect();
    all.sort();
    all
}

/// Whether every label of `selector` is in `labels` with the same value.
pub(crate) fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().unwrap();
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The pod template of a Deployment or a CronJob.
pub(crate) fn pod_template(doc: &Value) -> &Value {
    match kind(doc) {
        "Deployment" => &doc["spec"]["template"],
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"],
        other => panic!("no pod template in a {other}"),
    }
}

pub(crate) fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// The container's env var `name`.
pub(crate) fn env<'a>(container: &'a Value, var: &str) -> &'a Value {
    let all = container["env"].as_array().unwrap();
    all.iter().find(|e| e["name"] == var).unwrap_or_else(|| panic!("no env {var} in {container:#}"))
}

pub(crate) fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

pub(crate) fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes a PrometheusRule's `spec` as `dir/rules.yml` (JSON is YAML).
pub(crate) fn write_rules(dir: &Path, spec: &Value) -> PathBuf {
    let path = dir.join("rules.yml");
    std::fs::write(&path, serde_json::to_string_pretty(spec).unwrap()).unwrap();
    path
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}
