//! The fake Kubernetes API of tests/common/kube_api.rs: its wire format through
//! raw HTTP, and its fidelity through the real `kubectl` (`get nodes`, `get
//! pods`, `logs`, `run`, `wait`, `delete`). The kubectl tests fail when kubectl
//! is missing: CI installs Debian's `kubernetes-client`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::kube_api::{Behaviour, Credentials, EchoKubelet, Exit, FakeKube, FakeNode, kubelet_fn};

const PROBE_LABEL: &str = "app.kubernetes.io/managed-by=civo-egress-probe";

fn lab_nodes() -> Vec<FakeNode> {
    vec![
        FakeNode::new("k3s-gw", "192.168.1.2").role("control-plane").role("master").taint(
            "node-role.kubernetes.io/control-plane",
            None,
            "NoSchedule",
        ),
        FakeNode::new("k3s-worker-a", "192.168.1.3"),
        FakeNode::new("k3s-public", "192.168.1.4").external_ip("212.2.246.9"),
    ]
}

fn lab_kubelet() -> EchoKubelet {
    EchoKubelet::new()
        .echo("k3s-gw", "212.2.253.151\n")
        .echo("k3s-worker-a", "212.2.253.151\n")
        .echo("k3s-public", "212.2.246.9\n")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("civo-egress-kubeapi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The kubectl to run: `$KUBECTL`, else `kubectl` on the PATH (Debian's `kubernetes-client` is 1.20;
/// the machine image's is newer: the tests hold for both).
fn kubectl_binary() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned())
}

/// kubectl's client minor version (20 for Debian's `kubernetes-client`); fails when kubectl is missing.
fn kubectl_minor() -> u32 {
    let out = std::process::Command::new(kubectl_binary()).args(["version", "--client", "-o", "json"]).output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        _ => panic!(
            "kubectl is missing: install Debian's kubernetes-client (`apt-get install kubernetes-client`); CI does"
        ),
    };
    let version: Value = serde_json::from_slice(&out.stdout).unwrap();
    version["clientVersion"]["minor"].as_str().unwrap().trim_end_matches('+').parse().unwrap()
}

/// Runs the real kubectl on a kubeconfig of its own, with a cache and HOME in `dir`.
async fn kubectl(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    kubectl_minor();
    let mut command = std::process::Command::new(kubectl_binary());
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--request-timeout=20s")
        .args(args)
        .env("HOME", dir)
        .env_remove("KUBECONFIG");
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts kubectl succeeded, and shows what it printed (seen with `--nocapture`).
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "kubectl failed: {}\n{}", stderr(out), stdout(out));
    println!("{}", stdout(out));
}

/// The table kubectl printed, split into cells on runs of 2+ spaces... kubectl pads with
/// spaces: split on whitespace (no cell here holds a space).
fn table(out: &Output) -> Vec<Vec<String>> {
    stdout(out).lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

/// Plain-HTTP request to the fake API; the body de-chunked.
async fn http(kube: &FakeKube, method: &str, target: &str, token: Option<&str>, body: Option<&Value>) -> (u16, String) {
    let mut socket = tokio::net::TcpStream::connect(kube.addr()).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nContent-Length: {}\r\n",
        kube.addr(),
        body.len()
    );
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut raw)).await.unwrap().unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = body;
        loop {
            let (size, tail) = rest.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size, 16).unwrap();
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    (status, body)
}

fn probe_pod(name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "civo-egress-probe"}},
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "activeDeadlineSeconds": 30,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "probe", "image": "curlimages/curl",
                            "command": ["curl", "-sS", "--max-time", "5", "https://ifconfig.me/ip"]}]
        }
    })
}

async fn wait_phase(kube: &FakeKube, ns: &str, name: &str, phase: &str) -> Value {
    for _ in 0..500 {
        if let Some(pod) = kube.pod(ns, name)
            && pod["status"]["phase"] == phase
        {
            return pod;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("pod {ns}/{name} never reached {phase}: {:?}", kube.pod(ns, name));
}

// ---- kubectl ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_nodes_over_tls_with_a_client_certificate() {
    // Civo's K3s kubeconfigs: a CA, a client certificate, no token.
    let kube = FakeKube::builder().nodes(lab_nodes()).client_cert().no_token().name("prod").start().await;
    let dir = scratch("nodes");
    let config = kube.write_kubeconfig(&dir);
    let kubeconfig = std::fs::read_to_string(&config).unwrap();
    assert!(kubeconfig.contains("certificate-authority-data:") && kubeconfig.contains("client-key-data:"));
    assert!(kube.url().starts_with("https://127.0.0.1:"));

    let out = kubectl(&dir, &config, &["get", "nodes"]).await;
    assert_ok(&out);
    let rows = table(&out);
    assert_eq!(rows[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], "{}", stdout(&out));
    assert_eq!(rows.len(), 4, "{}", stdout(&out));
    assert_eq!(rows[1][..3], ["k3s-gw", "Ready", "control-plane,master"]);
    assert_eq!(rows[2][..3], ["k3s-worker-a", "Ready", "<none>"]);
    assert_eq!(rows[1][3], "3d");
    assert_eq!(rows[1][4], "v1.31.4+k3s1");

    let out = kubectl(&dir, &config, &["get", "nodes", "-o", "wide"]).await;
    assert_ok(&out);
    let rows = table(&out);
    assert_eq!(rows[0][5..7], ["INTERNAL-IP", "EXTERNAL-IP"], "{}", stdout(&out));
    assert_eq!(rows[3][5..7], ["192.168.1.4", "212.2.246.9"]);

    let out = kubectl(&dir, &config, &["get", "nodes", "-o", "json"]).await;
    assert_ok(&out);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["kind"], "Node");
    assert_eq!(items[0]["metadata"]["name"], "k3s-gw");
    assert_eq!(items[0]["spec"]["taints"][0]["effect"], "NoSchedule");
    assert_eq!(
        items[1]["status"]["addresses"],
        json!([
            {"type": "InternalIP", "address": "192.168.1.3"},
            {"type": "Hostname", "address": "k3s-worker-a"}
        ])
    );

    let out =
        kubectl(&dir, &config, &["get", "node", "k3s-worker-a", "-o", "jsonpath={.status.addresses[0].address}"]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out), "192.168.1.3");

    let out = kubectl(&dir, &config, &["get", "node", "nope"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nodes \"nope\" not found"), "{}", stderr(&out));

    // kubectl identified itself with the certificate: nothing reached the API unauthenticated.
    assert!(kube.requests().iter().all(|r| r.authenticated), "{:?}", kube.requests());
    assert!(kube.requests_to("GET", "/api/v1/nodes").len() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_pods_and_their_logs() {
    let kube = FakeKube::builder().nodes(lab_nodes()).kubelet(lab_kubelet()).tls().start().await;
    let dir = scratch("pods");
    let config = kube.write_kubeconfig(&dir);
    let token = kube.token().unwrap().to_owned();

    let out = kubectl(&dir, &config, &["get", "pods", "-n", "egress"]).await;
    assert_ok(&out);
    assert!(stdout(&out).is_empty());
    assert_eq!(stderr(&out).trim(), "No resources found in egress namespace.");

    // kubectl creates a pod, waits for it through a watch, reads its log.
    let overrides = json!({"apiVersion": "v1", "spec": {"nodeName": "k3s-public"}}).to_string();
    let out = kubectl(
        &dir,
        &config,
        &[
            "run",
            "curl-egress",
            "-n",
            "egress",
            "--image=curlimages/curl",
            "--restart=Never",
            "--labels=app.kubernetes.io/managed-by=civo-egress-probe",
            &format!("--overrides={overrides}"),
            "--command",
            "--",
            "curl",
            "-s",
            "https://ifconfig.me/ip",
        ],
    )
    .await;
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "pod/curl-egress created");
    if kubectl_minor() >= 23 {
        // `wait --for=jsonpath` (kubectl 1.23+) lists, then watches from the list's resourceVersion.
        let out = kubectl(
            &dir,
            &config,
            &["wait", "-n", "egress", "--for=jsonpath={.status.phase}=Succeeded", "pod/curl-egress", "--timeout=20s"],
        )
        .await;
        assert_ok(&out);
        assert_eq!(stdout(&out).trim(), "pod/curl-egress condition met");
    } else {
        wait_phase(&kube, "egress", "curl-egress", "Succeeded").await;
    }

    let out = kubectl(&dir, &config, &["get", "pods", "-n", "egress"]).await;
    assert_ok(&out);
    let rows = table(&out);
    assert_eq!(rows[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], "{}", stdout(&out));
    assert_eq!(rows[1][..4], ["curl-egress", "0/1", "Completed", "0"]);

    let out = kubectl(&dir, &config, &["get", "pods", "-n", "egress", "-o", "wide"]).await;
    assert_ok(&out);
    assert_eq!(table(&out)[1][6], "k3s-public", "{}", stdout(&out));

    let out = kubectl(&dir, &config, &["logs", "curl-egress", "-n", "egress"]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out), "212.2.246.9\n");

    let out = kubectl(&dir, &config, &["get", "pods", "-n", "egress", "-l", PROBE_LABEL, "-o", "json"]).await;
    assert_ok(&out);
    let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let pod = &list["items"][0];
    assert_eq!(pod["metadata"]["namespace"], "egress");
    assert_eq!(pod["spec"]["containers"][0]["command"], json!(["curl", "-s", "https://ifconfig.me/ip"]));
    assert_eq!(pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
    let out = kubectl(&dir, &config, &["get", "pods", "-n", "egress", "-l", "app=other"]).await;
    assert_ok(&out);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));

    // kubectl delete waits for the DELETED event on a watch.
    let out = kubectl(&dir, &config, &["delete", "pod", "curl-egress", "-n", "egress", "--timeout=20s"]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "pod \"curl-egress\" deleted");
    assert!(kube.pods().is_empty());

    // The token never reached a log of ours.
    assert!(!format!("{:?}", kube.requests()).contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_without_credentials_is_unauthorized() {
    // No credentials (over plain HTTP: over TLS kubectl would prompt for a user name).
    let kube = FakeKube::builder().nodes(lab_nodes()).start().await;
    let dir = scratch("unauthorized");
    let config = dir.join("kubeconfig");
    std::fs::write(&config, kube.kubeconfig_with(&Credentials::default())).unwrap();
    let out = kubectl(&dir, &config, &["get", "nodes"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("You must be logged in to the server"), "{}", stderr(&out));
    let api: Vec<_> = kube.requests().into_iter().filter(|r| r.path != "/version").collect();
    assert!(!api.is_empty() && api.iter().all(|r| !r.authenticated && r.status == 401), "{api:?}");

    // A wrong token, over TLS (kubectl sends tokens over TLS only).
    let kube = FakeKube::builder().nodes(lab_nodes()).tls().start().await;
    let wrong = Credentials { token: Some("wrong-token".into()), client_cert: false };
    std::fs::write(&config, kube.kubeconfig_with(&wrong)).unwrap();
    let out = kubectl(&dir, &config, &["get", "nodes"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("You must be logged in to the server"), "{}", stderr(&out));
    assert!(kube.requests().iter().all(|r| !r.authenticated && r.status == 401), "{:?}", kube.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_logs_of_a_pod_that_never_starts_says_it_waits() {
    let kubelet = lab_kubelet().node("k3s-worker-a", Behaviour::NeverStarts);
    let kube = FakeKube::builder().nodes(lab_nodes()).kubelet(kubelet).tls().start().await;
    let dir = scratch("waiting");
    let config = kube.write_kubeconfig(&dir);
    let overrides = json!({"apiVersion": "v1", "spec": {"nodeName": "k3s-worker-a"}}).to_string();
    let out = kubectl(
        &dir,
        &config,
        &["run", "stuck", "--image=curlimages/curl", "--restart=Never", &format!("--overrides={overrides}")],
    )
    .await;
    assert_ok(&out);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = kubectl(&dir, &config, &["get", "pods"]).await;
    assert_ok(&out);
    assert_eq!(table(&out)[1][..3], ["stuck", "0/1", "ImagePullBackOff"], "{}", stdout(&out));
    let out = kubectl(&dir, &config, &["logs", "stuck"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is waiting to start: ImagePullBackOff"), "{}", stderr(&out));
}

// ---- the wire format, raw -------------------------------------------------

#[tokio::test]
async fn errors_are_status_objects() {
    let kube = FakeKube::builder().nodes(lab_nodes()).start().await;
    let token = kube.token();
    let (code, body) = http(&kube, "GET", "/api/v1/nodes", None, None).await;
    assert_eq!(code, 401);
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status["kind"].as_str(), status["reason"].as_str(), status["code"].as_u64()),
        (Some("Status"), Some("Unauthorized"), Some(401))
    );
    let (code, body) = http(&kube, "GET", "/api/v1/namespaces/default/pods/gone", token, None).await;
    assert_eq!(code, 404);
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "NotFound");
    assert_eq!(status["message"], "pods \"gone\" not found");
    assert_eq!(status["details"], json!({"name": "gone", "kind": "pods"}));

    kube.forbid_pod_create();
    let (code, body) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("p", "k3s-gw"))).await;
    assert_eq!(code, 403);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reason"], "Forbidden");
    assert!(kube.pods().is_empty() && kube.created_pods().is_empty());
    kube.clear_faults();

    kube.fail(Some("GET"), "/api/v1/nodes", 500);
    let (code, body) = http(&kube, "GET", "/api/v1/nodes", token, None).await;
    assert_eq!(code, 500);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reason"], "InternalError");
    kube.clear_faults();

    kube.delay(None, "/api/v1/nodes", Duration::from_millis(300));
    let started = std::time::Instant::now();
    let (code, _) = http(&kube, "GET", "/api/v1/nodes", token, None).await;
    assert_eq!(code, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    kube.clear_faults();

    let (code, body) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("Bad_Name", "k3s-gw"))).await;
    assert_eq!(code, 422);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reason"], "Invalid");
    let (code, _) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("twice", "k3s-gw"))).await;
    assert_eq!(code, 201);
    let (code, body) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("twice", "k3s-gw"))).await;
    assert_eq!(code, 409);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reason"], "AlreadyExists");
    let (code, _) =
        http(&kube, "GET", "/api/v1/namespaces/default/pods?fieldSelector=bogus.field%3D1", token, None).await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_pod_runs_its_lifecycle_and_watch_streams_it() {
    let kube = FakeKube::builder().nodes(lab_nodes()).kubelet(lab_kubelet()).start().await;
    let token = kube.token();
    let (code, body) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("p1", "k3s-gw"))).await;
    assert_eq!(code, 201);
    let created: Value = serde_json::from_str(&body).unwrap();
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(meta["resourceVersion"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["status"]["phase"], "Pending");
    assert_eq!(created["spec"]["tolerations"], json!([{"operator": "Exists"}]));
    let rv = meta["resourceVersion"].as_str().unwrap().to_owned();

    let done = wait_phase(&kube, "default", "p1", "Succeeded").await;
    assert_eq!(done["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
    assert_eq!(done["status"]["hostIP"], "192.168.1.2");
    let (code, log) = http(&kube, "GET", "/api/v1/namespaces/default/pods/p1/log", token, None).await;
    assert_eq!((code, log.as_str()), (200, "212.2.253.151\n"));
    let (_, log) =
        http(&kube, "GET", "/api/v1/namespaces/default/pods/p1/log?follow=true&limitBytes=3", token, None).await;
    assert_eq!(log, "212");

    // From the create's resourceVersion: Pending (bound), Running, Succeeded; then the delete.
    let watch = tokio::spawn({
        let kube = kube.clone();
        async move {
            let target = format!(
                "/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1&fieldSelector=metadata.name%3Dp1"
            );
            http(&kube, "GET", &target, kube.token(), None).await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, body) = http(&kube, "DELETE", "/api/v1/namespaces/default/pods/p1", token, None).await;
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["metadata"]["name"], "p1");
    let (code, stream) = watch.await.unwrap();
    assert_eq!(code, 200);
    let events: Vec<Value> = stream.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["object"]["status"]["phase"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [("MODIFIED", "Pending"), ("MODIFIED", "Running"), ("MODIFIED", "Succeeded"), ("DELETED", "Succeeded")]
    );
    let rvs: Vec<u64> =
        events.iter().map(|e| e["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()).collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "{rvs:?}");
    assert!(kube.pods().is_empty());
    assert_eq!(kube.created_specs().len(), 1);
    let (code, _) = http(&kube, "GET", "/api/v1/namespaces/default/pods/p1", token, None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn pods_that_never_start_fail_past_their_deadline_and_closures_can_be_kubelets() {
    let kubelet = lab_kubelet().node("k3s-gw", Behaviour::NeverStarts).node("k3s-worker-a", Behaviour::Hang);
    let kube = FakeKube::builder().nodes(lab_nodes()).kubelet(kubelet).start().await;
    let token = kube.token();
    for (name, node) in [("never", "k3s-gw"), ("hangs", "k3s-worker-a"), ("ghost", "no-such-node")] {
        let mut pod = probe_pod(name, node);
        pod["spec"]["activeDeadlineSeconds"] = json!(1);
        let (code, _) = http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&pod)).await;
        assert_eq!(code, 201);
    }
    for name in ["never", "hangs"] {
        let failed = wait_phase(&kube, "default", name, "Failed").await;
        assert_eq!(failed["status"]["reason"], "DeadlineExceeded");
    }
    // Bound to a node without a kubelet: Pending for ever.
    assert_eq!(kube.pod("default", "ghost").unwrap()["status"]["phase"], "Pending");
    let (code, body) = http(
        &kube,
        "DELETE",
        &format!("/api/v1/namespaces/default/pods?labelSelector={}", PROBE_LABEL.replace('=', "%3D")),
        token,
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["items"].as_array().unwrap().len(), 3);
    assert!(kube.wait_no_pods_matching(PROBE_LABEL, Duration::from_secs(1)).await.is_empty());

    kube.set_kubelet_arc(kubelet_fn(|pod| async move { Exit::failed(7, format!("{} {:?}\n", pod.node, pod.urls())) }));
    let (code, _) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("fn", "k3s-public"))).await;
    assert_eq!(code, 201);
    let failed = wait_phase(&kube, "default", "fn", "Failed").await;
    assert_eq!(failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 7);
    assert_eq!(kube.pod_log("default", "fn").unwrap(), "k3s-public [\"https://ifconfig.me/ip\"]\n");
}

#[test]
fn selectors_parse_as_the_api_server_does() {
    use crate::common::kube_api::select::{labels_match, parse_labels};
    let pod = json!({"metadata": {"name": "p", "labels": {"app": "x", "tier": "a"}}});
    let matches = |s: &str| {
        let reqs = parse_labels(s).unwrap();
        labels_match(&reqs, &pod)
    };
    assert!(matches("app=x"));
    assert!(matches("app==x,tier"));
    assert!(matches("tier in (a, b),!missing"));
    assert!(matches("tier notin (b,c)"));
    assert!(!matches("app!=x"));
    assert!(!matches("missing"));
    assert!(matches(""));
}

#[tokio::test]
async fn pod_security_restricted_is_enforced_when_asked() {
    let kube = FakeKube::builder().nodes(lab_nodes()).kubelet(lab_kubelet()).start().await;
    kube.enforce_pod_security_restricted(true);
    let token = kube.token();
    let (code, body) =
        http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&probe_pod("loose", "k3s-gw"))).await;
    assert_eq!(code, 403);
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "Forbidden");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("pods \"loose\" is forbidden: violates PodSecurity \"restricted:latest\": "),
        "{message}"
    );
    for rule in
        ["allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true", "seccompProfile"]
    {
        assert!(message.contains(rule), "{message}");
    }
    assert!(kube.created_pods().is_empty());

    let mut strict = probe_pod("strict", "k3s-gw");
    strict["spec"]["securityContext"] =
        json!({"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}});
    strict["spec"]["containers"][0]["securityContext"] = json!({
        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}});
    let (code, body) = http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&strict)).await;
    assert_eq!(code, 201, "{body}");
    let mut root = strict.clone();
    root["metadata"]["name"] = json!("root");
    root["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    let (code, body) = http(&kube, "POST", "/api/v1/namespaces/default/pods", token, Some(&root)).await;
    assert_eq!(code, 403);
    assert!(body.contains("runAsUser=0"), "{body}");
}
