//! A blocking Runtime API client, plain Rust types in and out; the NIF
//! layer (`nif_client.rs`) turns them into terms. A client keeps two
//! connections alive: ureq's, for `/next`, and `post.rs`'s, for the POSTs
//! (written as one segment, or ahead of time, which ureq cannot do). A
//! streamed response opens a third for its length (`stream.rs`), and
//! `/init/error` a short-lived one of its own.
//!
//! Status codes are returned, never raised: what a 410 or a 413 means is the
//! invocation loop's decision, not the transport's.

use std::io::Read;
use std::time::Duration;

use ureq::Agent;

use crate::address;
use crate::error_report::ErrorReport;
use crate::invocation::Invocation;
use crate::post::Poster;
use crate::wire::{self, Reply, TransportError, TransportKind};

/// Largest `/next` body we accept. Lambda's synchronous payload limit is 6 MB;
/// this leaves room for emulators and future limits without letting a broken
/// server exhaust memory.
pub const NEXT_BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// Largest `/next` head (status line and headers) we read. Lambda's are a
/// few KiB (the client context is at most 3.5 KiB); with ureq's default,
/// 64 KiB, a larger one was a transport error that ended the runtime. The
/// head must fit ureq's input buffer (128 KiB, allocated per connection);
/// a limit just under it makes a larger head `LargeResponseHeader`
/// (`TransportKind::TooLarge`: skipped, polling goes on) rather than a
/// stalled read that looks like a broken connection.
pub const NEXT_HEAD_LIMIT: usize = 120 * 1024;

/// The tests' bound for a POST (`/response`, `/error`) or a streamed
/// response: the connect, each write, the answer. The runtime sets its own
/// (`LAMBDA_RUNTIME_API_TIMEOUT_MS`, default 10 s, through `with_timeout`).
/// `/next` is a long poll and has none.
#[cfg(test)]
pub const DEFAULT_POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The bound for `/runtime/init/error` (at most the client's): the runtime
/// exits right after it, whatever the Runtime API does.
pub const INIT_ERROR_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/next` returned.
#[derive(Debug)]
pub struct Next<B> {
    pub status: u16,
    pub invocation: Invocation,
    pub body: B,
    /// Set when the headers arrived but the body did not (the connection
    /// broke or the body outgrew the limit): the invocation is known and can
    /// still be answered with an error, instead of being lost.
    pub body_error: Option<TransportError>,
}

fn response_headers(invocation_id: Option<&str>) -> Vec<(&'static str, &str)> {
    let mut headers = vec![("Content-Type", wire::JSON_CONTENT_TYPE)];
    if let Some(id) = invocation_id {
        headers.push((wire::INVOCATION_ID_HEADER, id));
    }
    headers
}

/// Where bodies are read into: a `Vec` in tests, an Erlang binary in the NIF.
pub trait BodySink: Sized {
    fn with_capacity(cap: usize) -> Self;
    fn len(&self) -> usize;
    /// Grows the buffer to `new_len` bytes and returns it for writing.
    fn resize(&mut self, new_len: usize);
    fn as_mut_slice(&mut self) -> &mut [u8];
}

impl BodySink for Vec<u8> {
    fn with_capacity(cap: usize) -> Self {
        vec![0; cap]
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn resize(&mut self, new_len: usize) {
        Vec::resize(self, new_len, 0)
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self
    }
}

pub struct Client {
    /// `/next` (a GET, no body).
    agent: Agent,
    /// `/response`, `/error`: head and body in one write.
    poster: Poster,
    base: String,
    /// The bound of every call but `/next` (`DEFAULT_POST_TIMEOUT`).
    post_timeout: Duration,
}

impl Client {
    /// Builds a client from the value of `AWS_LAMBDA_RUNTIME_API` (tests).
    #[cfg(test)]
    pub fn new(api: &str) -> Result<Client, String> {
        Client::with_timeout(api, DEFAULT_POST_TIMEOUT)
    }

    /// The same, with `post_timeout` as the bound of every call but `/next`.
    pub fn with_timeout(api: &str, post_timeout: Duration) -> Result<Client, String> {
        let base = address::base_url(api)?;
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .no_delay(true)
            .user_agent(wire::USER_AGENT)
            // `/next` long-polls for as long as the function is idle.
            .timeout_global(None)
            .timeout_connect(Some(Duration::from_secs(5)))
            .max_idle_connections(4)
            .max_idle_connections_per_host(4)
            .max_idle_age(Duration::from_secs(3600))
            .max_response_header_size(NEXT_HEAD_LIMIT)
            .build();
        let poster = Poster::new(&base, post_timeout)?;
        Ok(Client {
            agent: config.into(),
            poster,
            base,
            post_timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn post_timeout(&self) -> Duration {
        self.post_timeout
    }

    /// `GET /runtime/invocation/next`.
    pub fn next<B: BodySink>(&self) -> Result<Next<B>, TransportError> {
        let url = format!("{}{}", self.base, wire::NEXT_PATH);
        let mut resp = self.agent.get(&url).call()?;
        let status = resp.status().as_u16();
        let invocation = Invocation::from_headers(
            resp.headers()
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        let hint = content_length(&resp);
        let (body, body_error) = match read_body(resp.body_mut().as_reader(), hint, NEXT_BODY_LIMIT)
        {
            Ok(body) => (body, None),
            Err(e) if invocation.request_id.is_some() => (B::with_capacity(0), Some(e)),
            Err(e) => return Err(e),
        };
        Ok(Next {
            status,
            invocation,
            body,
            body_error,
        })
    }

    /// `POST /runtime/invocation/{id}/response`.
    pub fn response<B: BodySink>(
        &self,
        request_id: &str,
        invocation_id: Option<&str>,
        body: &[u8],
    ) -> Result<Reply<B>, TransportError> {
        let path = wire::response_path(request_id);
        into_sink(
            self.poster
                .post(&path, &response_headers(invocation_id), body)?,
        )
    }

    /// Starts `POST /runtime/invocation/{id}/response` without blocking
    /// (see `Poster::send_ahead`); `response_sent` reads its answer.
    /// `false`: the connection was busy and nothing was taken.
    pub fn response_ahead(
        &self,
        request_id: &str,
        invocation_id: Option<&str>,
        body: &[u8],
    ) -> bool {
        let path = wire::response_path(request_id);
        self.poster
            .send_ahead(&path, &response_headers(invocation_id), body)
    }

    /// Finishes the response started by `response_ahead`: its answer.
    pub fn response_sent<B: BodySink>(&self) -> Result<Reply<B>, TransportError> {
        into_sink(self.poster.post_ahead()?)
    }

    /// `POST /runtime/invocation/{id}/error`.
    pub fn error<B: BodySink>(
        &self,
        request_id: &str,
        invocation_id: Option<&str>,
        report: &ErrorReport,
    ) -> Result<Reply<B>, TransportError> {
        let path = wire::error_path(request_id);
        post_error(&self.poster, &path, invocation_id, report)
    }

    /// `POST /runtime/init/error`, on a connection of its own bounded by
    /// `INIT_ERROR_TIMEOUT`: the runtime exits right after.
    pub fn init_error<B: BodySink>(
        &self,
        report: &ErrorReport,
    ) -> Result<Reply<B>, TransportError> {
        let bound = self.post_timeout.min(INIT_ERROR_TIMEOUT);
        let poster = Poster::new(&self.base, bound)
            .map_err(|message| TransportError::new(TransportKind::Other, message))?;
        post_error(&poster, wire::INIT_ERROR_PATH, None, report)
    }
}

/// An error report: its JSON body, its error-type header as Elixir made
/// it, and the X-Ray cause when there is one.
fn post_error<B: BodySink>(
    poster: &Poster,
    path: &str,
    invocation_id: Option<&str>,
    report: &ErrorReport,
) -> Result<Reply<B>, TransportError> {
    let mut head = vec![
        ("Content-Type", wire::ERROR_CONTENT_TYPE),
        (wire::ERROR_TYPE_HEADER, report.header_type.as_str()),
    ];
    if let Some(id) = invocation_id {
        head.push((wire::INVOCATION_ID_HEADER, id));
    }
    if let Some(cause) = &report.xray_cause {
        head.push((wire::XRAY_CAUSE_HEADER, cause));
    }
    into_sink(poster.post(path, &head, &report.body())?)
}

fn content_length(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    resp.headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn into_sink<B: BodySink>(reply: Reply<Vec<u8>>) -> Result<Reply<B>, TransportError> {
    let mut body = B::with_capacity(reply.body.len());
    body.as_mut_slice().copy_from_slice(&reply.body);
    Ok(Reply {
        status: reply.status,
        body,
    })
}

/// Reads a whole body into `B`, sized from Content-Length when there is one,
/// failing with `TooLarge` past `limit`.
fn read_body<B: BodySink>(
    mut reader: impl Read,
    size_hint: Option<u64>,
    limit: u64,
) -> Result<B, TransportError> {
    if let Some(n) = size_hint {
        if n > limit {
            return Err(too_large(limit));
        }
    }
    let mut cap = size_hint.unwrap_or(8 * 1024) as usize;
    let mut buf = B::with_capacity(cap);
    let mut len = 0usize;
    loop {
        if len == cap {
            // Probe for EOF before growing, so an exact Content-Length never reallocates.
            let mut probe = [0u8; 1];
            match reader.read(&mut probe)? {
                0 => break,
                _ => {
                    if (len as u64) >= limit {
                        return Err(too_large(limit));
                    }
                    cap = (cap * 2).max(8 * 1024).min(limit as usize);
                    buf.resize(cap);
                    buf.as_mut_slice()[len] = probe[0];
                    len += 1;
                    continue;
                }
            }
        }
        let n = reader.read(&mut buf.as_mut_slice()[len..cap])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    if len != buf.len() {
        buf.resize(len);
    }
    Ok(buf)
}

fn too_large(limit: u64) -> TransportError {
    TransportError::new(
        TransportKind::TooLarge,
        format!("body larger than {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_body_exact_unknown_and_limited() {
        let data = vec![7u8; 20_000];
        let exact: Vec<u8> = read_body(&data[..], Some(20_000), 1 << 20).unwrap();
        assert_eq!(exact, data);
        let unknown: Vec<u8> = read_body(&data[..], None, 1 << 20).unwrap();
        assert_eq!(unknown, data);
        let small: Vec<u8> = read_body(&b"hi"[..], Some(100), 1 << 20).unwrap();
        assert_eq!(small, b"hi");
        let err = read_body::<Vec<u8>>(&data[..], None, 10_000).unwrap_err();
        assert_eq!(err.kind, TransportKind::TooLarge);
        let err = read_body::<Vec<u8>>(&data[..], Some(20_000), 10_000).unwrap_err();
        assert_eq!(err.kind, TransportKind::TooLarge);
    }
}
