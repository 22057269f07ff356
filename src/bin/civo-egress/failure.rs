//! Failures and their exit codes.

use std::process::ExitCode;

use civo_egress::EgressStatus;
use civo_egress::civo::CivoError;

/// The exit codes (binding), as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  ok: for resolve and probe, a verdict of confirmed, expected or observed
  1  a finding: an audit error; a resolve or probe verdict of mismatch, conflict, partial, unverified
     or unknown; an egress change in diff
  2  bad input or usage: a bad flag or address, a missing, malformed, oversized or special file, no topology
  3  a runtime failure: the Civo or Kubernetes API unreachable or failing, a deadline passed, the probe
     unable to run at all, standard output not writable
  130  interrupted (ctrl-c; the probe deletes its pods first)";

/// `watch`'s exit codes.
pub const WATCH_EXIT_CODES: &str = "\
Exit codes:
  0  SIGTERM or SIGINT (a clean stop); with --once, every allowlist lets in every egress IP and every
     verdict is ok (nothing incomplete, left out or in doubt)
  1  with --once, a finding: an allowlist lacks an egress IP, a public-IP pool is incomplete, a cluster
     was left out, a verdict is not ok
  2  bad input or usage: a bad flag, an unreadable or malformed allowlist or snapshot
  3  a runtime failure: the Civo API unreachable or failing (with --once), the address not listenable,
     standard output not writable
  130  --once interrupted (its hooks killed): an interrupted check is no clear one";

/// A finding (exit 1).
pub const FINDING: u8 = 1;

/// Interrupted by ctrl-c (exit 130, as shells report SIGINT).
pub const INTERRUPTED: u8 = 130;

/// The exit code of a `resolve` or `probe` verdict: the one place it is
/// decided, from [`EgressStatus::is_ok`].
pub fn verdict(status: EgressStatus) -> ExitCode {
    if status.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(FINDING) }
}

/// The exit code of `watch --once`: 0 when its state is clear (every
/// allowlist lets in every egress IP, every verdict ok), else 1.
pub fn watch_state(clear: bool) -> ExitCode {
    if clear { ExitCode::SUCCESS } else { ExitCode::from(FINDING) }
}

/// A failure, reported as one line on stderr.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or usage: exit 2.
    Usage(String),
    /// A runtime failure (an API unreachable or failing, a deadline): exit 3.
    Runtime(String),
}

impl Failure {
    /// The exit code.
    pub fn code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Runtime(_) => ExitCode::from(3),
        }
    }

    /// The line for stderr.
    pub fn message(&self) -> &str {
        match self {
            Self::Usage(message) | Self::Runtime(message) => message,
        }
    }
}

/// Bad input, from anything that displays.
pub fn usage(error: impl std::fmt::Display) -> Failure {
    Failure::Usage(error.to_string())
}

/// The settings (no key, a refused URL or region code, an unreadable Civo
/// CLI config), a region the API does not know, and a cluster name that
/// matches none or several are bad input; what the API answered (including
/// a refused key), or failing to reach it, is a runtime failure.
pub fn civo(error: CivoError) -> Failure {
    let unknown_region = matches!(&error, CivoError::Api { status: 400, code, .. } if code == "region_not_found");
    let named_wrong =
        unknown_region || matches!(error, CivoError::ClusterNotFound { .. } | CivoError::AmbiguousCluster { .. });
    if error.is_config() || named_wrong { usage(error) } else { Failure::Runtime(error.to_string()) }
}

/// A watcher's error: bad local input (a name, an allowlist or snapshot
/// file) is exit 2, the Civo API's failures as [`civo`]'s.
pub fn watch_failure(error: &civo_egress::watch::WatchError) -> Failure {
    match error {
        civo_egress::watch::WatchError::Civo(error) => civo(error.clone()),
        error if error.is_input() => usage(error),
        error => Failure::Runtime(error.to_string()),
    }
}

/// The settings and the kubeconfig, or a node name that does not exist, are
/// bad input; the Kubernetes API and the pods are runtime. A refusal names
/// the RBAC the probe needs in `namespace`.
#[cfg(feature = "probe")]
pub fn probe(error: civo_egress::probe::ProbeError, namespace: &str) -> Failure {
    if error.is_config() || error.is_no_such_node() {
        return usage(error);
    }
    if error.is_forbidden() || error.is_unauthorized() {
        return Failure::Runtime(format!(
            "the probe could not run: {error}; it needs pods (create, get, list, delete) and pods/log (get) in \
             namespace {namespace}, and nodes (list) cluster-wide (see `civo-egress man probe`)"
        ));
    }
    Failure::Runtime(format!("the probe could not run: {error}"))
}

/// A current-thread tokio runtime.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))
}
