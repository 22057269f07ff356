//! The Pod Security Standards' "restricted" level (`restricted:latest`, as
//! of Kubernetes v1.33), as the PodSecurity admission plugin checks a pod:
//! the "baseline" checks and the "restricted" ones, each violation in the
//! plugin's words, in its order. The fake Kubernetes API
//! ([`FakeKube::enforce_pod_security_restricted`](super::kube_api::FakeKube::enforce_pod_security_restricted))
//! refuses a pod create with 403 and
//! `pods "NAME" is forbidden: violates PodSecurity "restricted:latest": ...`
//! when [`restricted_violations`] finds any.
//!
//! Checked (every container: init, regular and ephemeral):
//! - baseline: AppArmor (the fields and the beta annotations), host
//!   namespaces, host ports, privileged, `procMount`, SELinux options,
//!   sysctls outside the safe set, Windows `hostProcess`;
//! - restricted: `allowPrivilegeEscalation=false`, capabilities (drop `ALL`,
//!   add only `NET_BIND_SERVICE`), volume types (configMap, csi,
//!   downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected,
//!   secret only; this check replaces baseline's hostPath one), runAsNonRoot
//!   (the pod's or every container's), runAsUser != 0, and the seccomp
//!   profile `RuntimeDefault` or `Localhost` (the pod's or every
//!   container's; `Unconfined` nowhere; this replaces baseline's).
//!
//! As the plugin, a pod with `spec.os.name: windows` is exempt from the
//! Linux-only restricted checks (privilege escalation, capabilities,
//! seccomp). Not checked: exemptions (users, runtime classes, namespaces)
//! and version pinning (`enforce-version`): this is `latest`.

use serde_json::Value;

/// The capability the restricted level lets a container add.
const ADDABLE_CAPABILITY: &str = "NET_BIND_SERVICE";

/// The volume types the restricted level allows.
const ALLOWED_VOLUME_TYPES: &[&str] =
    &["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/// The sysctls the baseline level allows (the safe set, v1.33).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// The SELinux types the baseline level allows (besides none).
const SELINUX_TYPES: &[&str] = &["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/// The message of a refused create, as the API server words it.
pub fn forbidden_message(name: &str, violations: &[String]) -> String {
    format!("pods \"{name}\" is forbidden: violates PodSecurity \"restricted:latest\": {}", violations.join(", "))
}

/// Every violation of the "restricted" level by `pod` (a Pod object, or
/// anything with its `metadata` and `spec`), in the admission plugin's
/// words and order; empty when it is admitted.
pub fn restricted_violations(pod: &Value) -> Vec<String> {
    let spec = &pod["spec"];
    let pod_sc = &spec["securityContext"];
    let containers: Vec<&Value> = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect();
    let linux = spec["os"]["name"] != "windows";
    let mut out = Vec::new();
    let mut push = |check: &str, details: Vec<String>| {
        if !details.is_empty() {
            out.push(format!("{check} ({})", details.join("; ")));
        }
    };

    push("forbidden AppArmor profile", app_armor(pod, &containers));
    let host: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec[**k] == true)
        .map(|k| format!("{k}=true"))
        .collect();
    if !host.is_empty() {
        push("host namespaces", vec![host.join(", ")]);
    }
    push("hostPort", host_ports(&containers));
    let privileged = names(&containers, |c| c["securityContext"]["privileged"] == true);
    push("privileged", who(&privileged, "must not set securityContext.privileged=true"));
    let proc_mount: Vec<String> = containers
        .iter()
        .filter_map(|c| {
            let mount = c["securityContext"]["procMount"].as_str()?;
            (mount != "Default").then(|| {
                format!("{} must not set securityContext.procMount to {mount:?}", containers_named(&[name(c)]))
            })
        })
        .collect();
    push("procMount", proc_mount);
    push("seLinuxOptions", se_linux(pod_sc, &containers));
    let sysctls: Vec<String> = spec["securityContext"]["sysctls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .map(str::to_owned)
        .collect();
    if !sysctls.is_empty() {
        push("forbidden sysctls", vec![sysctls.join(", ")]);
    }
    let host_process = pod_sc["windowsOptions"]["hostProcess"] == true
        || containers.iter().any(|c| c["securityContext"]["windowsOptions"]["hostProcess"] == true);
    if host_process {
        push(
            "hostProcess",
            vec!["pod and containers must not set securityContext.windowsOptions.hostProcess=true".into()],
        );
    }

    if linux {
        let escalation = names(&containers, |c| c["securityContext"]["allowPrivilegeEscalation"] != false);
        push(
            "allowPrivilegeEscalation != false",
            who(&escalation, "must set securityContext.allowPrivilegeEscalation=false"),
        );
        push("unrestricted capabilities", capabilities(&containers));
    }
    push("restricted volume types", volumes(spec));
    push("runAsNonRoot != true", run_as_non_root(pod_sc, &containers));
    push("runAsUser=0", run_as_user(pod_sc, &containers));
    if linux {
        push("seccompProfile", seccomp(pod_sc, &containers));
    }
    out
}

fn name(c: &Value) -> String {
    c["name"].as_str().unwrap_or("").to_owned()
}

fn names(containers: &[&Value], pred: impl Fn(&Value) -> bool) -> Vec<String> {
    containers.iter().filter(|c| pred(c)).map(|c| name(c)).collect()
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// `container "a"` or `containers "a", "b"`.
fn containers_named(names: &[String]) -> String {
    let noun = if names.len() == 1 { "container" } else { "containers" };
    format!("{noun} {}", quoted(names))
}

/// `containers "a", "b" must ...`, or nothing when `names` is empty.
fn who(names: &[String], must: &str) -> Vec<String> {
    if names.is_empty() { Vec::new() } else { vec![format!("{} {must}", containers_named(names))] }
}

fn app_armor(pod: &Value, containers: &[&Value]) -> Vec<String> {
    let allowed = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let mut out = Vec::new();
    if let Some(t) = pod["spec"]["securityContext"]["appArmorProfile"]["type"].as_str().filter(|t| !allowed(t)) {
        out.push(format!("pod must not set securityContext.appArmorProfile.type to {t:?}"));
    }
    let bad =
        names(containers, |c| c["securityContext"]["appArmorProfile"]["type"].as_str().is_some_and(|t| !allowed(t)));
    if !bad.is_empty() {
        out.push(format!(
            "{} must not set securityContext.appArmorProfile.type to \"Unconfined\"",
            containers_named(&bad)
        ));
    }
    let prefix = "container.apparmor.security.beta.kubernetes.io/";
    for (key, value) in pod["metadata"]["annotations"].as_object().into_iter().flatten() {
        let value = value.as_str().unwrap_or("");
        if key.starts_with(prefix) && !(value == "runtime/default" || value.starts_with("localhost/")) {
            out.push(format!("{key}={value:?}"));
        }
    }
    out
}

fn host_ports(containers: &[&Value]) -> Vec<String> {
    let mut users = Vec::new();
    let mut ports = Vec::new();
    for c in containers {
        let used: Vec<String> = c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["hostPort"].as_i64().filter(|&p| p != 0))
            .map(|p| p.to_string())
            .collect();
        if !used.is_empty() {
            users.push(name(c));
            ports.extend(used);
        }
    }
    if users.is_empty() {
        return Vec::new();
    }
    let verb = if users.len() == 1 { "uses" } else { "use" };
    let noun = if ports.len() == 1 { "hostPort" } else { "hostPorts" };
    vec![format!("{} {verb} {noun} {}", containers_named(&users), ports.join(", "))]
}

fn se_linux(pod_sc: &Value, containers: &[&Value]) -> Vec<String> {
    let forbidden = |options: &Value| -> Vec<String> {
        let mut bad = Vec::new();
        if let Some(t) = options["type"].as_str().filter(|t| !t.is_empty() && !SELINUX_TYPES.contains(t)) {
            bad.push(format!("type {t:?}"));
        }
        for field in ["user", "role"] {
            if let Some(v) = options[field].as_str().filter(|v| !v.is_empty()) {
                bad.push(format!("{field} {v:?}"));
            }
        }
        bad
    };
    let mut out = Vec::new();
    let pod_bad = forbidden(&pod_sc["seLinuxOptions"]);
    if !pod_bad.is_empty() {
        out.push(format!("pod set forbidden securityContext.seLinuxOptions: {}", pod_bad.join("; ")));
    }
    for c in containers {
        let bad = forbidden(&c["securityContext"]["seLinuxOptions"]);
        if !bad.is_empty() {
            out.push(format!(
                "{} set forbidden securityContext.seLinuxOptions: {}",
                containers_named(&[name(c)]),
                bad.join("; ")
            ));
        }
    }
    out
}

fn capabilities(containers: &[&Value]) -> Vec<String> {
    let no_drop = names(containers, |c| {
        !c["securityContext"]["capabilities"]["drop"].as_array().is_some_and(|d| d.iter().any(|x| x == "ALL"))
    });
    let mut adders = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for c in containers {
        let extra: Vec<String> = c["securityContext"]["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|cap| *cap != ADDABLE_CAPABILITY)
            .map(str::to_owned)
            .collect();
        if !extra.is_empty() {
            adders.push(name(c));
            for cap in extra {
                if !added.contains(&cap) {
                    added.push(cap);
                }
            }
        }
    }
    let mut out = who(&no_drop, "must set securityContext.capabilities.drop=[\"ALL\"]");
    if !adders.is_empty() {
        added.sort();
        out.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_named(&adders),
            quoted(&added)
        ));
    }
    out
}

fn volumes(spec: &Value) -> Vec<String> {
    let mut named = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let Some(fields) = volume.as_object() else { continue };
        let bad: Vec<&String> = fields
            .iter()
            .filter(|(k, v)| k.as_str() != "name" && !v.is_null() && !ALLOWED_VOLUME_TYPES.contains(&k.as_str()))
            .map(|(k, _)| k)
            .collect();
        if !bad.is_empty() {
            named.push(name(volume));
            for t in bad {
                if !types.contains(t) {
                    types.push(t.clone());
                }
            }
        }
    }
    if named.is_empty() {
        return Vec::new();
    }
    let (noun, verb) = if named.len() == 1 { ("volume", "uses") } else { ("volumes", "use") };
    let kind = if types.len() == 1 { "restricted volume type" } else { "restricted volume types" };
    vec![format!("{noun} {} {verb} {kind} {}", quoted(&named), quoted(&types))]
}

fn run_as_non_root(pod_sc: &Value, containers: &[&Value]) -> Vec<String> {
    let mut out = Vec::new();
    if pod_sc["runAsNonRoot"] == false {
        out.push("pod must not set securityContext.runAsNonRoot=false".to_owned());
    }
    let explicit_false = names(containers, |c| c["securityContext"]["runAsNonRoot"] == false);
    out.extend(who(&explicit_false, "must not set securityContext.runAsNonRoot=false"));
    if pod_sc["runAsNonRoot"] != true {
        let unset = names(containers, |c| c["securityContext"]["runAsNonRoot"].is_null());
        if !unset.is_empty() {
            out.push(format!("pod or {} must set securityContext.runAsNonRoot=true", containers_named(&unset)));
        }
    }
    out
}

fn run_as_user(pod_sc: &Value, containers: &[&Value]) -> Vec<String> {
    let pod_root = pod_sc["runAsUser"] == 0;
    let root = names(containers, |c| c["securityContext"]["runAsUser"] == 0);
    match (pod_root, root.is_empty()) {
        (false, true) => Vec::new(),
        (true, true) => vec!["pod must not set runAsUser=0".to_owned()],
        (false, false) => vec![format!("{} must not set runAsUser=0", containers_named(&root))],
        (true, false) => vec![format!("pod and {} must not set runAsUser=0", containers_named(&root))],
    }
}

fn seccomp(pod_sc: &Value, containers: &[&Value]) -> Vec<String> {
    let allowed = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let mut out = Vec::new();
    let pod_type = pod_sc["seccompProfile"]["type"].as_str();
    if let Some(t) = pod_type.filter(|t| !allowed(t)) {
        out.push(format!("pod must not set securityContext.seccompProfile.type to {t:?}"));
    }
    let mut wrong: Vec<(String, String)> = Vec::new();
    let mut unset = Vec::new();
    for c in containers {
        match c["securityContext"]["seccompProfile"]["type"].as_str() {
            Some(t) if !allowed(t) => wrong.push((name(c), t.to_owned())),
            Some(_) => {}
            None if !pod_type.is_some_and(allowed) => unset.push(name(c)),
            None => {}
        }
    }
    for (c, t) in wrong {
        out.push(format!("{} must not set securityContext.seccompProfile.type to {t:?}", containers_named(&[c])));
    }
    if !unset.is_empty() && pod_type.is_none() {
        out.push(format!(
            "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_named(&unset)
        ));
    } else if !unset.is_empty() {
        out.push(format!(
            "{} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            containers_named(&unset)
        ));
    }
    out
}
