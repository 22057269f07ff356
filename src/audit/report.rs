//! What an audit found, and its compiler-like text.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::finding::{Finding, Severity};

/// The outcome of [`Audit::run`](crate::Audit::run). Serializes as
/// `{"ok": bool, "clusters": [...], "findings": [...]}`: `clusters` are
/// the audited clusters (`REGION/NAME`, what
/// [`Cluster::label`](crate::Cluster::label) gives; an absent `clusters`
/// reads as none), and `ok` is derived from the findings, never read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "ReportShape", into = "ReportShape")]
pub struct AuditReport {
    pub(super) clusters: Vec<String>,
    pub(super) findings: Vec<Finding>,
}

#[derive(Serialize, Deserialize)]
struct ReportShape {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    clusters: Vec<String>,
    findings: Vec<Finding>,
}

impl From<ReportShape> for AuditReport {
    fn from(shape: ReportShape) -> Self {
        // `ok` is derived from the findings, never trusted from input.
        Self { clusters: shape.clusters, findings: shape.findings }
    }
}

impl From<AuditReport> for ReportShape {
    fn from(report: AuditReport) -> Self {
        Self { ok: report.is_ok(), clusters: report.clusters, findings: report.findings }
    }
}

impl AuditReport {
    /// True when no finding has severity [`Severity::Error`]: warnings and
    /// infos do not fail an audit.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }

    /// The clusters the allowlist was audited for, as `REGION/NAME`: those
    /// the audit selected ([`AuditBuilder::clusters`](crate::AuditBuilder::clusters)),
    /// or every cluster of the topology.
    #[must_use]
    pub fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// The findings: entries in file order (each entry's findings by kind),
    /// then missing egress (or node) IPs, then clusters whose egress set is
    /// incomplete or in doubt, then caveats.
    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// How many findings have this severity.
    ///
    /// ```
    /// use civo_egress::{Allowlist, Audit, Severity, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let report = Audit::builder(&topology).build()?.run(&"212.2.253.0/24\n".parse::<Allowlist>()?);
    /// assert_eq!((report.count(Severity::Error), report.count(Severity::Warning)), (0, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// The findings as a compiler writes its diagnostics, so that editors
    /// and CI annotations jump to the line: one line per finding,
    /// `PATH:LINE: SEVERITY: REASON`, or `PATH: SEVERITY: REASON` for a
    /// finding about no line ([`Finding::line`] is `None`). `path` is
    /// written as given.
    ///
    /// ```
    /// use civo_egress::{Allowlist, Audit, Topology};
    /// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
    /// let report = Audit::builder(&topology).build()?.run(&"# partner\n10.0.0.0/8\n".parse::<Allowlist>()?);
    /// let text = report.display_with_path("partner.txt").to_string();
    /// let mut lines = text.lines();
    /// assert!(lines.next().is_some_and(|l| l.starts_with("partner.txt:2: error: 10.0.0.0/8 is too broad")));
    /// assert!(lines.any(|l| l.starts_with("partner.txt: error: no entry allows egress IP 212.2.253.151")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn display_with_path<'a>(&'a self, path: &'a str) -> AuditDisplay<'a> {
        AuditDisplay { report: self, path }
    }
}

/// An [`AuditReport`] written like a compiler's diagnostics: made by
/// [`AuditReport::display_with_path`]. Its `Display` writes one line per
/// finding, each ending with a newline (nothing for a report without
/// findings).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct AuditDisplay<'a> {
    report: &'a AuditReport,
    path: &'a str,
}

impl fmt::Display for AuditDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.report.findings {
            match finding.line {
                Some(line) => writeln!(f, "{}:{line}: {}: {}", self.path, finding.severity, finding.reason)?,
                None => writeln!(f, "{}: {}: {}", self.path, finding.severity, finding.reason)?,
            }
        }
        Ok(())
    }
}
