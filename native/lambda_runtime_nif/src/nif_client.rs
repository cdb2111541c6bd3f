//! NIF adapters for the Runtime API client.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rustler::sys::{c_int, ErlNifEnv, ErlNifTerm};
use rustler::{Binary, Encoder, Env, NifResult, OwnedBinary, ResourceArc, SchedulerFlags, Term};

use crate::atoms;
use crate::client::{BodySink, Client, Next};
use crate::error_report::ErrorReport;
use crate::nif_in_flight::MarkResource;
use crate::wire::{Reply, TransportError, TransportKind};

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

/// Largest body written ahead from the calling scheduler: copying it into
/// the request and handing it to the socket stays well under the ~1 ms a
/// NIF on a normal scheduler may take.
const AHEAD_MAX_BYTES: usize = 64 * 1024;

/// `POST /response`, then, only if Lambda accepted it (2xx), `GET /next`:
/// `{:next, next_answer}`. Any other answer comes back as
/// `client_response/4` gives it, with no `/next` made. One call, one hop
/// to a dirty IO thread: each hop is a thread wake-up, most of a warm
/// invocation's CPU.
///
/// This half runs on the caller's (normal) scheduler: a body that is a
/// binary of at most 64 KiB is written ahead without blocking, as much as
/// the kept-alive connection takes, so that the Runtime API has the
/// response while a dirty IO thread is still waking up; then the call
/// moves itself onto that thread (`enif_schedule_nif`) for the rest
/// (`respond_next_dirty`). `mark` (or nil) is the invocation's in-flight
/// mark, released as soon as the response is accepted, before the `/next`
/// (which may wait for minutes).
#[rustler::nif]
fn client_respond_next<'a>(
    env: Env<'a>,
    client: Term<'a>,
    request_id: Term<'a>,
    invocation_id: Term<'a>,
    body: Term<'a>,
    mark: Term<'a>,
) -> NifResult<Term<'a>> {
    let resource: ResourceArc<ClientResource> = client.decode()?;
    let id: &str = request_id.decode()?;
    let inv: Option<&str> = invocation_id.decode()?;
    let _: Option<ResourceArc<MarkResource>> = mark.decode()?;
    let sent_ahead = match Binary::from_term(body) {
        Ok(b) if b.len() <= AHEAD_MAX_BYTES => resource.0.response_ahead(id, inv, b.as_slice()),
        _ => false,
    };
    let args = [
        client,
        request_id,
        invocation_id,
        body,
        mark,
        sent_ahead.encode(env),
    ]
    .map(|t| t.as_c_arg());
    // SAFETY: the arguments are terms of this call's env, and the function
    // scheduled takes them as `finish_respond_next` expects.
    let scheduled = unsafe {
        rustler::sys::enif_schedule_nif(
            env.as_c_arg(),
            c"client_respond_next".as_ptr(),
            SchedulerFlags::DirtyIo as c_int,
            respond_next_dirty,
            args.len() as c_int,
            args.as_ptr(),
        )
    };
    // SAFETY: what enif_schedule_nif returns is this call's result.
    Ok(unsafe { Term::new(env, scheduled) })
}

/// The dirty half of `client_respond_next`, as the BEAM calls a NIF: a
/// panic becomes the `nif_panicked` exception, as rustler raises it.
unsafe extern "C" fn respond_next_dirty(
    env: *mut ErlNifEnv,
    argc: c_int,
    argv: *const ErlNifTerm,
) -> ErlNifTerm {
    let lifetime = ();
    let env = Env::new(&lifetime, env);
    let args: Vec<Term> = std::slice::from_raw_parts(argv, argc as usize)
        .iter()
        .map(|t| Term::new(env, *t))
        .collect();
    match catch_unwind(AssertUnwindSafe(|| finish_respond_next(env, &args))) {
        Ok(Ok(term)) => term.as_c_arg(),
        Ok(Err(_)) => rustler::sys::enif_make_badarg(env.as_c_arg()),
        Err(_) => rustler::sys::enif_raise_exception(
            env.as_c_arg(),
            rustler::types::atom::nif_panicked().as_c_arg(),
        ),
    }
}

/// Finishes the response sent ahead, or posts it whole; on a 2xx releases
/// the mark and makes the `/next`.
fn finish_respond_next<'a>(env: Env<'a>, args: &[Term<'a>]) -> NifResult<Term<'a>> {
    let [client, request_id, invocation_id, body, mark, sent_ahead] = args else {
        return Err(rustler::Error::BadArg);
    };
    let client: ResourceArc<ClientResource> = client.decode()?;
    let mark: Option<ResourceArc<MarkResource>> = mark.decode()?;
    let posted = if sent_ahead.decode()? {
        client.0.response_sent()
    } else {
        let id: &str = request_id.decode()?;
        match post_response(env, &client, id, invocation_id.decode()?, *body) {
            Ok(posted) => posted,
            Err(not_iodata) => return Ok(not_iodata),
        }
    };
    Ok(match posted {
        Ok(Reply { status, .. }) if (200..300).contains(&status) => {
            if let Some(mark) = mark {
                mark.0.release();
            }
            (atoms::next(), next_term(env, &client)).encode(env)
        }
        other => reply(env, other),
    })
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_response<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    body: Term<'a>,
) -> Term<'a> {
    match post_response(env, &client, &request_id, invocation_id.as_deref(), body) {
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
    invocation_id: Option<&str>,
    body: Term<'a>,
) -> Result<Result<Reply<ErlBody>, TransportError>, Term<'a>> {
    let body = Binary::from_iolist(body)
        .map_err(|_| (atoms::error(), (atoms::other(), "body is not iodata")).encode(env))?;
    Ok(client
        .0
        .response(request_id, invocation_id, body.as_slice()))
}

/// `POST /runtime/invocation/{id}/error` with `report`
/// (`LambdaRuntime.ErrorReport.to_wire/1`).
#[rustler::nif(schedule = "DirtyIo")]
fn client_error<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    report: ErrorReport,
) -> Term<'a> {
    let id = invocation_id.as_deref();
    reply(env, client.0.error(&request_id, id, &report))
}

#[rustler::nif(schedule = "DirtyIo")]
fn client_init_error<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    report: ErrorReport,
) -> Term<'a> {
    reply(env, client.0.init_error(&report))
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
