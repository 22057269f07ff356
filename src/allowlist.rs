//! The allowlist a partner or firewall holds: one IP or CIDR per line.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AllowlistError;
use crate::whitelist::Whitelist;

/// One line of an allowlist: the text as written, and the network it allows.
///
/// Two entries are equal when they say the same thing (text and network);
/// the line they came from is provenance, not part of the value.
/// `Display` writes the text, `FromStr` reads one entry (line 0), and serde
/// uses the same string.
///
/// ```
/// use civo_egress::AllowlistEntry;
/// let entry: AllowlistEntry = "::ffff:10.0.0.0/104".parse()?;
/// assert_eq!(entry.net().to_string(), "10.0.0.0/8", "IPv4-mapped CIDRs are IPv4 CIDRs");
/// assert_eq!(entry.to_string(), "::ffff:10.0.0.0/104");
/// assert!("10.0.0.1/8".parse::<AllowlistEntry>().is_err());
/// # Ok::<(), civo_egress::AllowlistError>(())
/// ```
#[derive(Clone)]
pub struct AllowlistEntry {
    line: usize,
    text: String,
    net: IpNet,
}

impl AllowlistEntry {
    /// The 1-based line it came from (0 when built from a list of CIDRs or
    /// parsed alone).
    #[must_use]
    pub const fn line(&self) -> usize {
        self.line
    }

    /// The entry as written, without comment or blanks.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The network it allows (a single IP is its host CIDR; an IPv4-mapped
    /// address or CIDR is its IPv4 form).
    #[must_use]
    pub const fn net(&self) -> IpNet {
        self.net
    }

    fn of_net(net: IpNet) -> Self {
        let net = canonical(net.trunc());
        Self { line: 0, text: net.to_string(), net }
    }
}

impl PartialEq for AllowlistEntry {
    fn eq(&self, other: &Self) -> bool {
        (&self.text, self.net) == (&other.text, other.net)
    }
}

impl Eq for AllowlistEntry {}

impl Hash for AllowlistEntry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&self.text, self.net).hash(state);
    }
}

impl fmt::Debug for AllowlistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AllowlistEntry(line {}: {})", self.line, self.text)
    }
}

impl fmt::Display for AllowlistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for AllowlistEntry {
    type Err = AllowlistError;

    /// One entry, with the rules of [`Allowlist::parse`] (no comment).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        entry(0, s.trim())
    }
}

impl Serialize for AllowlistEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for AllowlistEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
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
/// assert!(list.allows("::ffff:10.1.2.3".parse()?));
/// let err = "1.2.3.4\nyour.cluster.ip.address\n".parse::<Allowlist>().err();
/// assert_eq!(err.map(|e| e.line()), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It serializes as a JSON list of the entries' texts, and deserializes
/// through the same rules as [`parse`](Self::parse).
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
            let content = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
            if !content.is_empty() {
                entries.push(entry(i + 1, content)?);
            }
        }
        Ok(Self { entries })
    }

    /// The entries, in file order.
    #[must_use]
    pub fn entries(&self) -> &[AllowlistEntry] {
        &self.entries
    }

    /// The entries, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, AllowlistEntry> {
        self.entries.iter()
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

    /// Whether some entry allows `ip` (an IPv4-mapped address as its IPv4
    /// address).
    #[must_use]
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.iter().any(|e| e.net.contains(&ip))
    }
}

/// Parses one entry found on `line`.
fn entry(line: usize, content: &str) -> Result<AllowlistEntry, AllowlistError> {
    let net = parse_entry(content).map_err(|message| AllowlistError { line, message })?;
    Ok(AllowlistEntry { line, text: content.to_owned(), net })
}

fn parse_entry(content: &str) -> Result<IpNet, String> {
    if let Ok(ip) = content.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net: IpNet = content.parse().map_err(|_| format!("{content:?} is not an IP address or CIDR"))?;
    if net.trunc() != net {
        return Err(format!("CIDR {net} has host bits set (did you mean {}?)", net.trunc()));
    }
    Ok(canonical(net))
}

/// An IPv6 CIDR inside `::ffff:0:0/96` as the IPv4 CIDR it maps:
/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        other => other,
    }
}

impl FromStr for Allowlist {
    type Err = AllowlistError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Host bits are cleared (`10.0.0.1/8` allows `10.0.0.0/8`), and mapped
/// CIDRs become IPv4; entries get line 0.
impl FromIterator<IpNet> for Allowlist {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        Self { entries: iter.into_iter().map(AllowlistEntry::of_net).collect() }
    }
}

/// Each address as its host CIDR.
impl FromIterator<IpAddr> for Allowlist {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(iter: I) -> Self {
        iter.into_iter().map(IpNet::from).collect()
    }
}

/// As the `FromIterator<IpNet>` impl: host bits cleared, mapped CIDRs as IPv4, line 0.
impl Extend<IpNet> for Allowlist {
    fn extend<I: IntoIterator<Item = IpNet>>(&mut self, iter: I) {
        self.entries.extend(iter.into_iter().map(AllowlistEntry::of_net));
    }
}

impl Extend<AllowlistEntry> for Allowlist {
    fn extend<I: IntoIterator<Item = AllowlistEntry>>(&mut self, iter: I) {
        self.entries.extend(iter);
    }
}

/// Exactly the whitelist's CIDRs: what a partner should allow.
///
/// ```
/// use civo_egress::{Allowlist, Audit, Topology, Whitelist};
/// let topology = Topology::from_json(r#"{"clusters": [{"name": "prod", "egress_ip": "212.2.253.151"}]}"#)?;
/// let allowlist = Allowlist::from(&Whitelist::of(&topology)?);
/// assert!(Audit::builder(&topology).build()?.run(&allowlist).is_ok());
/// # Ok::<(), civo_egress::TopologyError>(())
/// ```
impl From<&Whitelist> for Allowlist {
    fn from(whitelist: &Whitelist) -> Self {
        whitelist.cidrs().collect()
    }
}

impl<'a> IntoIterator for &'a Allowlist {
    type Item = &'a AllowlistEntry;
    type IntoIter = std::slice::Iter<'a, AllowlistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for Allowlist {
    type Item = AllowlistEntry;
    type IntoIter = std::vec::IntoIter<AllowlistEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// One entry per line, as [`Allowlist::parse`] reads it back.
impl fmt::Display for Allowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.iter().try_for_each(|e| writeln!(f, "{}", e.text))
    }
}

/// A JSON list of the entries' texts.
impl Serialize for Allowlist {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.entries.iter().map(|e| e.text.as_str()))
    }
}

/// A JSON list of entries, each parsed as a line of [`Allowlist::parse`]
/// (no comments); an error names the 1-based position.
impl<'de> Deserialize<'de> for Allowlist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        let entries = texts
            .iter()
            .enumerate()
            .map(|(i, text)| entry(i + 1, text.trim()))
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom)?;
        Ok(Self { entries })
    }
}
