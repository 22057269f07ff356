//! Resolving a cluster's egress IP from several sources, cross-checked.

#[cfg(feature = "civo-api")]
mod civo_source;
#[cfg(any(feature = "dns", feature = "kubeconfig"))]
mod direct;
#[cfg(feature = "dns")]
mod dns_echo;
mod evidence;
#[cfg(feature = "http-probe")]
mod http_echo;
#[cfg(feature = "kubeconfig")]
mod kubeconfig_source;
mod report;
mod resolver;
mod source;

#[cfg(feature = "civo-api")]
pub use civo_source::CivoSource;
#[cfg(feature = "dns")]
pub use dns_echo::{DnsEchoSource, DnsEchoStyle, GOOGLE_SERVER, OPENDNS_SERVER};
pub use evidence::{Evidence, EvidenceKind, IpFamily, SourceError};
#[cfg(all(fuzzing, feature = "http-probe"))]
pub(crate) use http_echo::parse_echo;
#[cfg(feature = "http-probe")]
pub use http_echo::{DEFAULT_ECHO_URLS, HttpEchoSource};
#[cfg(feature = "kubeconfig")]
pub use kubeconfig_source::KubeconfigSource;
pub use report::{EgressCheckError, EgressReport, EgressStatus};
pub use resolver::{EgressResolver, EgressResolverBuilder, ResolveError, resolve_egress};
pub use source::{EgressSource, StaticSource, TopologySource};
