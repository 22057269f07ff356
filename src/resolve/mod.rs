//! Resolving a cluster's egress IP from several sources, cross-checked.
//! Feature `resolve` (implied by `civo-api`, `kubeconfig`, `dns` and
//! `http-probe`, which add their sources); needs a tokio runtime with the
//! `time` driver.
//!
//! # Expected and observed
//!
//! An [`EgressResolver`] (or [`resolve_egress`]) asks
//! every [`EgressSource`] at once: *expected* ones say what the topology
//! claims ([`CivoSource`], [`KubeconfigSource`], [`TopologySource`],
//! [`StaticSource`] for `CIVO_EGRESS_IP`), *observed* ones see where the
//! connection really comes from ([`HttpEchoSource`], [`DnsEchoSource`]). It
//! hears every source out (each under its own timeout, all under the
//! deadline: the same answers give the same verdict in any order) and
//! returns an [`EgressReport`]: the crate's one verdict per address family
//! ([`EgressStatus`], [`FamilyVerdict`](crate::FamilyVerdict)), the
//! evidence of every source, and the
//! crate's one [`Warning`](crate::Warning) type for its caveats (a
//! [`WarningKind`](crate::WarningKind) to branch on, the cluster, the source
//! when one is concerned, a sentence).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::Allowlist;
//! use civo_egress::civo::CivoClient;
//! use civo_egress::resolve::{CivoSource, DnsEchoSource, EgressResolver, EgressStatus, HttpEchoSource};
//!
//! let report = EgressResolver::builder()
//!     .cluster("prod")
//!     .source(CivoSource::new(CivoClient::from_env()?, "prod"))
//!     .sources(HttpEchoSource::defaults())
//!     .sources(DnsEchoSource::defaults())
//!     .build()?
//!     .resolve()
//!     .await;
//! if report.status() == EgressStatus::Mismatch {
//!     // One pod sees only its own node: allow the new address, and drop an
//!     // old one only once `civo-egress probe` lists it among its stale IPs.
//!     eprintln!("pods leave from an address the whitelist lacks: allow all of {:?}", report.egress_ips());
//! }
//! let partner: Allowlist = std::fs::read_to_string("partner-allowlist.txt")?.parse()?;
//! let ip = report.verify_allowlisted(&partner)?; // an error a person can act on
//! assert!(partner.allows(ip));
//! # Ok(()) }
//! ```
//!
//! # Vantage: where the observations are made
//!
//! An echo service sees the address of whoever calls it. Inside a pod of the
//! cluster that is the cluster's egress IP; on a laptop, a CI runner or a
//! bastion it is *that host's* IP, and holding it against the expected set
//! would report a `mismatch` and tell you to whitelist the laptop. So every
//! observation carries its [`Vantage`]: [`Vantage::Pod`] keeps the rules
//! above; from a [`Vantage::Host`] the observations never produce a
//! `mismatch`, never enter [`EgressReport::egress_ips`], and the report is
//! `expected` (`conflict` when expected sources disagree, `unknown` when
//! nothing is expected) with a
//! [`WarningKind::HostVantage`](crate::WarningKind::HostVantage) warning naming this host's IP
//! ([`EgressReport::host_observed`]) and how to observe from inside: run in a
//! pod, or `civo-egress probe`.
//!
//! The resolver detects the vantage ([`Vantage::detect_and_prove`]): the
//! kubelet's `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`
//! variables and the service-account files say "a pod", and its `ca.crt`
//! must be one of the cluster's CAs ([`CaFingerprint`](crate::CaFingerprint):
//! given to [`EgressResolverBuilder::cluster_cas`], or known to a source:
//! a snapshot's `ca_fingerprint`, the Civo API's, the kubeconfig's) for the
//! pod to count as the cluster's; a pod of another cluster (a CI runner) or
//! one nothing proves observes as a host, with a
//! [`VantageUnproven`](crate::WarningKind::VantageUnproven) warning. State
//! it with [`EgressResolverBuilder::vantage`] where you know better (a
//! service's own pod, a pod without a mounted token, a lab). A startup check
//! ([`EgressReport::verify_allowlisted`], `examples/startup_check.rs`) runs
//! inside the service's pod and states its vantage or names its cluster's
//! CA; run on a host, it refuses ([`EgressCheckError::HostVantage`]).
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::resolve::{EgressResolver, EgressStatus, EvidenceKind, StaticSource, Vantage};
//! let report = EgressResolver::builder()
//!     .source(StaticSource::new("whitelist", EvidenceKind::Expected, ["212.2.253.151".parse()?]))
//!     .source(StaticSource::new("laptop-echo", EvidenceKind::Observed, ["198.51.100.7".parse()?]))
//!     .quorum(1)
//!     .vantage(Vantage::Host)
//!     .build()?
//!     .resolve()
//!     .await;
//! assert_eq!(report.status(), EgressStatus::Expected, "not a mismatch");
//! assert_eq!(report.egress_ips(), ["212.2.253.151".parse::<std::net::IpAddr>()?]);
//! assert_eq!(report.observed(), None);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Your own source
//!
//! [`EgressSource`] is an object-safe async trait, written with
//! [`async_trait`](macro@async_trait), re-exported here: implement it with
//! `#[civo_egress::resolve::async_trait]` and the versions always match.
//!
//! # Labs and tests: the one opt-in
//!
//! In production an echo service that answers a documentation, private or
//! CGNAT address (192.0.2.1, 10.0.0.7, 100.64.0.1...) is a proxy, a NAT or an
//! interception, not the egress: the resolver rejects such answers
//! ([`SourceError::NonGlobal`]), and when every answer is rejected the report
//! says so ([`WarningKind::AllRejected`](crate::WarningKind::AllRejected), [`EgressReport::rejected`])
//! and [`EgressReport::verify_allowlisted`] fails with
//! [`EgressCheckError::AllRejected`], naming each address and what it is.
//!
//! A lab that runs its own echo service on such addresses opts in with one
//! value, the core's [`AddressPolicy`](crate::AddressPolicy), set the same
//! way everywhere it matters: [`EgressResolverBuilder::addresses`] (accept
//! non-global observed answers) and [`HttpEchoSourceBuilder::addresses`]
//! (allow plain `http://` to a non-global IP literal), and the probe's
//! builder. (A topology's own addresses are checked by
//! [`Validation`](crate::Validation), which also says how strictly a
//! snapshot is read.)
//!
//! ```
//! use civo_egress::AddressPolicy;
//! use civo_egress::resolve::{EgressResolver, HttpEchoSource};
//! let lab = AddressPolicy::AllowNonGlobal;
//! let resolver = EgressResolver::builder()
//!     .source(HttpEchoSource::builder("http://198.51.100.80/").addresses(lab).build()?)
//!     .quorum(1)
//!     .addresses(lab)
//!     .build()?;
//! assert_eq!(format!("{resolver:?}").contains("198.51.100.80"), true);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors and warnings
//!
//! [`ResolveError`] is a configuration that cannot work; [`SourceError`]
//! is one source's failure, with predicates ([`SourceError::is_timeout`],
//! [`SourceError::is_rejected`]...) and the io, HTTP or DNS error underneath
//! as its [`source()`](std::error::Error::source); [`EgressCheckError`] is
//! the startup check's verdict. Warnings and all the kind enums have stable
//! names (`as_str`, `Display`, `FromStr`; a bad name is a
//! [`ParseNameError`](crate::ParseNameError)).

#[cfg(feature = "civo-api")]
mod civo_source;
#[cfg(any(feature = "dns", feature = "kubeconfig"))]
mod direct;
#[cfg(feature = "dns")]
mod dns_echo;
pub(crate) mod echo; // the echo rules: URLs, bodies, the global check (pure)
mod evidence;
#[cfg(feature = "http-probe")]
mod http_echo;
#[cfg(feature = "kubeconfig")]
mod kubeconfig_source;
mod report;
mod resolver;
mod source;
mod vantage;

pub use async_trait::async_trait;

// Which of these a build uses depends on the features.
pub use crate::verdict::EgressStatus;
#[cfg(feature = "civo-api")]
pub use civo_source::CivoSource;
#[cfg(all(fuzzing, feature = "dns"))]
pub(crate) use dns_echo::echo_addresses as dns_echo_addresses;
#[cfg(feature = "dns")]
pub use dns_echo::{DnsEchoSource, DnsEchoStyle, GOOGLE_SERVER, OPENDNS_SERVER};
#[cfg(any(feature = "http-probe", feature = "probe"))]
pub use echo::DEFAULT_ECHO_URLS;
pub use evidence::{Evidence, EvidenceKind, IpFamily, SourceError};
#[cfg(feature = "http-probe")]
pub use http_echo::{HttpEchoSource, HttpEchoSourceBuilder};
#[cfg(feature = "kubeconfig")]
pub use kubeconfig_source::KubeconfigSource;
pub use report::{EgressCheckError, EgressReport};
pub use resolver::{EgressResolver, EgressResolverBuilder, ResolveError, resolve_egress};
pub use source::{EgressSource, StaticSource, TopologySource};
#[cfg(feature = "watch")]
pub(crate) use vantage::detect_with_ca;
pub use vantage::{Vantage, VantageProof, prove};

#[cfg(test)]
mod tests;
