//! The allowlist a partner or firewall holds: one IP or CIDR per line.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::error::AllowlistError;

/// One line of an allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowlistEntry {
    line: usize,
    text: String,
    net: IpNet,
}

impl AllowlistEntry {
    /// The 1-based line it came from (0 when built from a list of CIDRs).
    #[must_use]
    pub const fn line(&self) -> usize {
        self.line
    }

    /// The entry as written, without comment or blanks.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The network it allows (a single IP is its host CIDR).
    #[must_use]
    pub const fn net(&self) -> IpNet {
        self.net
    }
}

/// A parsed allowlist: one IP or CIDR per line, `#` starts a comment anywhere
/// on a line, blank lines are ignored.
///
/// ```
/// use civo_egress::Allowlist;
/// let list: Allowlist = "# partner firewall\n212.2.253.151  # prod\n\n10.0.0.0/8\n".parse()?;
/// assert_eq!(list.len(), 2);
/// assert_eq!(list.entries()[1].line(), 4);
/// let err = "1.2.3.4\nyour.cluster.ip.address\n".parse::<Allowlist>().unwrap_err();
/// assert_eq!(err.line(), 2);
/// # Ok::<(), civo_egress::AllowlistError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Allowlist {
    entries: Vec<AllowlistEntry>,
}

impl Allowlist {
    /// Parses allowlist text.
    ///
    /// # Errors
    ///
    /// [`AllowlistError`] naming the first line that is not an IP or CIDR,
    /// or a CIDR with host bits set (`10.0.0.1/8`: did you mean
    /// `10.0.0.0/8`?).
    pub fn parse(text: &str) -> Result<Self, AllowlistError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
            if content.is_empty() {
                continue;
            }
            let net = parse_entry(content).map_err(|message| AllowlistError { line, message })?;
            entries.push(AllowlistEntry { line, text: content.to_owned(), net });
        }
        Ok(Self { entries })
    }

    /// The entries, in file order.
    #[must_use]
    pub fn entries(&self) -> &[AllowlistEntry] {
        &self.entries
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list allows nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether some entry allows `ip`.
    #[must_use]
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.iter().any(|e| e.net.contains(&ip))
    }
}

fn parse_entry(content: &str) -> Result<IpNet, String> {
    if let Ok(ip) = content.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net: IpNet = content.parse().map_err(|_| format!("{content:?} is not an IP address or CIDR"))?;
    if net.trunc() != net {
        return Err(format!("CIDR {net} has host bits set (did you mean {}?)", net.trunc()));
    }
    Ok(net)
}

impl FromStr for Allowlist {
    type Err = AllowlistError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl FromIterator<IpNet> for Allowlist {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        let entries = iter
            .into_iter()
            .map(|net| net.trunc())
            .map(|net| AllowlistEntry { line: 0, text: net.to_string(), net })
            .collect();
        Self { entries }
    }
}

/// One entry per line, as [`Allowlist::parse`] reads it back.
impl fmt::Display for Allowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.iter().try_for_each(|e| writeln!(f, "{}", e.text))
    }
}
