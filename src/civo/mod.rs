//! The Civo API: a client, its lenient models, the Civo CLI's configuration,
//! and discovery of an account's [`Topology`](crate::Topology).

mod client;
mod config;
mod discover;
mod error;
mod lenient;
mod models;

pub use client::{CivoClient, CivoClientBuilder, DEFAULT_API_URL, DEFAULT_REGION};
pub use config::{ApiKey, CivoConfig};
pub use discover::{Discovery, DiscoveryWarning, Selection, WarningKind};
pub use error::CivoError;
pub use models::{
    ApiAssignment, ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiPool, ApiRegion, ApiRegionFeatures,
    ApiReservedIp,
};

#[cfg(test)]
mod tests;
