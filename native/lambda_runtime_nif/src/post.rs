//! POSTs to the Runtime API with the request head and body in one write, on
//! a kept-alive connection.
//!
//! ureq transmits a request's head and its body separately. Against a server
//! without TCP_NODELAY (cargo-lambda's emulator, which also relays the body
//! to the invoker as it arrives) the second segment waits for a delayed ACK:
//! 40 ms on 19 % of invocations in `bench/` (BENCHMARKS.md, *Decisions*).
//! Responses and errors are small and whole before they are sent, so they
//! go out as one buffer here; `/next` (no body) stays on ureq.
//!
//! A small response can also be *sent ahead* (`send_ahead`) from the normal
//! scheduler, without blocking, and its answer read later on a dirty IO
//! thread (`post_ahead`): the emulator or Lambda starts on the response while
//! that thread is still waking up, instead of after.

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use crate::address;
use crate::wire::{self, Reply, TransportError, TransportKind};

pub struct Poster {
    authority: String,
    prefix: String,
    /// Bounds the connect, each write and each read of the answer.
    timeout: Duration,
    conn: Mutex<Conn>,
}

/// The kept-alive connection and what was written on it ahead of time.
#[derive(Default)]
struct Conn {
    sock: Option<TcpStream>,
    /// A request from `send_ahead` whose answer `post_ahead` has yet to
    /// read: the whole request, and how many of its bytes are on `sock`.
    ahead: Option<(Vec<u8>, usize)>,
}

impl Poster {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Poster, String> {
        let (authority, prefix) =
            address::split_base(base_url).ok_or_else(|| format!("cannot post to {base_url}"))?;
        Ok(Poster {
            authority: authority.to_string(),
            prefix: prefix.to_string(),
            timeout,
            conn: Mutex::new(Conn::default()),
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
        let mut conn = self.lock();
        conn.drop_stale_ahead();
        self.exchange_on(&mut conn, &request, 0)
    }

    /// Writes as much of a POST as the kept-alive connection takes without
    /// blocking (all of it, for a small body on a healthy connection), for
    /// `post_ahead` to finish. Never blocks: with no connection open yet,
    /// nothing is written and `post_ahead` does it all; when another call
    /// holds the connection (a client has one owner, so it should not),
    /// nothing is taken and the answer is `false`.
    pub fn send_ahead(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut conn = match self.conn.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        let request = self.request(path, headers, body);
        conn.drop_stale_ahead();
        let written = match conn
            .sock
            .as_mut()
            .map(|sock| write_nonblocking(sock, &request))
        {
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                // A broken connection: `post_ahead` starts on a fresh one.
                // (Should switching back to blocking mode be what failed,
                // after a whole write, the response goes out twice; the
                // Runtime API refuses the second, as it refuses any retried
                // POST that had arrived.)
                conn.sock = None;
                0
            }
            None => 0,
        };
        conn.ahead = Some((request, written));
        true
    }

    /// Finishes the request from `send_ahead` and reads its answer.
    pub fn post_ahead(&self) -> Result<Reply<Vec<u8>>, TransportError> {
        let mut conn = self.lock();
        let Some((request, written)) = conn.ahead.take() else {
            return Err(TransportError::new(
                TransportKind::Other,
                "no request was sent ahead",
            ));
        };
        self.exchange_on(&mut conn, &request, written)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `request` (its first `written` bytes already are, on the kept
    /// connection) and reads the answer; a kept connection the server has
    /// since closed gets the whole request once more on a fresh one.
    fn exchange_on(
        &self,
        conn: &mut Conn,
        request: &[u8],
        mut written: usize,
    ) -> Result<Reply<Vec<u8>>, TransportError> {
        loop {
            let reused = conn.sock.is_some();
            let mut sock = match conn.sock.take() {
                Some(sock) => sock,
                None => {
                    written = 0;
                    wire::connect(&self.authority, self.timeout)?
                }
            };
            match exchange(&mut sock, &request[written..]) {
                Ok((reply, reusable)) => {
                    if reusable {
                        conn.sock = Some(sock);
                    }
                    return Ok(reply);
                }
                Err(e) if reused && e.kind == TransportKind::Closed => {
                    written = 0;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn request(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let length = body.len().to_string();
        let mut all = Vec::with_capacity(headers.len() + 1);
        all.push(("Content-Length", length.as_str()));
        all.extend_from_slice(headers);
        let head = wire::post_head(&self.prefix, &self.authority, path, &all);
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(body);
        request
    }
}

impl Conn {
    /// A request sent ahead whose answer was never read (its caller died in
    /// between) would leave that answer in front of the next one: the
    /// connection goes with it.
    fn drop_stale_ahead(&mut self) {
        if self.ahead.take().is_some() {
            self.sock = None;
        }
    }
}

/// Writes what the socket takes now; returns how many bytes that was.
fn write_nonblocking(sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<usize> {
    sock.set_nonblocking(true)?;
    let mut written = 0;
    let result = loop {
        match sock.write(&bytes[written..]) {
            Ok(0) => break Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                written += n;
                if written == bytes.len() {
                    break Ok(written);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(written),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    sock.set_nonblocking(false)?;
    result
}

/// Sends one request in one write and reads its answer; says whether the
/// connection may be used again.
fn exchange(
    sock: &mut TcpStream,
    request: &[u8],
) -> Result<(Reply<Vec<u8>>, bool), TransportError> {
    sock.write_all(request)?;
    wire::read_reply(sock)
}
