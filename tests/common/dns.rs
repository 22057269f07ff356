//! A DNS server in-process on 127.0.0.1 (hickory-server) whose answers the
//! test chooses: addresses, TXT records, NXDOMAIN, SERVFAIL, or silence.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, TXT};
use hickory_server::proto::rr::{RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

/// How to answer one name and type.
#[derive(Debug, Clone)]
pub enum Answer {
    Ips(Vec<IpAddr>),
    /// The address the query came from (a real echo).
    Asker,
    Txt(Vec<String>),
    /// TXT records: Google's `edns0-client-subnet` line, then the asker.
    GoogleAsker,
    NxDomain,
    ServFail,
    Silence,
    /// Truncated (TC) over UDP; these addresses over TCP.
    TruncatedUdp(Vec<IpAddr>),
    /// Truncated over UDP and TCP alike.
    AlwaysTruncated,
}

#[derive(Clone, Default)]
struct Handler {
    answers: Arc<Mutex<HashMap<(String, RecordType), Answer>>>,
    queries: Arc<AtomicUsize>,
}

/// A running DNS server.
pub struct FakeDns {
    pub addr: SocketAddr,
    handler: Handler,
    _server: Server<Handler>,
}

impl FakeDns {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(bind: SocketAddr) -> Self {
        // UDP picks the port; TCP wants the same one, which another test may
        // hold: try again with another.
        let mut pair = None;
        for _ in 0..100 {
            let udp = tokio::net::UdpSocket::bind(bind).await.unwrap();
            if let Ok(tcp) = tokio::net::TcpListener::bind(udp.local_addr().unwrap()).await {
                pair = Some((udp, tcp));
                break;
            }
        }
        let (udp, tcp) = pair.expect("a port free for both UDP and TCP");
        let addr = udp.local_addr().unwrap();
        let handler = Handler::default();
        let mut server = Server::new(handler.clone());
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 32);
        Self { addr, handler, _server: server }
    }

    /// Answers `name` (`myip.opendns.com.`) of `record_type` with `answer`.
    pub fn set(&self, name: &str, record_type: RecordType, answer: Answer) -> &Self {
        self.handler.answers.lock().unwrap().insert((name.to_ascii_lowercase(), record_type), answer);
        self
    }

    /// An OpenDNS-style echo that answers A with `ip`.
    pub fn opendns(&self, answer: Answer) -> &Self {
        self.set("myip.opendns.com.", RecordType::A, answer)
    }

    pub fn queries(&self) -> usize {
        self.handler.queries.load(Ordering::SeqCst)
    }
}

fn failure(request: &Request, code: ResponseCode) -> ResponseInfo {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = code;
    ResponseInfo::from(Header { metadata, counts: HeaderCounts::default() })
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, mut response: R) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::SeqCst);
        let Ok(info) = request.request_info() else { return failure(request, ResponseCode::FormErr) };
        let name = info.query.original().name().clone();
        let key = (info.query.name().to_string().to_ascii_lowercase(), info.query.query_type());
        let answer = self.answers.lock().unwrap().get(&key).cloned();
        let mut builder = MessageResponseBuilder::from_message_request(request);
        let edns = request.edns.as_ref().map(|asked| {
            let mut edns = Edns::new();
            edns.set_max_payload(asked.max_payload().max(512));
            edns
        });
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let record = |data: RData| Record::from_rdata(name.clone(), 60, data);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let address = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => record(RData::A(A(v4))),
            IpAddr::V6(v6) => record(RData::AAAA(AAAA(v6))),
        };
        let records: Vec<Record> = match answer {
            Some(Answer::Silence) => return failure(request, ResponseCode::ServFail),
            None | Some(Answer::NxDomain) => {
                let message = builder.error_msg(&request.metadata, ResponseCode::NXDomain);
                return response
                    .send_response(message)
                    .await
                    .unwrap_or_else(|_| failure(request, ResponseCode::ServFail));
            }
            Some(Answer::ServFail) => {
                let message = builder.error_msg(&request.metadata, ResponseCode::ServFail);
                return response
                    .send_response(message)
                    .await
                    .unwrap_or_else(|_| failure(request, ResponseCode::ServFail));
            }
            Some(Answer::Ips(ips)) => ips.into_iter().map(address).collect(),
            Some(Answer::Asker) => vec![address(request.src().ip())],
            Some(Answer::Txt(texts)) => texts.into_iter().map(|t| record(RData::TXT(TXT::new(vec![t])))).collect(),
            Some(Answer::GoogleAsker) => vec![
                record(RData::TXT(TXT::new(vec!["edns0-client-subnet 1.2.3.0/24".into()]))),
                record(RData::TXT(TXT::new(vec![request.src().ip().to_string()]))),
            ],
            Some(Answer::TruncatedUdp(ips)) if request.protocol() == Protocol::Tcp => {
                ips.into_iter().map(address).collect()
            }
            Some(Answer::TruncatedUdp(_) | Answer::AlwaysTruncated) => {
                metadata.truncation = true;
                Vec::new()
            }
        };
        let message = builder.build(metadata, records.iter(), [], [], []);
        response.send_response(message).await.unwrap_or_else(|_| failure(request, ResponseCode::ServFail))
    }
}
