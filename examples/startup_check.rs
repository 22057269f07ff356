//! A service's startup that refuses to run when its egress IP is not the one
//! its partner whitelisted.
//!
//! ```text
//! cargo run --example startup_check -- [--vantage pod|host] partner-allowlist.txt [ECHO_URL...]
//! ```
//!
//! The allowlist is what the partner allows (one IP or CIDR per line). The
//! expected egress comes from `CIVO_EGRESS_IP` (or, in a real service, a
//! `CivoSource` or `KubeconfigSource`); the observation from the echo URLs
//! given, else the public defaults. Exit 0 and "starting" when the observed
//! egress IP is allowed; exit 1 with a sentence a person can act on when not.
//!
//! A startup check runs inside the service's pod: there, what the echo
//! services see is the cluster's egress IP. The resolver detects a pod (the
//! kubelet's `KUBERNETES_SERVICE_HOST`/`_PORT` and the service-account
//! files) and counts it as the cluster's only when its service-account CA is
//! the cluster's: set `CIVO_EGRESS_CLUSTER_CA` to the cluster's
//! `ca_fingerprint` (`sha256:...`, as `civo-egress discover` records it), or
//! state `--vantage pod` (the service knows where it runs). Run on a laptop,
//! a CI runner or a pod of another cluster, the echo services would see
//! that host's IP, so the check refuses to judge
//! (`EgressCheckError::HostVantage`).

use std::process::ExitCode;
use std::time::Duration;

use civo_egress::resolve::{EgressResolver, HttpEchoSource, StaticSource, Vantage};
use civo_egress::{Allowlist, CaFingerprint};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let expected = match StaticSource::from_env() {
        Ok(expected) => expected,
        Err(e) => {
            eprintln!("refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match check(std::env::args().skip(1), expected).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("refusing to start: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The check: `args` as on the command line (without the program name),
/// `expected` the egress IPs the service was told (`CIVO_EGRESS_IP` in
/// `main`). The message to print on success, or why the service must not
/// start.
///
/// # Errors
///
/// The arguments or the allowlist are unusable, or the observed egress IP is
/// not in the allowlist (or cannot be known).
pub async fn check(args: impl Iterator<Item = String>, expected: Option<StaticSource>) -> Result<String, String> {
    const USAGE: &str = "usage: startup_check [--vantage pod|host] ALLOWLIST_FILE [ECHO_URL...]";
    let mut args = args.peekable();
    let mut vantage = None;
    if args.peek().is_some_and(|arg| arg == "--vantage") {
        args.next();
        let name = args.next().ok_or(USAGE)?;
        vantage = Some(name.parse::<Vantage>().map_err(|e| format!("--vantage: {e}"))?);
    }
    let path = args.next().ok_or(USAGE)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let allowlist = Allowlist::parse(&text).map_err(|e| format!("{path}: {e}"))?;

    let urls: Vec<String> = args.collect();
    let echoes = if urls.is_empty() {
        HttpEchoSource::defaults()
    } else {
        HttpEchoSource::many(&urls).map_err(|e| e.to_string())?
    };
    let mut resolver = EgressResolver::builder()
        .sources(echoes)
        .quorum(if urls.len() == 1 { 1 } else { 2 })
        .deadline(Duration::from_secs(5));
    if let Some(expected) = expected {
        resolver = resolver.source(expected);
    }
    // The cluster's CA proves a detected pod is the cluster's.
    if let Ok(ca) = std::env::var("CIVO_EGRESS_CLUSTER_CA") {
        let ca = ca.parse::<CaFingerprint>().map_err(|e| format!("CIVO_EGRESS_CLUSTER_CA: {e}"))?;
        resolver = resolver.cluster_cas([ca]);
    }
    // Stated, or detected and proven.
    if let Some(vantage) = vantage {
        resolver = resolver.vantage(vantage);
    }
    let report = resolver.build().map_err(|e| e.to_string())?.resolve().await;
    for warning in report.warnings() {
        eprintln!("warning: {warning}");
    }
    let ip = report.verify_allowlisted(&allowlist).map_err(|e| e.to_string())?;
    Ok(format!(
        "egress IP {ip} is whitelisted by the partner ({}, observed from a {}): starting",
        report.status(),
        report.vantage()
    ))
}
