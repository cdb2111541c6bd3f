//! A blocking Runtime API client: one keep-alive HTTP connection, plain Rust
//! types in and out. The NIF layer (`nif_client.rs`) turns them into terms.
//!
//! Status codes are returned, never raised: what a 410 or a 413 means is the
//! invocation loop's decision, not the transport's.

use std::io::Read;
use std::time::Duration;

use serde::Serialize;
use ureq::Agent;

use crate::address;
use crate::invocation::Invocation;
use crate::post::Poster;

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

const ERROR_CONTENT_TYPE: &str = "application/vnd.aws.lambda.error+json";
const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";
const INVOCATION_ID_HEADER: &str = "Lambda-Runtime-Invocation-Id";
const XRAY_CAUSE_HEADER: &str = "Lambda-Runtime-Function-XRay-Error-Cause";
const USER_AGENT: &str = concat!("lambda_runtime_elixir/", env!("CARGO_PKG_VERSION"));

/// The JSON body of `/error` and `/init/error`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRequest {
    pub error_message: String,
    pub error_type: String,
    pub stack_trace: Vec<String>,
}

/// What is sent with an error besides its JSON body: the error-type header
/// and, optionally, the X-Ray error cause (JSON).
#[derive(Debug, Default)]
pub struct ErrorHeaders<'h> {
    pub error_type: &'h str,
    pub xray_cause: Option<&'h str>,
}

/// A Runtime API answer: the status code and the (bounded) body.
#[derive(Debug)]
pub struct Reply<B> {
    pub status: u16,
    pub body: B,
}

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

impl From<ureq::Error> for TransportError {
    fn from(err: ureq::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match &err {
            ureq::Error::Io(io) => match io.kind() {
                K::ConnectionRefused | K::AddrNotAvailable | K::NotFound => TransportKind::Refused,
                K::ConnectionReset
                | K::ConnectionAborted
                | K::BrokenPipe
                | K::UnexpectedEof
                | K::TimedOut => TransportKind::Closed,
                _ => TransportKind::Other,
            },
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportKind::Refused,
            ureq::Error::Protocol(_) => TransportKind::Protocol,
            ureq::Error::Timeout(_) => TransportKind::Closed,
            ureq::Error::BodyExceedsLimit(_) | ureq::Error::LargeResponseHeader(_, _) => {
                TransportKind::TooLarge
            }
            _ => TransportKind::Other,
        };
        TransportError {
            kind,
            message: err.to_string(),
        }
    }
}

impl From<std::io::Error> for TransportError {
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        // Our own sockets' read and write timeouts (SO_RCVTIMEO and
        // SO_SNDTIMEO give EAGAIN on Linux).
        if matches!(err.kind(), K::WouldBlock | K::TimedOut) {
            return TransportError {
                kind: TransportKind::Timeout,
                message: format!("no answer within the time allowed ({err})"),
            };
        }
        TransportError::from(ureq::Error::Io(err))
    }
}

fn response_path(request_id: &str) -> String {
    format!(
        "/runtime/invocation/{}/response",
        address::path_segment(request_id)
    )
}

fn response_headers(invocation_id: Option<&str>) -> Vec<(&'static str, &str)> {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(id) = invocation_id {
        headers.push((INVOCATION_ID_HEADER, id));
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
            .user_agent(USER_AGENT)
            // `/next` long-polls for as long as the function is idle.
            .timeout_global(None)
            .timeout_connect(Some(Duration::from_secs(5)))
            .max_idle_connections(4)
            .max_idle_connections_per_host(4)
            .max_idle_age(Duration::from_secs(3600))
            .max_response_header_size(NEXT_HEAD_LIMIT)
            .build();
        let poster = Poster::new(&base, USER_AGENT, post_timeout)?;
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
        let url = format!("{}/runtime/invocation/next", self.base);
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
        let path = response_path(request_id);
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
        let path = response_path(request_id);
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
        headers: &ErrorHeaders,
        error: &ErrorRequest,
    ) -> Result<Reply<B>, TransportError> {
        let path = format!(
            "/runtime/invocation/{}/error",
            address::path_segment(request_id)
        );
        post_error(&self.poster, &path, invocation_id, headers, error)
    }

    /// `POST /runtime/init/error`, on a connection of its own bounded by
    /// `INIT_ERROR_TIMEOUT`: the runtime exits right after.
    pub fn init_error<B: BodySink>(
        &self,
        headers: &ErrorHeaders,
        error: &ErrorRequest,
    ) -> Result<Reply<B>, TransportError> {
        let bound = self.post_timeout.min(INIT_ERROR_TIMEOUT);
        let poster =
            Poster::new(&self.base, USER_AGENT, bound).map_err(|message| TransportError {
                kind: TransportKind::Other,
                message,
            })?;
        post_error(&poster, "/runtime/init/error", None, headers, error)
    }
}

fn post_error<B: BodySink>(
    poster: &Poster,
    path: &str,
    invocation_id: Option<&str>,
    headers: &ErrorHeaders,
    error: &ErrorRequest,
) -> Result<Reply<B>, TransportError> {
    let body = serde_json::to_vec(error).map_err(|e| TransportError {
        kind: TransportKind::Other,
        message: e.to_string(),
    })?;
    let error_type = header_error_type(headers.error_type);
    let mut head = vec![
        ("Content-Type", ERROR_CONTENT_TYPE),
        (ERROR_TYPE_HEADER, error_type.as_str()),
    ];
    if let Some(id) = invocation_id {
        head.push((INVOCATION_ID_HEADER, id));
    }
    // A header value must be visible ASCII; a cause that is not is
    // dropped rather than let it fail the whole error report.
    if let Some(cause) = headers
        .xray_cause
        .filter(|c| c.bytes().all(|b| (0x20..0x7f).contains(&b)))
    {
        head.push((XRAY_CAUSE_HEADER, cause));
    }
    into_sink(poster.post(path, &head, &body)?)
}

/// The value of `Lambda-Runtime-Function-Error-Type`: always `Category.Reason`
/// (a bare reason gets the `Function` category), made only of characters a
/// header value may hold.
pub fn header_error_type(error_type: &str) -> String {
    let clean: String = error_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    let clean = clean.trim_matches('.');
    match clean.find('.') {
        Some(i) if i > 0 => clean.to_string(),
        _ if clean.is_empty() => "Function.Unknown".to_string(),
        _ => format!("Function.{clean}"),
    }
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
    TransportError {
        kind: TransportKind::TooLarge,
        message: format!("body larger than {limit} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_header_is_category_reason() {
        assert_eq!(
            header_error_type("Function.ArgumentError"),
            "Function.ArgumentError"
        );
        assert_eq!(header_error_type("ArgumentError"), "Function.ArgumentError");
        assert_eq!(
            header_error_type("Runtime.HandlerNotFound"),
            "Runtime.HandlerNotFound"
        );
        assert_eq!(
            header_error_type("Function.My.App Error\r\n"),
            "Function.My.AppError"
        );
        assert_eq!(header_error_type(""), "Function.Unknown");
        assert_eq!(header_error_type(".x"), "Function.x");
    }

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

    #[test]
    fn error_request_json_shape() {
        let e = ErrorRequest {
            error_message: "boom".into(),
            error_type: "Function.RuntimeError".into(),
            stack_trace: vec!["a.ex:1".into()],
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"errorMessage":"boom","errorType":"Function.RuntimeError","stackTrace":["a.ex:1"]}"#
        );
    }
}
