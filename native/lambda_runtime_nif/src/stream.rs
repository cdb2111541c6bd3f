//! Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`).
//!
//! A plain socket, not ureq: a streamed response needs chunks written as the
//! handler produces them and, for an error after the first byte, real HTTP
//! trailers (`Lambda-Runtime-Function-Error-Type`/`-Body`), which ureq cannot
//! send. The protocol surface is small: one chunked POST and one answer.

use std::io::Write;
use std::net::TcpStream;

use crate::address;
use crate::error_report::ErrorReport;
use crate::wire::{self, Reply, TransportError, TransportKind};

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
        let (authority, prefix) = address::split_base(base_url).ok_or_else(|| {
            TransportError::new(TransportKind::Other, format!("cannot stream to {base_url}"))
        })?;
        let sock = wire::connect(authority, timeout)?;
        let trailers = format!("{}, {}", wire::ERROR_TYPE_HEADER, wire::ERROR_BODY_TRAILER);
        let mut headers = vec![
            (wire::RESPONSE_MODE_HEADER, "streaming"),
            ("Transfer-Encoding", "chunked"),
            ("Trailer", trailers.as_str()),
            ("Content-Type", content_type),
        ];
        if let Some(id) = invocation_id {
            headers.push((wire::INVOCATION_ID_HEADER, id));
        }
        let path = wire::response_path(request_id);
        let head = wire::post_head(prefix, authority, &path, &headers);
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
        Ok(wire::read_reply(&mut self.sock)?.0)
    }

    /// Ends the body with `report` as the error trailers: its error-type
    /// header value and its JSON body, base64.
    pub fn fail(mut self, report: &ErrorReport) -> Result<Reply<Vec<u8>>, TransportError> {
        let mut trailers = String::from("0\r\n");
        wire::push_header(&mut trailers, wire::ERROR_TYPE_HEADER, &report.header_type);
        wire::push_header(
            &mut trailers,
            wire::ERROR_BODY_TRAILER,
            &report.body_base64(),
        );
        trailers.push_str("\r\n");
        self.sock.write_all(trailers.as_bytes())?;
        Ok(wire::read_reply(&mut self.sock)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
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
        let report = ErrorReport {
            header_type: "Function.RuntimeError".into(),
            error_message: "boom".into(),
            error_type: "RuntimeError".into(),
            stack_trace: vec![],
            xray_cause: None,
        };
        let reply = s.fail(&report).unwrap();
        assert_eq!(reply.status, 202);
        let raw = server.join().unwrap();
        assert!(raw.ends_with(&format!(
            "0\r\nLambda-Runtime-Function-Error-Type: Function.RuntimeError\r\n\
             Lambda-Runtime-Function-Error-Body: {}\r\n\r\n",
            report.body_base64()
        )));
    }
}
