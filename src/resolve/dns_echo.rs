//! DNS echo services: a name whose answer is the address of whoever asks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};

use super::direct::direct_resolver;
use super::evidence::{EvidenceKind, IpFamily, SourceError};
use super::source::EgressSource;
use crate::cause::Cause;
use crate::names::serialized_names;

/// OpenDNS's resolver, which answers `myip.opendns.com` with the asker.
pub const OPENDNS_SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(208, 67, 222, 222)), 53);
/// `ns1.google.com`, which answers `o-o.myaddr.l.google.com` TXT with the asker.
pub const GOOGLE_SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(216, 239, 32, 10)), 53);

const OPENDNS_NAME: &str = "myip.opendns.com.";
const GOOGLE_NAME: &str = "o-o.myaddr.l.google.com.";

/// Which question to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsEchoStyle {
    /// `myip.opendns.com` A/AAAA.
    OpenDns,
    /// `o-o.myaddr.l.google.com` TXT; the record that parses as an address
    /// is kept (the other says `edns0-client-subnet ...`).
    Google,
    /// OpenDNS's question, then Google's if the server does not know it.
    Either,
}

serialized_names!(DnsEchoStyle, "DNS echo style", { OpenDns => "opendns", Google => "google", Either => "either" });

/// One DNS echo service, asked directly (never through a recursive
/// resolver, which would answer with its own address).
///
/// ```
/// use civo_egress::resolve::{DnsEchoSource, DnsEchoStyle, EgressSource, OPENDNS_SERVER};
/// let source = DnsEchoSource::new(DnsEchoStyle::OpenDns, OPENDNS_SERVER);
/// assert_eq!(source.name(), "dns:opendns@208.67.222.222:53");
/// assert_eq!(source.style(), DnsEchoStyle::OpenDns);
/// ```
#[derive(Debug)]
pub struct DnsEchoSource {
    style: DnsEchoStyle,
    server: SocketAddr,
    name: String,
    timeout: Duration,
    resolver: OnceLock<Result<TokioResolver, SourceError>>,
}

impl DnsEchoSource {
    /// Asks `server` the question of `style`.
    #[must_use]
    pub fn new(style: DnsEchoStyle, server: SocketAddr) -> Self {
        let shown = match style {
            DnsEchoStyle::OpenDns => "opendns",
            DnsEchoStyle::Google => "google",
            DnsEchoStyle::Either => "echo",
        };
        let name = format!("dns:{shown}@{server}");
        Self { style, server, name, timeout: Duration::from_secs(3), resolver: OnceLock::new() }
    }

    /// The question asked.
    #[must_use]
    pub const fn style(&self) -> DnsEchoStyle {
        self.style
    }

    /// The server asked.
    #[must_use]
    pub const fn server(&self) -> SocketAddr {
        self.server
    }

    /// OpenDNS: `myip.opendns.com` at 208.67.222.222.
    #[must_use]
    pub fn opendns() -> Self {
        Self::new(DnsEchoStyle::OpenDns, OPENDNS_SERVER)
    }

    /// Google: `o-o.myaddr.l.google.com` TXT at ns1.google.com.
    #[must_use]
    pub fn google() -> Self {
        Self::new(DnsEchoStyle::Google, GOOGLE_SERVER)
    }

    /// OpenDNS and Google.
    #[must_use]
    pub fn defaults() -> Vec<Self> {
        vec![Self::opendns(), Self::google()]
    }

    /// The timeout of one query (default 3 s; the resolver's source timeout
    /// applies too).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn resolver(&self) -> Result<&TokioResolver, SourceError> {
        self.resolver.get_or_init(|| direct_resolver(self.server, self.timeout)).as_ref().map_err(Clone::clone)
    }

    async fn ask_opendns(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let resolver = self.resolver()?;
        let mut found = Vec::new();
        let mut last_error = None;
        for (wanted, record_type) in [(IpFamily::V4, RecordType::A), (IpFamily::V6, RecordType::AAAA)] {
            if family != IpFamily::Both && family != wanted {
                continue;
            }
            match resolver.lookup(OPENDNS_NAME, record_type).await {
                Ok(lookup) => found.extend(lookup.answers().iter().filter_map(|r| match &r.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })),
                Err(e) => last_error = Some(self.source_error(e)),
            }
        }
        match (found.is_empty(), last_error) {
            (true, Some(error)) => Err(error),
            _ => Ok(found),
        }
    }

    async fn ask_google(&self) -> Result<Vec<IpAddr>, SourceError> {
        let lookup = self.resolver()?.lookup(GOOGLE_NAME, RecordType::TXT).await.map_err(|e| self.source_error(e))?;
        let texts: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::TXT(txt) => Some(txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect::<String>()),
                _ => None,
            })
            .collect();
        let ips: Vec<IpAddr> = texts.iter().filter_map(|t| t.trim().parse().ok()).collect();
        if ips.is_empty() {
            return Err(SourceError::BadAnswer(format!("no TXT record holds an address: {texts:?}")));
        }
        Ok(ips)
    }

    fn source_error(&self, error: NetError) -> SourceError {
        let error_kind = match &error {
            e if e.is_nx_domain() => SourceError::not_found(format!("{} has no such name", self.server)),
            e if e.is_no_records_found() => SourceError::not_found(format!("{} has no such record", self.server)),
            NetError::Timeout => return SourceError::Timeout(self.timeout),
            NetError::Dns(DnsError::ResponseCode(code)) if *code == ResponseCode::ServFail => {
                SourceError::server_failure(format!("{} answered SERVFAIL", self.server))
            }
            other => SourceError::unreachable(format!("{}: {other}", self.server)),
        };
        error_kind.with_cause(Cause::new(error))
    }
}

#[async_trait]
impl EgressSource for DnsEchoSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> EvidenceKind {
        EvidenceKind::Observed
    }

    async fn gather(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let found = match self.style {
            DnsEchoStyle::OpenDns => self.ask_opendns(family).await?,
            DnsEchoStyle::Google => self.ask_google().await?,
            DnsEchoStyle::Either => match self.ask_opendns(family).await {
                Ok(ips) if !ips.is_empty() => ips,
                Err(SourceError::NotFound { .. }) | Ok(_) => self.ask_google().await?,
                Err(other) => return Err(other),
            },
        };
        Ok(found)
    }
}
