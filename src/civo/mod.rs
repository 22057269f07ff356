//! The Civo API: a client, the Civo CLI's configuration, and discovery of an
//! account's [`Topology`](crate::Topology). Feature `civo-api` (reqwest with
//! rustls and ring); needs a tokio runtime.
//!
//! # Discovering an account
//!
//! [`CivoClient`] reads the key the way the `civo` command does
//! ([`CivoConfig`]: `CIVO_TOKEN`, else `~/.civo.json` or the file
//! `CIVO_CONFIG` names), the region from `CIVO_REGION`, else the CLI config,
//! and the API URL from `CIVO_API_URL`, else the CLI config (those two
//! variables are the Civo Terraform provider's and the cloud controller
//! manager's, not the CLI's). [`CivoClient::discover`] builds the snapshot
//! of the clusters a [`Selection`] names: each cluster's egress IP
//! (`master_ip`), its public-IP node pools and their nodes, network, nodes,
//! LoadBalancers and the reserved IPs, in one region, several, or every
//! region offering Kubernetes ([`Selection::all_regions`]). What it could
//! not use or cannot vouch for is a [`Warning`](crate::Warning) with a
//! [`WarningKind`](crate::WarningKind), returned with the topology rather
//! than logged, and recorded on the cluster it is about
//! ([`Cluster::caveats`](crate::Cluster::caveats)); the clusters it had to
//! leave out are in [`Topology::left_out`](crate::Topology::left_out): a list the key may not read (HTTP 403),
//! a cluster deleted mid-discovery (HTTP 404), a pool whose nodes have no
//! public IP yet, a cluster not ready, what the model does not cover
//! (Talos, Cilium, VLANs, IPv6). An authentication failure (401), any other
//! error status after the retries, and the deadline still fail the call.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::civo::{CivoClient, Selection};
//! use civo_egress::WarningKind;
//!
//! let client = CivoClient::from_env()?; // CIVO_TOKEN, or the Civo CLI's ~/.civo.json
//! let discovery = client.discover(&Selection::all().cluster("prod")).await?;
//! for warning in discovery.warnings() {
//!     if warning.kind() == WarningKind::PublicIpNodePool {
//!         eprintln!("whitelist the node IPs too: {warning}");
//!     }
//! }
//! assert!(discovery.topology().cluster("prod").is_some());
//! print!("{}", civo_egress::Whitelist::of(discovery.topology())?);
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every call returns a [`CivoError`]. Branch on its predicates rather than
//! on messages; the error under it (io, HTTP, TLS, JSON) is its
//! [`source()`](std::error::Error::source). The API key never shows in an
//! error, its causes, or a `Debug` output.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::civo::{CivoClient, Selection};
//! let client = CivoClient::builder().api_key("my-key").region("LON1").build()?;
//! match client.discover(&Selection::all()).await {
//!     Ok(discovery) => assert!(discovery.warnings().len() < 1000),
//!     Err(e) if e.is_auth() => eprintln!("the key was refused: {e}"),
//!     Err(e) if e.is_timeout() || e.is_rate_limited() => eprintln!("try again later: {e}"),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
//!
//! The raw API bodies the client reads are in [`api`], with private fields
//! and accessors, for callers who need more than discovery gives.

mod assemble;
mod ca; // the CA fingerprint from the API's kubeconfig, which is never kept
mod client;
mod config;
mod discover;
mod error;
#[cfg(fuzzing)]
pub(crate) mod fuzz;
mod lenient;
mod models;
mod nodes;
mod notes;

pub use client::{CivoClient, CivoClientBuilder, DEFAULT_API_URL, DEFAULT_REGION};
pub use config::{ApiKey, CivoConfig};
pub use discover::{Discovery, Selection};
pub use error::CivoError;

/// The Civo API's bodies, as the client's list and get calls return them,
/// read leniently (`null` for an empty string or list, strings for
/// booleans, unknown fields ignored) and kept as sent: addresses are
/// unchecked text (a `master_ip` may be the placeholder
/// `"your.cluster.ip.address"`). [`CivoClient::discover`] checks them.
///
/// ```no_run
/// # async fn run() -> Result<(), civo_egress::civo::CivoError> {
/// use civo_egress::civo::CivoClient;
/// let client = CivoClient::from_env()?;
/// let cluster = client.find_cluster("prod").await?;
/// assert!(cluster.name().to_lowercase().contains("prod") || cluster.id().contains("prod"));
/// let public_pools = cluster.pools().iter().filter(|p| p.public_ip_node_pool()).count();
/// println!("{} has {public_pools} public-IP pool(s)", cluster.name());
/// # Ok(()) }
/// ```
pub mod api {
    pub use super::models::{
        ApiAssignment, ApiCluster, ApiCondition, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool, ApiRegion,
        ApiRegionFeatures, ApiReservedIp,
    };
}

#[cfg(test)]
mod tests;
