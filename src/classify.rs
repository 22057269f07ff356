//! What an address is: [`Classification`], the answer of `classify_ip`,
//! and its owned form [`OwnedClassification`].
//!
//! Below `Topology`: a classification borrows an answer of the compiled
//! index. The function `classify_ip` itself lives with `Topology`.

use std::fmt;
use std::net::IpAddr;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

use crate::class::IpClass;
use crate::index::{Answer, Hit};

/// The answer of [`classify_ip`](crate::classify_ip): what the address is,
/// to which cluster(s) it belongs, whether to whitelist it, and why.
///
/// It borrows from the [`Topology`](crate::Topology) it came from, so
/// classifying allocates nothing; [`into_owned`](Self::into_owned) makes an
/// [`OwnedClassification`] that outlives the topology. Serializes as
/// `{"ip", "class", "clusters", "whitelistable", "reason"}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Classification<'t> {
    ip: IpAddr,
    /// A copy of `answer.class`, from the index's one-byte side table:
    /// reading the class does not touch the answer.
    class: IpClass,
    answer: &'t Answer,
}

impl<'t> Classification<'t> {
    #[inline]
    pub(crate) const fn new(ip: IpAddr, hit: Hit<'t>) -> Self {
        Self { ip, class: hit.class, answer: hit.answer }
    }

    /// The address as it was asked about (an IPv4-mapped IPv6 address stays
    /// as given, though it is classified as its IPv4 address).
    #[must_use]
    #[inline]
    pub const fn ip(&self) -> IpAddr {
        self.ip
    }

    /// What the address is.
    #[must_use]
    #[inline]
    pub const fn class(&self) -> IpClass {
        self.class
    }

    /// The clusters the address belongs to, in topology order. Empty for
    /// `special`, `private` and `public`; several for a pod or service address,
    /// since every K3s cluster shares the same default CIDRs.
    #[must_use]
    #[inline]
    pub fn clusters(&self) -> &'t [String] {
        &self.answer.clusters
    }

    /// Whether a partner should whitelist it (only egress addresses).
    #[must_use]
    #[inline]
    pub const fn is_whitelistable(&self) -> bool {
        self.class.is_whitelistable()
    }

    /// One sentence a person can act on.
    #[must_use]
    #[inline]
    pub fn reason(&self) -> &'t str {
        &self.answer.reason
    }

    /// Copies the answer out of the topology, so that it can be stored,
    /// sent or deserialized back.
    ///
    /// ```
    /// use civo_egress::{IpClass, OwnedClassification, Topology};
    /// let owned = {
    ///     let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    ///     topology.classify_ip("10.42.0.7".parse()?).into_owned()
    /// }; // the topology is gone
    /// assert_eq!(owned.class(), IpClass::Pod);
    /// let json = serde_json::to_string(&owned)?;
    /// assert_eq!(serde_json::from_str::<OwnedClassification>(&json)?, owned);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_owned(self) -> OwnedClassification {
        OwnedClassification {
            ip: self.ip,
            class: self.class(),
            clusters: self.clusters().to_vec(),
            reason: self.reason().to_owned(),
        }
    }
}

impl fmt::Debug for Classification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Classification({} {} {:?})", self.ip, self.class(), self.clusters())
    }
}

/// `IP CLASS [clusters]: reason`.
impl fmt::Display for Classification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, self.ip, self.class(), self.clusters(), self.reason())
    }
}

fn display(f: &mut fmt::Formatter<'_>, ip: IpAddr, class: IpClass, clusters: &[String], reason: &str) -> fmt::Result {
    write!(f, "{ip} {class}")?;
    if !clusters.is_empty() {
        write!(f, " [{}]", clusters.join(", "))?;
    }
    write!(f, ": {reason}")
}

fn serialize<S: Serializer>(
    serializer: S,
    ip: IpAddr,
    class: IpClass,
    clusters: &[String],
    reason: &str,
) -> Result<S::Ok, S::Error> {
    let mut s = serializer.serialize_struct("Classification", 5)?;
    s.serialize_field("ip", &ip)?;
    s.serialize_field("class", &class)?;
    s.serialize_field("clusters", clusters)?;
    s.serialize_field("whitelistable", &class.is_whitelistable())?;
    s.serialize_field("reason", reason)?;
    s.end()
}

impl Serialize for Classification<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(serializer, self.ip, self.class(), self.clusters(), self.reason())
    }
}

/// A [`Classification`] that owns its data: what
/// [`Classification::into_owned`] returns, with the same accessors and the
/// same JSON (`{"ip", "class", "clusters", "whitelistable", "reason"}`),
/// which it also reads back. `whitelistable` must agree with `class`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OwnedClassification {
    ip: IpAddr,
    class: IpClass,
    clusters: Vec<String>,
    reason: String,
}

impl OwnedClassification {
    /// The address as it was asked about.
    #[must_use]
    pub const fn ip(&self) -> IpAddr {
        self.ip
    }

    /// What the address is.
    #[must_use]
    pub const fn class(&self) -> IpClass {
        self.class
    }

    /// The clusters the address belongs to, in topology order.
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// Whether a partner should whitelist it (only egress addresses).
    #[must_use]
    pub const fn is_whitelistable(&self) -> bool {
        self.class.is_whitelistable()
    }

    /// One sentence a person can act on.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl From<Classification<'_>> for OwnedClassification {
    fn from(c: Classification<'_>) -> Self {
        c.into_owned()
    }
}

impl PartialEq<OwnedClassification> for Classification<'_> {
    fn eq(&self, other: &OwnedClassification) -> bool {
        (self.ip, self.class(), self.clusters(), self.reason())
            == (other.ip, other.class, other.clusters.as_slice(), other.reason.as_str())
    }
}

impl fmt::Debug for OwnedClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnedClassification({} {} {:?})", self.ip, self.class, self.clusters)
    }
}

/// `IP CLASS [clusters]: reason`, as [`Classification`] writes it.
impl fmt::Display for OwnedClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, self.ip, self.class, &self.clusters, &self.reason)
    }
}

impl Serialize for OwnedClassification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(serializer, self.ip, self.class, &self.clusters, &self.reason)
    }
}

impl<'de> Deserialize<'de> for OwnedClassification {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            ip: IpAddr,
            class: IpClass,
            clusters: Vec<String>,
            whitelistable: bool,
            reason: String,
        }
        let s = Shape::deserialize(deserializer)?;
        if s.whitelistable != s.class.is_whitelistable() {
            return Err(serde::de::Error::custom(format_args!(
                "whitelistable is {} but class {} is {}",
                s.whitelistable,
                s.class,
                if s.class.is_whitelistable() { "whitelistable" } else { "never whitelistable" }
            )));
        }
        Ok(Self { ip: s.ip, class: s.class, clusters: s.clusters, reason: s.reason })
    }
}
