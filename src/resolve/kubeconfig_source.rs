//! The kubeconfig as an egress source: its server's host is the cluster IP.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;

use super::direct::direct_resolver;
use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::cause::Cause;
use crate::kubeconfig::{ApiHost, ApiServer, Kubeconfig, KubeconfigError};

/// What a kubeconfig context says the egress IP is: its API server's host,
/// an IP literal taken as is, or a DNS name (`<id>.k8s.civo.com`) resolved
/// with hickory-resolver (the system's configuration, or a nameserver given
/// with [`nameserver`](Self::nameserver)).
///
/// ```
/// use civo_egress::kubeconfig::Kubeconfig;
/// use civo_egress::resolve::{EgressSource, KubeconfigSource};
/// let yaml = "clusters:\n- name: prod\n  cluster:\n    server: https://74.220.24.10:6443\n\
///             contexts:\n- name: prod\n  context:\n    cluster: prod\n";
/// let source = KubeconfigSource::new(&Kubeconfig::from_yaml(yaml)?, Some("prod"))?;
/// assert_eq!(source.name(), "kubeconfig:prod");
/// assert_eq!(source.server().url(), "https://74.220.24.10:6443/");
/// # Ok::<(), civo_egress::kubeconfig::KubeconfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KubeconfigSource {
    server: ApiServer,
    name: String,
    nameserver: Option<SocketAddr>,
    timeout: Duration,
    /// The context's cluster CA fingerprints: they prove a pod is the cluster's.
    cas: Vec<crate::CaFingerprint>,
}

impl KubeconfigSource {
    /// The source for `context` (or the current context) of `kubeconfig`.
    ///
    /// # Errors
    ///
    /// As [`Kubeconfig::server`].
    pub fn new(kubeconfig: &Kubeconfig, context: Option<&str>) -> Result<Self, KubeconfigError> {
        let server = kubeconfig.server(context)?;
        // A CA that cannot be read proves no pod is the cluster's: the
        // resolver then treats a pod as a host, and says why.
        let cas = kubeconfig.ca_fingerprints(context).unwrap_or_default();
        Ok(Self {
            name: format!("kubeconfig:{}", server.context()),
            server,
            nameserver: None,
            timeout: Duration::from_secs(3),
            cas,
        })
    }

    /// Resolves a DNS-name server with `nameserver` instead of the system's
    /// configuration.
    #[must_use]
    pub fn nameserver(mut self, nameserver: SocketAddr) -> Self {
        self.nameserver = Some(nameserver);
        self
    }

    /// The API server this source reads.
    #[must_use]
    pub const fn server(&self) -> &ApiServer {
        &self.server
    }

    fn resolver(&self) -> Result<TokioResolver, SourceError> {
        match self.nameserver {
            Some(server) => direct_resolver(server, self.timeout),
            None => TokioResolver::builder_tokio()
                .map_err(|e| {
                    SourceError::config(format!("cannot read the system's DNS configuration: {e}"))
                        .with_cause(Cause::new(e))
                })?
                .build()
                .map_err(|e| {
                    SourceError::config(format!("cannot build a DNS resolver: {e}")).with_cause(Cause::new(e))
                }),
        }
    }
}

#[async_trait]
impl EgressSource for KubeconfigSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Expected
    }

    /// The context's cluster CA fingerprints.
    fn cluster_cas(&self) -> Vec<crate::CaFingerprint> {
        self.cas.clone()
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let name = match self.server.host() {
            ApiHost::Ip(ip) => return Ok(vec![ip].into_iter().filter(|&ip| family.admits(ip)).collect()),
            ApiHost::Name(name) => name,
        };
        let lookup = self.resolver()?.lookup_ip(format!("{name}.")).await.map_err(|e| {
            let error = if e.is_nx_domain() || e.is_no_records_found() {
                SourceError::not_found(format!("{name} does not resolve"))
            } else {
                SourceError::unreachable(format!("resolving {name}: {e}"))
            };
            error.with_cause(Cause::new(e))
        })?;
        Ok(lookup.iter().map(|ip| ip.to_canonical()).filter(|&ip| family.admits(ip)).collect())
    }
}
