//! NIF adapters for the Runtime API client.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, Ordering};

use rustler::{Binary, Encoder, Env, OwnedBinary, ResourceArc, Term};

use crate::atoms;
use crate::client::{
    BodySink, Client, ErrorHeaders, ErrorRequest, Next, Reply, TransportError, TransportKind,
};

/// The client as an Erlang resource; one per poller.
pub struct ClientResource(pub AssertUnwindSafe<Client>);

#[rustler::resource_impl]
impl rustler::Resource for ClientResource {}

/// Bodies are read straight into an Erlang binary: no extra copy.
pub(crate) struct ErlBody(pub OwnedBinary);

impl BodySink for ErlBody {
    fn with_capacity(cap: usize) -> Self {
        ErlBody(OwnedBinary::new(cap))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn resize(&mut self, new_len: usize) {
        self.0.realloc_or_copy(new_len);
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self.0.as_mut_slice()
    }
}

/// A client for `api` whose calls other than `/next` wait at most
/// `timeout_ms` (connect, each write, the answer).
#[rustler::nif]
fn client_new<'a>(env: Env<'a>, api: String, timeout_ms: u64) -> Term<'a> {
    match Client::with_timeout(&api, std::time::Duration::from_millis(timeout_ms.max(1))) {
        Ok(c) => (
            atoms::ok(),
            ResourceArc::new(ClientResource(AssertUnwindSafe(c))),
        )
            .encode(env),
        Err(msg) => (atoms::error(), msg).encode(env),
    }
}

#[rustler::nif]
fn client_base_url(client: ResourceArc<ClientResource>) -> String {
    client.0.base_url().to_string()
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_next<'a>(env: Env<'a>, client: ResourceArc<ClientResource>) -> Term<'a> {
    next_term(env, &client)
}

/// `GET /next` as the term Elixir gets: `{:ok, status, meta, body}`,
/// `{:truncated, status, meta, reason}` or `{:error, {kind, message}}`.
fn next_term<'a>(env: Env<'a>, client: &ClientResource) -> Term<'a> {
    match client.0.next::<ErlBody>() {
        Ok(Next {
            status,
            invocation: inv,
            body,
            body_error,
        }) => {
            let keys = [
                atoms::request_id(),
                atoms::deadline_ms(),
                atoms::invoked_function_arn(),
                atoms::trace_id(),
                atoms::client_context(),
                atoms::cognito_identity(),
                atoms::tenant_id(),
                atoms::invocation_id(),
            ];
            let values = [
                opt(env, inv.request_id),
                inv.deadline_ms
                    .map_or(atoms::nil().encode(env), |d| d.encode(env)),
                opt(env, inv.invoked_function_arn),
                opt(env, inv.trace_id),
                opt(env, inv.client_context),
                opt(env, inv.cognito_identity),
                opt(env, inv.tenant_id),
                opt(env, inv.invocation_id),
            ];
            let keys: Vec<Term> = keys.iter().map(|k| k.encode(env)).collect();
            let meta = Term::map_from_term_arrays(env, &keys, &values).expect("distinct keys");
            match body_error {
                None => (atoms::ok(), status, meta, body.0.release(env)).encode(env),
                Some(e) => (atoms::truncated(), status, meta, e.message).encode(env),
            }
        }
        Err(e) => transport_error(env, e),
    }
}

/// Invocations whose outcome Lambda has not accepted yet, for
/// `LambdaRuntime.Shutdown`: Elixir adds and removes marks, and
/// `client_respond_next` and `client_sent_then_next` remove one themselves
/// between the accepted POST and the `/next`, which Elixir cannot see from
/// inside the call.
static IN_FLIGHT: AtomicI64 = AtomicI64::new(0);

/// Adds `delta` to the in-flight count and returns the new count.
#[rustler::nif]
fn in_flight_add(delta: i64) -> i64 {
    IN_FLIGHT.fetch_add(delta, Ordering::SeqCst) + delta
}

/// `POST /response`, then, only if Lambda accepted it (2xx), `GET /next`
/// in the same dirty-scheduler call: `{:next, next_answer}`. Any other
/// answer comes back as `client_response/4` gives it, with no `/next`
/// made. One hop to a dirty IO thread and back per invocation instead of
/// two: each hop is a thread wake-up, most of a warm invocation's CPU.
/// With `release`, an accepted response also removes its in-flight mark
/// before the `/next` (which may wait for minutes).
#[rustler::nif(schedule = "DirtyIo")]
fn client_respond_next<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    body: Term<'a>,
    release: bool,
) -> Term<'a> {
    match post_response(env, &client, &request_id, invocation_id, body) {
        Ok(posted) => then_next(env, &client, posted, release),
        Err(not_iodata) => not_iodata,
    }
}

/// Largest body `client_response_ahead` takes: copying it into the request
/// and handing it to the socket stays well under the ~1 ms a NIF on a
/// normal scheduler may take.
const AHEAD_MAX_BYTES: usize = 64 * 1024;

/// Starts `POST /response` on the calling (normal) scheduler: writes what
/// the kept-alive connection takes without blocking, so that the Runtime
/// API has the response while a dirty IO thread is still waking up for
/// `client_sent_then_next/2`, which must follow `:ok`. `:busy`: another
/// call holds the connection, nothing was taken. `body` is a binary of at
/// most 64 KiB; anything else is `{:error, {:other, _}}` and nothing is
/// sent.
#[rustler::nif]
fn client_response_ahead<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    body: Term<'a>,
) -> Term<'a> {
    match Binary::from_term(body) {
        Ok(body) if body.len() <= AHEAD_MAX_BYTES => {
            let taken =
                client
                    .0
                    .response_ahead(&request_id, invocation_id.as_deref(), body.as_slice());
            if taken { atoms::ok() } else { atoms::busy() }.encode(env)
        }
        _ => (
            atoms::error(),
            (
                atoms::other(),
                "a response sent ahead is a binary of at most 64 KiB",
            ),
        )
            .encode(env),
    }
}

/// Finishes the response `client_response_ahead/4` started, then goes on
/// as `client_respond_next/5` does.
#[rustler::nif(schedule = "DirtyIo")]
fn client_sent_then_next<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    release: bool,
) -> Term<'a> {
    let posted = client.0.response_sent();
    then_next(env, &client, posted, release)
}

/// After a `/response`: a 2xx is followed by `/next` (`{:next, answer}`),
/// any other answer is returned as it came.
fn then_next<'a>(
    env: Env<'a>,
    client: &ClientResource,
    posted: Result<Reply<ErlBody>, TransportError>,
    release: bool,
) -> Term<'a> {
    match posted {
        Ok(Reply { status, .. }) if (200..300).contains(&status) => {
            if release {
                IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            }
            // The mark is released: a panic from here must not reach
            // Elixir as a raise, whose handler would release it again.
            let next = std::panic::catch_unwind(AssertUnwindSafe(|| next_term(env, client)))
                .unwrap_or_else(|_| {
                    (atoms::error(), (atoms::other(), "the /next call panicked")).encode(env)
                });
            (atoms::next(), next).encode(env)
        }
        other => reply(env, other),
    }
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_response<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    body: Term<'a>,
) -> Term<'a> {
    match post_response(env, &client, &request_id, invocation_id, body) {
        Ok(posted) => reply(env, posted),
        Err(not_iodata) => not_iodata,
    }
}

/// `POST /runtime/invocation/{id}/response` with `body` (iodata). `Err` is
/// the answer for a body that is not iodata (nothing was sent).
fn post_response<'a>(
    env: Env<'a>,
    client: &ClientResource,
    request_id: &str,
    invocation_id: Option<String>,
    body: Term<'a>,
) -> Result<Result<Reply<ErlBody>, TransportError>, Term<'a>> {
    let body = Binary::from_iolist(body)
        .map_err(|_| (atoms::error(), (atoms::other(), "body is not iodata")).encode(env))?;
    Ok(client
        .0
        .response(request_id, invocation_id.as_deref(), body.as_slice()))
}

/// An error report from Elixir:
/// `{header_type, error_type, message, stack_trace, xray_cause | nil}`.
type Report = (String, String, String, Vec<String>, Option<String>);

/// The header values, then the JSON body.
fn split(report: Report) -> ((String, Option<String>), ErrorRequest) {
    let (header_type, error_type, error_message, stack_trace, xray_cause) = report;
    let request = ErrorRequest {
        error_message,
        error_type,
        stack_trace,
    };
    ((header_type, xray_cause), request)
}

fn headers(h: &(String, Option<String>)) -> ErrorHeaders<'_> {
    ErrorHeaders {
        error_type: &h.0,
        xray_cause: h.1.as_deref(),
    }
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_error<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    report: Report,
) -> Term<'a> {
    let (h, error) = split(report);
    let id = invocation_id.as_deref();
    reply(env, client.0.error(&request_id, id, &headers(&h), &error))
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_init_error<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    report: Report,
) -> Term<'a> {
    let (h, error) = split(report);
    reply(env, client.0.init_error(&headers(&h), &error))
}

/// Deliberately panics, so that tests can prove a panic surfaces in Elixir
/// as an exception while the VM keeps running.
#[rustler::nif]
fn debug_panic() -> rustler::Atom {
    panic!("debug_panic was called")
}

fn opt(env: Env<'_>, v: Option<String>) -> Term<'_> {
    match v {
        Some(s) => s.encode(env),
        None => atoms::nil().encode(env),
    }
}

pub(crate) fn reply<'a>(env: Env<'a>, r: Result<Reply<ErlBody>, TransportError>) -> Term<'a> {
    match r {
        Ok(Reply { status, body }) => (atoms::ok(), status, body.0.release(env)).encode(env),
        Err(e) => transport_error(env, e),
    }
}

pub(crate) fn transport_error(env: Env<'_>, e: TransportError) -> Term<'_> {
    let kind = match e.kind {
        TransportKind::Refused => atoms::refused(),
        TransportKind::Closed => atoms::closed(),
        TransportKind::Protocol => atoms::protocol(),
        TransportKind::TooLarge => atoms::too_large(),
        TransportKind::Timeout => atoms::timeout(),
        TransportKind::Other => atoms::other(),
    };
    (atoms::error(), (kind, e.message)).encode(env)
}
