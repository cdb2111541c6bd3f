//! Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`).
//!
//! A plain socket, not ureq: a streamed response needs chunks written as the
//! handler produces them and, for an error after the first byte, real HTTP
//! trailers (`Lambda-Runtime-Function-Error-Type`/`-Body`), which ureq cannot
//! send. The protocol surface is small: one chunked POST and one answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use crate::address;
use crate::client::{Reply, TransportError, TransportKind};
use crate::post;

const ERROR_TYPE_TRAILER: &str = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY_TRAILER: &str = "Lambda-Runtime-Function-Error-Body";
const REPLY_BODY_LIMIT: usize = 1024 * 1024;

/// An open streamed response: headers sent, chunks follow.
pub struct ResponseStream {
    sock: TcpStream,
    /// Bytes of body sent so far.
    sent: u64,
}

impl ResponseStream {
    /// Connects and sends the request head for `request_id`'s streamed response.
    /// Every write, and the wait for the answer, is bounded by `timeout`.
    pub fn open(
        base_url: &str,
        request_id: &str,
        invocation_id: Option<&str>,
        content_type: &str,
        timeout: std::time::Duration,
    ) -> Result<ResponseStream, TransportError> {
        let (authority, prefix) = address::split_base(base_url).ok_or(TransportError {
            kind: TransportKind::Other,
            message: format!("cannot stream to {base_url}"),
        })?;
        let sock = post::connect(authority, timeout)?;
        let mut head = format!(
            "POST {prefix}/runtime/invocation/{}/response HTTP/1.1\r\n\
             Host: {authority}\r\n\
             User-Agent: lambda_runtime_elixir/{}\r\n\
             Lambda-Runtime-Function-Response-Mode: streaming\r\n\
             Transfer-Encoding: chunked\r\n\
             Trailer: {ERROR_TYPE_TRAILER}, {ERROR_BODY_TRAILER}\r\n\
             Content-Type: {}\r\n",
            address::path_segment(request_id),
            env!("CARGO_PKG_VERSION"),
            header_value(content_type),
        );
        if let Some(id) = invocation_id {
            head.push_str(&format!(
                "Lambda-Runtime-Invocation-Id: {}\r\n",
                header_value(id)
            ));
        }
        head.push_str("\r\n");
        let mut stream = ResponseStream { sock, sent: 0 };
        stream.sock.write_all(head.as_bytes())?;
        Ok(stream)
    }

    /// Sends `data` as one chunk, at once (empty data sends nothing: an
    /// empty chunk would end the body).
    pub fn write(&mut self, data: &[u8]) -> Result<(), TransportError> {
        if data.is_empty() {
            return Ok(());
        }
        let mut frame = Vec::with_capacity(data.len() + 16);
        frame.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        frame.extend_from_slice(data);
        frame.extend_from_slice(b"\r\n");
        self.sock.write_all(&frame)?;
        self.sent += data.len() as u64;
        Ok(())
    }

    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }

    /// Ends the body and reads the Runtime API's answer.
    pub fn finish(mut self) -> Result<Reply<Vec<u8>>, TransportError> {
        self.sock.write_all(b"0\r\n\r\n")?;
        Ok(read_reply(&mut self.sock)?.0)
    }

    /// Ends the body with the error trailers: `error_type` and the
    /// base64-encoded error JSON.
    pub fn fail(
        mut self,
        error_type: &str,
        error_body_base64: &str,
    ) -> Result<Reply<Vec<u8>>, TransportError> {
        let trailers = format!(
            "0\r\n{ERROR_TYPE_TRAILER}: {}\r\n{ERROR_BODY_TRAILER}: {}\r\n\r\n",
            header_value(error_type),
            header_value(error_body_base64)
        );
        self.sock.write_all(trailers.as_bytes())?;
        Ok(read_reply(&mut self.sock)?.0)
    }
}

/// Drops characters that would end a header line early.
pub(crate) fn header_value(v: &str) -> String {
    v.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// Reads one HTTP/1.1 answer: status line, headers, and a body framed by
/// Content-Length, chunked encoding, or the end of the connection. Also says
/// whether the connection can carry another request.
pub(crate) fn read_reply(sock: impl Read) -> Result<(Reply<Vec<u8>>, bool), TransportError> {
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = parse_status(&line)?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(closed("the connection closed inside the headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
    }
    let mut body = Vec::new();
    let reusable = !close && (chunked || length.is_some());
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| protocol("bad chunk size"))?;
            if size == 0 {
                break;
            }
            // A size this side never asks for is a broken answer, not an
            // allocation to attempt (a huge one would abort the VM).
            if size > REPLY_BODY_LIMIT {
                return Err(protocol("answer chunk too large"));
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if body.len() < REPLY_BODY_LIMIT {
                body.extend_from_slice(&chunk[..size]);
            }
        }
    } else if let Some(n) = length {
        if n > REPLY_BODY_LIMIT {
            return Err(protocol("answer body too large"));
        }
        let mut buf = vec![0; n];
        reader.read_exact(&mut buf)?;
        body = buf;
    } else {
        reader
            .take(REPLY_BODY_LIMIT as u64)
            .read_to_end(&mut body)?;
    }
    Ok((Reply { status, body }, reusable))
}

fn parse_status(line: &str) -> Result<u16, TransportError> {
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().and_then(|s| s.parse().ok())) {
        (Some(v), Some(status)) if v.starts_with("HTTP/1.") => Ok(status),
        _ if line.is_empty() => Err(closed("the connection closed before an answer")),
        _ => Err(protocol("not an HTTP/1.1 status line")),
    }
}

fn closed(message: &str) -> TransportError {
    TransportError {
        kind: TransportKind::Closed,
        message: message.to_string(),
    }
}

fn protocol(message: &str) -> TransportError {
    TransportError {
        kind: TransportKind::Protocol,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

    /// Accepts one streamed request, returns its raw bytes, answers 202.
    fn server() -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(sock.try_clone().unwrap());
            let mut raw = String::new();
            let mut in_trailers = false;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                raw.push_str(&line);
                if line == "0\r\n" {
                    in_trailers = true;
                } else if in_trailers && line == "\r\n" {
                    break;
                }
            }
            let mut sock = sock;
            sock.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            raw
        });
        (addr, handle)
    }

    #[test]
    fn streams_chunks_then_ends_cleanly() {
        let (addr, server) = server();
        let base = address::base_url(&format!("http://{addr}/.rt")).unwrap();
        let mut s =
            ResponseStream::open(&base, "req-1", Some("inv-1"), "text/plain", TIMEOUT).unwrap();
        s.write(b"hello ").unwrap();
        s.write(b"").unwrap();
        s.write(b"world").unwrap();
        assert_eq!(s.bytes_sent(), 11);
        assert_eq!(s.finish().unwrap().status, 202);
        let raw = server.join().unwrap();
        assert!(
            raw.starts_with("POST /.rt/2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n")
        );
        assert!(raw.contains("Lambda-Runtime-Function-Response-Mode: streaming\r\n"));
        assert!(raw.contains("Transfer-Encoding: chunked\r\n"));
        assert!(raw.contains(
            "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
        ));
        assert!(raw.contains("Lambda-Runtime-Invocation-Id: inv-1\r\n"));
        assert!(raw.ends_with("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"));
    }

    #[test]
    fn a_failure_is_sent_as_trailers() {
        let (addr, server) = server();
        let base = address::base_url(&addr).unwrap();
        let mut s = ResponseStream::open(&base, "r", None, "application/json", TIMEOUT).unwrap();
        s.write(b"{\"partial\":").unwrap();
        let reply = s.fail("Function.RuntimeError", "eyJlcnJvciI6MX0=").unwrap();
        assert_eq!(reply.status, 202);
        let raw = server.join().unwrap();
        assert!(raw.ends_with(
            "0\r\nLambda-Runtime-Function-Error-Type: Function.RuntimeError\r\n\
             Lambda-Runtime-Function-Error-Body: eyJlcnJvciI6MX0=\r\n\r\n"
        ));
    }

    #[test]
    fn reads_content_length_chunked_and_close_delimited_answers() {
        let (r, reusable) =
            read_reply(&b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"[..]).unwrap();
        assert_eq!((r.status, r.body, reusable), (202, b"ok".to_vec(), true));
        let (r, reusable) = read_reply(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n"[..],
        )
        .unwrap();
        assert_eq!((r.status, r.body, reusable), (200, b"abcd".to_vec(), true));
        let (r, reusable) = read_reply(&b"HTTP/1.1 410 Gone\r\n\r\nstale"[..]).unwrap();
        assert_eq!(
            (r.status, r.body, reusable),
            (410, b"stale".to_vec(), false)
        );
        let (_, reusable) = read_reply(
            &b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"[..],
        )
        .unwrap();
        assert!(!reusable);
    }

    #[test]
    fn rejects_garbage_and_early_close() {
        assert_eq!(
            read_reply(&b"garbage\r\n\r\n"[..]).unwrap_err().kind,
            TransportKind::Protocol
        );
        assert_eq!(
            read_reply(&b""[..]).unwrap_err().kind,
            TransportKind::Closed
        );
    }

    #[test]
    fn rejects_absurd_chunk_sizes_without_allocating_them() {
        for size in ["fffffffff", "ffffffffffffffff", "100001"] {
            let raw = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nab");
            let err = read_reply(raw.as_bytes()).unwrap_err();
            assert_eq!(err.kind, TransportKind::Protocol, "for {size}");
            assert!(err.message.contains("chunk too large"), "for {size}");
        }
    }
}
