//! The one rule that weighs egress evidence, for `resolve` and `probe`
//! alike: what was expected (per source, and per node for the probe)
//! against what was observed (per source or per node, from inside the
//! cluster or not), decided per address family, with no I/O.
//!
//! The rules, each a row of the table in this module's tests:
//!
//! 1. A pod sees only its own node: one pod's observation never makes an
//!    expected IP stale (another node may leave from it); an observed IP
//!    nothing expected joins the egress IPs and fails the check. Only the
//!    probe, which sees every node, proves an IP stale.
//! 2. Expected sources that disagree (neither's set holds the other's) are
//!    a [`Conflict`](EgressStatus::Conflict), never confirmed.
//! 3. Observations count only from inside the cluster (the caller decides
//!    the vantage); from elsewhere they are the host's own IP.
//! 4. Families are decided separately, from every answer (the resolver
//!    waits for all of them), so the order answers arrive in changes
//!    nothing; an IPv6 egress nothing expected is a mismatch too.
//! 5. Observers that disagree are named in the warnings, and in any advice
//!    to allow an address.
//! 6. Inside the cluster, a family expected and not verified by any agreed
//!    observation is [`Unverified`](EgressStatus::Unverified) (a failure),
//!    unless the caller accepts an expected-only answer, and no observer
//!    saw an address outside the expected set.
//! 7. Expected sources are checked like observations: a non-global address
//!    (a kubeconfig server on 127.0.0.1, a tunnel) or a failure makes the
//!    source unusable, with why; when every one failed, an observation
//!    cannot be checked and the verdict is `unknown`.
//! 8. A node the probe could not probe, in a family it is expected to
//!    leave from (a pod that answered over IPv6 only was not probed in
//!    IPv4), leaves that family [`Partial`](EgressStatus::Partial), its
//!    expected IPs among the egress IPs, unverified; an IP is proven stale
//!    only when every node was asked and probed in its family.

// The rules are the core's, used by the `resolve` and `probe` layers: in a
// build without one of them, that one's half is unused.
#[cfg_attr(not(all(feature = "resolve", feature = "probe")), allow(dead_code))]
mod rules;
mod status;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use serde::ser::{SerializeStruct, Serializer};

pub use status::{EgressStatus, IpFamily};

#[cfg(feature = "resolve")]
pub(crate) use rules::{Answers, ResolveEvidence, resolve};
#[cfg(feature = "probe")]
pub(crate) use rules::{NodeEvidence, ProbeEvidence, node_status, probe};
#[cfg(feature = "watch")]
pub(crate) use rules::{egress_known, expected_only};

/// The verdict on one address family: its status, the IPs pods leave from
/// as far as shown, the ones the evidence proves no pod leaves from, and
/// the ones no observation verified.
///
/// Serializes as `{"family": "v4"|"v6", "status", "egress_ips",
/// "stale_ips", "unverified_ips", "observed"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyVerdict {
    pub(crate) family: IpFamily,
    pub(crate) status: EgressStatus,
    pub(crate) egress_ips: Vec<IpAddr>,
    pub(crate) stale_ips: Vec<IpAddr>,
    pub(crate) unverified_ips: Vec<IpAddr>,
    pub(crate) observed: Option<IpAddr>,
}

impl FamilyVerdict {
    /// [`IpFamily::V4`] or [`IpFamily::V6`].
    #[must_use]
    pub const fn family(&self) -> IpFamily {
        self.family
    }

    /// This family's status.
    #[must_use]
    pub const fn status(&self) -> EgressStatus {
        self.status
    }

    /// What pods leave from, as far as the evidence shows: every expected
    /// IP not proven stale, and every IP observed from inside the cluster.
    /// A whitelist must hold all of them.
    #[must_use]
    pub fn egress_ips(&self) -> &[IpAddr] {
        &self.egress_ips
    }

    /// Expected IPs the evidence proves no pod leaves from (only a probe of
    /// every node proves it).
    #[must_use]
    pub fn stale_ips(&self) -> &[IpAddr] {
        &self.stale_ips
    }

    /// Egress IPs no observation verified (expected only).
    #[must_use]
    pub fn unverified_ips(&self) -> &[IpAddr] {
        &self.unverified_ips
    }

    /// The address observers agreed on from inside the cluster (the
    /// resolver's quorum), if any.
    #[must_use]
    pub const fn observed(&self) -> Option<IpAddr> {
        self.observed
    }
}

impl serde::Serialize for FamilyVerdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FamilyVerdict", 6)?;
        s.serialize_field("family", &self.family)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("egress_ips", &self.egress_ips)?;
        s.serialize_field("stale_ips", &self.stale_ips)?;
        s.serialize_field("unverified_ips", &self.unverified_ips)?;
        s.serialize_field("observed", &self.observed)?;
        s.end()
    }
}

/// A verdict: the overall status (the least certain of the families'),
/// each family's, and the warnings that explain them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) status: EgressStatus,
    pub(crate) families: Vec<FamilyVerdict>,
    pub(crate) warnings: Vec<crate::Warning>,
}

impl Verdict {
    /// Every family's IPs of one kind, in family order, without repeats.
    #[cfg_attr(not(any(feature = "resolve", test)), allow(dead_code))]
    pub(crate) fn collect(&self, pick: impl Fn(&FamilyVerdict) -> &[IpAddr]) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = Vec::new();
        for family in &self.families {
            for ip in pick(family) {
                if !all.contains(ip) {
                    all.push(*ip);
                }
            }
        }
        all
    }
}
