//! Assembling: what the API answered (the models of every region read) into
//! one [`Topology`], each cluster with its region, network identity and
//! caveats, and the clusters that could not be described recorded as
//! [`LeftOut`].

use std::net::IpAddr;

use super::models::{ApiCluster, ApiInstance, ApiLoadBalancer, ApiNetwork, ApiReservedIp};
use super::nodes::Nodes;
use super::notes;
use crate::cluster::{ClusterBuilder, NetworkId};
use crate::node::{Assignment, AssignmentKind, LoadBalancer, ReservedIp};
use crate::warning::{Warning, WarningKind};
use crate::{Cluster, LeftOut, TALOS_POD_CIDR, TALOS_SERVICE_CIDR, Topology, parse};

/// What one region's lists answered. `None`: the key may not read it.
pub(super) struct RegionLists {
    pub(super) code: String,
    /// Nobody chose this region: it is [`DEFAULT_REGION`](super::DEFAULT_REGION).
    pub(super) defaulted: bool,
    pub(super) clusters: Vec<ApiCluster>,
    pub(super) load_balancers: Option<Vec<ApiLoadBalancer>>,
    pub(super) reserved_ips: Option<Vec<ApiReservedIp>>,
    pub(super) networks: Option<Vec<ApiNetwork>>,
}

/// A cluster chosen for discovery: `regions[region].clusters[cluster]`,
/// and its instances (`None`: they answered 404).
pub(super) struct Fetched {
    pub(super) region: usize,
    pub(super) cluster: usize,
    pub(super) instances: Option<Vec<ApiInstance>>,
}

/// The topology, the warnings, and for each [`Fetched`] whether it was left
/// out.
pub(super) struct Assembled {
    pub(super) topology: Topology,
    pub(super) warnings: Vec<Warning>,
    pub(super) left_out: Vec<Option<LeftOut>>,
}

/// Builds the topology of `chosen` clusters of `regions`. `restricted`:
/// the selection named clusters (the LoadBalancers of the others are not
/// standalone). `several`: more than one region was asked about, so
/// warnings name clusters `REGION/NAME`.
pub(super) fn assemble(
    regions: &[RegionLists],
    chosen: Vec<Fetched>,
    restricted: bool,
    several: bool,
    mut warnings: Vec<Warning>,
) -> Assembled {
    let mut account_caveats = Vec::new();
    for region in regions {
        let (said, caveats) = region_notes(region, several);
        warnings.extend(said);
        account_caveats.push(caveats);
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut left_out = Vec::new();
    let mut built_ids: Vec<Vec<&str>> = vec![Vec::new(); regions.len()];
    for fetched in &chosen {
        let region = &regions[fetched.region];
        let api = &region.clusters[fetched.cluster];
        let who = if several { format!("{}/{}", region.code, api.name) } else { api.name.clone() };
        let outcome = match &fetched.instances {
            None => Err(notes::cluster_gone(&api.master_ip)),
            Some(_) if clusters.iter().any(|c| same_cluster(c, api, &region.code)) => {
                Err(notes::same_cluster_twice(&api.id, &api.name))
            }
            Some(instances) => {
                let draft = Draft { region, api, account_caveats: &account_caveats[fetched.region] };
                let (outcome, said) = draft.cluster(instances);
                warnings.extend(said.into_iter().map(|w| w.with_cluster(who.clone())));
                outcome
            }
        };
        match outcome {
            Ok(cluster) => {
                built_ids[fetched.region].push(api.id.as_str());
                clusters.push(cluster);
                left_out.push(None);
            }
            Err(why) => {
                let left = LeftOut::new(api_name(api), why.kind(), why.message())
                    .map(|l| l.identified(Some(api.id.clone()), Some(region.code.clone())))
                    .ok();
                warnings.push(why.with_cluster(who));
                left_out.push(left);
            }
        }
    }
    let mut standalone = Vec::new();
    let mut reserved = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        let picked: Vec<&str> =
            chosen.iter().filter(|f| f.region == i).map(|f| region.clusters[f.cluster].id.as_str()).collect();
        for lb in region.load_balancers.iter().flatten() {
            let in_built = !lb.cluster_id.is_empty() && built_ids[i].contains(&lb.cluster_id.as_str());
            let deselected = restricted
                && !picked.contains(&lb.cluster_id.as_str())
                && region.clusters.iter().any(|c| c.id == lb.cluster_id);
            // Standalone LBs, and those of a cluster that was left out (a bad
            // value, deleted meanwhile), stay known outside any cluster.
            if !in_built && !deselected {
                standalone.extend(load_balancer(lb, &mut warnings));
            }
        }
        reserved.extend(region.reserved_ips.iter().flatten().filter_map(|r| reserved_ip(r, &mut warnings)));
    }
    let recorded: Vec<LeftOut> = left_out.iter().flatten().cloned().collect();
    // Clusters were made unique above (`same_cluster`).
    let topology = Topology::assemble(clusters, standalone, reserved).with_left_out(recorded);
    Assembled { topology, warnings, left_out }
}

/// A name for a cluster the API gave none.
fn api_name(api: &ApiCluster) -> String {
    if api.name.trim().is_empty() { format!("(unnamed {})", api.id) } else { api.name.clone() }
}

/// What `Topology::new` refuses as the same cluster twice.
/// The rule of `Topology::new`: the same id when both have one, else the
/// same name in the same region.
fn same_cluster(built: &Cluster, api: &ApiCluster, region: &str) -> bool {
    match built.id() {
        Some(id) if !api.id.trim().is_empty() => id == api.id,
        _ => built.name() == api.name && built.region().is_some_and(|r| r.eq_ignore_ascii_case(region)),
    }
}

/// The warnings about a region as a whole (said once), and the caveats
/// each of its clusters carries for them.
fn region_notes(region: &RegionLists, several: bool) -> (Vec<Warning>, Vec<Warning>) {
    let mut said = Vec::new();
    if region.clusters.is_empty() {
        said.push(if region.defaulted {
            notes::region_defaulted(&region.code)
        } else {
            notes::region_empty(&region.code)
        });
    }
    let mut caveats = Vec::new();
    if region.load_balancers.is_none() {
        caveats.push(notes::load_balancers_unknown());
    }
    if region.reserved_ips.is_none() {
        caveats.push(notes::reserved_ips_unknown());
    }
    if region.networks.is_none() {
        caveats.push(notes::networks_unknown());
    }
    for caveat in &caveats {
        said.push(if several {
            Warning::new(caveat.kind(), format!("region {}: {}", region.code, caveat.message()))
        } else {
            caveat.clone()
        });
    }
    (said, caveats)
}

/// One cluster being assembled.
struct Draft<'a> {
    region: &'a RegionLists,
    api: &'a ApiCluster,
    account_caveats: &'a [Warning],
}

impl Draft<'_> {
    /// The cluster, or the warning that left it out; and what was noticed
    /// on the way (without the cluster's name).
    fn cluster(&self, instances: &[ApiInstance]) -> (Result<Cluster, Warning>, Vec<Warning>) {
        let api = self.api;
        let mut said = described(api);
        let egress = match egress_ip(api) {
            Ok(ip) => ip,
            Err(why) => return (Err(why), said),
        };
        let talos = api.cluster_type.trim().eq_ignore_ascii_case("talos");
        let mut builder = Cluster::builder(&api.name).id(&api.id).region(&self.region.code).egress_ip(egress);
        if let Some(ca) = api.ca_fingerprint {
            builder = builder.ca_fingerprint(ca);
        }
        if talos {
            builder = builder.pod_cidr(TALOS_POD_CIDR).service_cidr(TALOS_SERVICE_CIDR);
        }
        builder = self.network(builder, &mut said);
        let nodes = Nodes::of(api, instances, egress);
        said.extend(nodes.notes);
        builder = nodes.nodes.into_iter().fold(builder, ClusterBuilder::node);
        builder = nodes.pools.into_iter().fold(builder, ClusterBuilder::public_ip_pool);
        for lb in self.region.load_balancers.iter().flatten().filter(|lb| !api.id.is_empty() && lb.cluster_id == api.id)
        {
            if let Some(lb) = load_balancer(lb, &mut said) {
                builder = builder.load_balancer(lb);
            }
        }
        // Every caveat travels with the cluster, but the public-IP nodes
        // note: their IPs are in the snapshot already.
        let caveats = said.iter().filter(|w| w.kind() != WarningKind::PublicIpNodePool);
        builder = caveats.chain(self.account_caveats).cloned().fold(builder, ClusterBuilder::caveat);
        (builder.build().map_err(|e| notes::not_built(&e)), said)
    }

    /// The cluster's network: its CIDRs and identity.
    fn network(&self, mut builder: ClusterBuilder, said: &mut Vec<Warning>) -> ClusterBuilder {
        let api = self.api;
        // Unknown networks are said once for the region, and a caveat.
        let Some(networks) = &self.region.networks else { return builder };
        let Some(network) = networks.iter().find(|n| !n.id.is_empty() && n.id == api.network_id) else {
            said.push(notes::network_not_found(&api.network_id));
            return builder;
        };
        let label = [&network.label, &network.name].into_iter().find(|s| !s.trim().is_empty()).cloned();
        if let Ok(id) = NetworkId::new(network.id.clone(), label) {
            builder = builder.network(id);
        }
        if network.is_vlan_connected() {
            said.push(notes::vlan_connected(&network.name, &network.vlan_id, &api.master_ip));
        }
        for (field, text) in [("cidr", &network.cidr), ("cidr_v6", &network.cidr_v6)] {
            if text.trim().is_empty() {
                if field == "cidr" {
                    said.push(notes::network_without_cidr(&network.name));
                }
                continue;
            }
            match parse::network(field, text) {
                Ok(cidr) => builder = builder.network_cidr(cidr),
                Err(e) => said.push(notes::network_cidr_bad(&network.name, &e)),
            }
        }
        builder
    }
}

/// What the cluster says of itself: readiness, Talos, its CNI, legacy.
fn described(api: &ApiCluster) -> Vec<Warning> {
    let mut said = Vec::new();
    if !api.status.trim().eq_ignore_ascii_case("ACTIVE") {
        said.push(notes::not_active(&api.status));
    }
    let why = unready(api);
    if !why.is_empty() {
        said.push(notes::not_ready(&why));
    }
    if api.cluster_type.trim().eq_ignore_ascii_case("talos") {
        said.push(notes::talos());
    }
    let cni = api.cni_plugin.trim();
    if !cni.is_empty() && !cni.eq_ignore_ascii_case("flannel") {
        said.push(notes::egress_unmeasured(&api.cluster_type, &api.cni_plugin));
    }
    if api.legacy {
        said.push(notes::legacy());
    }
    said
}

/// Why the cluster is not ready: `ready` false, conditions not true.
fn unready(api: &ApiCluster) -> Vec<String> {
    let mut why = Vec::new();
    if api.ready == Some(false) {
        why.push("ready is false".to_owned());
    }
    for condition in api.conditions.iter().filter(|c| !c.is_true()) {
        let status = if condition.status.trim().is_empty() { "unset" } else { condition.status.trim() };
        let kind = if condition.kind.is_empty() { "a condition" } else { &condition.kind };
        let mut text = format!("{kind} is {status}");
        let detail: Vec<&str> =
            [&condition.reason, &condition.message].into_iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        if !detail.is_empty() {
            text.push_str(&format!(" ({})", detail.join(": ")));
        }
        why.push(text);
    }
    why
}

/// `master_ip`, or the warning that leaves the cluster out.
fn egress_ip(api: &ApiCluster) -> Result<IpAddr, Warning> {
    parse::ip("master_ip", &api.master_ip)
        .and_then(|ip| parse::egress("master_ip", ip, false))
        .map_err(|e| notes::no_egress_ip(api.master_ip.trim().is_empty(), &e))
}

/// A LoadBalancer, or `None` with a warning.
fn load_balancer(api: &ApiLoadBalancer, said: &mut Vec<Warning>) -> Option<LoadBalancer> {
    let public = match parse::ip("public_ip", &api.public_ip) {
        Ok(ip) => ip,
        Err(e) => {
            said.push(notes::load_balancer_left_out(&api.name, &e, false));
            return None;
        }
    };
    let lb = match LoadBalancer::new(&api.name, public) {
        Ok(lb) => lb,
        Err(e) => {
            said.push(notes::load_balancer_left_out(&api.name, &e, true));
            return None;
        }
    };
    match parse::opt_ip("private_ip", Some(&api.private_ip)) {
        Ok(Some(private)) => Some(lb.with_private_ip(private)),
        Ok(None) => Some(lb),
        Err(e) => {
            said.push(notes::load_balancer_private_ignored(&api.name, &e));
            Some(lb)
        }
    }
}

fn reserved_ip(api: &ApiReservedIp, said: &mut Vec<Warning>) -> Option<ReservedIp> {
    let ip = match parse::ip("ip", &api.ip) {
        Ok(ip) => ip,
        Err(e) => {
            said.push(notes::reserved_ip_left_out(&api.name, &e, false));
            return None;
        }
    };
    let reserved = match ReservedIp::new(&api.name, ip) {
        Ok(reserved) => reserved,
        Err(e) => {
            said.push(notes::reserved_ip_left_out(&api.name, &e, true));
            return None;
        }
    };
    let kind = match api.assigned_to.kind.trim() {
        "loadbalancer" => AssignmentKind::LoadBalancer,
        "instance" => AssignmentKind::Instance,
        _ => return Some(reserved),
    };
    let Some(holder) = [&api.assigned_to.name, &api.assigned_to.id].into_iter().find(|s| !s.trim().is_empty()) else {
        return Some(reserved);
    };
    match Assignment::new(kind, holder.as_str()) {
        Ok(assignment) => Some(reserved.with_assignment(assignment)),
        Err(e) => {
            said.push(notes::assignment_ignored(&api.name, &e));
            Some(reserved)
        }
    }
}
