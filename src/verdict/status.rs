//! [`EgressStatus`] and [`IpFamily`]: the names a verdict is given in.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::names::serialized_names;

/// The verdict of `resolve` or `probe`, overall or for one family or node.
///
/// Only [`Confirmed`](Self::Confirmed), [`Expected`](Self::Expected) and
/// [`Observed`](Self::Observed) pass ([`is_ok`](Self::is_ok)); the CLI
/// exits 1 on every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EgressStatus {
    /// Observed from inside the cluster, and expected: for the resolver, a
    /// quorum agreed on an expected address; for the probe, every node
    /// left from an address its expected set holds.
    Confirmed,
    /// What the topology says, not verified by observation: none was asked
    /// for, it was made from outside the cluster, or (when accepted) it
    /// failed.
    Expected,
    /// Observed from inside the cluster, with nothing expected.
    Observed,
    /// Observed from inside the cluster, outside the expected set: the
    /// whitelist lacks an address pods leave from.
    Mismatch,
    /// The expected sources disagree: which one is right is not known.
    Conflict,
    /// The probe could not probe every node: what it saw holds, the rest
    /// is unverified.
    Partial,
    /// Inside the cluster, the observers did not verify the expected
    /// egress: none answered, every answer was rejected, or too few agreed.
    Unverified,
    /// Nothing expected, and nothing observed from inside the cluster; or
    /// every expected source asked failed, so what was observed cannot be
    /// checked; or, for the probe, no node could be probed.
    Unknown,
}

serialized_names!(EgressStatus, "egress status", {
    Confirmed => "confirmed",
    Expected => "expected",
    Observed => "observed",
    Mismatch => "mismatch",
    Conflict => "conflict",
    Partial => "partial",
    Unverified => "unverified",
    Unknown => "unknown",
});

impl EgressStatus {
    /// Whether a caller may go on: confirmed, expected or observed.
    ///
    /// ```
    /// use civo_egress::EgressStatus;
    /// assert!(EgressStatus::Confirmed.is_ok());
    /// assert!(!EgressStatus::Partial.is_ok() && !EgressStatus::Conflict.is_ok());
    /// ```
    #[must_use]
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Confirmed | Self::Expected | Self::Observed)
    }

    /// How little it shows: the overall status of several families is the
    /// one with the highest rank (a mismatch first, a confirmation last).
    pub(crate) const fn rank(self) -> u8 {
        match self {
            Self::Mismatch => 7,
            Self::Conflict => 6,
            Self::Partial => 5,
            Self::Unverified => 4,
            Self::Unknown => 3,
            Self::Expected => 2,
            Self::Observed => 1,
            Self::Confirmed => 0,
        }
    }
}

/// An address family: of a verdict ([`V4`](Self::V4) or [`V6`](Self::V6)),
/// or to ask about (also [`Both`](Self::Both), the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IpFamily {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
    /// Either (the default).
    #[default]
    Both,
}

serialized_names!(IpFamily, "address family", { V4 => "v4", V6 => "v6", Both => "both" });

impl IpFamily {
    /// Whether `ip` belongs to this family.
    ///
    /// ```
    /// use civo_egress::IpFamily;
    /// assert!(IpFamily::V6.admits("2a00:1098::1".parse()?));
    /// assert!(!IpFamily::V4.admits("2a00:1098::1".parse()?));
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    #[must_use]
    pub const fn admits(self, ip: IpAddr) -> bool {
        match self {
            Self::V4 => ip.is_ipv4(),
            Self::V6 => ip.is_ipv6(),
            Self::Both => true,
        }
    }

    /// The family of `ip`.
    #[must_use]
    pub const fn of(ip: IpAddr) -> Self {
        if ip.is_ipv4() { Self::V4 } else { Self::V6 }
    }
}
