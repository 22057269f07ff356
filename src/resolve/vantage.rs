//! [`Vantage`]: where an observation was made, and how the resolver tells.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::names::serialized_names;

/// Where the observing sources run: inside a pod of the cluster asked about,
/// or on some other host (a laptop, a CI runner, a bastion).
///
/// An echo service sees the address the *caller's* connection comes from.
/// Inside a pod that is the cluster's egress IP; anywhere else it is that
/// host's own IP, which says nothing about the cluster. So observations made
/// from [`Vantage::Host`] never produce a
/// [`Mismatch`](super::EgressStatus::Mismatch) and never enter
/// [`EgressReport::egress_ips`](super::EgressReport::egress_ips): see
/// [`EgressReport::host_observed`](super::EgressReport::host_observed).
///
/// The resolver detects it ([`Vantage::detect`]) unless told
/// ([`EgressResolverBuilder::vantage`](super::EgressResolverBuilder::vantage),
/// the CLI's `--vantage pod|host`). State [`Vantage::Pod`] wherever the
/// observations *are* the egress asked about although detection cannot see
/// it: a pod with `automountServiceAccountToken: false`, a lab's network
/// namespace, a VM whose own egress IP is the question.
///
/// ```
/// use civo_egress::resolve::Vantage;
/// assert_eq!("pod".parse::<Vantage>()?, Vantage::Pod);
/// assert_eq!(Vantage::Host.to_string(), "host");
/// assert_eq!(serde_json::to_string(&Vantage::Pod)?, r#""pod""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Vantage {
    /// Inside a pod of the cluster: what the echo services see is the
    /// cluster's egress IP.
    Pod,
    /// On a host outside the cluster: what the echo services see is this
    /// host's own IP.
    Host,
}

serialized_names!(Vantage, "vantage", { Pod => "pod", Host => "host" });

impl Vantage {
    /// The file the kubelet mounts into every pod that has a service-account
    /// token: the pod's namespace.
    pub const SERVICE_ACCOUNT_NAMESPACE_FILE: &'static str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// Detects where this process runs, from its real environment and the
    /// real [`SERVICE_ACCOUNT_NAMESPACE_FILE`](Self::SERVICE_ACCOUNT_NAMESPACE_FILE):
    /// [`detect_from`](Self::detect_from) with `std::env::var` and that path.
    ///
    /// Reads two environment variables and one small file (a blocking read:
    /// the resolver does it once, at
    /// [`build()`](super::EgressResolverBuilder::build)).
    #[must_use]
    pub fn detect() -> Self {
        Self::detect_from(|name| std::env::var(name).ok(), Path::new(Self::SERVICE_ACCOUNT_NAMESPACE_FILE))
    }

    /// Detects the vantage from the environment `env` gives and the
    /// service-account namespace file at `sa_namespace_file`.
    ///
    /// [`Vantage::Pod`] when all three signals are present, else
    /// [`Vantage::Host`]:
    ///
    /// - `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, not empty:
    ///   the kubelet sets them in every container (the API server's service);
    /// - the file, holding a namespace name (not empty once trimmed): the
    ///   kubelet mounts it with the service-account token.
    ///
    /// Why both: a variable alone is easily set by hand (a shell that sourced
    /// a pod's environment, a CI job that exports it), and a file alone could
    /// be a leftover; the kubelet provides both together. What detection
    /// cannot see: a pod with `automountServiceAccountToken: false` (no file:
    /// detected as a host), and a host that has the variables set and such a
    /// file (detected as a pod). Both state the vantage instead.
    ///
    /// ```
    /// use std::path::Path;
    /// use civo_egress::resolve::Vantage;
    /// let laptop = |_: &str| None;
    /// assert_eq!(Vantage::detect_from(laptop, Path::new("/nonexistent/namespace")), Vantage::Host);
    /// ```
    #[must_use]
    pub fn detect_from(env: impl Fn(&str) -> Option<String>, sa_namespace_file: &Path) -> Self {
        let set = |name: &str| env(name).is_some_and(|value| !value.trim().is_empty());
        let in_pod = set("KUBERNETES_SERVICE_HOST")
            && set("KUBERNETES_SERVICE_PORT")
            && std::fs::read_to_string(sa_namespace_file).is_ok_and(|namespace| !namespace.trim().is_empty());
        if in_pod { Self::Pod } else { Self::Host }
    }

    /// Whether what the echo services see is the cluster's egress.
    #[must_use]
    pub const fn observes_the_cluster(self) -> bool {
        matches!(self, Self::Pod)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;

    /// A namespace file of the test's own, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn with(name: &str, contents: Option<&str>) -> Self {
            let dir = std::env::temp_dir().join(format!("civo-egress-vantage-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap(); // ok: test
            let path = dir.join("namespace");
            if let Some(contents) = contents {
                std::fs::write(&path, contents).unwrap(); // ok: test
            }
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.get(name).cloned()
    }

    const KUBELET: &[(&str, &str)] = &[("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443")];

    #[test]
    fn a_pod_has_the_variables_and_the_file() {
        let file = TempFile::with("pod", Some("default\n"));
        assert_eq!(Vantage::detect_from(env(KUBELET), &file.0), Vantage::Pod);
    }

    #[test]
    fn the_variables_alone_are_a_host() {
        let missing = TempFile::with("no-file", None);
        assert_eq!(Vantage::detect_from(env(KUBELET), &missing.0), Vantage::Host);
        let empty = TempFile::with("empty-file", Some(" \n"));
        assert_eq!(Vantage::detect_from(env(KUBELET), &empty.0), Vantage::Host);
        let directory = TempFile::with("dir", None);
        assert_eq!(Vantage::detect_from(env(KUBELET), directory.0.parent().unwrap()), Vantage::Host); // ok: test
    }

    #[test]
    fn the_file_alone_or_one_variable_is_a_host() {
        let file = TempFile::with("partial", Some("prod"));
        assert_eq!(Vantage::detect_from(env(&[]), &file.0), Vantage::Host);
        assert_eq!(Vantage::detect_from(env(&KUBELET[..1]), &file.0), Vantage::Host);
        assert_eq!(Vantage::detect_from(env(&KUBELET[1..]), &file.0), Vantage::Host);
        let blank = [("KUBERNETES_SERVICE_HOST", ""), ("KUBERNETES_SERVICE_PORT", "443")];
        assert_eq!(Vantage::detect_from(env(&blank), &file.0), Vantage::Host);
    }

    #[test]
    fn names_round_trip() {
        for &vantage in Vantage::ALL {
            assert_eq!(vantage.as_str().parse::<Vantage>(), Ok(vantage));
            assert_eq!(serde_json::to_value(vantage).unwrap(), vantage.as_str()); // ok: test
        }
        assert!("Pod".parse::<Vantage>().is_err(), "names are exact");
        assert!(Vantage::Pod.observes_the_cluster() && !Vantage::Host.observes_the_cluster());
    }
}
