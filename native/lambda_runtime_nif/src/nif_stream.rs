//! NIF adapters for streamed responses (all dirty IO).

use std::sync::Mutex;

use rustler::{Binary, Encoder, Env, NewBinary, ResourceArc, Term};

use crate::atoms;
use crate::error_report::ErrorReport;
use crate::nif_client::{transport_error, ClientResource};
use crate::stream::ResponseStream;
use crate::wire::{Reply, TransportError};

/// An open streamed response; `None` once finished or failed.
pub struct StreamResource(Mutex<Option<ResponseStream>>);

#[rustler::resource_impl]
impl rustler::Resource for StreamResource {}

#[rustler::nif(schedule = "DirtyIo")]
fn stream_open<'a>(
    env: Env<'a>,
    client: ResourceArc<ClientResource>,
    request_id: String,
    invocation_id: Option<String>,
    content_type: String,
) -> Term<'a> {
    let base = client.0.base_url();
    let timeout = client.0.post_timeout();
    match ResponseStream::open(
        base,
        &request_id,
        invocation_id.as_deref(),
        &content_type,
        timeout,
    ) {
        Ok(s) => (
            atoms::ok(),
            ResourceArc::new(StreamResource(Mutex::new(Some(s)))),
        )
            .encode(env),
        Err(e) => transport_error(env, e),
    }
}

/// Writes one chunk: `:ok | {:error, {kind, message}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn stream_write<'a>(env: Env<'a>, stream: ResourceArc<StreamResource>, data: Term<'a>) -> Term<'a> {
    let data = match Binary::from_iolist(data) {
        Ok(b) => b,
        Err(_) => return (atoms::error(), (atoms::other(), "chunk is not iodata")).encode(env),
    };
    let mut guard = stream.0.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_mut() {
        Some(s) => match s.write(data.as_slice()) {
            Ok(()) => atoms::ok().encode(env),
            Err(e) => transport_error(env, e),
        },
        None => finished(env),
    }
}

/// Ends the body: `{:ok, status, body} | {:error, {kind, message}}`.
#[rustler::nif(schedule = "DirtyIo")]
fn stream_finish<'a>(env: Env<'a>, stream: ResourceArc<StreamResource>) -> Term<'a> {
    let taken = stream.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    match taken {
        Some(s) => answer(env, s.finish()),
        None => finished(env),
    }
}

/// Ends the body with `report` (`LambdaRuntime.ErrorReport.to_wire/1`) as
/// the error trailers.
#[rustler::nif(schedule = "DirtyIo")]
fn stream_fail<'a>(
    env: Env<'a>,
    stream: ResourceArc<StreamResource>,
    report: ErrorReport,
) -> Term<'a> {
    let taken = stream.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    match taken {
        Some(s) => answer(env, s.fail(&report)),
        None => finished(env),
    }
}

/// Body bytes sent so far (0 once finished).
#[rustler::nif]
fn stream_bytes_sent(stream: ResourceArc<StreamResource>) -> u64 {
    let guard = stream.0.lock().unwrap_or_else(|p| p.into_inner());
    guard.as_ref().map_or(0, |s| s.bytes_sent())
}

fn answer(env: Env<'_>, r: Result<Reply<Vec<u8>>, TransportError>) -> Term<'_> {
    match r {
        Ok(Reply { status, body }) => {
            let mut bin = NewBinary::new(env, body.len());
            bin.as_mut_slice().copy_from_slice(&body);
            (atoms::ok(), status, Binary::from(bin)).encode(env)
        }
        Err(e) => transport_error(env, e),
    }
}

/// `{:error, {:finished, message}}`: the stream was already ended (by
/// `stream_finish` or `stream_fail`); its own kind, so callers need not
/// match on the text.
fn finished(env: Env<'_>) -> Term<'_> {
    let reason = (atoms::finished(), "the stream is already finished");
    (atoms::error(), reason).encode(env)
}
