//! Observe the egress of every node from inside the cluster, through the
//! Kubernetes API: the article's `kubectl run ... curl ifconfig.me`
//! DaemonSet, automated (feature `probe`).
//!
//! [`resolve`](crate::resolve) observes from wherever it runs: from a laptop
//! or a CI runner, the echo services see the laptop. A [`Probe`] instead
//! creates one short-lived pod on each node (pinned with `spec.nodeName`,
//! tolerating every taint), running `curl` against each echo URL, reads its
//! log, deletes it, and compares what each node left from with what the
//! topology expects of it: the cluster's egress IP, or the node's own public
//! IP in a public-IP pool.
//!
//! # A tour
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use civo_egress::Topology;
//! use civo_egress::EgressStatus;
//! use civo_egress::probe::Probe;
//!
//! let topology = Topology::from_json(&std::fs::read_to_string("topology.json")?)?;
//! let cluster = topology.cluster("prod").ok_or("no cluster prod in the topology")?;
//! let probe = Probe::builder()
//!     .kubeconfig("civo-prod-kubeconfig") // else KUBECONFIG, else ~/.kube/config
//!     .context("prod")                    // else the current context
//!     .namespace("default")
//!     .timeout(Duration::from_secs(120))
//!     .build()?;
//! let report = probe.run(cluster).await?;
//! for node in report.nodes() {
//!     println!("{}: {:?} ({})", node.node(), node.observed(), node.status());
//! }
//! for warning in report.warnings() {
//!     eprintln!("warning: {warning}"); // a mismatch names the node and both IPs
//! }
//! if report.status() != EgressStatus::Confirmed {
//!     std::process::exit(1);
//! }
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok(()) }
//! ```
//!
//! The kubeconfig, its contexts and its authentication (client
//! certificates, as Civo's K3s kubeconfigs use, tokens, exec plugins) are
//! kube-rs's. Nodes join the topology by their InternalIP (the snapshot
//! node's `private_ip`), else by name; a node the topology lacks is
//! expected to leave from the cluster's egress IP, with a warning.
//!
//! # The verdict
//!
//! Each node's row ([`NodeProbe`]) has its expected set, what each echo URL
//! answered, the address it left from, a status and an error. Overall
//! ([`ProbeReport::status`]): `confirmed` when every probed node left from
//! an IP its expected set holds, `mismatch` when one left from an IP outside
//! it (a [`Warning`](crate::Warning) of kind
//! [`Mismatch`](crate::WarningKind::Mismatch) about that node
//! ([`Subject::Node`](crate::Subject::Node)) names both IPs: a whitelist of
//! the expected egress breaks the pods there), `unknown` when no node could
//! be probed. A node that could not be probed does not make the verdict
//! `unknown` when others were (its row has the error, and a `not-probed`
//! warning says so). The JSON:
//!
//! ```json
//! {"cluster": "prod", "status": "confirmed", "egress_ips": ["212.2.253.151"],
//!  "nodes": [{"node": "w-1", "private_ip": "192.168.1.4", "expected": ["212.2.253.151"],
//!             "observed": "212.2.253.151", "status": "confirmed", "error": null}],
//!  "warnings": []}
//! ```
//!
//! Each warning is the crate's [`Warning`](crate::Warning) object, about
//! the cluster and one node:
//!
//! ```json
//! {"kind": "not-probed", "cluster": "prod", "node": "w-2",
//!  "message": "node w-2 was not probed: ..."}
//! ```
//!
//! Each answer is judged by the echo rules the resolver's
//! [`HttpEchoSource`](crate::resolve::HttpEchoSource) follows too (one pure
//! module of the crate, shared, so the `probe` feature needs no HTTP client
//! of its own): the HTTP status, no HTML, at most 4 KiB, trimmed, one
//! address, and non-global addresses rejected unless
//! [`AddressPolicy::AllowNonGlobal`] allows them. The echo URLs
//! ([`DEFAULT_ECHO_URLS`] unless given) follow the same URL rule:
//! `https://`, or plain `http://` to a loopback host (or, with the lab
//! opt-in, to a non-global IP literal).
//!
//! # The pod
//!
//! Named `civo-egress-probe-<node>-<random>` (a DNS-1123 label, at most 63
//! characters), labelled `app.kubernetes.io/managed-by=civo-egress-probe`
//! and `app.kubernetes.io/instance=<run>` (one random value per run), with
//! `restartPolicy: Never`, `activeDeadlineSeconds` (the per-pod timeout),
//! `tolerations: [{operator: Exists}]`, no service-account token, small
//! resource requests and limits, and within the Pod Security "restricted"
//! profile: `runAsNonRoot`, user and group 65532, no privilege escalation,
//! every capability dropped, the `RuntimeDefault` seccomp profile, a
//! read-only root filesystem. Its command is `curl` alone (no shell): one
//! transfer per echo URL (`--next`), each with `--max-time 5`,
//! `--max-filesize 4096`, `--globoff`, `--proto =http,https`, and a
//! `--write-out` marker line carrying a per-pod nonce (an echo service
//! cannot forge it), the HTTP status, curl's exit code, the content type and
//! curl's error. Any image with `curl` 7.75 or later works (`image`, for a
//! private registry); the default is `curlimages/curl`.
//!
//! The probe polls each pod (every 200 ms at first, then every second) until
//! it has finished, reads at most the bytes its answers can take of its log,
//! and deletes it (grace period 0). Every pod it created is deleted on every
//! path: success, failure, timeout, and cancellation (the future dropped:
//! the deletions are spawned on the tokio runtime, and the run's pods are
//! swept by their run label, twice); `activeDeadlineSeconds` stops any pod
//! that could not be deleted. Pods are probed concurrently.
//!
//! # The RBAC it needs
//!
//! Pods in one namespace (create, get, list for the sweep, delete; watch is
//! not used today but lets a later version watch instead of polling), their
//! log, and the node list:
//!
//! ```yaml
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: Role
//! metadata:
//!   name: civo-egress-probe
//!   namespace: default
//! rules:
//!   - apiGroups: [""]
//!     resources: ["pods"]
//!     verbs: ["create", "get", "list", "watch", "delete"]
//!   - apiGroups: [""]
//!     resources: ["pods/log"]
//!     verbs: ["get"]
//! ---
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: ClusterRole
//! metadata:
//!   name: civo-egress-probe-nodes
//! rules:
//!   - apiGroups: [""]
//!     resources: ["nodes"]
//!     verbs: ["list", "get"]
//! ---
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: RoleBinding
//! metadata:
//!   name: civo-egress-probe
//!   namespace: default
//! roleRef:
//!   apiGroup: rbac.authorization.k8s.io
//!   kind: Role
//!   name: civo-egress-probe
//! subjects:
//!   - kind: User            # or ServiceAccount (with a namespace), or Group
//!     name: egress-auditor
//!     apiGroup: rbac.authorization.k8s.io
//! ---
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: ClusterRoleBinding
//! metadata:
//!   name: civo-egress-probe-nodes
//! roleRef:
//!   apiGroup: rbac.authorization.k8s.io
//!   kind: ClusterRole
//!   name: civo-egress-probe-nodes
//! subjects:
//!   - kind: User
//!     name: egress-auditor
//!     apiGroup: rbac.authorization.k8s.io
//! ```
//!
//! A namespace that enforces Pod Security "restricted" admits the pods.
//!
//! # Errors and secrets
//!
//! [`ProbeError`] has predicates ([`is_forbidden`](ProbeError::is_forbidden),
//! [`is_timeout`](ProbeError::is_timeout)...); kube-rs's error is kept
//! behind `source()` only. No message, `Debug` or cause holds a token, a
//! password or a client key of the kubeconfig.

mod error;
mod kubeconfig;
mod pod;
mod report;
mod run;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

pub use error::ProbeError;
use error::Secrets;
#[cfg(fuzzing)]
pub(crate) use pod::parse_output;
pub use pod::{MANAGED_BY, MANAGED_BY_LABEL, POD_NAME_PREFIX, RUN_LABEL};
pub use report::{EchoObservation, NodeProbe, ProbeReport};

use crate::resolve::DEFAULT_ECHO_URLS;
use crate::resolve::echo::echo_url;
use crate::{AddressPolicy, Cluster};

/// The image run when none is given.
pub const DEFAULT_IMAGE: &str = "curlimages/curl";
/// The namespace used when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Each pod's time to be created, pulled, run and read, by default.
pub const DEFAULT_POD_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole probe's deadline, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds a [`Probe`].
///
/// ```
/// use civo_egress::probe::Probe;
/// let builder = Probe::builder().namespace("egress-probe").node("w-1").node("gw");
/// # let _ = builder;
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct ProbeBuilder {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: String,
    image: String,
    echo_urls: Option<Vec<String>>,
    nodes: Vec<String>,
    addresses: AddressPolicy,
    pod_timeout: Duration,
    timeout: Duration,
}

impl ProbeBuilder {
    /// The kubeconfig file (default: the files of `KUBECONFIG`, merged,
    /// else `~/.kube/config`, as kube-rs reads them).
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.kubeconfig = Some(path.into());
        self
    }

    /// The context (default: the kubeconfig's current context; `""` is the
    /// same as none, as for kubectl).
    pub fn context(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.context = if name.is_empty() { None } else { Some(name) };
        self
    }

    /// The namespace the pods are created in (default [`DEFAULT_NAMESPACE`]).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The image (default [`DEFAULT_IMAGE`]): any image with `curl`, for a
    /// private registry.
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = image.into();
        self
    }

    /// Adds an echo URL; the first one given replaces the defaults
    /// ([`DEFAULT_ECHO_URLS`]).
    pub fn echo_url(mut self, url: impl Into<String>) -> Self {
        self.echo_urls.get_or_insert_with(Vec::new).push(url.into());
        self
    }

    /// Adds echo URLs (see [`echo_url`](Self::echo_url)).
    pub fn echo_urls<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.echo_urls.get_or_insert_with(Vec::new).extend(urls.into_iter().map(Into::into));
        self
    }

    /// Probes this node (by its Kubernetes name); all nodes when none is
    /// named. A name the cluster lacks gets a row with
    /// [`ProbeError::NoSuchNode`].
    pub fn node(mut self, name: impl Into<String>) -> Self {
        self.nodes.push(name.into());
        self
    }

    /// Probes these nodes (see [`node`](Self::node)).
    pub fn nodes<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.nodes.extend(names.into_iter().map(Into::into));
        self
    }

    /// The lab opt-in: [`AddressPolicy::AllowNonGlobal`] accepts echo URLs
    /// and answers on non-global addresses (default
    /// [`AddressPolicy::GlobalOnly`]).
    pub const fn addresses(mut self, addresses: AddressPolicy) -> Self {
        self.addresses = addresses;
        self
    }

    /// Each pod's time to be created, pulled, run and read (default
    /// [`DEFAULT_POD_TIMEOUT`]); also its `activeDeadlineSeconds`.
    pub const fn pod_timeout(mut self, timeout: Duration) -> Self {
        self.pod_timeout = timeout;
        self
    }

    /// The whole probe's deadline (default [`DEFAULT_TIMEOUT`]). The pods
    /// are deleted after it, within a few seconds more.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and reads the kubeconfig: with the crate's
    /// capped reader and kubectl's rules (what the CLI refuses, this
    /// refuses), every file it names read with a cap before kube-rs uses it.
    ///
    /// # Errors
    ///
    /// [`ProbeError::Config`] for an invalid namespace, image, node name or
    /// echo URL (`https://` only, except loopback or the lab
    /// [`AddressPolicy`]), or a zero timeout; [`ProbeError::Kubeconfig`] when
    /// the kubeconfig cannot be read or parsed, or the context is not in it.
    pub fn build(self) -> Result<Probe, ProbeError> {
        if !pod::is_dns_label(&self.namespace) {
            return Err(ProbeError::Config(format!("namespace {:?} is not a DNS-1123 label", self.namespace)));
        }
        if self.image.trim().is_empty() || self.image.chars().any(char::is_whitespace) {
            return Err(ProbeError::Config(format!("image {:?} is not an image reference", self.image)));
        }
        if let Some(bad) = self.nodes.iter().find(|n| n.is_empty() || n.chars().any(|c| c.is_whitespace() || c == '/'))
        {
            return Err(ProbeError::Config(format!("node {bad:?} is not a node name")));
        }
        if self.pod_timeout.is_zero() || self.timeout.is_zero() {
            return Err(ProbeError::Config("timeouts must be longer than zero".into()));
        }
        let urls = self.echo_urls.unwrap_or_else(|| DEFAULT_ECHO_URLS.map(str::to_owned).to_vec());
        if urls.is_empty() {
            return Err(ProbeError::Config("no echo URL".into()));
        }
        for url in &urls {
            echo_url(url, self.addresses).map_err(|e| ProbeError::Config(format!("echo URL {url}: {e}")))?;
        }
        let kubeconfig::Loaded { config: kubeconfig, path, secrets } =
            kubeconfig::load(self.kubeconfig.as_deref(), self.context.as_deref())?;
        let context = self.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            let message = if self.context.is_some() {
                let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
                format!("no context {context:?} (contexts: {})", known.join(", "))
            } else if context.is_empty() {
                "no context given and no current-context set".to_owned()
            } else {
                format!("the current-context {context:?} is not defined")
            };
            return Err(ProbeError::Kubeconfig { path, message, source: None });
        }
        Ok(Probe {
            inner: Arc::new(Inner {
                kubeconfig,
                path,
                context: self.context,
                secrets,
                namespace: self.namespace,
                image: self.image,
                urls,
                nodes: self.nodes,
                addresses: self.addresses,
                pod_timeout: self.pod_timeout,
                timeout: self.timeout,
            }),
        })
    }
}

/// Probes the egress of a cluster's nodes from inside, through the
/// Kubernetes API. Cheap to clone (an `Arc`); needs a tokio runtime (the
/// multi-threaded one, or the current-thread one with the future awaited
/// on it).
///
/// See the [module docs](self) for the pod, the verdict and the RBAC.
#[derive(Clone)]
pub struct Probe {
    inner: Arc<Inner>,
}

struct Inner {
    kubeconfig: Kubeconfig,
    path: String,
    context: Option<String>,
    secrets: Secrets,
    namespace: String,
    image: String,
    urls: Vec<String>,
    nodes: Vec<String>,
    addresses: AddressPolicy,
    pod_timeout: Duration,
    timeout: Duration,
}

impl fmt::Debug for Probe {
    /// The settings, never the kubeconfig's contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Probe")
            .field("kubeconfig", &i.path)
            .field("context", &i.context)
            .field("namespace", &i.namespace)
            .field("image", &i.image)
            .field("echo_urls", &i.urls)
            .field("nodes", &i.nodes)
            .field("addresses", &i.addresses)
            .field("pod_timeout", &i.pod_timeout)
            .field("timeout", &i.timeout)
            .finish_non_exhaustive()
    }
}

impl Probe {
    /// A builder with the defaults: the default kubeconfig and its current
    /// context, namespace `default`, image `curlimages/curl`, the default
    /// echo URLs, every node, global addresses only, 60 s per pod, 120 s in all.
    pub fn builder() -> ProbeBuilder {
        ProbeBuilder {
            kubeconfig: None,
            context: None,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            image: DEFAULT_IMAGE.to_owned(),
            echo_urls: None,
            nodes: Vec::new(),
            addresses: AddressPolicy::GlobalOnly,
            pod_timeout: DEFAULT_POD_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The namespace the pods are created in.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The echo URLs each pod asks.
    #[must_use]
    pub fn echo_urls(&self) -> &[String] {
        &self.inner.urls
    }

    /// Probes the nodes of `cluster` (its name, egress IP(s) and nodes are
    /// the expected side: from a snapshot, or from the Civo API's discovery
    /// with `civo-api`), deletes every pod it created, and reports.
    ///
    /// # Errors
    ///
    /// When the probe cannot start: [`ProbeError::Kubeconfig`] (a bad
    /// server URL or certificate), [`ProbeError::Unreachable`],
    /// [`ProbeError::Unauthorized`], [`ProbeError::Forbidden`] (listing the
    /// nodes), [`ProbeError::Api`], [`ProbeError::Timeout`]. A node that
    /// cannot be probed is a row of the report with its error, not an
    /// error.
    pub async fn run(&self, cluster: &Cluster) -> Result<ProbeReport, ProbeError> {
        let i = &self.inner;
        let deadline = tokio::time::Instant::now() + i.timeout;
        let options = KubeConfigOptions { context: i.context.clone(), ..KubeConfigOptions::default() };
        let config =
            tokio::time::timeout_at(deadline, kube::Config::from_custom_kubeconfig(i.kubeconfig.clone(), &options))
                .await
                .map_err(|_| ProbeError::Timeout(i.timeout))?
                .map_err(|e| ProbeError::from_kubeconfig(&i.path, e, &i.secrets))?;
        let client = kube::Client::try_from(config).map_err(|e| match e {
            kube::Error::InferKubeconfig(e) => ProbeError::from_kubeconfig(&i.path, e, &i.secrets),
            other => {
                let ProbeError::Api { message, source, .. } = ProbeError::from_kube(other, &i.secrets) else {
                    return ProbeError::Kubeconfig { path: i.path.clone(), message: "unusable".into(), source: None };
                };
                ProbeError::Kubeconfig { path: i.path.clone(), message, source }
            }
        })?;
        let settings = run::RunSettings {
            namespace: &i.namespace,
            image: &i.image,
            urls: &i.urls,
            nodes: &i.nodes,
            addresses: i.addresses,
            pod_timeout: i.pod_timeout,
            deadline,
            secrets: &i.secrets,
        };
        run::run(client, cluster, &settings).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Probe>();
        check::<ProbeBuilder>();
        check::<ProbeReport>();
        check::<ProbeError>();
        check::<NodeProbe>();
        check::<crate::Warning>();
    }

    #[test]
    fn the_run_future_is_send() {
        let dir = std::env::temp_dir().join(format!("civo-egress-probe-unit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("config");
        let _ = std::fs::write(
            &file,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: tok-9c8b7a6d5e}}]\n",
        );
        let probe = Probe::builder().kubeconfig(&file).build();
        assert!(probe.is_ok(), "{probe:?}");
        if let Ok(probe) = probe {
            assert!(!format!("{probe:?}").contains("tok-9c8b7a6d5e"), "no secret in Debug");
            let cluster = Cluster::builder("prod").egress_ip([212, 2, 253, 151]).build();
            if let Ok(cluster) = cluster {
                fn is_send<T: Send>(_: &T) {}
                let future = probe.run(&cluster);
                is_send(&future);
                assert_send_sync(&probe);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn build_checks_the_settings() {
        let bad = |b: ProbeBuilder| b.kubeconfig("/nonexistent/kubeconfig").build().err();
        assert!(bad(Probe::builder().namespace("Default")).is_some_and(|e| matches!(e, ProbeError::Config(_))));
        assert!(bad(Probe::builder().image("")).is_some_and(|e| matches!(e, ProbeError::Config(_))));
        assert!(bad(Probe::builder().node("")).is_some_and(|e| matches!(e, ProbeError::Config(_))));
        assert!(bad(Probe::builder().timeout(Duration::ZERO)).is_some_and(|e| matches!(e, ProbeError::Config(_))));
        assert!(
            bad(Probe::builder().echo_url("http://ifconfig.me/ip")).is_some_and(|e| matches!(e, ProbeError::Config(_))),
            "clear text to a public host is refused, as by the HTTP echo source"
        );
        assert!(bad(Probe::builder()).is_some_and(|e| matches!(e, ProbeError::Kubeconfig { .. })));
        let lab = AddressPolicy::AllowNonGlobal;
        assert!(
            bad(Probe::builder().addresses(lab).echo_url("http://198.51.100.80/"))
                .is_some_and(|e| matches!(e, ProbeError::Kubeconfig { .. })),
            "the lab's URL passes; the kubeconfig then fails"
        );
    }
}
