//! A service's startup that refuses to run when its egress IP is not the one
//! its partner whitelisted.
//!
//! ```text
//! cargo run --example startup_check -- partner-allowlist.txt [ECHO_URL...]
//! ```
//!
//! The allowlist is what the partner allows (one IP or CIDR per line). The
//! expected egress comes from `CIVO_EGRESS_IP` (or, in a real service, a
//! `CivoSource` or `KubeconfigSource`); the observation from the echo URLs
//! given, else the public defaults. Exit 0 and "starting" when the observed
//! egress IP is allowed; exit 1 with a sentence a person can act on when not.

use std::process::ExitCode;
use std::time::Duration;

use civo_egress::Allowlist;
use civo_egress::resolve::{EgressResolver, HttpEchoSource, StaticSource};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match check().await {
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

async fn check() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: startup_check ALLOWLIST_FILE [ECHO_URL...]")?;
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
    if let Some(expected) = StaticSource::from_env().map_err(|e| e.to_string())? {
        resolver = resolver.source(expected);
    }
    let report = resolver.build().map_err(|e| e.to_string())?.resolve().await;
    for warning in report.warnings() {
        eprintln!("warning: {warning}");
    }
    let ip = report.verify_allowlisted(&allowlist).map_err(|e| e.to_string())?;
    Ok(format!("egress IP {ip} is whitelisted by the partner ({}): starting", report.status()))
}
