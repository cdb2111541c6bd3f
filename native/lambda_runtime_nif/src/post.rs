//! POSTs to the Runtime API with the request head and body in one write, on
//! a kept-alive connection.
//!
//! ureq transmits a request's head and its body separately. Against a server
//! without TCP_NODELAY (cargo-lambda's emulator, which also relays the body
//! to the invoker as it arrives) the second segment waits for a delayed ACK:
//! 40 ms on 19 % of invocations in `bench/` (BENCHMARKS.md, finding 1).
//! Responses and errors are small and whole before they are sent, so they
//! go out as one buffer here; `/next` (no body) stays on ureq.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::time::Duration;

use crate::address;
use crate::client::{Reply, TransportError, TransportKind};
use crate::stream::{header_value, read_reply};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Poster {
    authority: String,
    prefix: String,
    user_agent: String,
    conn: Mutex<Option<TcpStream>>,
}

impl Poster {
    pub fn new(base_url: &str, user_agent: &str) -> Result<Poster, String> {
        let (authority, prefix) =
            address::split_base(base_url).ok_or_else(|| format!("cannot post to {base_url}"))?;
        Ok(Poster {
            authority: authority.to_string(),
            prefix: prefix.to_string(),
            user_agent: user_agent.to_string(),
            conn: Mutex::new(None),
        })
    }

    /// POSTs `body` to `path` (below the API version prefix) with `headers`.
    pub fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply<Vec<u8>>, TransportError> {
        let request = self.request(path, headers, body);
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let reused = conn.is_some();
            let mut sock = match conn.take() {
                Some(sock) => sock,
                None => connect(&self.authority)?,
            };
            match exchange(&mut sock, &request) {
                Ok((reply, reusable)) => {
                    if reusable {
                        *conn = Some(sock);
                    }
                    return Ok(reply);
                }
                // A kept-alive connection the server has since closed: once
                // more on a fresh one.
                Err(e) if reused && e.kind == TransportKind::Closed => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn request(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nContent-Length: {}\r\n",
            self.prefix,
            self.authority,
            self.user_agent,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {}\r\n", header_value(value)));
        }
        head.push_str("\r\n");
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(body);
        request
    }
}

/// Opens a Runtime API connection to `authority` (`host:port`): a bounded
/// connect, TCP_NODELAY. Shared by the POSTs here and streamed responses.
pub(crate) fn connect(authority: &str) -> Result<TcpStream, TransportError> {
    let mut last = None;
    for addr in authority.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(sock) => {
                sock.set_nodelay(true)?;
                return Ok(sock);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => TransportError::from(e),
        None => TransportError {
            kind: TransportKind::Refused,
            message: format!("{authority} resolves to no address"),
        },
    })
}

/// Sends one request in one write and reads its answer; says whether the
/// connection may be used again.
fn exchange(
    sock: &mut TcpStream,
    request: &[u8],
) -> Result<(Reply<Vec<u8>>, bool), TransportError> {
    sock.write_all(request)?;
    read_reply(sock)
}
