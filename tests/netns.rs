//! The article's experiment, for real: a simulated Civo cluster in network
//! namespaces. Pods' packets are masqueraded by their node, routed through a
//! gateway that masquerades them to the cluster IP, and reach echo services
//! in an "internet" namespace that report the source address they actually
//! saw. Needs root, iproute2 and nftables. Without root the suite reports
//! itself as ignored (this file has its own libtest-mimic harness, so the
//! decision is made at run time and shows in the summary line); as root it
//! fails, never skips, when the lab cannot be built.
//!
//! ```text
//!   internet (ns inet): br0 203.0.113.1/24, HTTP echo 198.51.100.80:80, DNS echo 198.51.100.53:53
//!      |                                   |
//!   203.0.113.10 (egress IP)            203.0.113.20 (its own public IP)
//!   gateway (ns gw) ---- brn 192.168.1.1/24 ---- worker w1 .2, worker w2 .3, public-IP worker pw .4
//!   masquerade out of pub                     |        |                 masquerade pods out of pub
//!   pod 10.42.0.2                        pod 10.42.1.2  pod 10.42.2.2     pod 10.42.3.2
//!                                    (workers masquerade 10.42.0.0/16 to their node IP, as flannel does)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(target_os = "linux")]
#[path = "netns/lab.rs"]
mod lab;
#[cfg(target_os = "linux")]
#[path = "netns/vantage.rs"]
mod vantage;

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    // Decided at run time, so the summary line says "ignored", never "passed".
    let why_not = if !cfg!(target_os = "linux") {
        Some("network namespaces are Linux only")
    } else if !nix::unistd::geteuid().is_root() {
        Some("the network-namespace suite needs root (ip netns, veth, nftables, unshare --mount)")
    } else {
        None
    };
    if let Some(why) = why_not {
        eprintln!("tests/netns.rs: ignored: {why}");
    }
    let trials = vec![
        libtest_mimic::Trial::test("the_articles_experiment_in_network_namespaces", || {
            #[cfg(target_os = "linux")]
            lab::the_articles_experiment_in_network_namespaces();
            Ok(())
        })
        .with_ignored_flag(why_not.is_some()),
        libtest_mimic::Trial::test("a_pod_counts_only_when_its_service_account_ca_is_the_clusters", || {
            #[cfg(target_os = "linux")]
            vantage::a_pod_counts_only_when_its_service_account_ca_is_the_clusters();
            Ok(())
        })
        .with_ignored_flag(why_not.is_some()),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}
