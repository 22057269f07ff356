//! The Civo API as an egress source: `master_ip` and the public-IP nodes.

use std::net::IpAddr;

use async_trait::async_trait;

use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::{CivoClient, CivoError, parse};

/// What the Civo API says a cluster's egress set is: its `master_ip`, and the
/// public IP of every node in a public-IP node pool. One list request (per
/// page of clusters).
#[derive(Debug, Clone)]
pub struct CivoSource {
    client: CivoClient,
    cluster: String,
}

impl CivoSource {
    /// The egress set of `cluster` (a name or id, found with the Civo CLI's
    /// rules).
    #[must_use]
    pub fn new(client: CivoClient, cluster: impl Into<String>) -> Self {
        Self { client, cluster: cluster.into() }
    }
}

#[async_trait]
impl EgressSource for CivoSource {
    fn name(&self) -> String {
        "civo-api".into()
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Expected
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let cluster = self.client.find_cluster(&self.cluster).await.map_err(|e| match e {
            CivoError::Timeout { after } => SourceError::Timeout(after),
            e @ (CivoError::Connect { .. } | CivoError::TooLarge { .. }) => SourceError::Unreachable(e.to_string()),
            e if e.status().is_some_and(|s| s >= 500) => SourceError::ServerFailure(e.to_string()),
            e => SourceError::Config(e.to_string()),
        })?;
        let master = parse::ip("master_ip", &cluster.master_ip).map_err(|e| SourceError::BadAnswer(e.to_string()))?;
        let mut ips = vec![master];
        let public_nodes = cluster.pools.iter().filter(|p| p.public_ip_node_pool).flat_map(|p| &p.instances);
        for ip in public_nodes.filter_map(|i| parse::ip("public_ip", &i.public_ip).ok()) {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        Ok(ips.into_iter().filter(|&ip| family.admits(ip)).collect())
    }
}
