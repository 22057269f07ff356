//! `kustomize_renders`: the base, and the base with the probe component,
//! render to exactly the expected objects, every reference between them
//! resolved; and the overlay README.md shows renders, its settings landing.

use std::path::{Path, PathBuf};

use civo_egress::Allowlist;
use serde_json::{Value, json};

use crate::render::{
    BASE, BASE_OBJECTS, METRICS_PORT, METRICS_PORT_NAME, NAMESPACE, PROBE_OBJECTS, SECRET, SECRET_KEY, base, crate_dir,
    env, inventory, kind, kustomize, name, object, owned, pod_template, relative, scratch, selects, strings,
    with_probe,
};

pub(crate) fn kustomize_renders() {
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
    for key in ["cpu", "memory"] {
        assert!(watch["resources"]["limits"][key].is_string(), "a {key} limit");
    }
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
/// second allowlist's patch and the `--observe` one), rendered: the image,
/// the probe's cluster, the allowlist, the Prometheus selector label,
/// `--observe` and the service-account files it needs all land.
fn readme_overlay_renders() {
    let readme = std::fs::read_to_string(crate_dir().join(BASE).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```yaml\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let overlay = blocks.iter().find(|b| b.starts_with("# my-overlay/kustomization.yaml")).expect("the overlay");
    let second_list = blocks.iter().find(|b| b.contains("bank=/etc/civo-egress/allowlists/bank.txt")).unwrap();
    let observe = blocks.iter().find(|b| b.contains("value: --observe")).expect("the --observe patch");
    let dir = scratch("readme-overlay");
    let base = relative(&dir, &crate_dir().join(BASE));
    let (head, tail) = overlay.split_once("\nlabels:\n").unwrap();
    let text = format!("{head}\n{second_list}{observe}labels:\n{tail}")
        .replace("../deploy/kubernetes", &base.display().to_string());
    std::fs::write(dir.join("kustomization.yaml"), text).unwrap();
    std::fs::write(dir.join("partner.txt"), "212.2.253.151/32\n").unwrap();
    let docs = kustomize(&dir);
    let deployment = object(&docs, "Deployment", "civo-egress");
    let cronjob = object(&docs, "CronJob", "civo-egress-probe");
    for doc in [deployment, cronjob] {
        assert_eq!(pod_template(doc)["spec"]["containers"][0]["image"], "registry.example.com/civo-egress:0.1.0");
    }
    let args = strings(&pod_template(deployment)["spec"]["containers"][0]["args"]);
    let added = ["--allowlist", "bank=/etc/civo-egress/allowlists/bank.txt", "--observe"].map(String::from);
    assert!(args.ends_with(&added), "{args:?}");
    // --observe proves the cluster by the pod's service-account CA: mounted
    // (the pod's setting wins over its account's), the account still
    // without RBAC.
    assert_eq!(pod_template(deployment)["spec"]["automountServiceAccountToken"], true);
    let account = object(&docs, "ServiceAccount", "civo-egress");
    assert!(
        !docs.iter().any(|d| d["subjects"].as_array().is_some_and(|s| s.iter().any(|s| s["name"] == name(account))))
    );
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
