//! The routes, the objects as the API server writes them, and the pod lifecycle.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::http::{HttpRequest, HttpResponse};
use super::select::{self, FieldReq, LabelReq};
use super::{Exit, FakeNode, FaultAction, PodRun, SeenRequest, Shared, Start, State};

const POD_FIELDS: &[&str] =
    &["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "spec.restartPolicy", "status.podIP"];
const NODE_FIELDS: &[&str] = &["metadata.name", "spec.unschedulable"];

pub fn random_hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}

fn uid() -> String {
    let h = random_hex(32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// RFC 3339 in UTC, seconds, as `metav1.Time` marshals.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn now() -> String {
    rfc3339(SystemTime::now())
}

/// kubectl's `duration.HumanDuration`, near enough.
fn age(since: SystemTime) -> String {
    let s = SystemTime::now().duration_since(since).unwrap_or_default().as_secs();
    match s {
        0..120 => format!("{s}s"),
        120..600 if !s.is_multiple_of(60) => format!("{}m{}s", s / 60, s % 60),
        120..10_800 => format!("{}m", s / 60),
        10_800..28_800 if s % 3600 / 60 != 0 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn parse_time(s: &str) -> Option<SystemTime> {
    // "YYYY-MM-DDTHH:MM:SSZ" back to a time (only what rfc3339 writes).
    let b = s.as_bytes();
    if b.len() != 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse::Full { status, content_type: "application/json", body: body.to_string().into_bytes() }
}

fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "AlreadyExists",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

pub fn status_object(code: u16, message: &str, details: Option<Value>) -> Value {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason_for(code),
        "code": code,
    });
    if let Some(details) = details {
        status["details"] = details;
    }
    status
}

fn status(code: u16, message: &str) -> HttpResponse {
    json_response(code, &status_object(code, message, None))
}

fn not_found(kind: &str, name: &str) -> HttpResponse {
    let body = status_object(404, &format!("{kind} \"{name}\" not found"), Some(json!({"name": name, "kind": kind})));
    json_response(404, &body)
}

pub async fn handle(shared: Arc<Shared>, req: HttpRequest, client_cert: bool) -> HttpResponse {
    let path = req.target.split('?').next().unwrap_or("").to_owned();
    let raw_query = req.target.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
    let token_ok = match (&shared.token, req.header("authorization")) {
        (Some(token), Some(auth)) => auth.strip_prefix("Bearer ").is_some_and(|t| t.trim() == token),
        _ => false,
    };
    let wrong_token = req.header("authorization").is_some() && !token_ok;
    // No token: plain HTTP is open; TLS with a client certificate check required it at the handshake.
    let open = shared.token.is_none();
    let authenticated = !wrong_token && (token_ok || client_cert || open);
    // As `system:public-info-viewer` grants anonymous users (kubectl's dispatcher asks first).
    let public = req.method == "GET" && matches!(path.as_str(), "/version" | "/healthz" | "/livez" | "/readyz");
    let fault = {
        let state = shared.state.lock().unwrap();
        state.faults.iter().filter(|f| f.matches(&req.method, &path)).map(|f| f.action.clone()).collect::<Vec<_>>()
    };
    let response = if !authenticated && (wrong_token || !public) {
        status(401, "Unauthorized")
    } else {
        let mut injected = None;
        for action in fault {
            match action {
                FaultAction::Delay(d) => tokio::time::sleep(d).await,
                FaultAction::Status(code, message) => {
                    injected.get_or_insert(status(code, &message));
                }
            }
        }
        match injected {
            Some(r) => r,
            None => route(&shared, &req, &path).await,
        }
    };
    let code = match &response {
        HttpResponse::Full { status, .. } | HttpResponse::Stream { status, .. } => *status,
    };
    shared.state.lock().unwrap().requests.push(SeenRequest {
        method: req.method.clone(),
        path,
        query: raw_query,
        authenticated,
        user_agent: req.header("user-agent").unwrap_or("").to_owned(),
        status: code,
    });
    response
}

impl Shared {
    fn bump(state: &mut State) -> u64 {
        state.rv += 1;
        state.rv
    }

    fn notify(&self, rv: u64) {
        self.changes.send_replace(rv);
    }
}

async fn route(shared: &Arc<Shared>, req: &HttpRequest, path: &str) -> HttpResponse {
    let query = select::query(&req.target);
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let table = req.header("accept").is_some_and(|a| a.contains("as=Table"));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        ("GET", ["version"]) => json_response(200, &version()),
        ("GET", ["healthz" | "livez" | "readyz"]) => {
            HttpResponse::Full { status: 200, content_type: "text/plain; charset=utf-8", body: b"ok".to_vec() }
        }
        ("GET", ["api"]) => json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        ),
        ("GET", ["apis"]) => json_response(200, &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})),
        ("GET", ["api", "v1"]) => json_response(200, &resources()),
        ("GET", ["api", "v1", "nodes"]) => {
            let (labels, fields) = match selectors(q("labelSelector"), q("fieldSelector"), NODE_FIELDS) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let state = shared.state.lock().unwrap();
            let items: Vec<Value> = state
                .nodes
                .iter()
                .map(|n| node_object(&state, n))
                .filter(|n| select::labels_match(&labels, n) && select::fields_match(&fields, n))
                .collect();
            list_response(&state, "NodeList", items, table, node_table)
        }
        ("GET", ["api", "v1", "nodes", name]) => {
            let state = shared.state.lock().unwrap();
            match state.nodes.iter().find(|n| n.name == *name) {
                Some(n) => {
                    let node = node_object(&state, n);
                    single_response(&state, node, table, node_table)
                }
                None => not_found("nodes", name),
            }
        }
        ("GET", ["api", "v1", "pods"]) => list_or_watch(shared, None, q("watch"), &query, table).await,
        ("GET", ["api", "v1", "namespaces", ns, "pods"]) => {
            list_or_watch(shared, Some(ns), q("watch"), &query, table).await
        }
        ("POST", ["api", "v1", "namespaces", ns, "pods"]) => create_pod(shared, ns, &req.body),
        ("DELETE", ["api", "v1", "namespaces", ns, "pods"]) => {
            let (labels, fields) = match selectors(q("labelSelector"), q("fieldSelector"), POD_FIELDS) {
                Ok(s) => s,
                Err(r) => return r,
            };
            let names: Vec<String> = {
                let state = shared.state.lock().unwrap();
                matching_pods(&state, Some(ns), &labels, &fields)
                    .iter()
                    .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned))
                    .collect()
            };
            let items: Vec<Value> = names.iter().filter_map(|n| delete_pod(shared, ns, n)).collect();
            let state = shared.state.lock().unwrap();
            list_response(&state, "PodList", items, false, pod_table)
        }
        ("GET", ["api", "v1", "namespaces", ns, "pods", name]) => {
            let state = shared.state.lock().unwrap();
            match state.pods.get(&((*ns).to_owned(), (*name).to_owned())) {
                Some(pod) => single_response(&state, pod.clone(), table, pod_table),
                None => not_found("pods", name),
            }
        }
        ("DELETE", ["api", "v1", "namespaces", ns, "pods", name]) => match delete_pod(shared, ns, name) {
            Some(pod) => json_response(200, &pod),
            None => not_found("pods", name),
        },
        ("GET", ["api", "v1", "namespaces", ns, "pods", name, "log"]) => pod_log(shared, ns, name, &query).await,
        (_, ["version" | "api" | "apis"] | ["api", "v1", ..]) if known_path(&segments) => {
            status(405, &format!("the server does not allow this method on the requested resource ({method} {path})"))
        }
        _ => {
            json_response(404, &status_object(404, "the server could not find the requested resource", Some(json!({}))))
        }
    }
}

fn known_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["version" | "api" | "apis"]
            | ["api", "v1"]
            | ["api", "v1", "nodes" | "pods"]
            | ["api", "v1", "nodes", _]
            | ["api", "v1", "namespaces", _, "pods"]
            | ["api", "v1", "namespaces", _, "pods", _]
            | ["api", "v1", "namespaces", _, "pods", _, "log"]
    )
}

fn version() -> Value {
    json!({
        "major": "1", "minor": "31", "gitVersion": "v1.31.4+k3s1",
        "gitCommit": "a562d0907d23d6b0e8e87b1ac6b8fbf9fff5e3a6", "gitTreeState": "clean",
        "buildDate": "2024-12-17T18:03:15Z", "goVersion": "go1.22.9", "compiler": "gc", "platform": "linux/amd64"
    })
}

fn resources() -> Value {
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "nodes", "singularName": "node", "namespaced": false, "kind": "Node",
             "verbs": ["get", "list"], "shortNames": ["no"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": ["create", "delete", "deletecollection", "get", "list", "watch"],
             "shortNames": ["po"], "categories": ["all"]},
            {"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}
        ]
    })
}

fn selectors(
    labels: Option<&str>,
    fields: Option<&str>,
    supported: &[&str],
) -> Result<(Vec<LabelReq>, Vec<FieldReq>), HttpResponse> {
    let labels = select::parse_labels(labels.unwrap_or("")).map_err(|m| status(400, &m))?;
    let fields = select::parse_fields(fields.unwrap_or(""), supported).map_err(|m| status(400, &m))?;
    Ok((labels, fields))
}

type TableFn = fn(&[Value]) -> (Value, Vec<Value>);

fn list_response(state: &State, kind: &str, items: Vec<Value>, table: bool, table_of: TableFn) -> HttpResponse {
    let rv = state.rv.to_string();
    if table {
        return json_response(200, &as_table(&rv, &items, table_of));
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut item| {
            if let Some(m) = item.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            item
        })
        .collect();
    json_response(200, &json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items}))
}

fn single_response(state: &State, item: Value, table: bool, table_of: TableFn) -> HttpResponse {
    if table {
        return json_response(200, &as_table(&state.rv.to_string(), &[item], table_of));
    }
    json_response(200, &item)
}

fn as_table(rv: &str, items: &[Value], table_of: TableFn) -> Value {
    let (columns, cells) = table_of(items);
    let rows: Vec<Value> =
        items.iter().zip(cells).map(|(object, cells)| json!({"cells": cells, "object": object})).collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
           "columnDefinitions": columns, "rows": rows})
}

fn column(name: &str, kind: &str, priority: u8, description: &str) -> Value {
    let mut c = json!({"name": name, "type": kind, "format": "", "description": description, "priority": priority});
    if name == "Name" {
        c["format"] = json!("name");
    }
    c
}

fn created(object: &Value) -> SystemTime {
    object["metadata"]["creationTimestamp"].as_str().and_then(parse_time).unwrap_or_else(SystemTime::now)
}

fn node_table(items: &[Value]) -> (Value, Vec<Value>) {
    let columns = json!([
        column("Name", "string", 0, "Name must be unique within a namespace."),
        column("Status", "string", 0, "The status of the node"),
        column("Roles", "string", 0, "The roles of the node"),
        column("Age", "string", 0, "CreationTimestamp is a timestamp representing the server time."),
        column("Version", "string", 0, "Kubelet Version reported by the node."),
        column(
            "Internal-IP",
            "string",
            1,
            "List of addresses reachable to the node. Queried from cloud provider, if available."
        ),
        column(
            "External-IP",
            "string",
            1,
            "List of addresses reachable to the node. Queried from cloud provider, if available."
        ),
        column(
            "OS-Image",
            "string",
            1,
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."
        ),
        column(
            "Kernel-Version",
            "string",
            1,
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."
        ),
        column(
            "Container-Runtime",
            "string",
            1,
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."
        ),
    ]);
    let rows = items
        .iter()
        .map(|n| {
            let ready = n["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .is_some_and(|c| c["status"] == "True");
            let mut roles: Vec<String> = select::labels_of(n)
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .map(|r| if r.is_empty() { "<none>".to_owned() } else { r.to_owned() })
                .collect();
            roles.sort_unstable();
            let roles = if roles.is_empty() { "<none>".to_owned() } else { roles.join(",") };
            let address = |kind: &str| {
                n["status"]["addresses"]
                    .as_array()
                    .and_then(|a| a.iter().find(|a| a["type"] == kind))
                    .and_then(|a| a["address"].as_str())
                    .unwrap_or("<none>")
                    .to_owned()
            };
            let mut status = if ready { "Ready".to_owned() } else { "NotReady".to_owned() };
            if n["spec"]["unschedulable"] == true {
                status.push_str(",SchedulingDisabled");
            }
            let info = &n["status"]["nodeInfo"];
            json!([
                n["metadata"]["name"],
                status,
                roles,
                age(created(n)),
                info["kubeletVersion"],
                address("InternalIP"),
                address("ExternalIP"),
                info["osImage"],
                info["kernelVersion"],
                info["containerRuntimeVersion"]
            ])
        })
        .collect();
    (columns, rows)
}

fn pod_table(items: &[Value]) -> (Value, Vec<Value>) {
    let columns = json!([
        column("Name", "string", 0, "Name must be unique within a namespace."),
        column("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
        column("Status", "string", 0, "The aggregate status of the containers in this pod."),
        column(
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."
        ),
        column("Age", "string", 0, "CreationTimestamp is a timestamp representing the server time."),
        column(
            "IP",
            "string",
            1,
            "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        ),
        column("Node", "string", 1, "NodeName is a request to schedule this pod onto a specific node."),
        column(
            "Nominated Node",
            "string",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node."
        ),
        column(
            "Readiness Gates",
            "string",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness."
        ),
    ]);
    let rows = items
        .iter()
        .map(|p| {
            let containers = p["spec"]["containers"].as_array().map_or(0, Vec::len);
            let statuses = p["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let mut shown = p["status"]["phase"].as_str().unwrap_or("Pending").to_owned();
            if let Some(reason) = p["status"]["reason"].as_str() {
                shown = reason.to_owned();
            }
            for s in &statuses {
                if let Some(r) = s["state"]["waiting"]["reason"].as_str() {
                    shown = r.to_owned();
                } else if let Some(r) = s["state"]["terminated"]["reason"].as_str() {
                    shown = r.to_owned();
                }
            }
            if p["metadata"]["deletionTimestamp"].is_string() {
                shown = "Terminating".to_owned();
            }
            let or_none = |v: &Value| v.as_str().unwrap_or("<none>").to_owned();
            json!([
                p["metadata"]["name"],
                format!("{ready}/{containers}"),
                shown,
                "0",
                age(created(p)),
                or_none(&p["status"]["podIP"]),
                or_none(&p["spec"]["nodeName"]),
                "<none>",
                "<none>"
            ])
        })
        .collect();
    (columns, rows)
}

pub fn set_nodes(state: &mut State, nodes: Vec<FakeNode>) {
    for n in &nodes {
        if !state.node_meta.contains_key(&n.name) {
            state.rv += 1;
            let meta = (uid(), state.rv.to_string(), rfc3339(SystemTime::now() - Duration::from_secs(3 * 86_400)));
            state.node_meta.insert(n.name.clone(), meta);
        }
    }
    state.nodes = nodes;
}

fn node_object(state: &State, n: &FakeNode) -> Value {
    let (uid, rv, created) = state.node_meta.get(&n.name).cloned().unwrap_or_default();
    let mut labels = serde_json::Map::new();
    for (k, v) in [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/hostname", n.name.as_str()),
        ("node.kubernetes.io/instance-type", "k3s"),
    ] {
        labels.insert(k.to_owned(), json!(v));
    }
    for role in &n.roles {
        labels.insert(format!("node-role.kubernetes.io/{role}"), json!("true"));
    }
    for (k, v) in &n.labels {
        labels.insert(k.clone(), json!(v));
    }
    let mut addresses = vec![json!({"type": "InternalIP", "address": n.internal_ip.to_string()})];
    if let Some(ip) = n.external_ip {
        addresses.push(json!({"type": "ExternalIP", "address": ip.to_string()}));
    }
    addresses.push(json!({"type": "Hostname", "address": n.name}));
    let mut spec =
        json!({"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24"], "providerID": format!("k3s://{}", n.name)});
    if !n.taints.is_empty() {
        spec["taints"] = n
            .taints
            .iter()
            .map(|t| {
                let mut taint = json!({"key": t.key, "effect": t.effect});
                if let Some(v) = &t.value {
                    taint["value"] = json!(v);
                }
                taint
            })
            .collect();
    }
    let (ready, reason, message) = if n.ready {
        ("True", "KubeletReady", "kubelet is posting ready status")
    } else {
        ("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    };
    json!({
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {"name": n.name, "uid": uid, "resourceVersion": rv, "creationTimestamp": created, "labels": labels,
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": spec,
        "status": {
            "capacity": {"cpu": "2", "memory": "4025836Ki", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "4025836Ki", "pods": "110"},
            "conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": now(), "lastTransitionTime": created,
                            "reason": reason, "message": message}],
            "addresses": addresses,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "6.1.0-28-amd64",
                         "osImage": "K3s v1.31.4+k3s1", "containerRuntimeVersion": "containerd://1.7.23-k3s2",
                         "kubeletVersion": "v1.31.4+k3s1", "kubeProxyVersion": "v1.31.4+k3s1",
                         "operatingSystem": "linux", "architecture": "amd64"}
        }
    })
}

fn matching_pods<'a>(state: &'a State, ns: Option<&str>, labels: &[LabelReq], fields: &[FieldReq]) -> Vec<&'a Value> {
    state
        .pods
        .iter()
        .filter(|((pod_ns, _), _)| ns.is_none_or(|ns| ns == pod_ns))
        .map(|(_, p)| p)
        .filter(|p| select::labels_match(labels, p) && select::fields_match(fields, p))
        .collect()
}

async fn list_or_watch(
    shared: &Arc<Shared>,
    ns: Option<&str>,
    watch: Option<&str>,
    query: &[(String, String)],
    table: bool,
) -> HttpResponse {
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (labels, fields) = match selectors(q("labelSelector"), q("fieldSelector"), POD_FIELDS) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !matches!(watch, Some("true" | "1")) {
        let state = shared.state.lock().unwrap();
        let items = matching_pods(&state, ns, &labels, &fields).into_iter().cloned().collect();
        return list_response(&state, "PodList", items, table, pod_table);
    }
    let from: Option<u64> =
        q("resourceVersion").filter(|rv| !rv.is_empty() && *rv != "0").and_then(|rv| rv.parse().ok());
    let timeout = q("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).map(Duration::from_secs);
    let initial_end = q("sendInitialEvents") == Some("true");
    let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
    let shared = Arc::clone(shared);
    let ns = ns.map(str::to_owned);
    tokio::spawn(async move {
        let mut changes = shared.changes.subscribe();
        let line = |kind: &str, object: &Value| {
            let mut bytes = json!({"type": kind, "object": object}).to_string().into_bytes();
            bytes.push(b'\n');
            bytes
        };
        let mut sent_up_to;
        let mut first = Vec::new();
        {
            let state = shared.state.lock().unwrap();
            match from {
                None => {
                    for pod in matching_pods(&state, ns.as_deref(), &labels, &fields) {
                        first.push(line("ADDED", pod));
                    }
                    sent_up_to = state.rv;
                    if initial_end {
                        let bookmark = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {
                            "resourceVersion": state.rv.to_string(),
                            "annotations": {"k8s.io/initial-events-end": "true"}}});
                        first.push(line("BOOKMARK", &bookmark));
                    }
                }
                Some(rv) => sent_up_to = rv,
            }
        }
        for chunk in first {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let batch: Vec<Vec<u8>> = {
                let state = shared.state.lock().unwrap();
                let batch = state
                    .events
                    .iter()
                    .filter(|e| e.rv > sent_up_to)
                    .filter(|e| {
                        ns.as_deref().is_none_or(|ns| e.object["metadata"]["namespace"] == ns)
                            && select::labels_match(&labels, &e.object)
                            && select::fields_match(&fields, &e.object)
                    })
                    .map(|e| line(e.kind, &e.object))
                    .collect();
                sent_up_to = state.rv;
                batch
            };
            for chunk in batch {
                if tx.send(chunk).await.is_err() {
                    return;
                }
            }
            let changed = changes.changed();
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        r = changed => if r.is_err() { return },
                        () = tokio::time::sleep_until(deadline) => return,
                        () = tx.closed() => return,
                    }
                }
                None => {
                    tokio::select! {
                        r = changed => if r.is_err() { return },
                        () = tx.closed() => return,
                    }
                }
            }
        }
    });
    HttpResponse::Stream { status: 200, content_type: "application/json", chunks: rx }
}

fn dns1123_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

fn invalid(name: &str, field: &str, message: &str) -> HttpResponse {
    let text = format!("Pod \"{name}\" is invalid: {field}: {message}");
    let details = json!({"name": name, "kind": "Pod", "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]});
    json_response(422, &status_object(422, &text, Some(details)))
}

fn create_pod(shared: &Arc<Shared>, ns: &str, body: &[u8]) -> HttpResponse {
    let Ok(mut pod) = serde_json::from_slice::<Value>(body) else {
        return status(
            400,
            "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error",
        );
    };
    if !pod.is_object() || pod.get("kind").is_some_and(|k| k != "Pod") {
        return status(400, "the object provided is unrecognized (must be of type Pod)");
    }
    if pod["metadata"]["namespace"].as_str().is_some_and(|n| !n.is_empty() && n != ns) {
        return status(400, "the namespace of the provided object does not match the namespace sent on the request");
    }
    let name = match (pod["metadata"]["name"].as_str(), pod["metadata"]["generateName"].as_str()) {
        (Some(name), _) if !name.is_empty() => name.to_owned(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", &random_hex(10)[..5]),
        _ => return invalid("", "metadata.name", "Required value: name or generateName is required"),
    };
    if !dns1123_subdomain(&name) {
        return invalid(
            &name,
            "metadata.name",
            &format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
                 characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        );
    }
    let containers = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
    if containers.is_empty() {
        return invalid(&name, "spec.containers", "Required value");
    }
    for (i, c) in containers.iter().enumerate() {
        if c["name"].as_str().is_none_or(str::is_empty) {
            return invalid(&name, &format!("spec.containers[{i}].name"), "Required value");
        }
        if c["image"].as_str().is_none_or(str::is_empty) {
            return invalid(&name, &format!("spec.containers[{i}].image"), "Required value");
        }
    }
    let mut state = shared.state.lock().unwrap();
    if state.restricted {
        let violations = restricted_violations(&pod);
        if !violations.is_empty() {
            let message = super::super::admission::forbidden_message(&name, &violations);
            let details = json!({"name": name, "kind": "pods"});
            return json_response(403, &status_object(403, &message, Some(details)));
        }
    }
    if state.pods.contains_key(&(ns.to_owned(), name.clone())) {
        let details = json!({"name": name, "kind": "pods"});
        return json_response(409, &status_object(409, &format!("pods \"{name}\" already exists"), Some(details)));
    }
    let rv = Shared::bump(&mut state);
    let uid = uid();
    {
        let meta = &mut pod["metadata"];
        meta["name"] = json!(name);
        meta["namespace"] = json!(ns);
        meta["uid"] = json!(uid);
        meta["resourceVersion"] = json!(rv.to_string());
        meta["creationTimestamp"] = json!(now());
    }
    pod["kind"] = json!("Pod");
    pod["apiVersion"] = json!("v1");
    let spec = &mut pod["spec"];
    for (key, default) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("serviceAccountName", json!("default")),
        ("serviceAccount", json!("default")),
        ("schedulerName", json!("default-scheduler")),
        ("enableServiceLinks", json!(true)),
        ("priority", json!(0)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
    ] {
        if spec.get(key).is_none() {
            spec[key] = default;
        }
    }
    if spec.get("securityContext").is_none() {
        spec["securityContext"] = json!({});
    }
    if let Some(cs) = spec["containers"].as_array_mut() {
        for c in cs {
            for (key, default) in [
                ("terminationMessagePath", json!("/dev/termination-log")),
                ("terminationMessagePolicy", json!("File")),
                ("imagePullPolicy", json!("IfNotPresent")),
                ("resources", json!({})),
            ] {
                if c.get(key).is_none() {
                    c[key] = default;
                }
            }
        }
    }
    let node = pod["spec"]["nodeName"].as_str().map(str::to_owned);
    pod["status"] = match &node {
        Some(_) => json!({"phase": "Pending", "qosClass": "BestEffort"}),
        None => json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [{
            "type": "PodScheduled", "status": "False", "lastProbeTime": null, "lastTransitionTime": now(),
            "reason": "Unschedulable", "message": "0/0 nodes are available: the fake API has no scheduler."}]}),
    };
    state.pods.insert((ns.to_owned(), name.clone()), pod.clone());
    state.created.push(pod.clone());
    state.events.push(super::Event { rv, kind: "ADDED", object: pod.clone() });
    let node_ip = node.as_ref().and_then(|n| state.nodes.iter().find(|x| &x.name == n)).map(|n| n.internal_ip);
    if let (Some(node), Some(node_ip)) = (node, node_ip) {
        let first = &pod["spec"]["containers"][0];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
        };
        let run = PodRun {
            namespace: ns.to_owned(),
            name: name.clone(),
            uid: uid.clone(),
            node,
            node_ip,
            container: first["name"].as_str().unwrap_or("").to_owned(),
            image: first["image"].as_str().unwrap_or("").to_owned(),
            command: strings(&first["command"]),
            args: strings(&first["args"]),
            labels: select::labels_of(&pod),
            pod: pod.clone(),
        };
        let kubelet = Arc::clone(&state.kubelet);
        let task = tokio::spawn(lifecycle(Arc::clone(shared), run, kubelet));
        state.tasks.insert(uid, task.abort_handle());
    }
    drop(state);
    shared.notify(rv);
    json_response(201, &pod)
}

fn delete_pod(shared: &Arc<Shared>, ns: &str, name: &str) -> Option<Value> {
    let mut state = shared.state.lock().unwrap();
    let mut pod = state.pods.remove(&(ns.to_owned(), name.to_owned()))?;
    let rv = Shared::bump(&mut state);
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_owned();
    if let Some(task) = state.tasks.remove(&uid) {
        task.abort();
    }
    state.logs.remove(&uid);
    pod["metadata"]["resourceVersion"] = json!(rv.to_string());
    pod["metadata"]["deletionTimestamp"] = json!(now());
    pod["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    state.events.push(super::Event { rv, kind: "DELETED", object: pod.clone() });
    drop(state);
    shared.notify(rv);
    Some(pod)
}

/// Applies `change` to the pod with this uid, if it is still there: a new resourceVersion and a
/// `MODIFIED` event. False when the pod is gone.
fn update_pod(shared: &Shared, uid: &str, change: impl FnOnce(&mut Value, &mut State)) -> bool {
    let mut state = shared.state.lock().unwrap();
    let Some(key) = state.pods.iter().find(|(_, p)| p["metadata"]["uid"] == uid).map(|(k, _)| k.clone()) else {
        return false;
    };
    let mut pod = state.pods[&key].clone();
    change(&mut pod, &mut state);
    let rv = Shared::bump(&mut state);
    pod["metadata"]["resourceVersion"] = json!(rv.to_string());
    state.pods.insert(key, pod.clone());
    state.events.push(super::Event { rv, kind: "MODIFIED", object: pod });
    drop(state);
    shared.notify(rv);
    true
}

fn condition(kind: &str, ok: bool, reason: Option<&str>) -> Value {
    let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null,
                       "lastTransitionTime": now()});
    if let Some(reason) = reason {
        c["reason"] = json!(reason);
    }
    c
}

fn container_status(run: &PodRun, ready: bool, state: Value) -> Value {
    json!([{
        "name": run.container, "image": run.image, "imageID": "", "ready": ready, "restartCount": 0,
        "started": state.get("running").is_some(), "state": state,
        "containerID": if state.get("waiting").is_some() { Value::Null } else { json!(format!("containerd://{}", run.uid.replace('-', ""))) },
    }])
}

async fn lifecycle(shared: Arc<Shared>, run: PodRun, kubelet: Arc<dyn super::Kubelet>) {
    tokio::time::sleep(shared.start_delay).await;
    let started = SystemTime::now();
    let deadline =
        run.pod["spec"]["activeDeadlineSeconds"].as_u64().map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let node_ip = run.node_ip.to_string();
    let still_there = update_pod(&shared, &run.uid, |pod, _| {
        pod["status"] = json!({
            "phase": "Pending", "qosClass": "BestEffort", "hostIP": node_ip, "hostIPs": [{"ip": node_ip}],
            "startTime": rfc3339(started),
            "conditions": [condition("PodReadyToStartContainers", false, None), condition("Initialized", true, None),
                           condition("Ready", false, Some("ContainersNotReady")),
                           condition("ContainersReady", false, Some("ContainersNotReady")), condition("PodScheduled", true, None)],
            "containerStatuses": container_status(&run, false, json!({"waiting": {"reason": "ContainerCreating"}})),
        });
    });
    if !still_there {
        return;
    }
    let past_deadline = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let exceeded = |shared: &Shared, run: &PodRun| {
        if !shared.state.lock().unwrap().honour_deadline {
            return false;
        }
        update_pod(shared, &run.uid, |pod, _| {
            let status = &mut pod["status"];
            status["phase"] = json!("Failed");
            status["reason"] = json!("DeadlineExceeded");
            status["message"] = json!("Pod was active on the node longer than the specified deadline");
            status["conditions"] =
                json!([condition("Ready", false, Some("PodFailed")), condition("PodScheduled", true, None)]);
            let terminated = json!({"terminated": {"exitCode": 137, "reason": "Error", "startedAt": rfc3339(started),
                                                  "finishedAt": now()}});
            status["containerStatuses"] = container_status(run, false, terminated);
        });
        true
    };
    tokio::pin!(past_deadline);
    let start = tokio::select! {
        s = kubelet.start(&run) => s,
        () = &mut past_deadline => { if !exceeded(&shared, &run) { std::future::pending::<()>().await; } return; }
    };
    if let Start::Wait { reason, message } = start {
        update_pod(&shared, &run.uid, |pod, _| {
            pod["status"]["containerStatuses"] =
                container_status(&run, false, json!({"waiting": {"reason": reason, "message": message}}));
        });
        (&mut past_deadline).await;
        exceeded(&shared, &run);
        return;
    }
    let ip = {
        let mut state = shared.state.lock().unwrap();
        state.pod_ips += 1;
        format!("10.42.{}.{}", state.pod_ips / 250, state.pod_ips % 250 + 2)
    };
    let running_since = now();
    update_pod(&shared, &run.uid, |pod, state| {
        state.logs.insert(run.uid.clone(), String::new());
        let status = &mut pod["status"];
        status["phase"] = json!("Running");
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
        status["conditions"] = json!([
            condition("PodReadyToStartContainers", true, None),
            condition("Initialized", true, None),
            condition("Ready", true, None),
            condition("ContainersReady", true, None),
            condition("PodScheduled", true, None)
        ]);
        status["containerStatuses"] = container_status(&run, true, json!({"running": {"startedAt": running_since}}));
    });
    let exit: Exit = tokio::select! {
        e = kubelet.run(&run) => e,
        () = &mut past_deadline => { if !exceeded(&shared, &run) { std::future::pending::<()>().await; } return; }
    };
    update_pod(&shared, &run.uid, |pod, state| {
        state.logs.insert(run.uid.clone(), exit.log.clone());
        let status = &mut pod["status"];
        let ok = exit.code == 0;
        status["phase"] = json!(if ok { "Succeeded" } else { "Failed" });
        let reason = if ok { "Completed" } else { "Error" };
        status["conditions"] = json!([
            condition("PodReadyToStartContainers", false, None),
            condition("Initialized", true, None),
            condition("Ready", false, Some("PodCompleted")),
            condition("ContainersReady", false, Some("PodCompleted")),
            condition("PodScheduled", true, None)
        ]);
        let terminated = json!({"terminated": {"exitCode": exit.code, "reason": reason, "startedAt": running_since,
                                              "finishedAt": now(), "containerID": format!("containerd://{}", run.uid.replace('-', ""))}});
        status["containerStatuses"] = container_status(&run, false, terminated);
    });
    shared.state.lock().unwrap().tasks.remove(&run.uid);
}

async fn pod_log(shared: &Arc<Shared>, ns: &str, name: &str, query: &[(String, String)]) -> HttpResponse {
    let q = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let (uid, waiting) = {
        let state = shared.state.lock().unwrap();
        let Some(pod) = state.pods.get(&(ns.to_owned(), name.to_owned())) else {
            return not_found("pods", name);
        };
        let containers: Vec<&str> = pod["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
            .unwrap_or_default();
        let container = match q("container") {
            Some(c) if !containers.contains(&c) => {
                return status(400, &format!("container {c} is not valid for pod {name}"));
            }
            Some(c) => c.to_owned(),
            None if containers.len() == 1 => containers[0].to_owned(),
            None => {
                return status(
                    400,
                    &format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        containers.join(" ")
                    ),
                );
            }
        };
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_owned();
        let waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| (!state.logs.contains_key(&uid)).then(|| "ContainerCreating".to_owned()));
        (uid, waiting.map(|w| format!("container \"{container}\" in pod \"{name}\" is waiting to start: {w}")))
    };
    if let Some(message) = waiting {
        return status(400, &message);
    }
    let tail = q("tailLines").and_then(|n| n.parse::<usize>().ok());
    let limit = q("limitBytes").and_then(|n| n.parse::<usize>().ok());
    if q("follow") != Some("true") {
        let log = log_state(shared, &uid).1.unwrap_or_default();
        return HttpResponse::Full { status: 200, content_type: "text/plain", body: cut_log(log, tail, limit) };
    }
    // Streamed: the whole log once the container has ended (or the pod is gone).
    let (tx, rx) = mpsc::channel(4);
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let mut changes = shared.changes.subscribe();
        loop {
            let (done, log) = log_state(&shared, &uid);
            if done {
                let _ = tx.send(cut_log(log.unwrap_or_default(), tail, limit)).await;
                return;
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                () = tx.closed() => return,
            }
        }
    });
    HttpResponse::Stream { status: 200, content_type: "text/plain", chunks: rx }
}

/// Whether the pod with this uid has ended (or is gone), and its log.
fn log_state(shared: &Shared, uid: &str) -> (bool, Option<String>) {
    let state = shared.state.lock().unwrap();
    match state.pods.values().find(|p| p["metadata"]["uid"] == uid) {
        None => (true, None),
        Some(p) => {
            (matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")), state.logs.get(uid).cloned())
        }
    }
}

fn cut_log(log: String, tail: Option<usize>, limit: Option<usize>) -> Vec<u8> {
    let mut log = log;
    if let Some(n) = tail {
        let lines: Vec<&str> = log.split_inclusive('\n').collect();
        log = lines[lines.len().saturating_sub(n)..].concat();
    }
    let mut bytes = log.into_bytes();
    if let Some(n) = limit {
        bytes.truncate(n);
    }
    bytes
}

/// The Pod Security Standard "restricted" checks (tests/common/admission.rs).
fn restricted_violations(pod: &Value) -> Vec<String> {
    super::super::admission::restricted_violations(pod)
}
