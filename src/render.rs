//! A [`Whitelist`] in a firewall's own language: [`WhitelistFormat`] and
//! the [`Rendered`] adapter that [`Whitelist::render`] returns.
//!
//! Every format but `text` and `json` opens with `#` comment lines that
//! name the clusters (stripped of anything that could end the comment or a
//! string: control characters, line separators, quotes, backslashes) and
//! say how to use the output; the addresses are written by `ipnet`, so
//! nothing taken from the topology reaches the syntax itself.
//!
//! When the list is in doubt ([`Whitelist::doubts`]: incomplete, a cluster
//! left out, an egress never measured...), every format but `json` (the
//! binding array) says so in `#` lines: `INCOMPLETE` or `NOT VERIFIED`,
//! then each warning, so that a file deployed from it carries the caveats
//! the command printed on stderr.

use std::fmt::{self, Write as _};
use std::io;

use crate::names::{serde_by_name, serialized_names};
use crate::whitelist::{Whitelist, WhitelistEntry};

/// How [`Whitelist::render`] writes a whitelist. Its name
/// ([`as_str`](Self::as_str)) is stable and is the CLI's `--format` value;
/// `Display` and `FromStr` round-trip it.
///
/// ```
/// use civo_egress::WhitelistFormat;
/// assert_eq!("nftables".parse::<WhitelistFormat>()?, WhitelistFormat::Nftables);
/// assert_eq!(WhitelistFormat::Terraform.to_string(), "terraform");
/// assert!("pf".parse::<WhitelistFormat>().is_err());
/// # Ok::<(), civo_egress::ParseNameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WhitelistFormat {
    /// One CIDR per line, as the whitelist's `Display` writes it, after
    /// `#` lines when the list is in doubt (an allowlist file's comments:
    /// `civo-egress audit` reads it).
    Text,
    /// The whitelist's JSON array of `{"cidr", "clusters", "reason"}`,
    /// pretty-printed.
    Json,
    /// An nftables ruleset for `nft -f`: the table `inet civo_egress` with
    /// the sets `egress_v4` (`ipv4_addr`) and `egress_v6` (`ipv6_addr`),
    /// both always defined, each replaced by exactly the whitelist's
    /// addresses of its family in one transaction (flushed, then filled:
    /// loading it again leaves no stale address).
    ///
    /// nftables sets are visible only to the rules of their own table:
    /// match them from a chain of `inet civo_egress` (`ip saddr @egress_v4
    /// accept`, `ip6 saddr @egress_v6 accept`). The file adds no chain and
    /// no rule, so it changes no traffic by itself.
    Nftables,
    /// Input for both `iptables-restore` and `ip6tables-restore` (load
    /// the same file with each): in the `filter` table, the chain
    /// `CIVO-EGRESS-ALLOW` with one `-s CIDR -j ACCEPT` rule per address.
    /// Each rule starts with `-4` or `-6`, which the other tool skips (see
    /// `iptables(8)`), so each tool loads exactly its family's part.
    ///
    /// Load it with `--noflush`: without it, a restore replaces the whole
    /// `filter` table. With it, the chain is created, or emptied and
    /// refilled when it exists. The chain accepts the whitelist and drops
    /// nothing: jump to it from your own rules, then drop (`-A INPUT -p tcp
    /// --dport 443 -j CIVO-EGRESS-ALLOW`, `-A INPUT -p tcp --dport 443 -j
    /// DROP`).
    Iptables,
    /// A Terraform (HCL) `locals` block with two lists of strings,
    /// `civo_egress_cidr_blocks` (IPv4) and `civo_egress_ipv6_cidr_blocks`
    /// (IPv6), for a security group's or firewall rule's `cidr_blocks` and
    /// `ipv6_cidr_blocks` (`cidr_blocks = local.civo_egress_cidr_blocks`).
    Terraform,
}

serialized_names!(pub WhitelistFormat, "whitelist format", {
    Text => "text",
    Json => "json",
    Nftables => "nftables",
    Iptables => "iptables",
    Terraform => "terraform",
});
serde_by_name!(WhitelistFormat);

/// A [`Whitelist`] written in a [`WhitelistFormat`], made by
/// [`Whitelist::render`]: its `Display` writes the whole output (ending
/// with a newline) straight to the formatter, with no intermediate
/// `String`. Print it with `print!`, or write it to a file.
///
/// ```
/// use civo_egress::{Topology, Whitelist, WhitelistFormat};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": ["74.220.24.10", "2a00:1450::10"]}]}"#)?;
/// let whitelist = Whitelist::of(&topology)?;
/// let nft = whitelist.render(WhitelistFormat::Nftables).to_string();
/// assert!(nft.contains("add element inet civo_egress egress_v4 {\n\t74.220.24.10\n}\n"));
/// let iptables = whitelist.render(WhitelistFormat::Iptables).to_string();
/// assert!(iptables.contains("-6 -A CIVO-EGRESS-ALLOW -s 2a00:1450::10/128 -j ACCEPT\n"));
/// let terraform = whitelist.render(WhitelistFormat::Terraform).to_string();
/// assert!(terraform.contains("civo_egress_cidr_blocks      = [\"74.220.24.10/32\"]\n"));
/// assert_eq!(whitelist.render(WhitelistFormat::Text).to_string(), whitelist.to_string());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Rendered<'a> {
    whitelist: &'a Whitelist,
    format: WhitelistFormat,
}

impl Rendered<'_> {
    /// The format it writes.
    pub const fn format(&self) -> WhitelistFormat {
        self.format
    }
}

impl Whitelist {
    /// The whitelist in `format`: an adapter whose `Display` writes it
    /// (see [`WhitelistFormat`] for each format and how to load it).
    pub const fn render(&self, format: WhitelistFormat) -> Rendered<'_> {
        Rendered { whitelist: self, format }
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.whitelist;
        match self.format {
            WhitelistFormat::Text => {
                doubts(w, f)?;
                fmt::Display::fmt(w, f)
            }
            WhitelistFormat::Json => json(w, f),
            WhitelistFormat::Nftables => nftables(w, f),
            WhitelistFormat::Iptables => iptables(w, f),
            WhitelistFormat::Terraform => terraform(w, f),
        }
    }
}

/// The pretty JSON array and a newline, as the CLI has always printed it.
fn json(w: &Whitelist, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    serde_json::to_writer_pretty(FmtWriter(f), w).map_err(|_| fmt::Error)?;
    f.write_char('\n')
}

/// `io::Write` onto a formatter. serde_json writes whole UTF-8 fragments
/// (it cuts strings only at the ASCII bytes it escapes), so each buffer is
/// valid UTF-8; a buffer that is not fails the write rather than guess.
struct FmtWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl io::Write for FmtWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.0.write_str(text).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `#` lines every firewall format opens with: what the list is for,
/// then `usage`, each line prefixed with `# `.
fn header(w: &Whitelist, f: &mut fmt::Formatter<'_>, usage: &[&str]) -> fmt::Result {
    let mut clusters: Vec<&str> = w.iter().flat_map(|e| e.clusters()).map(String::as_str).collect();
    clusters.sort_unstable();
    clusters.dedup();
    f.write_str("# civo-egress: the whitelist of ")?;
    match clusters.as_slice() {
        [] => f.write_str("no cluster")?,
        [_] => f.write_str("cluster ")?,
        _ => f.write_str("clusters ")?,
    }
    for (i, name) in clusters.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        clean(f, name)?;
    }
    if let Some(destination) = w.destination() {
        write!(f, ", for destination {destination}")?;
    }
    writeln!(f, ": {} IPv4 and {} IPv6 addresses.", w.v4().len(), w.v6().len())?;
    doubts(w, f)?;
    usage.iter().try_for_each(|line| writeln!(f, "# {line}"))
}

/// The warnings that put the list in doubt, as `# ` lines: a file written
/// from it tells the same story as the command's stderr. First a line that
/// says the list is not the whole story, then each warning.
fn doubts(w: &Whitelist, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut doubts = w.doubts().peekable();
    if doubts.peek().is_none() {
        return Ok(());
    }
    let state = if w.is_complete() { "NOT VERIFIED" } else { "INCOMPLETE" };
    writeln!(f, "# {state}: this list may not be every address the pods leave from; see each warning below.")?;
    for warning in doubts {
        f.write_str("# warning: ")?;
        write!(f, "{}: ", warning.kind())?;
        if let Some(cluster) = warning.cluster() {
            f.write_str("cluster ")?;
            clean(f, cluster)?;
            f.write_str(": ")?;
        }
        clean(f, warning.message())?;
        f.write_char('\n')?;
    }
    Ok(())
}

/// A name from the topology, safe inside a `#` comment or a quoted string
/// of any of the formats: control characters (newlines included), Unicode
/// line and paragraph separators, quotes, backslashes and backticks become
/// `_`.
fn clean(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    for c in name.chars() {
        let unsafe_char = c.is_control() || matches!(c, '"' | '\'' | '\\' | '`' | '\u{2028}' | '\u{2029}');
        f.write_char(if unsafe_char { '_' } else { c })?;
    }
    Ok(())
}

const NFT_USAGE: &[&str] = &[
    "Load it with `nft -f FILE`: it defines the sets egress_v4 and egress_v6 of table inet civo_egress",
    "and replaces their elements with exactly these addresses, in one transaction. It adds no rule.",
    "A set is visible to the rules of its own table only: match them from a chain of inet civo_egress,",
    "e.g. `ip saddr @egress_v4 accept` and `ip6 saddr @egress_v6 accept`.",
];

fn nftables(w: &Whitelist, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    header(w, f, NFT_USAGE)?;
    f.write_str(concat!(
        "table inet civo_egress {\n",
        "\tset egress_v4 {\n",
        "\t\ttype ipv4_addr\n",
        "\t\tcomment \"civo-egress whitelist\"\n",
        "\t}\n",
        "\tset egress_v6 {\n",
        "\t\ttype ipv6_addr\n",
        "\t\tcomment \"civo-egress whitelist\"\n",
        "\t}\n",
        "}\n",
        "flush set inet civo_egress egress_v4\n",
        "flush set inet civo_egress egress_v6\n",
    ))?;
    for (set, entries) in [("egress_v4", w.v4()), ("egress_v6", w.v6())] {
        if entries.is_empty() {
            continue;
        }
        writeln!(f, "add element inet civo_egress {set} {{")?;
        for (i, entry) in entries.iter().enumerate() {
            let comma = if i + 1 < entries.len() { "," } else { "" };
            writeln!(f, "\t{}{comma}", entry.ip())?;
        }
        f.write_str("}\n")?;
    }
    Ok(())
}

const IPTABLES_USAGE: &[&str] = &[
    "For both `iptables-restore --noflush FILE` and `ip6tables-restore --noflush FILE`: each loads its own",
    "family's rules (-4 or -6) and skips the other's. Without --noflush a restore replaces the whole filter",
    "table. The chain CIVO-EGRESS-ALLOW accepts exactly these addresses and drops nothing: jump to it from",
    "your own rules, then drop, e.g. `-A INPUT -p tcp --dport 443 -j CIVO-EGRESS-ALLOW` and",
    "`-A INPUT -p tcp --dport 443 -j DROP`.",
];

fn iptables(w: &Whitelist, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    header(w, f, IPTABLES_USAGE)?;
    f.write_str("*filter\n:CIVO-EGRESS-ALLOW - [0:0]\n")?;
    for (family, entries) in [("-4", w.v4()), ("-6", w.v6())] {
        for entry in entries {
            writeln!(f, "{family} -A CIVO-EGRESS-ALLOW -s {} -j ACCEPT", entry.cidr())?;
        }
    }
    f.write_str("COMMIT\n")
}

const TERRAFORM_USAGE: &[&str] = &[
    "For a firewall or security group rule: `cidr_blocks = local.civo_egress_cidr_blocks`,",
    "`ipv6_cidr_blocks = local.civo_egress_ipv6_cidr_blocks`.",
];

fn terraform(w: &Whitelist, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    header(w, f, TERRAFORM_USAGE)?;
    f.write_str("locals {\n")?;
    // Aligned as `terraform fmt` aligns consecutive attributes.
    hcl_list(f, "civo_egress_cidr_blocks     ", w.v4())?;
    hcl_list(f, "civo_egress_ipv6_cidr_blocks", w.v6())?;
    f.write_str("}\n")
}

fn hcl_list(f: &mut fmt::Formatter<'_>, name: &str, entries: &[WhitelistEntry]) -> fmt::Result {
    write!(f, "  {name} = [")?;
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "\"{}\"", entry.cidr())?;
    }
    f.write_str("]\n")
}
