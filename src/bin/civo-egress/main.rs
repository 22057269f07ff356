//! `civo-egress`: which IP will your Civo Kubernetes cluster call a partner
//! from? The command-line face of the `civo_egress` library.
//!
//! ```text
//! cargo install --path . --features cli          # add `,probe` for the probe command
//! civo-egress classify --example 10.42.0.7 212.2.253.151
//! CIVO_TOKEN=... civo-egress discover > account.json
//! civo-egress whitelist --topology account.json --format nftables
//! civo-egress audit --topology account.json partner-allowlist.txt
//! ```
//!
//! Exit codes (binding): 0 ok, 1 a finding, 2 bad input or usage, 3 a
//! runtime failure; see [`failure::EXIT_CODES`]. Every failure is one line on
//! stderr; a closed stdout (`| head`) keeps the command's own code, and any
//! other failed write to it (a full disk) is exit 3.

#[macro_use]
mod out;
mod docs;
mod expected;
mod failure;
mod local;
mod probe;
mod remote;
mod topology;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::failure::{EXIT_CODES, WATCH_EXIT_CODES};

/// The environment variables of the topology-reading commands.
const TOPOLOGY_ENV: &str = "Environment:\n  CIVO_EGRESS_TOPOLOGY  the snapshot file read when --topology is not given";

/// The environment variables of the Civo API commands.
const CIVO_ENV: &str = "Environment:
  CIVO_TOKEN    the Civo API key (else the Civo CLI config's current key)
  CIVO_CONFIG   the Civo CLI config file (default: ~/.civo.json, under HOME)
  CIVO_REGION   the region when --region is not given
  CIVO_API_URL  the API URL when --api-url is not given";

/// `resolve`'s environment.
const RESOLVE_ENV: &str = "Environment:
  CIVO_EGRESS_TOPOLOGY     the expected-egress snapshot when neither --topology nor --region/--api-url is given
  CIVO_TOKEN               the Civo API key for --cluster (else the Civo CLI config's current key)
  CIVO_CONFIG              the Civo CLI config file (default: ~/.civo.json, under HOME)
  CIVO_REGION              the region when --region is not given
  CIVO_API_URL             the API URL when --api-url is not given
  KUBECONFIG               the kubeconfig when --kubeconfig is not given (else ~/.kube/config)
  CIVO_EGRESS_IP           an expected egress IP (or a comma-separated list), one more source
  KUBERNETES_SERVICE_HOST  with KUBERNETES_SERVICE_PORT and the service-account files, tells that this runs in a
                           pod; its ca.crt must be the cluster's CA (recorded by discover, or the kubeconfig's)
                           for the pod's observations to count (else --vantage pod)";

/// `probe`'s environment.
const PROBE_ENV: &str = "Environment:
  KUBECONFIG            the kubeconfig when --kubeconfig is not given (else ~/.kube/config)
  CIVO_EGRESS_TOPOLOGY  the snapshot when --topology is not given, unless --region or --api-url asks the Civo API
  CIVO_TOKEN            the Civo API key for --cluster (else the Civo CLI config's current key)
  CIVO_CONFIG           the Civo CLI config file (default: ~/.civo.json, under HOME)
  CIVO_REGION           the region when --region is not given
  CIVO_API_URL          the API URL when --api-url is not given";

#[derive(Debug, Parser)]
#[command(
    name = "civo-egress",
    version,
    about = "Which IP will your Civo Kubernetes cluster call a partner from?",
    long_about = "Which IP will your Civo Kubernetes cluster call a partner from? Classify addresses, \
                  print the whitelist in a firewall's syntax, audit a partner's allowlist, discover an \
                  account's topology from the Civo API, and find the egress IP for real.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Say what each address is, and whether to whitelist it.
    #[command(after_help = format!("{TOPOLOGY_ENV}\n\n{EXIT_CODES}"))]
    Classify(local::ClassifyArgs),
    /// Print every address a destination will see the clusters' pods come from: the egress IPs, or
    /// the nodes' private IPs for a destination inside a cluster's network.
    #[command(after_help = format!("{TOPOLOGY_ENV}\n\n{EXIT_CODES}"))]
    Whitelist(local::WhitelistArgs),
    /// Check an allowlist (one IP or CIDR per line) against the topology; exit 1 on an error.
    #[command(after_help = format!("{TOPOLOGY_ENV}\n\n{EXIT_CODES}"))]
    Audit(local::AuditArgs),
    /// Build the topology snapshot JSON of a Civo account from its API.
    #[command(after_help = format!("{CIVO_ENV}\n\n{EXIT_CODES}"))]
    Discover(remote::DiscoverArgs),
    /// Find the egress IP: expected (a snapshot, the Civo API, the kubeconfig) and observed (echo
    /// services), cross-checked. Exit 1 unless the verdict is confirmed, expected or observed.
    #[command(after_help = format!("{RESOLVE_ENV}\n\n{EXIT_CODES}"))]
    Resolve(remote::ResolveArgs),
    /// Run the article's experiment through the Kubernetes API: one short-lived pod per node asks the
    /// echo services which IP it leaves from. Exit 1 unless every node confirmed; 3 when no pod could run.
    /// Needs the `probe` feature.
    #[command(after_help = format!("{PROBE_ENV}\n\n{EXIT_CODES}"))]
    Probe(probe::ProbeArgs),
    /// Keep the egress under watch: refresh the Civo API (or a snapshot) every --interval, print what
    /// changed as JSON lines, serve Prometheus metrics; --once for a single check (a CronJob's).
    #[command(after_help = format!("{CIVO_ENV}\n\n{WATCH_EXIT_CODES}"))]
    Watch(watch::WatchArgs),
    /// Compare two snapshots; exit 1 when an egress IP changed, appeared or disappeared, or something
    /// one snapshot covers could not be compared.
    #[command(after_help = EXIT_CODES)]
    Diff(local::DiffArgs),
    /// Print a shell completion script on stdout (e.g. `civo-egress completions bash > /etc/bash_completion.d/civo-egress`).
    #[command(after_help = EXIT_CODES)]
    Completions(docs::CompletionsArgs),
    /// Print a man page (roff) on stdout: civo-egress(1), or a command's, civo-egress-COMMAND(1)
    /// (e.g. `civo-egress man classify | man -l -`).
    #[command(after_help = EXIT_CODES)]
    Man(docs::ManArgs),
}

/// `--format text|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// For programs.
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            say_raw!("{e}");
            return finish(Ok(ExitCode::SUCCESS));
        }
        Err(e) => {
            // clap's first paragraph, on one line ("error: the following
            // required arguments were not provided: <IP>..."), no usage.
            let text = e.to_string();
            let first: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            note!("{}", if first.is_empty() { "error: invalid arguments".to_owned() } else { first.join(" ") });
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Classify(args) => local::classify(args),
        Command::Whitelist(args) => local::whitelist(args),
        Command::Audit(args) => local::audit_command(args),
        Command::Discover(args) => remote::discover(args),
        Command::Resolve(args) => remote::resolve(args),
        Command::Probe(args) => probe::probe(args),
        Command::Diff(args) => local::diff_command(args),
        Command::Watch(args) => watch::watch(args),
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
    };
    finish(result)
}

/// The exit code of a command that ran: its failure's, else a failed write
/// to stdout's (3: a full disk must not pass for a written file; a closed
/// pipe, `| head`, is not a failure), else its own. A failure is one line
/// on stderr.
fn finish(result: Result<ExitCode, failure::Failure>) -> ExitCode {
    let result = result.and_then(|code| out::write_failure().map_or(Ok(code), Err));
    result.unwrap_or_else(|failure| {
        note!("error: {}", failure.message());
        failure.code()
    })
}
