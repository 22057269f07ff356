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
use crate::fingerprint::{CaFingerprint, PemError};
use crate::local_file::{LocalFileError, read_local_file};

/// A kubeconfig larger than this is not one (4 MiB: a kubeconfig of a
/// hundred clusters with their certificates inline is well under 1 MiB).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

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
        /// What failed (not found, not a regular file, larger than
        /// [`MAX_FILE_BYTES`], not UTF-8, an io error).
        message: String,
        /// The [`LocalFileError`] that says so.
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
    /// The cluster's certificate authority (its `certificate-authority-data`,
    /// or the file its `certificate-authority` names) is not a PEM bundle of
    /// certificates.
    #[error("cluster {cluster:?}: its certificate authority is not usable: {message}")]
    #[non_exhaustive]
    BadCertificateAuthority {
        /// The cluster.
        cluster: String,
        /// What is wrong (never the data itself).
        message: String,
        /// The PEM error.
        source: Cause,
    },
    /// The file the cluster's `certificate-authority` names cannot be read.
    #[error("cluster {cluster:?}: cannot read its certificate-authority file {message}")]
    #[non_exhaustive]
    UnreadableCertificateAuthority {
        /// The cluster.
        cluster: String,
        /// The file.
        path: String,
        /// What failed, after the file's name.
        message: String,
        /// The [`LocalFileError`] that says so.
        source: Cause,
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
    /// boolean where a string belongs, a name defined twice, a server that
    /// is not a URL, or a certificate authority that is not PEM.
    #[must_use]
    pub const fn is_invalid(&self) -> bool {
        matches!(
            self,
            Self::Yaml { .. }
                | Self::NotAString { .. }
                | Self::DuplicateName { .. }
                | Self::BadServer { .. }
                | Self::BadCertificateAuthority { .. }
        )
    }

    /// Whether a file (a kubeconfig, or the certificate-authority file it
    /// names) could not be read.
    #[must_use]
    pub const fn is_io(&self) -> bool {
        matches!(self, Self::Read { .. } | Self::UnreadableCertificateAuthority { .. })
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
#[allow(dead_code)] // all but `server` and the CA are read to type-check them
struct ClusterEntry {
    server: Option<String>,
    tls_server_name: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
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

/// What is wrong with a file, without its path (the error names it).
fn reason(error: &LocalFileError) -> String {
    match error {
        LocalFileError::NotFound { .. } => "no such file".to_owned(),
        LocalFileError::NotRegular { what, .. } => format!("not a regular file (a {what})"),
        LocalFileError::TooLarge { max_bytes, .. } => format!("larger than {max_bytes} bytes"),
        LocalFileError::NotText { .. } => "not UTF-8 text".to_owned(),
        LocalFileError::Io { source, .. } => source.to_string(),
    }
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
    /// Each cluster's certificate authority, merged as `clusters` is.
    authorities: Vec<(String, Authority)>,
}

/// The certificate authority a kubeconfig cluster names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Authority {
    /// None: the system's roots, or no verification.
    None,
    /// `certificate-authority-data`, fingerprinted as read.
    Data(Result<Vec<CaFingerprint>, PemError>),
    /// `certificate-authority`: a PEM file, read when asked for.
    File(PathBuf),
}

/// A certificate-authority file larger than this is not one.
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

impl Authority {
    /// The authority of `cluster`, defined in the file `path`: the data
    /// wins over the file, as for kubectl, and a relative file is relative
    /// to the kubeconfig that names it.
    fn of(cluster: Option<&ClusterEntry>, path: &str) -> Self {
        let Some(cluster) = cluster else { return Self::None };
        if let Some(data) = cluster.certificate_authority_data.as_deref().filter(|d| !d.trim().is_empty()) {
            return Self::Data(CaFingerprint::from_pem_base64(data));
        }
        match cluster.certificate_authority.as_deref().filter(|f| !f.is_empty()).map(Path::new) {
            Some(file) if file.is_relative() => {
                Self::File(Path::new(path).parent().unwrap_or_else(|| Path::new("")).join(file))
            }
            Some(file) => Self::File(file.to_owned()),
            None => Self::None,
        }
    }
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
        let entries = file.clusters.unwrap_or_default();
        let authorities: Vec<(String, Authority)> = entries
            .iter()
            .map(|e| (e.name.clone().unwrap_or_default(), Authority::of(e.value.as_ref(), path)))
            .collect();
        let clusters: Vec<(String, String)> = entries
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
        Ok(Self { clusters, contexts, current_context: file.current_context.filter(|c| !c.is_empty()), authorities })
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
        for (name, authority) in other.authorities {
            if !self.authorities.iter().any(|(known, _)| *known == name) {
                self.authorities.push((name, authority));
            }
        }
        if self.current_context.is_none() {
            self.current_context = other.current_context;
        }
    }

    /// Reads and merges `paths` (missing files are skipped, as kubectl does).
    ///
    /// Each file is read with [`read_local_file`]: it must be a regular file
    /// (a FIFO, a device or a directory is refused, a FIFO before it is
    /// opened) of at most [`MAX_FILE_BYTES`].
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
            // A regular file only (a FIFO would block, /dev/zero never end),
            // read with the cap whatever length it reports.
            let text = match read_local_file(path, MAX_FILE_BYTES) {
                Ok(text) => text,
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    return Err(KubeconfigError::Read {
                        path: shown,
                        message: reason(&e),
                        source: Some(Cause::new(e)),
                    });
                }
            };
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

    /// The context asked (an empty name is none: the current context, as
    /// kubectl reads it) and the name of its cluster.
    fn cluster_of<'a>(&'a self, context: Option<&'a str>) -> Result<(&'a str, &'a String), KubeconfigError> {
        let context = context
            .filter(|name| !name.is_empty())
            .or(self.current_context.as_deref())
            .ok_or(KubeconfigError::NoContext)?;
        let (_, cluster) =
            self.contexts.iter().find(|(name, _)| name == context).ok_or_else(|| KubeconfigError::UnknownContext {
                name: context.to_owned(),
                available: self.contexts.iter().map(|(name, _)| name.clone()).collect(),
            })?;
        Ok((context, cluster))
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
        let (context, cluster) = self.cluster_of(context)?;
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

    /// The fingerprints of the CA certificates the cluster of `context` (or
    /// of the current context, as for [`server`](Self::server)) is verified
    /// with: those of its `certificate-authority-data`, else of the PEM
    /// file its `certificate-authority` names (a relative path is relative
    /// to the kubeconfig file that names it, as for kubectl; read with
    /// [`read_local_file`], at most 1 MiB), one per
    /// certificate. Empty when the cluster names no CA (it trusts the
    /// system's roots, or skips verification).
    ///
    /// A pod whose service-account `ca.crt` has one of them is in this
    /// cluster: see [`prove`](crate::resolve::prove).
    ///
    /// ```
    /// use civo_egress::kubeconfig::Kubeconfig;
    /// let yaml = "clusters:\n- name: prod\n  cluster:\n    server: https://74.220.24.10:6443\n\
    ///             contexts:\n- name: prod\n  context:\n    cluster: prod\n\
    ///             current-context: prod\n";
    /// assert!(Kubeconfig::from_yaml(yaml)?.ca_fingerprints(None)?.is_empty());
    /// # Ok::<(), civo_egress::kubeconfig::KubeconfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`server`](Self::server) for the context and cluster
    /// ([`KubeconfigError::NoContext`], [`KubeconfigError::UnknownContext`],
    /// [`KubeconfigError::UnknownCluster`]);
    /// [`KubeconfigError::BadCertificateAuthority`] when the data or the file
    /// is not a PEM bundle of certificates;
    /// [`KubeconfigError::UnreadableCertificateAuthority`] when the file
    /// cannot be read.
    pub fn ca_fingerprints(&self, context: Option<&str>) -> Result<Vec<CaFingerprint>, KubeconfigError> {
        let (context, cluster) = self.cluster_of(context)?;
        let Some((_, authority)) = self.authorities.iter().find(|(name, _)| name == cluster) else {
            return Err(KubeconfigError::UnknownCluster { context: context.to_owned(), cluster: cluster.clone() });
        };
        let bad = |message: String, e: PemError| KubeconfigError::BadCertificateAuthority {
            cluster: cluster.clone(),
            message,
            source: Cause::new(e),
        };
        match authority {
            Authority::None => Ok(Vec::new()),
            Authority::Data(Ok(fingerprints)) => Ok(fingerprints.clone()),
            Authority::Data(Err(e)) => Err(bad(format!("certificate-authority-data: {e}"), e.clone())),
            Authority::File(path) => {
                let text = crate::read_local_file(path, MAX_CA_FILE_BYTES).map_err(|e| {
                    KubeconfigError::UnreadableCertificateAuthority {
                        cluster: cluster.clone(),
                        path: path.display().to_string(),
                        message: e.to_string(),
                        source: Cause::new(e),
                    }
                })?;
                CaFingerprint::from_pem(&text).map_err(|e| bad(format!("{}: {e}", path.display()), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("civo-egress-kubeconfig-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap(); // ok: test
        dir
    }

    fn read_error(path: &Path) -> (String, String) {
        match Kubeconfig::load(&[path]) {
            Err(e @ KubeconfigError::Read { .. }) => {
                let source = std::error::Error::source(&e).map(ToString::to_string).unwrap_or_default();
                (e.to_string(), source)
            }
            other => panic!("{}: {other:?}", path.display()), // ok: test
        }
    }

    #[test]
    fn a_file_past_the_cap_is_refused_whatever_its_kind() {
        let dir = dir("cap");
        // Sparse: 4 MiB + 1 of zeros, without writing them.
        let big = dir.join("big");
        std::fs::File::create(&big).and_then(|f| f.set_len(MAX_FILE_BYTES + 1)).unwrap(); // ok: test
        let (message, source) = read_error(&big);
        assert_eq!(message, format!("cannot read kubeconfig {}: larger than {MAX_FILE_BYTES} bytes", big.display()));
        assert!(source.contains("larger than"), "{source}");
        // Exactly the cap is read (and is then not YAML: zeros).
        std::fs::File::create(&big).and_then(|f| f.set_len(MAX_FILE_BYTES)).unwrap(); // ok: test
        assert!(Kubeconfig::load(&[&big]).is_err_and(|e| !e.is_io()));
        let (message, _) = read_error(&dir);
        assert!(message.ends_with(": not a regular file (a directory)"), "{message}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_fifos_and_proc_files() {
        // /dev/zero reports a length of 0 and never ends.
        let (message, source) = read_error(Path::new("/dev/zero"));
        assert_eq!(message, "cannot read kubeconfig /dev/zero: not a regular file (a character device)");
        assert!(source.contains("/dev/zero"), "{source}");
        // A FIFO with no writer is refused before it is opened (opening blocks).
        let dir = dir("fifo");
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo is needed by this test");
        let (message, _) = read_error(&fifo);
        assert!(message.ends_with(": not a regular file (a FIFO)"), "{message}");
        // A FIFO among the KUBECONFIG list fails the list too.
        let good = dir.join("config");
        std::fs::write(&good, "current-context: a\n").unwrap(); // ok: test
        assert!(Kubeconfig::load(&[&good, &fifo]).is_err_and(|e| e.is_io()));
        // /proc reports a length of 0 and has content: it is read (and is not a kubeconfig).
        let proc = Kubeconfig::load(&[Path::new("/proc/self/status")]);
        assert!(proc.as_ref().is_ok_and(|k| k.server(None).is_err()) || proc.is_err_and(|e| !e.is_io()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
