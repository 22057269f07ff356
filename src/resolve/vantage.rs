//! [`Vantage`]: where an observation was made, and how the resolver tells;
//! [`prove`]: whether a pod is one of the cluster asked about.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fingerprint::CaFingerprint;
use crate::names::{serde_by_name, serialized_names};
use crate::warning::{Warning, WarningKind};

/// The cap on the service-account namespace file (a namespace name is at
/// most 63 characters).
const MAX_NAMESPACE_BYTES: u64 = 4 << 10;
/// The cap on the service-account CA bundle.
const MAX_CA_BYTES: u64 = 1 << 20;

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
/// The resolver detects it and proves a pod is the cluster's by its
/// service-account CA ([`Vantage::detect_and_prove`]) unless told
/// ([`EgressResolverBuilder::vantage`](super::EgressResolverBuilder::vantage),
/// the CLI's `--vantage pod|host`). State [`Vantage::Pod`] wherever the
/// observations *are* the egress asked about although detection cannot see
/// it: a pod with `automountServiceAccountToken: false`, a lab's network
/// namespace, a VM whose own egress IP is the question.
///
/// Detection proves "a pod", not "a pod of *this* cluster": a CI runner's
/// pod in another cluster has the same variables and files. Before its
/// observations may count against a cluster, [`prove`] (or
/// [`Vantage::detect_and_prove`]) compares the pod's service-account CA
/// certificate with the cluster's.
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

    /// The CA certificate (PEM) the kubelet mounts beside the pod's
    /// service-account token: the CA of the cluster the pod runs in.
    pub const SERVICE_ACCOUNT_CA_FILE: &'static str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

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
    ///   kubelet mounts it with the service-account token. It is read with
    ///   [`read_local_file`](crate::read_local_file): a regular file of at
    ///   most 4 KiB (a FIFO or a device is no namespace file).
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
            && crate::read_local_file(sa_namespace_file, MAX_NAMESPACE_BYTES)
                .is_ok_and(|namespace| !namespace.trim().is_empty());
        if in_pod { Self::Pod } else { Self::Host }
    }

    /// Detects where this process runs ([`detect`](Self::detect)) and
    /// proves it against the cluster whose CA certificates are
    /// `cluster_cas` ([`prove`]), reading the real
    /// [`SERVICE_ACCOUNT_CA_FILE`](Self::SERVICE_ACCOUNT_CA_FILE) (at most
    /// 1 MiB; a blocking read, once).
    ///
    /// `cluster_cas` are the fingerprints recorded for the cluster:
    /// [`Cluster::ca_fingerprint`](crate::Cluster::ca_fingerprint) from a
    /// snapshot, or `Kubeconfig::ca_fingerprints` (feature `kubeconfig`).
    ///
    /// ```no_run
    /// use civo_egress::resolve::Vantage;
    /// let proof = Vantage::detect_and_prove(&[]);
    /// if let Some(warning) = proof.warning() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// println!("observing from a {}", proof.vantage());
    /// ```
    #[must_use]
    pub fn detect_and_prove(cluster_cas: &[CaFingerprint]) -> VantageProof {
        let detected = Self::detect();
        // Read only in a pod: elsewhere the file says nothing.
        let ca = match detected {
            Self::Pod => service_account_ca(Path::new(Self::SERVICE_ACCOUNT_CA_FILE)),
            Self::Host => None,
        };
        prove(detected, ca.as_deref(), cluster_cas)
    }

    /// Whether what the echo services see is the cluster's egress.
    #[must_use]
    pub const fn observes_the_cluster(self) -> bool {
        matches!(self, Self::Pod)
    }
}

/// What [`Vantage::detect_and_prove`] reads, kept for a proof made later,
/// once the sources have said which CAs are the cluster's: the detected
/// vantage, and a pod's service-account CA (PEM).
pub(crate) fn detect_with_ca() -> (Vantage, Option<String>) {
    let detected = Vantage::detect();
    let ca = match detected {
        Vantage::Pod => service_account_ca(Path::new(Vantage::SERVICE_ACCOUNT_CA_FILE)),
        Vantage::Host => None,
    };
    (detected, ca)
}

/// The service-account CA bundle at `path`, if it is a readable regular
/// file of at most 1 MiB.
fn service_account_ca(path: &Path) -> Option<String> {
    crate::read_local_file(path, MAX_CA_BYTES).ok()
}

/// Whether a detected vantage is proven to be a pod of the cluster asked
/// about, and so which [`Vantage`] its observations are made from: what
/// [`prove`] decides.
///
/// Only [`Proven`](Self::Proven) observes from a [`Vantage::Pod`]; every
/// other outcome is a [`Vantage::Host`]'s, and a pod that is not proven
/// says so with a [`warning`](Self::warning). Stating the vantage
/// (`--vantage pod` in the CLI;
/// [`EgressResolverBuilder::vantage`](super::EgressResolverBuilder::vantage)
/// in the library) is the user's own assertion and needs no proof.
///
/// ```
/// use civo_egress::resolve::{Vantage, VantageProof};
/// assert_eq!(VantageProof::Proven.vantage(), Vantage::Pod);
/// assert_eq!(VantageProof::OtherCluster.vantage(), Vantage::Host);
/// assert_eq!(VantageProof::Unproven.as_str(), "unproven");
/// assert!(VantageProof::NotAPod.warning().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VantageProof {
    /// A pod whose service-account CA certificate is one of the cluster's:
    /// it observes the cluster's egress ([`Vantage::Pod`]).
    Proven,
    /// A pod of another cluster: its service-account CA certificate is
    /// known and is none of the cluster's ([`Vantage::Host`]).
    OtherCluster,
    /// A pod, but nothing proves which cluster's: no CA certificate of the
    /// cluster is known, or the pod's service-account `ca.crt` is missing or
    /// unreadable ([`Vantage::Host`]).
    Unproven,
    /// Not a pod at all ([`Vantage::Host`]).
    NotAPod,
}

serialized_names!(pub VantageProof, "vantage proof", {
    Proven => "proven",
    OtherCluster => "other-cluster",
    Unproven => "unproven",
    NotAPod => "not-a-pod",
});
serde_by_name!(VantageProof);

impl VantageProof {
    /// The vantage to observe from: [`Vantage::Pod`] when
    /// [`Proven`](Self::Proven), else [`Vantage::Host`].
    #[must_use]
    pub const fn vantage(self) -> Vantage {
        match self {
            Self::Proven => Vantage::Pod,
            Self::OtherCluster | Self::Unproven | Self::NotAPod => Vantage::Host,
        }
    }

    /// The sentence for a pod that is not proven to be in the cluster
    /// ([`OtherCluster`](Self::OtherCluster), [`Unproven`](Self::Unproven)):
    /// why its observations are treated as a host's, and how to state the
    /// vantage. `None` for [`Proven`](Self::Proven) and
    /// [`NotAPod`](Self::NotAPod), which have nothing to explain.
    #[must_use]
    pub const fn message(self) -> Option<&'static str> {
        match self {
            Self::OtherCluster => Some(
                "this runs in a pod of another cluster (its service-account CA certificate is none of the cluster's), so its observations are treated as a host's; state --vantage pod if this pod is in the cluster",
            ),
            Self::Unproven => Some(
                "this runs in a pod, but nothing proves it is in the cluster (no CA certificate of the cluster is known, or the pod's service-account ca.crt could not be read; a snapshot from an older discover records none), so its observations are treated as a host's; state --vantage pod if this pod is in the cluster",
            ),
            Self::Proven | Self::NotAPod => None,
        }
    }

    /// [`message`](Self::message) as a
    /// [`WarningKind::VantageUnproven`](crate::WarningKind::VantageUnproven)
    /// warning (without a cluster: the caller names it).
    #[must_use]
    pub fn warning(self) -> Option<Warning> {
        self.message().map(|message| Warning::new(WarningKind::VantageUnproven, message))
    }
}

/// Decides whether the `detected` vantage is proven to be a pod of the
/// cluster whose CA certificates have the fingerprints `cluster_cas`,
/// given `service_account_ca`, the PEM text of the pod's
/// [`SERVICE_ACCOUNT_CA_FILE`](Vantage::SERVICE_ACCOUNT_CA_FILE) (`None`
/// when it could not be read). Pure: [`Vantage::detect_and_prove`] reads
/// the files.
///
/// | detected | service-account CA | cluster CAs | proof |
/// |---|---|---|---|
/// | host | any | any | [`NotAPod`](VantageProof::NotAPod) |
/// | pod | one of the cluster's | known | [`Proven`](VantageProof::Proven) |
/// | pod | another | known | [`OtherCluster`](VantageProof::OtherCluster) |
/// | pod | missing, or not PEM | any | [`Unproven`](VantageProof::Unproven) |
/// | pod | any | none known | [`Unproven`](VantageProof::Unproven) |
///
/// A bundle proves the pod when any of its certificates is one of the
/// cluster's (a CA being rotated is in both bundles).
///
/// ```
/// use civo_egress::CaFingerprint;
/// use civo_egress::resolve::{prove, Vantage, VantageProof};
/// let pem = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
/// let this_cluster = CaFingerprint::from_pem(pem)?;
/// assert_eq!(prove(Vantage::Pod, Some(pem), &this_cluster), VantageProof::Proven);
/// assert_eq!(prove(Vantage::Pod, Some(pem), &[CaFingerprint::of_der(b"other")]), VantageProof::OtherCluster);
/// assert_eq!(prove(Vantage::Pod, Some(pem), &[]), VantageProof::Unproven);
/// assert_eq!(prove(Vantage::Host, Some(pem), &this_cluster), VantageProof::NotAPod);
/// # Ok::<(), civo_egress::PemError>(())
/// ```
#[must_use]
pub fn prove(detected: Vantage, service_account_ca: Option<&str>, cluster_cas: &[CaFingerprint]) -> VantageProof {
    if detected != Vantage::Pod {
        return VantageProof::NotAPod;
    }
    let own = service_account_ca.and_then(|pem| CaFingerprint::from_pem(pem).ok());
    match own {
        None => VantageProof::Unproven,
        Some(_) if cluster_cas.is_empty() => VantageProof::Unproven,
        Some(own) if own.iter().any(|ca| cluster_cas.contains(ca)) => VantageProof::Proven,
        Some(_) => VantageProof::OtherCluster,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use super::*;
    use crate::fingerprint::tests::{CA_A, CA_A_OPENSSL, CA_B, CA_B_OPENSSL, from_openssl};

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

    #[test]
    fn a_namespace_file_too_large_or_special_is_a_host() {
        let huge = TempFile::with("huge", Some(&"a".repeat(8 << 10)));
        assert_eq!(Vantage::detect_from(env(KUBELET), &huge.0), Vantage::Host);
        #[cfg(target_os = "linux")]
        assert_eq!(Vantage::detect_from(env(KUBELET), Path::new("/dev/zero")), Vantage::Host);
    }

    #[test]
    fn prove_decides_by_the_table() {
        let (a, b) = (from_openssl(CA_A_OPENSSL), from_openssl(CA_B_OPENSSL));
        let bundle = format!("{CA_B}{CA_A}");
        use VantageProof::{NotAPod, OtherCluster, Proven, Unproven};
        let table: &[(Vantage, Option<&str>, &[CaFingerprint], VantageProof)] = &[
            // Not a pod: nothing else matters.
            (Vantage::Host, None, &[], NotAPod),
            (Vantage::Host, Some(CA_A), &[a], NotAPod),
            (Vantage::Host, Some("garbage"), &[a], NotAPod),
            // A pod of the cluster.
            (Vantage::Pod, Some(CA_A), &[a], Proven),
            (Vantage::Pod, Some(CA_A), &[b, a], Proven),
            (Vantage::Pod, Some(&bundle), &[a], Proven),
            (Vantage::Pod, Some(&bundle), &[b], Proven),
            // A pod of another cluster (a CI runner's).
            (Vantage::Pod, Some(CA_B), &[a], OtherCluster),
            (Vantage::Pod, Some(CA_A), &[b], OtherCluster),
            // A pod, unproven: no CA of the cluster, or no readable ca.crt.
            (Vantage::Pod, Some(CA_A), &[], Unproven),
            (Vantage::Pod, None, &[a], Unproven),
            (Vantage::Pod, None, &[], Unproven),
            (Vantage::Pod, Some(""), &[a], Unproven),
            (Vantage::Pod, Some("not a certificate"), &[a], Unproven),
            (Vantage::Pod, Some(&CA_A.replace("MIIB", "MII*")), &[a], Unproven),
        ];
        for (i, &(detected, ca, cluster_cas, expected)) in table.iter().enumerate() {
            let proof = prove(detected, ca, cluster_cas);
            assert_eq!(proof, expected, "row {i}");
            assert_eq!(proof.vantage(), if expected == Proven { Vantage::Pod } else { Vantage::Host }, "row {i}");
        }
    }

    #[test]
    fn an_unproven_pod_warns_how_to_state_the_vantage() {
        for proof in [VantageProof::OtherCluster, VantageProof::Unproven] {
            let warning = proof.warning().unwrap(); // ok: test
            assert_eq!(warning.kind(), WarningKind::VantageUnproven);
            assert_eq!(Some(warning.message()), proof.message());
            assert!(warning.message().ends_with("state --vantage pod if this pod is in the cluster"), "{warning}");
            assert!(warning.message().contains("treated as a host's"), "{warning}");
            assert!(!warning.message().contains("EgressResolverBuilder"), "the library's name is for its docs");
        }
        assert_eq!(VantageProof::Proven.warning(), None);
        assert_eq!(VantageProof::NotAPod.message(), None);
    }

    #[test]
    fn proof_names_round_trip() {
        for &proof in VantageProof::ALL {
            assert_eq!(proof.as_str().parse::<VantageProof>(), Ok(proof));
            assert_eq!(serde_json::to_value(proof).unwrap(), proof.as_str()); // ok: test
            assert_eq!(serde_json::from_value::<VantageProof>(proof.as_str().into()).unwrap(), proof); // ok: test
        }
        assert_eq!(VantageProof::OtherCluster.to_string(), "other-cluster");
    }

    #[test]
    fn the_service_account_ca_is_read_capped_and_only_from_a_regular_file() {
        let file = TempFile::with("ca", Some(CA_A));
        assert_eq!(service_account_ca(&file.0).as_deref(), Some(CA_A));
        let missing = TempFile::with("no-ca", None);
        assert_eq!(service_account_ca(&missing.0), None);
        assert_eq!(service_account_ca(missing.0.parent().unwrap()), None, "a directory"); // ok: test
        let huge = TempFile::with("huge-ca", Some(&CA_A.repeat((2 << 20) / CA_A.len())));
        assert_eq!(service_account_ca(&huge.0), None, "over 1 MiB");
        // On a host the real file is not read, and there is nothing to prove.
        assert!(Vantage::SERVICE_ACCOUNT_CA_FILE.ends_with("/serviceaccount/ca.crt"));
        if Vantage::detect() == Vantage::Host {
            assert_eq!(Vantage::detect_and_prove(&[from_openssl(CA_A_OPENSSL)]), VantageProof::NotAPod);
        }
    }
}
