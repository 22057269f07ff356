//! Kubeconfig files: which API server a context talks to. On Civo that
//! server's host is the cluster IP (`https://<master_ip>:6443`) or its DNS
//! name (`<cluster-id>.k8s.civo.com`), so it names the egress IP. Feature
//! `kubeconfig` (serde-saphyr).
//!
//! Only clusters and contexts are read; credentials are never parsed or
//! kept, and never appear in an error or its causes.
//!
//! # Reading the kubeconfig kubectl reads
//!
//! [`Kubeconfig::from_env`] merges the files of `KUBECONFIG` (or reads
//! `~/.kube/config`) as kubectl does; [`Kubeconfig::server`] gives the
//! [`ApiServer`] of a context, whose [`ApiHost`] is an address or a name.
//!
//! ```no_run
//! use civo_egress::kubeconfig::{ApiHost, Kubeconfig};
//!
//! let server = match Kubeconfig::from_env() {
//!     Ok(config) => config.server(Some("prod"))?,
//!     Err(e) if e.is_not_found() => return Ok(()), // no kubeconfig: nothing to check
//!     Err(e) => return Err(e.into()),
//! };
//! match server.host() {
//!     ApiHost::Ip(ip) => println!("{} says the egress IP is {ip}", server.context()),
//!     ApiHost::Name(name) => println!("{} names {name}: resolve it", server.context()),
//!     _ => {}
//! }
//! assert!(server.url().starts_with("https://"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # As kubectl reads it
//!
//! The reader is held against kubectl (`kubectl config view --minify -o
//! jsonpath='{.clusters[0].cluster.server}'` and the URL kubectl dials) by
//! the crate's tests, and follows it where a YAML library alone would not:
//!
//! - only a file's first YAML document is read, as kubectl (go-yaml) does:
//!   a config followed by `---` or another document is that config, and a
//!   file that is empty, `---` or `null` is an empty config (skipped in a
//!   `KUBECONFIG` list);
//! - YAML 1.1 scalars: an unquoted number or boolean (`1234`, `0x1F`,
//!   `yes`, `on`) where a string belongs is
//!   [`KubeconfigError::NotAString`];
//! - the same cluster, context or user name twice in one file is
//!   [`KubeconfigError::DuplicateName`] (the first definition wins only
//!   across files);
//! - `server(Some(""))` is the current context, as `--context ""` is;
//! - a server with surrounding spaces or a control character is
//!   [`KubeconfigError::BadServer`]; a trailing dot marks a name absolute,
//!   and [`ApiServer::host`] gives the name without it.
//!
//! As an egress source for the resolver, see
//! [`KubeconfigSource`](crate::resolve::KubeconfigSource).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::{Host, Url};

use crate::cause::{Cause, Redacted};

/// A kubeconfig larger than this is not one.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// A kubeconfig that cannot be used.
///
/// Branch on [`is_not_found`](Self::is_not_found),
/// [`is_invalid`](Self::is_invalid) and [`is_io`](Self::is_io); the io or
/// YAML error underneath is the [`source()`](std::error::Error::source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// No file to read: `KUBECONFIG` is empty and `~/.kube/config` absent.
    #[error("no kubeconfig: set KUBECONFIG or create ~/.kube/config")]
    NoFile,
    /// A file could not be read.
    #[error("cannot read kubeconfig {path}: {message}")]
    #[non_exhaustive]
    Read {
        /// The file.
        path: String,
        /// What failed.
        message: String,
        /// The io error (`None` for a file too large to be a kubeconfig).
        source: Option<Cause>,
    },
    /// A file is not kubeconfig YAML.
    #[error("invalid kubeconfig {path} at line {line}, column {column}: {message}")]
    #[non_exhaustive]
    Yaml {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What is wrong (never the file's text: it may hold tokens).
        message: String,
        /// The YAML parser's error, without its snippet of the file. A
        /// stand-in with the message above when the parser's message quotes
        /// a value (it may be a token).
        source: Cause,
    },
    /// A string field holds an unquoted number or boolean (`name: 1234`,
    /// `name: yes`): kubectl reads YAML 1.1, where such a scalar is not a
    /// string, and refuses the file.
    #[error("invalid kubeconfig {path} at line {line}, column {column}: {found} where a string belongs (quote it)")]
    #[non_exhaustive]
    NotAString {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// `"a number"` or `"a boolean"` (never the value: it may be a token).
        found: &'static str,
    },
    /// One file defines the same cluster, context or user name twice, which
    /// kubectl refuses (the first definition wins only across files).
    #[error("invalid kubeconfig {path}: duplicate name {name:?} in {list}")]
    #[non_exhaustive]
    DuplicateName {
        /// The file.
        path: String,
        /// `"clusters"`, `"contexts"` or `"users"`.
        list: &'static str,
        /// The name defined twice.
        name: String,
    },
    /// No context was named and none is current.
    #[error("no context given and no current-context set")]
    NoContext,
    /// The context named does not exist.
    #[error("no context {name:?} (contexts: {})", .available.join(", "))]
    #[non_exhaustive]
    UnknownContext {
        /// The context asked for.
        name: String,
        /// The contexts there are.
        available: Vec<String>,
    },
    /// The context names a cluster that does not exist.
    #[error("context {context:?} names cluster {cluster:?}, which is not defined")]
    #[non_exhaustive]
    UnknownCluster {
        /// The context.
        context: String,
        /// The missing cluster.
        cluster: String,
    },
    /// The cluster's `server` is not a URL with a host.
    #[error("cluster {cluster:?}: server {server:?} is not a URL with a host")]
    #[non_exhaustive]
    BadServer {
        /// The cluster.
        cluster: String,
        /// The value.
        server: String,
        /// The URL parser's error, if the value did not parse.
        source: Option<Cause>,
    },
}

impl KubeconfigError {
    /// Whether what was asked for is not there: no file, no current
    /// context, an unknown context or cluster.
    #[must_use]
    pub const fn is_not_found(&self) -> bool {
        matches!(self, Self::NoFile | Self::NoContext | Self::UnknownContext { .. } | Self::UnknownCluster { .. })
    }

    /// Whether a file is not a usable kubeconfig: not YAML, a number or
    /// boolean where a string belongs, a name defined twice, or a server that
    /// is not a URL.
    #[must_use]
    pub const fn is_invalid(&self) -> bool {
        matches!(
            self,
            Self::Yaml { .. } | Self::NotAString { .. } | Self::DuplicateName { .. } | Self::BadServer { .. }
        )
    }

    /// Whether a file could not be read.
    #[must_use]
    pub const fn is_io(&self) -> bool {
        matches!(self, Self::Read { .. })
    }
}

// Every string field kubectl's `Config` has at the levels read here is
// declared, so that an unquoted number or boolean in one is refused as
// kubectl refuses it; the users' credentials are never parsed (only their
// names, for the duplicate check).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct File {
    #[serde(rename = "apiVersion")]
    #[allow(dead_code)] // read to type-check it
    api_version: Option<String>,
    #[allow(dead_code)] // read to type-check it
    kind: Option<String>,
    clusters: Option<Vec<Named<ClusterEntry>>>,
    contexts: Option<Vec<Named<ContextEntry>>>,
    users: Option<Vec<NamedUser>>,
    current_context: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named<T> {
    name: Option<String>,
    #[serde(alias = "cluster", alias = "context")]
    value: Option<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NamedUser {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
#[allow(dead_code)] // all but `server` are read to type-check them
struct ClusterEntry {
    server: Option<String>,
    tls_server_name: Option<String>,
    certificate_authority: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(dead_code)] // all but `cluster` are read to type-check them
struct ContextEntry {
    cluster: Option<String>,
    user: Option<String>,
    namespace: Option<String>,
}

/// The text of the first YAML document of `text`: kubectl (go-yaml) reads
/// the first document of a file and ignores the rest, even when it is
/// empty (`---` then `---`) or the rest is not YAML. A document ends at the
/// next line that starts with a `---` or `...` marker; the `---` that opens
/// the first document is part of it.
fn first_document(text: &str) -> &str {
    let is_marker = |line: &str, marker: &str| {
        line.strip_prefix(marker).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
    };
    let mut started = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if started {
            if is_marker(bare, "---") || is_marker(bare, "...") {
                return &text[..offset];
            }
        } else if is_marker(bare, "---") {
            started = true;
        } else {
            let content = bare.trim_start();
            // Blank lines, comments and directives come before the document.
            if !(content.is_empty() || content.starts_with('#') || bare.starts_with('%')) {
                started = true;
            }
        }
        offset += line.len();
    }
    text
}

/// YAML 1.1's booleans (go-yaml v2, which kubectl reads kubeconfigs with).
fn is_yaml11_bool(value: &str) -> bool {
    matches!(
        value,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn no_duplicates<'a>(
    path: &str,
    list: &'static str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), KubeconfigError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(KubeconfigError::DuplicateName { path: path.to_owned(), list, name: name.to_owned() });
        }
    }
    Ok(())
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

    /// The server URL, normalized (e.g. `https://74.220.24.10:6443/`).
    #[must_use]
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The server's port: the URL's, else 443 for `https`.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.url.port_or_known_default()
    }

    /// The server's host. A name is lowercase and without the trailing dot
    /// that marks it absolute (`https://API.Example.COM.:6443` names
    /// `api.example.com`): every name is looked up as absolute, once.
    #[must_use]
    pub fn host(&self) -> ApiHost {
        match self.url.host() {
            Some(Host::Ipv4(ip)) => ApiHost::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => ApiHost::Ip(IpAddr::V6(ip).to_canonical()),
            Some(Host::Domain(name)) => ApiHost::Name(name.strip_suffix('.').unwrap_or(name).to_owned()),
            None => ApiHost::Name(String::new()),
        }
    }
}

impl Kubeconfig {
    /// Parses one kubeconfig document.
    ///
    /// ```
    /// use civo_egress::kubeconfig::{ApiHost, Kubeconfig};
    /// let yaml = "clusters:\n- name: prod\n  cluster:\n    server: https://74.220.24.10:6443\n\
    ///             contexts:\n- name: prod\n  context:\n    cluster: prod\n    user: prod\n\
    ///             current-context: prod\n";
    /// let server = Kubeconfig::from_yaml(yaml)?.server(None)?;
    /// assert_eq!(server.host(), ApiHost::Ip("74.220.24.10".parse()?));
    /// assert_eq!(server.url(), "https://74.220.24.10:6443/");
    /// assert_eq!(server.port(), Some(6443));
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
        let options = serde_saphyr::options! {
            // YAML 1.1, as kubectl: an unquoted number or boolean (`yes`,
            // `on`, `y`...) is not a string.
            no_schema: true,
            // The snippet quotes the file, and a kubeconfig holds tokens.
            with_snippet: false,
        };
        let file: Option<File> = serde_saphyr::from_str_with_options(first_document(text), options).map_err(|e| {
            let e = match e {
                serde_saphyr::Error::WithSnippet { error, .. } => *error,
                other => other,
            };
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            if let serde_saphyr::Error::QuotingRequired { value, .. } = &e {
                let found = if is_yaml11_bool(value) { "a boolean" } else { "a number" };
                return KubeconfigError::NotAString { path: path.to_owned(), line, column, found };
            }
            // Keep the message up to the first quote: what follows may be a
            // value from the file, and a kubeconfig holds tokens.
            let full = e.to_string();
            let message = full.split(['"', '`', '\'']).next().unwrap_or("").trim().trim_end_matches(':').to_owned();
            // The parser's own error is the cause unless it quotes more than
            // a punctuation mark ('[', ':'): a longer quote is the file's
            // text, and may be a token.
            let quotes_text = full.split(['"', '`', '\'']).skip(1).step_by(2).any(|quoted| quoted.chars().count() > 3);
            let source = if quotes_text { Cause::new(Redacted(message.clone())) } else { Cause::new(e) };
            KubeconfigError::Yaml { path: path.to_owned(), line, column, message, source }
        })?;
        // A document that is empty, `---` or `null` is an empty config, as
        // for kubectl (which skips such a file in `KUBECONFIG`).
        let file = file.unwrap_or_default();
        let clusters: Vec<(String, String)> = file
            .clusters
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name.unwrap_or_default(), e.value.and_then(|c| c.server).unwrap_or_default()))
            .collect();
        let contexts: Vec<(String, String)> = file
            .contexts
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name.unwrap_or_default(), e.value.and_then(|c| c.cluster).unwrap_or_default()))
            .collect();
        let users: Vec<String> =
            file.users.unwrap_or_default().into_iter().map(|u| u.name.unwrap_or_default()).collect();
        no_duplicates(path, "clusters", clusters.iter().map(|(name, _)| name.as_str()))?;
        no_duplicates(path, "contexts", contexts.iter().map(|(name, _)| name.as_str()))?;
        no_duplicates(path, "users", users.iter().map(String::as_str))?;
        Ok(Self { clusters, contexts, current_context: file.current_context.filter(|c| !c.is_empty()) })
    }

    /// Adds what `other` defines and `self` does not: the first file to
    /// define a name wins, and the first `current-context` set.
    fn merge(&mut self, other: Self) {
        for (name, server) in other.clusters {
            if !self.clusters.iter().any(|(known, _)| *known == name) {
                self.clusters.push((name, server));
            }
        }
        for (name, cluster) in other.contexts {
            if !self.contexts.iter().any(|(known, _)| *known == name) {
                self.contexts.push((name, cluster));
            }
        }
        if self.current_context.is_none() {
            self.current_context = other.current_context;
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
            let read_error =
                |message: String, source: Option<Cause>| KubeconfigError::Read { path: shown.clone(), message, source };
            let io_error = |e: std::io::Error| read_error(e.to_string(), Some(Cause::new(e)));
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(e)),
                Ok(meta) if meta.len() > MAX_FILE_BYTES => {
                    return Err(read_error(format!("larger than {MAX_FILE_BYTES} bytes"), None));
                }
                Ok(_) => {}
            }
            let text = std::fs::read_to_string(path).map_err(io_error)?;
            let file = Self::parse(&shown, &text)?;
            config.merge(file);
            read_any = true;
        }
        if read_any { Ok(config) } else { Err(KubeconfigError::NoFile) }
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

    /// The API server of `context`, or of the current context (also for
    /// `Some("")`: kubectl reads `--context ""` as no context given).
    ///
    /// The server must be a URL as written: kubectl refuses one with
    /// surrounding spaces or a control character (`" https://1.2.3.4:6443 "`),
    /// and so does this reader, where a URL parser would strip them.
    ///
    /// # Errors
    ///
    /// [`KubeconfigError::NoContext`], [`KubeconfigError::UnknownContext`],
    /// [`KubeconfigError::UnknownCluster`] or [`KubeconfigError::BadServer`].
    pub fn server(&self, context: Option<&str>) -> Result<ApiServer, KubeconfigError> {
        let context = context
            .filter(|name| !name.is_empty())
            .or(self.current_context.as_deref())
            .ok_or(KubeconfigError::NoContext)?;
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
        let bad = |source: Option<Cause>| KubeconfigError::BadServer {
            cluster: cluster.clone(),
            server: server.clone(),
            source,
        };
        // `Url::parse` strips surrounding spaces and control characters
        // (the WHATWG rule); kubectl (Go's net/url) does not, and refuses.
        if server.chars().any(|c| c.is_control()) || server.trim() != server {
            return Err(bad(None));
        }
        let url = Url::parse(server).map_err(|e| bad(Some(Cause::new(e))))?;
        match url.host() {
            None => return Err(bad(None)),
            // One trailing dot marks a name absolute (`api.example.com.`);
            // an empty label anywhere else is no name.
            Some(Host::Domain(name)) if name.strip_suffix('.').unwrap_or(name).split('.').any(str::is_empty) => {
                return Err(bad(None));
            }
            Some(_) => {}
        }
        Ok(ApiServer { context: context.to_owned(), cluster: cluster.clone(), url })
    }
}
