//! The Civo API as an egress source: `master_ip` and the public-IP nodes.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::Warning;
use crate::civo::{CivoClient, CivoError, Selection};

/// What the Civo API says a cluster's egress set is: its `master_ip`, and the
/// public IP of every node that has one, found by [`CivoClient::discover`]
/// for that cluster alone (its lists, then its nodes, concurrently).
/// Discovery's warnings (the cluster not ready, its pool nodes without an
/// IP yet, a VLAN...) are the source's [`warnings`](EgressSource::warnings).
///
/// ```
/// use civo_egress::civo::CivoClient;
/// use civo_egress::resolve::{CivoSource, EgressSource, EvidenceKind};
/// let client = CivoClient::builder().api_key("my-key").build()?; // makes no connection
/// let source = CivoSource::new(client, "prod");
/// assert_eq!((source.name(), source.kind()), ("civo-api", EvidenceKind::Expected));
/// # Ok::<(), civo_egress::civo::CivoError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CivoSource {
    client: CivoClient,
    cluster: String,
    /// The last discovery's warnings.
    noticed: Arc<Mutex<Vec<Warning>>>,
    /// The cluster's CA fingerprint, from the last discovery.
    ca: Arc<Mutex<Option<crate::CaFingerprint>>>,
}

impl CivoSource {
    /// The egress set of `cluster` (a name or id, found with the Civo CLI's
    /// rules).
    #[must_use]
    pub fn new(client: CivoClient, cluster: impl Into<String>) -> Self {
        Self { client, cluster: cluster.into(), noticed: Arc::default(), ca: Arc::default() }
    }
}

#[async_trait]
impl EgressSource for CivoSource {
    fn name(&self) -> &str {
        "civo-api"
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Expected
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        // Discovery's own rules decide the egress set, so a resolver and a
        // discovered snapshot can never disagree about it.
        let selection = Selection::all().cluster(&self.cluster);
        let discovery = self.client.discover(&selection).await.map_err(|e| {
            let message = e.to_string();
            let error = match &e {
                CivoError::Timeout { after, .. } => return SourceError::Timeout(*after),
                CivoError::Connect { .. } | CivoError::TooLarge { .. } => SourceError::unreachable(message),
                e if e.status().is_some_and(|s| s >= 500) => SourceError::server_failure(message),
                _ => SourceError::config(message),
            };
            // The Civo error is the cause, with its own chain below it.
            error.with_source(e)
        })?;
        *self.noticed.lock().unwrap_or_else(PoisonError::into_inner) = discovery.warnings().to_vec();
        if let Some((_, left)) = discovery.unmet().first() {
            return Err(SourceError::BadAnswer(format!("no usable egress IP: {left}")));
        }
        if let [first, _, ..] = discovery.topology().clusters() {
            return Err(SourceError::config(format!(
                "{:?} names several clusters ({}...): name it by its id",
                self.cluster,
                first.label()
            )));
        }
        let Some(cluster) = discovery.topology().clusters().first() else {
            let why: Vec<String> = discovery.warnings().iter().map(ToString::to_string).collect();
            return Err(SourceError::BadAnswer(format!("no usable egress IP: {}", why.join("; "))));
        };
        *self.ca.lock().unwrap_or_else(PoisonError::into_inner) = cluster.ca_fingerprint();
        Ok(cluster.egress_ips().into_iter().filter(|&ip| family.admits(ip)).collect())
    }

    fn warnings(&self) -> Vec<Warning> {
        self.noticed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The cluster's CA fingerprint, from the kubeconfig the Civo API holds.
    fn cluster_cas(&self) -> Vec<crate::CaFingerprint> {
        self.ca.lock().unwrap_or_else(PoisonError::into_inner).into_iter().collect()
    }
}
