//! The Pod Security "restricted" profile: `restricted_profile_admits_the_pod`
//! (the rendered pod templates, created through kube-rs in the fake API,
//! admitted; copies each missing one setting refused) and
//! `admission_check_names_each_violation`.

use serde_json::{Value, json};

use crate::common::admission::{forbidden_message, restricted_violations};
use crate::common::kube_api::{FakeKube, FakeNode};
use crate::render::{NAMESPACE, SERVICE_ACCOUNT_DIR, kind, name, object, pod_template, runtime, with_probe};

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

pub(crate) fn restricted_profile_admits_the_pod() {
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

pub(crate) fn admission_check_names_each_violation() {
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
