//! HTTP/1.1 for the fake Kubernetes API: persistent connections (kubectl and
//! hyper reuse them), request bodies by `Content-Length` or chunked, replies
//! with a `Content-Length` or streamed chunked (watch, `follow` logs).

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// A request as read off the wire.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A reply.
#[derive(Debug)]
pub enum HttpResponse {
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Chunked: one chunk per message received, the end when the sender is dropped.
    Stream {
        status: u16,
        content_type: &'static str,
        chunks: mpsc::Receiver<Vec<u8>>,
    },
}

const MAX_HEAD: usize = 1024 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

struct Conn<S> {
    io: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Reads more bytes into the buffer; false at the end of the stream.
    async fn more(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 8192];
        let n = self.io.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    async fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.more().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.drain(..i + 2).take(i).collect();
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD || !self.more().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn chunked_body(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size = String::from_utf8_lossy(&line);
            let size = size.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(io::ErrorKind::InvalidData.into());
            }
            body.extend(self.take(size).await?);
            self.take(2).await?;
        }
    }
}

/// Serves requests on one connection until the client closes it.
pub async fn serve_connection<S, F, Fut>(io: S, handler: F) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(HttpRequest) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    let mut conn = Conn { io, buf: Vec::new() };
    loop {
        let end = loop {
            if let Some(i) = conn.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if conn.buf.len() > MAX_HEAD || !conn.more().await? {
                return Ok(());
            }
        };
        let head: Vec<u8> = conn.buf.drain(..end + 4).collect();
        let head = String::from_utf8_lossy(&head[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let method = request_line.next().unwrap_or("").to_owned();
        let target = request_line.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> =
            lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().into(), v.trim().into())).collect();
        let mut request = HttpRequest { method, target, headers, body: Vec::new() };
        if request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            conn.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        if request.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            request.body = conn.chunked_body().await?;
        } else if let Some(len) = request.header("content-length") {
            let len: usize = len.parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            if len > MAX_BODY {
                return Ok(());
            }
            request.body = conn.take(len).await?;
        }
        let close = request.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handler(request).await {
            HttpResponse::Full { status, content_type, body } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                     Cache-Control: no-cache, private\r\n{}\r\n",
                    reason(status),
                    body.len(),
                    if close { "Connection: close\r\n" } else { "" },
                );
                conn.io.write_all(head.as_bytes()).await?;
                conn.io.write_all(&body).await?;
                conn.io.flush().await?;
            }
            HttpResponse::Stream { status, content_type, mut chunks } => {
                let head = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\
                     Cache-Control: no-cache, private\r\n{}\r\n",
                    reason(status),
                    if close { "Connection: close\r\n" } else { "" },
                );
                conn.io.write_all(head.as_bytes()).await?;
                conn.io.flush().await?;
                while let Some(chunk) = chunks.recv().await {
                    if chunk.is_empty() {
                        continue;
                    }
                    conn.io.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                    conn.io.write_all(&chunk).await?;
                    conn.io.write_all(b"\r\n").await?;
                    conn.io.flush().await?;
                }
                conn.io.write_all(b"0\r\n\r\n").await?;
                conn.io.flush().await?;
            }
        }
        if close {
            conn.io.shutdown().await?;
            return Ok(());
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}
