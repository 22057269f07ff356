//! A cluster's instances as nodes: which pool each belongs to, its public
//! IP, and what the pools and the instances together say (public-IP nodes,
//! nodes without their IP yet, a missing gateway, IPv6).

use std::net::IpAddr;

use super::models::{ApiCluster, ApiInstance, ApiPool};
use super::notes;
use crate::node::Node;
use crate::warning::Warning;
use crate::{PublicIpPool, parse};

/// What the instances of one cluster gave: its nodes, its public-IP pools,
/// and what was noticed (each a warning without the cluster's name).
pub(super) struct Nodes {
    pub(super) nodes: Vec<Node>,
    pub(super) pools: Vec<PublicIpPool>,
    pub(super) notes: Vec<Warning>,
}

impl Nodes {
    /// Walks `instances` of `api`, whose egress IP is `egress`.
    pub(super) fn of(api: &ApiCluster, instances: &[ApiInstance], egress: IpAddr) -> Self {
        let pools = Pools::of(api);
        let mut walk = Walk { members: vec![Vec::new(); pools.0.len()], ..Walk::default() };
        for instance in instances {
            walk.instance(api, &pools, instance, egress);
        }
        walk.finish(&pools, egress)
    }
}

#[derive(Default)]
struct Walk {
    nodes: Vec<Node>,
    notes: Vec<Warning>,
    members: Vec<Vec<Member>>,
    /// `name (ip)` of nodes whose own IP is in the egress set by right.
    public_nodes: Vec<String>,
    /// `name (ip)` of nodes with an IP their pool does not explain.
    unflagged: Vec<String>,
    ipv6: Vec<String>,
    gateway: bool,
}

impl Walk {
    fn instance(&mut self, api: &ApiCluster, pools: &Pools<'_>, instance: &ApiInstance, egress: IpAddr) {
        let pool = pools.0.iter().position(|p| p.contains(instance));
        let flagged = pool.is_some_and(|i| pools.0[i].flagged);
        let public = self.public_ip(instance, egress);
        self.gateway |= public == Some(egress);
        let node_name = instance.node_name();
        if !instance.ipv6.trim().is_empty() {
            self.ipv6.push(format!("{node_name} ({})", instance.ipv6.trim()));
        }
        if let Some(i) = pool {
            self.members[i].push(Member { name: node_name.to_owned(), public, status: instance.status.clone() });
        }
        let own = public.filter(|&ip| ip != egress);
        let by_right = flagged || (pools.0.is_empty() && !api.legacy);
        let Some(mut node) = self.node(instance, public) else { return };
        if let Some(public) = public {
            node = node.with_public_ip(public);
        }
        if let Some(own) = own {
            let label = format!("{} ({own})", node.name());
            if by_right {
                self.public_nodes.push(label);
            } else if !api.legacy {
                self.unflagged.push(label);
            }
        }
        self.nodes.push(node);
    }

    /// The node of an instance, with its private IP; `None` (and a
    /// warning) without a usable one. A node of a public-IP pool that has
    /// its own public IP (`public`) already but no private IP yet is a
    /// [`Node::building`]: its IP is in the egress set.
    fn node(&mut self, instance: &ApiInstance, public: Option<IpAddr>) -> Option<Node> {
        let node_name = instance.node_name();
        let status = instance.status.trim();
        let private = match parse::ip("private_ip", &instance.private_ip) {
            Ok(ip) => ip,
            Err(e) => {
                if let Some(public) = public {
                    return match Node::building(node_name, public) {
                        Ok(node) => Some(node),
                        Err(e) => {
                            self.notes.push(notes::node_unnamed(node_name, &e));
                            None
                        }
                    };
                }
                let state = if status.is_empty() || status.eq_ignore_ascii_case("ACTIVE") {
                    String::new()
                } else {
                    format!(" (status {status})")
                };
                self.notes.push(notes::node_left_out(node_name, &state, &e));
                return None;
            }
        };
        match Node::new(node_name, private) {
            Ok(node) => Some(node),
            Err(e) => {
                self.notes.push(notes::node_unnamed(node_name, &e));
                None
            }
        }
    }

    /// The instance's usable public IP: none when it has none, and none
    /// (with a warning) when it is not a global address.
    fn public_ip(&mut self, instance: &ApiInstance, egress: IpAddr) -> Option<IpAddr> {
        let node_name = instance.node_name();
        let checked = parse::opt_ip("public_ip", Some(&instance.public_ip)).and_then(|ip| match ip {
            Some(public) if public.to_canonical() == egress => Ok(Some(egress)),
            Some(public) => parse::egress("public_ip", public, false).map(Some),
            None => Ok(None),
        });
        checked.unwrap_or_else(|e| {
            self.notes.push(notes::public_ip_ignored(node_name, &e));
            None
        })
    }

    fn finish(mut self, pools: &Pools<'_>, egress: IpAddr) -> Nodes {
        if !self.public_nodes.is_empty() {
            // Informative: the nodes' IPs are in the snapshot, so no caveat.
            self.notes.push(notes::public_ip_nodes(&self.public_nodes, egress));
        }
        if !self.unflagged.is_empty() {
            self.notes.push(notes::unflagged_public_ips(&self.unflagged));
        }
        let mut recorded = Vec::new();
        for (i, pool) in pools.0.iter().enumerate().filter(|(_, p)| p.flagged) {
            let (pending, note) = pool.pending(&self.members[i]);
            self.notes.extend(note);
            match PublicIpPool::new(pool.id.clone(), pending) {
                Ok(pool) => recorded.push(pool),
                Err(e) => self.notes.push(notes::pool_not_recorded(&pool.id, &e)),
            }
        }
        if !self.gateway {
            self.notes.push(notes::gateway_missing(egress));
        }
        if !self.ipv6.is_empty() {
            self.notes.push(notes::ipv6_unmeasured(&self.ipv6));
        }
        Nodes { nodes: self.nodes, pools: recorded, notes: self.notes }
    }
}

/// One node pool, as `pools[]` and `required_pools[]` describe it together.
struct Pool<'a> {
    id: String,
    flagged: bool,
    /// Nodes asked for: the larger `count`, or the number of names.
    wanted: u32,
    sources: Vec<&'a ApiPool>,
}

struct Pools<'a>(Vec<Pool<'a>>);

impl<'a> Pools<'a> {
    /// `pools[]` then `required_pools[]`, merged by id: a pool is flagged
    /// when either says so (a node that may have its own IP must not be
    /// folded under `master_ip`).
    fn of(api: &'a ApiCluster) -> Self {
        let mut pools: Vec<Pool<'a>> = Vec::new();
        for (i, api_pool) in api.pools.iter().chain(&api.required_pools).enumerate() {
            let id = api_pool.id.trim();
            let names = u32::try_from(api_pool.instance_names.len()).unwrap_or(u32::MAX);
            let wanted = api_pool.count.max(names);
            match pools.iter_mut().find(|p| !id.is_empty() && p.id == id) {
                Some(pool) => {
                    pool.flagged |= api_pool.public_ip_node_pool;
                    pool.wanted = pool.wanted.max(wanted);
                    pool.sources.push(api_pool);
                }
                None => pools.push(Pool {
                    id: if id.is_empty() { format!("pools[{i}]") } else { id.to_owned() },
                    flagged: api_pool.public_ip_node_pool,
                    wanted,
                    sources: vec![api_pool],
                }),
            }
        }
        Self(pools)
    }
}

/// An instance matched to a pool.
#[derive(Clone)]
struct Member {
    name: String,
    public: Option<IpAddr>,
    status: String,
}

impl Pool<'_> {
    fn contains(&self, instance: &ApiInstance) -> bool {
        self.sources.iter().any(|p| p.contains(instance))
    }

    /// How many nodes of this public-IP pool have no usable public IP yet
    /// (a node with its IP but no private IP is not one of them), and the
    /// warning when some have none.
    fn pending(&self, members: &[Member]) -> (u32, Option<Warning>) {
        let without: Vec<String> = members
            .iter()
            .filter(|m| m.public.is_none())
            .map(|m| match m.status.trim() {
                "" => m.name.clone(),
                status => format!("{} ({status})", m.name),
            })
            .collect();
        let found = u32::try_from(members.len()).unwrap_or(u32::MAX);
        let missing = self.wanted.saturating_sub(found);
        let pending = u32::try_from(without.len()).unwrap_or(u32::MAX).saturating_add(missing);
        if pending == 0 {
            return (0, None);
        }
        let mut what = Vec::new();
        if !without.is_empty() {
            what.push(format!("no public IP yet on {}", without.join(", ")));
        }
        if missing > 0 {
            what.push(format!("{missing} more node(s) asked for (count {}) than it has", self.wanted));
        }
        (pending, Some(notes::public_ip_pending(&self.id, pending, &what)))
    }
}
