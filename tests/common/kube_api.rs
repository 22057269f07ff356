//! A Kubernetes API server of the tests' own, in-process on tokio, on
//! `127.0.0.1:0`, faithful enough that kube-rs and the real `kubectl` (`get
//! nodes`, `get pods`, `logs`) work against it (tests/network/kube_api.rs
//! checks it with kubectl itself).
//!
//! # What it implements
//! - HTTP/1.1 with persistent connections; plain HTTP, or TLS (rustls, ring)
//!   with a cluster CA, a server certificate for 127.0.0.1, and a client
//!   certificate check as Civo's K3s kubeconfigs use ([`FakeKubeBuilder::tls`],
//!   [`FakeKubeBuilder::client_cert`]); a bearer token check
//!   ([`FakeKubeBuilder::token`], on by default). A request no authenticator
//!   accepts gets 401 with an `Unauthorized` `Status`. [`FakeKube::kubeconfig`]
//!   writes a kubeconfig YAML with what the server checks, so kube-rs and
//!   kubectl connect the same way.
//! - The wire format as the API server writes it: `application/json`,
//!   `apiVersion`, `kind`, `metadata` (`name`, `namespace`, `uid`,
//!   `resourceVersion`, `creationTimestamp`, `labels`), `*List` kinds with
//!   `metadata.resourceVersion` and items without `kind`, `Status` objects
//!   for errors (`code`, `reason`, `message`, `details`), and `Table`s
//!   (`meta.k8s.io/v1`) when the client asks for `as=Table`, as kubectl's
//!   default output does (the columns kubectl shows for nodes and pods).
//! - Discovery: `/version`, `/api`, `/api/v1` (pods, pods/log, nodes), `/apis`
//!   (no groups), `/healthz`, `/livez`, `/readyz`.
//! - Nodes (set by the test, [`FakeNode`]): list and get, with
//!   `status.addresses` (InternalIP, ExternalIP when given, Hostname), the
//!   role labels, taints, a Ready condition and `nodeInfo`; `labelSelector`
//!   and `fieldSelector=metadata.name=`.
//! - Pods in any namespace: create (201; `uid`, `resourceVersion`,
//!   `creationTimestamp`, `generateName`, a few of the API server's defaults;
//!   409 `AlreadyExists`, 422 `Invalid` for a bad name or no containers, 400
//!   for a namespace mismatch), get, list (also `/api/v1/pods`, all
//!   namespaces) with `labelSelector` (`=`, `==`, `!=`, `in`, `notin`,
//!   exists, `!`) and `fieldSelector` (`metadata.name`, `metadata.namespace`,
//!   `spec.nodeName`, `status.phase`, `=`/`==`/`!=`), watch (`watch=true|1`:
//!   chunked `{"type","object"}` lines, from `resourceVersion` (unset or "0":
//!   synthetic `ADDED`s of the current pods first), ending after
//!   `timeoutSeconds`; `sendInitialEvents=true` ends the initial events with
//!   the `k8s.io/initial-events-end` `BOOKMARK`), delete (200 with the object,
//!   then it is gone, a `DELETED` event), delete by collection (with
//!   selectors; a `PodList` of what went), and log (`/pods/{name}/log`,
//!   `text/plain`, `container`, `limitBytes`, `tailLines`, `follow=true`
//!   streamed until the container ends; 400 while it waits to start, as the
//!   real one).
//! - The pod lifecycle, driven by a pluggable [`Kubelet`] (async, `Send +
//!   Sync`, given the pod's node and command as a [`PodRun`]): Pending (bound
//!   to `spec.nodeName`, `ContainerCreating`) -> Running -> Succeeded or
//!   Failed, with `containerStatuses[].state.terminated.exitCode` and the log
//!   text the kubelet returned. `activeDeadlineSeconds` is honoured as the
//!   kubelet does (Failed, reason `DeadlineExceeded`), counted from the
//!   pod's `startTime`. A pod with no `spec.nodeName` (there is no scheduler)
//!   or bound to a node the server does not hold (no kubelet there) stays
//!   Pending forever. [`EchoKubelet`] answers from a per-node table.
//! - Failure injection: 403 on pod create ([`FakeKube::forbid_pod_create`]),
//!   any status on a path ([`FakeKube::fail`]), a slow answer
//!   ([`FakeKube::delay`]); pods that never start, hang or fail come from
//!   the kubelet ([`Behaviour`]); and, opt-in, the Pod Security "restricted"
//!   admission check ([`FakeKube::enforce_pod_security_restricted`], the
//!   whole profile as tests/common/admission.rs implements it: 403 with the
//!   admission plugin's message naming each violation).
//! - Inspection: the pods held now ([`FakeKube::pods`]), every request seen
//!   ([`FakeKube::requests`], method, path, query; never a credential), the
//!   pods as created ([`FakeKube::created_pods`]).
//!
//! # What it does not
//! No HTTP/2, protobuf, aggregated discovery (kubectl falls back to the
//! legacy documents), OpenAPI documents (`kubectl explain`/`apply` need them),
//! `limit`/`continue` pagination (everything comes in one page), updates
//! (PUT/PATCH, `pods/status`), exec/attach/port-forward, graceful deletion
//! (a deleted pod is gone at once), RBAC (an authenticated user may do
//! everything), namespaces as objects (any namespace exists), admission
//! beyond the checks above (no service-account token volume is added, no
//! defaults beyond a few of the spec's), other resources (services, daemonsets...), or
//! `410 Gone` for old resource versions (every event is kept).

#![allow(dead_code)]

mod api;
mod http;
pub mod select;
mod tls;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The probe's lab of three nodes: a tainted control-plane gateway, a
/// worker, and a node of a public-IP pool leaving from `public_ip`.
pub fn lab_nodes(public_ip: &str) -> Vec<FakeNode> {
    vec![
        FakeNode::new("k3s-gw", "192.168.1.2").role("control-plane").taint(
            "node-role.kubernetes.io/control-plane",
            None,
            "NoSchedule",
        ),
        FakeNode::new("k3s-worker-a", "192.168.1.3"),
        FakeNode::new("k3s-public", "192.168.1.4").external_ip(public_ip),
    ]
}

/// A node the fake API serves.
#[derive(Debug, Clone)]
pub struct FakeNode {
    pub name: String,
    pub internal_ip: IpAddr,
    pub external_ip: Option<IpAddr>,
    /// Role names: `node-role.kubernetes.io/<role>: "true"` labels (K3s: `control-plane`, `master`).
    pub roles: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub ready: bool,
}

/// A node taint.
#[derive(Debug, Clone)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

impl FakeNode {
    pub fn new(name: &str, internal_ip: &str) -> Self {
        Self {
            name: name.to_owned(),
            internal_ip: internal_ip.parse().expect("an IP address"),
            external_ip: None,
            roles: Vec::new(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            ready: true,
        }
    }

    pub fn external_ip(mut self, ip: &str) -> Self {
        self.external_ip = Some(ip.parse().expect("an IP address"));
        self
    }

    pub fn role(mut self, role: &str) -> Self {
        self.roles.push(role.to_owned());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn taint(mut self, key: &str, value: Option<&str>, effect: &str) -> Self {
        self.taints.push(Taint { key: key.to_owned(), value: value.map(str::to_owned), effect: effect.to_owned() });
        self
    }

    pub fn not_ready(mut self) -> Self {
        self.ready = false;
        self
    }
}

/// What a kubelet is given: the created pod, bound to its node.
#[derive(Debug, Clone)]
pub struct PodRun {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `spec.nodeName`.
    pub node: String,
    /// That node's InternalIP.
    pub node_ip: IpAddr,
    /// The first container's image, `command` and `args` (the others are not run).
    pub container: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// The pod as created (with the server's defaults).
    pub pod: Value,
}

impl PodRun {
    /// `command` then `args`: what the container runs (an empty `command` would be the image's entrypoint).
    pub fn argv(&self) -> Vec<String> {
        self.command.iter().chain(&self.args).cloned().collect()
    }

    /// The `http(s)://` arguments, in order (the echo URLs of a curl command).
    pub fn urls(&self) -> Vec<String> {
        self.argv()
            .iter()
            .flat_map(|a| a.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .map(|a| a.trim_matches(|c| c == '\'' || c == '"').to_owned())
            .filter(|a| a.starts_with("http://") || a.starts_with("https://"))
            .collect()
    }
}

/// Whether the container starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Run,
    /// It never does: the pod stays Pending with this waiting reason (`ImagePullBackOff`...), until
    /// `activeDeadlineSeconds` fails it, as the kubelet does.
    Wait {
        reason: String,
        message: String,
    },
}

/// How the container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub log: String,
}

impl Exit {
    pub fn ok(log: impl Into<String>) -> Self {
        Self { code: 0, log: log.into() }
    }

    pub fn failed(code: i32, log: impl Into<String>) -> Self {
        Self { code, log: log.into() }
    }
}

/// The node agent the test supplies: what happens to each pod once it is bound to a node.
///
/// `run` may take as long as it likes (the pod shows Running meanwhile); its future is dropped
/// when the pod is deleted or its `activeDeadlineSeconds` passes, so a kubelet that spawns a
/// process should spawn it with `kill_on_drop(true)`.
#[async_trait::async_trait]
pub trait Kubelet: Send + Sync {
    /// Whether the container starts (default: it does).
    async fn start(&self, _pod: &PodRun) -> Start {
        Start::Run
    }

    /// Runs the started container to its end.
    async fn run(&self, pod: &PodRun) -> Exit;
}

/// What [`EchoKubelet`] does with the pods of one node.
#[derive(Clone)]
pub enum Behaviour {
    /// Exit 0 with this log (through [`EchoKubelet::format`] if set).
    Echo(String),
    /// Exit with this code and log.
    Exit(i32, String),
    /// Never start: Pending, `ImagePullBackOff`.
    NeverStarts,
    /// Run forever (until deleted or past `activeDeadlineSeconds`).
    Hang,
    /// Wait, then behave.
    After(Duration, Box<Behaviour>),
    /// Any answer.
    With(Arc<dyn Fn(&PodRun) -> Exit + Send + Sync>),
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Echo(s) => f.debug_tuple("Echo").field(s).finish(),
            Self::Exit(c, s) => f.debug_tuple("Exit").field(c).field(s).finish(),
            Self::NeverStarts => f.write_str("NeverStarts"),
            Self::Hang => f.write_str("Hang"),
            Self::After(d, b) => f.debug_tuple("After").field(d).field(b).finish(),
            Self::With(_) => f.write_str("With(..)"),
        }
    }
}

type Format = Arc<dyn Fn(&PodRun, &str) -> String + Send + Sync>;

/// The default kubelet: answers from a per-node table (node -> [`Behaviour`]); a node not in
/// the table exits 6 with curl's "Could not resolve host".
#[derive(Clone, Default)]
pub struct EchoKubelet {
    nodes: HashMap<String, Behaviour>,
    format: Option<Format>,
}

impl std::fmt::Debug for EchoKubelet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoKubelet").field("nodes", &self.nodes).finish_non_exhaustive()
    }
}

impl EchoKubelet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The node's pods print `output` (an echo service's answer: the node's egress IP) and exit 0.
    pub fn echo(self, node: &str, output: &str) -> Self {
        self.node(node, Behaviour::Echo(output.to_owned()))
    }

    pub fn node(mut self, node: &str, behaviour: Behaviour) -> Self {
        self.nodes.insert(node.to_owned(), behaviour);
        self
    }

    /// Turns an [`Behaviour::Echo`] output into the log, given the pod (e.g. one line per echo
    /// URL in the command, in the probe's format).
    pub fn format(mut self, f: impl Fn(&PodRun, &str) -> String + Send + Sync + 'static) -> Self {
        self.format = Some(Arc::new(f));
        self
    }

    fn behaviour(&self, node: &str) -> Behaviour {
        self.nodes
            .get(node)
            .cloned()
            .unwrap_or_else(|| Behaviour::Exit(6, "curl: (6) Could not resolve host: ifconfig.me\n".to_owned()))
    }
}

#[async_trait::async_trait]
impl Kubelet for EchoKubelet {
    async fn start(&self, pod: &PodRun) -> Start {
        let mut behaviour = self.behaviour(&pod.node);
        while let Behaviour::After(_, inner) = behaviour {
            behaviour = *inner;
        }
        match behaviour {
            Behaviour::NeverStarts => Start::Wait {
                reason: "ImagePullBackOff".to_owned(),
                message: format!("Back-off pulling image \"{}\"", pod.image),
            },
            _ => Start::Run,
        }
    }

    async fn run(&self, pod: &PodRun) -> Exit {
        let mut behaviour = self.behaviour(&pod.node);
        loop {
            match behaviour {
                Behaviour::After(delay, inner) => {
                    tokio::time::sleep(delay).await;
                    behaviour = *inner;
                }
                Behaviour::Echo(output) => {
                    let log = match &self.format {
                        Some(f) => f(pod, &output),
                        None => output,
                    };
                    return Exit::ok(log);
                }
                Behaviour::Exit(code, log) => return Exit::failed(code, log),
                Behaviour::With(f) => return f(pod),
                Behaviour::NeverStarts | Behaviour::Hang => std::future::pending::<()>().await,
            }
        }
    }
}

/// A kubelet from an async closure.
pub fn kubelet_fn<F, Fut>(f: F) -> Arc<dyn Kubelet>
where
    F: Fn(PodRun) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Exit> + Send + 'static,
{
    struct FnKubelet<F>(F);
    #[async_trait::async_trait]
    impl<F, Fut> Kubelet for FnKubelet<F>
    where
        F: Fn(PodRun) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Exit> + Send + 'static,
    {
        async fn run(&self, pod: &PodRun) -> Exit {
            (self.0)(pod.clone()).await
        }
    }
    Arc::new(FnKubelet(f))
}

/// A request the server saw (credentials are never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    /// The raw query, without `?`.
    pub query: String,
    pub authenticated: bool,
    pub user_agent: String,
    pub status: u16,
}

/// An injected failure.
#[derive(Debug, Clone)]
struct Fault {
    method: Option<String>,
    /// Exact, or a prefix when it ends with `*`.
    path: String,
    action: FaultAction,
}

#[derive(Debug, Clone)]
enum FaultAction {
    Status(u16, String),
    Delay(Duration),
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && match self.path.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == self.path,
            }
    }
}

#[derive(Debug)]
struct Event {
    rv: u64,
    kind: &'static str,
    object: Value,
}

struct State {
    rv: u64,
    nodes: Vec<FakeNode>,
    /// name -> (uid, resourceVersion, creationTimestamp), fixed when the node first appears.
    node_meta: HashMap<String, (String, String, String)>,
    /// (namespace, name) -> pod.
    pods: BTreeMap<(String, String), Value>,
    /// uid -> log text.
    logs: HashMap<String, String>,
    events: Vec<Event>,
    requests: Vec<SeenRequest>,
    created: Vec<Value>,
    tasks: HashMap<String, tokio::task::AbortHandle>,
    faults: Vec<Fault>,
    kubelet: Arc<dyn Kubelet>,
    honour_deadline: bool,
    restricted: bool,
    pod_ips: u32,
}

struct Shared {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    token: Option<String>,
    started: SystemTime,
    start_delay: Duration,
}

/// How to build a [`FakeKube`].
#[must_use]
pub struct FakeKubeBuilder {
    nodes: Vec<FakeNode>,
    kubelet: Arc<dyn Kubelet>,
    token: Option<String>,
    tls: bool,
    client_cert: bool,
    name: String,
    start_delay: Duration,
}

impl std::fmt::Debug for FakeKubeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKubeBuilder").field("nodes", &self.nodes).finish_non_exhaustive()
    }
}

impl FakeKubeBuilder {
    pub fn node(mut self, node: FakeNode) -> Self {
        self.nodes.push(node);
        self
    }

    pub fn nodes(mut self, nodes: impl IntoIterator<Item = FakeNode>) -> Self {
        self.nodes.extend(nodes);
        self
    }

    pub fn kubelet(mut self, kubelet: impl Kubelet + 'static) -> Self {
        self.kubelet = Arc::new(kubelet);
        self
    }

    pub fn kubelet_arc(mut self, kubelet: Arc<dyn Kubelet>) -> Self {
        self.kubelet = kubelet;
        self
    }

    /// The bearer token the server accepts (default: a random one).
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// No bearer token (with [`Self::client_cert`]: the certificate alone, as K3s kubeconfigs).
    pub fn no_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// Serve HTTPS with a CA of its own (the kubeconfig carries `certificate-authority-data`).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Serve HTTPS and check a client certificate the CA signed (required when there is no
    /// token; with a token, either authenticates).
    pub fn client_cert(mut self) -> Self {
        self.tls = true;
        self.client_cert = true;
        self
    }

    /// The cluster, context and user name in the kubeconfig (default `fake-k3s`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// How long a bound pod shows Pending before the kubelet starts it (default 20 ms).
    pub fn start_delay(mut self, delay: Duration) -> Self {
        self.start_delay = delay;
        self
    }

    /// Binds 127.0.0.1:0 and serves until the runtime ends.
    pub async fn start(self) -> FakeKube {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pki = self.tls.then(|| tls::Pki::generate("system:admin"));
        let mut state = State {
            rv: 100,
            nodes: Vec::new(),
            node_meta: HashMap::new(),
            pods: BTreeMap::new(),
            logs: HashMap::new(),
            events: Vec::new(),
            requests: Vec::new(),
            created: Vec::new(),
            tasks: HashMap::new(),
            faults: Vec::new(),
            kubelet: self.kubelet,
            honour_deadline: true,
            restricted: false,
            pod_ips: 0,
        };
        api::set_nodes(&mut state, self.nodes);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changes: watch::channel(0).0,
            token: self.token.clone(),
            started: SystemTime::now(),
            start_delay: self.start_delay,
        });
        let acceptor = pki
            .as_ref()
            .map(|pki| tokio_rustls::TlsAcceptor::from(pki.server_config(self.client_cert && self.token.is_none())));
        let server = Arc::clone(&shared);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = Arc::clone(&server);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => {
                            let _ = http::serve_connection(socket, |req| api::handle(Arc::clone(&shared), req, false))
                                .await;
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(socket).await else { return };
                            let cert = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                            let _ =
                                http::serve_connection(stream, |req| api::handle(Arc::clone(&shared), req, cert)).await;
                        }
                    }
                });
            }
        });
        FakeKube { addr, shared, pki, token: self.token, client_cert: self.client_cert, name: self.name }
    }
}

/// A running fake Kubernetes API (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct FakeKube {
    addr: SocketAddr,
    shared: Arc<Shared>,
    pki: Option<tls::Pki>,
    token: Option<String>,
    client_cert: bool,
    name: String,
}

impl std::fmt::Debug for FakeKube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKube").field("url", &self.url()).finish_non_exhaustive()
    }
}

/// The credentials a kubeconfig carries.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub client_cert: bool,
}

impl FakeKube {
    pub fn builder() -> FakeKubeBuilder {
        FakeKubeBuilder {
            nodes: Vec::new(),
            kubelet: Arc::new(EchoKubelet::new()),
            token: Some(format!("fake-token-{}", api::random_hex(16))),
            tls: false,
            client_cert: false,
            name: "fake-k3s".to_owned(),
            start_delay: Duration::from_millis(20),
        }
    }

    /// `https://127.0.0.1:PORT` (or `http://`).
    pub fn url(&self) -> String {
        let scheme = if self.pki.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the server accepts, if it checks one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The client certificate's private key (PEM), to prove it appears in no output.
    pub fn client_key_pem(&self) -> Option<&str> {
        self.pki.as_ref().filter(|_| self.client_cert).map(|p| p.client_key_pem.as_str())
    }

    /// The cluster CA (PEM), when TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.pki.as_ref().map(|p| p.ca_pem.as_str())
    }

    /// A kubeconfig for this server with the credentials it checks.
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig_with(&Credentials { token: self.token.clone(), client_cert: self.client_cert })
    }

    /// A kubeconfig for this server with the given credentials (none, a wrong token...).
    pub fn kubeconfig_with(&self, credentials: &Credentials) -> String {
        let name = &self.name;
        let mut cluster = format!("    server: {}\n", self.url());
        if let Some(pki) = &self.pki {
            cluster.push_str(&format!("    certificate-authority-data: {}\n", tls::base64(pki.ca_pem.as_bytes())));
        }
        let mut user = String::new();
        if let Some(token) = &credentials.token {
            user.push_str(&format!("    token: {token}\n"));
        }
        if let (true, Some(pki)) = (credentials.client_cert, &self.pki) {
            user.push_str(&format!(
                "    client-certificate-data: {}\n    client-key-data: {}\n",
                tls::base64(pki.client_cert_pem.as_bytes()),
                tls::base64(pki.client_key_pem.as_bytes()),
            ));
        }
        if user.is_empty() {
            user.push_str("    {}\n");
        }
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n{cluster}  name: {name}\ncontexts:\n- context:\n    \
             cluster: {name}\n    user: {name}\n  name: {name}\ncurrent-context: {name}\npreferences: {{}}\nusers:\n- \
             name: {name}\n  user:\n{user}"
        )
    }

    /// Writes [`Self::kubeconfig`] to `dir/kubeconfig` and returns its path.
    pub fn write_kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig()).unwrap();
        path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// The pods held now (every namespace).
    pub fn pods(&self) -> Vec<Value> {
        self.lock().pods.values().cloned().collect()
    }

    /// The pods held now that match a label selector (`app.kubernetes.io/managed-by=civo-egress-probe`).
    pub fn pods_matching(&self, label_selector: &str) -> Vec<Value> {
        let reqs = select::parse_labels(label_selector).unwrap();
        self.pods().into_iter().filter(|p| select::labels_match(&reqs, p)).collect()
    }

    /// Waits up to `within` until no pod matches the selector (deletes spawned from a `Drop` land
    /// a little later); the pods still held then.
    pub async fn wait_no_pods_matching(&self, label_selector: &str, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = self.pods_matching(label_selector);
            if left.is_empty() || tokio::time::Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// One pod now, by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Value> {
        self.lock().pods.get(&(namespace.to_owned(), name.to_owned())).cloned()
    }

    /// Every pod as created (after the server's defaults), deleted ones too, in order.
    pub fn created_pods(&self) -> Vec<Value> {
        self.lock().created.clone()
    }

    /// The `spec` of every pod created, in order.
    pub fn created_specs(&self) -> Vec<Value> {
        self.created_pods().into_iter().map(|p| p["spec"].clone()).collect()
    }

    /// Every request seen, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.lock().requests.clone()
    }

    /// The requests seen with this method and a path starting with `prefix`.
    pub fn requests_to(&self, method: &str, prefix: &str) -> Vec<SeenRequest> {
        self.requests().into_iter().filter(|r| r.method == method && r.path.starts_with(prefix)).collect()
    }

    /// The log text of a pod held now (as the log endpoint would serve it).
    pub fn pod_log(&self, namespace: &str, name: &str) -> Option<String> {
        let state = self.lock();
        let pod = state.pods.get(&(namespace.to_owned(), name.to_owned()))?;
        state.logs.get(pod["metadata"]["uid"].as_str()?).cloned()
    }

    /// Replaces the nodes.
    pub fn set_nodes(&self, nodes: Vec<FakeNode>) {
        api::set_nodes(&mut self.lock(), nodes);
    }

    /// Replaces the kubelet (for pods created from now on).
    pub fn set_kubelet(&self, kubelet: impl Kubelet + 'static) {
        self.lock().kubelet = Arc::new(kubelet);
    }

    /// Replaces the kubelet (for pods created from now on).
    pub fn set_kubelet_arc(&self, kubelet: Arc<dyn Kubelet>) {
        self.lock().kubelet = kubelet;
    }

    /// Whether `activeDeadlineSeconds` fails pods (default true, as a kubelet does).
    pub fn honour_active_deadline(&self, honour: bool) {
        self.lock().honour_deadline = honour;
    }

    /// Enforce the Pod Security Standard "restricted" on pod create, as a namespace labelled
    /// `pod-security.kubernetes.io/enforce: restricted` does: 403 naming each violation.
    pub fn enforce_pod_security_restricted(&self, enforce: bool) {
        self.lock().restricted = enforce;
    }

    /// Every pod create answers 403 `Forbidden`, as RBAC without `create pods` does.
    pub fn forbid_pod_create(&self) {
        let message = "pods is forbidden: User \"system:serviceaccount:default:probe\" cannot create resource \
                       \"pods\" in API group \"\" in the namespace \"default\""
            .to_owned();
        self.lock().faults.push(Fault {
            method: Some("POST".to_owned()),
            path: "/api/v1/namespaces/*".to_owned(),
            action: FaultAction::Status(403, message),
        });
    }

    /// Requests with this method (any when `None`) and path (a prefix when it ends with `*`)
    /// answer `status` with a `Status` object (500: `InternalError`).
    pub fn fail(&self, method: Option<&str>, path: &str, status: u16) {
        self.lock().faults.push(Fault {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            action: FaultAction::Status(status, format!("injected failure: {status}")),
        });
    }

    /// Requests with this method and path are answered after `delay`.
    pub fn delay(&self, method: Option<&str>, path: &str, delay: Duration) {
        self.lock().faults.push(Fault {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            action: FaultAction::Delay(delay),
        });
    }

    /// Removes every injected failure.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }
}

/// What the emulated curl gets from one URL: body, HTTP status, exit code,
/// error message.
pub type CurlAnswer = (String, u16, u8, String);

/// Runs the pod's command as curl would: its transfers split on `--next`,
/// each URL answered by `answer`, each `--write-out` rendered after its
/// transfer.
pub fn emulate_curl(pod: &PodRun, answer: &dyn Fn(&str) -> CurlAnswer) -> Exit {
    let argv = pod.argv();
    assert_eq!(argv.first().map(String::as_str), Some("curl"), "the command is curl alone: {argv:?}");
    let mut log = String::new();
    let mut last_exit = 0;
    for transfer in argv[1..].split(|a| a == "--next") {
        let url = transfer.last().unwrap();
        let write_out = transfer.iter().position(|a| a == "--write-out").map(|i| transfer[i + 1].clone()).unwrap();
        assert!(transfer.contains(&"--max-filesize".to_owned()) && transfer.contains(&"--max-time".to_owned()));
        let (body, code, exit, error) = answer(url);
        log.push_str(&body);
        let rendered = write_out
            .replace("\\n", "\n")
            .replace("\\t", "\t")
            .replace("%{http_code}", &format!("{code:03}"))
            .replace("%{exitcode}", &exit.to_string())
            .replace("%{content_type}", if code == 0 { "" } else { "text/plain" })
            .replace("%{errormsg}", &error);
        log.push_str(&rendered);
        last_exit = exit;
    }
    Exit { code: i32::from(last_exit), log }
}

/// A kubelet whose nodes' pods all see `egress` per node (by node name).
pub fn kubelet(per_node: &[(&'static str, &'static str)]) -> EchoKubelet {
    let mut kubelet = EchoKubelet::new();
    for (node, egress) in per_node {
        let egress = (*egress).to_owned();
        kubelet = kubelet.node(
            node,
            Behaviour::With(Arc::new(move |pod: &PodRun| {
                let egress = egress.clone();
                emulate_curl(pod, &move |_| (format!("{egress}\n"), 200, 0, String::new()))
            })),
        );
    }
    kubelet
}
