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
//! - **What must a partner allow?** [`Whitelist::of`], and [`Audit`] to
//!   check an existing allowlist against the topology. The answer depends
//!   on the destination ([`Whitelist::builder`], [`AuditBuilder::destination`]): a partner
//!   on the internet sees the egress IPs, a Civo database or instance on the
//!   cluster's own private network sees each node's private IP.
//!
//! # A tour
//!
//! A [`Topology`] is read from the snapshot JSON (the format is below) or
//! built with [`Cluster::builder`]:
//!
//! ```
//! use civo_egress::{classify_ip, IpClass, Topology, Whitelist};
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
//! assert_eq!(Whitelist::of(&topology)?.to_string(), "212.2.253.151/32\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Auditing what a partner actually allows:
//!
//! ```
//! # use civo_egress::Topology;
//! use civo_egress::{Allowlist, Audit};
//! # let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
//! #   "load_balancers": [{"name": "ingress", "public_ip": "212.2.251.1"}]}]}"#)?;
//! use civo_egress::{FindingKind, IpClass};
//! let allowlist: Allowlist = "212.2.251.1  # someone whitelisted the ingress\n".parse()?;
//! // For every cluster (`.cluster("prod")` audits one), for a partner on the internet:
//! let report = Audit::builder(&topology).build()?.run(&allowlist);
//! assert!(!report.is_ok());
//! let kinds: Vec<FindingKind> = report.findings().iter().map(|f| f.kind()).collect();
//! assert_eq!(kinds, [FindingKind::Covers(IpClass::LoadBalancer), FindingKind::MissingEgress]);
//! for finding in report.findings() {
//!     println!("{finding}"); // what is wrong with each entry, and what to do
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Public-IP pools and destinations
//!
//! Nodes of a public-IP node pool ([`PublicIpPool`]) each egress from their
//! own public IP, so the egress set grows with the pool, and while some of
//! its nodes have no IP yet it is incomplete. The whitelist says so with
//! typed [`Warning`]s (never in its binding JSON, which stays an
//! array of `{cidr, clusters, reason}`), [`Audit::run`] with an
//! `incomplete-egress` finding, and [`classify_ip`] in its reasons (an
//! unknown public address may then be a new node's IP).
//!
//! ```
//! use civo_egress::{Topology, Whitelist, WarningKind};
//! let topology = Topology::from_json(r#"{"clusters": [{
//!   "name": "prod", "egress_ip": "212.2.253.151", "network_cidr": "192.168.1.0/24",
//!   "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}],
//!   "public_ip_pools": [{"id": "edge", "pending": 1}]}]}"#)?;
//! let partner = Whitelist::of(&topology)?;
//! assert!(!partner.is_complete());
//! assert!(partner.warnings().iter().any(|w| w.kind() == WarningKind::Incomplete));
//! // A managed database on the cluster's network sees the node's private IP.
//! let database = Whitelist::builder(&topology).destination("192.168.1.50".parse::<std::net::IpAddr>()?).build()?;
//! assert_eq!(database.to_string(), "192.168.1.4/32\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! And noticing that the gateway node was replaced, by comparing snapshots
//! with [`diff`]:
//!
//! ```
//! use civo_egress::{diff, Change, Topology};
//! let monday = Topology::from_json(r#"{"clusters": [{"name": "prod", "id": "5e0c", "egress_ip": "212.2.253.151"}]}"#)?;
//! let friday = Topology::from_json(r#"{"clusters": [{"name": "prod", "id": "5e0c", "egress_ip": "212.2.253.160"}]}"#)?;
//! let changes = diff(&monday, &friday);
//! assert!(changes.has_egress_drift());
//! assert!(matches!(&changes.changes()[0], Change::EgressChanged { new, .. } if new.to_string() == "212.2.253.160"));
//! # Ok::<(), civo_egress::TopologyError>(())
//! ```
//!
//! `IpNet` in the signatures is [`ipnet::IpNet`], re-exported as
//! [`civo_egress::ipnet`](ipnet) so that callers need not depend on the same
//! version themselves.
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
//! print!("{}", civo_egress::Whitelist::of(discovery.topology())?);
//! # Ok(()) }
//! ```
//!
//! # Observing the egress IP
//!
//! [`resolve::EgressResolver`] (or [`resolve_egress`]) asks every
//! [`resolve::EgressSource`] at once: *expected* ones (the Civo API, a
//! kubeconfig, a snapshot, `CIVO_EGRESS_IP`) and *observed* ones (HTTP and DNS
//! echo services, which see where the connection really comes from). It
//! hears every source out (each under its timeout, all under a deadline)
//! and hands the answers to the crate's one verdict, the same for `probe`:
//! per address family, an [`EgressStatus`] of `confirmed`, `expected`,
//! `observed` (the three that pass), `mismatch` (pods leave from an address
//! the whitelist lacks), `conflict` (expected sources disagree),
//! `unverified` (inside the cluster, the observers verified nothing),
//! `partial` (the probe could not probe a node) or `unknown`.
//!
//! An observation is evidence about the cluster only when it was made from
//! inside it. The resolver knows its [`resolve::Vantage`]: a pod (the
//! kubelet's `KUBERNETES_SERVICE_*` variables and service-account files)
//! counts only when its service-account CA is the cluster's
//! ([`CaFingerprint`], recorded by `discover` or read from the kubeconfig),
//! else stated (`--vantage pod`). From a host outside the cluster (a laptop,
//! a CI runner, a pod of another cluster) the echo services see that host's
//! IP, so its observations never make a `mismatch` and never enter
//! `egress_ips`; the report says `expected` and warns how to observe from
//! inside. A service's startup check runs inside its own pod (it states the
//! vantage, or names its cluster's CA) and checks that its partner still
//! allows it (see the [`resolve`] module, and [`kubeconfig`] for the
//! kubeconfig as a source):
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
//! # Keeping it under watch
//!
//! With the `watch` feature, a `watch::Watcher` refreshes the topology
//! (the Civo API, or a snapshot file) on an interval, checks named partner
//! allowlists, and tells what changed as typed events (`egress-changed`,
//! `allowlist-uncovered`, `refresh-failed`...); its state renders as
//! Prometheus metrics (`watch::Metrics`). A failed refresh keeps the last
//! known state: an IP is never reported removed for want of an answer. See
//! the `watch` module's docs for a runnable example.
//!
//! # Classes and precedence
//!
//! The IANA special-purpose registries are followed row by row, with their
//! "Globally Reachable" column: a globally reachable row (192.0.0.9,
//! AS112's 192.31.196.0/24, 64:ff9b::/96...) classifies as `public` and is
//! accepted as an egress IP; every other row is `special` (or `private` for
//! RFC 1918 and fc00::/7), as are multicast and the IPv6 space outside
//! 2000::/3. `tests/oracles.rs` checks the tables against Python's
//! `netaddr`.
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
//!   "format_version": 2,
//!   "selection": {"regions": ["LON1"]},
//!   "clusters": [{
//!     "name": "prod", "id": "5e0c6a3e-…", "region": "LON1",
//!     "egress_ip": "74.220.24.10",
//!     "network_cidr": "192.168.10.0/24",
//!     "network": {"id": "28244c7d-…", "name": "default"},
//!     "pod_cidr": "10.42.0.0/16", "service_cidr": "10.43.0.0/16",
//!     "nodes": [{"name": "gw", "private_ip": "192.168.10.3", "public_ip": "74.220.24.10"},
//!               {"name": "w-1", "private_ip": "192.168.10.4"}],
//!     "load_balancers": [{"name": "prod-ingress", "public_ip": "74.220.25.1", "private_ip": "192.168.10.2"}],
//!     "public_ip_pools": [{"id": "e7b2c1d0-…", "pending": 1}],
//!     "caveats": [{"kind": "public-ip-pending", "pool": "e7b2c1d0-…",
//!                  "message": "public-IP node pool e7b2c1d0-…: 1 node(s) without a public IP …"}],
//!     "ca_fingerprint": "sha256:7e8ed5c64b37eb24e09a77b7a71470297b8e4f2c9eaa290834dad87a4ac6d429"
//!   }],
//!   "load_balancers": [],
//!   "reserved_ips": [{"name": "spare", "ip": "74.220.27.5",
//!                     "assigned_to": {"type": "loadbalancer", "name": "prod-api"}}],
//!   "left_out": [{"name": "new", "id": "0d1e…", "region": "LON1", "kind": "no-egress-ip",
//!                 "reason": "status BUILDING and no master_ip yet"}]
//! }
//! ```
//!
//! Only a cluster's `name` and `egress_ip` are required. `egress_ip` and the
//! CIDR fields take one value or a list (dual stack: at most one egress IP
//! per address family); `pod_cidr` and `service_cidr` default to K3s's
//! [`K3S_POD_CIDR`] and [`K3S_SERVICE_CIDR`] (for Talos clusters, pass
//! [`TALOS_POD_CIDR`] and [`TALOS_SERVICE_CIDR`], upstream Talos's defaults).
//! A node with a `public_ip` egresses from it. `public_ip_pools` (optional,
//! omitted when empty) lists the cluster's public-IP node pools, each with
//! the number of its nodes still without a public IP (`pending`, default
//! 0). A `null` is the same as an absent field.
//!
//! What discovery knew travels with the snapshot, in optional fields that
//! older snapshots simply lack (they read unchanged):
//!
//! - `format_version` ([`FORMAT_VERSION`], 2 since `selection` and
//!   `ca_fingerprint`, written by [`Topology::to_json`]; absent means 1,
//!   read in full). A snapshot of a newer version is read
//!   with the fields this version does not know ignored and a
//!   `newer-format` warning; for the current version an unknown field stays
//!   an error, since a typo is not the future.
//! - `network` per cluster: its private network's identity ([`NetworkId`]).
//!   Two regions (or two networks of one region) may share a CIDR: a
//!   destination is matched to a network by identity, and a destination in
//!   the networks of several clusters is refused as ambiguous
//!   ([`TopologyError::AmbiguousDestination`]), never answered with both
//!   clusters' nodes.
//! - `caveats` per cluster: [`Warning`]s as `{"kind", "node"|"pool"|"network"?,
//!   "message"}` ([`Cluster::caveats`]): not ACTIVE, no gateway instance, an
//!   unmeasured CNI or distribution, a VLAN-connected network, IPv6 nodes,
//!   lists the key could not read, pool nodes without an IP yet. Every
//!   command that uses the cluster says them: the whitelist in its warnings
//!   and as `#` lines in every firewall file, the audit as findings,
//!   classify in its reasons. A cluster whose network could not be read
//!   (`networks-unknown`) gets no destination whitelist for a private
//!   address ([`TopologyError::NetworkUnknown`]).
//! - `ca_fingerprint` per cluster: the SHA-256 of its Kubernetes CA
//!   certificate ([`CaFingerprint`], `sha256:` and 64 lowercase hex
//!   digits; [`Cluster::ca_fingerprint`]), from the kubeconfig the Civo API
//!   holds for the cluster (read for its CA only: that kubeconfig, which
//!   carries admin credentials, is never kept). A pod is evidence about the
//!   cluster only when its service-account `ca.crt` has this fingerprint:
//!   the kubelet's variables and files are in every cluster's pods.
//! - `left_out` at the top level: the clusters discovery saw but could not
//!   describe ([`LeftOut`]), with the kind and the reason: a whitelist of the
//!   account is then incomplete.
//! - `selection` at the top level: what the snapshot covers ([`Coverage`],
//!   [`Topology::coverage`]), as `{"clusters": [...], "regions": [...]}`:
//!   the region codes discovery read (every Kubernetes region's for
//!   `--all-regions`; a region whose lists failed is not among them) and the
//!   clusters it was asked for, as asked (`--cluster`: a name, an id or
//!   `REGION/NAME`; absent or empty: every cluster). [`diff`] compares two
//!   snapshots on what both cover: a cluster outside the other's selection
//!   is not compared, never removed. Without it, a snapshot covers the
//!   regions of the clusters it holds or left out.
//!
//! Clusters are identified by their `id`, or `region` and `name`: names
//! repeat across regions, so [`Topology::select`] takes an id, `REGION/NAME`,
//! or a name only one cluster carries. Loading also returns what the
//! topology says of itself ([`Topology::warnings`]: a network that overlaps
//! its pod CIDR, a node outside its network, a LoadBalancer on an egress
//! IP...), as warnings, never as errors.
//!
//! Validation rejects, naming the field path and the value: unknown fields (a typo
//! such as `"networkCidr"` or `"cluster"`, with the known field it was
//! probably meant to be, unless [`Validation::allow_unknown_fields`]),
//! unparsable addresses and CIDRs (placeholders such as
//! `"your.cluster.ip.address"` included), CIDRs with host bits, networks
//! that cover everything (`0.0.0.0/0`), the same cluster twice (one id, or
//! one name in one region), caveats of unknown kinds, and egress
//! IPs that are not global unicast unless [`Validation::allow_non_global`]
//! says otherwise. [`Topology::to_json`] writes what [`Topology::from_json`]
//! reads back.
//!
//! ```
//! use civo_egress::{Topology, TopologyError};
//! let typo = r#"{"clusters": [{"name": "prod", "egress_ip": "74.220.24.10", "networkCidr": "192.168.10.0/24"}]}"#;
//! let error = Topology::from_json(typo).err();
//! assert!(matches!(&error, Some(TopologyError::UnknownField { suggestion: Some(s), .. }) if s == "network_cidr"));
//! assert_eq!(
//!     error.map(|e| e.to_string()).as_deref(),
//!     Some("clusters[0].networkCidr: unknown field (did you mean network_cidr?)")
//! );
//! ```
//!
//! # Where things are
//!
//! One concept per file, each depending only on the ones above it in this
//! list (the network layers, behind features, sit on top of all of them):
//!
//! | file | holds |
//! |---|---|
//! | `cause.rs` | the foreign error under one of ours, reached through `source()` (crate-internal) |
//! | `error.rs` | [`TopologyError`], [`AllowlistError`], [`ParseNameError`] |
//! | `names.rs` | the macro behind the enums' stable names (crate-internal) |
//! | `warning.rs` | [`Warning`], [`WarningKind`], [`Subject`]: the one shape of every layer's caveats |
//! | `class.rs` | [`IpClass`], the class names |
//! | `special.rs` | the IANA special-purpose tables, with each row's "Globally Reachable" value |
//! | `validation.rs` | [`Validation`] (how strictly a snapshot is read), [`AddressPolicy`] (which observed addresses count) |
//! | `parse.rs` | address and CIDR parsing with field paths (crate-internal) |
//! | `node.rs` | [`Node`], [`LoadBalancer`], [`ReservedIp`], [`Assignment`], [`AssignmentKind`], [`PublicIpPool`] |
//! | `cluster.rs` | [`Cluster`], [`ClusterBuilder`], [`NetworkId`], the K3s and Talos constants |
//! | `left_out.rs` | [`LeftOut`]: a cluster the snapshot leaves out, and why |
//! | `reason.rs` | the sentence behind each answer and warning (crate-internal) |
//! | `snapshot.rs` | the snapshot JSON of the resources: reading, unknown fields, format versions, writing |
//! | `consistency.rs` | what a topology says of itself: its contradictions, as warnings (crate-internal) |
//! | `index/` | the compiled lookup behind `classify_ip`: the parts' facts, the answers, the 16-8-8 IPv4 table, the IPv6 host buckets (crate-internal) |
//! | `classify.rs` | [`Classification`], [`OwnedClassification`], [`Reason`] |
//! | `topology.rs` | [`Topology`] (every method), [`classify_ip`], [`FORMAT_VERSION`] |
//! | `whitelist.rs` | [`Whitelist`], [`WhitelistBuilder`], [`WhitelistEntry`] |
//! | `render.rs` | [`WhitelistFormat`], [`Rendered`], [`Whitelist::render`]: the whitelist for nftables, iptables, Terraform |
//! | `allowlist.rs` | [`Allowlist`], [`AllowlistEntry`] |
//! | `audit/` | [`Audit`], [`AuditBuilder`], [`AuditReport`], [`AuditDisplay`], [`Finding`], [`FindingKind`], [`Severity`]: the finding, the report, the pure rules for one entry |
//! | `diff/` | [`diff`], [`TopologyDiff`], [`Change`], [`ChangeKind`]: who a cluster is across snapshots, what both cover, the changes of one cluster |
//! | `verdict/` | [`EgressStatus`], [`FamilyVerdict`], [`IpFamily`]: the one rule that weighs expected against observed evidence for `resolve` and `probe`, its table of cases |
//! | `fingerprint.rs` | [`CaFingerprint`]: which CA a cluster's certificates chain to |
//! | `local_file.rs` | [`read_local_file`]: every local file, read with a cap, FIFOs and devices refused |
//!
//! The network layers, each a public module behind its feature, use the
//! core and never each other but as listed:
//!
//! | file | holds |
//! |---|---|
//! | `http.rs` | the HTTP plumbing shared by `civo` and the HTTP echo source: rustls with ring, built once, capped bodies (crate-internal) |
//! | `civo/config.rs` | [`civo::CivoConfig`]: `CIVO_TOKEN`, `~/.civo.json`, `CIVO_CONFIG`, the region and API URL |
//! | `civo/models.rs`, `civo/lenient.rs` | the Civo API's bodies, read leniently (`civo::api`) |
//! | `civo/error.rs` | [`civo::CivoError`] |
//! | `civo/client.rs` | [`civo::CivoClient`]: requests, pages, retries, deadlines |
//! | `civo/notes.rs` | the sentences of discovery's warnings (crate-internal) |
//! | `civo/nodes.rs`, `civo/assemble.rs` | discovery's assembling half: API models into a [`Topology`] with its caveats, identities and left-out clusters (crate-internal) |
//! | `civo/ca.rs` | the CA fingerprint of the kubeconfig the Civo API holds for a cluster, never keeping it (crate-internal) |
//! | `civo/discover.rs` | [`civo::Selection`], [`civo::Discovery`], [`civo::CivoClient::discover`]: the fetching half |
//! | `kubeconfig.rs` | [`kubeconfig`]: which API server a context talks to |
//! | `resolve/source.rs`, `resolve/evidence.rs` | [`resolve::EgressSource`] and what one source said |
//! | `resolve/vantage.rs` | [`resolve::Vantage`], [`resolve::VantageProof`]: where an observation was made, and whether that pod is proven to be the cluster's |
//! | `resolve/echo.rs` | the echo answers' rules (the URL rule, the HTTP status and HTML check, the size cap, body parsing, the global check, the default URLs), pure, shared by the resolver and the probe (crate-internal) |
//! | `resolve/http_echo.rs`, `resolve/dns_echo.rs`, `resolve/direct.rs` | the echo services as sources |
//! | `resolve/civo_source.rs`, `resolve/kubeconfig_source.rs` | the expected sources |
//! | `resolve/resolver.rs`, `resolve/report.rs` | [`resolve::EgressResolver`], [`resolve_egress`], [`resolve::EgressReport`] |
//! | `probe/` | `probe::Probe`: the pod spec and its output's parser, the run, the per-node report (feature `probe`) |
//! | `watch/` | `watch::Watcher` (the async gathering), its pure step (`state.rs`: one refresh's outcome to the next state and its events), `schedule.rs` (jitter, backoff), `event.rs`, `metrics.rs` (prometheus-client) (feature `watch`) |
//!
//! The binary, `src/bin/civo-egress/` (feature `cli`), is parse, validate,
//! run, as ripgrep's: `main.rs` (the clap definition and dispatch),
//! `topology.rs` (where a command's snapshot comes from), `local.rs`
//! (`classify`, `whitelist`, `audit`, `diff`), `remote.rs` (`discover`,
//! `resolve`), `probe.rs`, `watch.rs` (the watch command's loop, HTTP
//! endpoints and `--exec`), `docs.rs` (completions, man), `out.rs` (capped
//! input, stdout that survives a closed pipe) and `failure.rs` (the one
//! mapping from errors to exit codes).
//!
//! # Optional features
//!
//! The network layers are additive features, each a public module, all
//! on by default but `probe`. They need a tokio runtime.
//!
//! - `civo-api`: the [`civo`] module: [`civo::CivoClient`] and
//!   [`civo::CivoClient::discover`], and [`resolve::CivoSource`] (reqwest
//!   with rustls and the ring provider, the system's CA roots).
//! - `kubeconfig`: the [`kubeconfig`] module, and [`resolve::KubeconfigSource`]
//!   (serde-saphyr; hickory-resolver for DNS-name servers).
//! - `dns`: [`resolve::DnsEchoSource`] (hickory-resolver).
//! - `http-probe`: [`resolve::HttpEchoSource`] (reqwest with rustls and ring).
//! - `probe` (not in `default`): the `probe` module: `probe::Probe`
//!   creates a pod on every node through the Kubernetes API and reports
//!   where each node's pods leave from (kube-rs and k8s-openapi, rustls
//!   with ring; implies `kubeconfig`, whose strict reader checks the
//!   kubeconfig, and shares the echo URLs and rules of `resolve`, not
//!   reqwest).
//!   Off by default: kube-rs and k8s-openapi are heavy, and the core's
//!   users never need them.
//! - `watch` (not in `default`): the `watch` module, a `watch::Watcher`
//!   of the Civo API or a snapshot, its events and its metrics
//!   (prometheus-client, jiff for RFC 3339 times; implies `civo-api`). The
//!   binary serves the metrics (axum); the library does not listen.
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

// The pure core: its files are layered as "Where things are" lists them.
mod allowlist; // Allowlist, AllowlistEntry
mod audit; // Audit, AuditBuilder, AuditReport, Finding
mod cause; // the io/JSON/HTTP/DNS/YAML error under ours, for source()
mod class; // IpClass
mod classify; // Classification, OwnedClassification, Reason
mod cluster; // Cluster, ClusterBuilder, K3s and Talos constants
mod consistency; // what a topology says of itself: Topology::warnings
mod diff; // diff, TopologyDiff, Change
mod error; // TopologyError, AllowlistError, ParseNameError
mod fingerprint; // CaFingerprint: which CA a cluster's certificates chain to
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod index; // the compiled classify index
mod left_out; // LeftOut
mod local_file; // read_local_file: every file read on a user's behalf, capped
mod names; // the macro behind the stable names of the enums
mod node; // Node, LoadBalancer, ReservedIp, Assignment, PublicIpPool
mod parse; // field-path parsing helpers
mod reason; // the sentences of the answers
mod render; // WhitelistFormat, Rendered: a whitelist in a firewall's language
mod snapshot; // snapshot JSON of the resources
mod special; // IANA special-purpose tables
mod topology; // Topology, classify_ip
mod validation; // Validation, AddressPolicy
mod verdict; // EgressStatus, FamilyVerdict: the one rule that weighs egress evidence
mod warning; // Warning, WarningKind, Subject: every layer's caveats
mod whitelist; // Whitelist, WhitelistBuilder, WhitelistEntry

// The network layers, on top of the core, each a public module.
#[cfg(feature = "civo-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "civo-api")))]
pub mod civo;
#[cfg(feature = "__http")]
mod http; // the HTTP plumbing shared by civo and the HTTP echo source
#[cfg(feature = "kubeconfig")]
#[cfg_attr(docsrs, doc(cfg(feature = "kubeconfig")))]
pub mod kubeconfig;
#[cfg(feature = "probe")]
#[cfg_attr(docsrs, doc(cfg(feature = "probe")))]
pub mod probe;
#[cfg(feature = "resolve")]
#[cfg_attr(docsrs, doc(cfg(feature = "resolve")))]
pub mod resolve;
#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
pub mod watch;

/// The IP network types of the signatures (`IpNet`, `Ipv4Net`, `Ipv6Net`).
pub use ipnet;

pub use allowlist::{Allowlist, AllowlistEntry};
pub use audit::{Audit, AuditBuilder, AuditDisplay, AuditReport, Finding, FindingKind, Severity};
pub use class::IpClass;
pub use classify::{Classification, OwnedClassification, Reason};
pub use cluster::{
    Cluster, ClusterBuilder, K3S_CLUSTER_DNS, K3S_POD_CIDR, K3S_POD_CIDR_V6, K3S_SERVICE_CIDR, K3S_SERVICE_CIDR_V6,
    NetworkId, TALOS_POD_CIDR, TALOS_SERVICE_CIDR,
};
pub use diff::{Change, ChangeKind, TopologyDiff, diff};
pub use error::{AllowlistError, ParseNameError, TopologyError};
#[cfg(feature = "resolve")]
pub use fingerprint::PemError;
pub use fingerprint::{CaFingerprint, ParseFingerprintError};
pub use left_out::LeftOut;
pub use local_file::{LocalFileError, MAX_LOCAL_FILE_BYTES, read_local_file};
pub use node::{Assignment, AssignmentKind, LoadBalancer, Node, PublicIpPool, ReservedIp};
pub use render::{Rendered, WhitelistFormat};
#[cfg(feature = "resolve")]
pub use resolve::resolve_egress;
pub use snapshot::Coverage;
pub use topology::{FORMAT_VERSION, Topology, classify_ip};
pub use validation::{AddressPolicy, Validation};
pub use verdict::{EgressStatus, FamilyVerdict, IpFamily};
pub use warning::{Subject, Warning, WarningKind};
pub use whitelist::{Whitelist, WhitelistBuilder, WhitelistEntry};
