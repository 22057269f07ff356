//! DNS echo services: a name whose answer is the address of whoever asks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, Record, RecordType};

use super::direct::direct_resolver;
use super::echo;
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
                Ok(lookup) => match echo_addresses(lookup.answers(), record_type, family) {
                    Ok(ips) => found.extend(ips.into_iter().filter(|ip| !found.contains(ip)).collect::<Vec<_>>()),
                    Err(error) => last_error = Some(error),
                },
                Err(e) => last_error = Some(self.source_error(e)),
            }
        }
        match (found.is_empty(), last_error) {
            (true, Some(error)) => Err(error),
            _ => Ok(found),
        }
    }

    async fn ask_google(&self, family: IpFamily) -> Result<Vec<IpAddr>, SourceError> {
        let lookup = self.resolver()?.lookup(GOOGLE_NAME, RecordType::TXT).await.map_err(|e| self.source_error(e))?;
        echo_addresses(lookup.answers(), RecordType::TXT, family)
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
            DnsEchoStyle::Google => self.ask_google(family).await?,
            DnsEchoStyle::Either => match self.ask_opendns(family).await {
                Ok(ips) if !ips.is_empty() => ips,
                Err(SourceError::NotFound { .. }) | Ok(_) => self.ask_google(family).await?,
                Err(other) => return Err(other),
            },
        };
        Ok(found)
    }
}

/// What an echo server's answer section says to the question of
/// `question`: the addresses of its records of that type only (A, AAAA:
/// the address; TXT: the text, its strings joined, that parses as one
/// address, trimmed: Google's other record says `edns0-client-subnet ...`),
/// canonical (`::ffff:a.b.c.d` is IPv4), each once, in order, and of
/// `family` only. Whether they are global is the resolver's to judge
/// ([`echo::check_global`]). Pure: the fuzz target `dns_echo` feeds it
/// every answer section hickory-proto decodes.
///
/// # Errors
///
/// [`SourceError::NotFound`] when no record holds data of the question's
/// type (a CNAME alone, another type, a record with empty data), [`SourceError::BadAnswer`] when no TXT
/// record holds an address (with an excerpt of what they hold), and
/// [`SourceError::WrongFamily`] when every address found is of the other
/// family.
pub(crate) fn echo_addresses(
    answers: &[Record],
    question: RecordType,
    family: IpFamily,
) -> Result<Vec<IpAddr>, SourceError> {
    let mut texts = Vec::new();
    let mut found = Vec::new();
    for record in answers {
        // By the data, not the declared type: a record of the question's
        // type with empty data (hickory's `Update0`) holds nothing.
        let ip = match (&record.data, question) {
            (RData::A(a), RecordType::A) => Some(IpAddr::V4(a.0)),
            (RData::AAAA(aaaa), RecordType::AAAA) => Some(IpAddr::V6(aaaa.0)),
            (RData::TXT(txt), RecordType::TXT) => {
                let text: String = txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect();
                let ip = text.trim().parse::<IpAddr>().ok();
                texts.push(text);
                ip
            }
            _ => continue,
        };
        if let Some(ip) = ip.map(|ip| ip.to_canonical())
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    if found.is_empty() {
        return Err(if texts.is_empty() {
            SourceError::not_found(format!("no {question} record in the answer"))
        } else {
            SourceError::BadAnswer(format!(
                "no TXT record holds an address: {}",
                echo::excerpt(texts.join(" | ").as_bytes(), 120)
            ))
        });
    }
    let other = found.iter().copied().find(|ip| !family.admits(*ip));
    found.retain(|ip| family.admits(*ip));
    match (found.is_empty(), other) {
        (true, Some(ip)) => Err(SourceError::WrongFamily(ip)),
        _ => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::rr::Name;
    use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, TXT};

    use super::*;

    fn record(data: RData) -> Record {
        Record::from_rdata(Name::from_ascii("myip.opendns.com.").unwrap(), 0, data)
    }

    fn a(ip: &str) -> Record {
        record(RData::A(A(ip.parse().unwrap())))
    }

    fn aaaa(ip: &str) -> Record {
        record(RData::AAAA(AAAA(ip.parse().unwrap())))
    }

    fn txt(strings: &[&str]) -> Record {
        record(RData::TXT(TXT::new(strings.iter().map(|s| (*s).to_owned()).collect())))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_of_the_question_type_only_canonical_once() {
        let answers = [a("74.220.24.10"), aaaa("2a00:1450::10"), a("74.220.24.10"), a("74.220.24.11")];
        assert_eq!(
            echo_addresses(&answers, RecordType::A, IpFamily::Both),
            Ok(vec![ip("74.220.24.10"), ip("74.220.24.11")])
        );
        assert_eq!(echo_addresses(&answers, RecordType::AAAA, IpFamily::V6), Ok(vec![ip("2a00:1450::10")]));
        let cname = record(RData::CNAME(CNAME(Name::from_ascii("elsewhere.example.").unwrap())));
        assert!(matches!(echo_addresses(&[cname], RecordType::A, IpFamily::V4), Err(SourceError::NotFound { .. })));
        assert!(matches!(echo_addresses(&[], RecordType::A, IpFamily::V4), Err(SourceError::NotFound { .. })));
        // An A answer to the AAAA question is not an answer.
        assert!(matches!(
            echo_addresses(&answers[..1], RecordType::AAAA, IpFamily::V6),
            Err(SourceError::NotFound { .. })
        ));
    }

    #[test]
    fn a_record_of_the_type_with_empty_data_is_no_answer() {
        // Found by the fuzz target `dns_echo`: a TXT record with RDLENGTH 0,
        // which hickory decodes as `Update0`; it was a TXT record to the
        // filter but no text to the reader.
        let empty = record(RData::Update0(RecordType::TXT));
        assert_eq!(empty.record_type(), RecordType::TXT);
        assert!(matches!(echo_addresses(&[empty], RecordType::TXT, IpFamily::V4), Err(SourceError::NotFound { .. })));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/regression_empty_txt.bin");
        let message = hickory_resolver::proto::op::Message::from_vec(seed).unwrap();
        assert!(matches!(
            echo_addresses(&message.answers, RecordType::TXT, IpFamily::V4),
            Err(SourceError::NotFound { .. })
        ));
    }

    #[test]
    fn only_the_family_asked() {
        let mapped = [aaaa("::ffff:74.220.24.10")];
        assert_eq!(echo_addresses(&mapped, RecordType::AAAA, IpFamily::Both), Ok(vec![ip("74.220.24.10")]));
        assert_eq!(
            echo_addresses(&mapped, RecordType::AAAA, IpFamily::V6),
            Err(SourceError::WrongFamily(ip("74.220.24.10")))
        );
        let google = [txt(&["2a00:1450::10"]), txt(&["74.220.24.10"])];
        assert_eq!(echo_addresses(&google, RecordType::TXT, IpFamily::V4), Ok(vec![ip("74.220.24.10")]));
        assert_eq!(
            echo_addresses(&google[..1], RecordType::TXT, IpFamily::V4),
            Err(SourceError::WrongFamily(ip("2a00:1450::10")))
        );
    }

    #[test]
    fn txt_records_hold_one_address_or_are_skipped() {
        let google = [txt(&["edns0-client-subnet 74.220.24.0/24"]), txt(&[" 74.220.", "24.10 "])];
        assert_eq!(echo_addresses(&google, RecordType::TXT, IpFamily::Both), Ok(vec![ip("74.220.24.10")]));
        let none = echo_addresses(&google[..1], RecordType::TXT, IpFamily::Both);
        assert!(matches!(&none, Err(SourceError::BadAnswer(m)) if m.contains("edns0-client-subnet")), "{none:?}");
        let long = "x".repeat(60_000);
        let Err(SourceError::BadAnswer(message)) = echo_addresses(&[txt(&[&long])], RecordType::TXT, IpFamily::Both)
        else {
            panic!("no address in a long TXT record")
        };
        assert!(message.chars().count() < 200, "the message is an excerpt: {} characters", message.len());
    }

    #[test]
    fn the_fuzz_seeds_decode_to_what_echo_servers_answer() {
        use hickory_resolver::proto::op::Message;
        let read = |bytes: &[u8], question, family| {
            echo_addresses(&Message::from_vec(bytes).unwrap().answers, question, family)
        };
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/opendns_a.bin");
        assert_eq!(read(seed, RecordType::A, IpFamily::V4), Ok(vec![ip("74.220.24.10")]));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/opendns_mapped_aaaa.bin");
        assert_eq!(read(seed, RecordType::AAAA, IpFamily::V6), Err(SourceError::WrongFamily(ip("74.220.24.10"))));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/opendns_two_a_and_cname.bin");
        assert_eq!(read(seed, RecordType::A, IpFamily::Both), Ok(vec![ip("74.220.24.10"), ip("100.64.0.1")]));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/google_txt.bin");
        assert_eq!(read(seed, RecordType::TXT, IpFamily::Both), Ok(vec![ip("74.220.24.10")]));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/google_txt_v6_split.bin");
        assert_eq!(read(seed, RecordType::TXT, IpFamily::V6), Ok(vec![ip("2a00:1450:4009::10")]));
        let seed = include_bytes!("../../fuzz/seeds/dns_echo/nxdomain_soa.bin");
        assert!(matches!(read(seed, RecordType::A, IpFamily::V4), Err(SourceError::NotFound { .. })));
    }

    #[test]
    fn non_global_addresses_are_found_for_the_resolver_to_reject() {
        let found = echo_addresses(&[a("127.0.0.1")], RecordType::A, IpFamily::V4);
        assert_eq!(found, Ok(vec![ip("127.0.0.1")]));
        assert!(matches!(
            echo::check_global(ip("127.0.0.1"), crate::AddressPolicy::GlobalOnly),
            Err(SourceError::NonGlobal { .. })
        ));
    }
}
