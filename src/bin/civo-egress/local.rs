//! The commands on local files: `classify`, `whitelist`, `audit`, `diff`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use civo_egress::{Allowlist, Validation, Whitelist, WhitelistFormat, diff};

use crate::Format;
use crate::failure::{FINDING, Failure, usage};
use crate::out::{print_json, read};
use crate::topology::{FieldsArgs, TopologyArgs, display, load_with};

/// `classify`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// Output format: `text` (one line per address) or `json` (an array in argument order).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The addresses to classify (IPv4 or IPv6).
    #[arg(required = true, value_name = "IP")]
    ips: Vec<String>,
}

/// `whitelist`'s output formats, mapped onto the library's `WhitelistFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WhitelistFormatArg {
    /// One CIDR per line.
    Text,
    /// A JSON array of {"cidr", "clusters", "reason"}.
    Json,
    /// A named set per address family, for `nft -f`.
    Nftables,
    /// Input for iptables-restore that accepts exactly the whitelist.
    Iptables,
    /// Lists for Terraform's cidr_blocks / ipv6_cidr_blocks.
    Terraform,
}

impl From<WhitelistFormatArg> for WhitelistFormat {
    fn from(format: WhitelistFormatArg) -> Self {
        match format {
            WhitelistFormatArg::Text => Self::Text,
            WhitelistFormatArg::Json => Self::Json,
            WhitelistFormatArg::Nftables => Self::Nftables,
            WhitelistFormatArg::Iptables => Self::Iptables,
            WhitelistFormatArg::Terraform => Self::Terraform,
        }
    }
}

/// `whitelist`'s arguments.
#[derive(Debug, clap::Args)]
pub struct WhitelistArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// Only this cluster: its id, REGION/NAME, or a name no other cluster carries
    /// (repeatable; default: every cluster).
    #[arg(long = "cluster", value_name = "NAME_OR_ID")]
    clusters: Vec<String>,
    /// The address the pods call (default: somewhere on the internet). Inside a cluster's
    /// network_cidr, the sources are the nodes' private IPs.
    #[arg(long, value_name = "IP")]
    destination: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhitelistFormatArg::Text)]
    format: WhitelistFormatArg,
}

/// `audit`'s arguments.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// Audit for this cluster only: its id, REGION/NAME, or a name no other cluster carries
    /// (repeatable; default: every cluster). Only its egress IPs must be let in.
    #[arg(long = "cluster", value_name = "NAME_OR_ID")]
    clusters: Vec<String>,
    /// The address whose allowlist this is (default: somewhere on the internet).
    #[arg(long, value_name = "IP")]
    destination: Option<String>,
    /// Output format: `text` (FILE:LINE: severity: reason, like a compiler) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The allowlist: one IP or CIDR per line, `#` comments, blank lines ignored (`-` for standard input).
    #[arg(value_name = "ALLOWLIST_FILE")]
    allowlist: PathBuf,
}

/// `diff`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Output format: `text` (one change per line, what to do, the clusters not compared) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The older snapshot (`-` for standard input).
    #[arg(value_name = "OLD_TOPOLOGY")]
    old: PathBuf,
    /// The newer snapshot.
    #[arg(value_name = "NEW_TOPOLOGY")]
    new: PathBuf,
    /// Accept non-global egress IPs (private, CGNAT, documentation) in both snapshots. For labs and tests only.
    #[arg(long)]
    allow_non_global: bool,
    #[command(flatten)]
    fields: FieldsArgs,
}

fn parse_ip(text: &str) -> Result<IpAddr, Failure> {
    text.trim().parse::<IpAddr>().map_err(|_| Failure::Usage(format!("{text:?} is not an IP address")))
}

/// `classify`.
pub fn classify(args: ClassifyArgs) -> Result<ExitCode, Failure> {
    let ips = args.ips.iter().map(|s| parse_ip(s)).collect::<Result<Vec<_>, _>>()?;
    let topology = args.topology.load()?;
    let answers: Vec<_> = ips.iter().map(|&ip| topology.classify_ip(ip)).collect();
    match args.format {
        Format::Json => print_json(&answers)?,
        Format::Text => answers.iter().for_each(|a| say!("{a}")),
    }
    Ok(ExitCode::SUCCESS)
}

/// `whitelist`.
pub fn whitelist(args: WhitelistArgs) -> Result<ExitCode, Failure> {
    let destination = args.destination.as_deref().map(parse_ip).transpose()?;
    let topology = args.topology.load()?;
    let mut builder = Whitelist::builder(&topology);
    if !args.clusters.is_empty() {
        builder = builder.clusters(&args.clusters);
    }
    if let Some(destination) = destination {
        builder = builder.destination(destination);
    }
    let whitelist = builder.build().map_err(usage)?;
    // The topology's own warnings were said when it was read.
    for warning in whitelist.warnings().iter().filter(|w| !topology.warnings().contains(w)) {
        note!("warning: {warning}");
    }
    say_raw!("{}", whitelist.render(WhitelistFormat::from(args.format)));
    Ok(ExitCode::SUCCESS)
}

/// `audit`: exit 1 when a finding is an error (warnings and infos exit 0).
pub fn audit_command(args: AuditArgs) -> Result<ExitCode, Failure> {
    use civo_egress::{Audit, FindingKind, Severity, WarningKind};
    let destination = args.destination.as_deref().map(parse_ip).transpose()?;
    let topology = args.topology.load()?;
    let mut builder = Audit::builder(&topology);
    if !args.clusters.is_empty() {
        builder = builder.clusters(&args.clusters);
    }
    if let Some(destination) = destination {
        builder = builder.destination(destination);
    }
    // A name that selects no one cluster is bad input, before the list is read.
    let audit = builder.build().map_err(usage)?;
    let name = display(&args.allowlist);
    let allowlist = Allowlist::parse(&read(&args.allowlist)?).map_err(|e| Failure::Usage(format!("{name}: {e}")))?;
    let report = audit.run(&allowlist);
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            say_raw!("{}", report.display_with_path(&name));
            let clusters = report.clusters();
            say!("audited for {} {}", if clusters.len() == 1 { "cluster" } else { "clusters" }, clusters.join(", "));
            let follows_nodes = audit.whitelist().warnings().iter().any(|w| w.kind() == WarningKind::FollowsNodes);
            let what = if follows_nodes { "node IP" } else { "egress IP" };
            let caveats = report.findings().iter().filter(|f| f.kind() == FindingKind::Caveat).count();
            let warnings = match report.count(Severity::Warning) {
                0 => String::new(),
                n => format!(" ({n} warning(s) above)"),
            };
            match (report.count(Severity::Error), caveats) {
                (0, 0) => say!("ok{warnings}: the allowlist lets in every {what} and nothing of the clusters' own"),
                (0, n) => say!(
                    "ok as far as the snapshot knows{warnings}: the allowlist lets in every {what}; {n} caveat(s) above say what could not be checked"
                ),
                (n, _) => say!("{n} error(s){warnings}"),
            }
        }
    }
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(FINDING) })
}

/// `diff`: exit 1 when an egress IP changed, appeared or disappeared, or
/// when something one snapshot covers was not compared (no drift there is
/// not known).
pub fn diff_command(args: DiffArgs) -> Result<ExitCode, Failure> {
    let validation = Validation::strict()
        .allow_non_global(args.allow_non_global)
        .allow_unknown_fields(args.fields.allow_unknown_fields);
    let (old, new) = (load_with(&args.old, validation)?, load_with(&args.new, validation)?);
    let changes = diff(&old, &new);
    match args.format {
        Format::Json => print_json(&changes)?,
        Format::Text => say_raw!("{changes}"),
    }
    let clear = !changes.has_egress_drift() && changes.is_complete();
    Ok(if clear { ExitCode::SUCCESS } else { ExitCode::from(FINDING) })
}
