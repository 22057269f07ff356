//! A probe's run: list the nodes, and for each create a pod, wait for it,
//! read its log, delete it; then sweep the run's pods by label.
//!
//! Every pod is deleted on every path:
//!
//! - each pod's name is chosen here, before its create is sent, and a
//!   [`PodGuard`] is armed before the request leaves: whatever happens to
//!   the create (an error, a 500 after the pod was stored, a timeout), the
//!   pod is deleted by name, and a 404 is success;
//! - on the normal paths (success, a failed pod, a timeout, the deadline)
//!   the deletion is awaited before [`Probe::run`](super::Probe::run)
//!   returns, and then every pod that carries this run's label is listed and
//!   deleted (the sweep catches a pod stored by a create whose answer was
//!   lost);
//! - when the future is dropped (cancelled), each armed guard's `Drop`
//!   spawns its deletion on the tokio runtime, and the run's [`SweepGuard`]
//!   spawns the sweep twice, at once and two seconds later (a create still
//!   in flight when the future was dropped is stored after the first);
//! - a create cut by a timeout may still be stored later: its guard stays
//!   armed, and deletes it again two seconds after;
//! - last, `activeDeadlineSeconds` stops a pod the API could not be asked to
//!   delete (a runtime shut down, the API unreachable): it is then Failed,
//!   not running, and the label finds it.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::join_all;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use tokio::time::{Instant, sleep, timeout_at};

use super::error::{ProbeError, Secrets};
use super::pod::{self, MANAGED_BY, MANAGED_BY_LABEL, PodPlan, RUN_LABEL};
use super::report::{EchoObservation, NodeFacts, NodeProbe, ProbeReport};
use crate::Cluster;

/// How long the deletions and the sweep may take after the work (past the
/// deadline too: a pod left behind is worse than a late answer).
const CLEANUP: Duration = Duration::from_secs(10);
/// How long the poll waits first, and at most, between two looks at a pod.
const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(1);
/// The delay of the second deletion of a guard or sweep.
const AGAIN: Duration = Duration::from_secs(2);

/// What a run needs of its probe.
#[derive(Debug)]
pub(crate) struct RunSettings<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) image: &'a str,
    pub(crate) urls: &'a [String],
    pub(crate) nodes: &'a [String],
    pub(crate) addresses: crate::AddressPolicy,
    pub(crate) pod_timeout: Duration,
    pub(crate) deadline: Instant,
    pub(crate) secrets: &'a Secrets,
}

/// A Kubernetes node as the probe sees it.
#[derive(Debug, Clone)]
struct KubeNode {
    name: String,
    internal_ips: Vec<IpAddr>,
}

impl KubeNode {
    fn of(node: &Node) -> Option<Self> {
        let name = node.metadata.name.clone()?;
        let internal_ips = node
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .map(|addresses| {
                addresses
                    .iter()
                    .filter(|a| a.type_ == "InternalIP")
                    .filter_map(|a| a.address.parse::<IpAddr>().ok())
                    .collect()
            })
            .unwrap_or_default();
        Some(Self { name, internal_ips })
    }
}

/// The run.
pub(crate) async fn run(
    client: kube::Client,
    cluster: &Cluster,
    settings: &RunSettings<'_>,
) -> Result<ProbeReport, ProbeError> {
    let started = Instant::now();
    let secrets = settings.secrets;
    let listed = timeout_at(settings.deadline, Api::<Node>::all(client.clone()).list(&ListParams::default()))
        .await
        .map_err(|_| ProbeError::Timeout(settings.deadline.saturating_duration_since(started)))?
        .map_err(|e| ProbeError::from_kube(e, secrets))?;
    let mut listed: Vec<KubeNode> = listed.items.iter().filter_map(KubeNode::of).collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name));

    // The rows: the nodes named (in order, once each), or all of them.
    let mut wanted: Vec<Result<KubeNode, String>> = Vec::new();
    if settings.nodes.is_empty() {
        wanted.extend(listed.iter().cloned().map(Ok));
    } else {
        for name in settings.nodes {
            if wanted.iter().any(|w| w.as_ref().map_or_else(|n| n == name, |k| &k.name == name)) {
                continue;
            }
            wanted.push(listed.iter().find(|k| &k.name == name).cloned().ok_or_else(|| name.clone()));
        }
    }
    // Topology nodes Kubernetes does not list, when every node is probed.
    let missing: Vec<String> = if settings.nodes.is_empty() {
        cluster
            .nodes()
            .iter()
            .filter(|t| {
                !listed
                    .iter()
                    .any(|k| t.private_ip().is_some_and(|ip| k.internal_ips.contains(&ip)) || k.name == t.name())
            })
            .map(|t| t.name().to_owned())
            .collect()
    } else {
        Vec::new()
    };

    let pods = Api::<Pod>::namespaced(client, settings.namespace);
    let run_id = pod::random_word(10);
    let mut sweep = SweepGuard { pods: pods.clone(), run: run_id.clone(), armed: true };

    let rows = join_all(wanted.iter().map(|w| probe_node(&pods, cluster, w, &run_id, settings))).await;
    let last_log = rows.iter().filter_map(|(_, at)| *at).max();
    let rows: Vec<NodeProbe> = rows.into_iter().map(|(row, _)| row).collect();

    if timeout_at(Instant::now() + CLEANUP, sweep_run(&pods, &run_id)).await.is_ok_and(|r| r.is_ok()) {
        sweep.armed = false;
    }
    if let Some(error) = cannot_run(&rows) {
        return Err(error);
    }
    let mut report = ProbeReport::conclude(cluster.name(), rows, &missing, settings.nodes.is_empty());
    // What the snapshot knew about the cluster travels into the report.
    report.prepend_warnings(cluster.caveats());
    let done = Instant::now();
    Ok(report.with_times(done - started, last_log.map(|at| done - at)))
}

/// The probe as a whole could not run: no node answered, and every node
/// failed alike (pods forbidden, the API unreachable, the same pod failure
/// everywhere). Then the error is the answer, not a report of `unknown`
/// rows.
fn cannot_run(rows: &[NodeProbe]) -> Option<ProbeError> {
    if rows.iter().any(|row| row.observed().is_some()) {
        return None;
    }
    let first = rows.first()?.error()?;
    let alike = |e: &ProbeError| match (e, first) {
        (ProbeError::PodNotStarted { reason: a, .. }, ProbeError::PodNotStarted { reason: b, .. }) => a == b,
        _ => std::mem::discriminant(e) == std::mem::discriminant(first),
    };
    let everywhere = rows.iter().all(|row| row.error().is_some_and(alike));
    // A pod that ran and reached no echo service is a finding about the
    // network (nothing observed), not a probe that could not run.
    let ran = matches!(first, ProbeError::NoEcho { .. }) || first.is_no_such_node();
    (everywhere && !ran).then(|| first.clone())
}

/// One node's row, and when its log was read.
async fn probe_node(
    pods: &Api<Pod>,
    cluster: &Cluster,
    wanted: &Result<KubeNode, String>,
    run: &str,
    settings: &RunSettings<'_>,
) -> (NodeProbe, Option<Instant>) {
    let started = Instant::now();
    let node = match wanted {
        Ok(node) => node,
        Err(name) => {
            let facts = NodeFacts {
                node: name.clone(),
                private_ip: None,
                in_topology: cluster.nodes().iter().any(|t| t.name() == name),
                expected: expected_of(cluster, None),
                pod: None,
                elapsed: Duration::ZERO,
            };
            return (NodeProbe::new(facts, Vec::new(), Some(ProbeError::NoSuchNode { node: name.clone() })), None);
        }
    };
    let known = cluster
        .nodes()
        .iter()
        .find(|t| t.private_ip().is_some_and(|ip| node.internal_ips.contains(&ip)))
        .or_else(|| cluster.nodes().iter().find(|t| t.name() == node.name));
    let plan = PodPlan {
        name: pod::pod_name(&node.name, &pod::random_word(5)),
        node: &node.name,
        run,
        nonce: pod::random_word(12),
        image: settings.image,
        urls: settings.urls,
        active_deadline: settings.pod_timeout,
    };
    let until = settings.deadline.min(started + settings.pod_timeout);
    let mut guard = PodGuard { pods: pods.clone(), name: Some(plan.name.clone()) };
    let outcome = timeout_at(until, pod_log(pods, &plan, settings)).await;
    let read_at = Instant::now();
    let (observations, error, create_done) = match outcome {
        Ok(Ok((log, failure))) => {
            let outcomes = pod::parse_output(&log, &plan.nonce, settings.urls.len(), settings.addresses);
            let observations: Vec<EchoObservation> =
                settings.urls.iter().cloned().zip(outcomes).map(|(url, o)| EchoObservation::new(url, o)).collect();
            // A failed pod that printed no answer: the failure is the error.
            let answered = observations.iter().any(|o| o.ip().is_some());
            (observations, failure.filter(|_| !answered), true)
        }
        Ok(Err((error, create_done))) => (Vec::new(), Some(error), create_done),
        Err(_) => {
            let phase = last_phase(pods, &plan.name).await;
            let error = match phase {
                Some(phase) => ProbeError::PodTimeout { pod: plan.name.clone(), phase, after: until - started },
                None => ProbeError::Timeout(until - started),
            };
            (Vec::new(), Some(error), false)
        }
    };
    // Delete now, and keep the guard armed when the create may yet be
    // stored (it was cut by the timeout): its drop deletes again later.
    let deleted = timeout_at(Instant::now() + CLEANUP, delete_pod(pods, &plan.name)).await.is_ok_and(|r| r.is_ok());
    if deleted && create_done {
        guard.name = None;
    }
    drop(guard);
    let private_ip = node
        .internal_ips
        .iter()
        .copied()
        .find(|ip| known.is_some_and(|t| t.private_ip() == Some(*ip)))
        .or_else(|| node.internal_ips.first().copied())
        .or_else(|| known.and_then(crate::Node::private_ip));
    let facts = NodeFacts {
        node: node.name.clone(),
        private_ip,
        in_topology: known.is_some(),
        expected: expected_of(cluster, known),
        pod: Some(plan.name.clone()),
        elapsed: read_at - started,
    };
    let read = if observations.is_empty() { None } else { Some(read_at) };
    (NodeProbe::new(facts, observations, error), read)
}

/// A node's expected egress: its own public IP in a public-IP pool, else the
/// cluster's egress IP(s).
fn expected_of(cluster: &Cluster, node: Option<&crate::Node>) -> Vec<IpAddr> {
    match node.and_then(crate::Node::public_ip) {
        Some(own) => vec![own],
        None => cluster.cluster_egress_ips().to_vec(),
    }
}

/// Creates the pod, waits for it to finish, reads its log. The log comes
/// with the pod's failure, if it failed (it may have printed answers
/// first). An error comes with whether the create was answered.
async fn pod_log(
    pods: &Api<Pod>,
    plan: &PodPlan<'_>,
    settings: &RunSettings<'_>,
) -> Result<(String, Option<ProbeError>), (ProbeError, bool)> {
    let secrets = settings.secrets;
    pods.create(&PostParams::default(), &plan.pod()).await.map_err(|e| (ProbeError::from_kube(e, secrets), true))?;
    let mut pause = POLL_FIRST;
    let failure = loop {
        let pod = pods.get(&plan.name).await.map_err(|e| {
            let error = match e {
                kube::Error::Api(status) if status.code == 404 => ProbeError::PodNotStarted {
                    pod: plan.name.clone(),
                    reason: "Deleted".into(),
                    message: "the pod disappeared".into(),
                },
                other => ProbeError::from_kube(other, secrets),
            };
            (error, true)
        })?;
        let status = pod.status.unwrap_or_default();
        match status.phase.as_deref() {
            Some("Succeeded") => break None,
            Some("Failed") => {
                let why = [status.reason.unwrap_or_default(), status.message.unwrap_or_default()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(": ");
                let message = if why.is_empty() { "Failed".to_owned() } else { format!("Failed: {why}") };
                break Some(ProbeError::PodFailed { pod: plan.name.clone(), message });
            }
            _ => {}
        }
        // A container that cannot be created never will be.
        let waiting = status.container_statuses.iter().flatten().find_map(|c| c.state.as_ref()?.waiting.as_ref());
        if let Some(waiting) = waiting
            && let Some(reason) = waiting.reason.as_deref()
            && matches!(reason, "InvalidImageName" | "CreateContainerConfigError" | "ErrImageNeverPull")
        {
            return Err((
                ProbeError::PodNotStarted {
                    pod: plan.name.clone(),
                    reason: reason.to_owned(),
                    message: waiting.message.clone().unwrap_or_default(),
                },
                true,
            ));
        }
        sleep(pause).await;
        pause = (pause * 3 / 2).min(POLL_MAX);
    };
    let cap = i64::try_from(pod::log_cap(settings.urls.len())).unwrap_or(i64::MAX);
    let params = LogParams { limit_bytes: Some(cap), ..LogParams::default() };
    let log = pods.logs(&plan.name, &params).await.map_err(|e| (ProbeError::from_kube(e, secrets), true))?;
    Ok((log, failure))
}

/// Where a pod was when its time ran out: `Pending (ImagePullBackOff)`.
async fn last_phase(pods: &Api<Pod>, name: &str) -> Option<String> {
    let pod = timeout_at(Instant::now() + Duration::from_secs(2), pods.get_opt(name)).await.ok()?.ok()??;
    let status = pod.status.unwrap_or_default();
    let phase = status.phase.unwrap_or_else(|| "Pending".to_owned());
    let waiting =
        status.container_statuses.iter().flatten().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    Some(match waiting {
        Some(reason) => format!("{phase} ({reason})"),
        None => phase,
    })
}

/// Deletes a pod at once (grace period 0: it has done its work, or must
/// stop); a 404 is success.
async fn delete_pod(pods: &Api<Pod>, name: &str) -> Result<(), kube::Error> {
    match pods.delete(name, &DeleteParams::background().grace_period(0)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes every pod of the run (by its label, checked again here: a server
/// that ignored the selector must not have us delete another's pods).
async fn sweep_run(pods: &Api<Pod>, run: &str) -> Result<(), kube::Error> {
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY},{RUN_LABEL}={run}");
    let listed = pods.list(&ListParams::default().labels(&selector)).await?;
    let mut result = Ok(());
    for pod in listed.items {
        let labels = pod.metadata.labels.unwrap_or_default();
        let ours = labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
            && labels.get(RUN_LABEL).map(String::as_str) == Some(run);
        if let (true, Some(name)) = (ours, pod.metadata.name)
            && let Err(e) = delete_pod(pods, &name).await
        {
            result = Err(e);
        }
    }
    result
}

/// Deletes its pod when dropped armed (the future cancelled, or a create cut
/// by a timeout): spawned on the current tokio runtime, now and again
/// [`AGAIN`] later.
struct PodGuard {
    pods: Api<Pod>,
    name: Option<String>,
}

impl Drop for PodGuard {
    fn drop(&mut self) {
        let (Some(name), Ok(runtime)) = (self.name.take(), tokio::runtime::Handle::try_current()) else { return };
        let pods = self.pods.clone();
        runtime.spawn(async move {
            let _ = timeout_at(Instant::now() + CLEANUP, delete_pod(&pods, &name)).await;
            sleep(AGAIN).await;
            let _ = timeout_at(Instant::now() + CLEANUP, delete_pod(&pods, &name)).await;
        });
    }
}

/// Sweeps the run's pods when dropped armed (the future cancelled, or the
/// sweep failed): spawned, now and again [`AGAIN`] later.
struct SweepGuard {
    pods: Api<Pod>,
    run: String,
    armed: bool,
}

impl Drop for SweepGuard {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if !self.armed {
            return;
        }
        let pods = self.pods.clone();
        let run = std::mem::take(&mut self.run);
        runtime.spawn(async move {
            let _ = timeout_at(Instant::now() + CLEANUP, sweep_run(&pods, &run)).await;
            sleep(AGAIN).await;
            let _ = timeout_at(Instant::now() + CLEANUP, sweep_run(&pods, &run)).await;
        });
    }
}
