//! TEMPORARY stand-in for render13's library API, deleted at merge.
//!
//! The exact calls the binary makes are those of the contract:
//! `civo_egress::WhitelistFormat` (with `FromStr`/`Display`),
//! `Whitelist::render(&self, WhitelistFormat) -> impl Display` and
//! `AuditReport::display_with_path(&self, &str) -> impl Display`. At merge:
//! delete this file, its `mod shim;` line in main.rs, and the `use
//! crate::shim::...` lines (replacing `crate::shim::WhitelistFormat` by
//! `civo_egress::WhitelistFormat`).

use std::fmt;

use civo_egress::{AuditReport, Whitelist};

/// The contract's `civo_egress::WhitelistFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhitelistFormat {
    /// One CIDR per line.
    Text,
    /// The JSON array.
    Json,
    /// `nft -f` input.
    Nftables,
    /// `iptables-restore` input.
    Iptables,
    /// Terraform lists.
    Terraform,
}

/// The contract's `Whitelist::render`.
pub trait RenderShim {
    /// Renders in a format.
    fn render(&self, format: WhitelistFormat) -> impl fmt::Display;
}

impl RenderShim for Whitelist {
    fn render(&self, format: WhitelistFormat) -> impl fmt::Display {
        match format {
            WhitelistFormat::Text => self.to_string(),
            WhitelistFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            other => format!("# {other:?}: rendered by the library once render13 lands\n{self}"),
        }
    }
}

/// The contract's `AuditReport::display_with_path`.
pub trait AuditShim {
    /// `FILE:LINE: severity: reason`, one line per finding.
    fn display_with_path(&self, path: &str) -> impl fmt::Display;
}

impl AuditShim for AuditReport {
    fn display_with_path(&self, path: &str) -> impl fmt::Display {
        self.findings().iter().map(|f| format!("{path}: {f}\n")).collect::<String>()
    }
}
