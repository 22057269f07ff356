//! Discovery, the fetching half: which regions and clusters a [`Selection`]
//! names, and the requests (each region's lists, then each chosen cluster's
//! instances), concurrent within fixed limits. `assemble.rs` turns the
//! answers into a [`Topology`].

use std::future::Future;

use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use super::assemble::{self, Fetched, RegionLists};
use super::client::{CivoClient, check_region};
use super::error::CivoError;
use super::models::{ApiCluster, ApiInstance};
use super::notes;
use crate::{Coverage, LeftOut, Topology, Warning};

/// Clusters whose instances are fetched at once.
const CONCURRENT_CLUSTERS: usize = 8;
/// Regions whose lists are read at once (each reads four lists, and pages).
const CONCURRENT_REGIONS: usize = 4;

/// Which part of an account to discover: one or more regions (default: the
/// client's), or every region offering Kubernetes; and all clusters
/// (default) or the ones named.
///
/// ```
/// use civo_egress::civo::Selection;
/// let selection = Selection::all().region("LON1").region("FRA1").cluster("prod").cluster("9b1d7c42");
/// assert_eq!(selection.clusters(), ["prod", "9b1d7c42"]);
/// assert_eq!(selection.regions(), ["LON1", "FRA1"]);
/// assert_eq!(selection.region_code(), Some("LON1"));
/// assert!(Selection::all().clusters().is_empty(), "every cluster");
/// assert!(Selection::all_regions().is_all_regions());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Selection {
    regions: Vec<String>,
    all_regions: bool,
    clusters: Vec<String>,
}

impl Selection {
    /// Every cluster of the client's region.
    pub fn all() -> Self {
        Self::default()
    }

    /// Every cluster of every region whose features include Kubernetes
    /// (asked of `/v2/regions`): one snapshot for the account.
    pub fn all_regions() -> Self {
        Self { all_regions: true, ..Self::default() }
    }

    /// Asks about `region` instead of the client's; repeatable, for
    /// several regions.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.regions.push(region.into());
        self
    }

    /// Adds a cluster, by name or id with the Civo CLI's matching rules, or
    /// as `REGION/NAME`. Without any, every cluster is discovered.
    pub fn cluster(mut self, name_or_id: impl Into<String>) -> Self {
        self.clusters.push(name_or_id.into());
        self
    }

    /// The first region asked about, if not the client's.
    #[must_use]
    pub fn region_code(&self) -> Option<&str> {
        self.regions.first().map(String::as_str)
    }

    /// The regions asked about (empty: the client's, or every region).
    #[must_use]
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// Whether every region offering Kubernetes is asked about.
    #[must_use]
    pub const fn is_all_regions(&self) -> bool {
        self.all_regions
    }

    /// The clusters named (empty: every cluster).
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }
}

/// The outcome of [`CivoClient::discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    topology: Topology,
    warnings: Vec<Warning>,
    unmet: Vec<(String, LeftOut)>,
}

impl Discovery {
    /// The topology discovered: one for the account, each cluster with its
    /// region, the clusters left out ([`Topology::left_out`]), and what it
    /// covers ([`Topology::coverage`]: the regions read, the clusters
    /// asked for).
    #[must_use]
    pub const fn topology(&self) -> &Topology {
        &self.topology
    }

    /// What was noticed on the way. What is about one cluster is also
    /// among that cluster's [caveats](crate::Cluster::caveats).
    #[must_use]
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The clusters the selection named that matched but were all left
    /// out: each query, with why (its first match's [`LeftOut`]).
    #[must_use]
    pub fn unmet(&self) -> &[(String, LeftOut)] {
        &self.unmet
    }

    /// The topology and the warnings.
    #[must_use]
    pub fn into_parts(self) -> (Topology, Vec<Warning>) {
        (self.topology, self.warnings)
    }
}

impl CivoClient {
    /// Builds the topology of a Civo account from its API: each cluster's
    /// egress IP (`master_ip`), region, its public-IP node pools (matched
    /// to the instances by `pools[].instance_names` and `required_pools[]`)
    /// with their nodes' own IPs and how many have none yet, its network
    /// (identity and CIDR), its nodes (with private IPs), the LoadBalancers
    /// (linked by `cluster_id`) and the reserved IPs. What discovery knows
    /// about a cluster and its resources cannot say is a caveat on it
    /// ([`Cluster::caveats`](crate::Cluster::caveats)), and a warning.
    ///
    /// The number of requests grows with the regions and the clusters
    /// (each region's list pages, then one request per cluster for its
    /// nodes), never with nodes or LoadBalancers, and they run
    /// concurrently; a request that times out or answers 429 or 5xx is
    /// retried. The whole discovery runs under the client's deadline.
    ///
    /// A partial failure is not a total one: a cluster whose instances
    /// answer 404 (deleted meanwhile), or without a usable `master_ip`, is
    /// left out ([`Topology::left_out`]) with a warning
    /// ([`WarningKind::ClusterGone`](crate::WarningKind::ClusterGone),
    /// [`NoEgressIp`](crate::WarningKind::NoEgressIp)...); a 403 on the
    /// reserved IPs, the LoadBalancers or the networks (a team member
    /// without that permission) discovers the rest with
    /// [`ReservedIpsUnknown`](crate::WarningKind::ReservedIpsUnknown),
    /// [`LoadBalancersUnknown`](crate::WarningKind::LoadBalancersUnknown) or
    /// [`NetworksUnknown`](crate::WarningKind::NetworksUnknown); with
    /// several regions, a 403, 429 or 5xx on one region's lists is a
    /// [`RegionFailed`](crate::WarningKind::RegionFailed) warning.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use civo_egress::civo::{CivoClient, Selection};
    /// use civo_egress::{Whitelist, WarningKind};
    /// let client = CivoClient::from_env()?;
    /// let discovery = client.discover(&Selection::all_regions()).await?;
    /// for warning in discovery.warnings() {
    ///     eprintln!("warning: {warning}");
    /// }
    /// let incomplete = discovery.warnings().iter().any(|w| w.kind() == WarningKind::PublicIpPending);
    /// print!("{}", Whitelist::of(discovery.topology())?);
    /// if incomplete {
    ///     eprintln!("nodes of a public-IP pool have no IP yet: run again once they are ACTIVE");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Any [`CivoError`] of the cluster list (of the only region asked
    /// about); an authentication failure ([`CivoError::Unauthorized`])
    /// anywhere; any other error of the other requests than the 403s and
    /// 404s above (a 5xx after the retries included: it is transient, and
    /// a partial answer that looks complete would drop IPs from a
    /// whitelist); [`CivoError::InvalidRegion`] for a region code that
    /// cannot be one; [`CivoError::ClusterNotFound`] or
    /// [`CivoError::AmbiguousCluster`] for a selection that matches no or
    /// several clusters; [`CivoError::Timeout`] at the deadline. Bad values
    /// in the answers are warnings, not errors.
    pub async fn discover(&self, selection: &Selection) -> Result<Discovery, CivoError> {
        let deadline = self.new_deadline();
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, self.discover_by(selection, deadline)).await {
            Ok(result) => result,
            Err(_) => Err(CivoError::Timeout { after: started.elapsed(), deadline: Some(self.deadline_length()) }),
        }
    }

    async fn discover_by(&self, selection: &Selection, deadline: Instant) -> Result<Discovery, CivoError> {
        let mut warnings = Vec::new();
        let plan = self.plan(selection, deadline, &mut warnings).await?;
        let several = selection.all_regions || plan.len() > 1;
        let regions = self.read_regions(plan, several, deadline, &mut warnings).await?;
        let (chosen, queries) = choose(&regions, &selection.clusters, several)?;
        let fetched = self.fetch_instances(&regions, chosen, deadline).await?;
        let assembled = assemble::assemble(&regions, fetched, !selection.clusters.is_empty(), several, warnings);
        // A query is unmet when every cluster it matched was left out.
        let unmet = queries
            .into_iter()
            .filter_map(|(query, picks)| {
                let left: Option<Vec<&LeftOut>> = picks.iter().map(|&k| assembled.left_out[k].as_ref()).collect();
                left?.first().map(|first| (query, (*first).clone()))
            })
            .collect();
        let topology = match coverage(&regions, &selection.clusters) {
            Some(coverage) => assembled.topology.with_coverage(coverage),
            None => assembled.topology,
        };
        Ok(Discovery { topology, warnings: assembled.warnings, unmet })
    }

    /// The regions to read, each with whether it was defaulted.
    async fn plan(
        &self,
        selection: &Selection,
        deadline: Instant,
        warnings: &mut Vec<Warning>,
    ) -> Result<Vec<(String, bool)>, CivoError> {
        let mut codes: Vec<(String, bool)> = Vec::new();
        let mut add = |code: String, defaulted: bool| {
            if !codes.iter().any(|(c, _)| c.eq_ignore_ascii_case(&code)) {
                codes.push((code, defaulted));
            }
        };
        if selection.all_regions {
            for region in self.regions_by(deadline).await?.iter().filter(|r| r.features.kubernetes) {
                // One odd code in the API's list is that region's failure,
                // not the account's.
                match check_region(&region.code) {
                    Ok(code) => add(code, false),
                    Err(e) => warnings.push(notes::region_unusable(&region.code, &e)),
                }
            }
            if codes.is_empty() {
                warnings.push(notes::no_kubernetes_region());
            }
        } else if selection.regions.is_empty() {
            add(check_region(self.region())?, self.region_was_defaulted());
        } else {
            for region in &selection.regions {
                add(check_region(region)?, false);
            }
        }
        Ok(codes)
    }

    /// Each region's lists, concurrently. With `several` regions, one
    /// that fails with a 403, 429 or 5xx is a warning (unless all do).
    async fn read_regions(
        &self,
        plan: Vec<(String, bool)>,
        several: bool,
        deadline: Instant,
        warnings: &mut Vec<Warning>,
    ) -> Result<Vec<RegionLists>, CivoError> {
        let jobs: Vec<(usize, Self, bool)> =
            plan.iter().enumerate().map(|(i, (code, defaulted))| (i, self.with_region(code), *defaulted)).collect();
        let mut answers: Vec<Option<Result<RegionLists, CivoError>>> = (0..plan.len()).map(|_| None).collect();
        let mut stream = stream::iter(jobs)
            .map(|(i, client, defaulted)| async move { (i, client.region_lists(defaulted, deadline).await) })
            .buffer_unordered(CONCURRENT_REGIONS);
        while let Some((i, answer)) = stream.next().await {
            match answer {
                Err(e) if !(several && degrades(&e)) => return Err(e),
                answer => answers[i] = Some(answer),
            }
        }
        let mut regions = Vec::new();
        let mut first_error = None;
        for ((code, _), answer) in plan.iter().zip(answers.into_iter().flatten()) {
            match answer {
                Ok(lists) => regions.push(lists),
                Err(e) => {
                    warnings.push(notes::region_failed(code, &e));
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if regions.is_empty() => Err(e),
            _ => Ok(regions),
        }
    }

    /// One region's four lists; a list the key may not read is `None`.
    async fn region_lists(&self, defaulted: bool, deadline: Instant) -> Result<RegionLists, CivoError> {
        let (clusters, load_balancers, reserved_ips, networks) = tokio::try_join!(
            self.clusters_by(deadline),
            permitted(self.load_balancers_by(deadline)),
            permitted(self.reserved_ips_by(deadline)),
            permitted(self.networks_by(deadline)),
        )?;
        Ok(RegionLists { code: self.region().to_owned(), defaulted, clusters, load_balancers, reserved_ips, networks })
    }

    /// The instances of each chosen cluster, concurrently and unordered
    /// (a retry backing off holds no other request up), kept in the chosen
    /// order.
    async fn fetch_instances(
        &self,
        regions: &[RegionLists],
        chosen: Vec<(usize, usize)>,
        deadline: Instant,
    ) -> Result<Vec<Fetched>, CivoError> {
        // Owned jobs: a closure over borrowed items would make this future
        // not `Send` (rust-lang/rust#102211).
        let jobs: Vec<(usize, Self, String)> = chosen
            .iter()
            .enumerate()
            .map(|(k, &(i, j))| (k, self.with_region(&regions[i].code), regions[i].clusters[j].id.clone()))
            .collect();
        let mut instances: Vec<Option<Vec<ApiInstance>>> = vec![None; chosen.len()];
        let mut stream = stream::iter(jobs)
            .map(|(k, client, id)| async move { (k, client.instances_of(&id, deadline).await) })
            .buffer_unordered(CONCURRENT_CLUSTERS);
        while let Some((k, answer)) = stream.next().await {
            instances[k] = answer?;
        }
        Ok(chosen
            .into_iter()
            .zip(instances)
            .map(|((region, cluster), instances)| Fetched { region, cluster, instances })
            .collect())
    }

    /// A cluster's instances; `None` when it answers 404 (deleted between
    /// the list and this request).
    async fn instances_of(&self, id: &str, deadline: Instant) -> Result<Option<Vec<ApiInstance>>, CivoError> {
        if id.is_empty() {
            return Ok(Some(Vec::new()));
        }
        match self.instances_by(id, deadline).await {
            Ok(instances) => Ok(Some(instances)),
            Err(CivoError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a discovery covers: the regions whose lists were read (not those
/// that failed), and the clusters asked for, as asked. A blank query
/// matched every cluster's name in part, so it chose the only cluster
/// there was: every cluster is covered. `None` (not recorded: unknown)
/// for a blank region code, which a checked one never is.
fn coverage(regions: &[RegionLists], queries: &[String]) -> Option<Coverage> {
    let coverage = Coverage::new(regions.iter().map(|r| r.code.clone())).ok()?;
    if queries.iter().any(|q| q.trim().is_empty()) {
        return Some(coverage);
    }
    coverage.with_clusters(queries.iter().map(|q| q.trim().to_owned())).ok()
}

/// Whether a region's failure leaves the other regions worth reporting: a
/// permission, a rate limit, a server error. Never a refused key.
fn degrades(error: &CivoError) -> bool {
    matches!(error, CivoError::Forbidden { .. }) || error.status().is_some_and(|s| s == 429 || s >= 500)
}

/// A list the key may not read (403) is `None`; every other error stays one.
async fn permitted<T>(list: impl Future<Output = Result<Vec<T>, CivoError>>) -> Result<Option<Vec<T>>, CivoError> {
    match list.await {
        Ok(items) => Ok(Some(items)),
        Err(CivoError::Forbidden { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Chosen clusters as `(region, cluster)` indices (every cluster without
/// queries), and for each query the indices into the chosen list it
/// matched.
type Choice = (Vec<(usize, usize)>, Vec<(String, Vec<usize>)>);

fn choose(regions: &[RegionLists], queries: &[String], several: bool) -> Result<Choice, CivoError> {
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    if queries.is_empty() {
        for (i, region) in regions.iter().enumerate() {
            chosen.extend((0..region.clusters.len()).map(|j| (i, j)));
        }
        return Ok((chosen, Vec::new()));
    }
    let mut matched = Vec::new();
    for query in queries {
        let mut picks = Vec::new();
        for found in pick(regions, query, several)? {
            let k = chosen.iter().position(|&c| c == found).unwrap_or_else(|| {
                chosen.push(found);
                chosen.len() - 1
            });
            picks.push(k);
        }
        matched.push((query.clone(), picks));
    }
    Ok((chosen, matched))
}

/// The clusters `query` names, with the Civo CLI's rules across regions:
/// `REGION/NAME`, else every exact (case-insensitive) name or exact id
/// (a name may repeat, in two regions or one), else the one cluster whose
/// name or id contains it.
fn pick(regions: &[RegionLists], query: &str, several: bool) -> Result<Vec<(usize, usize)>, CivoError> {
    let wanted = query.trim();
    let all = || {
        regions
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.clusters.iter().enumerate().map(move |(j, c)| ((i, j), r.code.as_str(), c)))
    };
    let indices = |found: Vec<((usize, usize), &str, &ApiCluster)>| found.into_iter().map(|(at, _, _)| at).collect();
    if let Some((region, name)) = wanted.split_once('/') {
        let found: Vec<_> = all()
            .filter(|(_, code, c)| code.eq_ignore_ascii_case(region) && c.name.eq_ignore_ascii_case(name))
            .collect();
        if !found.is_empty() {
            return Ok(indices(found));
        }
    }
    let exact: Vec<_> = all().filter(|(_, _, c)| c.id == wanted || c.name.eq_ignore_ascii_case(wanted)).collect();
    if !exact.is_empty() {
        return Ok(indices(exact));
    }
    let lower = wanted.to_lowercase();
    let partial: Vec<_> =
        all().filter(|(_, _, c)| c.id.contains(wanted) || c.name.to_lowercase().contains(&lower)).collect();
    match partial.len() {
        1 => Ok(indices(partial)),
        0 => Err(CivoError::ClusterNotFound { query: query.to_owned() }),
        _ => Err(CivoError::AmbiguousCluster {
            query: query.to_owned(),
            matches: partial
                .iter()
                .map(|(_, code, c)| if several { format!("{code}/{}", c.name) } else { c.name.clone() })
                .collect(),
        }),
    }
}
