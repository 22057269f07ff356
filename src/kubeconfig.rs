//! Kubeconfig files: which API server a context talks to. On Civo that
//! server's host is the cluster IP (`https://<master_ip>:6443`) or its DNS
//! name (`<cluster-id>.k8s.civo.com`), so it names the egress IP.
//!
//! Only clusters and contexts are read; credentials are never parsed or kept.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::{Host, Url};

/// A kubeconfig larger than this is not one.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// A kubeconfig that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// No file to read: `KUBECONFIG` is empty and `~/.kube/config` absent.
    #[error("no kubeconfig: set KUBECONFIG or create ~/.kube/config")]
    NoFile,
    /// A file could not be read.
    #[error("cannot read kubeconfig {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A file is not kubeconfig YAML.
    #[error("invalid kubeconfig {path} at line {line}, column {column}: {message}")]
    Yaml {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What is wrong (never the file's text: it may hold tokens).
        message: String,
    },
    /// No context was named and none is current.
    #[error("no context given and no current-context set")]
    NoContext,
    /// The context named does not exist.
    #[error("no context {name:?} (contexts: {})", .available.join(", "))]
    UnknownContext {
        /// The context asked for.
        name: String,
        /// The contexts there are.
        available: Vec<String>,
    },
    /// The context names a cluster that does not exist.
    #[error("context {context:?} names cluster {cluster:?}, which is not defined")]
    UnknownCluster {
        /// The context.
        context: String,
        /// The missing cluster.
        cluster: String,
    },
    /// The cluster's `server` is not a URL with a host.
    #[error("cluster {cluster:?}: server {server:?} is not a URL with a host")]
    BadServer {
        /// The cluster.
        cluster: String,
        /// The value.
        server: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct File {
    clusters: Option<Vec<Named<ClusterEntry>>>,
    contexts: Option<Vec<Named<ContextEntry>>>,
    current_context: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "context")]
    value: Option<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ClusterEntry {
    server: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContextEntry {
    cluster: String,
}

/// The clusters and contexts of one or more kubeconfig files, merged as
/// `kubectl` merges `KUBECONFIG`: the first file to define a name wins, and
/// the first `current-context` set wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kubeconfig {
    clusters: Vec<(String, String)>,
    contexts: Vec<(String, String)>,
    current_context: Option<String>,
}

/// The API server a context talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiServer {
    context: String,
    cluster: String,
    url: Url,
}

/// The host of an API server: an address, or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiHost {
    /// An IP literal.
    Ip(IpAddr),
    /// A DNS name, e.g. `<cluster-id>.k8s.civo.com`.
    Name(String),
}

impl fmt::Display for ApiHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Name(name) => f.write_str(name),
        }
    }
}

impl ApiServer {
    /// The context used.
    #[must_use]
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The kubeconfig cluster entry's name.
    #[must_use]
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The server URL.
    #[must_use]
    pub const fn url(&self) -> &Url {
        &self.url
    }

    /// The server's host.
    #[must_use]
    pub fn host(&self) -> ApiHost {
        match self.url.host() {
            Some(Host::Ipv4(ip)) => ApiHost::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => ApiHost::Ip(IpAddr::V6(ip).to_canonical()),
            Some(Host::Domain(name)) => ApiHost::Name(name.to_owned()),
            None => ApiHost::Name(String::new()),
        }
    }
}

impl Kubeconfig {
    /// Parses one kubeconfig document.
    ///
    /// ```
    /// use civo_egress::{ApiHost, Kubeconfig};
    /// let yaml = "clusters:\n- name: prod\n  cluster:\n    server: https://74.220.24.10:6443\n\
    ///             contexts:\n- name: prod\n  context:\n    cluster: prod\n    user: prod\n\
    ///             current-context: prod\n";
    /// let server = Kubeconfig::from_yaml(yaml)?.server(None)?;
    /// assert_eq!(server.host(), ApiHost::Ip("74.220.24.10".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KubeconfigError::Yaml`] when the text is not kubeconfig YAML.
    pub fn from_yaml(text: &str) -> Result<Self, KubeconfigError> {
        Self::parse("<text>", text)
    }

    fn parse(path: &str, text: &str) -> Result<Self, KubeconfigError> {
        let file: File = serde_saphyr::from_str(text).map_err(|e| {
            let e = e.without_snippet();
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            // Keep the message up to the first quote: what follows may be a
            // value from the file, and a kubeconfig holds tokens.
            let message = e.to_string();
            let message = message.split(['"', '`', '\'']).next().unwrap_or("").trim().trim_end_matches(':').to_owned();
            KubeconfigError::Yaml { path: path.to_owned(), line, column, message }
        })?;
        let mut config = Self::default();
        config.merge(file);
        Ok(config)
    }

    fn merge(&mut self, file: File) {
        for entry in file.clusters.unwrap_or_default() {
            if !self.clusters.iter().any(|(name, _)| *name == entry.name) {
                self.clusters.push((entry.name, entry.value.map(|c| c.server).unwrap_or_default()));
            }
        }
        for entry in file.contexts.unwrap_or_default() {
            if !self.contexts.iter().any(|(name, _)| *name == entry.name) {
                self.contexts.push((entry.name, entry.value.map(|c| c.cluster).unwrap_or_default()));
            }
        }
        if self.current_context.is_none() {
            self.current_context = file.current_context.filter(|c| !c.is_empty());
        }
    }

    /// Reads and merges `paths` (missing files are skipped, as kubectl does).
    ///
    /// # Errors
    ///
    /// [`KubeconfigError::NoFile`] when none exists; [`KubeconfigError::Read`]
    /// or [`KubeconfigError::Yaml`] for a file that cannot be used.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Self, KubeconfigError> {
        let mut config = Self::default();
        let mut read_any = false;
        for path in paths {
            let path = path.as_ref();
            let shown = path.display().to_string();
            let read_error = |message: String| KubeconfigError::Read { path: shown.clone(), message };
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(read_error(e.to_string())),
                Ok(meta) if meta.len() > MAX_FILE_BYTES => {
                    return Err(read_error(format!("larger than {MAX_FILE_BYTES} bytes")));
                }
                Ok(_) => {}
            }
            let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
            let file = Self::parse(&shown, &text)?;
            config.merge_config(file);
            read_any = true;
        }
        if read_any { Ok(config) } else { Err(KubeconfigError::NoFile) }
    }

    fn merge_config(&mut self, other: Self) {
        let file = File {
            clusters: Some(
                other
                    .clusters
                    .into_iter()
                    .map(|(name, server)| Named { name, value: Some(ClusterEntry { server }) })
                    .collect(),
            ),
            contexts: Some(
                other
                    .contexts
                    .into_iter()
                    .map(|(name, cluster)| Named { name, value: Some(ContextEntry { cluster }) })
                    .collect(),
            ),
            current_context: other.current_context,
        };
        self.merge(file);
    }

    /// The files `kubectl` would read: `KUBECONFIG` (a `:`-separated list),
    /// else `~/.kube/config`.
    #[must_use]
    pub fn default_paths() -> Vec<PathBuf> {
        match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()).collect(),
            None => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube/config")).into_iter().collect(),
        }
    }

    /// Reads the files `kubectl` would read.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub fn from_env() -> Result<Self, KubeconfigError> {
        Self::load(&Self::default_paths())
    }

    /// The current context, if set.
    #[must_use]
    pub fn current_context(&self) -> Option<&str> {
        self.current_context.as_deref()
    }

    /// The API server of `context`, or of the current context.
    ///
    /// # Errors
    ///
    /// [`KubeconfigError::NoContext`], [`KubeconfigError::UnknownContext`],
    /// [`KubeconfigError::UnknownCluster`] or [`KubeconfigError::BadServer`].
    pub fn server(&self, context: Option<&str>) -> Result<ApiServer, KubeconfigError> {
        let context = context.or(self.current_context.as_deref()).ok_or(KubeconfigError::NoContext)?;
        let (_, cluster) =
            self.contexts.iter().find(|(name, _)| name == context).ok_or_else(|| KubeconfigError::UnknownContext {
                name: context.to_owned(),
                available: self.contexts.iter().map(|(name, _)| name.clone()).collect(),
            })?;
        let (_, server) = self
            .clusters
            .iter()
            .find(|(name, _)| name == cluster)
            .ok_or_else(|| KubeconfigError::UnknownCluster { context: context.to_owned(), cluster: cluster.clone() })?;
        let bad = || KubeconfigError::BadServer { cluster: cluster.clone(), server: server.clone() };
        let url = Url::parse(server.trim()).map_err(|_| bad())?;
        if url.host().is_none() {
            return Err(bad());
        }
        Ok(ApiServer { context: context.to_owned(), cluster: cluster.clone(), url })
    }
}
