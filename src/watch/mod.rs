//! Keep the egress under watch: a [`Watcher`] refreshes an account's
//! topology on an interval, checks named partner allowlists against it,
//! judges each cluster's egress by the one rule of [`EgressStatus`](crate::EgressStatus), and
//! tells what changed as typed [`Event`]s; its [`WatchState`] renders as
//! Prometheus [`Metrics`]. What `civo-egress watch` runs.
//!
//! The article's first edge case ends with "after any cluster change,
//! verify egress IP": the watcher is that verification, left running.
//!
//! # What it promises
//!
//! - A failed refresh (the API down, 429 or 5xx after the client's own
//!   retries, an unreadable snapshot) keeps the last known
//!   state: an IP is never reported removed for want of an answer. The next
//!   refresh comes after a backoff (5 s, doubling up to the interval, never
//!   below 5 s), never sooner than the API's `Retry-After`.
//! - A cluster the source leaves out (no usable egress IP, its instances
//!   gone), or absent while a region could not be read or outside what the
//!   refresh covered (a snapshot's recorded selection), keeps its last
//!   known egress IPs, with a `cluster-left-out` event and an `unknown`
//!   verdict. One absent from what was read is deleted: told
//!   (`cluster-left-out`, `cluster-gone`) and dropped. A cluster not ACTIVE
//!   is watched, `unverified` (its caveat doubts the egress).
//! - An allowlist covers a cluster only when it lets in every egress IP of
//!   a set fully known (no public-IP pool node pending, nothing in doubt,
//!   not left out, its file read); else `allowlist-uncovered` says
//!   `"incomplete": true`. A snapshot's warnings about one cluster (an
//!   egress collision, a reserved IP on a node) weigh on its verdict.
//! - An allowlist file that no longer reads keeps its last readable
//!   version, with a `source-unusable` warning: one partner's broken file
//!   does not blind the watch. Nothing watched (no cluster) is not clear.
//! - The verdict is [`EgressStatus`](crate::EgressStatus)'s one rule (the same as `resolve`'s):
//!   `expected` for a cluster known from the API alone, `unverified` while
//!   a caveat doubts its egress (a public-IP pool node without its IP, an
//!   unmeasured CNI...); with observers, the cluster the watcher runs in
//!   (proven by its service account's CA) is judged on what they saw.
//! - The interval is jittered by ±10 %.
//!
//! # Events (binding `kind` names)
//!
//! `cluster-added` (every cluster at the first refresh), `egress-changed`
//! (`cluster`, `added`, `removed`), `allowlist-uncovered` (`allowlist`,
//! `cluster`, `missing`, `incomplete`), `allowlist-covered`, `refresh-failed` (`error`),
//! `refresh-recovered`, `incomplete` and `complete` (`cluster`, `pending`),
//! `cluster-left-out`, and with observers `verdict-changed` (`cluster`,
//! `from`, `to`). Clusters are named `REGION/NAME`.
//!
//! # Metrics (binding names)
//!
//! `civo_egress_build_info{version}`, `civo_egress_ip_info{cluster,
//! cluster_id, region, ip, family}`, `civo_egress_incomplete{cluster}`,
//! `civo_egress_pending_nodes{cluster}`, `civo_egress_left_out{cluster, kind}`,
//! `civo_egress_changes_total{cluster}`,
//! `civo_egress_last_change_timestamp_seconds{cluster}`,
//! `civo_egress_allowlist_covered{allowlist, cluster}`,
//! `civo_egress_allowlist_missing_ips{allowlist, cluster}`,
//! `civo_egress_refresh_success`,
//! `civo_egress_last_refresh_success_timestamp_seconds`,
//! `civo_egress_refresh_duration_seconds` (a gauge: the last refresh),
//! `civo_egress_refreshes_total`, `civo_egress_refresh_errors_total`, `civo_egress_caveats{cluster, kind}`
//! and, with observers, `civo_egress_verdict{cluster, status}` (a state
//! set: 1 for the current status, 0 for the others).
//!
//! # Example
//!
//! One refresh of a snapshot, as a unit test of firewall tooling would:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use civo_egress::watch::{EventKind, Metrics, Origin, Watcher};
//! use civo_egress::{Cluster, Topology};
//! # let dir = std::env::temp_dir().join(format!("civo-egress-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let (snapshot, partner) = (dir.join("account.json"), dir.join("partner.txt"));
//! let cluster = Cluster::builder("example").region("LON1").egress_ip([212, 2, 253, 151]).build()?;
//! std::fs::write(&snapshot, Topology::new(vec![cluster], vec![], vec![])?.to_json())?;
//! std::fs::write(&partner, "212.2.253.151\n")?;
//! let mut watcher = Watcher::builder(Origin::Snapshot(snapshot)).allowlist("partner", &partner).build()?;
//! let metrics = Metrics::new(watcher.subscribe());
//! let events = watcher.refresh().await;
//! assert!(matches!(events[0].kind(), EventKind::ClusterAdded { .. }));
//! assert!(events.iter().any(|e| e.kind().name() == "allowlist-covered"));
//! assert!(watcher.state().is_clear());
//! assert!(metrics.render().contains(r#"civo_egress_ip_info{cluster="LON1/example",cluster_id="",region="LON1",ip="212.2.253.151",family="v4"} 1"#));
//! # Ok(()) }
//! ```

mod error;
mod event;
mod metrics;
#[cfg(test)]
mod proptests;
mod schedule;
mod state;
mod step;
#[cfg(test)]
mod tests;
mod watcher;

use std::sync::Arc;

pub use error::WatchError;
pub use event::{Event, EventKind};
pub use metrics::{CONTENT_TYPE, Metrics};
pub use state::{AllowlistCoverage, ClusterState, RefreshState, WatchState};
pub use watcher::{Origin, Watcher, WatcherBuilder};

/// Follows a [`Watcher`]'s state from another task: [`Watcher::subscribe`].
#[derive(Debug, Clone)]
pub struct StateReceiver(tokio::sync::watch::Receiver<Arc<WatchState>>);

impl StateReceiver {
    /// The state after the watcher's last refresh.
    #[must_use]
    pub fn latest(&self) -> Arc<WatchState> {
        Arc::clone(&self.0.borrow())
    }

    /// Waits for the next refresh; `false` once the watcher is gone.
    pub async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}

#[cfg(test)]
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Watcher>();
    send_sync::<WatchState>();
    send_sync::<Event>();
    send_sync::<Metrics>();
    send_sync::<StateReceiver>();
    send_sync::<WatchError>();
};
