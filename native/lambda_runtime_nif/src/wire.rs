//! The Runtime API's wire, shared by every request the crate makes: the
//! protocol's names (paths, headers, the User-Agent), transport errors,
//! opening a connection, writing a request head, and reading an answer.
//!
//! Everything else builds on this module (`post` for `/response` and
//! `/error`, `stream` for streamed responses, `client` for `/next`); it
//! imports none of them.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::address;

/// Sent with every request.
pub const USER_AGENT: &str = concat!("lambda_runtime_elixir/", env!("CARGO_PKG_VERSION"));

pub const NEXT_PATH: &str = "/runtime/invocation/next";
pub const INIT_ERROR_PATH: &str = "/runtime/init/error";

pub const JSON_CONTENT_TYPE: &str = "application/json";
pub const ERROR_CONTENT_TYPE: &str = "application/vnd.aws.lambda.error+json";

/// Echoed on every answer to an invocation that carried it (Managed Instances).
pub const INVOCATION_ID_HEADER: &str = "Lambda-Runtime-Invocation-Id";
/// The error's `Category.Reason`: a header on `/error`, a trailer on a stream.
pub const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";
/// The error JSON, base64: a trailer on a stream that failed after its first byte.
pub const ERROR_BODY_TRAILER: &str = "Lambda-Runtime-Function-Error-Body";
pub const XRAY_CAUSE_HEADER: &str = "Lambda-Runtime-Function-XRay-Error-Cause";
pub const RESPONSE_MODE_HEADER: &str = "Lambda-Runtime-Function-Response-Mode";

/// `/runtime/invocation/{id}/response`.
pub fn response_path(request_id: &str) -> String {
    invocation_path(request_id, "response")
}

/// `/runtime/invocation/{id}/error`.
pub fn error_path(request_id: &str) -> String {
    invocation_path(request_id, "error")
}

fn invocation_path(request_id: &str, what: &str) -> String {
    format!(
        "/runtime/invocation/{}/{what}",
        address::path_segment(request_id)
    )
}

/// Why a request did not get an HTTP answer at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing listens (or the connection attempt failed).
    Refused,
    /// The connection broke mid-exchange: reset, closed early, truncated body.
    Closed,
    /// The server spoke something that is not HTTP/1.1.
    Protocol,
    /// The body (or the head) is larger than we accept.
    TooLarge,
    /// No answer (or no progress writing) within the call's bound.
    Timeout,
    Other,
}

#[derive(Debug)]
pub struct TransportError {
    pub kind: TransportKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: TransportKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

impl From<ureq::Error> for TransportError {
    fn from(err: ureq::Error) -> Self {
        let kind = match &err {
            ureq::Error::Io(io) => io_kind(io.kind()),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportKind::Refused,
            ureq::Error::Protocol(_) => TransportKind::Protocol,
            ureq::Error::Timeout(_) => TransportKind::Closed,
            ureq::Error::BodyExceedsLimit(_) | ureq::Error::LargeResponseHeader(_, _) => {
                TransportKind::TooLarge
            }
            _ => TransportKind::Other,
        };
        TransportError::new(kind, err.to_string())
    }
}

impl From<std::io::Error> for TransportError {
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        // Our own sockets' read and write timeouts (SO_RCVTIMEO and
        // SO_SNDTIMEO give EAGAIN on Linux).
        if matches!(err.kind(), K::WouldBlock | K::TimedOut) {
            return TransportError::new(
                TransportKind::Timeout,
                format!("no answer within the time allowed ({err})"),
            );
        }
        // Worded as ureq words its own I/O errors, so that a log line
        // reads the same whichever request failed.
        TransportError::new(io_kind(err.kind()), format!("io: {err}"))
    }
}

fn io_kind(kind: std::io::ErrorKind) -> TransportKind {
    use std::io::ErrorKind as K;
    match kind {
        K::ConnectionRefused | K::AddrNotAvailable | K::NotFound => TransportKind::Refused,
        K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::TimedOut => TransportKind::Closed,
        _ => TransportKind::Other,
    }
}

fn closed(message: &str) -> TransportError {
    TransportError::new(TransportKind::Closed, message)
}

fn protocol(message: &str) -> TransportError {
    TransportError::new(TransportKind::Protocol, message)
}

/// A Runtime API answer: the status code and the (bounded) body.
#[derive(Debug)]
pub struct Reply<B> {
    pub status: u16,
    pub body: B,
}

/// A connection attempt never waits longer than this, nor than the
/// caller's bound.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a Runtime API connection to `authority` (`host:port`): a connect
/// bounded by `timeout` (and `CONNECT_TIMEOUT`), TCP_NODELAY, and every
/// later read and write on it bounded by `timeout`.
pub fn connect(authority: &str, timeout: Duration) -> Result<TcpStream, TransportError> {
    let mut last = None;
    for addr in authority.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout.min(CONNECT_TIMEOUT)) {
            Ok(sock) => {
                sock.set_nodelay(true)?;
                sock.set_read_timeout(Some(timeout))?;
                sock.set_write_timeout(Some(timeout))?;
                return Ok(sock);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => TransportError::from(e),
        None => TransportError::new(
            TransportKind::Refused,
            format!("{authority} resolves to no address"),
        ),
    })
}

/// The head of a POST to `path` (below the API version prefix `prefix`):
/// request line, `Host`, `User-Agent`, then `headers` (the body's framing
/// among them) and the blank line. Every value goes through
/// `header_value`.
pub fn post_head(prefix: &str, authority: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut head = String::with_capacity(160 + path.len());
    let _ = write!(head, "POST {prefix}{path} HTTP/1.1\r\n");
    push_header(&mut head, "Host", authority);
    push_header(&mut head, "User-Agent", USER_AGENT);
    for (name, value) in headers {
        push_header(&mut head, name, value);
    }
    head.push_str("\r\n");
    head
}

/// Appends `name: value\r\n` (a header or a trailer line).
pub fn push_header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(&header_value(value));
    out.push_str("\r\n");
}

/// The header cleanup every value gets: characters that would end the
/// line early (CR, LF) are dropped. What a value means (the error type's
/// `Category.Reason` shape) is decided by its producer, not here.
pub fn header_value(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains(['\r', '\n']) {
        v.chars().filter(|c| *c != '\r' && *c != '\n').collect()
    } else {
        v.into()
    }
}

/// The most of an answer's body kept (a Runtime API answer is a short
/// JSON document).
const REPLY_BODY_LIMIT: usize = 1024 * 1024;

/// Reads one HTTP/1.1 answer: status line, headers, and a body framed by
/// Content-Length, chunked encoding, or the end of the connection. Also says
/// whether the connection can carry another request. Used for every POST
/// (`/response`, `/error`, `/init/error`, a streamed response).
pub fn read_reply(sock: impl Read) -> Result<(Reply<Vec<u8>>, bool), TransportError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_post_head_names_the_path_host_agent_and_cleans_every_value() {
        let head = post_head(
            "/.rt/2018-06-01",
            "127.0.0.1:9001",
            &response_path("r/1"),
            &[("Content-Length", "2"), ("X-Odd", "a\r\nInjected: 1")],
        );
        assert_eq!(
            head,
            format!(
                "POST /.rt/2018-06-01/runtime/invocation/r%2F1/response HTTP/1.1\r\n\
                 Host: 127.0.0.1:9001\r\nUser-Agent: {USER_AGENT}\r\nContent-Length: 2\r\n\
                 X-Odd: aInjected: 1\r\n\r\n"
            )
        );
        assert_eq!(error_path("r1"), "/runtime/invocation/r1/error");
    }

    #[test]
    fn io_errors_are_classified() {
        use std::io::{Error, ErrorKind as K};
        let kind = |k: K| TransportError::from(Error::from(k)).kind;
        assert_eq!(kind(K::ConnectionRefused), TransportKind::Refused);
        assert_eq!(kind(K::ConnectionReset), TransportKind::Closed);
        assert_eq!(kind(K::UnexpectedEof), TransportKind::Closed);
        assert_eq!(kind(K::WouldBlock), TransportKind::Timeout);
        assert_eq!(kind(K::TimedOut), TransportKind::Timeout);
        assert_eq!(kind(K::PermissionDenied), TransportKind::Other);
    }
}
