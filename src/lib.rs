//! Which IP will your Civo Kubernetes cluster call a partner from?
//!
//! On Civo Kubernetes (K3s) worker nodes have no public IP: every pod leaves
//! the cluster through one public IP, the one the Civo API calls `master_ip`
//! (the *egress IP*). A partner who filters by source IP must whitelist that
//! IP, plus the public IP of every node in a public-IP node pool, and never
//! pod IPs, node IPs, LoadBalancer IPs or reserved IPs.
//!
//! `civo-egress` models that topology with types and answers two questions:
//!
//! - **What is this address?** [`classify_ip`]: egress (whitelist it), or a
//!   LoadBalancer, reserved, node, node-network, pod, service,
//!   special-purpose, private or unknown public address (and why not).
//! - **What must a partner allow?** [`Topology::whitelist`], and
//!   [`audit`] to check an existing allowlist against the topology.
//!
//! # A tour
//!
//! A [`Topology`] is read from the snapshot JSON (the format is below) or
//! built with [`Cluster::builder`]:
//!
//! ```
//! use civo_egress::{classify_ip, IpClass, Topology};
//!
//! let topology = Topology::from_json(r#"{
//!   "clusters": [{
//!     "name": "prod",
//!     "egress_ip": "212.2.253.151",
//!     "network_cidr": "192.168.1.0/24",
//!     "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}],
//!     "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]
//!   }]
//! }"#)?;
//!
//! let answer = classify_ip(&topology, "212.2.253.151".parse()?);
//! assert_eq!(answer.class(), IpClass::Egress);
//! assert!(answer.is_whitelistable());
//!
//! for ip in ["10.42.0.7", "10.43.0.10", "192.168.1.4", "212.2.251.1", "127.0.0.1"] {
//!     let answer = topology.classify_ip(ip.parse()?);
//!     assert!(!answer.is_whitelistable(), "{answer}");
//! }
//! assert_eq!(topology.classify_ip("10.42.0.7".parse()?).class(), IpClass::Pod);
//!
//! // What the partner should allow:
//! assert_eq!(topology.whitelist().to_string(), "212.2.253.151/32\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Auditing what a partner actually allows:
//!
//! ```
//! # use civo_egress::Topology;
//! use civo_egress::{audit, Allowlist};
//! # let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
//! #   "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]}]}"#)?;
//! let allowlist: Allowlist = "212.2.251.1  # someone whitelisted the ingress\n".parse()?;
//! let report = audit(&topology, &allowlist);
//! assert!(!report.is_ok());
//! for finding in report.findings() {
//!     println!("{finding}"); // load-balancer, then missing-egress 212.2.253.151/32
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! And noticing that the gateway node was replaced, by comparing snapshots
//! with [`diff`].
//!
//! # From the Civo API
//!
//! With the `civo-api` feature (and tokio), [`civo::CivoClient::discover`]
//! builds the snapshot from an account: each cluster's egress IP
//! (`master_ip`), its public-IP-pool nodes, network, nodes, LoadBalancers and
//! reserved IPs. See the [`civo`] module.
//!
//! ```no_run
//! # #[cfg(feature = "civo-api")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::civo::{CivoClient, Selection};
//! let client = CivoClient::from_env()?; // CIVO_TOKEN, or the Civo CLI's ~/.civo.json
//! let discovery = client.discover(&Selection::all()).await?;
//! for warning in discovery.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! print!("{}", discovery.topology().whitelist());
//! # Ok(()) }
//! ```
//!
//! # Observing the egress IP
//!
//! [`resolve::EgressResolver`] (or [`resolve_egress`]) asks every
//! [`resolve::EgressSource`] at once: *expected* ones (the Civo API, a
//! kubeconfig, a snapshot, `CIVO_EGRESS_IP`) and *observed* ones (HTTP and DNS
//! echo services, which see where the connection really comes from). It
//! returns as soon as the outcome is decided (a quorum of observers agrees on
//! an address that no other can still tie), or at its deadline, with a
//! status: `confirmed`, `expected`, `observed`, `mismatch` (the gateway node
//! was probably replaced) or `unknown`. A service checks at startup that its
//! partner still allows it (see the [`resolve`] module, and
//! [`kubeconfig`] for the kubeconfig as a source):
//!
//! ```no_run
//! # #[cfg(all(feature = "civo-api", feature = "dns", feature = "http-probe"))]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::Allowlist;
//! use civo_egress::civo::CivoClient;
//! use civo_egress::resolve::{CivoSource, DnsEchoSource, EgressResolver, HttpEchoSource};
//! let report = EgressResolver::builder()
//!     .cluster("prod")
//!     .source(CivoSource::new(CivoClient::from_env()?, "prod"))
//!     .sources(HttpEchoSource::defaults())
//!     .sources(DnsEchoSource::defaults())
//!     .build()?
//!     .resolve()
//!     .await;
//! let partner: Allowlist = std::fs::read_to_string("partner-allowlist.txt")?.parse()?;
//! let ip = report.verify_allowlisted(&partner)?; // an error a person can act on
//! println!("{}: leaving from {ip}", report.status());
//! # Ok(()) }
//! ```
//!
//! # Classes and precedence
//!
//! When an address is several things, the first [`IpClass`] wins: egress >
//! load-balancer > reserved > node > node-network > pod > service > special >
//! private > public. The topology's own membership beats the IANA tables (a
//! lab may use 203.0.113.0/24). IPv4-mapped IPv6 addresses classify as their
//! IPv4 address. Every K3s cluster shares 10.42.0.0/16 and 10.43.0.0/16, so a
//! pod or service address names every cluster that matches.
//!
//! # The snapshot format
//!
//! ```json
//! {
//!   "clusters": [{
//!     "name": "prod", "id": "5e0c6a3e-…", "region": "LON1",
//!     "egress_ip": "74.220.24.10",
//!     "network_cidr": "192.168.10.0/24",
//!     "pod_cidr": "10.42.0.0/16", "service_cidr": "10.43.0.0/16",
//!     "nodes": [{"name": "gw", "private_ip": "192.168.10.3", "public_ip": "74.220.24.10"},
//!               {"name": "w-1", "private_ip": "192.168.10.4"}],
//!     "load_balancers": [{"name": "prod-ingress", "public_ip": "74.220.25.1", "private_ip": "192.168.10.2"}]
//!   }],
//!   "load_balancers": [],
//!   "reserved_ips": [{"name": "spare", "ip": "74.220.27.5",
//!                     "assigned_to": {"type": "loadbalancer", "name": "prod-api"}}]
//! }
//! ```
//!
//! Only a cluster's `name` and `egress_ip` are required. CIDR fields take one
//! CIDR or a list (dual stack); `pod_cidr` and `service_cidr` default to
//! K3s's [`K3S_POD_CIDR`] and [`K3S_SERVICE_CIDR`]. A node with a
//! `public_ip` egresses from it. Unknown fields are ignored. Validation
//! rejects, naming the field and the value: unparsable addresses and CIDRs
//! (placeholders such as `"your.cluster.ip.address"` included), CIDRs with
//! host bits, networks that cover everything (`0.0.0.0/0`), duplicate cluster
//! names, and egress IPs that are not global unicast unless
//! [`Validation::allow_non_global`] says otherwise.
//!
//! # Optional features
//!
//! The network layers are additive features, all on by default, each a
//! public module. They need a tokio runtime.
//!
//! - `civo-api`: the [`civo`] module: [`civo::CivoClient`] and
//!   [`civo::CivoClient::discover`], and [`resolve::CivoSource`] (reqwest
//!   with rustls and the ring provider, the system's CA roots).
//! - `kubeconfig`: the [`kubeconfig`] module, and [`resolve::KubeconfigSource`]
//!   (serde-saphyr; hickory-resolver for DNS-name servers).
//! - `dns`: [`resolve::DnsEchoSource`] (hickory-resolver).
//! - `http-probe`: [`resolve::HttpEchoSource`] (reqwest with rustls and ring).
//! - `resolve`: the [`resolve`] module ([`resolve::EgressResolver`],
//!   [`resolve::EgressSource`], [`resolve::StaticSource`],
//!   [`resolve::TopologySource`]) and [`resolve_egress`] at the root; implied
//!   by each of the above.
//!
//! A feature whose name starts with `__` (`__http`) is internal, not part of
//! the API: enable the features above instead.
//!
//! With `default-features = false` the crate is the pure core (topology,
//! classify, whitelist, audit, diff), with no tokio, reqwest or hickory in the
//! dependency tree.
//!
//! # Re-exports
//!
//! Foreign crates whose items appear in the network API are re-exported so
//! that your code uses the versions the crate uses:
//! [`resolve::async_trait`](macro@resolve::async_trait), to implement
//! [`resolve::EgressSource`]. No other foreign type appears in a network
//! signature (URLs are `&str`, errors keep their foreign causes behind
//! [`std::error::Error::source`] only).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod allowlist;
mod audit;
#[cfg(feature = "civo-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "civo-api")))]
pub mod civo;
mod classify;
mod cluster;
mod diff;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "__http")]
mod http;
mod index;
#[cfg(feature = "kubeconfig")]
#[cfg_attr(docsrs, doc(cfg(feature = "kubeconfig")))]
pub mod kubeconfig;
mod node;
mod parse;
mod reason;
#[cfg(feature = "resolve")]
#[cfg_attr(docsrs, doc(cfg(feature = "resolve")))]
pub mod resolve;
mod snapshot;
mod special;
mod topology;
mod validation;
mod whitelist;

pub use allowlist::{Allowlist, AllowlistEntry};
pub use audit::{AuditReport, Finding, FindingKind, Severity, audit};
pub use classify::{Classification, IpClass, ParseIpClassError, classify_ip};
pub use cluster::{
    Cluster, ClusterBuilder, K3S_CLUSTER_DNS, K3S_POD_CIDR, K3S_POD_CIDR_V6, K3S_SERVICE_CIDR, K3S_SERVICE_CIDR_V6,
};
pub use diff::{Change, TopologyDiff, diff};
pub use error::{AllowlistError, TopologyError};
pub use node::{Assignment, AssignmentKind, LoadBalancer, Node, ReservedIp};
#[cfg(feature = "resolve")]
pub use resolve::resolve_egress;
pub use topology::Topology;
pub use validation::Validation;
pub use whitelist::{Whitelist, WhitelistEntry};
