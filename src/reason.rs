//! The sentences behind each classification.

use std::fmt::Display;

use crate::class::IpClass;

/// One sentence a person can act on, for an address of `class` described by
/// `subject` (e.g. "node w-1", "pod CIDR 10.42.0.0/16") in `clusters`.
pub(crate) fn write(class: IpClass, subject: impl Display, clusters: &[String]) -> String {
    let of = match clusters {
        [] => String::new(),
        [one] => format!(" of cluster {one}"),
        many => format!(" of clusters {}", many.join(", ")),
    };
    match class {
        IpClass::Egress => format!("{subject}{of}: pods leave the cluster from this address; whitelist it"),
        IpClass::LoadBalancer => {
            format!("{subject}{of}: carries inbound traffic only, pods never leave from it; do not whitelist it")
        }
        IpClass::Reserved => format!("{subject}: not used for pod egress; do not whitelist it"),
        IpClass::Node => format!(
            "private IP of {subject}{of}: never seen on the internet, pods leave through the egress IP; whitelist that instead"
        ),
        IpClass::NodeNetwork => format!(
            "inside the {subject}{of}: never seen on the internet, pods leave through the egress IP; whitelist that instead"
        ),
        IpClass::Pod => format!(
            "inside the {subject}{of}: pod traffic is masqueraded to the egress IP before it leaves; whitelist that instead"
        ),
        IpClass::Service => {
            format!(
                "inside the {subject}{of}: cluster-internal service addresses never leave the cluster; do not whitelist it"
            )
        }
        IpClass::Special => {
            format!("{subject}: special-purpose, never the source of a cluster's internet traffic; do not whitelist it")
        }
        IpClass::Private => {
            format!(
                "{subject}, claimed by no cluster: private addresses are never seen on the internet; do not whitelist it"
            )
        }
        IpClass::Public => {
            "public address unknown to this topology: no cluster's pods leave from it; do not whitelist it".to_owned()
        }
    }
}
