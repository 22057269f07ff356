//! deploy/kubernetes (the watcher's kustomize base, and its probe component)
//! held to the tools a cluster and its Prometheus would judge it with:
//!
//! - `kustomize_renders`: `kubectl kustomize` renders the base, and the base
//!   with the probe component through an overlay of the test's own, to
//!   exactly the expected objects, every reference between them resolved
//!   (the generated ConfigMaps' hashed names, the Service's selector and
//!   named port, the service accounts, the bindings), the API key's Secret
//!   referenced but never rendered, the shipped allowlist parsable; and the
//!   overlay README.md shows renders, its settings landing.
//! - `kubernetes_validate_strict`: every core object passes `python3 -m
//!   kubernetes_validate --strict` (PyPI `kubernetes-validate`, its
//!   Kubernetes schemas) for the versions in [`KUBERNETES_VERSIONS`](validate::KUBERNETES_VERSIONS), and a
//!   broken copy does not; the Prometheus Operator's kinds, which it has no
//!   schema for, are checked here instead: the ServiceMonitor selects the
//!   Service and names its port, the PrometheusRule holds exactly
//!   [`ALERTS`](render::ALERTS) and its `spec` passes `promtool check rules`.
//! - `restricted_profile_admits_the_pod`: the Deployment's and the
//!   CronJob's pod templates, created as pods through a kube-rs client in
//!   the fake Kubernetes API (tests/common/kube_api.rs) enforcing the Pod
//!   Security "restricted" profile (tests/common/admission.rs), are
//!   admitted; copies each missing one setting are refused with the API's
//!   403 message. `admission_check_names_each_violation` holds that check
//!   to the admission plugin's words, one violation at a time.
//! - `alert_rules`: the PrometheusRule's `spec` written as a rules file,
//!   `promtool check rules` and `promtool test rules` with
//!   deploy/kubernetes/tests/alerts.test.yml, which must test every alert
//!   firing and not firing; and each alert's expression replaced by one that
//!   never fires, then by one that always does, must fail those tests.
//! - `alerts_use_exported_metrics`: every `civo_egress_*` metric the
//!   PrometheusRule (its expressions and annotations) and README.md name is
//!   one the watcher exports: `civo-egress watch` is run on a snapshot (with
//!   `--observe`, for the verdict), its `/metrics` scraped once it is ready,
//!   and the names taken from its `# TYPE` lines, which a family without a
//!   sample still has; and README.md's table of the alerts says what the
//!   rules do (expression, `for`, severity), in [`ALERTS`](render::ALERTS)' order.
//! - `watch_takes_the_deployment_arguments`: `civo-egress watch --once`
//!   with the Deployment's arguments reads the allowlist and gets as far as
//!   the (unreachable) Civo API.
//! - `probe_component_runs_in_the_cluster`: the probe component's in-cluster
//!   kubeconfig (its server and service-account files pointed at a TLS fake
//!   API, the rest as rendered) runs a real probe in the CronJob's
//!   namespace under the restricted profile, every request it makes allowed
//!   by the component's Role and ClusterRole; and `civo-egress probe` takes
//!   the CronJob's arguments, failing only where the Civo API is reached.
//!
//! Its own libtest-mimic harness, as tests/oracles.rs: a trial whose tool
//! (`kubectl` with kustomize, `promtool`, kubernetes-validate) is missing is
//! reported as ignored, decided at run time and said on stderr, unless the
//! environment has `CI=true`: there it runs, and fails. `.ci/run` installs
//! them.
//!
//! Its trials, one file per concern: render.rs (the rendering, and what the
//! trials share), kustomize.rs, validate.rs, alerts.rs, admission.rs and
//! workloads.rs (the probe component's run, and both binaries' arguments).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod admission;
mod alerts;
mod kustomize;
mod render;
mod validate;
mod workloads;

use std::process::Command;

use serde_json::Value;

use admission::{admission_check_names_each_violation, restricted_profile_admits_the_pod};
use alerts::{alert_rules, alerts_use_exported_metrics};
use kustomize::kustomize_renders;
use validate::kubernetes_validate_strict;
use workloads::{probe_component_runs_in_the_cluster, watch_takes_the_deployment_arguments};

/// The kubernetes-validate `.ci/run` installs (any version holding the
/// schemas of [`KUBERNETES_VERSIONS`](validate::KUBERNETES_VERSIONS) would do).
const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";

// ---------------------------------------------------------------------------
// The harness.

/// Whether a trial may be ignored here: `Some(why)` when a tool it needs is
/// missing. Under `CI=true` it runs anyway (and fails).
fn ignored(name: &str, missing: &Option<String>, ci: bool) -> bool {
    match (missing, ci) {
        (None, _) => false,
        (Some(why), false) => {
            eprintln!("tests/deploy: {name}: ignored: {why}");
            true
        }
        (Some(why), true) => {
            eprintln!("tests/deploy: {name}: CI=true, so the trial must run: {why}");
            false
        }
    }
}

/// `None` when `program args` runs and succeeds, else why not and how to
/// install it.
fn tool_missing(program: &str, args: &[&str], install: &str) -> Option<String> {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`{program} {}` failed: {} ({install})",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("{program}: {e} ({install})")),
    }
}

/// kubectl with kustomize 5 (components, `labels:`), as kubectl 1.27 and later have.
fn kubectl_missing() -> Option<String> {
    let install = "install kubectl 1.27 or later, whose kustomize is 5";
    if let Some(why) = tool_missing("kubectl", &["version", "--client", "-o", "json"], install) {
        return Some(why);
    }
    let out = Command::new("kubectl").args(["version", "--client", "-o", "json"]).output().ok()?;
    let version: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let kustomize = version["kustomizeVersion"].as_str().unwrap_or("none");
    let major = kustomize.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok());
    (major.unwrap_or(0) < 5).then(|| format!("kubectl's kustomize is {kustomize}, not 5 or later ({install})"))
}

fn promtool_missing() -> Option<String> {
    tool_missing("promtool", &["--version"], "apt-get install prometheus")
}

fn kubernetes_validate_missing() -> Option<String> {
    let install = format!("python3 -m pip install kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}");
    tool_missing("python3", &["-m", "kubernetes_validate", "--version"], &install)
}

/// The first of the tools missing.
fn first_missing(needs: &[Option<String>]) -> Option<String> {
    needs.iter().flatten().next().cloned()
}

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let kubectl = kubectl_missing();
    let promtool = promtool_missing();
    let validate = kubernetes_validate_missing();
    let trial = |name: &'static str, missing: Option<String>, check: fn()| {
        let ignore = ignored(name, &missing, ci);
        libtest_mimic::Trial::test(name, move || match &missing {
            Some(why) => Err(format!("the trial cannot run: {why}").into()),
            None => {
                check();
                Ok(())
            }
        })
        .with_ignored_flag(ignore)
    };
    let trials = vec![
        trial("kustomize_renders", kubectl.clone(), kustomize_renders),
        trial(
            "kubernetes_validate_strict",
            first_missing(&[kubectl.clone(), validate, promtool.clone()]),
            kubernetes_validate_strict,
        ),
        trial("restricted_profile_admits_the_pod", kubectl.clone(), restricted_profile_admits_the_pod),
        trial("admission_check_names_each_violation", None, admission_check_names_each_violation),
        trial("alert_rules", first_missing(&[kubectl.clone(), promtool]), alert_rules),
        trial("alerts_use_exported_metrics", None, alerts_use_exported_metrics),
        trial("probe_component_runs_in_the_cluster", kubectl.clone(), probe_component_runs_in_the_cluster),
        trial("watch_takes_the_deployment_arguments", kubectl, watch_takes_the_deployment_arguments),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}
