//! The watcher's state as Prometheus metrics, by the Prometheus project's
//! own client (`prometheus-client`): a collector that reads the latest state
//! at each scrape, so a scrape never waits for a refresh and a refresh
//! never writes metrics.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::{StateReceiver, WatchState};
use crate::{EgressStatus, IpFamily};

/// The `Content-Type` of [`Metrics::render`]'s text: Prometheus' text
/// format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every status of the `civo_egress_verdict` state set, in rank order.
const STATUSES: [EgressStatus; 8] = [
    EgressStatus::Confirmed,
    EgressStatus::Observed,
    EgressStatus::Expected,
    EgressStatus::Unknown,
    EgressStatus::Unverified,
    EgressStatus::Partial,
    EgressStatus::Conflict,
    EgressStatus::Mismatch,
];

/// The metrics of a [`Watcher`](super::Watcher) (binding names, see the
/// [module docs](super)): a registry whose collector reads the watcher's
/// latest state at each [`render`](Self::render).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    /// The metrics of the state `state` follows.
    #[must_use]
    pub fn new(state: StateReceiver) -> Self {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(StateCollector { state }));
        Self { registry }
    }

    /// The registry, to add metrics of one's own (the binary's `--exec`
    /// failures): they are rendered with the watcher's.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The metrics now, in Prometheus' text format ([`CONTENT_TYPE`]).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        let encoded = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        // The collector fails only when its writer does, and a String does not.
        encoded.expect("encoding into a String cannot fail"); // ok: a String never fails to grow
        text
    }
}

#[derive(Debug)]
struct StateCollector {
    state: StateReceiver,
}

fn family<'a>(
    encoder: &'a mut DescriptorEncoder<'_>,
    name: &'a str,
    help: &str,
    kind: MetricType,
) -> Result<MetricEncoder<'a>, fmt::Error> {
    encoder.encode_descriptor(name, help, None, kind)
}

fn gauge(metric: &mut MetricEncoder<'_>, labels: &[(&str, &str)], value: i64) -> fmt::Result {
    ConstGauge::new(value).encode(metric.encode_family(&labels)?)
}

fn seconds(time: std::time::SystemTime) -> f64 {
    time.duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let state = self.state.latest();
        let s: &WatchState = &state;
        let mut m =
            family(&mut encoder, "civo_egress_build_info", "Always 1: the watcher's version.", MetricType::Gauge)?;
        gauge(&mut m, &[("version", env!("CARGO_PKG_VERSION"))], 1)?;

        let mut m = family(
            &mut encoder,
            "civo_egress_ip_info",
            "1 for each current egress IP of a cluster.",
            MetricType::Gauge,
        )?;
        for c in s.clusters() {
            for ip in c.egress_ips() {
                let ip_text = ip.to_string();
                let family = if ip.is_ipv4() { IpFamily::V4 } else { IpFamily::V6 };
                let labels = [
                    ("cluster", c.cluster()),
                    ("cluster_id", c.cluster_id().unwrap_or("")),
                    ("region", c.region().unwrap_or("")),
                    ("ip", ip_text.as_str()),
                    ("family", family.as_str()),
                ];
                gauge(&mut m, &labels, 1)?;
            }
        }

        let help = "1 while nodes of a public-IP pool of the cluster have no public IP yet.";
        let mut m = family(&mut encoder, "civo_egress_incomplete", help, MetricType::Gauge)?;
        for c in s.clusters() {
            gauge(&mut m, &[("cluster", c.cluster())], i64::from(c.pending() > 0))?;
        }
        let help = "Public-IP pool nodes of the cluster without a public IP yet.";
        let mut m = family(&mut encoder, "civo_egress_pending_nodes", help, MetricType::Gauge)?;
        for c in s.clusters() {
            gauge(&mut m, &[("cluster", c.cluster())], i64::from(c.pending()))?;
        }

        let help = "1 for a cluster the last refresh left out (its last known egress IPs are kept), by why.";
        let mut m = family(&mut encoder, "civo_egress_left_out", help, MetricType::Gauge)?;
        for c in s.clusters() {
            if let Some(kind) = c.left_out_kind() {
                gauge(&mut m, &[("cluster", c.cluster()), ("kind", kind.as_str())], 1)?;
            }
        }

        let help = "Changes of the cluster's egress set seen since the watcher started.";
        let mut m = family(&mut encoder, "civo_egress_changes", help, MetricType::Counter)?;
        for c in s.clusters() {
            ConstCounter::new(c.changes()).encode(m.encode_family(&[("cluster", c.cluster())])?)?;
        }
        let help = "When the cluster's egress set last changed (Unix seconds), once it has.";
        let mut m = family(&mut encoder, "civo_egress_last_change_timestamp_seconds", help, MetricType::Gauge)?;
        for c in s.clusters() {
            if let Some(time) = c.last_change() {
                ConstGauge::new(seconds(time)).encode(m.encode_family(&[("cluster", c.cluster())])?)?;
            }
        }

        let help = "1 when the allowlist lets in every egress IP of the cluster and that set is fully known.";
        let mut m = family(&mut encoder, "civo_egress_allowlist_covered", help, MetricType::Gauge)?;
        for c in s.clusters() {
            for a in c.allowlists() {
                gauge(&mut m, &[("allowlist", a.allowlist()), ("cluster", c.cluster())], i64::from(a.is_covered()))?;
            }
        }
        let help = "How many egress IPs of the cluster the allowlist lacks.";
        let mut m = family(&mut encoder, "civo_egress_allowlist_missing_ips", help, MetricType::Gauge)?;
        for c in s.clusters() {
            for a in c.allowlists() {
                let missing = i64::try_from(a.missing().len()).unwrap_or(i64::MAX);
                gauge(&mut m, &[("allowlist", a.allowlist()), ("cluster", c.cluster())], missing)?;
            }
        }

        let r = s.refresh();
        let help = "1 when the last refresh succeeded.";
        let m = family(&mut encoder, "civo_egress_refresh_success", help, MetricType::Gauge)?;
        ConstGauge::new(i64::from(r.succeeded())).encode(m)?;
        if let Some(time) = r.last_success() {
            let help = "When a refresh last succeeded (Unix seconds).";
            let m =
                family(&mut encoder, "civo_egress_last_refresh_success_timestamp_seconds", help, MetricType::Gauge)?;
            ConstGauge::new(seconds(time)).encode(m)?;
        }
        let help = "The watcher's interval between refreshes, in seconds (before jitter and backoff).";
        let m = family(&mut encoder, "civo_egress_interval_seconds", help, MetricType::Gauge)?;
        ConstGauge::new(s.interval().as_secs_f64()).encode(m)?;
        let help = "How long the last refresh took, in seconds.";
        let m = family(&mut encoder, "civo_egress_refresh_duration_seconds", help, MetricType::Gauge)?;
        ConstGauge::new(r.last_duration().as_secs_f64()).encode(m)?;
        let help = "Refreshes done since the watcher started, failed ones included.";
        let m = family(&mut encoder, "civo_egress_refreshes", help, MetricType::Counter)?;
        ConstCounter::new(r.refreshes()).encode(m)?;
        let help = "Refreshes failed since the watcher started.";
        let m = family(&mut encoder, "civo_egress_refresh_errors", help, MetricType::Counter)?;
        ConstCounter::new(r.errors()).encode(m)?;

        let help = "1 for each caveat (kind) on a cluster; cluster=\"\" for the account's.";
        let mut m = family(&mut encoder, "civo_egress_caveats", help, MetricType::Gauge)?;
        let mut kinds: Vec<(&str, &str)> = Vec::new();
        for w in s.warnings() {
            kinds.push((w.cluster().unwrap_or(""), w.kind().as_str()));
        }
        for c in s.clusters() {
            for w in c.caveats() {
                kinds.push((c.cluster(), w.kind().as_str()));
            }
        }
        kinds.sort_unstable();
        kinds.dedup();
        for (cluster, kind) in kinds {
            gauge(&mut m, &[("cluster", cluster), ("kind", kind)], 1)?;
        }

        if s.is_observing() {
            let help = "A state set: 1 for the cluster's current verdict, 0 for the others.";
            let mut m = family(&mut encoder, "civo_egress_verdict", help, MetricType::Gauge)?;
            for c in s.clusters() {
                for status in STATUSES {
                    gauge(
                        &mut m,
                        &[("cluster", c.cluster()), ("status", status.as_str())],
                        i64::from(c.status() == status),
                    )?;
                }
            }
        }
        Ok(())
    }
}
