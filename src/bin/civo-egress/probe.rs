//! `probe`: one pod per node through the Kubernetes API (feature `probe`).

use std::process::ExitCode;

use crate::Format;
use crate::expected::ExpectedArgs;
use crate::failure::Failure;

/// `probe`'s arguments.
#[derive(Debug, clap::Args)]
#[cfg_attr(not(feature = "probe"), allow(dead_code))]
pub struct ProbeArgs {
    #[command(flatten)]
    expected: ExpectedArgs,
    /// The namespace the probe pods are created in.
    #[arg(long, value_name = "NS", default_value = "default")]
    namespace: String,
    /// The image with curl (for private registries).
    #[arg(long, value_name = "IMAGE", default_value = "curlimages/curl")]
    image: String,
    /// Only this node (repeatable; default: every node). Then no IP is proven stale.
    #[arg(long = "node", value_name = "NAME")]
    nodes: Vec<String>,
    /// An HTTP echo service URL (repeatable); replaces the default public services.
    #[arg(long = "echo-url", value_name = "URL")]
    echo_urls: Vec<String>,
    /// Overall deadline in seconds (1 to 86400).
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout: u64,
    /// Output format: `text` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Without the `probe` feature the command exists and says how to get it.
#[cfg(not(feature = "probe"))]
pub fn probe(_: ProbeArgs) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "this civo-egress was built without the probe feature: install it with \
         `cargo install --path . --features cli,probe`"
            .into(),
    ))
}

/// `probe`: exit 1 on a mismatch or when no node could be probed.
#[cfg(feature = "probe")]
pub fn probe(args: ProbeArgs) -> Result<ExitCode, Failure> {
    use std::time::{Duration, Instant};

    use civo_egress::civo::Selection;
    use civo_egress::probe::Probe;

    use crate::expected::Expected;
    use crate::failure::{INTERRUPTED, civo, runtime, verdict};
    use crate::out::{print_json, progress_wanted};
    use crate::remote::deadline;

    let deadline = deadline(args.timeout);
    let addresses = args.expected.addresses();
    let context = args.expected.context().map(str::to_owned);
    let expected = args.expected.choose(deadline)?;
    // Validated before anything runs: the settings and the kubeconfig (the
    // crate's reader, as strict as kubectl, every file it names capped).
    let mut builder = Probe::builder()
        .namespace(args.namespace.clone())
        .image(args.image)
        .nodes(args.nodes.clone())
        .addresses(addresses)
        .timeout(deadline);
    if !args.echo_urls.is_empty() {
        builder = builder.echo_urls(args.echo_urls);
    }
    if let Some(path) = args.expected.kubeconfig.clone() {
        builder = builder.kubeconfig(path);
    }
    if let Some(context) = context {
        builder = builder.context(context);
    }
    let probe = builder.build().map_err(|e| crate::failure::probe(e, &args.namespace))?;
    let runtime = runtime()?;
    let cluster = match expected {
        Expected::Snapshot(cluster) => *cluster,
        Expected::Civo { client, cluster: name } => {
            let discovery = runtime.block_on(client.discover(&Selection::all().cluster(&name))).map_err(civo)?;
            for warning in discovery.warnings() {
                note!("warning: {warning}");
            }
            match discovery.topology().clusters() {
                [one] => one.clone(),
                [] => {
                    let why = discovery.topology().left_out().first().map_or_else(String::new, |l| format!(": {l}"));
                    return Err(Failure::Runtime(format!(
                        "the Civo API gave no usable egress IP for cluster {name:?}{why}"
                    )));
                }
                several => {
                    let names: Vec<String> = several.iter().map(|c| c.label()).collect();
                    return Err(Failure::Usage(format!(
                        "--cluster {name:?} names {} clusters ({}): name one as REGION/NAME or by its id",
                        several.len(),
                        names.join(", ")
                    )));
                }
            }
        }
        Expected::Nothing => {
            return Err(Failure::Usage(
                "say what the nodes should leave from: --topology FILE or CIVO_EGRESS_TOPOLOGY (make one with \
                 `civo-egress discover > account.json`), or --cluster NAME_OR_ID (the Civo API)"
                    .into(),
            ));
        }
    };
    // The library has no per-node hook: a line before and one after.
    let progress = progress_wanted();
    let started = Instant::now();
    if progress {
        let nodes = if args.nodes.is_empty() { "every node".to_owned() } else { args.nodes.join(", ") };
        note!(
            "probing {nodes} of cluster {} (one pod per node in namespace {}; up to {} s)...",
            cluster.name(),
            args.namespace,
            deadline.as_secs()
        );
    }
    let report = runtime.block_on(async {
        tokio::select! {
            report = probe.run(&cluster) => Some(report),
            _ = tokio::signal::ctrl_c() => {
                // Dropping the run spawns the deletes of its pods: give them time.
                note!("interrupted: deleting the probe's pods");
                None
            }
        }
    });
    let Some(report) = report else {
        runtime.block_on(tokio::time::sleep(Duration::from_secs(3)));
        return Ok(ExitCode::from(INTERRUPTED));
    };
    // The probe as a whole could not run: one line, whatever --format.
    let report = report.map_err(|e| crate::failure::probe(e, &args.namespace))?;
    if progress {
        let answered = report.nodes().iter().filter(|n| n.observed().is_some()).count();
        note!("probed {answered} of {} node(s) in {:.1} s", report.nodes().len(), started.elapsed().as_secs_f64());
    }
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            let list = |ips: &[std::net::IpAddr]| ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            say!("{}: {} {}", report.cluster(), report.status(), list(&report.egress_ips()));
            if !report.unverified_ips().is_empty() {
                say!("  not verified (a node not probed or not asked): {}", list(&report.unverified_ips()));
            }
            if !report.stale_ips().is_empty() {
                say!("  no node leaves from (every node probed): {}", list(&report.stale_ips()));
            }
            for node in report.nodes() {
                let observed = node.observed().map_or_else(|| "-".to_owned(), |ip| ip.to_string());
                let expected: Vec<String> = node.expected().iter().map(ToString::to_string).collect();
                say!("  {} {}: left from {observed} (expected {})", node.node(), node.status(), expected.join(", "));
                if let Some(error) = node.error() {
                    say!("    error: {error}");
                }
            }
            for warning in report.warnings() {
                say!("warning: {warning}");
            }
        }
    }
    Ok(verdict(report.status()))
}
