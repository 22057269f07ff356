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
use crate::index::{AnswerRef, Compiled, Hit};

/// The answer of [`classify_ip`](crate::classify_ip): what the address is,
/// to which cluster(s) it belongs, whether to whitelist it, and why.
///
/// It borrows from the [`Topology`](crate::Topology) it came from, so
/// classifying allocates nothing, and costs nothing beyond the class until
/// more is read: the [`reason`](Self::reason) of a known host is written
/// when displayed. [`into_owned`](Self::into_owned) makes an
/// [`OwnedClassification`] that outlives the topology. Serializes as
/// `{"ip", "class", "clusters", "whitelistable", "reason"}`.
///
/// Two classifications are equal when their address, class, clusters and
/// reason are.
#[derive(Clone, Copy)]
#[must_use]
pub struct Classification<'t> {
    ip: IpAddr,
    /// The answer's id and class, from the index's one-byte side table:
    /// reading the class does not touch the answer.
    hit: Hit,
    compiled: &'t Compiled,
}

impl<'t> Classification<'t> {
    #[inline]
    pub(crate) const fn new(ip: IpAddr, hit: Hit, compiled: &'t Compiled) -> Self {
        Self { ip, hit, compiled }
    }

    fn answer(&self) -> AnswerRef<'t> {
        self.compiled.answer(self.hit.id)
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
        self.hit.class
    }

    /// The clusters the address belongs to, in topology order. Empty for
    /// `special`, `private` and `public`; several for a pod or service address,
    /// since every K3s cluster shares the same default CIDRs.
    #[must_use]
    pub fn clusters(&self) -> &'t [String] {
        self.answer().clusters()
    }

    /// Whether a partner should whitelist it (only egress addresses).
    #[must_use]
    #[inline]
    pub const fn is_whitelistable(&self) -> bool {
        self.hit.class.is_whitelistable()
    }

    /// One sentence a person can act on, written when displayed: see
    /// [`Reason`].
    ///
    /// ```
    /// use civo_egress::Topology;
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let reason = topology.classify_ip("212.2.253.151".parse()?).reason();
    /// assert_eq!(reason, "cluster IP (master_ip) of cluster prod: pods leave the cluster from this address; whitelist it");
    /// assert!(reason.to_string().ends_with("whitelist it"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn reason(&self) -> Reason<'t> {
        Reason::new(self.answer())
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
            reason: self.reason().into(),
        }
    }
}

impl PartialEq for Classification<'_> {
    fn eq(&self, other: &Self) -> bool {
        let same_answer = std::ptr::eq(self.compiled, other.compiled) && self.hit == other.hit;
        self.ip == other.ip
            && (same_answer
                || (self.class() == other.class()
                    && self.clusters() == other.clusters()
                    && self.reason() == other.reason()))
    }
}

impl Eq for Classification<'_> {}

/// Hashes the address, class and clusters: equal classifications agree on
/// them (the reason, written on demand, is left out).
impl std::hash::Hash for Classification<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.ip, self.class(), self.clusters()).hash(state);
    }
}

/// The reason of a [`Classification`]: one sentence a person can act on.
///
/// It is written when displayed, so that a topology of 100k hosts does not
/// keep 100k sentences: `to_string()` or `String::from` makes a `String`,
/// `{}` writes it anywhere (padding as `str` does), and it compares with
/// `str`, `&str` and `String`, either way round, without allocating.
/// Serializes as a string.
///
/// ```
/// use civo_egress::Topology;
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151",
///     "nodes": [{"name": "w-1", "private_ip": "192.168.1.4"}]}]}"#)?;
/// let reason = topology.classify_ip("192.168.1.4".parse()?).reason();
/// assert!(reason.to_string().starts_with("private IP of node w-1 of cluster prod: "));
/// assert_eq!(reason.as_str(), None); // a host's: written when read
/// assert_eq!(format!("{reason:.10}"), "private IP");
/// assert_eq!(serde_json::to_value(reason)?, serde_json::Value::String(reason.to_string()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Reason<'t>(AnswerRef<'t>);

impl<'t> Reason<'t> {
    pub(crate) const fn new(answer: AnswerRef<'t>) -> Self {
        Self(answer)
    }

    /// The sentence, when it is stored rather than written on demand (the
    /// reasons of ranges, such as a pod CIDR or an IANA row).
    #[must_use]
    pub fn as_str(&self) -> Option<&'t str> {
        self.0.stored_reason()
    }
}

/// Honours width, fill, alignment and precision as `str` does (a host's
/// sentence is then written into a string first).
impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(stored) = self.as_str() {
            return f.pad(stored);
        }
        if f.width().is_none() && f.precision().is_none() {
            return self.0.write_reason(f);
        }
        f.pad(&String::from(*self))
    }
}

/// Writes the sentence into a string sized for it at once (what
/// `to_string()` does too, growing it as it goes).
impl From<Reason<'_>> for String {
    #[allow(clippy::expect_used)]
    fn from(reason: Reason<'_>) -> Self {
        if let Some(stored) = reason.as_str() {
            return stored.to_owned();
        }
        // The longest sentences (a node's) are about 250 bytes.
        let mut sentence = String::with_capacity(256);
        fmt::write(&mut sentence, format_args!("{reason}")).expect("writing to a String cannot fail"); // ok: String's fmt::Write never errs
        sentence
    }
}

impl fmt::Debug for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl PartialEq<str> for Reason<'_> {
    fn eq(&self, other: &str) -> bool {
        if let Some(stored) = self.as_str() {
            return stored == other;
        }
        // Write into a comparer instead of a string.
        struct Prefix<'a>(&'a str);
        impl fmt::Write for Prefix<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Prefix(other);
        fmt::write(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
    }
}

impl PartialEq<&str> for Reason<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for Reason<'_> {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

impl PartialEq<Reason<'_>> for str {
    fn eq(&self, other: &Reason<'_>) -> bool {
        *other == *self
    }
}

impl PartialEq<Reason<'_>> for &str {
    fn eq(&self, other: &Reason<'_>) -> bool {
        *other == **self
    }
}

impl PartialEq<Reason<'_>> for String {
    fn eq(&self, other: &Reason<'_>) -> bool {
        *other == **self
    }
}

/// Compares the sentences (writing one of them into a string when neither
/// is stored).
impl PartialEq for Reason<'_> {
    fn eq(&self, other: &Self) -> bool {
        match other.as_str() {
            Some(stored) => self == stored,
            None => *self == *other.to_string(),
        }
    }
}

impl Eq for Reason<'_> {}

impl Serialize for Reason<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
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

fn display(
    f: &mut fmt::Formatter<'_>,
    ip: IpAddr,
    class: IpClass,
    clusters: &[String],
    reason: impl fmt::Display,
) -> fmt::Result {
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
    reason: impl Serialize,
) -> Result<S::Ok, S::Error> {
    let mut s = serializer.serialize_struct("Classification", 5)?;
    s.serialize_field("ip", &ip)?;
    s.serialize_field("class", &class)?;
    s.serialize_field("clusters", clusters)?;
    s.serialize_field("whitelistable", &class.is_whitelistable())?;
    s.serialize_field("reason", &reason)?;
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
        (self.ip, self.class(), self.clusters()) == (other.ip, other.class, other.clusters.as_slice())
            && self.reason() == other.reason
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
