//! [`ProbeError`]: what went wrong talking to the Kubernetes API, or with a
//! probe pod.

use std::time::Duration;

use crate::cause::{Cause, Redacted};
use crate::resolve::SourceError;

/// What went wrong with the probe: its settings, the kubeconfig, the
/// Kubernetes API, or one node's pod.
///
/// [`Probe::run`](super::Probe::run) fails with one when the probe could not
/// start (the kubeconfig, listing the nodes); a node's row in the
/// [`ProbeReport`](super::ProbeReport) carries one when that node could not
/// be probed. kube-rs's error, when there is one, is kept behind
/// [`source()`](std::error::Error::source) only, and no message, `Debug` or
/// cause holds a token, a password or a client key of the kubeconfig (a
/// cause that would is replaced by a stand-in with a redacted message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A setting of the [`ProbeBuilder`](super::ProbeBuilder) is unusable
    /// (an empty or invalid namespace, image or node name, a refused echo
    /// URL, a zero timeout).
    #[error("{0}")]
    Config(String),
    /// The kubeconfig could not be read or used: a missing or malformed
    /// file, an unknown context, a bad server URL or certificate, an auth
    /// plugin that failed.
    #[error("kubeconfig {path}: {message}")]
    #[non_exhaustive]
    Kubeconfig {
        /// The file (`KUBECONFIG`/`~/.kube/config` when none was given).
        path: String,
        /// What is wrong (never a secret of the file).
        message: String,
        /// kube-rs's error, redacted if it held a secret.
        source: Option<Cause>,
    },
    /// The API server could not be reached (connection refused, TLS, DNS).
    #[error("cannot reach the kubernetes api: {message}")]
    #[non_exhaustive]
    Unreachable {
        /// What failed.
        message: String,
        /// kube-rs's error.
        source: Option<Cause>,
    },
    /// HTTP 401: the credentials were refused.
    #[error("unauthorized (HTTP 401): {message}")]
    #[non_exhaustive]
    Unauthorized {
        /// What the API server said.
        message: String,
        /// kube-rs's error.
        source: Option<Cause>,
    },
    /// HTTP 403: the credentials lack a permission (see the RBAC in the
    /// [module docs](super)).
    #[error("forbidden (HTTP 403): {message}")]
    #[non_exhaustive]
    Forbidden {
        /// What the API server said (the verb and resource refused).
        message: String,
        /// kube-rs's error.
        source: Option<Cause>,
    },
    /// Another status from the API server (a 500, a 422 for a pod the
    /// server's admission refused...).
    #[error("kubernetes api answered HTTP {code} {reason}: {message}")]
    #[non_exhaustive]
    Api {
        /// The HTTP status.
        code: u16,
        /// The Kubernetes reason (`InternalError`, `Invalid`...).
        reason: String,
        /// What the API server said.
        message: String,
        /// kube-rs's error.
        source: Option<Cause>,
    },
    /// A node named with [`ProbeBuilder::node`](super::ProbeBuilder::node)
    /// is not in the cluster's node list.
    #[error("no node {node:?} in the cluster")]
    #[non_exhaustive]
    NoSuchNode {
        /// The name given.
        node: String,
    },
    /// The pod cannot start (an invalid image name, a bad container
    /// configuration), or it disappeared.
    #[error("pod {pod} did not run: {reason}{}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    #[non_exhaustive]
    PodNotStarted {
        /// The pod.
        pod: String,
        /// The kubelet's reason (`InvalidImageName`, `CreateContainerConfigError`...).
        reason: String,
        /// The kubelet's message.
        message: String,
    },
    /// The pod ran and failed without printing an answer.
    #[error("pod {pod} failed: {message}")]
    #[non_exhaustive]
    PodFailed {
        /// The pod.
        pod: String,
        /// Its phase, reason and message.
        message: String,
    },
    /// The pod did not finish within the per-pod timeout or the deadline.
    #[error("pod {pod} still {phase} after {} ms", .after.as_millis())]
    #[non_exhaustive]
    PodTimeout {
        /// The pod.
        pod: String,
        /// Where it was: `Pending`, `Pending (ImagePullBackOff)`, `Running`...
        phase: String,
        /// How long it was given.
        after: Duration,
    },
    /// A call to the API did not answer within the deadline.
    #[error("no answer from the kubernetes api within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The pod ran, and no echo service gave an address.
    #[error("no echo service answered ({url}: {source})")]
    #[non_exhaustive]
    NoEcho {
        /// The first echo URL.
        url: String,
        /// What was wrong with its answer.
        source: SourceError,
    },
}

impl ProbeError {
    /// An HTTP 403: the credentials lack a permission.
    #[must_use]
    pub const fn is_forbidden(&self) -> bool {
        matches!(self, Self::Forbidden { .. })
    }

    /// An HTTP 401: the credentials were refused.
    #[must_use]
    pub const fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// A deadline passed: the API's or a pod's.
    #[must_use]
    pub const fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::PodTimeout { .. })
    }

    /// A node named does not exist.
    #[must_use]
    pub const fn is_no_such_node(&self) -> bool {
        matches!(self, Self::NoSuchNode { .. })
    }

    /// The settings or the kubeconfig are unusable: bad input, not a
    /// runtime failure.
    #[must_use]
    pub const fn is_config(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Kubeconfig { .. })
    }

    /// The API server could not be reached.
    #[must_use]
    pub const fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// The pod did not start, failed, or gave no answer.
    #[must_use]
    pub const fn is_pod_failure(&self) -> bool {
        matches!(self, Self::PodNotStarted { .. } | Self::PodFailed { .. } | Self::NoEcho { .. })
    }

    /// The HTTP status the API server answered, if it answered one.
    #[must_use]
    pub const fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Maps kube-rs's error of a call to the API, scrubbing `secrets` from
    /// every message.
    pub(crate) fn from_kube(error: kube::Error, secrets: &Secrets) -> Self {
        match error {
            kube::Error::Api(status) => {
                let code = status.code;
                let reason = secrets.scrub(&status.reason);
                let message = secrets.scrub(&status.message);
                let source = Some(secrets.cause(kube::Error::Api(status)));
                match code {
                    401 => Self::Unauthorized { message, source },
                    403 => Self::Forbidden { message, source },
                    _ => Self::Api { code, reason, message, source },
                }
            }
            kube::Error::Auth(auth) => {
                // An exec plugin's error quotes its output, which may be a
                // token: keep only the first words.
                let full = auth.to_string();
                let message = format!("authentication failed: {}", safe_prefix(&full));
                Self::Unauthorized { source: Some(Cause::new(Redacted(message.clone()))), message }
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
                let message = secrets.scrub(&chain(&error));
                Self::Unreachable { message, source: Some(secrets.cause(error)) }
            }
            other => {
                let message = secrets.scrub(&chain(&other));
                Self::Api { code: 0, reason: String::new(), message, source: Some(secrets.cause(other)) }
            }
        }
    }

    /// Maps kube-rs's error loading the kubeconfig.
    pub(crate) fn from_kubeconfig(path: &str, error: kube::config::KubeconfigError, secrets: &Secrets) -> Self {
        use kube::config::KubeconfigError as E;
        let message = match &error {
            // serde-saphyr's message may quote the file (a snippet): never
            // show it, nor keep it as the cause.
            E::Parse(_) => {
                let message = "not kubeconfig YAML".to_owned();
                return Self::Kubeconfig {
                    path: path.to_owned(),
                    source: Some(Cause::new(Redacted(message.clone()))),
                    message,
                };
            }
            other => secrets.scrub(&chain(other)),
        };
        Self::Kubeconfig { path: path.to_owned(), message, source: Some(secrets.cause(error)) }
    }
}

/// A message up to its first quote or colon: what follows may be a value.
fn safe_prefix(message: &str) -> String {
    let cut = message.find(['"', '\'', '`', ':', '{']).unwrap_or(message.len());
    message[..cut].trim().to_owned()
}

/// `error: its cause: its cause`, deduplicated (kube-rs's messages repeat
/// their cause).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut link = error.source();
    while let Some(e) = link {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        link = e.source();
    }
    text
}

/// The kubeconfig's secrets (tokens, passwords, client keys), to scrub from
/// messages and causes.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Secrets {
    /// Keeps `secret` (and each of its lines, for a PEM key) to scrub.
    pub(crate) fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() >= 4 {
            self.0.push(secret.to_owned());
        }
        for line in secret.lines().map(str::trim) {
            if line.len() >= 16 && !line.starts_with("-----") {
                self.0.push(line.to_owned());
            }
        }
    }

    /// `text` with every secret replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "***");
            }
        }
        text
    }

    /// Whether `text` holds a secret.
    fn leaks(&self, text: &str) -> bool {
        self.0.iter().any(|secret| text.contains(secret.as_str()))
    }

    /// `error` as a cause, or a redacted stand-in when its message, its
    /// `Debug` or one of its causes holds a secret.
    pub(crate) fn cause(&self, error: impl std::error::Error + Send + Sync + 'static) -> Cause {
        let mut link: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        let mut leaks = false;
        while let Some(e) = link {
            leaks |= self.leaks(&e.to_string()) || self.leaks(&format!("{e:?}"));
            link = e.source();
        }
        if leaks { Cause::new(Redacted(self.scrub(&chain(&error)))) } else { Cause::new(error) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_from_messages_and_causes() {
        let mut secrets = Secrets::default();
        secrets.add("tok-3f9a1c2b7d");
        secrets.add("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB1x2y3z4a5b6c7d8e9f0\n-----END EC PRIVATE KEY-----\n");
        assert_eq!(secrets.scrub("bad token tok-3f9a1c2b7d here"), "bad token *** here");
        assert_eq!(secrets.scrub("key MHcCAQEEIB1x2y3z4a5b6c7d8e9f0"), "key ***");
        let io = std::io::Error::other("echoed tok-3f9a1c2b7d");
        let cause = secrets.cause(io);
        assert!(!cause.to_string().contains("tok-3f9a1c2b7d"), "{cause}");
        assert!(!format!("{cause:?}").contains("tok-3f9a1c2b7d"));
        assert!(!format!("{secrets:?}").contains("tok"));
    }

    #[test]
    fn predicates() {
        let forbidden = ProbeError::Forbidden { message: "pods is forbidden".into(), source: None };
        assert!(forbidden.is_forbidden() && forbidden.status() == Some(403) && !forbidden.is_timeout());
        assert!(ProbeError::Timeout(Duration::from_secs(1)).is_timeout());
        let pod = ProbeError::PodTimeout { pod: "p".into(), phase: "Pending".into(), after: Duration::from_secs(2) };
        assert!(pod.is_timeout());
        assert_eq!(pod.to_string(), "pod p still Pending after 2000 ms");
        assert!(ProbeError::NoSuchNode { node: "w-9".into() }.is_no_such_node());
        assert!(ProbeError::Config("x".into()).is_config());
        assert_eq!(safe_prefix("auth exec command 'x' failed: {\"token\": 1}"), "auth exec command");
    }
}
