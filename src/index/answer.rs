//! Answers as the index keeps them, and as they are read.
//!
//! A range answer (a CIDR of a cluster, an IANA row) is shared by many
//! addresses and few exist: it keeps its sentence. A host answer is one
//! per known address: it keeps a reference to its deciding fact, and its
//! sentence is written from the topology's resources when read.

use std::fmt;
use std::sync::Arc;

use super::facts::{FactRef, Resources, Subject};
use crate::class::IpClass;
use crate::reason::{PoolNote, Sentence};

/// The answer of a range of addresses, written once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RangeAnswer {
    pub(crate) class: IpClass,
    pub(crate) clusters: Arc<[String]>,
    pub(crate) reason: Box<str>,
}

/// A host address that several facts of its class claim (the same
/// LoadBalancer in two clusters, say): rare, so kept aside.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// How many facts beyond the first.
    pub(crate) more: usize,
    /// Their clusters, in topology order, as names and as indexes.
    pub(crate) clusters: Arc<[String]>,
    pub(crate) indexes: Box<[usize]>,
}

/// One answer, borrowed from the index.
#[derive(Clone, Copy)]
pub(crate) enum AnswerRef<'a> {
    Range(&'a RangeAnswer),
    Host { resources: &'a Resources, class: IpClass, fact: FactRef, shared: Option<&'a Shared> },
}

impl<'a> AnswerRef<'a> {
    pub(crate) fn class(self) -> IpClass {
        match self {
            Self::Range(r) => r.class,
            Self::Host { class, .. } => class,
        }
    }

    /// The clusters the answer names, in topology order.
    pub(crate) fn clusters(self) -> &'a [String] {
        match self {
            Self::Range(r) => &r.clusters,
            Self::Host { shared: Some(s), .. } => &s.clusters,
            Self::Host { resources, fact, shared: None, .. } => one_or_none(resources, fact.cluster()),
        }
    }

    /// The same, shared: free for a range answer, one allocation otherwise.
    pub(crate) fn cluster_list(self) -> Arc<[String]> {
        match self {
            Self::Range(r) => Arc::clone(&r.clusters),
            Self::Host { shared: Some(s), .. } => Arc::clone(&s.clusters),
            Self::Host { .. } => self.clusters().into(),
        }
    }

    /// The stored sentence of a range answer; `None` for a host answer,
    /// whose sentence is written when displayed.
    pub(crate) fn stored_reason(self) -> Option<&'a str> {
        match self {
            Self::Range(r) => Some(&r.reason),
            Self::Host { .. } => None,
        }
    }

    /// Writes the answer's sentence.
    pub(crate) fn write_reason(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self::Host { resources, class, fact, shared } = self else {
            return f.write_str(self.stored_reason().unwrap_or_default()); // a range answer
        };
        let (cluster, subject) = resources.subject(fact);
        let (more, clusters, indexes) = match shared {
            Some(s) => (s.more, &*s.clusters, &*s.indexes),
            None => (0, one_or_none(resources, cluster), cluster.as_slice()),
        };
        write!(f, "{}", Sentence { class, subject: WithMore(subject, more), clusters })?;
        if class == IpClass::Egress {
            for &ci in indexes {
                write!(f, "{}", PoolNote(&resources.clusters[ci]))?;
            }
        }
        Ok(())
    }
}

/// The name of `cluster` as a one-name list, or an empty one.
fn one_or_none(resources: &Resources, cluster: Option<usize>) -> &[String] {
    cluster.map_or(&[], |ci| resources.clusters[ci].name_as_slice())
}

/// A subject, and how many others of the same class share the address.
pub(super) struct WithMore<'a>(pub(super) Subject<'a>, pub(super) usize);

impl fmt::Display for WithMore<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            0 => self.0.fmt(f),
            more => write!(f, "{} (and {more} more)", self.0),
        }
    }
}
