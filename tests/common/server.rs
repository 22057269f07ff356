//! A loopback HTTP/1.1 server for tests: one request per connection, replies
//! chosen by a closure, including the broken ones (silence, a body cut short,
//! a body that never ends).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the client sent.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent: `/v2/networks?region=LON1`.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub peer: SocketAddr,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// How to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request and never answer.
    Silence,
    /// Wait, then answer.
    After(std::time::Duration, Box<Reply>),
    /// Promise `declared` bytes, send `sent`, close.
    CloseMidBody {
        declared: usize,
        sent: Vec<u8>,
    },
    /// Stream `total` bytes with a Content-Length.
    Huge {
        total: usize,
    },
    /// Stream `total` bytes without a Content-Length (chunked).
    HugeChunked {
        total: usize,
    },
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Full { status, headers: vec![("Content-Type".into(), "application/json".into())], body: body.into() }
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::Full { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Full { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Self::Full { status, headers, body }
            }
            other => other,
        }
    }
}

/// An echo service: every request gets `body`.
pub async fn echo(body: &str) -> String {
    let reply = Reply::text(200, "text/plain", body.to_owned());
    format!("http://{}/", serve(move |_| reply.clone()).await)
}

/// An echo service on the IPv6 loopback: every request gets `body`.
pub async fn echo_v6(body: &str) -> String {
    let reply = Reply::text(200, "text/plain", body.to_owned());
    format!("http://{}/", serve_on("[::1]:0".parse().unwrap(), move |_| reply.clone()).await)
}

/// An echo service answering with `reply`.
pub async fn echo_reply(reply: Reply) -> String {
    format!("http://{}/", serve(move |_| reply.clone()).await)
}

/// Serves on 127.0.0.1 (or `bind`) until the runtime ends.
pub async fn serve<F>(handler: F) -> SocketAddr
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    serve_on("127.0.0.1:0".parse().unwrap(), handler).await
}

pub async fn serve_on<F>(bind: SocketAddr, handler: F) -> SocketAddr
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let Ok((socket, peer)) = listener.accept().await else {
                // Out of descriptors, say: wait for some to close, keep serving.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let _ = connection(socket, peer, &*handler).await;
            });
        }
    });
    addr
}

async fn connection<F: Fn(&Request) -> Reply>(
    mut socket: TcpStream,
    peer: SocketAddr,
    handler: &F,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let request = Request {
        method: request_line.next().unwrap_or("").into(),
        target: request_line.next().unwrap_or("").into(),
        headers: lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().into(), v.trim().into())).collect(),
        peer,
    };
    let mut reply = handler(&request);
    while let Reply::After(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    match reply {
        Reply::After(..) => unreachable!(),
        Reply::Full { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&body).await?;
            socket.shutdown().await?;
        }
        Reply::Silence => {
            // Say nothing until the client gives up, then let the socket go.
            let mut sink = [0u8; 1024];
            while socket.read(&mut sink).await? > 0 {}
        }
        Reply::CloseMidBody { declared, sent } => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/json\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&sent).await?;
            socket.flush().await?;
        }
        Reply::Huge { total } => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nContent-Type: application/json\r\n\r\n");
            socket.write_all(head.as_bytes()).await?;
            let block = vec![b' '; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = left.min(block.len());
                socket.write_all(&block[..n]).await?;
                left -= n;
            }
        }
        Reply::HugeChunked { total } => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n")
                .await?;
            let block = vec![b'1'; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = left.min(block.len());
                socket.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                socket.write_all(&block[..n]).await?;
                socket.write_all(b"\r\n").await?;
                left -= n;
            }
            socket.write_all(b"0\r\n\r\n").await?;
        }
    }
    Ok(())
}
