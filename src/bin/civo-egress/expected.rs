//! What the egress should be, and of which cluster: the one argument group
//! `resolve` and `probe` share, with the same conflicts and the same order
//! of sources.

use std::path::PathBuf;
use std::time::Duration;

use civo_egress::civo::CivoClient;
use civo_egress::{AddressPolicy, Cluster, Topology, Validation};

use crate::failure::Failure;
use crate::remote::CivoArgs;
use crate::topology::{self, FieldsArgs};

/// The expected egress and the cluster.
#[derive(Debug, clap::Args)]
pub struct ExpectedArgs {
    /// The cluster: its name, id or REGION/NAME in the snapshot, or its name or id in the Civo API.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub cluster: Option<String>,
    /// A topology snapshot that says what the egress IPs should be (`-` for standard input). Default:
    /// the file named by CIVO_EGRESS_TOPOLOGY, unless --region or --api-url asks the Civo API.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["region", "api_url"])]
    pub topology: Option<PathBuf>,
    #[command(flatten)]
    pub civo: CivoArgs,
    /// Accept non-global addresses (private, CGNAT, documentation) as observations, as egress IPs in
    /// the topology, and plain-http echo services on them. For labs and tests only.
    #[arg(long)]
    pub allow_non_global: bool,
    #[command(flatten)]
    pub fields: FieldsArgs,
    /// The kubeconfig. Default: KUBECONFIG, else ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// Where the expected egress comes from.
#[derive(Debug)]
pub enum Expected {
    /// A snapshot, and the cluster chosen in it.
    Snapshot(Box<Cluster>),
    /// The Civo API, for the cluster named.
    Civo {
        /// A client with the flags and the environment's key.
        client: Box<CivoClient>,
        /// `--cluster`.
        cluster: String,
    },
    /// Neither: only what a kubeconfig or `CIVO_EGRESS_IP` says.
    Nothing,
}

impl ExpectedArgs {
    /// The lab opt-in, as a policy.
    pub const fn addresses(&self) -> AddressPolicy {
        if self.allow_non_global { AddressPolicy::AllowNonGlobal } else { AddressPolicy::GlobalOnly }
    }

    /// An empty context is no context, as kubectl reads it.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref().filter(|c| !c.is_empty())
    }

    /// `--topology`; else the Civo API when `--region` or `--api-url` asks
    /// for it (with `--cluster`); else `CIVO_EGRESS_TOPOLOGY`; else the
    /// Civo API for `--cluster`; else nothing.
    pub fn choose(&self, deadline: Duration) -> Result<Expected, Failure> {
        if self.civo.given() && self.cluster.is_none() {
            return Err(Failure::Usage(
                "--region and --api-url ask the Civo API: name the cluster with --cluster".into(),
            ));
        }
        let snapshot = self.topology.clone().or_else(|| if self.civo.given() { None } else { topology::from_env() });
        if let Some(path) = snapshot {
            let read = Validation::strict()
                .allow_non_global(self.allow_non_global)
                .allow_unknown_fields(self.fields.allow_unknown_fields);
            let snapshot = topology::load_with(&path, read)?;
            return Ok(Expected::Snapshot(Box::new(pick(
                &snapshot,
                self.cluster.as_deref(),
                &topology::display(&path),
            )?)));
        }
        match &self.cluster {
            Some(cluster) => {
                Ok(Expected::Civo { client: Box::new(self.civo.client(deadline)?), cluster: cluster.clone() })
            }
            None => Ok(Expected::Nothing),
        }
    }
}

/// The cluster `name` selects in `snapshot` (an id, `REGION/NAME`, or a
/// name only one cluster carries), or its only cluster.
fn pick(snapshot: &Topology, name: Option<&str>, shown: &str) -> Result<Cluster, Failure> {
    match (name, snapshot.clusters()) {
        (Some(name), _) => snapshot.select(name).cloned().map_err(|e| Failure::Usage(format!("{shown}: {e}"))),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(Failure::Usage(format!("{shown}: name the cluster with --cluster"))),
    }
}
