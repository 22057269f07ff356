//! Where a command's topology comes from: `--topology`, `--example`, or
//! `CIVO_EGRESS_TOPOLOGY`; never a silent default.

use std::path::{Path, PathBuf};

use civo_egress::{Topology, Validation};

use crate::failure::Failure;
use crate::out::read;

/// The article's cluster, for `--example`.
const EXAMPLE_TOPOLOGY: &str = include_str!("../../../examples/topology.json");

/// The environment variable naming a snapshot file.
pub const ENV: &str = "CIVO_EGRESS_TOPOLOGY";

/// The one line printed when no topology was given.
pub const MISSING: &str = "no topology: pass --topology FILE or set CIVO_EGRESS_TOPOLOGY \
                           (make one with `civo-egress discover > account.json`), or --example for the article's cluster";

/// The topology flags of `classify`, `whitelist` and `audit`.
#[derive(Debug, clap::Args)]
pub struct TopologyArgs {
    /// The topology snapshot JSON (`-` for standard input), as `civo-egress discover` prints it.
    /// Default: the file named by CIVO_EGRESS_TOPOLOGY.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// Use the article's example cluster (egress 212.2.253.151), embedded from examples/topology.json.
    #[arg(long, conflicts_with = "topology")]
    pub example: bool,
    /// Accept non-global egress IPs (private, CGNAT, documentation) in the topology. For labs and tests only.
    #[arg(long)]
    pub allow_non_global: bool,
    #[command(flatten)]
    pub fields: FieldsArgs,
}

/// `--allow-unknown-fields`, for every command that reads a snapshot.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FieldsArgs {
    /// Ignore snapshot fields this version does not know, instead of refusing them (a typo is
    /// refused by default; a snapshot of a newer format is always read with a warning).
    #[arg(long)]
    pub allow_unknown_fields: bool,
}

impl TopologyArgs {
    /// Loads the topology: `--topology`, else `--example`, else
    /// `CIVO_EGRESS_TOPOLOGY`, else a usage failure naming how to get one.
    pub fn load(&self) -> Result<Topology, Failure> {
        if self.example {
            note!("note: using the embedded example topology (the article's cluster, examples/topology.json)");
            return Topology::from_json(EXAMPLE_TOPOLOGY)
                .map_err(|e| Failure::Runtime(format!("embedded topology: {e}")));
        }
        let path = self.topology.clone().or_else(from_env).ok_or_else(|| Failure::Usage(MISSING.to_owned()))?;
        let validation = Validation::strict()
            .allow_non_global(self.allow_non_global)
            .allow_unknown_fields(self.fields.allow_unknown_fields);
        load_with(&path, validation)
    }
}

/// The file named by `CIVO_EGRESS_TOPOLOGY`, when set and not empty.
pub fn from_env() -> Option<PathBuf> {
    std::env::var_os(ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Reads a snapshot file with `validation`, and prints what the topology
/// says of itself (contradictions, a newer format, clusters left out) on
/// stderr, as every command that reads one does.
pub fn load_with(path: &Path, validation: Validation) -> Result<Topology, Failure> {
    let topology = Topology::from_json_with(&read(path)?, validation)
        .map_err(|e| Failure::Usage(format!("{}: {e}", display(path))))?;
    for warning in topology.warnings() {
        note!("warning: {}: {warning}", display(path));
    }
    Ok(topology)
}

/// A path as the user named it (`-` is standard input).
pub fn display(path: &Path) -> String {
    if path == Path::new("-") { "standard input".to_owned() } else { path.display().to_string() }
}
